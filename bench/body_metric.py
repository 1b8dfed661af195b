"""The article-extraction benchmark's body metric, written from its definition.

Tokens are runs of word characters; each text becomes the multiset of its
4-token shingles. Per page, true positives are the shingles both sides share
(with multiplicity), false positives the predicted ones beyond the truth's
count, false negatives the true ones beyond the prediction's count. The three
are divided by their sum so every page weighs the same; precision and recall
are averaged over pages and F1 is taken from the two averages. Accuracy is the
share of pages whose token sequence equals the truth's.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

__all__ = ["PageScore", "Scores", "page_score", "score", "shingles", "tokens"]

_TOKEN = re.compile(r"\w+")
SHINGLE_SIZE = 4


def tokens(text: str) -> list[str]:
    return _TOKEN.findall(text or "")


def shingles(text: str, size: int = SHINGLE_SIZE) -> Counter[tuple[str, ...]]:
    words = tokens(text)
    return Counter(tuple(words[i:i + size]) for i in range(len(words) - size + 1))


@dataclass(frozen=True)
class PageScore:
    """One page's true positives, false positives and false negatives, as shares of their sum."""

    tp: float
    fp: float
    fn: float
    exact: bool

    @property
    def precision(self) -> float:
        # One side empty scores 0 on the side it can't have; both empty scores 1 (tp=fp=fn=0 means agreement).
        if self.tp + self.fp == 0:
            return 1.0 if self.fn == 0 else 0.0
        return self.tp / (self.tp + self.fp)

    @property
    def recall(self) -> float:
        if self.tp + self.fn == 0:
            return 1.0 if self.fp == 0 else 0.0
        return self.tp / (self.tp + self.fn)


@dataclass(frozen=True)
class Scores:
    """Averages over pages: precision, recall, F1 of the averages, exact-match accuracy."""

    precision: float
    recall: float
    f1: float
    accuracy: float
    pages: int


def page_score(predicted: str, truth: str) -> PageScore:
    pred, true = shingles(predicted), shingles(truth)
    tp = sum((pred & true).values())
    fp = sum((pred - true).values())
    fn = sum((true - pred).values())
    total = tp + fp + fn
    exact = tokens(predicted) == tokens(truth)
    if total == 0:
        return PageScore(0.0, 0.0, 0.0, exact)
    return PageScore(tp / total, fp / total, fn / total, exact)


def score(pairs: Iterable[tuple[str, str]]) -> Scores:
    """Scores of (predicted, truth) pairs, one per page."""
    pages = [page_score(predicted, truth) for predicted, truth in pairs]
    if not pages:
        return Scores(0.0, 0.0, 0.0, 0.0, 0)
    precision = sum(p.precision for p in pages) / len(pages)
    recall = sum(p.recall for p in pages) / len(pages)
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    accuracy = sum(p.exact for p in pages) / len(pages)
    return Scores(precision, recall, f1, accuracy, len(pages))
