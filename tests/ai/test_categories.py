from __future__ import annotations

from pathlib import Path

import pytest

from helpline.adapters.ai.ngram import NgramClassifier
from helpline.ai.categories import (
    BITEXT_TO_HELPLINE,
    CategoryClassifier,
    LabelledMessage,
    accuracy_report,
    load_bitext_rows,
)
from tests.ai.fixtures import bitext_sample


@pytest.fixture
def classifier(tmp_path: Path) -> CategoryClassifier:
    train, _ = bitext_sample(per_category=40)
    return CategoryClassifier(cache_dir=tmp_path / "ai", starter_rows=train)


def test_the_shipped_starter_data_maps_onto_helpline_categories() -> None:
    rows = load_bitext_rows("train")

    assert len(rows) > 7000
    assert {row.category for row in rows} == set(BITEXT_TO_HELPLINE.values())
    assert {"account", "billing", "orders", "general"} == set(BITEXT_TO_HELPLINE.values())


def test_failed_payments_account_security_and_fraud_are_urgent(
    classifier: CategoryClassifier,
) -> None:
    declined = classifier.classify("My payment was declined twice today")
    locked_out = classifier.classify("I can't log in, I think my account was hacked")
    fraud = classifier.classify("Someone used my card, this is fraud")
    routine = classifier.classify("Where is my order? It should have arrived by now")

    assert (declined.category, declined.urgent) == ("billing", True)
    assert "failed_payment" in declined.urgency_reasons
    assert (locked_out.category, locked_out.urgent) == ("account", True)
    assert fraud.urgent and "fraud" in fraud.urgency_reasons
    assert (routine.category, routine.urgent, routine.source) == ("orders", False, "model")


def test_technical_and_sales_come_from_keyword_rules(classifier: CategoryClassifier) -> None:
    crash = classifier.classify("The app crashes every time I open the settings page")
    trial = classifier.classify("Do you offer a free trial of the pro plan?")

    assert (crash.category, crash.source, crash.evidence) == ("technical", "keyword", "crash")
    assert (trial.category, trial.source) == ("sales", "keyword")


def test_team_corrections_teach_new_wording_and_categories(
    classifier: CategoryClassifier,
) -> None:
    corrections = [
        LabelledMessage("the dashboard widget shows a blank rectangle", "technical"),
        LabelledMessage("the dashboard widget stays empty after login", "technical"),
        LabelledMessage("dashboard widget is blank again", "technical"),
        LabelledMessage("widget on the dashboard renders nothing", "technical"),
    ]

    classifier.learn_from_corrections(corrections)
    exact = classifier.classify("The dashboard widget shows a blank rectangle")
    similar = classifier.classify("my dashboard widget is blank")

    assert (exact.category, exact.source) == ("technical", "correction")
    assert "technical" in classifier.model.labels
    assert similar.category == "technical"


def test_the_trained_model_is_cached_on_disk_and_reused(tmp_path: Path) -> None:
    train, _ = bitext_sample(per_category=20)
    first = CategoryClassifier(cache_dir=tmp_path, starter_rows=train)
    expected = first.classify("how do I change my shipping address?")

    cached = list(tmp_path.glob("categories-*"))
    second = CategoryClassifier(cache_dir=tmp_path, starter_rows=train)
    original_fit = NgramClassifier.fit
    try:
        NgramClassifier.fit = lambda *args, **kwargs: pytest.fail("retrained")  # type: ignore[method-assign]
        again = second.classify("how do I change my shipping address?")
    finally:
        NgramClassifier.fit = original_fit  # type: ignore[method-assign]

    assert len(cached) == 1
    assert (cached[0] / "manifest.json").exists()
    assert again == expected


def test_accuracy_is_reported_per_category() -> None:
    report = accuracy_report(
        ["billing", "billing", "orders", "account"],
        ["billing", "orders", "orders", "account"],
    )
    per_category = {score.category: score for score in report.per_category}

    assert report.accuracy == 0.75
    assert report.total == 4
    assert per_category["billing"].recall == 0.5
    assert per_category["billing"].precision == 1.0
    assert per_category["orders"].precision == 0.5
    assert per_category["account"].f1 == 1.0


def test_evaluate_measures_the_classifier_on_labelled_messages(
    classifier: CategoryClassifier,
) -> None:
    _, held_out = bitext_sample(per_category=40)

    report = classifier.evaluate(held_out)

    assert report.total == len(held_out)
    assert report.accuracy >= 0.85
    assert {s.category for s in report.per_category} >= {"account", "billing", "orders"}
