"""`helpline simulate` from the command line."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from helpline.simulation.cli import simulate_app

runner = CliRunner()


def test_lists_the_shipped_scenarios() -> None:
    result = runner.invoke(simulate_app, ["scenarios"])
    assert result.exit_code == 0
    for name in ("saas", "ecommerce", "overload"):
        assert name in result.output


def test_checks_a_scenario(tmp_path: Path) -> None:
    result = runner.invoke(simulate_app, ["check", "ecommerce"])
    assert result.exit_code == 0, result.output
    assert "offered load: 80%" in result.output
    broken = tmp_path / "broken.toml"
    broken.write_text('name = "x"\n[[agents]]\ngroup = "a"\nmax_chats = 0\n')
    result = runner.invoke(simulate_app, ["check", str(broken)])
    assert result.exit_code == 2
    assert "agents.0.max_chats" in result.output
    assert "topics" in result.output


def test_runs_a_comparison_and_writes_the_report(tmp_path: Path) -> None:
    result = runner.invoke(
        simulate_app,
        [
            "run",
            "saas",
            "--strategies",
            "priority,round_robin",
            "--replications",
            "2",
            "--hours",
            "12",
            "--out",
            str(tmp_path),
        ],
    )
    assert result.exit_code == 0, result.output
    assert "priority" in result.output and "round_robin" in result.output
    assert (tmp_path / "report.html").exists()
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert set(summary["summary"]) == {"priority", "round_robin"}


def test_json_output_and_bad_options() -> None:
    result = runner.invoke(
        simulate_app,
        ["run", "saas_trace_replay", "--strategies", "fifo", "--replications", "2", "--json"],
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout[result.stdout.index("{") :])
    assert data["summary"]["fifo"]["arrivals"]["mean"] == 15  # the e-mail is not a live chat
    result = runner.invoke(simulate_app, ["run", "saas", "--strategies", "fastest"])
    assert result.exit_code == 2
    assert "unknown strategy 'fastest'" in result.output


def test_staffing_from_the_command_line(tmp_path: Path) -> None:
    result = runner.invoke(
        simulate_app,
        [
            "staffing",
            "saas",
            "--target",
            "0.8",
            "--replications",
            "1",
            "--out",
            str(tmp_path),
        ],
    )
    assert result.exit_code == 0, result.output
    assert "fewest agents for 80%" in result.output
    data = json.loads((tmp_path / "staffing.json").read_text())
    assert data["needed"] == min(
        p["agents"] for p in data["curve"] if p["service_level"]["mean"] >= 0.8
    )
    assert (tmp_path / "staffing.png").read_bytes().startswith(b"\x89PNG")
