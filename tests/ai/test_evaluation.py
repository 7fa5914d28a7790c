from __future__ import annotations

import csv
from pathlib import Path

import pytest

from helpline.ai.evaluation import evaluate_dataset, format_report, read_labelled_csv
from tests.ai.fixtures import bitext_sample

OFF_TOPIC = [
    "what is the capital of australia",
    "tell me a joke about penguins",
    "who won the football match yesterday",
    "recommend a good pizza recipe",
    "how tall is mount everest",
    "translate good night into japanese",
    "what time is sunset in lisbon",
    "write a poem about autumn leaves",
]


def test_a_labelled_csv_is_measured_with_out_of_scope_rows(tmp_path: Path) -> None:
    train, _ = bitext_sample(per_category=60)
    dataset = tmp_path / "team.csv"
    with dataset.open("w", newline="", encoding="utf-8") as stream:
        writer = csv.writer(stream)
        writer.writerow(["text", "category"])
        writer.writerows((row.text, row.category) for row in train)
        writer.writerows((text, "oos") for text in OFF_TOPIC)

    report = evaluate_dataset(dataset)
    printed = format_report(report)

    assert report.unknown_rows == len(OFF_TOPIC)
    assert report.test_rows == 48  # 20 % of 240 labelled rows
    assert report.accuracy >= 0.8
    assert report.out_of_scope_recall is not None
    assert 0.0 <= report.in_scope_answered_correct <= report.accuracy
    assert "out-of-scope recall" in printed and "billing" in printed


def test_a_csv_without_known_columns_is_explained(tmp_path: Path) -> None:
    dataset = tmp_path / "bad.csv"
    dataset.write_text("question,answer\nhi,hello\n", encoding="utf-8")

    with pytest.raises(ValueError, match="text column"):
        read_labelled_csv(dataset)
