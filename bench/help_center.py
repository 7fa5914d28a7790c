"""Help-center page render times: `python -m bench.help_center`.

Fills a SQLite database with a synthetic help center (the corpus of `bench.search`:
English, Polish, Italian and Greek articles from a fixed seed, published, in six
categories), then requests the public pages through the real app (in process,
through the ASGI stack, like `TestClient` does): the home page of each language,
article pages (Markdown rendering, translations, related articles, the vote form)
and search result pages with typed, misspelt and partial queries. Prints
percentiles of wall-clock time and of the process CPU time each request used.

The first request builds the search index from the database; its time is printed
on its own. The per-IP rate limit is lifted for the run.
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

from fastapi.testclient import TestClient
from sqlalchemy import insert

from bench.search import SEED, make_corpus, make_queries, percentile
from helpline.adapters.db.base import utcnow
from helpline.adapters.db.engine import make_engine
from helpline.adapters.db.migrate import upgrade_to_head
from helpline.adapters.db.models import Article
from helpline.adapters.ratelimit import SlidingWindowLimiter
from helpline.settings import Settings
from helpline.web.app import create_app

CATEGORIES = ("billing", "account", "technical", "orders", "sales", "general")
HEADER = "| {title:<16} |      n |     p50 |     p95 |     p99 |     max | p95 CPU |"
RULE = "| " + " | ".join(["-" * 16, "-----:", *["------:"] * 5]) + " |"


@dataclass(slots=True)
class Timings:
    """Milliseconds per request: wall-clock, and CPU time of the whole process (the
    app handles requests in worker threads)."""

    wall: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)

    def measure(self, run: Callable[[], object]) -> None:
        cpu_start, wall_start = time.process_time(), time.perf_counter()
        run()
        self.wall.append((time.perf_counter() - wall_start) * 1000.0)
        self.cpu.append((time.process_time() - cpu_start) * 1000.0)


def row(name: str, timings: Timings) -> str:
    wall = timings.wall
    return (
        f"| {name:<16} | {len(wall):>6} | {statistics.median(wall):>7.2f} "
        f"| {percentile(wall, 0.95):>7.2f} | {percentile(wall, 0.99):>7.2f} "
        f"| {max(wall):>7.2f} | {percentile(timings.cpu, 0.95):>7.2f} |"
    )


def _markdown(title: str, body: str, rng: random.Random) -> str:
    sentences = [part.strip() for part in body.split(".") if part.strip()]
    paragraphs: list[str] = []
    while sentences:
        take = rng.randint(2, 4)
        paragraphs.append(". ".join(sentences[:take]) + ".")
        sentences = sentences[take:]
    if len(paragraphs) > 3:
        paragraphs.insert(2, "## " + title.split()[0].capitalize())
        paragraphs[1] = paragraphs[1].replace(" ", " **", 1).replace(" ", "** ", 2)
    return "# " + title + "\n\n" + "\n\n".join(paragraphs)


def fill(database: Path, article_count: int) -> list[tuple[str, str]]:
    """Write the articles; returns (slug, language) of each."""
    engine = make_engine(f"sqlite:///{database}")
    upgrade_to_head(engine)
    rng = random.Random(SEED)
    corpus = make_corpus(article_count // 4, 8_000)
    now = utcnow()
    rows = []
    for doc_id, fields, language in corpus.articles:
        rows.append(
            {
                "slug": f"article-{doc_id}",
                "title": fields["title"],
                "body_markdown": _markdown(fields["title"], fields["body"], rng),
                "category": CATEGORIES[doc_id % len(CATEGORIES)],
                "language": language,
                "published": True,
                "internal": False,
                "helpful_yes": 0,
                "helpful_no": 0,
                "revision": 0,
                "created_at": now,
                "updated_at": now,
            }
        )
    with engine.begin() as connection:
        for start in range(0, len(rows), 1_000):
            connection.execute(insert(Article), rows[start : start + 1_000])
    engine.dispose()
    return [(str(item["slug"]), str(item["language"])) for item in rows]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--articles", type=int, default=2_000, help="articles in all")
    parser.add_argument("--requests", type=int, default=400, help="requests of each kind")
    arguments = parser.parse_args()

    with tempfile.TemporaryDirectory() as directory:
        database = Path(directory) / "help.sqlite3"
        articles = fill(database, arguments.articles)
        corpus = make_corpus(arguments.articles // 4, 8_000)
        queries = make_queries(corpus, arguments.requests)
        settings = Settings(
            environment="test",
            data_dir=Path(directory) / "data",
            secret_key="bench-secret-key-0123456789-abcdefghijklmnop",  # type: ignore[arg-type]
            database_url=f"sqlite:///{database}",
            migrate_on_start=False,
            run_worker_in_server=False,
        )
        app = create_app(settings, start_worker=False)
        app.state.help_rate_limiter = SlidingWindowLimiter(10**9, 1.0)
        rng = random.Random(SEED + 2)
        with TestClient(app) as client:
            started = time.perf_counter()
            assert client.get("/help").status_code == 200
            build = time.perf_counter() - started
            timings = {"home": Timings(), "article": Timings(), "search": Timings()}
            languages = sorted({language for _, language in articles})
            for index in range(arguments.requests):
                language = languages[index % len(languages)]
                timings["home"].measure(lambda lang=language: client.get(f"/help?lang={lang}"))
                slug, _ = rng.choice(articles)
                timings["article"].measure(lambda s=slug: client.get(f"/help/articles/{s}"))
                query = queries[index % len(queries)]
                path = f"/help/search?q={quote(query.text)}"
                if query.language:
                    path += f"&lang={query.language}"
                timings["search"].measure(lambda p=path: client.get(p))
    print(
        f"{arguments.articles} articles in {len(languages)} languages; "
        f"first request (builds the index): {build:.1f} s"
    )
    print(HEADER.format(title="page (ms)"))
    print(RULE)
    for name, measured in timings.items():
        print(row(name, measured))


if __name__ == "__main__":
    main()
