"""Search latency on a synthetic help center: `python -m bench.search`.

Builds 10,000 articles in English, Polish, Italian and Greek (2,500 each) from a
fixed seed: real support words with their inflections mixed with a Zipf-distributed
vocabulary of made-up words, so the index has a realistic number of distinct
terms. Then runs a stream of queries of each kind the help center sends (whole
words, misspelt words, words still being typed, queries without a language) and
prints latency percentiles. "after a write" re-indexes one article before each
query, which empties every cache: the worst case a reader meets.
Also times the canned-response picker's search over 2,000 responses.
"""

# ruff: noqa: RUF001 (Greek text on purpose)

from __future__ import annotations

import argparse
import gc
import os
import random
import resource
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import partial
from itertools import accumulate

from helpline.domain.search import SearchIndex

SEED = 20240601


def _words(text: str) -> list[str]:
    return text.split()


SUPPORT_WORDS: dict[str, list[str]] = {
    "en": _words(
        """refund refunds refunded order orders ordering password passwords reset account
        accounts login payment payments invoice invoices delivery deliveries shipping
        address addresses cancel cancelled cancellation subscription subscriptions plan
        upgrade billing charge charged card cards tracking return returns exchange
        warranty discount coupon email verification security settings profile export"""
    ),
    "pl": _words(
        """zwrot zwrotu zwroty zamówienie zamówienia zamówień hasło hasła konto konta
        zalogować logowanie płatność płatności faktura faktury dostawa dostawy wysyłka
        adres adresu anulować anulowanie subskrypcja subskrypcji plan rozliczenia
        karta karty śledzenie reklamacja reklamacji wymiana gwarancja rabat kupon
        weryfikacja bezpieczeństwo ustawienia profil eksport"""
    ),
    "it": _words(
        """rimborso rimborsi ordine ordini password reimpostare account accesso pagamento
        pagamenti fattura fatture consegna consegne spedizione indirizzo indirizzi
        annullare annullamento abbonamento abbonamenti piano fatturazione carta carte
        tracciamento reso resi cambio garanzia sconto coupon verifica sicurezza
        impostazioni profilo esportazione"""
    ),
    "el": _words(
        """επιστροφή επιστροφές επιστροφής παραγγελία παραγγελίες παραγγελίας κωδικός
        λογαριασμός λογαριασμού σύνδεση πληρωμή πληρωμές πληρωμής τιμολόγιο τιμολόγια
        παράδοση αποστολή αποστολής διεύθυνση ακύρωση συνδρομή συνδρομής πρόγραμμα
        χρέωση κάρτα κάρτες παρακολούθηση ανταλλαγή εγγύηση έκπτωση κουπόνι επαλήθευση
        ασφάλεια ρυθμίσεις προφίλ εξαγωγή"""
    ),
}

FILLER: dict[str, list[str]] = {
    "en": _words("the a to of and in is for you your can we our with on this"),
    "pl": _words("i w na z do się nie to że jest jak po aby dla od"),
    "it": _words("il la di e che in per un una con non è del della le"),
    "el": _words("και το η να σε για με του της από που θα ένα μια στο"),
}

SYLLABLES: dict[str, list[str]] = {
    "en": _words(
        """ba be bi bo ca co de di fa fe ga go ha he ka ke la le li lo ma me mi mo
        na ne no pa pe pi po ra re ri ro sa se si so ta te ti to va ve wa we"""
    ),
    "pl": _words(
        """ba be bi bo ce ci cz dą dę dz gó ja je ka ko ła le li ło ma mi mo na ni
        no ńa pa po pr ra rz ró sa si sk sz śc ta to wa we wi wy za ze zi ża źr"""
    ),
    "it": _words(
        """ba be bi bo ca ce ci co da de di do fa fe fi ga ge gi la le li lo ma me
        mi mo na ne ni no pa pe pi po ra re ri ro sa se si so ta te ti to va ve vi"""
    ),
    "el": _words(
        """βα βε βι γα γε δα δε δι ζα θα κα κε κι κο λα λε λι λο μα με μι μο να νε
        νι ξα πα πε πι πο ρα ρε ρι ρο σα σε σι σο τα τε τι το φα φε χα χε ψα ωρ"""
    ),
}

ENDINGS: dict[str, list[str]] = {
    "en": ["", "", "s", "ed", "ing", "er"],
    "pl": ["", "a", "u", "y", "em", "ie", "ach", "ów"],
    "it": ["o", "i", "a", "e", "are", "ato"],
    "el": _words("ος ου ο α ες ών ής ή"),
}


@dataclass(frozen=True, slots=True)
class Corpus:
    articles: list[tuple[int, dict[str, str], str]]
    words: dict[str, list[str]]


def make_vocabulary(rng: random.Random, language: str, size: int) -> list[str]:
    words: set[str] = set()
    syllables, endings = SYLLABLES[language], ENDINGS[language]
    while len(words) < size:
        stem = "".join(rng.choice(syllables) for _ in range(rng.randint(2, 4)))
        words.add(stem + rng.choice(endings))
    vocabulary = sorted(words)
    rng.shuffle(vocabulary)
    return vocabulary


def make_corpus(articles_per_language: int, vocabulary_size: int) -> Corpus:
    rng = random.Random(SEED)
    articles: list[tuple[int, dict[str, str], str]] = []
    words_by_language: dict[str, list[str]] = {}
    doc_id = 0
    for language in SUPPORT_WORDS:
        vocabulary = SUPPORT_WORDS[language] + make_vocabulary(rng, language, vocabulary_size)
        words_by_language[language] = vocabulary
        # Bodies follow Zipf's law; titles name their topic with rarer words.
        body_weights = list(accumulate(1.0 / (rank + 1) ** 1.07 for rank in range(len(vocabulary))))
        title_weights = list(accumulate(1.0 / (rank + 1) ** 0.5 for rank in range(len(vocabulary))))

        def sentence(
            length: int,
            vocab: list[str] = vocabulary,
            weights: list[float] = body_weights,
            filler: list[str] = FILLER[language],
        ) -> str:
            picked = rng.choices(vocab, cum_weights=weights, k=length)
            mixed = [word if rng.random() < 0.65 else rng.choice(filler) for word in picked]
            return " ".join(mixed)

        for _ in range(articles_per_language):
            doc_id += 1
            title_length = rng.randint(3, 7)
            title = " ".join(rng.choices(vocabulary, cum_weights=title_weights, k=title_length))
            paragraphs = [
                sentence(rng.randint(8, 20)).capitalize() + "." for _ in range(rng.randint(6, 25))
            ]
            articles.append(
                (doc_id, {"title": title.capitalize(), "body": " ".join(paragraphs)}, language)
            )
    return Corpus(articles=articles, words=words_by_language)


def misspell(rng: random.Random, word: str) -> str:
    position = rng.randrange(1, len(word) - 1)
    kind = rng.choice(["drop", "swap", "replace", "insert"])
    if kind == "drop":
        return word[:position] + word[position + 1 :]
    if kind == "swap":
        return word[:position] + word[position + 1] + word[position] + word[position + 2 :]
    letter = rng.choice(word)
    if kind == "replace":
        return word[:position] + letter + word[position + 1 :]
    return word[:position] + letter + word[position:]


@dataclass(frozen=True, slots=True)
class Query:
    kind: str
    text: str
    language: str | None
    target: int | None


def make_queries(corpus: Corpus, count: int) -> list[Query]:
    rng = random.Random(SEED + 1)
    queries: list[Query] = []
    for _ in range(count):
        doc_id, fields, language = rng.choice(corpus.articles)
        title_words = fields["title"].lower().split()
        long_words = [word for word in title_words if len(word) >= 5] or title_words
        kind = rng.choice(["title words", "misspelt word", "being typed", "any language"])
        if kind == "title words":
            picked = rng.sample(title_words, k=min(len(title_words), rng.randint(2, 3)))
            queries.append(Query(kind, " ".join(picked), language, doc_id))
        elif kind == "misspelt word":
            others = [word for word in title_words if word not in long_words[:1]]
            text = " ".join([misspell(rng, long_words[0]), *others[:1]])
            queries.append(Query(kind, text, language, doc_id))
        elif kind == "being typed":
            head = title_words[:2]
            last = head[-1][: max(2, len(head[-1]) * 2 // 3)]
            queries.append(Query(kind, " ".join([*head[:-1], last]), language, None))
        else:
            picked = rng.sample(title_words, k=min(len(title_words), 2))
            queries.append(Query(kind, " ".join(picked), None, doc_id))
    return queries


HEADER = "| {title:<28} |      n |     p50 |     p95 |     p99 |     max | p95 CPU | {extra:<15} |"
RULE = "| " + " | ".join(["-" * 28, "-----:", *["------:"] * 5, "-" * 15]) + " |"


@dataclass(slots=True)
class Timings:
    """Wall-clock and CPU milliseconds per call.

    CPU time (this thread only) is what the search itself costs; wall-clock time
    also holds whatever else the machine was doing, which on a busy machine is
    most of the tail.
    """

    wall: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)

    def measure(self, run: Callable[[], object]) -> None:
        cpu_start, wall_start = time.thread_time(), time.perf_counter()
        run()
        self.wall.append((time.perf_counter() - wall_start) * 1000.0)
        self.cpu.append((time.thread_time() - cpu_start) * 1000.0)

    def extend(self, other: Timings) -> None:
        self.wall.extend(other.wall)
        self.cpu.extend(other.cpu)


def percentile(samples: Sequence[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def row(name: str, timings: Timings, extra: str = "") -> str:
    wall = timings.wall
    return (
        f"| {name:<28} | {len(wall):>6} | {statistics.median(wall):>7.2f} "
        f"| {percentile(wall, 0.95):>7.2f} | {percentile(wall, 0.99):>7.2f} "
        f"| {max(wall):>7.2f} | {percentile(timings.cpu, 0.95):>7.2f} | {extra:<15} |"
    )


def bench_articles(articles_per_language: int, vocabulary_size: int, query_count: int) -> None:
    corpus = make_corpus(articles_per_language, vocabulary_size)
    index: SearchIndex[int] = SearchIndex()
    gc.collect()
    build = Timings()
    build.measure(lambda: index.add_many(corpus.articles))
    queries = make_queries(corpus, query_count)
    print(
        f"{len(corpus.articles)} articles in {len(SUPPORT_WORDS)} languages, indexed in "
        f"{build.wall[0] / 1000:.1f} s (CPU {build.cpu[0] / 1000:.1f} s); "
        f"peak memory of the process {peak_memory_mb():.0f} MB; "
        f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs\n"
    )
    print(HEADER.format(title="query kind (ms)", extra="found in top 10"))
    print(RULE)
    by_kind: dict[str, Timings] = {}
    found: dict[str, list[bool]] = {}
    everything = Timings()
    for query in queries:
        hits: list[int] = []

        def run(query: Query = query, hits: list[int] = hits) -> None:
            hits.extend(hit.doc_id for hit in index.search(query.text, query.language))

        by_kind.setdefault(query.kind, Timings()).measure(run)
        if query.target is not None:
            found.setdefault(query.kind, []).append(query.target in hits)
    for kind, timings in by_kind.items():
        everything.extend(timings)
        hits_found = found.get(kind)
        share = f"{100 * sum(hits_found) / len(hits_found):.0f} %" if hits_found else "-"
        print(row(kind, timings, share))
    print(row("all kinds", everything))
    after_write = Timings()
    doc_id, fields, language = corpus.articles[0]
    for query in queries[: max(1, query_count // 4)]:
        index.add(doc_id, fields, language)
        after_write.measure(partial(index.search, query.text, query.language))
    print(row("all kinds, after a write", after_write))


def bench_picker(response_count: int, query_count: int) -> None:
    rng = random.Random(SEED + 2)
    corpus = make_corpus(response_count // 4, 2_000)
    index: SearchIndex[int] = SearchIndex(
        field_weights={"shortcut": 4.0, "title": 3.0, "body": 1.0}, snippet_chars=120
    )
    for doc_id, fields, language in corpus.articles:
        words = fields["title"].lower().split()
        shortcut = "-".join(words[:2])
        body = fields["body"][:600]
        index.add(doc_id, {"shortcut": shortcut, "title": fields["title"], "body": body}, language)
    timings = Timings()
    for _ in range(query_count):
        _, fields, language = rng.choice(corpus.articles)
        word = rng.choice(fields["title"].lower().split())
        typed = word[: rng.randint(2, max(2, len(word)))]
        timings.measure(partial(index.search, typed, language))
    print()
    print(HEADER.format(title="canned-response picker (ms)", extra=""))
    print(RULE)
    print(row(f"{len(corpus.articles)} responses, typing", timings))


def peak_memory_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--articles", type=int, default=10_000, help="articles in all")
    parser.add_argument("--vocabulary", type=int, default=8_000, help="made-up words per language")
    parser.add_argument("--queries", type=int, default=2_000)
    parser.add_argument("--responses", type=int, default=2_000)
    arguments = parser.parse_args()
    bench_articles(
        arguments.articles // len(SUPPORT_WORDS), arguments.vocabulary, arguments.queries
    )
    bench_picker(arguments.responses, arguments.queries // 2)


if __name__ == "__main__":
    main()
