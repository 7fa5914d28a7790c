"""Help-center articles: writing them (staff), finding and reading them (everyone).

Staff see every article, drafts and internal ones included. The public sees an
article only when it is published, not internal, and belongs to the help center
being viewed (the main one, or an inbox's); anything else is NotFound. Searching
and listing use the in-memory index (`search_index`), so public pages cost a
couple of small queries. Article writes take the next knowledge revision first,
which serialises them (slug and translation checks without races).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from helpline.adapters.db.models import Article, ArticleCategory, ArticleVote, Inbox, User
from helpline.domain.access import Viewer
from helpline.domain.search import Hit
from helpline.domain.search.text import normalise_language
from helpline.services.conversations import CATEGORY_PATTERN
from helpline.services.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from helpline.services.markdown import render_markdown
from helpline.services.search_index import ArticleEntry, bump_revision, knowledge_index

MAX_TITLE_CHARS = 300
MAX_BODY_CHARS = 200_000
"""About 30,000 words: longer is a manual, not an article (and a 5 MB paste is a mistake)."""
MAX_SLUG_CHARS = 200
SLUG_PATTERN = re.compile(r"^[^\W_](?:[\w-]*[^\W_])?$")
LANGUAGE_PATTERN = re.compile(r"^[a-z]{2,3}(-[a-z0-9]{2,8})?$")
RELATED_LIMIT = 5

CATEGORY_LABELS = {
    "billing": "Billing and payments",
    "account": "Your account",
    "technical": "Troubleshooting",
    "orders": "Orders and delivery",
    "sales": "Plans and pricing",
    "general": "General",
}
LANGUAGE_NAMES = {
    "en": "English",
    "pl": "Polski",
    "it": "Italiano",
    "el": "Ελληνικά",
    "de": "Deutsch",
    "fr": "Français",
    "es": "Español",
    "pt": "Português",
    "nl": "Nederlands",
}


def category_label(category: str, names: Mapping[str, str] | None = None) -> str:
    """The name an admin gave the category, else the built-in or a derived one."""
    if names and category in names:
        return names[category]
    return CATEGORY_LABELS.get(category, category.replace("-", " ").replace("_", " ").capitalize())


def language_name(code: str) -> str:
    return LANGUAGE_NAMES.get(code, code)


# ---------------------------------------------------------------- input checks


def check_title(raw: str) -> str:
    value = " ".join(raw.split())
    if not value or len(value) > MAX_TITLE_CHARS:
        raise ValidationFailed(f"a title is 1 to {MAX_TITLE_CHARS} characters", {"field": "title"})
    return value


def check_body(raw: str) -> str:
    """Any Markdown is accepted (it is sanitised on the way out); only size and NUL
    characters are refused."""
    body = raw.replace("\r\n", "\n")
    if len(body) > MAX_BODY_CHARS:
        raise ValidationFailed(
            f"the article is longer than {MAX_BODY_CHARS:,} characters; split it into several",
            {"field": "body_markdown", "max_chars": MAX_BODY_CHARS, "length": len(body)},
        )
    if "\x00" in body:
        raise ValidationFailed("the article contains a NUL character", {"field": "body_markdown"})
    return body


def check_category(raw: str) -> str:
    value = raw.strip().lower()
    if not CATEGORY_PATTERN.match(value):
        raise ValidationFailed(
            "a category is 1 to 40 letters, digits, '-' or '_'", {"field": "category"}
        )
    return value


def check_language(raw: str) -> str:
    value = raw.strip().lower().replace("_", "-")
    if not LANGUAGE_PATTERN.match(value):
        raise ValidationFailed(
            "a language is a code such as en, pl or pt-br", {"field": "language"}
        )
    return value


def slugify(title: str) -> str:
    """ "Zwrot pieniędzy?" → "zwrot-pieniedzy"; letters without an ASCII form (Greek) stay."""
    decomposed = unicodedata.normalize("NFKD", title.casefold().replace("ł", "l"))
    plain = "".join(char for char in decomposed if not unicodedata.combining(char))
    words = re.findall(r"[^\W_]+", unicodedata.normalize("NFC", plain))
    slug = "-".join(words)[:MAX_SLUG_CHARS].strip("-")
    return slug or "article"


def check_slug(raw: str) -> str:
    value = unicodedata.normalize("NFC", raw.strip().lower())
    if len(value) > MAX_SLUG_CHARS or not SLUG_PATTERN.match(value) or "--" in value:
        raise ValidationFailed(
            "a slug is letters and digits joined by single '-', e.g. reset-your-password",
            {"field": "slug"},
        )
    return value


# ---------------------------------------------------------------- writing


@dataclass(frozen=True, slots=True)
class ArticleInput:
    title: str
    body_markdown: str
    slug: str | None = None
    category: str = "general"
    language: str = "en"
    translation_of_id: int | None = None
    inbox_id: int | None = None
    published: bool = False
    internal: bool = False


def _slug_taken(db: Session, slug: str, except_id: int | None = None) -> bool:
    query = select(Article.id).where(Article.slug == slug)
    if except_id is not None:
        query = query.where(Article.id != except_id)
    return db.scalar(query.limit(1)) is not None


def _free_slug(db: Session, base: str) -> str:
    slug, number = base, 1
    while _slug_taken(db, slug):
        number += 1
        suffix = f"-{number}"
        slug = base[: MAX_SLUG_CHARS - len(suffix)] + suffix
    return slug


def _check_inbox(db: Session, inbox_id: int | None) -> int | None:
    if inbox_id is not None and db.get(Inbox, inbox_id) is None:
        raise ValidationFailed("no inbox with this id", {"field": "inbox_id", "id": inbox_id})
    return inbox_id


def _translation_root(
    db: Session, translation_of_id: int | None, language: str, *, article_id: int | None
) -> int | None:
    """The original a translation links to; one article per language in a group, and
    groups stay flat (a translation of a translation links to the original)."""
    if translation_of_id is None:
        return None
    target = db.get(Article, translation_of_id)
    if target is None:
        raise ValidationFailed(
            "no article with this id", {"field": "translation_of_id", "id": translation_of_id}
        )
    root_id = target.translation_of_id or target.id
    if root_id == article_id:
        raise ValidationFailed(
            "an article cannot be a translation of itself", {"field": "translation_of_id"}
        )
    if article_id is not None and db.scalar(
        select(Article.id).where(Article.translation_of_id == article_id).limit(1)
    ):
        raise ValidationFailed(
            "this article has translations of its own; link them to the other article instead",
            {"field": "translation_of_id"},
        )
    siblings = db.scalars(
        select(Article).where(or_(Article.id == root_id, Article.translation_of_id == root_id))
    ).all()
    for sibling in siblings:
        if sibling.id != article_id and normalise_language(sibling.language) == normalise_language(
            language
        ):
            raise Conflict(
                f"“{sibling.title}” is already the {language} version",
                {"field": "language", "article_id": sibling.id},
            )
    return root_id


def _after_commit(db: Session, revision: int, article: Article | None, article_id: int) -> None:
    knowledge_index(db).apply_article(revision, article, article_id)


def do_create_article(db: Session, viewer: Viewer, data: ArticleInput, *, now: datetime) -> Article:
    """Any staff member may write articles. Serialised by the knowledge revision lock."""
    revision = bump_revision(db)
    title = check_title(data.title)
    body = check_body(data.body_markdown)
    category = check_category(data.category)
    language = check_language(data.language)
    inbox_id = _check_inbox(db, data.inbox_id)
    if data.slug:
        slug = check_slug(data.slug)
        if _slug_taken(db, slug):
            raise Conflict(f"the address /{slug} is taken", {"field": "slug"})
    else:
        slug = _free_slug(db, slugify(title))
    root_id = _translation_root(db, data.translation_of_id, language, article_id=None)
    article = Article(
        slug=slug,
        title=title,
        body_markdown=body,
        category=category,
        language=language,
        translation_of_id=root_id,
        inbox_id=inbox_id,
        published=data.published,
        internal=data.internal,
        helpful_yes=0,
        helpful_no=0,
        author_id=viewer.user_id,
        revision=revision,
        created_at=now,
        updated_at=now,
    )
    db.add(article)
    db.commit()
    _after_commit(db, revision, article, article.id)
    return article


EDITABLE_FIELDS = frozenset(
    {
        "title",
        "body_markdown",
        "slug",
        "category",
        "language",
        "translation_of_id",
        "inbox_id",
        "published",
        "internal",
    }
)


def access_article(db: Session, _viewer: Viewer, article_id: int) -> Article:
    """Staff may read every article, drafts and internal ones included."""
    article = db.get(Article, article_id)
    if article is None:
        raise NotFound("article", article_id)
    return article


def do_update_article(
    db: Session,
    viewer: Viewer,
    article_id: int,
    changes: Mapping[str, Any],
    *,
    now: datetime,
) -> Article:
    """Change the given fields; `updated_at` ("last updated") moves only when
    something changed."""
    unknown = set(changes) - EDITABLE_FIELDS
    if unknown:
        raise ValidationFailed("unknown fields", {"fields": sorted(unknown)})
    revision = bump_revision(db)
    article = access_article(db, viewer, article_id)
    new: dict[str, Any] = {}
    if "title" in changes:
        new["title"] = check_title(changes["title"])
    if "body_markdown" in changes:
        new["body_markdown"] = check_body(changes["body_markdown"])
    if "slug" in changes:
        slug = check_slug(changes["slug"])
        if _slug_taken(db, slug, except_id=article.id):
            raise Conflict(f"the address /{slug} is taken", {"field": "slug"})
        new["slug"] = slug
    if "category" in changes:
        new["category"] = check_category(changes["category"])
    if "language" in changes:
        new["language"] = check_language(changes["language"])
    if "inbox_id" in changes:
        new["inbox_id"] = _check_inbox(db, changes["inbox_id"])
    for flag in ("published", "internal"):
        if flag in changes:
            new[flag] = bool(changes[flag])
    if "translation_of_id" in changes or "language" in changes:
        target = changes.get("translation_of_id", article.translation_of_id)
        language = new.get("language", article.language)
        if target is not None:
            new["translation_of_id"] = _translation_root(
                db, target, language, article_id=article.id
            )
        else:
            new["translation_of_id"] = None
            if "language" in changes:
                # An original changing language must not clash with its translations.
                for child in db.scalars(
                    select(Article).where(Article.translation_of_id == article.id)
                ):
                    if normalise_language(child.language) == normalise_language(language):
                        raise Conflict(
                            f"“{child.title}” is already the {language} version",
                            {"field": "language", "article_id": child.id},
                        )
    changed = [name for name, value in new.items() if getattr(article, name) != value]
    if not changed:
        db.commit()
        return article
    for name in changed:
        setattr(article, name, new[name])
    article.revision = revision
    article.updated_at = now
    db.commit()
    _after_commit(db, revision, article, article.id)
    return article


def do_delete_article(db: Session, viewer: Viewer, article_id: int, *, now: datetime) -> None:
    """Supervisors and admins delete; everyone else unpublishes. Translations of a
    deleted original are kept and linked to the first of them instead."""
    if not viewer.is_supervisor_or_admin:
        raise PermissionDenied("only supervisors and admins delete articles; unpublish it instead")
    revision = bump_revision(db)
    article = access_article(db, viewer, article_id)
    children = db.scalars(
        select(Article).where(Article.translation_of_id == article.id).order_by(Article.id)
    ).all()
    if children:
        new_root = children[0]
        new_root.translation_of_id = None
        new_root.revision = revision
        for child in children[1:]:
            child.translation_of_id = new_root.id
            child.revision = revision
    db.delete(article)
    db.commit()
    if children:
        # Several rows changed: let the next read catch up by revision.
        return
    _after_commit(db, revision, None, article_id)


def list_articles(
    db: Session,
    _viewer: Viewer,
    *,
    language: str | None = None,
    category: str | None = None,
    published: bool | None = None,
    internal: bool | None = None,
    q: str | None = None,
    limit: int = 200,
) -> tuple[list[Article], int]:
    """Staff list, newest change first; `q` finds words in the title or slug."""
    conditions: list[ColumnElement[bool]] = []
    if q:
        needle = q.strip().casefold()[:200]
        conditions.append(
            or_(
                func.lower(Article.title).contains(needle, autoescape=True),
                Article.slug.contains(needle, autoescape=True),
            )
        )
    if language:
        conditions.append(Article.language == language)
    if category:
        conditions.append(Article.category == category)
    if published is not None:
        conditions.append(Article.published.is_(published))
    if internal is not None:
        conditions.append(Article.internal.is_(internal))
    total = db.scalar(select(func.count(Article.id)).where(*conditions)) or 0
    rows = db.scalars(
        select(Article)
        .where(*conditions)
        .order_by(Article.updated_at.desc(), Article.id.desc())
        .limit(limit)
    ).all()
    return list(rows), total


def translations(db: Session, article: Article) -> list[Article]:
    """Every other language version of the article (original included), by language."""
    root_id = article.translation_of_id or article.id
    rows = db.scalars(
        select(Article).where(
            or_(Article.id == root_id, Article.translation_of_id == root_id),
            Article.id != article.id,
        )
    ).all()
    return sorted(rows, key=lambda row: (row.language, row.id))


def author_name(db: Session, article: Article) -> str | None:
    if article.author_id is None:
        return None
    author = db.get(User, article.author_id)
    return author.name if author is not None else None


def article_html(article: Article) -> str:
    """Sanitised HTML of the body (cached by text)."""
    return render_markdown(article.body_markdown, article.title)


# ---------------------------------------------------------------- the public help center


@dataclass(frozen=True, slots=True)
class HelpCenter:
    """Which help center is being viewed: the main one, or an inbox's."""

    inbox: Inbox | None

    @property
    def inbox_id(self) -> int | None:
        return self.inbox.id if self.inbox is not None else None

    @property
    def prefix(self) -> str:
        """URL prefix of its pages: /help or /help/<public key>."""
        return f"/help/{self.inbox.public_key}" if self.inbox is not None else "/help"

    def accepts(self, entry: ArticleEntry) -> bool:
        return entry.in_help_center(self.inbox_id)


def help_center_for(db: Session, public_key: str | None) -> HelpCenter:
    """The main help center (None), or the active inbox with this public key."""
    if public_key is None:
        return HelpCenter(inbox=None)
    inbox = db.scalar(select(Inbox).where(Inbox.public_key == public_key))
    if inbox is None or not inbox.is_active:
        raise NotFound("help center", public_key)
    return HelpCenter(inbox=inbox)


def public_entries(db: Session, center: HelpCenter) -> list[ArticleEntry]:
    return [entry for entry in knowledge_index(db).articles(db).values() if center.accepts(entry)]


def public_languages(entries: list[ArticleEntry]) -> list[str]:
    counts: dict[str, int] = {}
    for entry in entries:
        counts[entry.language] = counts.get(entry.language, 0) + 1
    return sorted(counts, key=lambda code: (-counts[code], code))


def choose_language(
    available: list[str], requested: str | None, accept_language: str | None
) -> str | None:
    """The ?lang= the visitor picked, else their browser's best available language."""
    if not available:
        return None
    if requested:
        code = normalise_language(requested)
        if code in available:
            return code
    for part in (accept_language or "").split(",")[:20]:
        code = normalise_language(part.split(";")[0])
        if code in available:
            return code
    return "en" if "en" in available else available[0]


@dataclass(frozen=True, slots=True)
class CategoryGroup:
    category: str
    label: str
    articles: list[ArticleEntry]


def categories(
    entries: list[ArticleEntry],
    language: str | None,
    named: Sequence[ArticleCategory] = (),
) -> list[CategoryGroup]:
    """The home page: categories with their articles; those named by an admin first,
    in their order and with their names, then the built-in ones in their usual order."""
    grouped: dict[str, list[ArticleEntry]] = {}
    for entry in entries:
        if language is None or entry.language == language:
            grouped.setdefault(entry.category, []).append(entry)
    order = [row.slug for row in named] + list(CATEGORY_LABELS)
    labels = {row.slug: row.name for row in named}
    names = sorted(
        grouped, key=lambda name: (order.index(name) if name in order else len(order), name)
    )
    return [
        CategoryGroup(
            category=name,
            label=labels.get(name) or category_label(name),
            articles=sorted(grouped[name], key=lambda entry: entry.title.casefold()),
        )
        for name in names
    ]


def public_article(db: Session, center: HelpCenter, slug: str) -> Article:
    """The article as the public may read it, or NotFound (drafts and internal
    articles do not exist for visitors)."""
    article = db.scalar(select(Article).where(Article.slug == slug))
    if article is None or not article.published or article.internal:
        raise NotFound("article", slug)
    if article.inbox_id is not None and article.inbox_id != center.inbox_id:
        raise NotFound("article", slug)
    return article


def public_translations(db: Session, center: HelpCenter, article: Article) -> list[Article]:
    return [
        other
        for other in translations(db, article)
        if other.published
        and not other.internal
        and (other.inbox_id is None or other.inbox_id == center.inbox_id)
    ]


def search_help_center(
    db: Session, center: HelpCenter, query: str, *, language: str | None, limit: int = 20
) -> list[tuple[ArticleEntry, Hit[int]]]:
    """Public articles for the query, in the visitor's language when any match there,
    otherwise in any language."""
    index = knowledge_index(db)
    hits = index.search_articles(db, query, language=language, limit=limit, where=center.accepts)
    if not hits and language is not None:
        hits = index.search_articles(db, query, language=None, limit=limit, where=center.accepts)
    return hits


def related_articles(
    db: Session, center: HelpCenter, article: Article, *, limit: int = RELATED_LIMIT
) -> list[ArticleEntry]:
    """Articles like this one: similar by search (its title as the query), those in
    the same category first, then more from the category."""
    index = knowledge_index(db)
    language = normalise_language(article.language)

    def accept(entry: ArticleEntry) -> bool:
        return entry.id != article.id and center.accepts(entry) and entry.language == language

    similar = [
        entry
        for entry, _ in index.search_articles(
            db, article.title + " ", language=language, limit=limit * 2, where=accept
        )
    ]
    same_category = [entry for entry in similar if entry.category == article.category]
    others = [entry for entry in similar if entry.category != article.category]
    chosen = same_category + others
    if len(chosen) < limit:
        seen = {entry.id for entry in chosen}
        fill = sorted(
            (
                entry
                for entry in index.articles(db).values()
                if accept(entry) and entry.category == article.category and entry.id not in seen
            ),
            key=lambda entry: entry.updated_at,
            reverse=True,
        )
        chosen.extend(fill)
    return chosen[:limit]


@dataclass(frozen=True, slots=True)
class VoteOutcome:
    recorded: bool
    """False: this visitor had already answered for this article."""
    helpful: bool


def visitor_vote(db: Session, article_id: int, visitor_key: str | None) -> bool | None:
    """How this visitor answered "Was this helpful?" for the article, if they did."""
    if not visitor_key:
        return None
    return db.scalar(
        select(ArticleVote.helpful).where(
            ArticleVote.article_id == article_id, ArticleVote.visitor_key == visitor_key
        )
    )


def do_vote(
    db: Session, article_id: int, visitor_key: str, *, helpful: bool, now: datetime
) -> VoteOutcome:
    """Count one answer per visitor and article. The unique (article, visitor) row
    decides races; the counters move by atomic increments, and `updated_at` stays
    (a vote is not an edit)."""
    existing = visitor_vote(db, article_id, visitor_key)
    if existing is not None:
        db.commit()
        return VoteOutcome(recorded=False, helpful=existing)
    try:
        with db.begin_nested():
            db.add(
                ArticleVote(
                    article_id=article_id, visitor_key=visitor_key, helpful=helpful, created_at=now
                )
            )
    except IntegrityError:
        db.rollback()
        return VoteOutcome(recorded=False, helpful=helpful)
    column = Article.helpful_yes if helpful else Article.helpful_no
    db.execute(update(Article).where(Article.id == article_id).values({column: column + 1}))
    db.commit()
    return VoteOutcome(recorded=True, helpful=helpful)


# ---------------------------------------------------------------- agents and the widget


def search_for_agents(
    db: Session, _viewer: Viewer, query: str, *, language: str | None, limit: int = 10
) -> list[tuple[ArticleEntry, Hit[int]]]:
    """Published articles for the composer, internal ones included (drafts are not
    ready to be quoted)."""

    def accept(entry: ArticleEntry) -> bool:
        return entry.published

    return knowledge_index(db).search_articles(
        db, query, language=language, limit=limit, where=accept
    )


def widget_inbox(db: Session, public_key: str) -> Inbox:
    inbox = db.scalar(select(Inbox).where(Inbox.public_key == public_key))
    if inbox is None or not inbox.is_active:
        raise NotFound("inbox", public_key)
    return inbox


def search_for_widget(
    db: Session, public_key: str, query: str, *, language: str | None, limit: int = 5
) -> tuple[HelpCenter, list[tuple[ArticleEntry, Hit[int]]]]:
    """What the widget suggests while the visitor types: this inbox's public articles."""
    center = HelpCenter(inbox=widget_inbox(db, public_key))
    if center.inbox is not None and not suggestions_enabled(center.inbox):
        return center, []
    return center, search_help_center(db, center, query, language=language, limit=limit)


def suggestions_enabled(inbox: Inbox) -> bool:
    """The inbox's `article_suggestions` setting: on unless set to false."""
    return inbox.settings.get("article_suggestions") is not False


# ---------------------------------------------------------------- named categories

MAX_CATEGORY_NAME_CHARS = 100
MAX_CATEGORY_DESCRIPTION_CHARS = 500


def named_categories(db: Session) -> list[ArticleCategory]:
    """The categories an admin named, in their home-page order."""
    return list(
        db.scalars(select(ArticleCategory).order_by(ArticleCategory.position, ArticleCategory.slug))
    )


def category_names(db: Session) -> dict[str, str]:
    return {row.slug: row.name for row in named_categories(db)}


def category_usage(db: Session) -> dict[str, int]:
    """How many articles each category slug has (named or not)."""
    return {
        str(category): int(count)
        for category, count in db.execute(
            select(Article.category, func.count(Article.id)).group_by(Article.category)
        )
    }


def do_save_category(
    db: Session,
    viewer: Viewer,
    *,
    slug: str,
    name: str,
    description: str = "",
    position: int = 0,
    now: datetime,
) -> ArticleCategory:
    """Supervisors and admins name a category (or rename it): the slug stays what
    articles refer to, so renaming never moves an article."""
    if not viewer.is_supervisor_or_admin:
        raise PermissionDenied("only supervisors and admins manage categories")
    clean_slug = check_category(slug)
    clean_name = " ".join(name.split())
    if not clean_name or len(clean_name) > MAX_CATEGORY_NAME_CHARS:
        raise ValidationFailed(
            f"a name is 1 to {MAX_CATEGORY_NAME_CHARS} characters", {"field": "name"}
        )
    clean_description = " ".join(description.split())
    if len(clean_description) > MAX_CATEGORY_DESCRIPTION_CHARS:
        raise ValidationFailed(
            f"a description is at most {MAX_CATEGORY_DESCRIPTION_CHARS} characters",
            {"field": "description"},
        )
    if not -1000 <= position <= 1000:
        raise ValidationFailed("the position is -1000 to 1000", {"field": "position"})
    row = db.scalar(select(ArticleCategory).where(ArticleCategory.slug == clean_slug))
    if row is None:
        row = ArticleCategory(slug=clean_slug, created_at=now)
        db.add(row)
    row.name = clean_name
    row.description = clean_description
    row.position = position
    row.updated_at = now
    try:
        db.commit()
    except IntegrityError as error:  # named at the same moment by someone else
        db.rollback()
        raise Conflict(f"the category {clean_slug} was just named", {"field": "slug"}) from error
    return row


def do_delete_category(db: Session, viewer: Viewer, slug: str) -> None:
    """Forget a category's name; its articles keep their category (shown with the
    built-in or derived name)."""
    if not viewer.is_supervisor_or_admin:
        raise PermissionDenied("only supervisors and admins manage categories")
    row = db.scalar(select(ArticleCategory).where(ArticleCategory.slug == slug))
    if row is None:
        raise NotFound("category", slug)
    db.delete(row)
    db.commit()
