"""Queueing-theory formulas: Erlang B, Erlang C (M/M/N) and Erlang A (M/M/N+M).

They give the long-run numbers a contact centre should expect for a given load and
staffing: the chance a customer waits, the average speed of answer, the service
level, and with Erlang A how many customers give up. The expected-wait estimate
and the simulator are checked against them. Time units are whatever the caller
uses for handling time and patience (minutes throughout Helpline).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

__all__ = [
    "ErlangA",
    "agents_needed",
    "average_speed_of_answer",
    "erlang_a",
    "erlang_b",
    "erlang_c",
    "service_level",
]


def _check(traffic: float, agents: int) -> None:
    if traffic < 0:
        raise ValueError("offered traffic cannot be negative")
    if agents < 1:
        raise ValueError("at least one agent is needed")


def erlang_b(traffic: float, agents: int) -> float:
    """Probability that all `agents` are busy when no one queues (blocking)."""
    _check(traffic, agents)
    blocking = 1.0
    for k in range(1, agents + 1):
        blocking = traffic * blocking / (k + traffic * blocking)
    return blocking


def erlang_c(traffic: float, agents: int) -> float:
    """Probability that an arriving customer has to wait (M/M/N, nobody gives up).

    `traffic` is the offered load in Erlangs: arrival rate x mean handling time.
    At or above `agents` Erlangs the queue grows without end: everyone waits.
    """
    _check(traffic, agents)
    if traffic >= agents:
        return 1.0
    blocking = erlang_b(traffic, agents)
    return agents * blocking / (agents - traffic * (1 - blocking))


def average_speed_of_answer(traffic: float, agents: int, handling_time: float) -> float:
    """Mean wait over all customers, in the unit of `handling_time`."""
    if traffic >= agents:
        return math.inf
    return erlang_c(traffic, agents) * handling_time / (agents - traffic)


def service_level(traffic: float, agents: int, handling_time: float, target_wait: float) -> float:
    """Share of customers answered within `target_wait` (same unit as handling time)."""
    if traffic >= agents:
        return 0.0
    waiting = erlang_c(traffic, agents)
    return 1 - waiting * math.exp(-(agents - traffic) * target_wait / handling_time)


def agents_needed(
    traffic: float, handling_time: float, target_wait: float, goal: float, max_agents: int = 10_000
) -> int:
    """Fewest agents that answer a `goal` share of customers within `target_wait`."""
    if not 0 < goal < 1:
        raise ValueError("the service level goal must be between 0 and 1")
    agents = max(1, math.floor(traffic) + 1)
    while agents <= max_agents:
        if service_level(traffic, agents, handling_time, target_wait) >= goal:
            return agents
        agents += 1
    raise ValueError(f"more than {max_agents} agents would be needed")


@dataclass(frozen=True, slots=True)
class ErlangA:
    """Long-run figures of a queue where waiting customers may give up."""

    p_wait: float
    """Chance an arriving customer finds every agent busy."""
    p_abandon: float
    """Chance a customer gives up before being answered."""
    occupancy: float
    """Share of agent time spent serving."""
    average_speed_of_answer: float
    """Mean time in queue over all customers (also those who give up)."""
    service_level: float
    """Share of all customers answered within the target wait."""


def erlang_a(
    arrival_rate: float,
    handling_time: float,
    mean_patience: float,
    agents: int,
    target_wait: float,
) -> ErlangA:
    """Erlang A (M/M/N+M): exponential handling times and exponential patience.

    The queue length is a birth-death chain; the answered-within-target share is
    the chance a tagged arrival reaches an agent before both the target time and
    its own patience run out, computed by uniformisation (numerically stable).
    """
    if arrival_rate <= 0 or handling_time <= 0 or mean_patience <= 0:
        raise ValueError("rates, handling time and patience must be positive")
    _check(arrival_rate * handling_time, agents)
    service_rate = 1 / handling_time
    give_up_rate = 1 / mean_patience
    all_busy_rate = agents * service_rate

    # Weights relative to the states without a queue (which sum to 1): state N has
    # weight B(A, N); k waiting customers multiply it by arrivals / (N*mu + i*theta).
    blocking = erlang_b(arrival_rate * handling_time, agents)
    queue_weights = [blocking]  # k = 0 customers waiting, all agents busy
    total = 1.0
    weight = blocking
    k = 0
    while True:
        k += 1
        weight *= arrival_rate / (all_busy_rate + k * give_up_rate)
        if weight < 1e-18 * total and arrival_rate < all_busy_rate + k * give_up_rate:
            break
        if k > 1_000_000:
            raise ValueError("the queue does not settle; check the inputs")
        queue_weights.append(weight)
        total += weight
    states_with_queue = [w / total for w in queue_weights]  # P(N + k customers present)
    p_wait = sum(states_with_queue)
    mean_queue = sum(k * p for k, p in enumerate(states_with_queue))
    p_abandon = give_up_rate * mean_queue / arrival_rate
    occupancy = arrival_rate * (1 - p_abandon) * handling_time / agents
    answered_at_once = 1 - p_wait
    answered_in_time = _answered_within(states_with_queue, all_busy_rate, give_up_rate, target_wait)
    return ErlangA(
        p_wait=p_wait,
        p_abandon=p_abandon,
        occupancy=occupancy,
        average_speed_of_answer=mean_queue / arrival_rate,
        service_level=answered_at_once + answered_in_time,
    )


def _answered_within(
    start: list[float], all_busy_rate: float, give_up_rate: float, target_wait: float
) -> float:
    """Mass answered within `target_wait` for arrivals who find k customers ahead.

    A tagged arrival with k ahead moves to k-1 at rate N*mu + k*theta (an answer
    or someone ahead gives up), is answered from k = 0 at rate N*mu, and gives up
    itself at rate theta. Uniformisation in slices keeps Poisson weights in range.
    """
    if target_wait <= 0:
        return 0.0
    states = len(start)
    leave = [all_busy_rate + k * give_up_rate for k in range(states)]
    uniform_rate = leave[-1] + give_up_rate
    slices = max(1, math.ceil(uniform_rate * target_wait / 50))
    step = target_wait / slices
    mean_jumps = uniform_rate * step
    vector = list(start)
    answered = 0.0
    for _ in range(slices):
        poisson = math.exp(-mean_jumps)
        covered = poisson
        result = [p * poisson for p in vector]
        answered_slice = 0.0
        current = vector
        current_answered = 0.0
        n = 0
        while covered < 1 - 1e-15 and n < 10_000:
            n += 1
            following = [0.0] * states
            current_answered += current[0] * all_busy_rate / uniform_rate
            for k in range(states):
                mass = current[k]
                if mass == 0.0:
                    continue
                following[k] += mass * (1 - (leave[k] + give_up_rate) / uniform_rate)
                if k > 0:
                    following[k - 1] += mass * leave[k] / uniform_rate
            current = following
            poisson *= mean_jumps / n
            covered += poisson
            answered_slice += poisson * current_answered
            for k in range(states):
                result[k] += poisson * current[k]
        # Mass still unabsorbed at the slice end, and the answered share within it.
        answered += answered_slice + (1 - covered) * current_answered
        vector = result
    return answered
