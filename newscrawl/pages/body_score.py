"""Shingle-overlap scoring of an extracted article body against a reference text."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

_TOKEN = re.compile(r"\w+")


def shingles(text: str, n: int = 4) -> Counter[tuple[str, ...]]:
    """Multiset of runs of ``n`` consecutive ``\\w+`` tokens (a shorter text is one shingle)."""
    tokens = _TOKEN.findall(text or "")
    if not tokens:
        return Counter()
    return Counter(tuple(tokens[i : i + n]) for i in range(max(1, len(tokens) - n + 1)))


@dataclass(frozen=True)
class PageScore:
    """Shingle counts of one page and the derived precision and recall."""

    tp: int
    fp: int
    fn: int

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 0.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 0.0

    @property
    def f1(self) -> float:
        return harmonic(self.precision, self.recall)


def harmonic(a: float, b: float) -> float:
    """Harmonic mean of two non-negative numbers (0 when both are 0)."""
    return 2 * a * b / (a + b) if a + b else 0.0


def score_page(extracted: str, truth: str) -> PageScore:
    """Count shared, extra and missing shingles between ``extracted`` and ``truth``."""
    pred, true = shingles(extracted), shingles(truth)
    tp = sum((pred & true).values())
    return PageScore(tp=tp, fp=sum(pred.values()) - tp, fn=sum(true.values()) - tp)


@dataclass(frozen=True)
class Summary:
    """Per-page precision and recall averaged over pages; F1 is their harmonic mean."""

    precision: float
    recall: float
    pages: int

    @property
    def f1(self) -> float:
        return harmonic(self.precision, self.recall)


def summarize(scores: Iterable[PageScore]) -> Summary:
    """Average per-page precision and recall (the benchmark's aggregate)."""
    scores = list(scores)
    if not scores:
        return Summary(0.0, 0.0, 0)
    n = len(scores)
    return Summary(
        precision=sum(s.precision for s in scores) / n,
        recall=sum(s.recall for s in scores) / n,
        pages=n,
    )
