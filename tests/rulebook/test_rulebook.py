"""Rule files: each mistake an analyst can make is reported with file, line and what is wrong."""

from __future__ import annotations

from pathlib import Path

import pytest

from kb import vocab
from kb.cli import checks
from kb.config import Paths
from kb.engine.durable import compile_rulebook, max_fanout
from kb.engine.rulebase import RuleBase
from kb.model.problems import KnowledgeError
from kb.rulebook.rules import load_rules, parse_rules, rule_files
from kb.rulebook.schema import RULE_FILE_SCHEMA

GOOD = """\
topic: good
derives:
  big_team:
    doc: a team over fifty
    fields:
      size: {type: int, doc: people}
rules:
  - id: ok.big
    title: big team
    when:
      - fact: asker
        where: {team_size: {gt: 50}}
    then:
      - derive: big_team
        fields: {size: $asker.team_size}
  - id: ok.uses-big
    title: uses it
    when:
      - fact: big_team
        as: b
    then:
      - kind: note
        statement: "a team of {b.size}"
    evidence: {query: big teams}
"""


def problems_of(tmp_path: Path, text: str, terms: frozenset[str] | None = None) -> list[str]:
    path = tmp_path / "r.yaml"
    path.write_text(text)
    _, problems = parse_rules([path], terms, root=tmp_path)
    return [str(p) for p in problems]


def mutate(old: str, new: str) -> str:
    assert old in GOOD
    return GOOD.replace(old, new, 1)


def test_good_file_has_no_problems(tmp_path: Path) -> None:
    assert problems_of(tmp_path, GOOD) == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (mutate("        where: {team_size: {gt: 50}}", "        where: {team_size: {gt: 50}"),
         "r.yaml:13: YAML syntax"),
        (mutate("{team_size: {gt: 50}}", "{team_sise: {gt: 50}}"),
         "r.yaml:12: rule `ok.big`: unknown field `team_sise`"),
        (mutate("      - kind: note", "      - kind: advice"), "r.yaml:22: unknown conclusion kind `advice`"),
        (mutate("      - kind: note\n",
                "      - kind: recommendation\n        option: buy_it\n        strength: 0.5\n"),
         "r.yaml:23: unknown option `buy_it`"),
        (mutate("  - id: ok.uses-big", "  - id: ok.big"), "r.yaml:16: duplicate rule id `ok.big` (first at r.yaml:8)"),
        (mutate("    when:\n      - fact: big_team\n        as: b",
                "    when:\n      - fact: asker\n        as: b").replace("{b.size}", "{b.team_size}"),
         "r.yaml:3: derived fact kind `big_team` is never used by any rule's conditions"),
        (mutate("      - derive: big_team\n        fields: {size: $asker.team_size}",
                "      - kind: note\n        statement: big"),
         "r.yaml:19: no rule derives fact kind `big_team`"),
        (mutate("{gt: 50}", "{gt: fifty}"), "r.yaml:12: `gt` compares numbers"),
        (mutate("{gt: 50}", "{over: 50}"), "r.yaml:12: unknown operator `over`"),
        (mutate("      - fact: big_team", "      - fact: huge_team"),
         "r.yaml:19: rule `ok.uses-big`: unknown fact kind `huge_team`"),
        (mutate("\"a team of {b.size}\"", "\"a team of {b.sise}\""),
         "r.yaml:22: rule `ok.uses-big`: statement quotes `{b.sise}`"),
    ],
    ids=["yaml", "field", "conclusion-kind", "option", "duplicate", "unconsumed", "underived", "type",
         "operator", "kind", "template"],
)
def test_each_mistake_is_named_with_file_and_line(tmp_path: Path, text: str, expected: str) -> None:
    found = problems_of(tmp_path, text)
    assert any(p.startswith(expected) for p in found), found


def test_unknown_ontology_term(tmp_path: Path) -> None:
    text = mutate("        where: {team_size: {gt: 50}}",
                  "        where: {team_size: {gt: 50}, industry: \"industry:helthcare\"}")
    found = problems_of(tmp_path, text, terms=frozenset({"industry:healthcare"}))
    assert found == ["r.yaml:12: rule `ok.big`: unknown ontology term `industry:helthcare`"]
    assert problems_of(tmp_path, text.replace("helthcare", "healthcare"), frozenset({"industry:healthcare"})) == []


def test_a_criterion_must_be_one_of_the_ontologys(tmp_path: Path) -> None:
    """A conclusion's `criterion` places it in the comparison of options: an unknown one is named with its line."""
    text = mutate("      - kind: note\n", "      - kind: note\n        criterion: criterion:vendor_lockin\n")
    found = problems_of(tmp_path, text, terms=frozenset({"criterion:vendor_lock_in"}))
    assert found == ["r.yaml:23: rule `ok.uses-big`: `criterion`: unknown ontology term `criterion:vendor_lockin`"]
    assert problems_of(tmp_path, text.replace("lockin", "lock_in"), frozenset({"criterion:vendor_lock_in"})) == []
    assert problems_of(tmp_path, text.replace("criterion:vendor_lockin", "lock-in"))[0].startswith(
        "r.yaml:23: `criterion` names a criterion of the ontology")


def test_evidence_quote_must_be_in_the_document(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "d.txt").write_text("Budget alone is not\n the decisive factor.")
    text = GOOD.replace("    evidence: {query: big teams}",
                        "    evidence: {doc: d.txt, quote: budget alone is not the decisive}")
    path = tmp_path / "r.yaml"
    path.write_text(text)
    assert parse_rules([path], None, corpus, tmp_path)[1] == []
    path.write_text(text.replace("not the decisive", "never decisive"))
    (problem,) = parse_rules([path], None, corpus, tmp_path)[1]
    assert problem.line == 24 and "quote is not found in d.txt" in problem.message
    path.write_text(text.replace("d.txt", "missing.txt"))
    (problem,) = parse_rules([path], None, corpus, tmp_path)[1]
    assert "`missing.txt`, which is not in the corpus" in problem.message


def test_kb_check_reports_rules_and_exits_1(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "rules").mkdir()
    (tmp_path / "rules" / "a.yaml").write_text(GOOD)
    (tmp_path / "rules" / "b.yaml").write_text(
        "rules:\n  - id: b.x\n    title: x\n    when: [{fact: asker, where: {colour: red}}]\n"
        "    then: [{kind: note, statement: x}]\n    evidence: {query: x}\n")
    assert checks.main(["--root", str(tmp_path), "--only", "rules"]) == 1
    out = capsys.readouterr().out
    assert "rules/b.yaml:4: rule `b.x`: unknown field `colour` of `asker`" in out


def test_loading_is_all_or_nothing(tmp_path: Path) -> None:
    good = tmp_path / "a.yaml"
    good.write_text(GOOD)
    bad = tmp_path / "b.yaml"
    bad.write_text("rules:\n  - id: b.x\n    title: x\n    when: [{fact: asker}]\n"
                   "    then: [{kind: verdict, statement: x}]\n")
    with pytest.raises(KnowledgeError) as err:
        RuleBase.load([good, bad])
    assert any(p.path.endswith("b.yaml") and p.line == 5 for p in err.value.problems)
    base = RuleBase.load([good])
    base.close()


def test_negation_cycle_is_refused(tmp_path: Path) -> None:
    text = """\
derives:
  p: {doc: p, fields: {}}
rules:
  - id: c.p
    title: p unless p
    when:
      - fact: asker
      - none: {fact: p}
    then:
      - derive: p
"""
    found = problems_of(tmp_path, text)
    assert any("break the cycle through `none`" in p for p in found), found


def test_partitions_stay_far_below_engine_limits(tmp_path: Path) -> None:
    rules = ["rules:"]
    for i in range(600):
        rules += [f"  - id: g.r{i}", "    title: t", "    when:", "      - fact: offering",
                  f"        where: {{name: n{i % 7}, delivery: open_source}}",
                  "      - fact: asker", f"        where: {{team_size: {{lt: {i}}}}}",
                  "    then:", "      - kind: note", "        statement: s", "    evidence: {query: q}"]
    path = tmp_path / "many.yaml"
    path.write_text("\n".join(rules) + "\n")
    book = load_rules([path])
    parts = compile_rulebook(book)
    assert sum(len(p.rules) for p in parts) == 600
    assert max(max_fanout(p.definition) for p in parts) < 128
    (single,) = compile_rulebook(book, single=True)
    assert max_fanout(single.definition) >= 512  # what the unpartitioned ruleset would hang on


def test_the_parser_reads_only_keys_of_the_documented_language() -> None:
    keys = {k for allowed in vocab.RULE_KEYS.values() for k in allowed}
    assert keys <= set(vocab.RULE_KEYWORDS), sorted(keys - set(vocab.RULE_KEYWORDS))
    # the rule file's schema is built from the same table: each of its parts allows exactly those keys
    parts = [RULE_FILE_SCHEMA, *RULE_FILE_SCHEMA["$defs"].values(),
             *RULE_FILE_SCHEMA["$defs"]["expectation"]["anyOf"]]
    titled = {p["title"]: list(p["properties"]) for p in parts if "properties" in p and "title" in p}
    assert titled == {title: list(keys) for title, keys in vocab.RULE_KEYS.items()}


@pytest.mark.parametrize(("old", "new", "expected"), [
    ("  - id: ok.big\n", "  - id: ok.big\n    colour: red\n", "r.yaml:9: unknown key `colour` in a rule"),
    ("        where:", "        were:", "r.yaml:12: unknown key `were` in a fact condition"),
    ("      - kind: note\n", "      - kind: note\n        strenght: 1\n",
     "r.yaml:23: unknown key `strenght` in a conclusion"),
])
def test_a_misplaced_key_is_named_with_its_line_and_the_keys_allowed_there(
        tmp_path: Path, old: str, new: str, expected: str) -> None:
    found = problems_of(tmp_path, mutate(old, new))
    assert any(p.startswith(expected + " (expected one of: ") for p in found), found


def test_a_value_of_the_wrong_shape_is_named_in_words(tmp_path: Path) -> None:
    found = problems_of(tmp_path, mutate("    then:\n", "    then: 3\n    thenx:\n").replace(
        "    thenx:\n", "    evidence_list:\n"))
    assert any(": `then` must be a list, not 3" in p for p in found), found


def test_every_keyword_and_operator_is_documented() -> None:
    root = Path(__file__).resolve().parents[2]
    for doc in (root / "docs" / "rules.md", root / "rules" / "README.md"):
        text = doc.read_text()
        words = [*vocab.RULE_KEYWORDS, *vocab.OPERATORS, *vocab.CONCLUSION_KINDS]
        missing = [k for k in words if f"`{k}`" not in text]
        assert missing == [], f"{doc.name} does not explain {missing}"


def test_every_file_of_the_rules_folder_loads(kb_root: Path) -> None:
    """Whatever the rules folder holds: each `*.yaml` file is loaded, in file order, and holds rules."""
    paths = Paths(root=kb_root, cache=Path("/nonexistent"))
    book = load_rules(rule_files(paths.rules), None, paths.corpus, paths.root)
    in_folder = sorted(p.name for p in paths.rules.iterdir() if p.suffix in (".yaml", ".yml"))
    assert in_folder and [Path(f.path).name for f in book.files] == in_folder
    assert all(f.rules for f in book.files), [f.path for f in book.files if not f.rules]
