import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from helpline.domain.search.vocabulary import (
    PrefixIndex,
    TypoIndex,
    deletions,
    edit_distance,
    max_typos,
)


@pytest.mark.parametrize(
    ("a", "b", "distance"),
    [
        ("password", "password", 0),
        ("pasword", "password", 1),
        ("passowrd", "password", 1),
        ("passwort", "password", 1),
        ("passwords", "password", 1),
        ("pswd", "password", 4),  # beyond the limit: limit + 1
        ("abbonamneto", "abbonamento", 1),
        ("sbuscripton", "subscription", 2),
        ("", "ab", 2),
    ],
)
def test_edit_distance_counts_swaps_as_one_typo(a: str, b: str, distance: int) -> None:
    assert edit_distance(a, b, 3) == distance


def test_edit_distance_stops_at_the_limit() -> None:
    assert edit_distance("abcdefgh", "zyxwvuts", 2) == 3


@pytest.mark.parametrize(
    ("word", "typos"), [("tax", 0), ("form", 1), ("invoice", 1), ("password", 2)]
)
def test_typos_allowed_grow_with_word_length(word: str, typos: int) -> None:
    assert max_typos(word) == typos


def test_deletions() -> None:
    assert deletions("abc", 1) == {"abc", "bc", "ac", "ab"}
    assert "a" in deletions("abc", 2)


def test_typo_index_finds_neighbours_and_forgets_removed_terms() -> None:
    index = TypoIndex()
    for term in ["password", "passport", "pass", "refund"]:
        index.add(term)

    assert index.near("pasword", 1) == [("password", 1)]
    assert index.near("pasport", 1) == [("passport", 1)]
    assert index.near("refnud", 1) == [("refund", 1)]
    assert index.near("zzz", 1) == []

    index.discard("password")

    assert index.near("pasword", 1) == []
    assert index.near("pasport", 1) == [("passport", 1)]


words = st.text(alphabet="abcde", min_size=3, max_size=11)


@settings(max_examples=200, deadline=None)
@given(vocabulary=st.sets(words, min_size=1, max_size=40), query=words)
def test_typo_index_matches_a_full_scan(vocabulary: set[str], query: str) -> None:
    index = TypoIndex()
    for term in vocabulary:
        index.add(term)
    limit = max_typos(query)

    expected = sorted(
        (term, edit_distance(query, term, limit))
        for term in vocabulary
        if term != query and edit_distance(query, term, limit) <= limit
    )

    assert sorted(index.near(query, limit)) == expected


def test_prefix_index_lists_words_in_order_and_follows_changes() -> None:
    index = PrefixIndex()
    for word in ["password", "passport", "pass", "parcel", "refund"]:
        index.add(word)

    assert list(index.starting_with("pass")) == ["pass", "passport", "password"]

    index.discard("passport")
    index.add("passwords")

    assert list(index.starting_with("pass")) == ["pass", "password", "passwords"]
    assert list(index.starting_with("x")) == []
    assert len(index) == 5
