"""The design card's own question said 'I don't know "6-person" yet': words that stated a fact by a pattern
or a quantity were also reported as an unknown product name."""

from __future__ import annotations

from kb.advisor.advise import KnowledgeBase


def test_a_head_count_is_read_and_not_reported_as_a_name(knowledge_base: KnowledgeBase) -> None:
    u = knowledge_base.understand("we're a 6-person health-tech team, need HIPAA: self-host PyTorch "
                                  "or buy a managed platform? we also looked at Kubeflow")
    assert ("team_size", 6) in [(o.key, o.value) for o in u.observations]
    assert "6-person" not in u.unknown
    assert "Kubeflow" in u.unknown  # a real unknown name beside it is still said
