"""Showing a comparison: the terminal table, JSON and CSV files, PNG plots, an HTML page.

The HTML report is one self-contained file (plots embedded as base64 PNG), so it
can be mailed to the support lead or attached to a pull request as it is.
"""

from __future__ import annotations

import base64
import csv
import html
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rich.table import Table

from helpline.domain.routing.config import Strategy
from helpline.simulation.compare import Comparison
from helpline.simulation.metrics import METRIC_INFO, METRICS, waited_seconds
from helpline.simulation.staffing import StaffingResult
from helpline.simulation.stats import Estimate

TABLE_METRICS = (
    "service_level",
    "service_level_urgent",
    "service_level_high",
    "service_level_normal",
    "service_level_low",
    "service_level_high_value",
    "service_level_standard_value",
    "mean_wait",
    "p90_wait",
    "abandonment",
    "sla_attainment",
    "occupancy",
    "concurrency_mean",
    "concurrency_max",
    "fairness",
    "expected_wait_within",
    "expected_wait_within_waited",
    "reoffers",
    "arrivals",
)

TARGET_SHARE = 0.95
"""Urgent and high-value chats answered within the target: at least this share."""
TARGET_GAP = 0.02
"""Overall service level of `priority`: at most this far below the best baseline."""
TARGET_ESTIMATE = 0.8
"""Wait estimates within +-50% for at least this share of answered chats."""


def format_value(key: str, value: float, half_width: float | None = None) -> str:
    if math.isnan(value):
        return "-"
    kind = METRIC_INFO[key].kind if key in METRIC_INFO else "number"
    if kind == "share":
        text = f"{value * 100:.1f}%"
        spread = None if half_width is None else f"{half_width * 100:.1f}"
    elif kind == "seconds":
        text = f"{value:.1f}"
        spread = None if half_width is None else f"{half_width:.1f}"
    elif kind == "count":
        text = f"{value:,.0f}"
        spread = None if half_width is None else f"{half_width:,.0f}"
    else:
        text = f"{value:.3f}" if abs(value) < 10 else f"{value:.1f}"
        spread = None if half_width is None else f"{half_width:.3f}"
    if spread is not None and half_width:
        text += f" ±{spread}"
    return text


def _label(key: str, target: float) -> str:
    label = METRIC_INFO[key].label if key in METRIC_INFO else key
    return label.replace("target", f"{target:g} s")


def comparison_rows(comparison: Comparison) -> list[tuple[str, list[str]]]:
    summaries = {s: comparison.summary(s) for s in comparison.strategies}
    rows = []
    for key in TABLE_METRICS:
        cells = []
        for strategy in comparison.strategies:
            estimate = summaries[strategy].get(key)
            cells.append(
                "-" if estimate is None else format_value(key, estimate.mean, estimate.half_width)
            )
        rows.append((_label(key, comparison.model.service_target), cells))
    return rows


def comparison_table(comparison: Comparison) -> Table:
    load, busiest = comparison.load
    table = Table(
        title=(
            f"{comparison.model.name}: {comparison.replications} replication(s), "
            f"{comparison.confidence:.0%} confidence intervals"
        ),
        caption=(
            f"offered load {load:.0%} of the team's chat capacity over the day "
            f"(busiest hour {busiest:.0%}); waits in seconds"
        ),
    )
    table.add_column("metric")
    for strategy in comparison.strategies:
        table.add_column(strategy.value, justify="right")
    for label, cells in comparison_rows(comparison):
        table.add_row(label, *cells)
    return table


@dataclass(frozen=True, slots=True)
class TargetCheck:
    name: str
    measured: float
    goal: float
    met: bool
    detail: str


def target_checks(comparison: Comparison) -> list[TargetCheck]:
    """The issue's targets for `priority`, measured (empty without `priority`)."""
    if Strategy.PRIORITY not in comparison.strategies:
        return []
    ours = comparison.summary(Strategy.PRIORITY)
    checks = []
    for key, name in (
        ("service_level_urgent", "urgent chats answered within target"),
        ("service_level_high_value", "high-value chats answered within target"),
    ):
        value = ours[key].mean
        spread = ours[key].half_width
        interval = "" if spread is None else f" ±{spread * 100:.1f}"
        checks.append(
            TargetCheck(
                name,
                value,
                TARGET_SHARE,
                value >= TARGET_SHARE,
                f"{value:.1%}{interval} (goal >= {TARGET_SHARE:.0%}, "
                f"{(value - TARGET_SHARE) * 100:+.1f} points)",
            )
        )
    baselines = [s for s in comparison.strategies if s != Strategy.PRIORITY]
    if baselines:
        best = comparison.best("service_level", among=baselines)
        best_value = comparison.summary(best)["service_level"].mean
        gap = comparison.paired_difference("service_level", Strategy.PRIORITY, best)
        checks.append(
            TargetCheck(
                "overall service level vs best baseline",
                gap.mean,
                -TARGET_GAP,
                gap.mean >= -TARGET_GAP,
                f"{ours['service_level'].mean:.1%} vs {best.value} {best_value:.1%}: "
                f"{_points(gap)} points, paired (goal >= -{TARGET_GAP * 100:.0f})",
            )
        )
    if Strategy.ROUND_ROBIN in comparison.strategies:
        theirs = comparison.summary(Strategy.ROUND_ROBIN)["abandonment"].mean
        value = ours["abandonment"].mean
        difference = comparison.paired_difference(
            "abandonment", Strategy.PRIORITY, Strategy.ROUND_ROBIN
        )
        checks.append(
            TargetCheck(
                "abandonment below round robin",
                difference.mean,
                0.0,
                difference.mean < 0,
                f"{value:.2%} vs round_robin {theirs:.2%}: {_points(difference, 2)} points, paired",
            )
        )
    within = ours.get("expected_wait_within")
    if within is not None and not math.isnan(within.mean):
        checks.append(
            TargetCheck(
                "wait estimate within ±50%",
                within.mean,
                TARGET_ESTIMATE,
                within.mean >= TARGET_ESTIMATE,
                f"{within.mean:.1%} of answered chats (goal >= {TARGET_ESTIMATE:.0%}); "
                f"{ours['expected_wait_within_waited'].mean:.1%} of those who queued",
            )
        )
    return checks


def _points(estimate: Estimate, decimals: int = 1) -> str:
    """A difference of shares in percentage points, with its interval."""
    text = f"{estimate.mean * 100:+.{decimals}f}"
    if estimate.half_width is not None:
        text += f" ±{estimate.half_width * 100:.{decimals}f}"
    return text


def targets_table(checks: Sequence[TargetCheck]) -> Table:
    table = Table(title="targets for priority routing")
    table.add_column("target")
    table.add_column("met")
    table.add_column("measured")
    for check in checks:
        table.add_row(check.name, "yes" if check.met else "NO", check.detail)
    return table


def speed_table(comparison: Comparison) -> Table:
    table = Table(title="speed (wall-clock seconds per run)")
    table.add_column("strategy")
    table.add_column("mean", justify="right")
    table.add_column("max", justify="right")
    for strategy in comparison.strategies:
        seconds = comparison.seconds[strategy]
        table.add_row(strategy.value, f"{sum(seconds) / len(seconds):.2f}", f"{max(seconds):.2f}")
    return table


# -- files ----------------------------------------------------------------------------


def _clean(value: Any) -> Any:
    """JSON has no NaN or infinity: write null."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {str(key): _clean(inner) for key, inner in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(inner) for inner in value]
    return value


def _estimate_data(estimate: Estimate) -> dict[str, Any]:
    return {"mean": estimate.mean, "half_width": estimate.half_width, "n": estimate.count}


def comparison_data(comparison: Comparison) -> dict[str, Any]:
    load, busiest = comparison.load
    data: dict[str, Any] = _clean(
        {
            "scenario": comparison.model.name,
            "description": comparison.model.file.description,
            "replications": comparison.replications,
            "confidence": comparison.confidence,
            "service_target_seconds": comparison.model.service_target,
            "offered_load": load,
            "busiest_hour_load": busiest,
            "agents": comparison.model.agent_count,
            "summary": {
                strategy.value: {
                    key: _estimate_data(estimate)
                    for key, estimate in comparison.summary(strategy).items()
                }
                for strategy in comparison.strategies
            },
            "replication_metrics": {
                strategy.value: comparison.metrics[strategy] for strategy in comparison.strategies
            },
            "expected_wait_errors": {
                strategy.value: comparison.estimate_errors(strategy)
                for strategy in comparison.strategies
            },
            "totals": {
                strategy.value: [result.totals for result in comparison.results[strategy]]
                for strategy in comparison.strategies
            },
            "seconds_per_run": {
                strategy.value: comparison.seconds[strategy] for strategy in comparison.strategies
            },
            "targets": [
                {"name": c.name, "measured": c.measured, "goal": c.goal, "met": c.met}
                for c in target_checks(comparison)
            ],
        }
    )
    return data


def write_json(comparison: Comparison, path: Path) -> Path:
    path.write_text(json.dumps(comparison_data(comparison), indent=2) + "\n", encoding="utf-8")
    return path


def write_csv(comparison: Comparison, directory: Path) -> list[Path]:
    """summary.csv (mean and interval per strategy and metric) and replications.csv."""
    summary_path = directory / "summary.csv"
    with summary_path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["strategy", "metric", "mean", "half_width", "replications"])
        for strategy in comparison.strategies:
            for key, estimate in comparison.summary(strategy).items():
                writer.writerow(
                    [
                        strategy.value,
                        key,
                        "" if math.isnan(estimate.mean) else f"{estimate.mean:.6g}",
                        "" if estimate.half_width is None else f"{estimate.half_width:.6g}",
                        estimate.count,
                    ]
                )
    runs_path = directory / "replications.csv"
    keys = [metric.key for metric in METRICS]
    with runs_path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["strategy", "replication", "seconds", *keys])
        for strategy in comparison.strategies:
            for result, metrics, seconds in zip(
                comparison.results[strategy],
                comparison.metrics[strategy],
                comparison.seconds[strategy],
                strict=True,
            ):
                values = [metrics.get(key, math.nan) for key in keys]
                writer.writerow(
                    [
                        strategy.value,
                        result.replication,
                        f"{seconds:.3f}",
                        *("" if math.isnan(v) else f"{v:.6g}" for v in values),
                    ]
                )
    return [summary_path, runs_path]


# -- plots ----------------------------------------------------------------------------


def _pyplot() -> Any:
    """matplotlib without a display (imported only when plots are asked for)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


CLASSES: tuple[tuple[str, str], ...] = (
    ("all", "all customers"),
    ("urgent", "urgent"),
    ("high_value", "high value"),
    ("other", "neither urgent nor high value"),
)


def _in_class(name: str, priority_class: str, high_value: bool) -> bool:
    if name == "all":
        return True
    if name == "urgent":
        return priority_class == "urgent"
    if name == "high_value":
        return high_value
    return priority_class != "urgent" and not high_value


def plot_waits(comparison: Comparison, path: Path) -> Path:
    """Share of customers still without an answer after t seconds, per class."""
    plt = _pyplot()
    figure, axes = plt.subplots(2, 2, figsize=(11, 7.5), sharex=True, sharey=True)
    limit = max(300.0, comparison.model.service_target * 4)
    for axis, (name, title) in zip(axes.flat, CLASSES, strict=True):
        for strategy in comparison.strategies:
            waits = sorted(
                waited_seconds(outcome)
                for outcome in comparison.outcomes(strategy)
                if outcome.live and _in_class(name, outcome.priority_class, outcome.high_value)
            )
            if not waits:
                continue
            count = len(waits)
            xs = [0.0]
            ys = [1.0]
            for index, wait in enumerate(waits):
                if wait > limit:
                    break
                xs.append(wait)
                ys.append(1 - (index + 1) / count)
            xs.append(limit)
            ys.append(ys[-1])
            axis.step(xs, ys, where="post", label=strategy.value, linewidth=1.3)
        axis.axvline(comparison.model.service_target, color="grey", linestyle=":", linewidth=1)
        axis.set_title(title)
        axis.set_yscale("log")
        axis.set_ylim(1e-3, 1.05)
        axis.grid(alpha=0.3)
    for axis in axes[1]:
        axis.set_xlabel("seconds until answered (or gave up)")
    for axis in axes[:, 0]:
        axis.set_ylabel("share still waiting")
    axes[0][0].legend(fontsize=8)
    figure.suptitle(f"{comparison.model.name}: wait distribution by customer class")
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return path


def plot_queue(comparison: Comparison, path: Path) -> Path:
    """Chats waiting for an agent over the day (mean over replications)."""
    plt = _pyplot()
    offset = comparison.model.day_offset / 3600
    figure, (upper, lower) = plt.subplots(2, 1, figsize=(11, 6.5), sharex=True)
    for strategy in comparison.strategies:
        results = comparison.results[strategy]
        length = min(len(result.timeline) for result in results)
        if not length:
            continue
        xs = [offset + results[0].timeline[i][0] / 3600 for i in range(length)]
        waiting = [sum(r.timeline[i][1] for r in results) / len(results) for i in range(length)]
        held = [sum(r.timeline[i][3] for r in results) / len(results) for i in range(length)]
        upper.plot(xs, waiting, label=strategy.value, linewidth=1.1)
        lower.plot(xs, held, label=strategy.value, linewidth=1.1)
    reference = comparison.results[comparison.strategies[0]][0]
    online_x = [offset + sample[0] / 3600 for sample in reference.timeline]
    lower.plot(
        online_x,
        [sample[2] for sample in reference.timeline],
        color="black",
        linestyle=":",
        label="agents online",
    )
    upper.set_ylabel("chats waiting")
    lower.set_ylabel("chats held by agents")
    lower.set_xlabel("hour of the day (hours past the start's midnight)")
    upper.legend(fontsize=8)
    lower.legend(fontsize=8)
    upper.grid(alpha=0.3)
    lower.grid(alpha=0.3)
    figure.suptitle(f"{comparison.model.name}: queue and load over the day")
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return path


def plot_agent_load(comparison: Comparison, path: Path) -> Path:
    """Each agent's average number of chats while on shift, busiest first."""
    plt = _pyplot()
    figure, axis = plt.subplots(figsize=(11, 4.5))
    for strategy in comparison.strategies:
        per_agent: dict[int, list[float]] = {}
        for result in comparison.results[strategy]:
            for agent in result.agents:
                if agent.shift_time > 0:
                    per_agent.setdefault(agent.id, []).append(agent.slot_time / agent.shift_time)
        loads = sorted((sum(v) / len(v) for v in per_agent.values()), reverse=True)
        axis.plot(range(1, len(loads) + 1), loads, marker="o", markersize=3, label=strategy.value)
    axis.set_xlabel("agents, busiest first")
    axis.set_ylabel("average chats held while on shift")
    axis.grid(alpha=0.3)
    axis.legend(fontsize=8)
    axis.set_title(f"{comparison.model.name}: load per agent")
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return path


def plot_estimates(comparison: Comparison, path: Path) -> Path:
    """Predicted minus realised wait of the answered chats that had to queue."""
    plt = _pyplot()
    figure, axis = plt.subplots(figsize=(11, 4.5))
    for strategy in comparison.strategies:
        errors = [
            max(-1.0, min(3.0, (o.predicted_wait - o.queue_wait) / o.queue_wait))
            for o in comparison.outcomes(strategy)
            if o.live
            and o.predicted_wait is not None
            and o.queue_wait is not None
            and o.queue_wait > 0
        ]
        if errors:
            axis.hist(errors, bins=40, range=(-1, 3), histtype="step", label=strategy.value)
    axis.axvspan(-0.5, 0.5, color="green", alpha=0.08, label="within ±50%")
    axis.set_xlabel("(predicted - realised) / realised wait, queued chats (clipped to -1..3)")
    axis.set_ylabel("chats")
    axis.grid(alpha=0.3)
    axis.legend(fontsize=8)
    axis.set_title(f"{comparison.model.name}: expected-wait error")
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return path


def write_plots(comparison: Comparison, directory: Path) -> list[Path]:
    return [
        plot_waits(comparison, directory / "waits.png"),
        plot_queue(comparison, directory / "queue.png"),
        plot_agent_load(comparison, directory / "agent_load.png"),
        plot_estimates(comparison, directory / "expected_wait.png"),
    ]


def plot_staffing(result: StaffingResult, path: Path) -> Path:
    plt = _pyplot()
    figure, axis = plt.subplots(figsize=(9, 4.5))
    xs = [point.agents for point in result.points]
    means = [point.service_level.mean for point in result.points]
    spreads = [point.service_level.half_width or 0.0 for point in result.points]
    axis.errorbar(xs, means, yerr=spreads, marker="o", capsize=3, label="service level")
    axis.plot(
        xs, [point.abandonment.mean for point in result.points], marker="s", label="abandoned"
    )
    axis.axhline(result.target, color="grey", linestyle=":", label=f"target {result.target:.0%}")
    if result.needed is not None:
        axis.axvline(result.needed, color="green", linestyle="--", label=f"{result.needed} agents")
    axis.set_xlabel("agents" if result.group is None else f"agents in group {result.group}")
    axis.set_ylabel(f"share answered within {result.within:g} s")
    axis.set_ylim(0, 1.02)
    axis.grid(alpha=0.3)
    axis.legend(fontsize=8)
    axis.set_title(f"{result.scenario}: staffing curve ({result.strategy.value})")
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return path


# -- HTML -----------------------------------------------------------------------------


def _image(path: Path, alt: str) -> str:
    data = base64.b64encode(path.read_bytes()).decode("ascii")
    return f'<figure><img alt="{html.escape(alt)}" src="data:image/png;base64,{data}"></figure>'


_STYLE = """
body { font-family: system-ui, sans-serif; margin: 2rem auto; max-width: 1100px; color: #222; }
table { border-collapse: collapse; margin: 1rem 0; font-size: 0.92rem; }
th, td { border: 1px solid #ccc; padding: 0.3rem 0.6rem; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
.met { color: #176f2c; } .missed { color: #a11; font-weight: bold; }
img { max-width: 100%; }
"""


def write_html(comparison: Comparison, path: Path, images: Sequence[Path]) -> Path:
    load, busiest = comparison.load
    head = "".join(f"<th>{html.escape(s.value)}</th>" for s in comparison.strategies)
    rows = "".join(
        f"<tr><th>{html.escape(label)}</th>"
        + "".join(f'<td class="num">{html.escape(cell)}</td>' for cell in cells)
        + "</tr>"
        for label, cells in comparison_rows(comparison)
    )
    checks = "".join(
        f'<tr><td>{html.escape(c.name)}</td><td class="{"met" if c.met else "missed"}">'
        f"{'met' if c.met else 'missed'}</td><td>{html.escape(c.detail)}</td></tr>"
        for c in target_checks(comparison)
    )
    error_keys = (
        "share_within",
        "share_exact_zero",
        "share_predicted_zero_but_queued",
        "error_p10_seconds",
        "error_median_seconds",
        "error_p90_seconds",
        "queued_count",
        "queued_share_within",
        "queued_relative_error_median",
    )
    errors = {s: comparison.estimate_errors(s) for s in comparison.strategies}
    error_rows = "".join(
        f"<tr><th>{html.escape(key.replace('_', ' '))}</th>"
        + "".join(
            f'<td class="num">{"-" if math.isnan(errors[s][key]) else f"{errors[s][key]:.3g}"}</td>'
            for s in comparison.strategies
        )
        + "</tr>"
        for key in error_keys
    )
    figures = "".join(_image(image, image.stem) for image in images)
    targets = (
        "<h2>Targets</h2><table><tr><th>target</th><th></th><th>measured</th></tr>"
        + checks
        + "</table>"
        if checks
        else ""
    )
    page = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>{html.escape(comparison.model.name)}: routing simulation</title>
<style>{_STYLE}</style></head><body>
<h1>{html.escape(comparison.model.name)}</h1>
<p>{html.escape(comparison.model.file.description)}</p>
<p>{comparison.model.agent_count} agents; offered load {load:.0%} of the team's chat capacity
over the day (busiest hour {busiest:.0%}); {comparison.replications} replication(s) on the same
customers for every strategy; ± is the half-width of the {comparison.confidence:.0%} confidence
interval (t distribution).</p>
<h2>Strategies compared</h2>
<table><tr><th>metric</th>{head}</tr>{rows}</table>
{targets}
<h2>Expected wait: predicted at arrival vs realised</h2>
<table><tr><th></th>{head}</tr>{error_rows}</table>
<h2>Plots</h2>
{figures}
</body></html>
"""
    path.write_text(page, encoding="utf-8")
    return path


def write_report(comparison: Comparison, directory: Path, *, plots: bool = True) -> list[Path]:
    """Every output file into `directory`: JSON, CSV, PNG plots and the HTML report."""
    directory.mkdir(parents=True, exist_ok=True)
    written = [write_json(comparison, directory / "summary.json")]
    written += write_csv(comparison, directory)
    images = write_plots(comparison, directory) if plots else []
    written += images
    written.append(write_html(comparison, directory / "report.html", images))
    return written


def staffing_table(result: StaffingResult) -> Table:
    table = Table(
        title=(
            f"{result.scenario}: agents needed for {result.target:.0%} answered within "
            f"{result.within:g} s ({result.strategy.value} routing)"
        )
    )
    table.add_column("agents", justify="right")
    table.add_column(f"answered <= {result.within:g} s", justify="right")
    table.add_column("abandoned", justify="right")
    table.add_column("occupancy", justify="right")
    table.add_column("mean wait (s)", justify="right")
    table.add_column("")
    for point in result.points:
        table.add_row(
            str(point.agents),
            format_value("service_level", point.service_level.mean, point.service_level.half_width),
            format_value("abandonment", point.abandonment.mean, point.abandonment.half_width),
            format_value("occupancy", point.occupancy.mean, point.occupancy.half_width),
            format_value("mean_wait", point.mean_wait.mean, point.mean_wait.half_width),
            "<- fewest meeting the target" if point.agents == result.needed else "",
        )
    return table


def staffing_data(result: StaffingResult) -> dict[str, Any]:
    data: dict[str, Any] = _clean(
        {
            "scenario": result.scenario,
            "strategy": result.strategy.value,
            "target": result.target,
            "within_seconds": result.within,
            "group": result.group,
            "scenario_agents": result.base_agents,
            "needed": result.needed,
            "curve": [
                {
                    "agents": point.agents,
                    "service_level": _estimate_data(point.service_level),
                    "abandonment": _estimate_data(point.abandonment),
                    "occupancy": _estimate_data(point.occupancy),
                    "mean_wait": _estimate_data(point.mean_wait),
                }
                for point in result.points
            ],
        }
    )
    return data
