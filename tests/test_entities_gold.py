"""Quality gate: our entities against the team's gold set stay above a floor, and above raw spaCy."""

from __future__ import annotations

import pytest

from bench.entities import GOLD, load_gold, score
from workers.core.models import ENTITY_KINDS

# Measured 0.803 micro F1 (raw spaCy spans: 0.676) on 34 articles: the 24 seed pages plus 10 dev pages. EPSILON
# leaves room for a spaCy patch release moving a span or two, not for a rule that stops working.
F1_FLOOR = 0.803
EPSILON = 0.02


@pytest.mark.slow
def test_entity_quality_gate() -> None:
    run = score(load_gold(GOLD))
    assert run.scored >= 24
    ours = run.ours.scores(ENTITY_KINDS)
    raw = run.raw.scores(ENTITY_KINDS)
    if run.skipped:  # without ../shared/data only the seed pages count; the floor was measured with both
        pytest.skip(f"../shared/data absent: {run.skipped} dev articles not scored")
    assert ours[2] >= F1_FLOOR - EPSILON, ours
    assert ours[0] > raw[0] and ours[2] > raw[2] + 0.05, (ours, raw)
