"""REST routes for AI assist: a conversation's analysis and reply suggestions (for
agents who may see it), the classifier's accuracy and retraining (admins), and the
FAQ bot's buttons in the widget (the visitor of the conversation)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Path, Request
from pydantic import BaseModel, Field

from helpline.services import ai_assist, bot
from helpline.services.ai_suggestions import suggest_replies
from helpline.services.conversations import access_conversation
from helpline.web.api.widget import CurrentVisitor, WidgetInbox, widget_limits
from helpline.web.deps import AdminUser, AppSettings, CurrentViewer, DbSession, Now, client_ip
from helpline.web.schemas.conversations import MAX_DB_ID

router = APIRouter(tags=["ai"])

ConversationId = Annotated[int, Path(ge=1, le=MAX_DB_ID, description="The conversation's id")]


class FrustrationReasonPublic(BaseModel):
    kind: str
    evidence: str


class ConversationAiPublic(BaseModel):
    """What AI assist made of the customer's words (the badge and the category hint)."""

    conversation_id: int
    category: str | None
    category_confidence: float | None
    category_source: str | None
    urgent_reasons: list[str]
    language: str | None
    frustration: float | None
    frustration_level: str | None
    frustration_reasons: list[FrustrationReasonPublic]
    tone_register: str | None
    """casual, neutral or formal: the register replies should match."""
    bot_active: bool


class SuggestionPublic(BaseModel):
    kind: str = Field(description="canned, article or past_reply")
    title: str
    text: str = Field(description="Ready to insert: placeholders filled, opening included")
    source_id: int
    url: str | None
    snippet: str | None
    score: float


class DraftPublic(BaseModel):
    text: str
    source: str = Field(description="llm (drafted by the configured model) or suggestion")


class SuggestionsPublic(BaseModel):
    conversation_id: int
    query: str
    opening: str | None = Field(description="Empathetic opening when frustration is high")
    data: list[SuggestionPublic]
    count: int
    draft: DraftPublic | None = Field(description="Only with an LLM configured; never sent")


class CategoryAccuracyPublic(BaseModel):
    category: str
    predicted: int
    correct: int
    corrected_to: int
    precision: float | None
    recall: float | None


class AccuracyPublic(BaseModel):
    predicted: int
    correct: int
    accuracy: float | None
    corrections: int
    untrained_corrections: int
    last_trained_at: datetime | None
    data: list[CategoryAccuracyPublic]


class RetrainPublic(BaseModel):
    labels: int
    new_labels: int
    seconds: float


class BotStatePublic(BaseModel):
    bot_active: bool
    handed_over: bool
    reason: str | None = None
    offline: bool = False
    """Nobody can take over now: the widget shows the offline form."""


@router.get("/conversations/{conversation_id}/ai", response_model=ConversationAiPublic)
def conversation_ai(
    conversation_id: ConversationId, db: DbSession, viewer: CurrentViewer
) -> ConversationAiPublic:
    """Category, urgency, language, frustration (with reasons) and register."""
    conversation = access_conversation(db, viewer, conversation_id)
    payload: dict[str, Any] = ai_assist.ai_payload(conversation)
    db.commit()
    return ConversationAiPublic(conversation_id=conversation_id, **payload)


@router.get("/conversations/{conversation_id}/suggestions", response_model=SuggestionsPublic)
def conversation_suggestions(
    conversation_id: ConversationId,
    db: DbSession,
    viewer: CurrentViewer,
    settings: AppSettings,
    now: Now,
) -> SuggestionsPublic:
    """The top 3 replies from canned responses, articles and the team's past replies;
    with an LLM configured, a drafted reply grounded in them (never sent)."""
    found = suggest_replies(db, viewer, conversation_id, settings=settings, now=now)
    return SuggestionsPublic(
        conversation_id=found.conversation_id,
        query=found.query,
        opening=found.opening,
        data=[
            SuggestionPublic(
                kind=item.kind,
                title=item.title,
                text=item.text,
                source_id=item.source_id,
                url=item.url,
                snippet=item.snippet,
                score=round(item.score, 3),
            )
            for item in found.suggestions
        ],
        count=len(found.suggestions),
        draft=DraftPublic(text=found.draft.text, source=found.draft.source)
        if found.draft
        else None,
    )


@router.get("/admin/ai/accuracy", response_model=AccuracyPublic)
def ai_accuracy(db: DbSession, admin: AdminUser, viewer: CurrentViewer) -> AccuracyPublic:
    """How often agents kept the classifier's category, per category."""
    overview = ai_assist.category_accuracy(db, viewer)
    db.commit()
    return AccuracyPublic(
        predicted=overview.predicted,
        correct=overview.correct,
        accuracy=overview.accuracy,
        corrections=overview.corrections,
        untrained_corrections=overview.untrained_corrections,
        last_trained_at=overview.last_trained_at,
        data=[
            CategoryAccuracyPublic(
                category=row.category,
                predicted=row.predicted,
                correct=row.correct,
                corrected_to=row.corrected_to,
                precision=row.precision,
                recall=row.recall,
            )
            for row in overview.per_category
        ],
    )


@router.post("/admin/ai/retrain", response_model=RetrainPublic)
def ai_retrain(db: DbSession, admin: AdminUser, now: Now) -> RetrainPublic:
    """Retrain the category model on every correction now."""
    report = ai_assist.do_retrain(db, now=now)
    return RetrainPublic(
        labels=report.labels, new_labels=report.new_labels, seconds=round(report.seconds, 3)
    )


# ---------------------------------------------------------------- the widget's bot buttons


def _bot_state(outcome: bot.BotOutcome) -> BotStatePublic:
    return BotStatePublic(
        bot_active=outcome.bot_active,
        handed_over=outcome.handed_over,
        reason=outcome.reason,
        offline=outcome.offline,
    )


WIDGET_BOT = "/widget/{public_key}/conversations/{conversation_id}/bot"


@router.get(WIDGET_BOT, response_model=BotStatePublic)
def widget_bot_state(
    conversation_id: ConversationId,
    inbox: WidgetInbox,
    visitor: CurrentVisitor,
    db: DbSession,
    now: Now,
) -> BotStatePublic:
    """Whether the bot answers this conversation (the widget shows its buttons then)."""
    return _bot_state(bot.bot_state(db, visitor, conversation_id, now=now))


@router.post(WIDGET_BOT + "/handover", response_model=BotStatePublic)
def widget_bot_handover(
    conversation_id: ConversationId,
    request: Request,
    inbox: WidgetInbox,
    visitor: CurrentVisitor,
    db: DbSession,
    now: Now,
) -> BotStatePublic:
    """ "Talk to a human": one click hands the conversation to the agents."""
    widget_limits(request.app).message(visitor, client_ip(request), now=now)
    return _bot_state(bot.do_visitor_hand_over(db, visitor, conversation_id, now=now))


@router.post(WIDGET_BOT + "/unhelpful", response_model=BotStatePublic)
def widget_bot_unhelpful(
    conversation_id: ConversationId,
    request: Request,
    inbox: WidgetInbox,
    visitor: CurrentVisitor,
    db: DbSession,
    now: Now,
) -> BotStatePublic:
    """ "That didn't help": the second time hands over to a person."""
    widget_limits(request.app).message(visitor, client_ip(request), now=now)
    return _bot_state(bot.do_unhelpful(db, visitor, conversation_id, now=now))
