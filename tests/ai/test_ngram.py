from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from helpline.adapters.ai.interfaces import IntentClassifier
from helpline.adapters.ai.ngram import FEW_TEXTS, NgramClassifier, NgramConfig
from helpline.adapters.ai.store import ARRAYS_FILE, ModelFileError
from tests.ai.fixtures import bitext_sample

FAST = NgramConfig(c=10.0, max_iter=100)


@pytest.fixture(scope="module")
def trained() -> tuple[NgramClassifier, list[tuple[str, str]]]:
    train, held_out = bitext_sample(per_category=40)
    classifier = NgramClassifier(FAST)
    classifier.fit([row.text for row in train], [row.category for row in train])
    return classifier, [(row.text, row.category) for row in held_out]


def test_it_learns_the_categories_of_a_small_labelled_set(
    trained: tuple[NgramClassifier, list[tuple[str, str]]],
) -> None:
    classifier, held_out = trained
    predicted = classifier.predict([text for text, _ in held_out])

    accuracy = np.mean(
        [top[0].label == truth for top, (_, truth) in zip(predicted, held_out, strict=True)]
    )

    assert isinstance(classifier, IntentClassifier)
    assert set(classifier.labels) == {"account", "billing", "general", "orders"}
    assert accuracy >= 0.85


def test_a_few_texts_scored_one_by_one_match_the_sparse_batch_path(
    trained: tuple[NgramClassifier, list[tuple[str, str]]],
) -> None:
    classifier, held_out = trained
    texts = [text for text, _ in held_out] + ["", "b123", "Zażółć gęślą jaźń", "ÀÉÎ ok?"]
    assert len(texts) > FEW_TEXTS  # the whole list takes the sparse path

    together = classifier.logits(texts)
    one_by_one = np.concatenate([classifier.logits([text]) for text in texts])

    assert one_by_one.shape == together.shape == (len(texts), len(classifier.labels))
    np.testing.assert_allclose(one_by_one, together, atol=1e-4)
    assert classifier.logits([]).shape == (0, len(classifier.labels))


def test_probabilities_cover_every_label_and_top_k_is_ordered(
    trained: tuple[NgramClassifier, list[tuple[str, str]]],
) -> None:
    classifier, _ = trained

    probabilities = classifier.predict_proba(["I want my money back for order 1234"])
    top = classifier.predict(["I want my money back for order 1234"], top_k=3)[0]

    assert probabilities.shape == (1, len(classifier.labels))
    assert probabilities.sum() == pytest.approx(1.0, abs=1e-5)
    assert [s.score for s in top] == sorted((s.score for s in top), reverse=True)
    assert top[0].label == "billing"


def test_a_saved_model_answers_exactly_like_the_trained_one(
    trained: tuple[NgramClassifier, list[tuple[str, str]]], tmp_path: Path
) -> None:
    classifier, held_out = trained
    texts = [text for text, _ in held_out[:25]]
    classifier.save(tmp_path / "model")

    reloaded = NgramClassifier.load(tmp_path / "model")

    assert reloaded.labels == classifier.labels
    assert np.allclose(reloaded.predict_proba(texts), classifier.predict_proba(texts), atol=1e-6)
    assert not list((tmp_path / "model").glob("*.pkl"))


def test_a_corrupted_saved_model_is_refused(
    trained: tuple[NgramClassifier, list[tuple[str, str]]], tmp_path: Path
) -> None:
    classifier, _ = trained
    classifier.save(tmp_path / "model")
    arrays = tmp_path / "model" / ARRAYS_FILE
    arrays.write_bytes(arrays.read_bytes()[:-10])

    with pytest.raises(ModelFileError):
        NgramClassifier.load(tmp_path / "model")


def test_an_untrained_classifier_says_so() -> None:
    with pytest.raises(RuntimeError, match="not trained"):
        NgramClassifier().predict(["hello"])


def test_training_needs_two_labels() -> None:
    with pytest.raises(ValueError, match="two"):
        NgramClassifier(FAST).fit(["a b", "c d"], ["billing", "billing"])
