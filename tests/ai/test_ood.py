from __future__ import annotations

from pathlib import Path

import numpy as np

from helpline.adapters.ai.ood import OutOfScopeDetector


def _unit(rows: np.ndarray) -> np.ndarray:
    unit: np.ndarray = (rows / np.linalg.norm(rows, axis=1, keepdims=True)).astype(np.float32)
    return unit


def _clusters(rng: np.random.Generator, centres: np.ndarray, per: int) -> np.ndarray:
    return _unit(
        np.repeat(centres, per, axis=0)
        + 0.05 * rng.standard_normal((len(centres) * per, centres.shape[1]))
    )


def test_questions_far_from_every_training_example_are_handed_over(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    centres = _unit(rng.standard_normal((4, 16)))
    train = _clusters(rng, centres, 30)
    validation = _clusters(rng, centres, 10)
    unknown = _unit(rng.standard_normal((20, 16)))
    # The classifier is confidently wrong about the unknown questions: only distance helps.
    confident = np.tile(np.array([[0.97, 0.01, 0.01, 0.01]], dtype=np.float32), (40, 1))
    detector = OutOfScopeDetector(train)

    calibration = detector.calibrate(
        confident, validation, np.ones(40, dtype=bool), min_answered_correct=0.95
    )
    flagged_unknown = detector.out_of_scope(confident[:20], unknown)
    flagged_known = detector.out_of_scope(confident[:20], _clusters(rng, centres, 5))

    assert calibration.min_answered_correct == 0.95
    assert flagged_unknown.mean() >= 0.9
    assert flagged_known.mean() <= 0.2

    detector.save(tmp_path / "ood")
    reloaded = OutOfScopeDetector.load(tmp_path / "ood")
    assert np.array_equal(reloaded.out_of_scope(confident[:20], unknown), flagged_unknown)


def test_without_embeddings_low_confidence_alone_triggers_handover() -> None:
    rng = np.random.default_rng(1)
    sure = np.full((50, 3), 0.05, dtype=np.float32)
    sure[:, 0] = 0.9
    unsure = np.full((10, 3), 1 / 3, dtype=np.float32)
    mixed = np.vstack([sure + 0.01 * rng.random((50, 3), dtype=np.float32), unsure])
    detector = OutOfScopeDetector(None)

    correct = np.r_[np.ones(50, dtype=bool), np.zeros(10, dtype=bool)]
    detector.calibrate(mixed, None, correct, min_answered_correct=0.83)

    assert not detector.uses_distance
    assert detector.out_of_scope(unsure, None).all()
    assert not detector.out_of_scope(mixed[:50], None).any()
