"""When to answer and when to hand over: choosing a confidence threshold and describing
the trade-off as a curve.

A message is *answered* when its out-of-scope score is at or below the threshold and handed
over to a person otherwise. The threshold is chosen on in-scope validation messages only
(never on the messages it is measured on): the most cautious one that still answers at
least `min_answered_correct` of them correctly.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

Scores = npt.NDArray[np.floating]
Flags = npt.NDArray[np.bool_]


@dataclass(frozen=True, slots=True)
class CurvePoint:
    """One threshold and what it does to in-scope and unknown questions."""

    threshold: float
    answered_correct: float
    """In-scope questions answered (not handed over) with the right answer."""
    handover_in_scope: float
    """In-scope questions handed over to a person."""
    handover_unknown: float | None
    """Unknown (out-of-scope) questions handed over; None without unknown examples."""


def answered_correct_rate(scores: Scores, correct: Flags, threshold: float) -> float:
    if len(scores) == 0:
        return 0.0
    return float(np.mean((scores <= threshold) & correct))


def choose_threshold(scores: Scores, correct: Flags, min_answered_correct: float) -> float:
    """The lowest threshold (most handovers) whose answered-correct rate on these in-scope
    validation messages is at least `min_answered_correct`.

    If even answering everything falls short, the highest score is returned (answer all:
    the classifier itself is then the problem, and the report shows it).
    """
    if len(scores) != len(correct) or len(scores) == 0:
        raise ValueError("need one correctness flag per score, and at least one")
    order = np.argsort(scores, kind="stable")
    sorted_scores = scores[order]
    cumulative_correct = np.cumsum(correct[order]) / len(scores)
    # Answering the first i+1 messages (by score) is only possible if ties are included.
    last_of_tie = np.r_[sorted_scores[1:] != sorted_scores[:-1], True]
    meets = (cumulative_correct >= min_answered_correct) & last_of_tie
    if not meets.any():
        return float(sorted_scores[-1])
    return float(sorted_scores[int(np.argmax(meets))])


def handover_curve(
    in_scope_scores: Scores,
    in_scope_correct: Flags,
    unknown_scores: Scores | None = None,
    thresholds: Sequence[float] | None = None,
    points: int = 41,
) -> list[CurvePoint]:
    """The trade-off at each threshold (by default evenly spaced quantiles of all scores)."""
    if thresholds is None:
        pooled = (
            in_scope_scores
            if unknown_scores is None
            else np.concatenate([in_scope_scores, unknown_scores])
        )
        thresholds = [float(t) for t in np.quantile(pooled, np.linspace(0.0, 1.0, points))]
    curve = []
    for threshold in thresholds:
        handover_unknown = (
            None
            if unknown_scores is None or len(unknown_scores) == 0
            else float(np.mean(unknown_scores > threshold))
        )
        curve.append(
            CurvePoint(
                threshold=float(threshold),
                answered_correct=answered_correct_rate(
                    in_scope_scores, in_scope_correct, threshold
                ),
                handover_in_scope=float(np.mean(in_scope_scores > threshold)),
                handover_unknown=handover_unknown,
            )
        )
    return curve
