"""Intake: the one place that knows each format a stack comes in, each read by its own library.

- CycloneDX 1.4-1.6, JSON or XML (`cyclonedx-python-lib`; XML through `defusedxml`, so a DTD or an external
  entity is refused before anything is expanded);
- SPDX 2.3, JSON or tag-value (`spdx-tools`);
- `requirements.txt` (`packaging`), `pyproject.toml` (`tomllib`), `package.json` / `package-lock.json`.

A component's licence comes from the file (a declared licence, an expression, a licence name), else, for a
Python distribution installed here, from its metadata (`License-Expression`, else a trove classifier), else
it is unknown: the stack review asks about it. Each component keeps where it came from: `file:line`, or
`file#/json/pointer`. Bad input is a `Problem` naming the file and the line or pointer; nothing is raised.
"""

from __future__ import annotations

import dataclasses
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kb.model.problems import Problem

MAX_BYTES = 20 * 1024 * 1024
"""A stack file larger than this is refused unread (a 5,000-component SBOM is about 5 MB)."""
MAX_COMPONENTS = 20_000


@dataclass(frozen=True)
class Component:
    """One component of a stack, as its file gives it."""

    name: str
    version: str
    licence: str | None
    """The licence as declared: an SPDX expression or a licence's name; None when nothing says."""
    where: str
    """Where the file says it: `requirements.txt:12`, or `sbom.json#/components/3`."""
    purl: str = ""
    licence_from: str = ""
    """`declared` (the file), `installed metadata`, `classifier` (a Python trove classifier), or empty."""


@dataclass
class Stack:
    """The components read from one file, the format it was read as, and what could not be read."""

    file: str
    format: str
    components: list[Component] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    seen: dict[tuple[str, str], Component] = field(default_factory=dict, repr=False, compare=False)
    """Components by (name, version): a repeat is reported, not reviewed twice."""

    def to_dict(self) -> dict[str, Any]:
        """The stack as JSON data (a conversation keeps the stack it was given this way)."""
        return {"file": self.file, "format": self.format,
                "components": [dataclasses.asdict(c) for c in self.components],
                "problems": [dataclasses.asdict(p) for p in self.problems]}

    @staticmethod
    def from_dict(data: dict[str, Any]) -> Stack:
        return Stack(str(data["file"]), str(data["format"]), [Component(**c) for c in data.get("components", [])],
                     [Problem(**p) for p in data.get("problems", [])])


def read_stack(path: Path, shown: str | None = None) -> Stack:
    """Read a stack file of any known format; problems are collected, never raised."""
    shown = shown or path.name
    try:
        size = path.stat().st_size
    except OSError as exc:
        return Stack(shown, "unknown", problems=[Problem(shown, 0, f"cannot read the file: {exc.strerror}")])
    if size > MAX_BYTES:
        return Stack(shown, "unknown", problems=[Problem(
            shown, 0, f"refused unread: {size / 1e6:.1f} MB is more than {MAX_BYTES // 1_000_000} MB")])
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        return Stack(shown, "unknown", problems=[Problem(shown, 0, f"not UTF-8 text (byte {exc.start})")])
    name = path.name.lower()
    try:
        if name.endswith(".xml"):
            return _cyclonedx_xml(text, shown)
        if name.endswith((".spdx", ".spdx.json")) or '"spdxVersion"' in text[:2000] or text.startswith("SPDXVersion"):
            return _spdx(path, text, shown)
        if name.endswith(".json"):
            return _json_file(text, shown, name)
        if name.endswith(".toml"):
            return _pyproject(text, shown)
        if name.endswith(".txt") or name.startswith("requirements"):
            return _requirements(text, shown)
    except RecursionError:
        return Stack(shown, "unknown", problems=[Problem(shown, 0, "nested too deeply to read")])
    return Stack(shown, "unknown", problems=[Problem(
        shown, 0, "unknown format: give a CycloneDX or SPDX SBOM (.json, .xml, .spdx), requirements.txt, "
                  "pyproject.toml, package.json or package-lock.json")])


# --- CycloneDX --------------------------------------------------------------------------------------------
def _json_file(text: str, shown: str, name: str) -> Stack:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        return Stack(shown, "json", problems=[Problem(shown, exc.lineno, f"not valid JSON: {exc.msg} "
                                                                        f"(column {exc.colno})")])
    if isinstance(data, dict) and data.get("bomFormat") == "CycloneDX":
        return _cyclonedx_json(data, shown)
    if name.endswith("package-lock.json") or (isinstance(data, dict) and "lockfileVersion" in data):
        return _package_lock(data, shown)
    if isinstance(data, dict) and ("dependencies" in data or "devDependencies" in data):
        return _package_json(data, text, shown)
    return Stack(shown, "json", problems=[Problem(shown, 1, "a JSON file that is neither a CycloneDX SBOM "
                                                           "(bomFormat) nor an npm package.json or lock file")])


def _cyclonedx_json(data: dict[str, Any], shown: str) -> Stack:
    from cyclonedx.model.bom import Bom

    stack = Stack(shown, f"CycloneDX {data.get('specVersion', '?')} JSON")
    raw = data.get("components")
    if not isinstance(raw, list):
        stack.problems.append(Problem(shown, 0, "#/components: missing or not a list"))
        return stack
    for n, comp in enumerate(raw):  # each checked alone, so one bad component loses only itself
        pointer = f"{shown}#/components/{n}"
        if not isinstance(comp, dict) or not comp.get("name"):
            stack.problems.append(Problem(shown, 0, f"#/components/{n}: a component needs a name"))
            continue
        try:
            bom = Bom.from_json(  # type: ignore[attr-defined]
                {"bomFormat": "CycloneDX", "specVersion": data.get("specVersion", "1.6"), "components": [comp]})
            (parsed,) = list(bom.components)
        except Exception as exc:  # the library raises many kinds for malformed input
            stack.problems.append(Problem(shown, 0, f"#/components/{n}: not a valid CycloneDX component "
                                                    f"({type(exc).__name__}: {str(exc)[:120]})"))
            continue
        _add(stack, parsed.name, parsed.version or "", _cyclonedx_licence(parsed.licenses), pointer,
             str(parsed.purl or ""))
        if len(stack.components) > MAX_COMPONENTS:
            stack.problems.append(Problem(shown, 0, f"more than {MAX_COMPONENTS} components: the rest not read"))
            break
    return stack


def _cyclonedx_xml(text: str, shown: str) -> Stack:
    from cyclonedx.model.bom import Bom
    from defusedxml import DefusedXmlException
    from defusedxml.ElementTree import fromstring

    if re.search(r"<!DOCTYPE|<!ENTITY", text[:100_000], re.IGNORECASE):
        line = text[: re.search(r"<!DOCTYPE|<!ENTITY", text, re.IGNORECASE).start()].count("\n") + 1  # type: ignore[union-attr]
        return Stack(shown, "XML", problems=[Problem(shown, line, "refused: an XML SBOM with a DTD or entity "
                                                                  "declaration (nothing is expanded or fetched)")])
    try:
        root = fromstring(text, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except DefusedXmlException as exc:
        return Stack(shown, "XML", problems=[Problem(shown, 0, f"refused: {exc}")])
    except Exception as exc:
        line = getattr(exc, "position", (0, 0))[0]
        return Stack(shown, "XML", problems=[Problem(shown, line, f"not well-formed XML: {exc}")])
    version = re.search(r"cyclonedx\.org/schema/bom/(\d\.\d)", root.tag or "")
    if version is None:
        return Stack(shown, "XML", problems=[Problem(shown, 1, "an XML file that is not a CycloneDX SBOM")])
    stack = Stack(shown, f"CycloneDX {version.group(1)} XML")
    try:
        bom = Bom.from_xml(root)  # type: ignore[attr-defined]
    except Exception as exc:
        stack.problems.append(Problem(shown, 0, f"not a valid CycloneDX SBOM ({type(exc).__name__}: "
                                                f"{str(exc)[:160]})"))
        return stack
    for comp in bom.components:  # the library orders components its own way: each is found by its bom-ref
        ref = comp.bom_ref.value if comp.bom_ref is not None else None
        at = text.find(f'bom-ref="{ref}"') if ref else -1
        where = f"{shown}:{text[:at].count(chr(10)) + 1}" if at >= 0 else shown
        _add(stack, comp.name, comp.version or "", _cyclonedx_licence(comp.licenses), where,
             str(comp.purl or ""))
    return stack


def _cyclonedx_licence(licences: Any) -> str | None:
    """A component's licences as one expression: an expression as given, else the licences' ids (or names)
    joined by AND (a component that lists several is under all of them)."""
    from cyclonedx.model.license import LicenseExpression

    parts: list[str] = []
    for lic in licences or ():
        if isinstance(lic, LicenseExpression):
            parts.append(f"({lic.value})" if " " in lic.value else lic.value)
        elif getattr(lic, "id", None):
            parts.append(str(lic.id))
        elif getattr(lic, "name", None):
            parts.append(str(lic.name))
    return " AND ".join(dict.fromkeys(parts)) if parts else None


# --- SPDX -------------------------------------------------------------------------------------------------
def _spdx(path: Path, text: str, shown: str) -> Stack:
    from spdx_tools.spdx.parser.error import SPDXParsingError
    from spdx_tools.spdx.parser.parse_anything import parse_file

    stack = Stack(shown, "SPDX")
    try:
        doc = parse_file(str(path))
    except SPDXParsingError as exc:
        messages = [str(m) for m in getattr(exc, "messages", None) or [str(exc)]]
        stack.problems.extend(Problem(shown, _line_in(m), f"not a valid SPDX document: {m[:200]}")
                              for m in messages[:10])
        return stack
    except Exception as exc:
        stack.problems.append(Problem(shown, 0, f"not a valid SPDX document ({type(exc).__name__}: {exc})"))
        return stack
    stack.format = f"SPDX {doc.creation_info.spdx_version.removeprefix('SPDX-')}"
    tag_value = "PackageName:" in text
    for n, pkg in enumerate(doc.packages):
        licence = None
        for value in (pkg.license_declared, pkg.license_concluded):
            if value is not None and type(value).__name__ not in ("SpdxNoAssertion", "SpdxNone"):
                licence = str(value)
                break
        at = text.find(f"SPDXID: {pkg.spdx_id}\n") if tag_value else -1
        where = f"{shown}:{text[:at].count(chr(10)) + 1}" if at >= 0 else f"{shown}#/packages/{n}"
        purl = next((r.locator for r in pkg.external_references if r.reference_type == "purl"), "")
        _add(stack, pkg.name, pkg.version or "", licence, where, purl)
    return stack


def _line_in(message: str) -> int:
    m = re.search(r"[Ll]ine:? (\d+)", message)
    return int(m.group(1)) if m else 0


# --- Python and npm dependency files -------------------------------------------------------------------------
def _requirements(text: str, shown: str) -> Stack:
    from packaging.requirements import InvalidRequirement, Requirement

    stack = Stack(shown, "requirements.txt")
    for n, line in enumerate(text.splitlines(), start=1):
        spec = line.split(" #", 1)[0].strip()
        if not spec or spec.startswith(("#", "-")):
            continue  # comments, and options such as -r, -e, --index-url
        try:
            req = Requirement(spec)
        except InvalidRequirement as exc:
            stack.problems.append(Problem(shown, n, f"not a requirement: {str(exc)[:160]}"))
            continue
        pinned = next((s.version for s in req.specifier if s.operator in ("==", "===")), "")
        _add_python(stack, req.name, pinned, f"{shown}:{n}")
    return stack


def _pyproject(text: str, shown: str) -> Stack:
    import tomllib

    from packaging.requirements import InvalidRequirement, Requirement

    stack = Stack(shown, "pyproject.toml")
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        return Stack(shown, "pyproject.toml", problems=[Problem(shown, _line_in(str(exc)), f"not valid TOML: {exc}")])
    deps = (data.get("project") or {}).get("dependencies") or []
    for dep in deps if isinstance(deps, list) else []:
        line = next((n for n, ln in enumerate(text.splitlines(), start=1) if str(dep) in ln), 0)
        try:
            req = Requirement(str(dep))
        except InvalidRequirement as exc:
            stack.problems.append(Problem(shown, line, f"not a requirement: {str(exc)[:160]}"))
            continue
        pinned = next((s.version for s in req.specifier if s.operator in ("==", "===")), "")
        _add_python(stack, req.name, pinned, f"{shown}:{line}")
    return stack


def _installed(name: str, version: str = "") -> tuple[str, str | None, str] | None:
    """(version, licence, where the licence came from) of a Python distribution installed here (of that
    version, if one is given), from its metadata: `License-Expression`, else its licence classifiers."""
    from importlib import metadata

    try:
        meta: Any = metadata.metadata(name)
    except (metadata.PackageNotFoundError, ValueError):
        return None
    installed = str(meta.get("Version") or "")
    if version and installed != version:
        return None
    licence, source = meta.get("License-Expression"), "installed metadata"
    if not licence:
        classifiers = [c.rpartition(" :: ")[2] for c in meta.get_all("Classifier") or ()
                       if c.startswith("License ::") and c.count("::") >= 2]
        licence, source = (" AND ".join(classifiers), "classifier") if classifiers else (None, "")
    if not licence and meta.get("License") and len(str(meta.get("License"))) <= 100:  # a name, not a whole text
        licence, source = " ".join(str(meta.get("License")).split()), "installed metadata (License field)"
    return installed, licence, source


def _add_python(stack: Stack, name: str, version: str, where: str) -> None:
    """A Python distribution: its licence from the file never, from its installed metadata if it is here."""
    found = _installed(name)
    if found is None:
        _add(stack, name, version, None, where, f"pkg:pypi/{name.lower()}" + (f"@{version}" if version else ""))
        return
    installed, licence, source = found
    _add(stack, name, version or installed, licence, where, f"pkg:pypi/{name.lower()}@{version or installed}", source)


def _package_json(data: dict[str, Any], text: str, shown: str) -> Stack:
    stack = Stack(shown, "package.json")
    lines = text.splitlines()
    for section in ("dependencies", "devDependencies"):
        deps = data.get(section) or {}
        if not isinstance(deps, dict):
            stack.problems.append(Problem(shown, 0, f"#/{section}: not an object"))
            continue
        for name, version in deps.items():
            line = next((n for n, ln in enumerate(lines, start=1) if f'"{name}"' in ln), 0)
            _add(stack, str(name), str(version), None, f"{shown}:{line}", f"pkg:npm/{name}")
    return stack


def _package_lock(data: dict[str, Any], shown: str) -> Stack:
    stack = Stack(shown, f"package-lock.json v{data.get('lockfileVersion', '?')}")
    packages = data.get("packages")
    if not isinstance(packages, dict):
        stack.problems.append(Problem(shown, 0, "#/packages: missing (lockfile v1 is not read: run npm 7 or later)"))
        return stack
    for key, pkg in packages.items():
        if not key or not isinstance(pkg, dict):
            continue  # "" is the project itself
        name = str(pkg.get("name") or key.rpartition("node_modules/")[2])
        licence = pkg.get("license")
        _add(stack, name, str(pkg.get("version") or ""), str(licence) if licence else None,
             f"{shown}#/packages/{_escape(key)}", f"pkg:npm/{name}@{pkg.get('version', '')}")
    return stack


def _escape(key: str) -> str:
    return key.replace("~", "~0").replace("/", "~1")


def _add(stack: Stack, name: str, version: str, licence: str | None, where: str, purl: str = "",
         licence_from: str | None = None) -> None:
    """Add a component; one listed again (same name and version) is reviewed once, the repeat reported."""
    licence = " ".join(licence.split()) if licence else None
    if licence is None and purl.startswith("pkg:pypi/") and licence_from is None:
        found = _installed(name, version)  # the same release installed here: its metadata says
        if found is not None and found[1]:
            _, licence, licence_from = found
    first = stack.seen.get((name, version))
    if first is not None:
        line = int(where.rpartition(":")[2]) if where.rpartition(":")[2].isdigit() else 0
        place = where.partition("#")[2]
        stack.problems.append(Problem(stack.file, line, f"{'#' + place + ': ' if place else ''}{name} {version} "
                                                        f"is listed again (first at {first.where}): reviewed once"))
        return
    component = Component(name=name, version=version, licence=licence or None, where=where, purl=purl,
                          licence_from=licence_from if licence_from is not None else ("declared" if licence else ""))
    stack.seen[(name, version)] = component
    stack.components.append(component)
