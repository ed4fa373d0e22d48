"""The comparison of options at a glance: each option's weighed support as a bar split by criterion (what
argues for it to the right of zero, what argues against it to the left), drawn as SVG by a template, so the
chat and the HTML record show the same chart and no script runs.

The bars add up the way the recommendation weighs (kb.model.conclusions.weigh): one rule is one argument,
counted once per option and stance at its strongest, so each bar's net length is the option's score.
"""

from __future__ import annotations

from dataclasses import dataclass

from kb.model.answer import Answer
from kb.render.words import option_label

PALETTE = ("#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#76b7b2", "#edc948", "#b07aa1", "#ff9da7", "#9c755f",
           "#bab0ac")
"""Colour-blind-safe categorical colours (Tableau 10), one per criterion in the order of the comparison."""
OTHER = "no criterion named"
WIDTH, LABEL, ROW, PAD = 700, 280, 30, 8
SHOWN = ("open_source", "open_core", "commercial", "build_in_house")
"""Options drawn even when no rule weighed them (at zero), so the chart always sets them side by side."""


@dataclass(frozen=True)
class Segment:
    criterion: str
    value: float
    x: float
    width: float
    colour: str


@dataclass(frozen=True)
class Bar:
    option: str
    label: str
    score: float
    y: float
    segments: tuple[Segment, ...]


@dataclass(frozen=True)
class Chart:
    width: int
    height: int
    zero: float
    bars: tuple[Bar, ...]
    legend: tuple[tuple[str, str], ...]
    """(criterion name, colour) for each criterion drawn."""


def chart(answer: Answer | None) -> Chart | None:
    """The chart's geometry for `answer`; None when no recommendation was weighed."""
    if answer is None or answer.recommendation is None:
        return None
    names = {row.criterion: row.name for row in answer.comparison}
    strongest: dict[tuple[str, str, str], tuple[float, str]] = {}
    for c in answer.conclusions:
        if c.kind != "recommendation" or c.option is None or c.strength is None:
            continue
        key = (c.option, c.rule.id, "against" if c.strength < 0 else "for")
        if abs(c.strength) > abs(strongest.get(key, (0.0, ""))[0]):
            strongest[key] = (c.strength, names.get(c.criterion or "", OTHER))
    parts: dict[str, dict[str, float]] = {}
    for (option, _, _), (value, name) in strongest.items():
        per = parts.setdefault(option, {})
        per[name] = per.get(name, 0.0) + value
    order = [*names.values(), OTHER]
    colours = {name: PALETTE[i % len(PALETTE)] for i, name in enumerate(order)}
    scores = {**dict.fromkeys(SHOWN, 0.0), **answer.recommendation.scores}
    options = sorted(scores, key=lambda o: -scores[o])
    low = min([0.0, *(sum(v for v in parts.get(o, {}).values() if v < 0) for o in options)])
    high = max([0.0, *(sum(v for v in parts.get(o, {}).values() if v > 0) for o in options)])
    span = (high - low) or 1.0
    scale = (WIDTH - LABEL - 2 * PAD) / span
    zero = LABEL + PAD + (-low) * scale
    bars: list[Bar] = []
    for i, option in enumerate(options):
        right, left = zero, zero
        segments: list[Segment] = []
        for name in order:
            value = parts.get(option, {}).get(name, 0.0)
            if value > 0:
                segments.append(Segment(name, value, right, value * scale, colours[name]))
                right += value * scale
            elif value < 0:
                left += value * scale
                segments.append(Segment(name, value, left, -value * scale, colours[name]))
        bars.append(Bar(option, option_label(option), scores[option], PAD + i * ROW, tuple(segments)))
    drawn = {s.criterion for b in bars for s in b.segments}
    legend = tuple((name, colours[name]) for name in order if name in drawn)
    return Chart(WIDTH, PAD * 2 + ROW * len(bars) + 4, zero, tuple(bars), legend)
