"""AI tests use a small category model (trained in a fraction of a second) instead of
the full starter model, installed as the process's classifier for each test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from helpline.ai.categories import CategoryClassifier, LabelledMessage
from helpline.services import ai_assist
from tests.ai.fixtures import bitext_sample


@pytest.fixture(scope="session")
def small_starter_rows() -> list[LabelledMessage]:
    train, _ = bitext_sample(per_category=60)
    return train


@pytest.fixture(autouse=True)
def small_classifier(small_starter_rows: list[LabelledMessage]) -> Iterator[CategoryClassifier]:
    classifier = CategoryClassifier(starter_rows=small_starter_rows)
    ai_assist.use_classifier(classifier)
    yield classifier
    ai_assist.use_classifier(None)
