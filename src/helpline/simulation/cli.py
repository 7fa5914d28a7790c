"""`helpline simulate`: compare routing strategies and size a team on simulated traffic.

The lead mounts `simulate_app` on the main command as `helpline simulate`.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from helpline.domain.routing.config import Strategy
from helpline.simulation.compare import run_comparison
from helpline.simulation.report import (
    comparison_table,
    plot_staffing,
    speed_table,
    staffing_data,
    staffing_table,
    target_checks,
    targets_table,
    write_report,
)
from helpline.simulation.scenario import (
    Model,
    ScenarioError,
    day_load,
    load_scenario,
    read_scenario_file,
    resolve_scenario_path,
    shipped_scenarios,
)
from helpline.simulation.staffing import StaffingPoint, find_staffing

simulate_app = typer.Typer(
    help=(
        "Simulate a contact centre with Helpline's own routing code: compare strategies, "
        "check a scenario, find the staffing a service level needs."
    ),
    no_args_is_help=True,
    add_completion=False,
)

ScenarioArgument = Annotated[
    str, typer.Argument(help="A shipped scenario (see `scenarios`) or a .toml file.")
]


def _fail(message: str) -> typer.Exit:
    typer.secho(message, fg=typer.colors.RED, err=True)
    return typer.Exit(2)


def _strategies(text: str | None) -> list[Strategy] | None:
    if text is None:
        return None
    chosen = []
    for name in (part.strip() for part in text.split(",") if part.strip()):
        try:
            chosen.append(Strategy(name))
        except ValueError as error:
            known = ", ".join(strategy.value for strategy in Strategy)
            raise _fail(f"unknown strategy {name!r}; choose from {known}") from error
    if not chosen:
        raise _fail("name at least one strategy")
    return chosen


def _load(
    scenario: str,
    *,
    load: float | None = None,
    chats: float | None = None,
    hours: float | None = None,
    replications: int | None = None,
    seed: int | None = None,
) -> Model:
    try:
        return load_scenario(
            scenario,
            offered_load=load,
            chats_per_day=chats,
            hours=hours,
            replications=replications,
            seed=seed,
        )
    except ScenarioError as error:
        raise _fail(str(error)) from error


@simulate_app.command("run")
def run(
    scenario: ScenarioArgument,
    strategies: Annotated[
        str | None,
        typer.Option(help="Comma-separated strategies (default: the scenario's)."),
    ] = None,
    replications: Annotated[
        int | None, typer.Option(min=1, max=1000, help="Replications (default: the scenario's).")
    ] = None,
    seed: Annotated[int | None, typer.Option(help="Random seed (default: the scenario's).")] = None,
    load: Annotated[
        float | None,
        typer.Option(min=0.01, max=10, help="Offered load as a share of chat capacity, e.g. 0.8."),
    ] = None,
    chats: Annotated[
        float | None, typer.Option(min=1, help="Chats per day instead of an offered load.")
    ] = None,
    hours: Annotated[float | None, typer.Option(min=0.1, help="Simulated hours.")] = None,
    out: Annotated[
        Path | None,
        typer.Option(help="Folder for summary.json, CSV files, PNG plots and report.html."),
    ] = None,
    plots: Annotated[bool, typer.Option(help="Draw PNG plots (with --out).")] = True,
    jobs: Annotated[int, typer.Option(min=1, max=64, help="Replications run in parallel.")] = 1,
    confidence: Annotated[
        float, typer.Option(min=0.5, max=0.9999, help="Confidence level of the intervals.")
    ] = 0.95,
    json_output: Annotated[
        bool, typer.Option("--json", help="Print the summary as JSON instead of tables.")
    ] = False,
) -> None:
    """Compare routing strategies on the same simulated customers."""
    model = _load(
        scenario, load=load, chats=chats, hours=hours, replications=replications, seed=seed
    )
    console = Console(stderr=json_output)
    chosen = _strategies(strategies)
    offered, busiest = day_load(model)
    console.print(
        f"[bold]{model.name}[/]: {model.agent_count} agents, "
        f"~{model.expected_arrivals():,.0f} chats expected, offered load {offered:.0%} "
        f"(busiest hour {busiest:.0%})"
    )
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    ) as progress:
        task = progress.add_task("simulating", total=None)

        def advance(done: int, total: int, label: str) -> None:
            progress.update(task, completed=done, total=total, description=label)

        comparison = run_comparison(
            model,
            strategies=chosen,
            replications=replications,
            confidence=confidence,
            jobs=jobs,
            on_progress=advance,
        )
    if json_output:
        from helpline.simulation.report import comparison_data

        typer.echo(json.dumps(comparison_data(comparison), indent=2))
    else:
        console.print(comparison_table(comparison))
        checks = target_checks(comparison)
        if checks:
            console.print(targets_table(checks))
        console.print(speed_table(comparison))
    if out is not None:
        written = write_report(comparison, out, plots=plots)
        console.print(f"wrote {len(written)} files to {out} (open {out / 'report.html'})")


@simulate_app.command("staffing")
def staffing(
    scenario: ScenarioArgument,
    target: Annotated[
        float, typer.Option(min=0.01, max=0.999, help="Share to answer within --within.")
    ] = 0.9,
    within: Annotated[
        float | None, typer.Option(min=1, help="Seconds (default: the scenario's target).")
    ] = None,
    strategy: Annotated[Strategy, typer.Option(help="Routing strategy.")] = Strategy.PRIORITY,
    group: Annotated[
        str | None, typer.Option(help="Resize only this agent group (default: all in proportion).")
    ] = None,
    replications: Annotated[int | None, typer.Option(min=1, max=1000)] = None,
    max_agents: Annotated[int | None, typer.Option(min=1, help="Give up above this.")] = None,
    load: Annotated[float | None, typer.Option(min=0.01, max=10)] = None,
    chats: Annotated[float | None, typer.Option(min=1)] = None,
    out: Annotated[
        Path | None, typer.Option(help="Folder for staffing.json and staffing.png.")
    ] = None,
) -> None:
    """The fewest agents that answer the target share of chats in time, with the curve."""
    model = _load(scenario, load=load, chats=chats, replications=replications)
    console = Console()
    console.print(
        f"[bold]{model.name}[/]: ~{model.expected_arrivals():,.0f} chats; "
        f"{model.agent_count} agents in the scenario"
    )
    with console.status("simulating staffing levels") as status:

        def tried(point: StaffingPoint) -> None:
            status.update(f"{point.agents} agents: {point.service_level.mean:.1%} answered in time")

        try:
            result = find_staffing(
                model,
                target=target,
                within=within,
                strategy=strategy,
                group=group,
                replications=replications,
                max_agents=max_agents,
                on_point=tried,
            )
        except ScenarioError as error:
            raise _fail(str(error)) from error
    console.print(staffing_table(result))
    if result.needed is None:
        console.print("[red]no staffing level tried meets the target[/]")
    else:
        console.print(
            f"fewest agents for {target:.0%} within {result.within:g} s: [bold]{result.needed}[/]"
        )
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
        (out / "staffing.json").write_text(json.dumps(staffing_data(result), indent=2) + "\n")
        plot_staffing(result, out / "staffing.png")
        console.print(f"wrote staffing.json and staffing.png to {out}")


@simulate_app.command("scenarios")
def scenarios() -> None:
    """List the shipped scenarios."""
    for name, path in shipped_scenarios().items():
        try:
            scenario = read_scenario_file(path.read_text(encoding="utf-8"), origin=str(path))
        except ScenarioError as error:  # pragma: no cover - shipped files are tested
            typer.echo(f"{name}: INVALID ({error})")
            continue
        typer.echo(f"{name:10} {scenario.name}: {scenario.description}")


@simulate_app.command("check")
def check(scenario: ScenarioArgument) -> None:
    """Validate a scenario file and show what it describes."""
    try:
        path = resolve_scenario_path(scenario)
    except ScenarioError as error:
        raise _fail(str(error)) from error
    model = _load(str(path))
    offered, busiest = day_load(model)
    groups = ", ".join(f"{g.group} x{g.count}" for g in model.file.agents)
    typer.echo(f"{path}: valid")
    typer.echo(f"  {model.name}: {model.horizon / 3600:g} h from {model.start.isoformat()}")
    typer.echo(f"  agents: {model.agent_count} ({groups})")
    typer.echo(f"  chats expected: {model.expected_arrivals():,.0f}")
    typer.echo(f"  offered load: {offered:.0%} over the day, busiest hour {busiest:.0%}")
    typer.echo(f"  rules: {len(model.rules)}, SLA policies: {len(model.sla_policies)}")


@simulate_app.command("traffic")
def traffic(
    url: Annotated[str, typer.Option(help="The running server, e.g. http://127.0.0.1:8000.")],
    inbox: Annotated[str, typer.Option(help="The chat inbox's public key.")],
    scenario: Annotated[
        str, typer.Option(help="A shipped scenario (see `scenarios`) or a .toml file.")
    ] = "ecommerce",
    speed: Annotated[
        float,
        typer.Option(min=0.01, help="Simulated seconds per real second (10: a minute in 6 s)."),
    ] = 10.0,
    duration: Annotated[
        float | None, typer.Option(min=1, help="Real seconds to run (default: until Ctrl+C).")
    ] = None,
    max_visitors: Annotated[
        int, typer.Option(min=1, max=10000, help="Visitors chatting at once; more are skipped.")
    ] = 50,
    report_every: Annotated[
        float, typer.Option(min=0.5, help="Seconds between summary lines.")
    ] = 10.0,
) -> None:
    """Send simulated visitors to a running server through the widget protocol (load generator)."""
    from helpline.simulation.traffic import TrafficDriver

    model = _load(scenario)
    driver = TrafficDriver(
        url,
        inbox,
        model,
        speed=speed,
        max_visitors=max_visitors,
        duration=duration,
        report_every=report_every,
        echo=typer.echo,
    )
    typer.echo(f"{model.name}: visitors to {url} at {speed:g}x (Ctrl+C stops)")
    driver.start()
    try:
        while driver.running:
            time.sleep(0.2)
    except KeyboardInterrupt:
        typer.echo("stopping the visitors")
    finally:
        driver.stop()
