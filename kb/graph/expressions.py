"""Licence expressions ("MIT OR Apache-2.0", "GPL-2.0-only WITH Classpath-exception-2.0"), read with
`license-expression` (the library the licence catalogue is generated with).

What an expression asks of its user: OR is the user's choice of one side, AND adds the licences up, WITH
narrows a licence by an exception. The expression is brought to its options (its disjunctive normal form:
each option is a set of licences that apply together) and the lightest option is chosen: the one whose
heaviest licence has the lowest family `burden` (ontology/schema.ttl, analyst data), then the fewest
licences, then the first written. The licences of that option become mentions (so the rules draw their
obligations); the expression itself becomes a `license_expression` fact saying what was chosen and why.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from kb.model.facts import Fact, Scalar, Source

MAX_EXPRESSION_CHARS = 400
"""A longer expression is refused unread (a DNF grows exponentially with nested ORs)."""
MAX_OPTIONS = 64


class ExpressionError(ValueError):
    """An expression that does not parse, or is too large, with what is wrong."""


@dataclass(frozen=True)
class Option:
    """One way to comply: licences (ids `license:X`) that apply together, each with its exception if any."""

    licences: tuple[str, ...]
    exceptions: tuple[tuple[str, str], ...] = ()
    """(licence id, exception id) pairs: `GPL-2.0-only WITH Classpath-exception-2.0`."""

    def ids(self) -> tuple[str, ...]:
        """The licences that apply under this option, then the exceptions that narrow them."""
        return (*self.licences, *(exc for _, exc in self.exceptions))

    def text(self) -> str:
        withs = dict(self.exceptions)
        parts = [f"{_key(i)} WITH {_key(withs[i])}" if i in withs else _key(i) for i in self.licences]
        return " AND ".join(parts)


@dataclass(frozen=True)
class Expression:
    """A parsed expression: its normalised text, its operator at the top, and its options."""

    text: str
    operator: str
    """`or` (a choice), `and` (all apply), `with` (one licence with an exception) or `single`."""
    options: tuple[Option, ...]


def _key(ident: str) -> str:
    return ident.removeprefix("license:")


def parse(text: str) -> Expression:
    """Parse an SPDX licence expression; ExpressionError says what is wrong."""
    from license_expression import ExpressionError as LibError
    from license_expression import LicenseSymbol, LicenseWithExceptionSymbol, Licensing

    if len(text) > MAX_EXPRESSION_CHARS:
        raise ExpressionError(f"a licence expression of {len(text)} characters is longer than "
                              f"{MAX_EXPRESSION_CHARS}")
    licensing = Licensing()
    try:
        expr = licensing.parse(text, simple=False)
    except LibError as exc:
        raise ExpressionError(f"not a licence expression: {text!r} ({exc})") from None
    if expr is None:
        raise ExpressionError("an empty licence expression")
    top = type(expr).__name__
    operator = {"OR": "or", "AND": "and", "LicenseWithExceptionSymbol": "with"}.get(top, "single")
    dnf = licensing.dnf(expr)
    terms = dnf.args if type(dnf).__name__ == "OR" else (dnf,)
    if len(terms) > MAX_OPTIONS:
        raise ExpressionError(f"{text!r} gives {len(terms)} options to choose from, more than {MAX_OPTIONS}")
    options: list[Option] = []
    for term in terms:
        symbols = term.args if type(term).__name__ == "AND" else (term,)
        licences: list[str] = []
        exceptions: list[tuple[str, str]] = []
        for sym in symbols:
            if isinstance(sym, LicenseWithExceptionSymbol):
                lic = f"license:{sym.license_symbol.key}"
                exceptions.append((lic, f"license:{sym.exception_symbol.key}"))
                licences.append(lic)
            elif isinstance(sym, LicenseSymbol):
                licences.append(f"license:{sym.key}")
        option = Option(tuple(dict.fromkeys(licences)), tuple(exceptions))
        if option not in options:
            options.append(option)
    # the library sorts its terms; the options keep the order they are written in (a tie goes to the first)
    written = {f"license:{k}": n for n, k in enumerate(licensing.license_keys(expr))}
    options.sort(key=lambda o: sorted(written.get(i, len(written)) for i in o.licences))
    return Expression(str(expr), operator, tuple(options))


def choose(expr: Expression, burden: Callable[[str], int | None]) -> tuple[int, bool]:
    """The index of the lightest option and whether another option is as light (a tie). `burden(id)`: the
    burden of a licence's family, None when not known (counted as the heaviest)."""
    worst = 1 + max((b for o in expr.options for i in o.licences if (b := burden(i)) is not None), default=0)

    def weight(ident: str) -> int:
        b = burden(ident)
        return worst if b is None else b

    def cost(o: Option) -> tuple[int, int]:
        return (max((weight(i) for i in o.licences), default=worst), len(o.licences))

    costs = [cost(o) for o in expr.options]
    best = min(range(len(costs)), key=lambda k: (costs[k], k))
    return best, costs.count(costs[best]) > 1


def burden_of(lookup: Callable[[str], Fact | None]) -> Callable[[str], int | None]:
    """A licence id's family burden (`choose`'s measure) from its licence fact, None when not known."""

    def burden(ident: str) -> int | None:
        fact = lookup(ident)
        value = fact.get("burden") if fact is not None else None
        return int(value) if isinstance(value, int | float) else None

    return burden


def facts(expr: Expression, source: Source, lookup: Callable[[str], Fact | None]) -> list[Fact]:
    """The `license_expression` fact and a mention of each licence (and exception) of the chosen option."""

    def name(ident: str) -> str:
        fact = lookup(ident)
        return str(fact.get("spdx") or _key(ident)) if fact is not None else _key(ident)

    def family(ident: str) -> str:
        fact = lookup(ident)
        return str(fact.get("family") or "unknown") if fact is not None else "unknown"

    best, tie = choose(expr, burden_of(lookup))
    chosen = expr.options[best]
    others = [o for k, o in enumerate(expr.options) if k != best]
    fields: dict[str, Scalar] = {
        "expression": expr.text,
        "operator": expr.operator,
        "chosen": chosen.text(),
        "chosen_family": _families(chosen.licences, family),
        "others": "; ".join(o.text() for o in others),
        "others_family": "; ".join(_families(o.licences, family) for o in others),
        "options": len(expr.options),
        "tie": tie,
    }
    if chosen.exceptions:
        fields["base"], fields["exception"] = chosen.exceptions[0]
    out = [Fact.make(f"license_expression:{expr.text}", "license_expression", fields, source)]
    for ident in dict.fromkeys(chosen.ids()):
        fact = lookup(ident)
        kind = fact.kind if fact is not None else "license"
        out.append(Fact.make(f"mention:{ident}", "mention", {"entity": ident, "entity_kind": kind}, source))
    return out


def _families(licences: Sequence[str], family: Callable[[str], str]) -> str:
    return ", ".join(dict.fromkeys(family(i).replace("_", " ") for i in licences))
