from __future__ import annotations

import numpy as np
import pytest

from helpline.ai.confidence import choose_threshold, handover_curve


def test_the_threshold_hands_over_as_much_as_the_target_allows() -> None:
    scores = np.array([0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0])
    correct = np.array([True] * 8 + [False, False])

    threshold = choose_threshold(scores, correct, min_answered_correct=0.6)

    assert threshold == pytest.approx(0.6)  # answering the 6 lowest keeps 60 % right
    assert choose_threshold(scores, correct, min_answered_correct=0.95) == pytest.approx(1.0)


def test_tied_scores_are_answered_or_handed_over_together() -> None:
    scores = np.array([0.5, 0.5, 0.5, 0.9])
    correct = np.array([True, True, True, True])

    assert choose_threshold(scores, correct, min_answered_correct=0.25) == pytest.approx(0.5)


def test_the_curve_reports_both_sides_of_the_trade_off() -> None:
    known = np.array([0.1, 0.2, 0.3, 0.9])
    known_correct = np.array([True, True, False, True])
    unknown = np.array([0.5, 0.8, 0.95])

    low, high = handover_curve(known, known_correct, unknown, thresholds=[0.25, 1.0])

    assert (low.answered_correct, low.handover_in_scope, low.handover_unknown) == (0.5, 0.5, 1.0)
    assert (high.answered_correct, high.handover_unknown) == (0.75, 0.0)
    assert len(handover_curve(known, known_correct, unknown, points=5)) == 5


def test_mismatched_inputs_are_refused() -> None:
    with pytest.raises(ValueError):
        choose_threshold(np.array([0.1]), np.array([True, False]), 0.5)
