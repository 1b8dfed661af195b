"""Quality gate: our entities against the team's gold set stay above a floor, and above raw spaCy."""

from __future__ import annotations

import pytest

from bench.entities import GOLD, load_gold, score, select
from workers.core.models import ENTITY_KINDS

# Measured 0.803 micro F1 (raw spaCy spans: 0.676) on the first 34 articles: the 24 seed pages plus 10 dev pages.
# EPSILON leaves room for a spaCy patch release moving a span or two, not for a rule that stops working.
F1_FLOOR = 0.803
EPSILON = 0.02
# The half of the later texts set aside before any rule was written against them (bench/entities.py --split
# holdout, 23 English and 5 French texts): measured 0.809 micro F1 for ours (0.796 before the context rules of
# pipeline version 7), 0.657 for raw spaCy.
HOLDOUT_F1_FLOOR = 0.809


@pytest.mark.slow
def test_entity_quality_gate() -> None:
    run = score([r for r in load_gold(GOLD) if "holdout" not in r])
    assert run.scored >= 24
    ours = run.ours.scores(ENTITY_KINDS)
    raw = run.raw.scores(ENTITY_KINDS)
    if run.skipped:  # without ../shared/data only the seed pages count; the floor was measured with both
        pytest.skip(f"../shared/data absent: {run.skipped} dev articles not scored")
    assert ours[2] >= F1_FLOOR - EPSILON, ours
    assert ours[0] > raw[0] and ours[2] > raw[2] + 0.05, (ours, raw)


@pytest.mark.slow
def test_entity_quality_on_the_unseen_half() -> None:
    run = score(select(load_gold(GOLD), "holdout"))
    if run.skipped:
        pytest.skip(f"../shared/data absent: {run.skipped} held-out texts not scored")
    ours = run.ours.scores(ENTITY_KINDS)
    raw = run.raw.scores(ENTITY_KINDS)
    assert ours[2] >= HOLDOUT_F1_FLOOR - EPSILON, ours
    assert ours[0] > raw[0] + 0.1, (ours, raw)  # the rules are worth their precision on text they never saw
