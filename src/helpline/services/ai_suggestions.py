"""Reply suggestions for the focused conversation (agent assist).

The top three from the team's canned responses (rendered with the contact's
placeholders), help-center articles (link and snippet) and replies agents of the
same team gave to similar customer messages (BM25 over recent conversations),
with an empathetic opening in the customer's language and register when the
customer sounds frustrated. With an LLM configured, a drafted reply grounded in
those sources; nothing here is ever sent without the agent.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from sqlalchemy import select
from sqlalchemy.orm import Session, aliased

from helpline.adapters.ai.interfaces import ChatMessage, LlmClient
from helpline.adapters.ai.llm import OpenAICompatibleClient, complete_or_fallback
from helpline.adapters.db.models import Conversation, Message
from helpline.ai.frustration import HIGH
from helpline.ai.register import empathetic_opening
from helpline.domain.access import Viewer
from helpline.domain.enums import AuthorType, MessageKind
from helpline.domain.search.index import SearchIndex
from helpline.services import ai_assist
from helpline.services.articles import search_for_agents
from helpline.services.canned import suggest_canned
from helpline.services.conversations import access_conversation
from helpline.settings import Settings

SUGGESTIONS = 3
PAST_REPLY_CANDIDATES = 400
"""Recent customer messages (with the agent's answer) searched for similar ones."""
MIN_PAST_REPLY_SCORE = 1.0
QUERY_CHARS = 400
SNIPPET_CHARS = 240
_TAGS = re.compile(r"<[^>]+>")

SuggestionKind = Literal["canned", "article", "past_reply"]


@dataclass(frozen=True, slots=True)
class ReplySuggestion:
    kind: SuggestionKind
    title: str
    text: str
    """Ready to insert into the composer (placeholders filled, opening included)."""
    source_id: int
    """Canned response, article or conversation the suggestion comes from."""
    url: str | None = None
    """Help-center link of an article."""
    snippet: str | None = None
    score: float = 0.0


@dataclass(frozen=True, slots=True)
class Draft:
    text: str
    source: Literal["llm", "suggestion"]
    """`llm`: drafted by the configured model; `suggestion`: the best suggestion."""


@dataclass(frozen=True, slots=True)
class ReplySuggestions:
    conversation_id: int
    query: str
    opening: str | None
    """The empathetic first sentence, when the customer's frustration is high."""
    suggestions: list[ReplySuggestion] = field(default_factory=list)
    draft: Draft | None = None


def llm_client(settings: Settings) -> LlmClient | None:
    """The configured OpenAI-compatible endpoint, or None (offline default)."""
    if not settings.llm_base_url or not settings.llm_model:
        return None
    key = settings.llm_api_key.get_secret_value() if settings.llm_api_key else None
    return OpenAICompatibleClient(
        settings.llm_base_url,
        settings.llm_model,
        api_key=key,
        timeout_seconds=settings.llm_timeout_seconds,
    )


def _plain(text: str) -> str:
    """A highlighted snippet as plain text (the UI escapes it again)."""
    return " ".join(html.unescape(_TAGS.sub("", text)).split())


def _clip(text: str, limit: int = SNIPPET_CHARS) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rsplit(" ", 1)[0] + "…"


def _past_replies(
    db: Session, conversation: Conversation, query: str, language: str | None
) -> list[ReplySuggestion]:
    """What agents of this team (this inbox when it has no team) answered to the
    customer messages most like this one, in other conversations."""
    customer = aliased(Message)
    reply = aliased(Message)
    scope = (
        Conversation.team_id == conversation.team_id
        if conversation.team_id is not None
        else Conversation.inbox_id == conversation.inbox_id
    )
    next_reply_seq = (
        select(reply.seq)
        .where(
            reply.conversation_id == customer.conversation_id,
            reply.seq > customer.seq,
            reply.author_type == AuthorType.AGENT.value,
            reply.kind == MessageKind.REPLY.value,
        )
        .order_by(reply.seq)
        .limit(1)
        .correlate(customer)
        .scalar_subquery()
    )
    rows = db.execute(
        select(customer.id, customer.conversation_id, customer.body, Message.body)
        .join(Conversation, Conversation.id == customer.conversation_id)
        .join(
            Message,
            (Message.conversation_id == customer.conversation_id) & (Message.seq == next_reply_seq),
        )
        .where(
            scope,
            customer.conversation_id != conversation.id,
            customer.author_type == AuthorType.CONTACT.value,
            customer.kind == MessageKind.REPLY.value,
        )
        .order_by(customer.id.desc())
        .limit(PAST_REPLY_CANDIDATES)
    ).all()
    if not rows:
        return []
    index: SearchIndex[int] = SearchIndex(field_weights={"body": 1.0})
    answers: dict[int, tuple[int, str, str]] = {}
    for message_id, conversation_id, asked, answered in rows:
        index.add(message_id, {"body": asked}, language)
        answers[message_id] = (conversation_id, asked, answered)
    found = []
    for hit in index.search(query, None, SUGGESTIONS, highlight_matches=False):
        if hit.score < MIN_PAST_REPLY_SCORE:
            continue
        conversation_id, asked, answered = answers[hit.doc_id]
        found.append(
            ReplySuggestion(
                kind="past_reply",
                title=f"Reply to “{_clip(asked, 60)}”",
                text=answered,
                source_id=conversation_id,
                snippet=_clip(asked),
                score=hit.score,
            )
        )
    return found


def _interleave(groups: list[list[ReplySuggestion]], limit: int) -> list[ReplySuggestion]:
    """The best of each source first, then the next best of each, up to `limit`."""
    chosen: list[ReplySuggestion] = []
    depth = 0
    while len(chosen) < limit and any(depth < len(group) for group in groups):
        for group in groups:
            if depth < len(group) and len(chosen) < limit:
                chosen.append(group[depth])
        depth += 1
    return chosen


def _with_opening(text: str, opening: str | None) -> str:
    return f"{opening} {text}" if opening else text


def _draft_messages(
    conversation: Conversation,
    texts: list[str],
    sources: list[ReplySuggestion],
    opening: str | None,
) -> list[ChatMessage]:
    listing = "\n\n".join(
        f"[{number}] {source.kind} — {source.title}\n{_clip(source.text, 1200)}"
        for number, source in enumerate(sources, start=1)
    )
    instructions = (
        "You draft a reply for a customer-support agent, who will edit it before sending. "
        "Answer only from the sources below; if they do not answer the question, say what "
        "the agent should check instead. Reply in the customer's language"
        f" ({conversation.ai_language or conversation.language or 'en'})"
        f" and match their register ({conversation.tone_register or 'neutral'})."
    )
    if opening:
        instructions += f' Start with an empathetic sentence like: "{opening}"'
    customer = "\n".join(texts[-3:])
    return [
        ChatMessage("system", instructions + "\n\nSources:\n" + (listing or "(none)")),
        ChatMessage("user", f"The customer wrote:\n{customer}\n\nDraft the reply."),
    ]


def suggest_replies(
    db: Session,
    viewer: Viewer,
    conversation_id: int,
    *,
    settings: Settings,
    now: datetime,
    llm: LlmClient | None = None,
) -> ReplySuggestions:
    """Top suggestions for the conversation the viewer may see (NotFound otherwise);
    `llm` (default: from settings) drafts a grounded reply when configured."""
    conversation = access_conversation(db, viewer, conversation_id)
    texts = ai_assist.customer_texts(db, conversation.id, limit=3)
    query = (texts[-1] if texts else conversation.subject or "")[-QUERY_CHARS:] + " "
    language = conversation.ai_language or conversation.language
    opening = None
    if (conversation.frustration or 0.0) >= HIGH:
        repeated = any(
            reason.get("kind") == "repeated_contact"
            for reason in conversation.frustration_reasons or []
        )
        register = conversation.tone_register or "neutral"
        opening = empathetic_opening(
            language,
            "casual" if register == "casual" else "formal",
            repeated_contact=repeated,
        )

    canned = [
        ReplySuggestion(
            kind="canned",
            title=item.entry.title,
            text=_with_opening(item.rendered.text, opening),
            source_id=item.entry.id,
            snippet=_clip(item.rendered.text),
            score=item.text_score,
        )
        for item in suggest_canned(db, viewer, conversation.id, q=query.strip(), limit=SUGGESTIONS)
        if item.text_score > 0 or item.context_score > 0
    ]
    articles = []
    for entry, hit in search_for_agents(db, viewer, query, language=None, limit=SUGGESTIONS):
        url = (
            None
            if entry.internal
            else f"{settings.base_url.rstrip('/')}/help/articles/{entry.slug}"
        )
        snippet = _plain(hit.highlights.get("body", "")) or entry.title
        link = f"\n{url}" if url else ""
        articles.append(
            ReplySuggestion(
                kind="article",
                title=entry.title,
                text=_with_opening(f"This article explains it: {entry.title}{link}", opening),
                source_id=entry.id,
                url=url,
                snippet=_clip(snippet),
                score=hit.score,
            )
        )
    past = [
        ReplySuggestion(
            kind=item.kind,
            title=item.title,
            text=_with_opening(item.text, opening),
            source_id=item.source_id,
            snippet=item.snippet,
            score=item.score,
        )
        for item in _past_replies(db, conversation, query, language)
    ]
    chosen = _interleave([canned, articles, past], SUGGESTIONS)
    result = ReplySuggestions(
        conversation_id=conversation.id, query=query.strip(), opening=opening, suggestions=chosen
    )
    messages = _draft_messages(conversation, texts, chosen, opening)
    db.commit()  # end the read (on SQLite: the write lock) before a slow LLM call
    own_client = llm is None
    client = llm if llm is not None else llm_client(settings)
    if client is None:
        return result

    def fallback() -> str:
        return chosen[0].text if chosen else (opening or "")

    try:
        text, drafted = complete_or_fallback(client, messages, fallback, purpose="draft")
    finally:
        if own_client and isinstance(client, OpenAICompatibleClient):
            client.close()
    draft = Draft(text=text, source="llm" if drafted else "suggestion") if text else None
    return ReplySuggestions(
        conversation_id=result.conversation_id,
        query=result.query,
        opening=opening,
        suggestions=chosen,
        draft=draft,
    )
