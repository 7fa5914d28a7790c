"""Measure a classifier on anyone's labelled data (`helpline ai eval --dataset PATH`).

The CSV needs a text column (`text`, `utterance` or `message`) and a label column
(`category`, `label` or `intent`). Rows labelled `oos`, `out_of_scope`, `unknown` or left
empty are questions the bot should NOT answer: they are never trained on and measure
out-of-scope recall (how often the bot hands them over). Without `test_path` a stratified
20 % of the labelled rows is held out (fixed seed). 15 % of the training rows is kept back
to choose the handover threshold, so nothing is tuned on the test rows.
"""

from __future__ import annotations

import csv
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
from sklearn.model_selection import train_test_split

from helpline.adapters.ai.interfaces import FloatArray
from helpline.adapters.ai.ngram import NgramClassifier
from helpline.adapters.ai.ood import DEFAULT_MIN_ANSWERED_CORRECT, OutOfScopeDetector
from helpline.ai.categories import CategoryScore, LabelledMessage, accuracy_report

UNKNOWN_LABELS = frozenset({"", "oos", "out_of_scope", "out-of-scope", "unknown", "none"})
TEXT_COLUMNS = ("text", "utterance", "message")
LABEL_COLUMNS = ("category", "label", "intent")
Backend = Literal["ngram", "ensemble"]


@dataclass(frozen=True, slots=True)
class EvaluationReport:
    backend: str
    train_rows: int
    test_rows: int
    unknown_rows: int
    accuracy: float
    macro_f1: float
    per_class: tuple[CategoryScore, ...]
    out_of_scope_recall: float | None
    """Share of unknown test questions handed over (None without unknown rows)."""
    in_scope_answered_correct: float
    """Share of known test questions answered, and answered right, at the threshold."""
    threshold: float
    p50_ms: float
    p99_ms: float


def read_labelled_csv(path: Path) -> list[LabelledMessage]:
    """Rows of a labelled CSV as (text, label), finding the columns by their usual names."""
    with path.open(encoding="utf-8", newline="") as stream:
        reader = csv.DictReader(stream)
        columns = reader.fieldnames or []
        text_column = next((c for c in TEXT_COLUMNS if c in columns), None)
        label_column = next((c for c in LABEL_COLUMNS if c in columns), None)
        if text_column is None or label_column is None:
            raise ValueError(
                f"{path} needs a text column ({', '.join(TEXT_COLUMNS)}) and a label column "
                f"({', '.join(LABEL_COLUMNS)}); it has {', '.join(columns)}"
            )
        return [
            LabelledMessage(text=row[text_column], category=(row[label_column] or "").strip())
            for row in reader
            if (row[text_column] or "").strip()
        ]


def _is_unknown(row: LabelledMessage) -> bool:
    return row.category.lower() in UNKNOWN_LABELS


def evaluate_dataset(
    path: Path,
    *,
    test_path: Path | None = None,
    backend: Backend = "ngram",
    seed: int = 0,
    min_answered_correct: float = DEFAULT_MIN_ANSWERED_CORRECT,
) -> EvaluationReport:
    """Train on the dataset's training rows and report how the bot would do on its test rows."""
    rows = read_labelled_csv(path)
    known = [row for row in rows if not _is_unknown(row)]
    unknown = [row for row in rows if _is_unknown(row)]
    if test_path is None:
        train, test = train_test_split(
            known, test_size=0.2, stratify=[r.category for r in known], random_state=seed
        )
    else:
        train = known
        test_rows = read_labelled_csv(test_path)
        test = [row for row in test_rows if not _is_unknown(row)]
        unknown += [row for row in test_rows if _is_unknown(row)]
    fit, validation = train_test_split(
        train, test_size=0.15, stratify=[r.category for r in train], random_state=seed
    )
    fit_texts, fit_labels = [r.text for r in fit], [r.category for r in fit]
    ngram = NgramClassifier()

    if backend == "ensemble":
        from helpline.adapters.ai.embedding import (
            EmbeddingClassifier,
            EnsembleClassifier,
            SentenceEmbedder,
        )

        embedder = SentenceEmbedder()
        ensemble = EnsembleClassifier(ngram, EmbeddingClassifier(embedder))
        fit_vectors = embedder.embed(fit_texts)
        ensemble.fit_embedded(fit_texts, fit_vectors, fit_labels)
        detector = OutOfScopeDetector(fit_vectors)
        labels = ensemble.labels

        def answer(texts: Sequence[str]) -> tuple[FloatArray, FloatArray | None]:
            vectors = embedder.embed(texts)
            return ensemble.predict_proba_embedded(texts, vectors), vectors

    else:
        ngram.fit(fit_texts, fit_labels)
        detector = OutOfScopeDetector(None)
        labels = ngram.labels

        def answer(texts: Sequence[str]) -> tuple[FloatArray, FloatArray | None]:
            return ngram.predict_proba(texts), None

    def correct_of(probabilities: FloatArray, truth: Sequence[LabelledMessage]) -> np.ndarray:
        predicted = np.array([labels[i] for i in probabilities.argmax(axis=1)])
        return np.asarray(predicted == np.array([r.category for r in truth]))

    val_p, val_e = answer([r.text for r in validation])
    calibration = detector.calibrate(
        val_p, val_e, correct_of(val_p, validation), min_answered_correct=min_answered_correct
    )
    test_p, test_e = answer([r.text for r in test])
    predicted = [labels[i] for i in test_p.argmax(axis=1)]
    report = accuracy_report([r.category for r in test], predicted)
    answered = detector.score(test_p, test_e) <= calibration.threshold
    in_scope_answered_correct = float(np.mean(answered & correct_of(test_p, test)))
    recall = None
    if unknown:
        unknown_p, unknown_e = answer([r.text for r in unknown])
        recall = float(np.mean(detector.out_of_scope(unknown_p, unknown_e)))
    timings = []
    for row in test[:200]:
        started = time.perf_counter()
        answer([row.text])
        timings.append(time.perf_counter() - started)
    return EvaluationReport(
        backend=backend,
        train_rows=len(train),
        test_rows=len(test),
        unknown_rows=len(unknown),
        accuracy=report.accuracy,
        macro_f1=report.macro_f1,
        per_class=report.per_category,
        out_of_scope_recall=recall,
        in_scope_answered_correct=in_scope_answered_correct,
        threshold=calibration.threshold,
        p50_ms=float(np.percentile(timings, 50) * 1000),
        p99_ms=float(np.percentile(timings, 99) * 1000),
    )


def format_report(report: EvaluationReport) -> str:
    """The report as the plain-text table `helpline ai eval` prints."""
    lines = [
        f"backend {report.backend}: trained on {report.train_rows} rows "
        f"(85 % fit, 15 % threshold), tested on {report.test_rows} + "
        f"{report.unknown_rows} out-of-scope",
        f"accuracy {report.accuracy:.4f}   macro-F1 {report.macro_f1:.4f}   "
        f"latency p50 {report.p50_ms:.1f} ms, p99 {report.p99_ms:.1f} ms",
        "out-of-scope recall "
        + (
            "n/a (no rows labelled oos)"
            if report.out_of_scope_recall is None
            else f"{report.out_of_scope_recall:.4f}"
        )
        + f"   in-scope answered correctly {report.in_scope_answered_correct:.4f}",
        f"{'class':<40}{'precision':>10}{'recall':>10}{'F1':>10}{'support':>9}",
    ]
    for score in report.per_class:
        lines.append(
            f"{score.category[:39]:<40}{score.precision:>10.4f}{score.recall:>10.4f}"
            f"{score.f1:>10.4f}{score.support:>9}"
        )
    return "\n".join(lines)
