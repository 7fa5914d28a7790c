"""Comparing strategies and writing the outputs: table, JSON, CSV, plots, HTML."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from rich.console import Console

from helpline.domain.routing.config import Strategy
from helpline.simulation.compare import Comparison, run_comparison
from helpline.simulation.report import comparison_table, target_checks, write_report
from helpline.simulation.scenario import COMPARED_STRATEGIES, load_scenario


@pytest.fixture(scope="module")
def comparison() -> Comparison:
    model = load_scenario("saas", replications=2, hours=13)
    return run_comparison(model)


def test_every_strategy_runs_on_every_replication(comparison: Comparison) -> None:
    assert comparison.strategies == COMPARED_STRATEGIES
    for strategy in comparison.strategies:
        assert [r.replication for r in comparison.results[strategy]] == [0, 1]
        summary = comparison.summary(strategy)
        assert summary["service_level"].half_width is not None
        assert 0 < summary["service_level"].mean <= 1
    arrivals = {s: comparison.summary(s)["arrivals"].mean for s in comparison.strategies}
    assert len(set(arrivals.values())) == 1, "the same customers for every strategy"


def test_parallel_replications_give_the_same_numbers(comparison: Comparison) -> None:
    model = comparison.model
    parallel = run_comparison(model, strategies=[Strategy.PRIORITY, Strategy.PULL], jobs=2)
    for strategy in (Strategy.PRIORITY, Strategy.PULL):
        for ours, theirs in zip(
            parallel.metrics[strategy], comparison.metrics[strategy], strict=True
        ):
            assert ours == pytest.approx(theirs, nan_ok=True)


def test_the_table_names_every_strategy_and_class(comparison: Comparison) -> None:
    console = Console(width=200, record=True)
    console.print(comparison_table(comparison))
    text = console.export_text()
    for strategy in comparison.strategies:
        assert strategy.value in text
    assert "urgent <= 45 s" in text
    assert "high-value <= 45 s" in text
    assert "±" in text
    names = [check.name for check in target_checks(comparison)]
    assert "abandonment below round robin" in names


def test_the_report_files(comparison: Comparison, tmp_path: Path) -> None:
    written = write_report(comparison, tmp_path)
    names = {path.name for path in written}
    assert {
        "summary.json",
        "summary.csv",
        "replications.csv",
        "waits.png",
        "queue.png",
        "agent_load.png",
        "expected_wait.png",
        "report.html",
    } == names
    data = json.loads((tmp_path / "summary.json").read_text())
    assert set(data["summary"]) == {s.value for s in COMPARED_STRATEGIES}
    assert data["summary"]["priority"]["service_level"]["n"] == 2
    assert "share_within" in data["expected_wait_errors"]["priority"]
    with (tmp_path / "replications.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 2 * len(COMPARED_STRATEGIES)
    for image in ("waits.png", "queue.png", "agent_load.png"):
        assert (tmp_path / image).read_bytes().startswith(b"\x89PNG")
    page = (tmp_path / "report.html").read_text()
    assert page.count("data:image/png;base64,") == 4
    assert 'src="http' not in page and "<script" not in page, "self-contained"
