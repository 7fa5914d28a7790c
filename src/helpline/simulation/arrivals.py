"""The customers of one replication: when they write in, about what, and how they behave.

Everything random about a customer is drawn here, once, before any strategy runs:
arrival time, topic, plan and value, language, what they write, patience, handling
work and the reply delays of the agents they will meet. Each purpose has its own
stream (see `streams`), so every strategy and every staffing level of a comparison
meets the very same customers.
"""

from __future__ import annotations

import bisect
import dataclasses
import math
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import accumulate

from helpline.domain.enums import Channel, Plan, Priority
from helpline.simulation.distributions import Distribution
from helpline.simulation.scenario import Model, Topic, mean_handling_seconds
from helpline.simulation.streams import stream

REPLY_DRAWS = 3
"""Reply-delay draws kept per customer: one per agent they may be offered to."""

RETURNING_WINDOW = 4 * 3600.0
"""A returning customer first wrote within this many seconds before."""

HIGH_VALUE_PLANS = frozenset({Plan.PAID, Plan.ENTERPRISE})
HIGH_VALUE_TOP_SHARE = 0.2
"""High value: a paid or enterprise plan, or lifetime value in the top 20%."""


@dataclass(frozen=True, slots=True)
class Customer:
    index: int
    arrival: float
    """Simulated seconds since the start."""
    channel: Channel
    topic: Topic
    priority: Priority
    plan: Plan | None
    lifetime_value_cents: int
    orders_count: int
    order_value_cents: int
    first_time: bool
    language: str | None
    text: str
    refund_cents: int | None
    patience: float
    """Seconds they wait in the queue for an agent before leaving (inf: never)."""
    work: float
    """Seconds of handling at full speed (one chat at a time)."""
    reply_draws: tuple[float, ...]
    """Uniform numbers for the reply delays of the agents offered this chat."""
    returning_of: int | None
    """Index of this customer's earlier conversation today, if any."""
    high_value: bool

    @property
    def category(self) -> str:
        return self.topic.category


class _Choice:
    """A weighted choice made from a single uniform number."""

    def __init__(self, options: Sequence[object], weights: Sequence[float]) -> None:
        total = float(sum(weights))
        self.options = list(options)
        self.bounds = [weight / total for weight in accumulate(weights)]

    def pick(self, uniform: float) -> object:
        index = bisect.bisect_right(self.bounds, uniform)
        return self.options[min(index, len(self.options) - 1)]


def _poisson_times(model: Model, replication: int) -> list[float]:
    rng = stream(model.seed, replication, "arrivals")
    times: list[float] = []
    for hour, rate in enumerate(model.hourly_rates):
        end = min((hour + 1) * 3600.0, model.horizon)
        if rate <= 0:
            continue
        at = hour * 3600.0
        while True:
            at += -math.log1p(-rng.random()) / rate
            if at >= end:
                break
            times.append(at)
    return times


def _fallback_topic(model: Model, category: str) -> Topic:
    """A topic for a traced category that no topic of the scenario describes."""
    mean = mean_handling_seconds(model.topics)
    return Topic(
        name=category,
        share=0.0,
        category=category,
        intent=None,
        priority=Priority.NORMAL,
        handling_seconds=Distribution(dist="lognormal", mean=mean, cv=1.0),
        texts=(),
        refund_share=0.0,
        refund_amount=None,
        order_value=None,
    )


def generate_customers(model: Model, replication: int) -> list[Customer]:
    """The customers of replication `replication`, in order of arrival."""
    section = model.file.customers
    attributes = stream(model.seed, replication, "customers")
    patience_stream = stream(model.seed, replication, "patience")
    handling_stream = stream(model.seed, replication, "handling")
    reply_stream = stream(model.seed, replication, "replies")
    patience = section.patience_minutes.scaled(60)

    topics = _Choice(model.topics, [topic.share for topic in model.topics])
    plans = _Choice(list(section.plans), list(section.plans.values()))
    languages = _Choice(list(section.languages), list(section.languages.values()))
    channels = _Choice(list(section.channels), list(section.channels.values()))
    by_name = {topic.name: topic for topic in model.topics}
    by_category: dict[str, _Choice] = {}
    for category in {topic.category for topic in model.topics}:
        matching = [topic for topic in model.topics if topic.category == category]
        by_category[category] = _Choice(matching, [topic.share for topic in matching])
    fallback: dict[str, Topic] = {}

    if model.trace is not None:
        times = [row.at for row in model.trace]
    else:
        times = _poisson_times(model, replication)

    drafts: list[Customer] = []
    for index, arrival in enumerate(times):
        row = model.trace[index] if model.trace is not None else None
        topic_draw = attributes.random()
        topic: Topic
        if row is None:
            topic = topics.pick(topic_draw)  # type: ignore[assignment]
        elif row.topic is not None and row.topic in by_name:
            topic = by_name[row.topic]
        elif row.category in by_category:
            topic = by_category[row.category].pick(topic_draw)  # type: ignore[assignment]
        else:
            topic = fallback.setdefault(row.category, _fallback_topic(model, row.category))

        first_time_draw, plan_draw, value_draw, orders_draw = (attributes.random() for _ in "1234")
        language_draw, channel_draw, text_draw, refund_draw = (attributes.random() for _ in "1234")
        refund_amount_draw, order_value_draw, returning_draw, earlier_draw = (
            attributes.random() for _ in "1234"
        )
        first_time = (
            row.first_time if row is not None else first_time_draw < section.first_time_share
        )
        plan: Plan | None
        if row is not None:
            plan = row.plan
        elif first_time:
            plan = None
        else:
            chosen = plans.pick(plan_draw)
            plan = None if chosen == "none" else Plan(str(chosen))
        if first_time:
            lifetime_value, orders = 0.0, 0
        else:
            value_model = section.lifetime_value
            if isinstance(value_model, dict):
                value_model = value_model.get(plan.value if plan else "none", Distribution.fixed(0))
            lifetime_value = value_model.draw(value_draw)
            orders = int(section.orders.draw(orders_draw))
        text = topic.name
        cumulative = 0.0
        for candidate, share in topic.texts:
            cumulative += share
            if text_draw < cumulative:
                text = candidate
                break
        refund: int | None = None
        if topic.refund_amount is not None and refund_draw < topic.refund_share:
            refund = round(topic.refund_amount.draw(refund_amount_draw) * 100)
        order_value = (
            0
            if topic.order_value is None
            else round(topic.order_value.draw(order_value_draw) * 100)
        )
        returning_of: int | None = None
        if index and returning_draw < section.returning_share and not first_time:
            first = bisect.bisect_left(times, arrival - RETURNING_WINDOW, 0, index)
            if first < index:
                returning_of = first + min(int(earlier_draw * (index - first)), index - first - 1)
        channel = row.channel if row is not None else Channel(str(channels.pick(channel_draw)))
        language = row.language if row is not None else str(languages.pick(language_draw))
        drafts.append(
            Customer(
                index=index,
                arrival=arrival,
                channel=channel,
                topic=topic,
                priority=topic.priority,
                plan=plan,
                lifetime_value_cents=round(lifetime_value * 100),
                orders_count=orders,
                order_value_cents=order_value,
                first_time=first_time,
                language=language,
                text=text,
                refund_cents=refund,
                patience=math.inf
                if channel == Channel.EMAIL
                else patience.draw(patience_stream.random()),
                work=topic.handling_seconds.draw(handling_stream.random()),
                reply_draws=tuple(reply_stream.random() for _ in range(REPLY_DRAWS)),
                returning_of=returning_of,
                high_value=plan in HIGH_VALUE_PLANS,
            )
        )

    values = sorted(customer.lifetime_value_cents for customer in drafts)
    if not values:
        return drafts
    threshold = values[min(len(values) - 1, math.floor(len(values) * (1 - HIGH_VALUE_TOP_SHARE)))]
    return [
        customer
        if customer.high_value
        or customer.lifetime_value_cents <= 0
        or customer.lifetime_value_cents < threshold
        else dataclasses.replace(customer, high_value=True)
        for customer in drafts
    ]
