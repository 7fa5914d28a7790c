"""Simulator speed: one simulated day of 10,000 chats and 50 agents, per strategy.

    python -m bench.simulate [--chats 10000] [--agents 50] [--replications 1]

A retailer open 06:00-22:00 with three shifts, chats at 3 per agent, a 15%
slowdown per extra chat, breaks, escalation rules and SLA policies: everything the
engine does, including the expected-wait estimate recorded for every arrival.
Prints the wall-clock seconds of each run; the target (issue 5) is under 30 s per
strategy and replication on the 2-core machine.
"""

from __future__ import annotations

import argparse
import time

from helpline.domain.routing.config import Strategy
from helpline.simulation.arrivals import generate_customers
from helpline.simulation.engine import simulate
from helpline.simulation.metrics import run_metrics
from helpline.simulation.scenario import (
    COMPARED_STRATEGIES,
    Model,
    compile_scenario,
    day_load,
    read_scenario_file,
)
from helpline.simulation.staffing import split_agents

TARGET_SECONDS = 30.0

SCENARIO = """
name = "Benchmark retailer"
[simulation]
start = 2026-03-02T00:00:00+00:00
hours = 24
seed = 50
[routing]
concurrency_slowdown = 0.15
[[teams]]
name = "frontline"
categories = ["billing", "orders", "sales", "general", "account", "technical"]
[[teams]]
name = "tier2"
tier = 2
categories = ["technical", "billing", "account"]
[[agents]]
group = "early"
count = {early}
teams = ["frontline"]
languages = ["en", "de"]
shifts = ["06:00-14:00"]
shift_stagger_minutes = 3
breaks = [{{ at = "10:00", minutes = 30 }}]
break_stagger_minutes = 6
[[agents]]
group = "middle"
count = {middle}
teams = ["frontline"]
shifts = ["10:00-18:00"]
shift_stagger_minutes = 3
breaks = [{{ at = "13:30", minutes = 30 }}]
break_stagger_minutes = 6
pomodoro = {{ work_minutes = 90, break_minutes = 5 }}
[[agents]]
group = "late"
count = {late}
teams = ["frontline"]
languages = ["en", "de"]
shifts = ["14:00-22:00"]
shift_stagger_minutes = 3
breaks = [{{ at = "18:00", minutes = 30 }}]
break_stagger_minutes = 6
[[agents]]
group = "tier 2"
count = {senior}
teams = ["tier2", "frontline"]
languages = ["en", "de"]
tier = 2
shifts = ["08:00-20:00"]
[customers]
first_time_share = 0.25
returning_share = 0.05
plans = {{ none = 0.5, free = 0.25, paid = 0.2, enterprise = 0.05 }}
lifetime_value = {{ dist = "lognormal", mean = 220, cv = 1.5 }}
orders = {{ dist = "exponential", mean = 4 }}
patience_minutes = {{ dist = "exponential", mean = 4 }}
languages = {{ en = 0.85, de = 0.15 }}
[[topics]]
name = "failed payment"
share = 0.12
category = "billing"
intent = "payment_failed"
handling_minutes = {{ dist = "lognormal", mean = 4.5, cv = 0.8 }}
[[topics]]
name = "orders"
share = 0.5
category = "orders"
handling_minutes = {{ dist = "lognormal", mean = 3.5, cv = 0.8 }}
refund = {{ share = 0.2, amount = {{ dist = "lognormal", mean = 80, cv = 1.0 }} }}
[[topics]]
name = "product question"
share = 0.3
category = "sales"
handling_minutes = {{ dist = "lognormal", mean = 3.5, cv = 0.9 }}
[[topics]]
name = "website error"
share = 0.08
category = "technical"
handling_minutes = {{ dist = "lognormal", mean = 7, cv = 1.0 }}
[arrivals]
chats_per_day = {chats}
profile = [0, 0, 0, 0, 0, 0, 11, 18, 23, 23, 30, 35, 37, 38, 35, 34, 38, 38, 24, 18, 15, 15, 0, 0]
[rules]
builtin = true
tier1_minutes = 15
tier2_team = "tier2"
[[sla]]
name = "urgent"
priority = "urgent"
first_response_minutes = 1
[[sla]]
name = "default"
first_response_minutes = 3
"""


def bench_model(chats: int, agents: int) -> Model:
    groups = split_agents({"early": 16, "middle": 15, "late": 15, "senior": 4}, agents)
    text = SCENARIO.format(chats=chats, **groups)
    return compile_scenario(read_scenario_file(text, origin="benchmark scenario"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chats", type=int, default=10_000)
    parser.add_argument("--agents", type=int, default=50)
    parser.add_argument("--replications", type=int, default=1)
    parser.add_argument(
        "--strategies",
        default=",".join(s.value for s in COMPARED_STRATEGIES),
        help="comma-separated",
    )
    parser.add_argument(
        "--no-estimates",
        action="store_true",
        help="skip the expected-wait estimate at every arrival",
    )
    args = parser.parse_args()
    model = bench_model(args.chats, args.agents)
    offered, busiest = day_load(model)
    print(
        f"{model.name}: {model.agent_count} agents, ~{model.expected_arrivals():,.0f} chats, "
        f"offered load {offered:.0%} (busiest hour {busiest:.0%})"
    )
    header = (
        f"{'strategy':<14}{'rep':>4}{'chats':>8}{'seconds':>9}{'< 30 s':>8}"
        f"{'answered<=45s':>15}{'abandoned':>11}{'chats/s':>10}"
    )
    print(header)
    print("-" * len(header))
    worst = 0.0
    for replication in range(args.replications):
        started = time.perf_counter()
        customers = generate_customers(model, replication)
        drawing = time.perf_counter() - started
        for name in args.strategies.split(","):
            strategy = Strategy(name.strip())
            started = time.perf_counter()
            result = simulate(
                model,
                customers,
                strategy,
                replication=replication,
                record_expected_wait=not args.no_estimates,
            )
            seconds = time.perf_counter() - started
            worst = max(worst, seconds)
            metrics = run_metrics(result)
            print(
                f"{strategy.value:<14}{replication:>4}{len(customers):>8,}{seconds:>9.2f}"
                f"{'yes' if seconds < TARGET_SECONDS else 'NO':>8}"
                f"{metrics['service_level']:>15.1%}{metrics['abandonment']:>11.1%}"
                f"{len(customers) / seconds:>10,.0f}"
            )
        print(f"(drawing the customers of replication {replication}: {drawing:.2f} s)")
    print(f"slowest run: {worst:.2f} s (target < {TARGET_SECONDS:.0f} s)")


if __name__ == "__main__":
    main()
