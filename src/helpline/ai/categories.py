"""Category and urgency of a customer's message, for routing and SLA.

Decision order, so an agent can always see why:
1. an urgent topic (failed payment, account security, fraud) sets urgency and its category;
2. otherwise the `technical` / `sales` keyword rules;
3. otherwise the n-gram model, trained at first use on the Bitext starter data shipped in
   `helpline/ai_data` plus the team's own corrections, and cached on disk as numpy arrays
   + JSON (never pickle), keyed by the SHA-256 of its training data.

A message an agent already re-categorised is answered from the corrections directly.
"""

from __future__ import annotations

import csv
import hashlib
import json
import logging
import threading
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from importlib import resources
from pathlib import Path
from typing import Literal, get_args

from helpline.adapters.ai.ngram import NgramClassifier, NgramConfig
from helpline.adapters.ai.store import ModelFileError
from helpline.ai.rules import URGENCY_CATEGORY, keyword_category, urgency_reasons
from helpline.ai.text import fold

logger = logging.getLogger(__name__)

BITEXT_TO_HELPLINE: dict[str, str] = {
    "ACCOUNT": "account",
    "PAYMENT": "billing",
    "INVOICE": "billing",
    "REFUND": "billing",
    "CANCELLATION_FEE": "billing",
    "ORDER": "orders",
    "DELIVERY": "orders",
    "SHIPPING_ADDRESS": "orders",
    "CONTACT": "general",
    "FEEDBACK": "general",
    "NEWSLETTER": "general",
}
"""How the Bitext starter categories map onto Helpline's default categories (DESIGN.md)."""

CORRECTION_WEIGHT = 3
"""A team's label counts this many times a starter example: it is the team's own wording."""

MODEL_VERSION = 1
"""Bump when features or training change, so cached models are retrained."""

CATEGORY_CONFIG = NgramConfig(c=10.0, max_iter=200)


@dataclass(frozen=True, slots=True)
class LabelledMessage:
    """A message with the category it belongs to (starter data or an agent's correction)."""

    text: str
    category: str


CategorySource = Literal["urgent_topic", "keyword", "model", "correction"]
"""Who decided a category: a rule, the model, or a team's correction."""
CATEGORY_SOURCES: frozenset[CategorySource] = frozenset(get_args(CategorySource))


@dataclass(frozen=True, slots=True)
class CategoryPrediction:
    """What the classifier decided about one message, and why."""

    category: str
    confidence: float
    urgent: bool
    urgency_reasons: tuple[str, ...]
    source: CategorySource
    evidence: str | None = None
    """The matched words for rules; None for the model."""


@dataclass(frozen=True, slots=True)
class CategoryScore:
    """Precision, recall and F1 of one category on a labelled set."""

    category: str
    precision: float
    recall: float
    f1: float
    support: int


@dataclass(frozen=True, slots=True)
class AccuracyReport:
    """Accuracy overall and per category, for the admin page and `helpline ai eval`."""

    accuracy: float
    macro_f1: float
    total: int
    per_category: tuple[CategoryScore, ...]


def _data_file(name: str) -> Path:
    return Path(str(resources.files("helpline.ai_data").joinpath(name)))


def load_bitext_rows(split: Literal["train", "test"] = "train") -> list[LabelledMessage]:
    """The shipped Bitext utterances mapped onto Helpline categories."""
    with _data_file(f"bitext_{split}.csv").open(encoding="utf-8", newline="") as stream:
        return [
            LabelledMessage(text=row["utterance"], category=BITEXT_TO_HELPLINE[row["category"]])
            for row in csv.DictReader(stream)
        ]


def accuracy_report(expected: Sequence[str], predicted: Sequence[str]) -> AccuracyReport:
    """Per-category precision/recall/F1 and overall accuracy of `predicted` vs `expected`."""
    if len(expected) != len(predicted):
        raise ValueError("expected and predicted differ in length")
    categories = sorted(set(expected) | set(predicted))
    true_positive: Counter[str] = Counter()
    for truth, guess in zip(expected, predicted, strict=True):
        if truth == guess:
            true_positive[truth] += 1
    expected_count = Counter(expected)
    predicted_count = Counter(predicted)
    scores = []
    for category in categories:
        hits = true_positive[category]
        precision = hits / predicted_count[category] if predicted_count[category] else 0.0
        recall = hits / expected_count[category] if expected_count[category] else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        scores.append(CategoryScore(category, precision, recall, f1, expected_count[category]))
    supported = [score for score in scores if score.support]
    total = len(expected)
    return AccuracyReport(
        accuracy=sum(true_positive.values()) / total if total else 0.0,
        macro_f1=sum(s.f1 for s in supported) / len(supported) if supported else 0.0,
        total=total,
        per_category=tuple(scores),
    )


def _training_key(rows: Sequence[LabelledMessage], config: NgramConfig) -> str:
    digest = hashlib.sha256()
    digest.update(json.dumps({"version": MODEL_VERSION, "config": asdict(config)}).encode())
    for row in rows:
        digest.update(json.dumps([row.text, row.category], ensure_ascii=False).encode())
    return digest.hexdigest()[:24]


class CategoryClassifier:
    """Categorises messages; trains lazily on first use and caches the model on disk.

    Share one instance per process: it is thread-safe, and `learn_from_corrections`
    swaps the model in only once the new one is trained.
    """

    def __init__(
        self,
        *,
        cache_dir: Path | None = None,
        starter_rows: Sequence[LabelledMessage] | None = None,
        corrections: Sequence[LabelledMessage] = (),
        config: NgramConfig = CATEGORY_CONFIG,
    ) -> None:
        """`cache_dir`: where trained models are kept (e.g. `data_dir/ai`); None keeps
        them in memory only. `starter_rows`: defaults to the shipped Bitext data."""
        self.cache_dir = cache_dir
        self.config = config
        self._starter = list(starter_rows) if starter_rows is not None else None
        self._corrections = list(corrections)
        self._model: NgramClassifier | None = None
        self._memory = self._corrections_memory(self._corrections)
        self._lock = threading.Lock()

    @staticmethod
    def _corrections_memory(rows: Sequence[LabelledMessage]) -> dict[str, str]:
        return {" ".join(fold(row.text).split()): row.category for row in rows}

    def _training_rows(self, corrections: Sequence[LabelledMessage]) -> list[LabelledMessage]:
        if self._starter is None:
            self._starter = load_bitext_rows("train")
        return [*self._starter, *(row for row in corrections for _ in range(CORRECTION_WEIGHT))]

    def _train(self, corrections: Sequence[LabelledMessage]) -> NgramClassifier:
        rows = self._training_rows(corrections)
        key = _training_key(rows, self.config)
        directory = None if self.cache_dir is None else self.cache_dir / f"categories-{key}"
        if directory is not None and directory.exists():
            try:
                return NgramClassifier.load(directory)
            except ModelFileError as exc:
                logger.warning("retraining the category model: %s", exc)
        model = NgramClassifier(self.config)
        model.fit([row.text for row in rows], [row.category for row in rows])
        if directory is not None:
            model.save(directory)
        return model

    @property
    def model(self) -> NgramClassifier:
        """The trained model (trained or loaded from the cache on first access)."""
        with self._lock:
            if self._model is None:
                self._model = self._train(self._corrections)
            return self._model

    def learn_from_corrections(self, corrections: Iterable[LabelledMessage]) -> None:
        """Retrain on the starter data plus all of these team labels (pass every
        correction the team made, not only the new ones: the call is idempotent)."""
        rows = list(corrections)
        model = self._train(rows)
        with self._lock:
            self._model = model
            self._corrections = rows
            self._memory = self._corrections_memory(rows)

    def classify(self, text: str) -> CategoryPrediction:
        return self.classify_many([text])[0]

    def classify_many(
        self,
        texts: Sequence[str],
        *,
        keep: Sequence[CategoryPrediction | None] | None = None,
    ) -> list[CategoryPrediction]:
        """Corrections remembered, urgent topics and keywords decide first; the model
        runs (once, on all the rest together) only where none of them did. Where
        `keep` gives a prediction, it stands in for the model (a conversation whose
        topic is settled only needs the rules checked on its new words)."""
        predictions: list[CategoryPrediction | None] = []
        for position, text in enumerate(texts):
            reasons = urgency_reasons(text)
            remembered = self._memory.get(" ".join(fold(text).split()))
            if remembered is not None:
                predictions.append(
                    CategoryPrediction(remembered, 1.0, bool(reasons), reasons, "correction")
                )
                continue
            if reasons:
                category = URGENCY_CATEGORY[reasons[0]]
                predictions.append(
                    CategoryPrediction(category, 1.0, True, reasons, "urgent_topic", reasons[0])
                )
                continue
            keyword = keyword_category(text)
            if keyword is not None:
                predictions.append(
                    CategoryPrediction(keyword[0], 1.0, False, (), "keyword", keyword[1])
                )
                continue
            predictions.append(keep[position] if keep is not None else None)
        undecided = [index for index, found in enumerate(predictions) if found is None]
        if undecided:
            model = self.model
            probabilities = model.predict_proba([texts[index] for index in undecided])
            for row, index in enumerate(undecided):
                best = int(probabilities[row].argmax())
                predictions[index] = CategoryPrediction(
                    model.labels[best], float(probabilities[row][best]), False, (), "model"
                )
        return [prediction for prediction in predictions if prediction is not None]

    def evaluate(self, rows: Sequence[LabelledMessage]) -> AccuracyReport:
        """Accuracy per category on labelled messages (e.g. the team's recent corrections
        held out, or the Bitext test split)."""
        predicted = [p.category for p in self.classify_many([row.text for row in rows])]
        return accuracy_report([row.category for row in rows], predicted)
