"""`helpline ai eval` on a small labelled CSV, as an operator would run it."""

from __future__ import annotations

import csv
from pathlib import Path

from typer.testing import CliRunner

from helpline.cli import app

PHRASES = {
    "billing": [
        "my card was charged twice",
        "refund my payment",
        "invoice is wrong",
        "payment failed again",
        "why was I billed",
        "charge on my statement",
    ],
    "account": [
        "cannot log in",
        "reset my password",
        "account locked",
        "two factor code not arriving",
        "change my login email",
        "forgot password",
    ],
    "orders": [
        "where is my parcel",
        "order not delivered",
        "change delivery address",
        "track my order",
        "package arrived damaged",
        "return my order",
    ],
}


def _write_dataset(path: Path) -> None:
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["text", "category"])
        for category, phrases in PHRASES.items():
            for phrase in phrases:
                for suffix in ("", " please", " now", " today", " asap"):
                    writer.writerow([phrase + suffix, category])
        writer.writerow(["what is the weather on mars", "oos"])


def test_ai_eval_prints_accuracy_and_per_class_table(tmp_path: Path) -> None:
    dataset = tmp_path / "labelled.csv"
    _write_dataset(dataset)

    result = CliRunner().invoke(app, ["ai", "eval", "--dataset", str(dataset)])

    assert result.exit_code == 0, result.output
    assert "accuracy" in result.output
    assert "macro-F1" in result.output
    for category in PHRASES:
        assert category in result.output


def test_ai_eval_refuses_an_unknown_backend(tmp_path: Path) -> None:
    dataset = tmp_path / "labelled.csv"
    _write_dataset(dataset)

    result = CliRunner().invoke(app, ["ai", "eval", "--dataset", str(dataset), "--backend", "gpt"])

    assert result.exit_code == 2
