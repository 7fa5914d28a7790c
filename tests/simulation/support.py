"""Small scenarios written inline, so each test shows exactly what it simulates."""

from __future__ import annotations

from pathlib import Path
from textwrap import dedent

from helpline.simulation.scenario import Model, compile_scenario, read_scenario_file


def model_from_toml(text: str, source: Path | None = None) -> Model:
    """A compiled scenario; a trace is looked up next to `source`."""
    scenario = read_scenario_file(dedent(text), origin="test scenario")
    return compile_scenario(scenario, source=source)


def pool_scenario(
    *,
    agents: int,
    max_chats: int,
    arrivals_per_minute: float,
    handling_minutes: float,
    patience_minutes: float | None,
    hours: float,
    warmup_minutes: float = 30,
    strategy: str = "fifo",
    replications: int = 10,
    seed: int = 1,
) -> Model:
    """One pool of identical agents, exponential handling and patience, instant replies."""
    patience = (
        '{ dist = "none" }'
        if patience_minutes is None
        else f'{{ dist = "exponential", mean = {patience_minutes} }}'
    )
    return model_from_toml(
        f"""
        name = "pool of {agents} agents x {max_chats}"
        [simulation]
        hours = {hours}
        warmup_minutes = {warmup_minutes}
        drain_minutes = 240
        replications = {replications}
        seed = {seed}
        [routing]
        strategies = ["{strategy}"]
        [[agents]]
        group = "pool"
        count = {agents}
        max_chats = {max_chats}
        first_response_seconds = {{ dist = "fixed", mean = 0 }}
        [[topics]]
        name = "question"
        share = 1
        category = "general"
        handling_minutes = {{ dist = "exponential", mean = {handling_minutes} }}
        [customers]
        patience_minutes = {patience}
        [arrivals]
        chats_per_day = {arrivals_per_minute * 1440}
        """
    )
