"""The default CPU intent classifier: TF-IDF over word 1-2-grams and character 2-5-grams
(inside word boundaries) with a multinomial logistic regression.

It needs no torch and no download, trains in seconds to a minute, answers in about a
millisecond, and is saved as numpy arrays + JSON (no pickle).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Self

import numpy as np
import numpy.typing as npt
from scipy.sparse import csr_matrix, hstack
from sklearn.feature_extraction.text import TfidfVectorizer

from helpline.adapters.ai._linear import fit_logistic, softmax, top_labels
from helpline.adapters.ai.interfaces import FloatArray, ScoredLabel
from helpline.adapters.ai.store import ModelFileError, read_model, write_model

MODEL_KIND = "helpline.ngram-intent-classifier"
FEW_TEXTS = 32
"""Up to this many texts are scored one by one (`_logits_of`), more through sparse
matrices (whose fixed cost is shared)."""

# Keep single-letter words ("I", "a", "2") as tokens: they matter in short questions.
_TOKEN_PATTERN = r"(?u)\b\w+\b"  # noqa: S105 (a regular expression)


@dataclass(frozen=True, slots=True)
class NgramConfig:
    """Feature and training settings; stored with the model so it reloads identically."""

    word_ngrams: tuple[int, int] = (1, 2)
    char_ngrams: tuple[int, int] = (2, 5)
    min_df: int = 1
    c: float = 30.0
    balanced: bool = True
    max_iter: int = 300


def _word_vectorizer(config: NgramConfig) -> TfidfVectorizer:
    return TfidfVectorizer(
        ngram_range=config.word_ngrams,
        sublinear_tf=True,
        strip_accents="unicode",
        token_pattern=_TOKEN_PATTERN,
        min_df=config.min_df,
        dtype=np.float32,
    )


def _char_vectorizer(config: NgramConfig) -> TfidfVectorizer:
    return TfidfVectorizer(
        analyzer="char_wb",
        ngram_range=config.char_ngrams,
        sublinear_tf=True,
        strip_accents="unicode",
        min_df=config.min_df,
        dtype=np.float32,
    )


def _vocabulary_array(vectorizer: TfidfVectorizer) -> npt.NDArray[np.str_]:
    terms = sorted(vectorizer.vocabulary_.items(), key=lambda item: item[1])
    return np.array([term for term, _ in terms], dtype=np.str_)


def _restore(vectorizer: TfidfVectorizer, vocabulary: npt.NDArray[Any], idf: FloatArray) -> None:
    vectorizer.vocabulary_ = {str(term): index for index, term in enumerate(vocabulary)}
    vectorizer.idf_ = idf


class NgramClassifier:
    """TF-IDF n-grams + logistic regression; implements `IntentClassifier`."""

    def __init__(self, config: NgramConfig | None = None) -> None:
        self.config = config or NgramConfig()
        self._words = _word_vectorizer(self.config)
        self._chars = _char_vectorizer(self.config)
        self._labels: tuple[str, ...] = ()
        self._coef: FloatArray = np.zeros((0, 0), dtype=np.float32)
        self._intercept: FloatArray = np.zeros(0, dtype=np.float32)

    @property
    def labels(self) -> tuple[str, ...]:
        return self._labels

    @property
    def is_fitted(self) -> bool:
        return bool(self._labels)

    def features(self, texts: Sequence[str]) -> csr_matrix:
        """The sparse TF-IDF rows the model sees (also used for nearest-neighbour look-ups)."""
        self._require_fitted()
        rows = hstack([self._words.transform(texts), self._chars.transform(texts)])
        return csr_matrix(rows, dtype=np.float32)

    def fit(self, texts: Sequence[str], labels: Sequence[str]) -> None:
        if len(texts) != len(labels):
            raise ValueError("texts and labels differ in length")
        words = self._words.fit_transform(texts)
        chars = self._chars.fit_transform(texts)
        features = csr_matrix(hstack([words, chars]), dtype=np.float32)
        self._labels, self._coef, self._intercept = fit_logistic(
            features,
            labels,
            c=self.config.c,
            balanced=self.config.balanced,
            max_iter=self.config.max_iter,
        )

    def logits(self, texts: Sequence[str]) -> FloatArray:
        """Raw class scores before the softmax (energy-style confidence uses them)."""
        if len(texts) <= FEW_TEXTS:
            return np.stack([self._logits_of(text) for text in texts]) if texts else self._none()
        scores = self.features(texts) @ self._coef.T
        return np.asarray(scores, dtype=np.float32) + self._intercept

    def _none(self) -> FloatArray:
        return np.zeros((0, len(self._labels)), dtype=np.float32)

    def _logits_of(self, text: str) -> FloatArray:
        """One text's scores without building sparse matrices: the same TF-IDF
        (sublinear counts, idf, each vectorizer's row L2-normalised) and dot product
        as `features`, at a fraction of the fixed cost of a scikit-learn call, which
        is most of the time for the one or two messages a live chat asks about."""
        self._require_fitted()
        scores = self._intercept.astype(np.float64, copy=True)
        offset = 0
        for vectorizer in (self._words, self._chars):
            vocabulary: dict[str, int] = vectorizer.vocabulary_
            counts: dict[int, int] = {}
            for term in self._analyzer(vectorizer)(text):
                index = vocabulary.get(term)
                if index is not None:
                    counts[index] = counts.get(index, 0) + 1
            if counts:
                indices = np.fromiter(counts, dtype=np.intp, count=len(counts))
                tf = np.fromiter(counts.values(), dtype=np.float64, count=len(counts))
                weights = (np.log(tf) + 1.0) * vectorizer.idf_[indices]
                weights /= np.sqrt(np.dot(weights, weights))
                scores += self._coef[:, indices + offset] @ weights
            offset += len(vocabulary)
        return scores.astype(np.float32)

    def _analyzer(self, vectorizer: TfidfVectorizer) -> Any:
        cache = self.__dict__.setdefault("_analyzers", {})
        found = cache.get(id(vectorizer))
        if found is None:
            found = cache[id(vectorizer)] = vectorizer.build_analyzer()
        return found

    def predict_proba(self, texts: Sequence[str]) -> FloatArray:
        return softmax(self.logits(texts))

    def predict(self, texts: Sequence[str], top_k: int = 1) -> list[list[ScoredLabel]]:
        return top_labels(self.predict_proba(texts), self._labels, top_k)

    def save(self, directory: Path) -> None:
        self._require_fitted()
        config = asdict(self.config)
        write_model(
            directory,
            MODEL_KIND,
            {
                "labels": np.array(self._labels, dtype=np.str_),
                "coef": self._coef,
                "intercept": self._intercept,
                "word_vocabulary": _vocabulary_array(self._words),
                "word_idf": np.asarray(self._words.idf_, dtype=np.float32),
                "char_vocabulary": _vocabulary_array(self._chars),
                "char_idf": np.asarray(self._chars.idf_, dtype=np.float32),
            },
            {"config": config},
        )

    @classmethod
    def load(cls, directory: Path) -> Self:
        arrays, meta = read_model(directory, MODEL_KIND)
        try:
            raw = meta["config"]
            config = NgramConfig(
                word_ngrams=(int(raw["word_ngrams"][0]), int(raw["word_ngrams"][1])),
                char_ngrams=(int(raw["char_ngrams"][0]), int(raw["char_ngrams"][1])),
                min_df=int(raw["min_df"]),
                c=float(raw["c"]),
                balanced=bool(raw["balanced"]),
                max_iter=int(raw["max_iter"]),
            )
            classifier = cls(config)
            _restore(classifier._words, arrays["word_vocabulary"], arrays["word_idf"])
            _restore(classifier._chars, arrays["char_vocabulary"], arrays["char_idf"])
            classifier._labels = tuple(str(label) for label in arrays["labels"])
            classifier._coef = arrays["coef"].astype(np.float32, copy=False)
            classifier._intercept = arrays["intercept"].astype(np.float32, copy=False)
        except (KeyError, TypeError, ValueError, IndexError) as exc:
            raise ModelFileError(f"{directory} is not a complete n-gram model: {exc}") from exc
        features = len(classifier._words.vocabulary_) + len(classifier._chars.vocabulary_)
        if classifier._coef.shape != (len(classifier._labels), features):
            raise ModelFileError(f"{directory}: weights do not match the vocabulary")
        return classifier

    def _require_fitted(self) -> None:
        if not self._labels:
            raise RuntimeError("the classifier is not trained yet; call fit() or load()")
