"""A rule's `evidence.doc: ../../etc/hostname` was opened and read, and a link in corpus/ to /etc/passwd was
followed (stopped only by its missing provenance entry). A non-UTF-8 evidence document gave a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest

from kb.config import Paths
from kb.corpus.documents import check_corpus, document_files
from kb.rulebook.rules import parse_rules

RULE = """\
topic: evidence paths
rules:
  - id: paths.probe
    title: A rule whose evidence names a file
    when:
      - fact: asker
        where: {{team_size: {{lt: 5}}}}
    then:
      - kind: note
        statement: A small team.
    evidence:
      doc: "{doc}"
      quote: anything at all
"""


@pytest.mark.parametrize("doc", ["../../etc/hostname", "/etc/passwd", "../rules/probe.yaml", "sub/../../x.txt"])
def test_evidence_outside_the_corpus_folder_is_refused_at_its_line(tmp_path: Path, doc: str) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    rules = tmp_path / "rules"
    rules.mkdir()
    probe = rules / "probe.yaml"
    probe.write_text(RULE.format(doc=doc), encoding="utf-8")
    _, problems = parse_rules([probe], None, corpus, tmp_path)
    messages = [(p.line, p.message) for p in problems]
    assert any(line == 12 and "outside the corpus folder" in m for line, m in messages), messages
    assert all("root:" not in m and "localhost" not in m for _, m in messages)  # nothing of the file is quoted


def test_a_non_utf8_evidence_document_is_a_problem_not_a_traceback(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "latin1.txt").write_bytes("caf\xe9 and tea".encode("latin-1"))
    probe = tmp_path / "probe.yaml"
    probe.write_text(RULE.format(doc="latin1.txt"), encoding="utf-8")
    _, problems = parse_rules([probe], None, corpus, tmp_path)
    assert problems and all(p.line == 12 for p in problems)


def test_a_link_out_of_the_corpus_folder_is_never_read_and_is_reported(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    secret = tmp_path / "secret.txt"
    secret.write_text("not for the corpus\n", encoding="utf-8")
    (corpus / "looks-fine.txt").symlink_to(secret)
    (corpus / "metadata.yaml").write_text("documents:\n  looks-fine.txt: {title: T, publisher: P}\n")
    assert document_files(corpus) == []
    problems = check_corpus(Paths(root=tmp_path, cache=tmp_path / "cache"))
    assert any(p.path.endswith("looks-fine.txt") and "outside the corpus folder" in p.message for p in problems)
