"""`kb check` accepted rules whose conditions match a cross-product: four unconstrained `license` conditions
over thirty licences took 33 s and 1.1 GB to consult, six over 300 s and 7.3 GB, because the engine builds
every match before any bound applies."""

from __future__ import annotations

from pathlib import Path

from kb.rulebook.rules import MAX_COMBINATIONS, parse_rules

RULE = """\
topic: cross products
rules:
  - id: x.product
    title: Licences side by side
    when:
{conditions}
    then:
      - kind: note
        statement: Several licences at once.
    evidence: {{query: licences}}
"""


def conditions(n: int, joined: bool) -> str:
    out = []
    for i in range(n):
        out.append(f"      - fact: license\n        as: l{i}")
        if joined and i:
            out.append(f"        where: {{family: $l{i - 1}.family}}")
    return "\n".join(out)


def test_four_unjoined_conditions_are_refused_at_the_rules_when(tmp_path: Path) -> None:
    path = tmp_path / "x.yaml"
    path.write_text(RULE.format(conditions=conditions(4, joined=False)), encoding="utf-8")
    _, problems = parse_rules([path])
    assert [p.line for p in problems] == [5], problems
    assert f"more than {MAX_COMBINATIONS:,}" in problems[0].message and "`license`" in problems[0].message


def test_joined_or_fewer_conditions_are_accepted(tmp_path: Path) -> None:
    for n, joined in ((4, True), (3, False)):
        path = tmp_path / f"ok{n}.yaml"
        path.write_text(RULE.format(conditions=conditions(n, joined)), encoding="utf-8")
        _, problems = parse_rules([path])
        assert problems == [], problems
