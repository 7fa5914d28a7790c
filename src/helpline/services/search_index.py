"""The in-memory search indexes of articles and canned responses, kept in step with
the database.

Each server process builds its indexes from the database on first use and keeps
them current in two ways:

- writes in this process apply their change right after their commit
  (`KnowledgeIndex.apply_article` / `apply_canned`);
- before every use a single cheap query reads a *stamp*: the ``knowledge`` counter
  (bumped, under its row lock, by every article or canned-response write in any
  process), plus the row counts and highest ids (which catch rows written around
  the services, e.g. by the demo seed). When the stamp moved, only rows whose
  ``revision`` is newer than the cached one are reloaded, and deleted ids dropped;
  anything that does not add up afterwards triggers a full rebuild.

The web layer gives each app its own index (`use_index`), so two apps in one
process (tests) never share a cache; code outside the web layer gets one per engine.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from datetime import datetime

from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from helpline.adapters.db.counters import next_value
from helpline.adapters.db.models import Article, CannedResponse, Counter
from helpline.domain.search import Hit, SearchIndex
from helpline.domain.search.text import normalise_language
from helpline.services.markdown import markdown_text

KNOWLEDGE_COUNTER = "knowledge"
"""Counter bumped by every article and canned-response write (cache version)."""

ARTICLE_FIELDS = {"title": 3.0, "body": 1.0}
CANNED_FIELDS = {"shortcut": 4.0, "title": 3.0, "body": 1.0}

_INDEX_KEY = "helpline_knowledge_index"


@dataclass(frozen=True, slots=True)
class ArticleEntry:
    """What search results and lists need to know about an article without a query."""

    id: int
    slug: str
    title: str
    category: str
    language: str
    published: bool
    internal: bool
    inbox_id: int | None
    translation_of_id: int | None
    updated_at: datetime
    revision: int

    @property
    def public(self) -> bool:
        return self.published and not self.internal

    def in_help_center(self, inbox_id: int | None) -> bool:
        """Published for customers, and shown in this help center (None: the main one)."""
        return self.public and (self.inbox_id is None or self.inbox_id == inbox_id)


@dataclass(frozen=True, slots=True)
class CannedEntry:
    """A canned response as the picker ranks it."""

    id: int
    shortcut: str
    title: str
    body: str
    language: str
    tags: tuple[str, ...]
    scope: str
    owner_id: int | None
    team_id: int | None
    archived: bool
    draft: bool
    usage_count: int
    revision: int


@dataclass(frozen=True, slots=True)
class Stamp:
    revision: int
    articles: int
    canned: int
    max_article_id: int
    max_canned_id: int


def bump_revision(db: Session) -> int:
    """Take the next knowledge revision for a write (call before the write's checks).

    The counter's row lock (PostgreSQL) or the write lock (SQLite) is held until the
    transaction ends, so knowledge writes are serialised and revisions commit in
    order: a reader that sees revision N sees every row written up to N.
    """
    return next_value(db, KNOWLEDGE_COUNTER)


def read_stamp(db: Session) -> Stamp:
    revision = select(Counter.value).where(Counter.name == KNOWLEDGE_COUNTER).scalar_subquery()
    row = db.execute(
        select(
            revision,
            select(func.count(Article.id)).scalar_subquery(),
            select(func.count(CannedResponse.id)).scalar_subquery(),
            select(func.coalesce(func.max(Article.id), 0)).scalar_subquery(),
            select(func.coalesce(func.max(CannedResponse.id), 0)).scalar_subquery(),
        )
    ).one()
    return Stamp(
        revision=int(row[0] or 0),
        articles=int(row[1]),
        canned=int(row[2]),
        max_article_id=int(row[3]),
        max_canned_id=int(row[4]),
    )


def article_entry(article: Article) -> ArticleEntry:
    return ArticleEntry(
        id=article.id,
        slug=article.slug,
        title=article.title,
        category=article.category,
        language=normalise_language(article.language),
        published=article.published,
        internal=article.internal,
        inbox_id=article.inbox_id,
        translation_of_id=article.translation_of_id,
        updated_at=article.updated_at,
        revision=article.revision,
    )


def canned_entry(response: CannedResponse) -> CannedEntry:
    return CannedEntry(
        id=response.id,
        shortcut=response.shortcut,
        title=response.title,
        body=response.body,
        language=normalise_language(response.language),
        tags=tuple(response.tags or ()),
        scope=response.scope,
        owner_id=response.owner_id,
        team_id=response.team_id,
        archived=response.archived,
        draft=response.draft,
        usage_count=response.usage_count,
        revision=response.revision,
    )


def _article_document(article: Article) -> dict[str, str]:
    return {"title": article.title, "body": markdown_text(article.body_markdown, article.title)}


def _canned_document(response: CannedResponse) -> dict[str, str]:
    # "refund-status" is searched as the words "refund status".
    shortcut = response.shortcut.replace("-", " ").replace("_", " ")
    return {"shortcut": shortcut, "title": response.title, "body": response.body}


class KnowledgeIndex:
    """Articles and canned responses, searchable, for one database. Thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._articles: dict[int, ArticleEntry] = {}
        self._canned: dict[int, CannedEntry] = {}
        self._article_search: SearchIndex[int] = SearchIndex(field_weights=ARTICLE_FIELDS)
        self._canned_search: SearchIndex[int] = SearchIndex(field_weights=CANNED_FIELDS)
        self._stamp: Stamp | None = None
        self.full_builds = 0
        """How many times the whole index was built (for tests and metrics)."""

    # ------------------------------------------------------------------ reading

    def articles(self, db: Session) -> dict[int, ArticleEntry]:
        """Every article by id (a snapshot: do not modify), current as of now."""
        self.sync(db)
        with self._lock:
            return dict(self._articles)

    def article(self, db: Session, article_id: int) -> ArticleEntry | None:
        self.sync(db)
        with self._lock:
            return self._articles.get(article_id)

    def canned(self, db: Session) -> dict[int, CannedEntry]:
        """Every canned response by id (a snapshot), current as of now."""
        self.sync(db)
        with self._lock:
            return dict(self._canned)

    def search_articles(
        self,
        db: Session,
        query: str,
        *,
        language: str | None,
        limit: int,
        where: Callable[[ArticleEntry], bool] | None = None,
    ) -> list[tuple[ArticleEntry, Hit[int]]]:
        """Best matches first, among the articles `where` accepts."""
        self.sync(db)
        with self._lock:
            entries = self._articles
            keep = None if where is None else (lambda doc_id: where(entries[doc_id]))
            hits = self._article_search.search(query, language, limit, where=keep)
            return [(entries[hit.doc_id], hit) for hit in hits]

    def search_canned(
        self,
        db: Session,
        query: str,
        *,
        limit: int,
        where: Callable[[CannedEntry], bool] | None = None,
        highlight_matches: bool = True,
    ) -> list[tuple[CannedEntry, Hit[int]]]:
        """Best matches first; `highlight_matches=False` skips the highlights when
        only the ranking is wanted (much cheaper for many hits)."""
        self.sync(db)
        with self._lock:
            entries = self._canned
            keep = None if where is None else (lambda doc_id: where(entries[doc_id]))
            hits = self._canned_search.search(
                query, None, limit, where=keep, highlight_matches=highlight_matches
            )
            return [(entries[hit.doc_id], hit) for hit in hits]

    # ------------------------------------------------------------------ keeping current

    def sync(self, db: Session) -> None:
        """Catch up with the database when another process (or the seed) changed it."""
        stamp = read_stamp(db)
        with self._lock:
            if stamp == self._stamp:
                return
            known = self._stamp
            if known is None or stamp.revision <= known.revision:
                # First use, or rows changed without the counter (seed, a wiped
                # database): nothing tells what changed, so read everything.
                self._rebuild(db, stamp)
                return
            self._catch_up(db, known.revision)
            if self._memory_stamp(stamp.revision) != stamp:
                self._rebuild(db, stamp)
                return
            self._stamp = stamp

    def _rebuild(self, db: Session, stamp: Stamp) -> None:
        self.full_builds += 1
        self._articles = {}
        self._canned = {}
        self._article_search = SearchIndex(field_weights=ARTICLE_FIELDS)
        self._canned_search = SearchIndex(field_weights=CANNED_FIELDS)
        for article in db.scalars(select(Article).execution_options(yield_per=500)):
            self._put_article(article)
        for response in db.scalars(select(CannedResponse).execution_options(yield_per=500)):
            self._put_canned(response)
        # The stamp was read before the rows: a write in between makes the next
        # read see a newer stamp and catch up, never the other way round.
        self._stamp = stamp

    def _catch_up(self, db: Session, after_revision: int) -> None:
        for article in db.scalars(select(Article).where(Article.revision > after_revision)):
            self._put_article(article)
        for response in db.scalars(
            select(CannedResponse).where(CannedResponse.revision > after_revision)
        ):
            self._put_canned(response)
        article_ids = set(db.scalars(select(Article.id)))
        for gone in set(self._articles) - article_ids:
            self._drop_article(gone)
        canned_ids = set(db.scalars(select(CannedResponse.id)))
        for gone in set(self._canned) - canned_ids:
            self._drop_canned(gone)

    def _memory_stamp(self, revision: int) -> Stamp:
        return Stamp(
            revision=revision,
            articles=len(self._articles),
            canned=len(self._canned),
            max_article_id=max(self._articles, default=0),
            max_canned_id=max(self._canned, default=0),
        )

    def _put_article(self, article: Article) -> None:
        self._articles[article.id] = article_entry(article)
        self._article_search.add(article.id, _article_document(article), article.language)

    def _drop_article(self, article_id: int) -> None:
        self._articles.pop(article_id, None)
        self._article_search.remove(article_id)

    def _put_canned(self, response: CannedResponse) -> None:
        self._canned[response.id] = canned_entry(response)
        self._canned_search.add(response.id, _canned_document(response), response.language)

    def _drop_canned(self, response_id: int) -> None:
        self._canned.pop(response_id, None)
        self._canned_search.remove(response_id)

    def _apply(self, revision: int, change: Callable[[], None]) -> None:
        """Apply one committed write when it is the very next revision; otherwise
        leave it to the next `sync` (another write came in between)."""
        with self._lock:
            known = self._stamp
            if known is None or revision != known.revision + 1:
                return
            change()
            self._stamp = self._memory_stamp(revision)

    def apply_article(self, revision: int, article: Article | None, article_id: int) -> None:
        """After a committed article write: `article` None means it was deleted."""

        def change() -> None:
            if article is None:
                self._drop_article(article_id)
            else:
                self._put_article(article)

        self._apply(revision, change)

    def apply_canned(self, revision: int, responses: Iterable[CannedResponse]) -> None:
        """After a committed write of one or more canned responses."""
        rows = list(responses)

        def change() -> None:
            for response in rows:
                self._put_canned(response)

        self._apply(revision, change)

    def note_usage(self, response_id: int, usage_count: int) -> None:
        """Usage is not indexed text: update the ranking hint without a revision."""
        with self._lock:
            entry = self._canned.get(response_id)
            if entry is not None:
                self._canned[response_id] = replace(entry, usage_count=usage_count)


_by_engine: weakref.WeakKeyDictionary[Engine, KnowledgeIndex] = weakref.WeakKeyDictionary()
_by_engine_lock = threading.Lock()


def use_index(db: Session, index: KnowledgeIndex) -> None:
    """Make `knowledge_index(db)` return `index` for this session (the app's own)."""
    db.info[_INDEX_KEY] = index


def knowledge_index(db: Session) -> KnowledgeIndex:
    """The index this session should use: the one installed by the web layer, or
    one shared by every session of the same engine."""
    installed = db.info.get(_INDEX_KEY)
    if isinstance(installed, KnowledgeIndex):
        return installed
    engine = db.get_bind()
    assert isinstance(engine, Engine)
    with _by_engine_lock:
        index = _by_engine.get(engine)
        if index is None:
            index = _by_engine[engine] = KnowledgeIndex()
        return index
