"""Out-of-scope detection: does a question belong to anything the bot was trained on?

The score adds two signals, each standardised on in-scope validation messages:

* uncertainty — 1 - the classifier's highest probability;
* distance — 1 - cosine similarity to the nearest training message in embedding space
  (left out when no embedder is configured: the n-gram-only variant).

An unknown question often looks confident to a classifier that must pick one of the
intents it knows, but it lies far from every training example; the sum catches both.
The threshold comes from `helpline.ai.confidence.choose_threshold` on validation data.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Self

import numpy as np

from helpline.adapters.ai.interfaces import FloatArray
from helpline.adapters.ai.store import ModelFileError, read_model, write_model
from helpline.ai.confidence import Flags, choose_threshold

OOD_KIND = "helpline.out-of-scope-detector"
DEFAULT_MIN_ANSWERED_CORRECT = 0.85


@dataclass(frozen=True, slots=True)
class Calibration:
    """Standardisation of each signal and the chosen threshold."""

    means: tuple[float, ...]
    stds: tuple[float, ...]
    threshold: float
    min_answered_correct: float


class OutOfScopeDetector:
    """Scores how likely a message is outside what the classifier knows (higher: more)."""

    def __init__(self, reference_embeddings: FloatArray | None = None) -> None:
        """`reference_embeddings`: L2-normalised embeddings of the training messages;
        None for the n-gram-only variant (uncertainty alone)."""
        self.reference = (
            None
            if reference_embeddings is None
            else np.ascontiguousarray(reference_embeddings, dtype=np.float32)
        )
        self.calibration: Calibration | None = None

    @property
    def uses_distance(self) -> bool:
        return self.reference is not None

    def signals(self, probabilities: FloatArray, embeddings: FloatArray | None) -> FloatArray:
        """Raw signals, one column each: uncertainty and (if configured) distance."""
        uncertainty: FloatArray = (1.0 - probabilities.max(axis=1)).astype(np.float32)
        if self.reference is None:
            return uncertainty[:, None]
        if embeddings is None:
            raise ValueError("this detector needs the messages' embeddings")
        nearest = np.empty(len(embeddings), dtype=np.float32)
        for start in range(0, len(embeddings), 512):  # bounded memory for big batches
            block = embeddings[start : start + 512] @ self.reference.T
            nearest[start : start + 512] = block.max(axis=1)
        return np.column_stack([uncertainty, 1.0 - nearest]).astype(np.float32)

    def calibrate(
        self,
        probabilities: FloatArray,
        embeddings: FloatArray | None,
        correct: Flags,
        *,
        min_answered_correct: float = DEFAULT_MIN_ANSWERED_CORRECT,
    ) -> Calibration:
        """Fit the standardisation and the threshold on in-scope validation messages
        (`correct`: whether the classifier's top answer was right for each)."""
        raw = self.signals(probabilities, embeddings)
        means = raw.mean(axis=0)
        stds = np.maximum(raw.std(axis=0), 1e-6)
        scores = ((raw - means) / stds).sum(axis=1)
        threshold = choose_threshold(scores, correct, min_answered_correct)
        self.calibration = Calibration(
            means=tuple(float(m) for m in means),
            stds=tuple(float(s) for s in stds),
            threshold=threshold,
            min_answered_correct=min_answered_correct,
        )
        return self.calibration

    def score(self, probabilities: FloatArray, embeddings: FloatArray | None) -> FloatArray:
        calibration = self._require_calibrated()
        raw = self.signals(probabilities, embeddings)
        means = np.array(calibration.means, dtype=np.float32)
        stds = np.array(calibration.stds, dtype=np.float32)
        scores: FloatArray = ((raw - means) / stds).sum(axis=1).astype(np.float32)
        return scores

    def out_of_scope(self, probabilities: FloatArray, embeddings: FloatArray | None) -> Flags:
        """True where the bot should hand over instead of answering."""
        return self.score(probabilities, embeddings) > self._require_calibrated().threshold

    def save(self, directory: Path) -> None:
        calibration = self._require_calibrated()
        arrays = {} if self.reference is None else {"reference": self.reference}
        write_model(
            directory,
            OOD_KIND,
            arrays,
            {
                "means": list(calibration.means),
                "stds": list(calibration.stds),
                "threshold": calibration.threshold,
                "min_answered_correct": calibration.min_answered_correct,
            },
        )

    @classmethod
    def load(cls, directory: Path) -> Self:
        arrays, meta = read_model(directory, OOD_KIND)
        detector = cls(arrays.get("reference"))
        try:
            detector.calibration = Calibration(
                means=tuple(float(m) for m in meta["means"]),
                stds=tuple(float(s) for s in meta["stds"]),
                threshold=float(meta["threshold"]),
                min_answered_correct=float(meta["min_answered_correct"]),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise ModelFileError(f"{directory}: incomplete calibration: {exc}") from exc
        expected = 2 if detector.uses_distance else 1
        if len(detector.calibration.means) != expected:
            raise ModelFileError(f"{directory}: calibration does not match the signals")
        return detector

    def _require_calibrated(self) -> Calibration:
        if self.calibration is None:
            raise RuntimeError("calibrate() the detector on validation data first")
        return self.calibration
