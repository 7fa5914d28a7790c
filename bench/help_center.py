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

Then, end to end through the API with an agent's token: the chat widget's article
suggestions (`GET /api/v1/widget/{key}/articles/search` with a word being typed),
and the composer's canned-response picker (`GET /api/v1/canned/suggest` for a
conversation, over `--responses` canned responses, each hit rendered for the
conversation's contact), with the prefix typed and with nothing typed yet.
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from urllib.parse import quote

from fastapi.testclient import TestClient
from pydantic import SecretStr
from sqlalchemy import insert
from sqlalchemy.orm import Session

from bench.search import SEED, make_corpus, make_queries, percentile
from helpline.adapters.db.base import utcnow
from helpline.adapters.db.engine import make_engine
from helpline.adapters.db.migrate import upgrade_to_head
from helpline.adapters.db.models import Article, CannedResponse, User
from helpline.adapters.passwords import hash_password
from helpline.adapters.ratelimit import SlidingWindowLimiter
from helpline.services.api_tokens import do_create_api_token
from helpline.settings import Settings
from helpline.web.app import create_app

CATEGORIES = ("billing", "account", "technical", "orders", "sales", "general")
PRIORITIES = ("urgent", "high", "normal", "low")
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


def fill_canned(database: Path, response_count: int) -> str:
    """Write the canned responses (shared, tagged) and an admin; returns their API token."""
    engine = make_engine(f"sqlite:///{database}")
    rng = random.Random(SEED + 3)
    corpus = make_corpus(max(1, response_count // 4), 2_000)
    now = utcnow()
    topics = ("refunds", "orders", "billing", "account", "delivery", "technical")
    rows = []
    for doc_id, fields, language in corpus.articles[:response_count]:
        words = fields["title"].lower().split()
        rows.append(
            {
                "shortcut": "-".join(words[:2]) + f"-{doc_id}",
                "title": fields["title"],
                "body": 'Hi {{ contact.first_name | default("there") }}, '
                + fields["body"][:500]
                + ' Order #{{ contact.custom.order_number | default("?") }}.'
                + " {{ agent.first_name }}",
                "language": language,
                "tags": [f"topic:{rng.choice(topics)}", "urgency:" + rng.choice(PRIORITIES)],
                "scope": "shared",
                "archived": False,
                "draft": False,
                "usage_count": rng.randint(0, 50),
                "revision": 0,
                "created_at": now,
                "updated_at": now,
            }
        )
    with engine.begin() as connection:
        for start in range(0, len(rows), 1_000):
            connection.execute(insert(CannedResponse), rows[start : start + 1_000])
    with Session(engine) as db:
        admin = User(
            email="bench@example.com",
            name="Bench Admin",
            password_hash=hash_password("bench-password-123"),
            role="admin",
        )
        db.add(admin)
        db.commit()
        token, _ = do_create_api_token(db, admin, name="bench", now=now)
    engine.dispose()
    return token


def bench_api(
    client: TestClient, token: str, queries: list[str], requests: int
) -> dict[str, Timings]:
    """Widget suggestions and the canned picker, through the app."""
    auth = {"Authorization": f"Bearer {token}"}
    inbox = client.post(
        "/api/v1/inboxes", json={"name": "Bench chat", "channel": "chat"}, headers=auth
    )
    assert inbox.status_code == 201, inbox.text
    public_key = inbox.json()["public_key"]
    conversation = client.post(
        "/api/v1/conversations",
        json={
            "inbox_id": inbox.json()["id"],
            "contact": {"email": "sarah@example.com", "name": "Sarah Connor", "language": "en"},
            "subject": "Where is my order?",
            "category": "orders",
        },
        headers=auth,
    )
    assert conversation.status_code == 201, conversation.text
    conversation_id = conversation.json()["id"]
    timings = {"widget suggest": Timings(), "picker, typing": Timings(), "picker, empty": Timings()}
    for index in range(requests):
        typed = queries[index % len(queries)]
        timings["widget suggest"].measure(
            partial(
                client.get,
                f"/api/v1/widget/{public_key}/articles/search",
                params={"q": typed, "limit": 3},
            )
        )
        prefix = typed.split()[0][: 2 + index % 5]
        timings["picker, typing"].measure(
            partial(
                client.get,
                "/api/v1/canned/suggest",
                params={"conversation_id": conversation_id, "q": prefix},
                headers=auth,
            )
        )
        timings["picker, empty"].measure(
            partial(
                client.get,
                "/api/v1/canned/suggest",
                params={"conversation_id": conversation_id},
                headers=auth,
            )
        )
    return timings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--articles", type=int, default=2_000, help="articles in all")
    parser.add_argument("--requests", type=int, default=400, help="requests of each kind")
    parser.add_argument("--responses", type=int, default=2_000, help="canned responses")
    arguments = parser.parse_args()

    with tempfile.TemporaryDirectory() as directory:
        database = Path(directory) / "help.sqlite3"
        articles = fill(database, arguments.articles)
        token = fill_canned(database, arguments.responses)
        corpus = make_corpus(arguments.articles // 4, 8_000)
        queries = make_queries(corpus, arguments.requests)
        settings = Settings(
            environment="test",
            data_dir=Path(directory) / "data",
            secret_key=SecretStr("bench-secret-key-0123456789-abcdefghijklmnop"),
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
                timings["home"].measure(partial(client.get, f"/help?lang={language}"))
                slug, _ = rng.choice(articles)
                timings["article"].measure(partial(client.get, f"/help/articles/{slug}"))
                query = queries[index % len(queries)]
                path = f"/help/search?q={quote(query.text)}"
                if query.language:
                    path += f"&lang={query.language}"
                timings["search"].measure(partial(client.get, path))
            api_timings = bench_api(
                client, token, [query.text for query in queries], arguments.requests
            )
    print(
        f"{arguments.articles} articles in {len(languages)} languages; "
        f"first request (builds the index): {build:.1f} s"
    )
    print(HEADER.format(title="page (ms)"))
    print(RULE)
    for name, measured in timings.items():
        print(row(name, measured))
    print()
    print(f"{arguments.responses} canned responses")
    print(HEADER.format(title="API (ms)"))
    print(RULE)
    for name, measured in api_timings.items():
        print(row(name, measured))


if __name__ == "__main__":
    main()
