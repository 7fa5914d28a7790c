"""The literal prefilter of keyword rules never changes what a rule finds."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from helpline.ai.categories import load_bitext_rows
from helpline.ai.prefilter import needed_literals, prefilter_for
from helpline.ai.rules import CATEGORY_RULES, URGENCY_RULES, KeywordRule, near
from helpline.ai.text import fold
from tests.ai.test_rules import URGENT

RULES = URGENCY_RULES + CATEGORY_RULES


def _unfiltered(rule: KeywordRule, folded: str) -> str | None:
    found = rule.compiled.search(folded)
    return None if found is None else str(found.group(0)).strip()


def test_a_pattern_needs_its_longest_plain_run() -> None:
    assert needed_literals(r"\bfraud") == frozenset({"fraud"})
    assert needed_literals(r"identity theft") == frozenset({"identity theft"})
    assert needed_literals(r"\bcan.?t (?:log|sign) ?in") == frozenset({"can"})


def test_an_alternation_needs_one_of_its_branches() -> None:
    assert needed_literals(r"payment|paiement|zahlung") == frozenset(
        {"payment", "paiement", "zahlung"}
    )
    needed = needed_literals(near("payment|zahlung", "fail|declin"))
    assert needed is not None
    assert {"payment", "zahlung"} <= needed or {"fail", "declin"} <= needed


def test_what_may_be_absent_is_not_needed() -> None:
    assert needed_literals(r"\d+") is None
    assert needed_literals(r"(?:abc)?\w+") is None
    assert needed_literals(r"abc|\d") is None  # one branch has no literal
    assert needed_literals(r"(?i)fraud") is None  # case-blind: a literal would lie
    assert prefilter_for([r"\bfraud", r"\d+"]) is None


def test_every_shipped_rule_has_a_prefilter() -> None:
    """Otherwise the rule is searched on every text (correct, but slow)."""
    assert all(rule.literals for rule in RULES)


@pytest.mark.parametrize(("language", "text", "reason"), URGENT)
def test_the_rules_still_find_every_urgent_example(language: str, text: str, reason: str) -> None:
    folded = " ".join(fold(text).split())
    rule = next(rule for rule in URGENCY_RULES if rule.label == reason)
    assert rule.search(folded) == _unfiltered(rule, folded) is not None


def test_the_prefilter_agrees_with_the_regex_on_the_shipped_data() -> None:
    texts = [row.text for row in load_bitext_rows("test")]
    texts += [text for _, text, _ in URGENT]
    hits = 0
    for text in texts:
        folded = " ".join(fold(text).split())
        for rule in RULES:
            found = rule.search(folded)
            assert found == _unfiltered(rule, folded), (rule.label, text)
            hits += found is not None
    assert hits >= 25  # the data does exercise the rules


_FILLER = ["my", "the", "was", "not", "ich", "nie", "\u03c4\u03bf", "2fa", "!", "'", "-"]
_WORDS = st.sampled_from(
    [*sorted({literal for rule in RULES for literal in rule.literals or ()}), *_FILLER]
)


@settings(max_examples=400, deadline=None)
@given(st.lists(st.one_of(_WORDS, st.text(max_size=6)), max_size=12))
def test_the_prefilter_agrees_with_the_regex_on_any_text(parts: list[str]) -> None:
    folded = " ".join(fold(" ".join(parts)).split())
    for rule in RULES:
        assert rule.search(folded) == _unfiltered(rule, folded)


def test_an_unparsable_pattern_has_no_prefilter() -> None:
    with pytest.raises(re.error):
        re.compile("(")
    assert needed_literals("(") is None
