"""Shared pieces of the linear classifiers: softmax, top-k, training a multinomial
logistic regression and keeping only its weights."""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import numpy as np
from scipy.sparse import spmatrix
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression

from helpline.adapters.ai.interfaces import FloatArray, ScoredLabel


def softmax(logits: FloatArray) -> FloatArray:
    shifted: FloatArray = (logits - logits.max(axis=1, keepdims=True)).astype(np.float32)
    np.exp(shifted, out=shifted)
    shifted /= shifted.sum(axis=1, keepdims=True)
    return shifted


def top_labels(
    probabilities: FloatArray, labels: Sequence[str], top_k: int
) -> list[list[ScoredLabel]]:
    k = max(1, min(top_k, len(labels)))
    order = np.argsort(-probabilities, axis=1)[:, :k]
    return [
        [ScoredLabel(label=labels[j], score=float(row[j])) for j in picks]
        for row, picks in zip(probabilities, order, strict=True)
    ]


def fit_logistic(
    features: spmatrix | FloatArray,
    labels: Sequence[str],
    *,
    c: float,
    balanced: bool,
    max_iter: int,
) -> tuple[tuple[str, ...], FloatArray, FloatArray]:
    """Train a multinomial logistic regression; return (labels, coef, intercept).

    `balanced` weights classes inversely to their frequency: the traffic an installation
    will see is unknown, so no intent is favoured just because the training set has more
    examples of it.
    """
    if len(set(labels)) < 2:
        raise ValueError("a classifier needs at least two different labels")
    model = LogisticRegression(
        C=c, max_iter=max_iter, class_weight="balanced" if balanced else None
    )
    with warnings.catch_warnings():
        # Stopping before full convergence at max_iter is fine for text features.
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(features, list(labels))
    classes = tuple(str(label) for label in model.classes_)
    coef = np.asarray(model.coef_, dtype=np.float32)
    intercept = np.asarray(model.intercept_, dtype=np.float32)
    if len(classes) == 2:
        # sklearn keeps one row for two classes; expand to a two-column softmax.
        coef = np.vstack([-coef[0] / 2, coef[0] / 2]).astype(np.float32)
        intercept = np.array([-intercept[0] / 2, intercept[0] / 2], dtype=np.float32)
    return classes, coef, intercept
