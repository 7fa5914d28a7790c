import pytest

from helpline.domain.search import SearchIndex
from tests.domain.search.articles import ARTICLES


@pytest.fixture(scope="module")
def help_center() -> SearchIndex[str]:
    index: SearchIndex[str] = SearchIndex()
    for key, (language, title, body) in ARTICLES.items():
        index.add(key, {"title": title, "body": body}, language)
    return index


def first(index: SearchIndex[str], query: str, language: str | None = None) -> str | None:
    hits = index.search(query, language)
    return hits[0].doc_id if hits else None


def test_fixture_has_at_least_fifty_articles_in_four_languages(
    help_center: SearchIndex[str],
) -> None:
    assert len(help_center) >= 50
    assert set(help_center.languages) == {"en", "pl", "it", "el"}


@pytest.mark.parametrize(
    ("query", "language", "expected"),
    [
        # typed as written
        ("refund", "en", "en-refund"),
        ("reset password", "en", "en-password"),
        ("download invoice", "en", "en-invoice"),
        ("two-factor", "en", "en-2fa"),
        ("kod rabatowy", "pl", "pl-discount"),
        ("codice sconto", "it", "it-discount"),
        ("τιμολόγιο", "el", "el-invoice"),
        # inflected
        ("refunds", "en", "en-refund"),
        ("cancelling subscriptions", "en", "en-cancel"),
        ("zwrot", "pl", "pl-refund"),
        ("zwrotu", "pl", "pl-refund"),
        ("zamówienia", "pl", "pl-order-status"),
        ("zamówienie", "pl", "pl-order-status"),
        ("faktura", "pl", "pl-invoice"),
        ("rimborsi", "it", "it-refund"),
        ("rimborso", "it", "it-refund"),
        ("ordini", "it", "it-order-status"),
        ("ordine", "it", "it-order-status"),
        ("παραγγελίες", "el", "el-order-status"),
        ("συνδρομές", "el", "el-cancel"),
        ("λογαριασμός διαγραφή", "el", "el-delete"),
        # without diacritics or accents
        ("zalogowac", "pl", "pl-login"),
        ("platnosc odrzucona", "pl", "pl-payment-failed"),
        ("haslo", "pl", "pl-password"),
        ("παραγγελια", "el", "el-order-status"),
        ("ΕΠΙΣΤΡΟΦΗ ΧΡΗΜΑΤΩΝ", "el", "el-refund"),
        # misspelt
        ("pasword", "en", "en-password"),
        ("subscripton", "en", "en-cancel"),
        ("invocie", "en", "en-invoice"),
        ("adress change", "en", "en-address"),
        ("autentcation two factor", "en", "en-2fa"),
        ("subskrybcja", "pl", "pl-cancel"),
        ("spedizone", "it", "it-address"),
        ("abbonamneto", "it", "it-cancel"),
        ("τιμολογο", "el", "el-invoice"),
        # still being typed
        ("passw", "en", "en-password"),
        ("subscr", "en", "en-cancel"),
        ("fattu", "it", "it-invoice"),
        ("τιμολ", "el", "el-invoice"),
        # any language
        ("zwrotu", None, "pl-refund"),
        ("rimborsi", None, "it-refund"),
        ("επιστροφή χρημάτων", None, "el-refund"),
        ("forgot pasword", None, "en-password"),
    ],
)
def test_the_right_article_comes_first(
    help_center: SearchIndex[str], query: str, language: str | None, expected: str
) -> None:
    assert first(help_center, query, language) == expected


def test_language_restricts_results(help_center: SearchIndex[str]) -> None:
    hits = help_center.search("password", "it")

    assert hits
    assert {hit.language for hit in hits} == {"it"}
    assert help_center.search("password", "fr") == []


def test_title_match_beats_body_match() -> None:
    index: SearchIndex[int] = SearchIndex()
    index.add(
        1, {"title": "Shipping times", "body": "A refund is possible for late parcels."}, "en"
    )
    index.add(2, {"title": "Refund policy", "body": "Money back within 14 days."}, "en")

    hits = index.search("refund", "en")

    assert [hit.doc_id for hit in hits] == [2, 1]
    assert hits[0].score > hits[1].score > 0


def test_more_matching_words_rank_higher() -> None:
    index: SearchIndex[int] = SearchIndex()
    index.add(1, {"title": "Reset", "body": "Reset the router."}, "en")
    index.add(2, {"title": "Reset password", "body": "Reset your password by email."}, "en")

    assert [hit.doc_id for hit in index.search("reset password", "en")] == [2, 1]


def test_long_bodies_do_not_win_by_size() -> None:
    index: SearchIndex[int] = SearchIndex()
    filler = " ".join(["warehouse parcel courier"] * 200)
    index.add(1, {"title": "Courier notes", "body": f"Invoice mentioned once. {filler}"}, "en")
    index.add(2, {"title": "Billing", "body": "Invoice copies are in Billing."}, "en")

    assert first_int(index, "invoice") == 2


def first_int(index: SearchIndex[int], query: str) -> int | None:
    hits = index.search(query)
    return hits[0].doc_id if hits else None


def test_exact_word_beats_typo_neighbour() -> None:
    index: SearchIndex[int] = SearchIndex()
    index.add(1, {"title": "Form", "body": "Fill in the form."}, "en")
    index.add(2, {"title": "From", "body": "Sent from the shop."}, "en")

    assert [hit.doc_id for hit in index.search("form", "en")] == [1]


def test_short_words_are_not_typo_matched() -> None:
    index: SearchIndex[int] = SearchIndex()
    index.add(1, {"title": "Tax", "body": "VAT and tax."}, "en")

    assert index.search("tex ", "en") == []


def test_two_typos_only_on_long_words() -> None:
    index: SearchIndex[int] = SearchIndex()
    index.add(1, {"title": "Subscription", "body": "Monthly plan."}, "en")
    index.add(2, {"title": "Plan", "body": "Pick a plan."}, "en")

    assert first_int(index, "sbuscripton ") == 1
    assert index.search("palm ", "en") == []


def test_highlights_mark_matches_and_escape_html() -> None:
    index: SearchIndex[int] = SearchIndex()
    index.add(
        1,
        {
            "title": "Password <reset> & recovery",
            "body": 'Click <a href="x">Forgot password</a> & check "spam". <script>x()</script>',
        },
        "en",
    )

    (hit,) = index.search("passwords", "en")

    assert hit.highlights["title"] == "<mark>Password</mark> &lt;reset&gt; &amp; recovery"
    assert hit.highlights["body"] == (
        "Click &lt;a href=&quot;x&quot;&gt;Forgot <mark>password</mark>&lt;/a&gt; &amp; "
        "check &quot;spam&quot;. &lt;script&gt;x()&lt;/script&gt;"
    )


def test_highlights_mark_inflections_typos_and_prefixes_in_the_written_form() -> None:
    index: SearchIndex[int] = SearchIndex()
    index.add(1, {"title": "Zamówienia", "body": "Status zamówienia i zamówień."}, "pl")
    index.add(2, {"title": "Password", "body": "Passwords expire."}, "en")

    (polish,) = index.search("zamowienie", "pl")
    (typo,) = index.search("pasword", "en")
    (prefix,) = index.search("passw", "en")

    assert polish.highlights["body"] == "Status <mark>zamówienia</mark> i <mark>zamówień</mark>."
    assert typo.highlights["body"] == "<mark>Passwords</mark> expire."
    assert prefix.highlights["title"] == "<mark>Password</mark>"


def test_long_bodies_are_cut_to_a_snippet_around_the_matches() -> None:
    index: SearchIndex[int] = SearchIndex(snippet_chars=80)
    body = "Intro text about shipping. " * 20 + "Your refund arrives in five days. " + "More. " * 50
    index.add(1, {"title": "Help", "body": body}, "en")

    (hit,) = index.search("refund", "en")
    snippet = hit.highlights["body"]

    assert "<mark>refund</mark>" in snippet
    assert snippet.startswith("…") and snippet.endswith("…")
    assert len(snippet.replace("<mark>", "").replace("</mark>", "")) <= 82


def test_last_word_is_a_prefix_only_while_typing() -> None:
    index: SearchIndex[int] = SearchIndex()
    index.add(1, {"title": "Password reset", "body": ""}, "en")

    assert first_int(index, "reset pass") == 1
    assert [hit.doc_id for hit in index.search("pass ", "en")] == []


def test_prefix_of_a_stop_word_still_completes() -> None:
    index: SearchIndex[int] = SearchIndex()
    index.add(1, {"title": "Tools for teams", "body": ""}, "en")

    assert first_int(index, "to") == 1
    assert index.search("to ") == []


def test_remove_forgets_the_document_and_its_words() -> None:
    index: SearchIndex[int] = SearchIndex()
    index.add(1, {"title": "Refund policy", "body": "Refunds within 14 days."}, "en")
    index.add(2, {"title": "Shipping", "body": "Parcels ship daily."}, "en")

    assert index.remove(1) is True
    assert index.remove(1) is False

    assert 1 not in index
    assert len(index) == 1
    assert index.search("refund") == []
    assert index.search("refnd") == []
    assert index.search("refu") == []
    assert first_int(index, "parcels") == 2


def test_adding_again_replaces_the_document() -> None:
    index: SearchIndex[int] = SearchIndex()
    index.add(1, {"title": "Old title", "body": "Refunds."}, "en")
    index.add(1, {"title": "Rimborso", "body": "Rimborsi."}, "it")

    assert len(index) == 1
    assert index.search("refunds") == []
    (hit,) = index.search("rimborso")
    assert (hit.doc_id, hit.language) == (1, "it")


def test_where_filters_before_the_limit() -> None:
    index: SearchIndex[int] = SearchIndex()
    for doc_id in range(1, 21):
        index.add(doc_id, {"title": "Refund", "body": f"Refund case {doc_id}."}, "en")

    hits = index.search("refund", limit=5, where=lambda doc_id: doc_id % 2 == 0)

    assert len(hits) == 5
    assert all(hit.doc_id % 2 == 0 for hit in hits)


def test_limit_and_ties_are_deterministic() -> None:
    index: SearchIndex[int] = SearchIndex()
    for doc_id in range(10):
        index.add(doc_id, {"title": "Parcel", "body": "Parcel words."}, "en")

    assert [hit.doc_id for hit in index.search("parcel", limit=3)] == [0, 1, 2]
    assert index.search("parcel", limit=0) == []


@pytest.mark.parametrize("query", ["", "   ", "!!!", "the and of", "?" * 10_000])
def test_empty_or_meaningless_queries_find_nothing(query: str) -> None:
    index: SearchIndex[int] = SearchIndex()
    index.add(1, {"title": "The refund", "body": "And the rest."}, "en")

    assert index.search(query, "en") == []


def test_custom_fields_and_weights() -> None:
    index: SearchIndex[int] = SearchIndex(
        field_weights={"shortcut": 4.0, "title": 2.0, "body": 1.0}
    )
    index.add(1, {"shortcut": "refund-status", "title": "Refund status"}, "en")
    index.add(2, {"title": "Where is it", "body": "Your refund status is on the page."}, "en")

    hits = index.search("refund status")

    assert [hit.doc_id for hit in hits] == [1, 2]
    assert set(hits[0].highlights) == {"shortcut", "title", "body"}

    with pytest.raises(ValueError, match="unknown fields"):
        index.add(3, {"subject": "x"}, "en")


def test_search_without_highlights_returns_no_snippets() -> None:
    index: SearchIndex[int] = SearchIndex()
    index.add(1, {"title": "Refund", "body": "Refund."}, "en")

    (hit,) = index.search("refund", highlight_matches=False)

    assert hit.highlights == {}
