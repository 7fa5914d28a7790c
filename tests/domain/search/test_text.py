import pytest

from helpline.domain.search.text import Analyzer, fold, normalise_language


@pytest.mark.parametrize(
    ("written", "folded"),
    [
        ("Zamówienie", "zamowienie"),
        ("ZAŁOGOWAĆ", "zalogowac"),
        ("Łódź", "lodz"),
        ("perché", "perche"),
        ("Κωδικός", "κωδικοσ"),
        ("ΠΑΡΑΓΓΕΛΊΑ", "παραγγελια"),
        ("Straße", "strasse"),
        ("plain", "plain"),
    ],
)
def test_fold_removes_case_and_diacritics(written: str, folded: str) -> None:
    assert fold(written) == folded


@pytest.mark.parametrize(
    ("code", "expected"),
    [("pl-PL", "pl"), ("EN_gb", "en"), ("gr", "el"), ("el", "el"), (None, "und"), ("", "und")],
)
def test_language_codes_are_normalised(code: str | None, expected: str) -> None:
    assert normalise_language(code) == expected


def keys(language: str, word: str) -> set[str]:
    forms = Analyzer(language).forms(word)
    assert forms is not None, word
    return set(forms[1])


@pytest.mark.parametrize(
    ("language", "words"),
    [
        ("en", ["refund", "refunds", "refunded", "Refunding"]),
        ("pl", ["zamówienie", "zamówienia", "zamówień", "zamowienia"]),
        ("pl", ["zwrot", "zwrotu", "zwroty"]),
        ("it", ["ordine", "ordini"]),
        ("it", ["rimborso", "rimborsi"]),
        ("el", ["παραγγελία", "παραγγελίες", "παραγγελίας", "ΠΑΡΑΓΓΕΛΙΕΣ", "παραγγελιες"]),
        ("el", ["λογαριασμός", "λογαριασμού", "λογαριασμό", "λογαριασμοσ"]),
    ],
)
def test_inflections_share_a_key(language: str, words: list[str]) -> None:
    shared = set.intersection(*(keys(language, word) for word in words))

    assert shared, words


def test_word_typed_without_diacritics_meets_the_written_one() -> None:
    assert keys("pl", "zalogowac") & keys("pl", "zalogować")


@pytest.mark.parametrize(
    ("language", "word"),
    [("en", "the"), ("en", "Your"), ("pl", "się"), ("pl", "ktory"), ("it", "della"), ("el", "και")],
)
def test_stop_words_are_dropped(language: str, word: str) -> None:
    assert Analyzer(language).forms(word) is None


def test_negations_are_kept() -> None:
    assert Analyzer("en").forms("not") is not None
    assert Analyzer("pl").forms("nie") is not None


def test_numbers_and_unknown_languages_are_not_stemmed() -> None:
    assert keys("en", "1245") == {"1245"}
    assert keys("xx", "Orders") == {"orders"}


def test_tokens_split_on_punctuation_and_apostrophes() -> None:
    analyzer = Analyzer("it")

    assert analyzer.tokens("Dov'è l'ordine #1245? (e-mail)") == [
        "Dov",
        "è",
        "l",
        "ordine",
        "1245",
        "e",
        "mail",
    ]
