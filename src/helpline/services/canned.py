"""Canned responses: answers written once and reused, kept personal, correct and current.

Scopes decide who sees and who manages a response:

| scope    | seen by                     | managed by                                   |
| -------- | --------------------------- | -------------------------------------------- |
| personal | its owner only              | its owner                                    |
| team     | the team's members, admins  | admins, and supervisors who are team members |
| shared   | all staff                   | supervisors and admins                       |

A response the caller cannot see does not exist for them (NotFound, never 403).
Every write takes the next knowledge revision first (`search_index.bump_revision`):
its lock serialises canned-response writes, so shortcut uniqueness and version
numbers are checked without races, and the search caches of every process catch up.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any

from sqlalchemy import ColumnElement, and_, false, func, or_, select, update
from sqlalchemy.orm import Session

from helpline.adapters.db.models import (
    Article,
    CannedResponse,
    CannedResponseVersion,
    Contact,
    Conversation,
    ConversationTag,
    Message,
    Team,
    User,
)
from helpline.domain.access import Viewer
from helpline.domain.enums import AuthorType, MessageKind, Plan, Priority, Role
from helpline.domain.search.text import normalise_language
from helpline.domain.templates import (
    AgentFacts,
    ContactFacts,
    ConversationFacts,
    RenderResult,
    TemplateContext,
    TemplateIssue,
    render_template,
    split_name,
    validate_template,
)
from helpline.services.conversations import access_conversation
from helpline.services.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from helpline.services.search_index import CannedEntry, bump_revision, knowledge_index

SCOPES = ("personal", "team", "shared")
SHORTCUT_PATTERN = re.compile(r"^[^\W_][\w-]{0,63}$")
LANGUAGE_PATTERN = re.compile(r"^[a-z]{2,3}(-[a-z0-9]{2,8})?$")
TAG_PATTERN = re.compile(r"^[^\W_][\w -]{0,39}$")
MAX_TITLE_CHARS = 200
MAX_BODY_CHARS = 20_000
MAX_TAGS_PER_FAMILY = 10
MAX_IMPORT_ROWS = 5_000
DEFAULT_REVIEW_DAYS = 90
NEW_CUSTOMER_MAX_ORDERS = 1
LOYAL_CUSTOMER_MIN_ORDERS = 5
LOYAL_CUSTOMER_MIN_CENTS = 50_000

URGENCY_VALUES = tuple(priority.value for priority in Priority)
"""Urgency tags name the conversation priority a response is written for."""

TAG_FAMILIES = ("urgency", "topic", "customer")
"""Stored as "family:value"; a tag without a known prefix is a topic."""

# Ranking weights of the composer's picker: what the conversation has in common
# with a response. Language counts most: an answer in the wrong language is useless.
RANK_LANGUAGE = 4
RANK_CATEGORY = 3
RANK_TOPIC = 2
RANK_CUSTOMER = 2
RANK_URGENCY = 2

CSV_COLUMNS = (
    "shortcut",
    "title",
    "body",
    "language",
    "scope",
    "team",
    "urgency",
    "topic",
    "customer_type",
    "article",
    "archived",
    "draft",
)
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")

SNAPSHOT_FIELDS = (
    "shortcut",
    "title",
    "body",
    "language",
    "tags",
    "scope",
    "owner_id",
    "team_id",
    "archived",
    "draft",
    "article_id",
)


# ---------------------------------------------------------------- tags


@dataclass(frozen=True, slots=True)
class CannedTags:
    """The three tag families of a canned response."""

    urgency: tuple[str, ...] = ()
    topic: tuple[str, ...] = ()
    customer: tuple[str, ...] = ()

    @classmethod
    def from_stored(cls, tags: Iterable[str]) -> CannedTags:
        families: dict[str, list[str]] = {name: [] for name in TAG_FAMILIES}
        for tag in tags:
            family, sep, value = tag.partition(":")
            if sep and family in families:
                families[family].append(value)
            else:
                families["topic"].append(tag)
        return cls(
            urgency=tuple(families["urgency"]),
            topic=tuple(families["topic"]),
            customer=tuple(families["customer"]),
        )

    def stored(self) -> list[str]:
        return [
            *(f"urgency:{value}" for value in self.urgency),
            *(f"topic:{value}" for value in self.topic),
            *(f"customer:{value}" for value in self.customer),
        ]


@lru_cache(maxsize=16_384)
def stored_tags(tags: tuple[str, ...]) -> CannedTags:
    """`CannedTags.from_stored`, remembered: the picker ranks every response on every
    keystroke, and their tags rarely change."""
    return CannedTags.from_stored(tags)


def _check_family(name: str, values: Iterable[str]) -> tuple[str, ...]:
    normalised: list[str] = []
    for raw in values:
        value = " ".join(raw.split()).lower()
        if not value:
            continue
        if not TAG_PATTERN.match(value):
            raise ValidationFailed(
                f"{name} tags are 1 to 40 letters, digits, spaces or '-'",
                {"field": f"tags.{name}", "tag": raw[:50]},
            )
        if name == "urgency" and value not in URGENCY_VALUES:
            raise ValidationFailed(
                f"urgency tags are conversation priorities: {', '.join(URGENCY_VALUES)}",
                {"field": "tags.urgency", "tag": raw[:50]},
            )
        if value not in normalised:
            normalised.append(value)
    if len(normalised) > MAX_TAGS_PER_FAMILY:
        raise ValidationFailed(
            f"at most {MAX_TAGS_PER_FAMILY} {name} tags", {"field": f"tags.{name}"}
        )
    return tuple(normalised)


def check_tags(
    *, urgency: Iterable[str] = (), topic: Iterable[str] = (), customer: Iterable[str] = ()
) -> CannedTags:
    return CannedTags(
        urgency=_check_family("urgency", urgency),
        topic=_check_family("topic", topic),
        customer=_check_family("customer", customer),
    )


# ---------------------------------------------------------------- input checks


def check_shortcut(raw: str) -> str:
    """``/refund-status`` or ``refund-status`` → ``refund-status`` (letters, digits, - _)."""
    value = raw.strip().lstrip("/").lower()
    if not SHORTCUT_PATTERN.match(value):
        raise ValidationFailed(
            "a shortcut is 1 to 64 letters, digits, '-' or '_', e.g. /refund-status",
            {"field": "shortcut"},
        )
    return value


def check_title(raw: str) -> str:
    value = " ".join(raw.split())
    if not value or len(value) > MAX_TITLE_CHARS:
        raise ValidationFailed(f"a title is 1 to {MAX_TITLE_CHARS} characters", {"field": "title"})
    return value


def check_language(raw: str) -> str:
    value = raw.strip().lower().replace("_", "-")
    if not LANGUAGE_PATTERN.match(value):
        raise ValidationFailed(
            "a language is a code such as en, pl or pt-br", {"field": "language"}
        )
    return value


def issue_payload(issue: TemplateIssue) -> dict[str, Any]:
    return {
        "code": issue.code.value,
        "message": issue.message,
        "start": issue.start,
        "end": issue.end,
        "line": issue.line,
        "column": issue.column,
        "suggestion": issue.suggestion,
    }


def check_body(raw: str, *, draft: bool) -> str:
    """The template must be valid, unless it is saved as a draft on purpose."""
    body = raw.replace("\r\n", "\n")
    if not body.strip():
        raise ValidationFailed("the response is empty", {"field": "body"})
    if len(body) > MAX_BODY_CHARS:
        raise ValidationFailed(
            f"the response is longer than {MAX_BODY_CHARS} characters", {"field": "body"}
        )
    if "\x00" in body:
        raise ValidationFailed("the response contains a NUL character", {"field": "body"})
    issues = validate_template(body)
    if issues and not draft:
        raise ValidationFailed(
            "the template has problems; fix them or save it as a draft",
            {"field": "body", "issues": [issue_payload(issue) for issue in issues]},
        )
    return body


# ---------------------------------------------------------------- access


def can_see(viewer: Viewer, scope: str, owner_id: int | None, team_id: int | None) -> bool:
    if scope == "personal":
        return owner_id == viewer.user_id
    if scope == "team":
        return viewer.is_admin or (team_id is not None and team_id in viewer.team_ids)
    return scope == "shared"


def can_manage(viewer: Viewer, scope: str, owner_id: int | None, team_id: int | None) -> bool:
    if scope == "personal":
        return owner_id == viewer.user_id
    if scope == "team":
        return viewer.is_admin or (
            viewer.role == Role.SUPERVISOR and team_id is not None and team_id in viewer.team_ids
        )
    return viewer.is_supervisor_or_admin


def visible_clause(viewer: Viewer) -> ColumnElement[bool]:
    """`can_see` as SQL."""
    team_rule: ColumnElement[bool]
    if viewer.is_admin:
        team_rule = CannedResponse.scope == "team"
    elif viewer.team_ids:
        team_rule = and_(
            CannedResponse.scope == "team", CannedResponse.team_id.in_(sorted(viewer.team_ids))
        )
    else:
        team_rule = false()
    return or_(
        and_(CannedResponse.scope == "personal", CannedResponse.owner_id == viewer.user_id),
        team_rule,
        CannedResponse.scope == "shared",
    )


def access_canned(db: Session, viewer: Viewer, response_id: int) -> CannedResponse:
    """The response, or NotFound when it is missing or not visible to the viewer."""
    response = db.get(CannedResponse, response_id)
    if response is None or not can_see(viewer, response.scope, response.owner_id, response.team_id):
        raise NotFound("canned response", response_id)
    return response


def _access_for_change(db: Session, viewer: Viewer, response_id: int) -> CannedResponse:
    response = access_canned(db, viewer, response_id)
    if not can_manage(viewer, response.scope, response.owner_id, response.team_id):
        raise PermissionDenied(
            "only its owner, or a supervisor or admin for team and shared responses, "
            "may change this response",
            {"id": response_id},
        )
    return response


def _check_scope(
    db: Session, viewer: Viewer, scope: str, team_id: int | None
) -> tuple[int | None, int | None]:
    """(owner_id, team_id) for a response the viewer writes into `scope`."""
    if scope not in SCOPES:
        raise ValidationFailed("scope is personal, team or shared", {"field": "scope"})
    if scope == "personal":
        return viewer.user_id, None
    if scope == "team":
        if team_id is None:
            raise ValidationFailed("a team response needs a team_id", {"field": "team_id"})
        if db.get(Team, team_id) is None:
            raise ValidationFailed("no team with this id", {"field": "team_id", "id": team_id})
        if not can_manage(viewer, "team", None, team_id):
            raise PermissionDenied(
                "only admins and the team's supervisors manage its responses",
                {"field": "team_id"},
            )
        return None, team_id
    if not can_manage(viewer, "shared", None, None):
        raise PermissionDenied(
            "only supervisors and admins manage shared responses", {"field": "scope"}
        )
    return None, None


def _check_article(db: Session, article_id: int | None) -> int | None:
    if article_id is not None and db.get(Article, article_id) is None:
        raise ValidationFailed("no article with this id", {"field": "article_id", "id": article_id})
    return article_id


def _shortcut_taken(
    db: Session,
    shortcut: str,
    scope: str,
    owner_id: int | None,
    team_id: int | None,
    *,
    except_id: int | None = None,
) -> bool:
    """Shortcuts are unique among the active responses of one scope owner."""
    query = select(CannedResponse.id).where(
        CannedResponse.shortcut == shortcut,
        CannedResponse.scope == scope,
        CannedResponse.archived.is_(False),
    )
    if scope == "personal":
        query = query.where(CannedResponse.owner_id == owner_id)
    elif scope == "team":
        query = query.where(CannedResponse.team_id == team_id)
    if except_id is not None:
        query = query.where(CannedResponse.id != except_id)
    return db.scalar(query.limit(1)) is not None


def _refuse_taken_shortcut(
    db: Session,
    shortcut: str,
    scope: str,
    owner_id: int | None,
    team_id: int | None,
    *,
    except_id: int | None = None,
) -> None:
    if _shortcut_taken(db, shortcut, scope, owner_id, team_id, except_id=except_id):
        raise Conflict(
            f"/{shortcut} is already used by another {scope} response",
            {"field": "shortcut", "shortcut": shortcut},
        )


# ---------------------------------------------------------------- versions


def snapshot(response: CannedResponse) -> dict[str, Any]:
    return {name: getattr(response, name) for name in SNAPSHOT_FIELDS}


def _record_version(
    db: Session,
    response: CannedResponse,
    action: str,
    changed_fields: Sequence[str],
    *,
    user_id: int | None,
    now: datetime,
) -> None:
    db.flush()
    latest = db.scalar(
        select(func.max(CannedResponseVersion.version)).where(
            CannedResponseVersion.canned_response_id == response.id
        )
    )
    db.add(
        CannedResponseVersion(
            canned_response_id=response.id,
            version=(latest or 0) + 1,
            action=action,
            changed_fields=list(changed_fields),
            snapshot=snapshot(response),
            changed_by_id=user_id,
            changed_at=now,
        )
    )


@dataclass(frozen=True, slots=True)
class VersionRow:
    version: CannedResponseVersion
    changed_by_name: str | None


def list_versions(db: Session, viewer: Viewer, response_id: int) -> list[VersionRow]:
    """Newest first: who changed what, when, and the response as it was then."""
    access_canned(db, viewer, response_id)
    rows = db.execute(
        select(CannedResponseVersion, User.name)
        .outerjoin(User, User.id == CannedResponseVersion.changed_by_id)
        .where(CannedResponseVersion.canned_response_id == response_id)
        .order_by(CannedResponseVersion.version.desc())
    ).all()
    return [VersionRow(version=version, changed_by_name=name) for version, name in rows]


# ---------------------------------------------------------------- writes


@dataclass(frozen=True, slots=True)
class CannedInput:
    """A new canned response as the caller described it (not yet checked)."""

    shortcut: str
    title: str
    body: str
    language: str = "en"
    scope: str = "personal"
    team_id: int | None = None
    tags: CannedTags = field(default_factory=CannedTags)
    article_id: int | None = None
    draft: bool = False


def _after_commit(db: Session, revision: int, responses: Iterable[CannedResponse]) -> None:
    knowledge_index(db).apply_canned(revision, responses)


def do_create_canned(
    db: Session, viewer: Viewer, data: CannedInput, *, now: datetime
) -> CannedResponse:
    """Create a response in a scope the viewer manages. Serialised by the knowledge
    revision lock (shortcut uniqueness)."""
    revision = bump_revision(db)
    shortcut = check_shortcut(data.shortcut)
    title = check_title(data.title)
    body = check_body(data.body, draft=data.draft)
    language = check_language(data.language)
    owner_id, team_id = _check_scope(db, viewer, data.scope, data.team_id)
    article_id = _check_article(db, data.article_id)
    _refuse_taken_shortcut(db, shortcut, data.scope, owner_id, team_id)
    response = CannedResponse(
        shortcut=shortcut,
        title=title,
        body=body,
        language=language,
        tags=data.tags.stored(),
        scope=data.scope,
        owner_id=owner_id,
        team_id=team_id,
        archived=False,
        draft=data.draft,
        article_id=article_id,
        usage_count=0,
        last_reviewed_at=now,
        revision=revision,
        created_at=now,
        updated_at=now,
    )
    db.add(response)
    _record_version(db, response, "created", [], user_id=viewer.user_id, now=now)
    db.commit()
    _after_commit(db, revision, [response])
    return response


EDITABLE_FIELDS = frozenset(
    {"shortcut", "title", "body", "language", "scope", "team_id", "tags", "article_id", "draft"}
)


def do_update_canned(
    db: Session,
    viewer: Viewer,
    response_id: int,
    changes: Mapping[str, Any],
    *,
    now: datetime,
) -> CannedResponse:
    """Change the given fields (`tags` is a CannedTags). Moving a response to another
    scope needs the right to manage both. Editing the text counts as a review."""
    unknown = set(changes) - EDITABLE_FIELDS
    if unknown:
        raise ValidationFailed("unknown fields", {"fields": sorted(unknown)})
    revision = bump_revision(db)
    response = _access_for_change(db, viewer, response_id)
    draft = bool(changes.get("draft", response.draft))
    new: dict[str, Any] = {}
    if "shortcut" in changes:
        new["shortcut"] = check_shortcut(changes["shortcut"])
    if "title" in changes:
        new["title"] = check_title(changes["title"])
    if "body" in changes or ("draft" in changes and not draft):
        # Leaving draft state re-checks the current text too.
        new["body"] = check_body(changes.get("body", response.body), draft=draft)
    if "language" in changes:
        new["language"] = check_language(changes["language"])
    if "tags" in changes:
        tags = changes["tags"]
        assert isinstance(tags, CannedTags)
        new["tags"] = tags.stored()
    if "article_id" in changes:
        new["article_id"] = _check_article(db, changes["article_id"])
    if "draft" in changes:
        new["draft"] = draft
    scope = changes.get("scope", response.scope)
    if "scope" in changes or "team_id" in changes:
        team_id = changes.get("team_id", response.team_id)
        owner_id, team_id = _check_scope(db, viewer, scope, team_id)
        new.update(scope=scope, owner_id=owner_id, team_id=team_id)
    changed = [name for name, value in new.items() if getattr(response, name) != value]
    if not changed:
        db.commit()
        return response
    owner_id = new.get("owner_id", response.owner_id)
    team_id = new.get("team_id", response.team_id)
    if not response.archived:
        _refuse_taken_shortcut(
            db,
            new.get("shortcut", response.shortcut),
            scope,
            owner_id,
            team_id,
            except_id=response.id,
        )
    for name in changed:
        setattr(response, name, new[name])
    response.revision = revision
    response.updated_at = now
    if {"body", "title"} & set(changed):
        response.last_reviewed_at = now
    _record_version(db, response, "edited", changed, user_id=viewer.user_id, now=now)
    db.commit()
    _after_commit(db, revision, [response])
    return response


def do_archive_canned(
    db: Session, viewer: Viewer, response_id: int, *, archived: bool = True, now: datetime
) -> CannedResponse:
    """Archive (hide from the picker, keep the history) or restore a response."""
    revision = bump_revision(db)
    response = _access_for_change(db, viewer, response_id)
    if response.archived == archived:
        db.commit()
        return response
    if not archived:
        _refuse_taken_shortcut(
            db,
            response.shortcut,
            response.scope,
            response.owner_id,
            response.team_id,
            except_id=response.id,
        )
    response.archived = archived
    response.revision = revision
    response.updated_at = now
    action = "archived" if archived else "restored"
    _record_version(db, response, action, ["archived"], user_id=viewer.user_id, now=now)
    db.commit()
    _after_commit(db, revision, [response])
    return response


def do_review_canned(
    db: Session, viewer: Viewer, response_id: int, *, now: datetime
) -> CannedResponse:
    """Mark the response as checked and still right: it is no longer stale."""
    revision = bump_revision(db)
    response = _access_for_change(db, viewer, response_id)
    response.last_reviewed_at = now
    response.revision = revision
    _record_version(db, response, "reviewed", ["last_reviewed_at"], user_id=viewer.user_id, now=now)
    db.commit()
    _after_commit(db, revision, [response])
    return response


def do_record_usage(
    db: Session,
    viewer: Viewer,
    response_id: int,
    *,
    conversation_id: int | None = None,
    now: datetime,
) -> CannedResponse:
    """Count one use: the response went out in a sent message. An atomic increment,
    so concurrent uses are all counted; no revision (usage is not searched)."""
    response = access_canned(db, viewer, response_id)
    if conversation_id is not None:
        access_conversation(db, viewer, conversation_id)
    db.execute(
        update(CannedResponse)
        .where(CannedResponse.id == response_id)
        .values(usage_count=CannedResponse.usage_count + 1, last_used_at=now)
    )
    db.commit()
    db.refresh(response)
    knowledge_index(db).note_usage(response.id, response.usage_count)
    return response


# ---------------------------------------------------------------- staleness


@dataclass(frozen=True, slots=True)
class Staleness:
    stale: bool
    reasons: tuple[str, ...]
    """not_reviewed, article_missing, article_unpublished, article_changed."""
    review_due_at: datetime


def staleness(
    response: CannedResponse, article: Article | None, *, now: datetime, review_days: int
) -> Staleness:
    reviewed = response.last_reviewed_at or response.created_at
    due = reviewed + timedelta(days=review_days)
    reasons: list[str] = []
    if due <= now:
        reasons.append("not_reviewed")
    if response.article_id is not None:
        if article is None:
            reasons.append("article_missing")
        elif not article.published:
            reasons.append("article_unpublished")
        elif article.updated_at > reviewed:
            reasons.append("article_changed")
    return Staleness(stale=bool(reasons), reasons=tuple(reasons), review_due_at=due)


def linked_articles(db: Session, responses: Iterable[CannedResponse]) -> dict[int, Article]:
    ids = {response.article_id for response in responses if response.article_id is not None}
    if not ids:
        return {}
    return {
        article.id: article for article in db.scalars(select(Article).where(Article.id.in_(ids)))
    }


# ---------------------------------------------------------------- reading


def list_canned(
    db: Session,
    viewer: Viewer,
    *,
    q: str | None = None,
    scope: str | None = None,
    include_archived: bool = False,
    limit: int = 500,
) -> tuple[list[CannedResponse], int]:
    """Responses the viewer can see, by shortcut; `q` matches shortcut and title."""
    conditions: list[ColumnElement[bool]] = [visible_clause(viewer)]
    if scope is not None:
        conditions.append(CannedResponse.scope == scope)
    if not include_archived:
        conditions.append(CannedResponse.archived.is_(False))
    if q:
        pattern = (
            "%"
            + q.strip().lstrip("/").replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            + "%"
        )
        conditions.append(
            or_(
                CannedResponse.shortcut.ilike(pattern, escape="\\"),
                CannedResponse.title.ilike(pattern, escape="\\"),
            )
        )
    total = db.scalar(select(func.count(CannedResponse.id)).where(*conditions)) or 0
    rows = db.scalars(
        select(CannedResponse)
        .where(*conditions)
        .order_by(CannedResponse.shortcut, CannedResponse.id)
        .limit(limit)
    ).all()
    return list(rows), total


@dataclass(frozen=True, slots=True)
class MaintenanceReport:
    stale: list[tuple[CannedResponse, Staleness]]
    never_used: list[CannedResponse]
    review_days: int


def maintenance_report(
    db: Session, viewer: Viewer, *, now: datetime, review_days: int = DEFAULT_REVIEW_DAYS
) -> MaintenanceReport:
    """Team and shared responses the supervisor looks after that need attention."""
    if not viewer.is_supervisor_or_admin:
        raise PermissionDenied("the maintenance list is for supervisors and admins")
    conditions: list[ColumnElement[bool]] = [
        CannedResponse.archived.is_(False),
        CannedResponse.scope.in_(("team", "shared")),
        visible_clause(viewer),
    ]
    responses = db.scalars(
        select(CannedResponse).where(*conditions).order_by(CannedResponse.shortcut)
    ).all()
    articles = linked_articles(db, responses)
    stale: list[tuple[CannedResponse, Staleness]] = []
    for response in responses:
        state = staleness(
            response,
            articles.get(response.article_id) if response.article_id else None,
            now=now,
            review_days=review_days,
        )
        if state.stale:
            stale.append((response, state))
    never_used = [response for response in responses if response.usage_count == 0]
    return MaintenanceReport(stale=stale, never_used=never_used, review_days=review_days)


# ---------------------------------------------------------------- rendering


def customer_types(contact: Contact) -> frozenset[str]:
    """What kind of customer this is, in the words of the customer-type tags."""
    types: set[str] = set()
    if contact.plan:
        types.add(contact.plan)
    if contact.orders_count <= NEW_CUSTOMER_MAX_ORDERS and contact.plan in (
        None,
        Plan.FREE.value,
        Plan.TRIAL.value,
    ):
        types.add("new")
    if (
        contact.orders_count >= LOYAL_CUSTOMER_MIN_ORDERS
        or contact.lifetime_value_cents >= LOYAL_CUSTOMER_MIN_CENTS
    ):
        types.add("loyal")
    declared = (contact.custom_attributes or {}).get("customer_type")
    if isinstance(declared, str) and declared.strip():
        types.add(" ".join(declared.split()).lower())
    return frozenset(types)


def template_context(
    conversation: Conversation, contact: Contact, agent: User | None
) -> TemplateContext:
    return TemplateContext(
        contact=ContactFacts(
            name=contact.name or None,
            email=contact.email,
            plan=contact.plan,
            custom=dict(contact.custom_attributes or {}),
        ),
        conversation=ConversationFacts(
            number=conversation.number,
            subject=conversation.subject or None,
            category=conversation.category,
        ),
        agent=AgentFacts(name=agent.name if agent is not None else None),
    )


def _conversation_context(
    db: Session, viewer: Viewer, conversation_id: int
) -> tuple[Conversation, Contact, TemplateContext]:
    conversation = access_conversation(db, viewer, conversation_id)
    contact = db.get(Contact, conversation.contact_id)
    if contact is None:  # pragma: no cover - contacts are never deleted under a conversation
        raise NotFound("conversation", conversation_id)
    agent = db.get(User, viewer.user_id)
    return conversation, contact, template_context(conversation, contact, agent)


def preview_canned(
    db: Session, viewer: Viewer, response_id: int, conversation_id: int
) -> RenderResult:
    """The response as it would be sent in this conversation by the viewer."""
    response = access_canned(db, viewer, response_id)
    _, _, context = _conversation_context(db, viewer, conversation_id)
    return render_template(response.body, context)


def preview_body(db: Session, viewer: Viewer, body: str, conversation_id: int) -> RenderResult:
    """An unsaved template rendered with a real conversation (the editor's preview)."""
    _, _, context = _conversation_context(db, viewer, conversation_id)
    return render_template(body, context)


# ---------------------------------------------------------------- the composer's picker


@dataclass(frozen=True, slots=True)
class Suggestion:
    entry: CannedEntry
    reasons: tuple[str, ...]
    """What the response has in common with the conversation: language, category,
    topic, customer_type, urgency."""
    context_score: int
    text_score: float
    rendered: RenderResult


def _usable(viewer: Viewer) -> Callable[[CannedEntry], bool]:
    def accept(entry: CannedEntry) -> bool:
        return (
            not entry.archived
            and not entry.draft
            and can_see(viewer, entry.scope, entry.owner_id, entry.team_id)
        )

    return accept


def suggest_canned(
    db: Session,
    viewer: Viewer,
    conversation_id: int,
    *,
    q: str = "",
    limit: int = 10,
) -> list[Suggestion]:
    """Responses for the `/` picker, best first: those that fit the conversation's
    language, category, customer type and urgency come first, then the text match
    (an exact shortcut always leads). Each comes rendered for this conversation."""
    conversation, contact, context = _conversation_context(db, viewer, conversation_id)
    index = knowledge_index(db)
    accept = _usable(viewer)
    query = q.strip().lstrip("/").strip()
    language = normalise_language(conversation.language or contact.language or "en")
    category = conversation.category
    topics_wanted = set(
        db.scalars(
            select(ConversationTag.tag).where(ConversationTag.conversation_id == conversation.id)
        )
    )
    types = customer_types(contact)

    text_scores: dict[int, float] = {}
    candidates: list[CannedEntry]
    if query:
        hits = index.search_canned(db, query, limit=200, where=accept, highlight_matches=False)
        text_scores = {entry.id: hit.score for entry, hit in hits}
        candidates = [entry for entry, _ in hits]
        exact = [
            entry
            for entry in index.canned(db).values()
            if entry.shortcut == query.lower() and accept(entry) and entry.id not in text_scores
        ]
        candidates.extend(exact)
    else:
        candidates = [entry for entry in index.canned(db).values() if accept(entry)]

    ranked: list[tuple[tuple[Any, ...], CannedEntry, tuple[str, ...], int]] = []
    for entry in candidates:
        tags = stored_tags(tuple(entry.tags))
        reasons: list[str] = []
        score = 0
        if entry.language == language:
            reasons.append("language")
            score += RANK_LANGUAGE
        if category and category in tags.topic:
            reasons.append("category")
            score += RANK_CATEGORY
        if topics_wanted & set(tags.topic):
            reasons.append("topic")
            score += RANK_TOPIC
        if types & set(tags.customer):
            reasons.append("customer_type")
            score += RANK_CUSTOMER
        if conversation.priority in tags.urgency:
            reasons.append("urgency")
            score += RANK_URGENCY
        exact_shortcut = bool(query) and entry.shortcut == query.lower()
        key = (
            not exact_shortcut,
            -score,
            -text_scores.get(entry.id, 0.0),
            -entry.usage_count,
            entry.shortcut,
            entry.id,
        )
        ranked.append((key, entry, tuple(reasons), score))
    ranked.sort(key=lambda item: item[0])
    return [
        Suggestion(
            entry=entry,
            reasons=reasons,
            context_score=score,
            text_score=text_scores.get(entry.id, 0.0),
            rendered=render_template(entry.body, context),
        )
        for _, entry, reasons, score in ranked[:limit]
    ]


# ---------------------------------------------------------------- save a sent reply


@dataclass(frozen=True, slots=True)
class Templated:
    body: str
    replaced: tuple[tuple[str, str], ...]
    """(text as sent, placeholder put in its place)."""


def _replace_word(text: str, word: str, placeholder: str) -> tuple[str, bool]:
    pattern = re.compile(rf"(?<![\w{{]){re.escape(word)}(?![\w}}])")
    new, count = pattern.subn(lambda _match: placeholder, text)
    return new, count > 0


def templatize(
    body: str, conversation: Conversation, contact: Contact, author: User | None
) -> Templated:
    """Turn what was said to one customer into a template for the next: their first
    name, the agent's first name, the conversation number and custom attributes
    (an order number) become placeholders."""
    replacements: list[tuple[str, str]] = []
    custom = contact.custom_attributes or {}
    for key, value in custom.items():
        if type(value) not in (str, int) or not re.fullmatch(r"[A-Za-z0-9_][A-Za-z0-9_-]*", key):
            continue
        text = str(value).strip()
        if len(text) >= 3:
            replacements.append((text, f"{{{{ contact.custom.{key} }}}}"))
    replacements.append((f"#{conversation.number}", "#{{ conversation.number }}"))
    first, _ = split_name(contact.name)
    if first and len(first) >= 2:
        replacements.append((first, '{{ contact.first_name | default("there") }}'))
    agent_first, _ = split_name(author.name if author else None)
    if agent_first and len(agent_first) >= 2 and agent_first != first:
        replacements.append((agent_first, "{{ agent.first_name }}"))
    done: list[tuple[str, str]] = []
    for word, placeholder in replacements:
        body, found = _replace_word(body, word, placeholder)
        if found:
            done.append((word, placeholder))
    return Templated(body=body, replaced=tuple(done))


@dataclass(frozen=True, slots=True)
class FromMessage:
    response: CannedResponse
    replaced: tuple[tuple[str, str], ...]


def do_create_from_message(
    db: Session,
    viewer: Viewer,
    message_id: int,
    *,
    shortcut: str,
    title: str | None,
    scope: str = "personal",
    team_id: int | None = None,
    tags: CannedTags | None = None,
    language: str | None = None,
    draft: bool = False,
    now: datetime,
) -> FromMessage:
    """Save an agent's sent reply as a canned response, names turned into placeholders."""
    message = db.get(Message, message_id)
    if message is None:
        raise NotFound("message", message_id)
    try:
        conversation = access_conversation(db, viewer, message.conversation_id)
    except NotFound:
        raise NotFound("message", message_id) from None
    if message.author_type != AuthorType.AGENT.value or message.kind != MessageKind.REPLY.value:
        raise ValidationFailed(
            "only replies sent by agents can be saved as canned responses",
            {"field": "message_id"},
        )
    contact = db.get(Contact, conversation.contact_id)
    assert contact is not None
    author = db.get(User, message.author_user_id) if message.author_user_id else None
    templated = templatize(message.body, conversation, contact, author)
    default_title = " ".join(message.body.split())[:60] or "Saved reply"
    response = do_create_canned(
        db,
        viewer,
        CannedInput(
            shortcut=shortcut,
            title=title or default_title,
            body=templated.body,
            language=language or conversation.language or contact.language or "en",
            scope=scope,
            team_id=team_id,
            tags=tags
            or CannedTags(topic=(conversation.category,) if conversation.category else ()),
            draft=draft,
        ),
        now=now,
    )
    return FromMessage(response=response, replaced=templated.replaced)


# ---------------------------------------------------------------- CSV


def _csv_safe(value: str) -> str:
    """Spreadsheets run cells that start like a formula; a leading ' stops that
    (and is taken off again on import, so a round trip changes nothing)."""
    return "'" + value if value.startswith(_FORMULA_STARTS) else value


def _csv_value(value: str) -> str:
    if value.startswith("'") and value[1:].startswith(_FORMULA_STARTS):
        return value[1:]
    return value


def export_csv(db: Session, viewer: Viewer) -> str:
    """Every response the viewer can see (archived ones included), one row each."""
    responses = db.scalars(
        select(CannedResponse)
        .where(visible_clause(viewer))
        .order_by(CannedResponse.scope, CannedResponse.shortcut, CannedResponse.id)
    ).all()
    teams = {team.id: team.name for team in db.scalars(select(Team))}
    articles = linked_articles(db, responses)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for response in responses:
        tags = CannedTags.from_stored(response.tags or ())
        article = articles.get(response.article_id) if response.article_id else None
        row = [
            response.shortcut,
            response.title,
            response.body,
            response.language,
            response.scope,
            teams.get(response.team_id, "") if response.team_id else "",
            ";".join(tags.urgency),
            ";".join(tags.topic),
            ";".join(tags.customer),
            article.slug if article is not None else "",
            "yes" if response.archived else "no",
            "yes" if response.draft else "no",
        ]
        writer.writerow([_csv_safe(value) for value in row])
    return out.getvalue()


@dataclass(frozen=True, slots=True)
class ImportRow:
    line: int
    data: CannedInput
    archived: bool
    owner_id: int | None


@dataclass(frozen=True, slots=True)
class ImportResult:
    created: int
    updated: int
    unchanged: int


def _flag(value: str, line: int, column: str, errors: list[dict[str, Any]]) -> bool:
    text = value.strip().lower()
    if text in ("", "no", "false", "0"):
        return False
    if text in ("yes", "true", "1"):
        return True
    errors.append({"line": line, "field": column, "message": "use yes or no"})
    return False


def _split_tags(value: str) -> list[str]:
    return [part for part in (piece.strip() for piece in value.split(";")) if part]


def _check_row_text(
    values: Mapping[str, str], draft: bool, line: int, errors: list[dict[str, Any]]
) -> dict[str, str]:
    """The row's shortcut, title, body and language, checked; problems go to `errors`."""
    checks: tuple[tuple[str, Callable[[str], str], str], ...] = (
        ("shortcut", check_shortcut, values["shortcut"]),
        ("title", check_title, values["title"]),
        ("body", lambda body: check_body(body, draft=draft), values["body"]),
        ("language", check_language, values.get("language") or "en"),
    )
    checked: dict[str, str] = {}
    for name, check, value in checks:
        try:
            checked[name] = check(value)
        except ValidationFailed as exc:
            error: dict[str, Any] = {"line": line, "field": name, "message": exc.message}
            if "issues" in exc.details:
                error["issues"] = exc.details["issues"]
            errors.append(error)
    return checked


def _parse_rows(
    db: Session, viewer: Viewer, text: str
) -> tuple[list[ImportRow], list[dict[str, Any]]]:
    errors: list[dict[str, Any]] = []
    rows: list[ImportRow] = []
    reader = csv.reader(io.StringIO(text), strict=True)
    try:
        header = next(reader)
    except StopIteration:
        return [], [{"line": 1, "field": None, "message": "the file is empty"}]
    except csv.Error as exc:
        return [], [{"line": 1, "field": None, "message": f"not a CSV file: {exc}"}]
    columns = [name.strip().lower() for name in header]
    missing = [name for name in ("shortcut", "title", "body") if name not in columns]
    unknown = [name for name in columns if name not in CSV_COLUMNS]
    if missing or unknown:
        message = []
        if missing:
            message.append("missing columns: " + ", ".join(missing))
        if unknown:
            message.append("unknown columns: " + ", ".join(unknown))
        return [], [{"line": 1, "field": None, "message": "; ".join(message)}]
    teams = {team.name.casefold(): team.id for team in db.scalars(select(Team))}
    slugs = dict(db.execute(select(Article.slug, Article.id)).all())
    seen: dict[tuple[str, int | None, int | None, str], int] = {}
    line = reader.line_num
    while True:
        start = line + 1
        try:
            raw = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            errors.append({"line": start, "field": None, "message": f"broken CSV: {exc}"})
            break
        line = reader.line_num
        if not any(cell.strip() for cell in raw):
            continue
        if len(rows) + len(errors) >= MAX_IMPORT_ROWS:
            errors.append(
                {"line": start, "field": None, "message": f"at most {MAX_IMPORT_ROWS} rows"}
            )
            break
        if len(raw) != len(columns):
            errors.append(
                {
                    "line": start,
                    "field": None,
                    "message": f"expected {len(columns)} values, found {len(raw)}",
                }
            )
            continue
        values = {name: _csv_value(cell) for name, cell in zip(columns, raw, strict=True)}
        row_errors: list[dict[str, Any]] = []
        archived = _flag(values.get("archived", ""), start, "archived", row_errors)
        draft = _flag(values.get("draft", ""), start, "draft", row_errors)
        scope = (values.get("scope") or "personal").strip().lower()
        team_id: int | None = None
        team_name = (values.get("team") or "").strip()
        if scope == "team":
            team_id = teams.get(team_name.casefold())
            if team_id is None:
                row_errors.append(
                    {"line": start, "field": "team", "message": f"no team named {team_name!r}"}
                )
        article_id: int | None = None
        slug = (values.get("article") or "").strip()
        if slug:
            article_id = slugs.get(slug)
            if article_id is None:
                row_errors.append(
                    {"line": start, "field": "article", "message": f"no article {slug!r}"}
                )
        try:
            tags = check_tags(
                urgency=_split_tags(values.get("urgency", "")),
                topic=_split_tags(values.get("topic", "")),
                customer=_split_tags(values.get("customer_type", "")),
            )
        except ValidationFailed as exc:
            row_errors.append({"line": start, "field": "tags", "message": exc.message})
            tags = CannedTags()
        owner_id: int | None = None
        checked = _check_row_text(values, draft, start, row_errors)
        if not any(error["field"] == "team" for error in row_errors):
            try:
                owner_id, team_id = _check_scope(db, viewer, scope, team_id)
            except (ValidationFailed, PermissionDenied) as exc:
                row_errors.append({"line": start, "field": "scope", "message": exc.message})
        if row_errors:
            errors.extend(row_errors)
            continue
        key = (scope, owner_id, team_id, checked["shortcut"])
        if not archived:
            if key in seen:
                errors.append(
                    {
                        "line": start,
                        "field": "shortcut",
                        "message": f"/{checked['shortcut']} is already on line {seen[key]}",
                    }
                )
                continue
            seen[key] = start
        rows.append(
            ImportRow(
                line=start,
                data=CannedInput(
                    shortcut=checked["shortcut"],
                    title=checked["title"],
                    body=checked["body"],
                    language=checked["language"],
                    scope=scope,
                    team_id=team_id,
                    tags=tags,
                    article_id=article_id,
                    draft=draft,
                ),
                archived=archived,
                owner_id=owner_id,
            )
        )
    return rows, errors


def _existing_for(db: Session, row: ImportRow, claimed: set[int]) -> CannedResponse | None:
    """The response a row updates: same scope owner and shortcut, active first."""
    query = select(CannedResponse).where(
        CannedResponse.shortcut == row.data.shortcut, CannedResponse.scope == row.data.scope
    )
    if row.data.scope == "personal":
        query = query.where(CannedResponse.owner_id == row.owner_id)
    elif row.data.scope == "team":
        query = query.where(CannedResponse.team_id == row.data.team_id)
    candidates = db.scalars(query.order_by(CannedResponse.archived, CannedResponse.id)).all()
    for candidate in candidates:
        if candidate.id not in claimed and candidate.archived == row.archived:
            return candidate
    for candidate in candidates:
        if candidate.id not in claimed:
            return candidate
    return None


def do_import_csv(db: Session, viewer: Viewer, text: str, *, now: datetime) -> ImportResult:
    """Create or update responses from CSV rows, all or nothing: any problem in any
    row refuses the whole file with every problem and its line number."""
    revision = bump_revision(db)
    rows, errors = _parse_rows(db, viewer, text.removeprefix("\ufeff"))
    if not errors and not rows:
        errors.append({"line": 2, "field": None, "message": "the file has no responses"})
    if errors:
        db.rollback()
        raise ValidationFailed(
            f"the file has {len(errors)} problem{'s' if len(errors) != 1 else ''}; "
            "nothing was imported",
            {"errors": errors},
        )
    created = updated = unchanged = 0
    claimed: set[int] = set()
    written: list[CannedResponse] = []
    for row in rows:
        existing = _existing_for(db, row, claimed)
        data = row.data
        values: dict[str, Any] = {
            "title": data.title,
            "body": data.body,
            "language": data.language,
            "tags": data.tags.stored(),
            "article_id": data.article_id,
            "draft": data.draft,
            "archived": row.archived,
        }
        if existing is None:
            if not row.archived and _shortcut_taken(
                db, data.shortcut, data.scope, row.owner_id, data.team_id
            ):
                raise Conflict(  # pragma: no cover - rows are matched to active ones first
                    f"/{data.shortcut} is taken", {"line": row.line}
                )
            response = CannedResponse(
                shortcut=data.shortcut,
                scope=data.scope,
                owner_id=row.owner_id,
                team_id=data.team_id,
                usage_count=0,
                last_reviewed_at=now,
                revision=revision,
                created_at=now,
                updated_at=now,
                **values,
            )
            db.add(response)
            _record_version(db, response, "imported", [], user_id=viewer.user_id, now=now)
            claimed.add(response.id)
            written.append(response)
            created += 1
            continue
        claimed.add(existing.id)
        if not can_manage(viewer, existing.scope, existing.owner_id, existing.team_id):
            raise PermissionDenied(  # pragma: no cover - scope was checked per row
                "you may not change this response", {"line": row.line}
            )
        changed = [name for name, value in values.items() if getattr(existing, name) != value]
        if not changed:
            unchanged += 1
            continue
        for name in changed:
            setattr(existing, name, values[name])
        existing.revision = revision
        existing.updated_at = now
        if {"body", "title"} & set(changed):
            existing.last_reviewed_at = now
        _record_version(db, existing, "imported", changed, user_id=viewer.user_id, now=now)
        written.append(existing)
        updated += 1
    db.commit()
    _after_commit(db, revision, written)
    return ImportResult(created=created, updated=updated, unchanged=unchanged)
