"""Licence texts as corpus documents, cut at the licence's own numbered clauses.

`kb licenses --texts KEY ...` copies licence texts from the ScanCode LicenseDB data (the `licensedcode-data`
package, whose version is recorded) into `corpus/licences/<key>.txt`, verbatim, and adds each one's entry to
`corpus/metadata.yaml` with `sections: numbered`. Licences newer than that package (Llama 3.1-3.3, Gemma)
come from a `scancode-toolkit` wheel fetched without its dependencies, read as a zip and never installed:
`pip download scancode-toolkit==32.5.0 --no-deps -d DIR`, then `kb licenses --texts KEY --from DIR/*.whl`.
A document marked so has its headings found at its numbered clauses ("13. Remote Network Interaction;",
"3.3. Distribution of a Larger Work", "Section 4"), so its passages never cross a clause and a citation
names the clause ("§13 Remote Network Interaction") at the licence's own offsets.

The data is read when the texts are written, never at run time: the corpus holds the files.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kb.corpus.documents import Heading

PACKAGE = "licensedcode-data"
CLAUSE = re.compile(r"(?m)^[ \t]*(?:Section[ \t]+)?(\d+(?:\.\d+)*\.?)(?=[ \t]+[A-Z(\"])")
"""A numbered clause at the start of a line: `4.`, `3.3.`, `3.1`, `Section 4`."""
_TITLE = re.compile(r"[ \t]+([A-Z][^.;:\n]{1,70})[.;:]?")
MAX_TITLE_WORDS = 9


_SECTION = re.compile(r"(?m)^Section[ \t]+(\d+)[ \t]+-+[ \t]+([^\n]{1,80}?)\.?[ \t]*$")
"""Creative Commons style: `Section 3 -- License Conditions.`"""
_ESCAPED = re.compile(r"(?m)^(\d+)(?:\\\.[ \t]*\*\*|\*\*\.[ \t]*)([^*\n]{1,80}?)\.?\*\*")
"""A licence kept as escaped Markdown (Llama 3.3): `1\\. **License Rights and Redistribution**.`,
`3**. Disclaimer**`."""
_PARENS = re.compile(r"(?m)^(\d+)\)[ \t]+([A-Z][^.;:\n]{1,70})[.;:]")
"""Clauses numbered with a parenthesis (the Open Software License): `1) Grant of Copyright License.`"""
_NUMBERED_TITLED = ((_SECTION, 1), (_ESCAPED, 1), (_PARENS, 3))
"""The forms whose matches give a clause's number and title, tried in order, and how many matches make the
form the licence's own (a stray `1) Foo.` line is no structure)."""
_HASHES = re.compile(r"(?m)^##+[ \t]+([^\n]{1,80}?)[ \t]*$")
"""A licence written with Markdown headings (the Elastic License 2.0): `## Limitations`."""


def clause_headings(text: str) -> tuple[Heading, ...]:
    """Headings at the clauses of a licence text, in the form the licence uses: `Section N -- Title` lines,
    escaped Markdown clauses (`1\\. **Title**`), `N) Title.` clauses, `## Title` lines, or else numbered
    clauses at line starts (`4.`, `3.3.`, `3.1`), each with its short title when it opens with one
    ("Redistribution.", "Remote Network Interaction;"). A heading reads `§4 Redistribution` (or the title
    itself for `##` headings)."""
    for pattern, least in _NUMBERED_TITLED:
        titled = [Heading(m.start(), m.end(), f"§{m.group(1)} {m.group(2).strip()}") for m in pattern.finditer(text)]
        if len(titled) >= least:
            return tuple(titled)
    hashes = [Heading(m.start(1), m.end(1), m.group(1).strip()) for m in _HASHES.finditer(text)]
    if hashes:
        return tuple(hashes)
    found: list[tuple[int, Heading]] = []
    for m in CLAUSE.finditer(text):
        number = m.group(1).rstrip(".")
        if "." not in m.group(1) and not m.group(0).lstrip().startswith("Section"):
            continue  # "51 Franklin Street": a number without its dot is not a clause
        start, end = m.start(1), m.end(1)
        title = ""
        t = _TITLE.match(text, end)
        if t and len(t.group(1).split()) <= MAX_TITLE_WORDS and t.end() < len(text) and \
                not t.group(1).rstrip().endswith(",") and \
                (t.group(0).endswith((".", ";", ":")) or text[t.end():t.end() + 1] == "\n"):
            title, end = t.group(1).strip(), t.end()
        found.append((int(number.split(".")[0]), Heading(start, end, f"§{number} {title}".strip())))
    return tuple(h for h in _in_order(found))


def _in_order(found: list[tuple[int, Heading]]) -> list[Heading]:
    """Clauses keep their order: a number that jumps ahead of the next clause is a wrapped line that begins
    with a number ("section\n7.  This requirement ..."), not a clause, when the expected clause comes later."""
    out: list[Heading] = []
    last = -1
    for i, (top, heading) in enumerate(found):
        later = {n for n, _ in found[i + 1:]}
        if last >= 0 and top > last + 1 and (last + 1) in later:
            continue
        if top < last:
            continue
        out.append(heading)
        last = top
    return out


@dataclass(frozen=True)
class LicenceText:
    """One licence of the ScanCode LicenseDB: its key, names and verbatim text."""

    key: str
    name: str
    spdx: str
    url: str
    text: str


WHEEL_DATA = "licensedcode/data/licenses/"
"""Where a scancode-toolkit wheel keeps the LicenseDB texts."""


def read_licence(key: str, wheel: Path | None = None) -> LicenceText:
    """The licence `key` from the installed ScanCode data, or from the scancode-toolkit `wheel` (a zip file)
    when one is given; KeyError if it has none."""
    import yaml

    if wheel is not None:
        import zipfile

        try:
            with zipfile.ZipFile(wheel) as z:
                raw = z.read(f"{WHEEL_DATA}{key}.LICENSE").decode("utf-8")
        except KeyError:
            raise KeyError(f"{wheel.name} has no licence `{key}`") from None
        except (OSError, zipfile.BadZipFile) as exc:
            raise KeyError(f"{wheel}: not a readable wheel ({exc})") from None
    else:
        path = _data_folder() / "licenses" / f"{key}.LICENSE"
        if not path.is_file():
            raise KeyError(f"{PACKAGE} has no licence `{key}`")
        raw = path.read_text(encoding="utf-8")
    meta: dict[str, Any] = {}
    text = raw
    if raw.startswith("---"):
        head, _, text = raw[3:].partition("\n---\n")
        meta = yaml.safe_load(head) or {}
    return LicenceText(key, str(meta.get("name") or key), str(meta.get("spdx_license_key") or ""),
                       str(meta.get("homepage_url") or ""), text.strip("\n") + "\n")


def data_version(wheel: Path | None = None) -> str:
    """`licensedcode-data 32.1.0`, or the wheel's distribution and version (`scancode-toolkit 32.5.0`)."""
    if wheel is not None:
        name, _, rest = wheel.name.partition("-")
        return f"{name.replace('_', '-')} {rest.split('-')[0]}"
    from importlib.metadata import version

    return f"{PACKAGE} {version(PACKAGE)}"


def _data_folder() -> Path:
    try:
        import licensedcode  # shipped by licensedcode-data
    except ImportError as exc:
        raise KeyError(f"install {PACKAGE} to copy licence texts: pip install {PACKAGE}==32.1.0") from exc
    return Path(next(iter(licensedcode.__path__))) / "data"


def write_texts(keys: list[str], corpus_dir: Path, wheel: Path | None = None) -> list[str]:
    """Copy the licences `keys` (from the installed data, or from a scancode-toolkit `wheel`) into
    corpus/licences/ and record them in metadata.yaml; the lines said."""
    folder = corpus_dir / "licences"
    folder.mkdir(parents=True, exist_ok=True)
    metadata = corpus_dir / "metadata.yaml"
    current = metadata.read_text(encoding="utf-8") if metadata.is_file() else "documents:\n"
    said, entries = [], []
    version = data_version(wheel)
    for key in keys:
        lic = read_licence(key, wheel)
        (folder / f"{key}.txt").write_text(lic.text, encoding="utf-8")
        name = f"licences/{key}.txt"
        said.append(f"{name}: {lic.name} ({lic.spdx or 'no SPDX id'}), {len(clause_headings(lic.text))} clauses")
        if f"\n  {name}:\n" in current:
            continue
        publisher = _quoted(f"ScanCode LicenseDB ({version})")
        entries.append(f"  {name}:\n    title: {_quoted(lic.name)}\n    publisher: {publisher}\n"
                       "    contributes: the licence's own text, cut at its numbered clauses\n"
                       + (f"    url: {_quoted(lic.url)}\n" if lic.url else "") + "    sections: numbered\n")
    if entries:
        metadata.write_text(current.rstrip("\n") + "\n" + "".join(entries), encoding="utf-8")
    return said


def _quoted(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'
