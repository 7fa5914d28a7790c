"""Small labelled sets for fast classifier tests, cut from the shipped Bitext data."""

from __future__ import annotations

import random
from collections import defaultdict

from helpline.ai.categories import LabelledMessage, load_bitext_rows


def bitext_sample(
    per_category: int, seed: int = 0
) -> tuple[list[LabelledMessage], list[LabelledMessage]]:
    """(train, held-out) with `per_category` training rows and 20 held-out rows per category."""
    by_category: dict[str, list[LabelledMessage]] = defaultdict(list)
    for row in load_bitext_rows("train"):
        by_category[row.category].append(row)
    rng = random.Random(seed)
    train, held_out = [], []
    for category in sorted(by_category):
        rows = by_category[category][:]
        rng.shuffle(rows)
        train += rows[:per_category]
        held_out += rows[per_category : per_category + 20]
    return train, held_out
