"""Independent, reproducible random streams: one per purpose and replication.

A stream is named by (seed, replication, purpose), so the arrivals of replication
3 are the same whichever strategy is simulated and whatever else the scenario
draws: each strategy meets the very same customers (common random numbers).
"""

from __future__ import annotations

import random


def stream(seed: int, replication: int, purpose: str) -> random.Random:
    """A generator seeded from its name; string seeds hash the same on every run."""
    return random.Random(f"helpline-simulate:{seed}:{replication}:{purpose}")
