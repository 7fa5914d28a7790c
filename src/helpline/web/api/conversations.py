"""REST routes for conversations: the inbox list, messages, status, assignment, history.

Routes parse and shape; the services check visibility (404 for conversations the
caller may not see) and rights, and write one transaction each.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query, Response, status

from helpline.adapters.db.models import Conversation
from helpline.domain.enums import Channel, ConversationStatus, Priority
from helpline.services import conversations as service
from helpline.services.conversation_queries import (
    ConversationFilters,
    ConversationSort,
    describe_conversation,
    get_conversation,
    list_conversations,
)
from helpline.services.errors import ValidationFailed
from helpline.web.deps import AppSettings, CurrentViewer, DbSession, Now
from helpline.web.schemas.conversations import (
    MAX_DB_ID,
    AssignRequest,
    ConversationCreate,
    ConversationList,
    ConversationPublic,
    ConversationUpdate,
    HistoryEntryPublic,
    HistoryPage,
    IncomingMessage,
    MessageCreate,
    MessagePublic,
    StatusChange,
    TagsUpdate,
    TransferRequest,
)

router = APIRouter(prefix="/conversations", tags=["conversations"])

ConversationId = Annotated[int, Path(ge=1, le=MAX_DB_ID, description="The conversation's id")]
OptionalId = Annotated[int | None, Query(ge=1, le=MAX_DB_ID)]


def _public(db: DbSession, conversation: Conversation) -> ConversationPublic:
    return ConversationPublic.of(describe_conversation(db, conversation))


def _parse_assignee(value: str | None) -> Literal["me", "unassigned"] | int | None:
    if value is None or value == "":
        return None
    if value in ("me", "unassigned"):
        return "me" if value == "me" else "unassigned"
    if value.isdigit() and 1 <= int(value) <= MAX_DB_ID:
        return int(value)
    raise ValidationFailed("assignee is 'me', 'unassigned' or a user id", {"field": "assignee"})


@router.post("", status_code=status.HTTP_201_CREATED, response_model=ConversationPublic)
def create_conversation(
    payload: ConversationCreate,
    db: DbSession,
    now: Now,
    viewer: CurrentViewer,
    settings: AppSettings,
) -> ConversationPublic:
    """Open a conversation in an inbox you belong to; name the contact by `contact_id`
    or by `contact` (found or created by email / external id, never merged)."""
    conversation = service.do_create_conversation(
        db,
        viewer,
        inbox_id=payload.inbox_id,
        contact_id=payload.contact_id,
        contact=payload.contact.to_identity() if payload.contact is not None else None,
        subject=payload.subject,
        first_message=payload.first_message,
        priority=payload.priority,
        category=payload.category,
        team_id=payload.team_id,
        tags=payload.tags,
        now=now,
        max_chars=settings.max_message_chars,
    )
    return _public(db, conversation)


@router.get("", response_model=ConversationList)
def list_conversations_route(
    db: DbSession,
    viewer: CurrentViewer,
    status_filter: Annotated[list[ConversationStatus], Query(alias="status")] = [],  # noqa: B006
    assignee: Annotated[str | None, Query(max_length=20)] = None,
    team_id: OptionalId = None,
    inbox_id: OptionalId = None,
    priority: Priority | None = None,
    channel: Channel | None = None,
    category: Annotated[str | None, Query(max_length=40)] = None,
    tag: Annotated[str | None, Query(max_length=100)] = None,
    q: Annotated[str | None, Query(max_length=200)] = None,
    sort: ConversationSort = "last_activity",
    cursor: Annotated[str | None, Query(max_length=500)] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 50,
) -> ConversationList:
    """Conversations you can see, newest activity first by default. `status` may be
    repeated; `assignee` is `me`, `unassigned` or a user id. Follow `next_cursor`
    for more; `count` stops at 1,000 (`count_capped`)."""
    filters = ConversationFilters(
        status=tuple(status_filter),
        assignee=_parse_assignee(assignee),
        team_id=team_id,
        inbox_id=inbox_id,
        priority=priority,
        channel=channel,
        category=category,
        tag=tag,
        q=q,
        sort=sort,
    )
    page = list_conversations(db, viewer, filters, cursor=cursor, limit=limit)
    return ConversationList(
        data=[ConversationPublic.of(row) for row in page.data],
        count=page.count,
        count_capped=page.count_capped,
        next_cursor=page.next_cursor,
    )


@router.get("/{conversation_id}", response_model=ConversationPublic)
def get_conversation_route(
    conversation_id: ConversationId, db: DbSession, viewer: CurrentViewer
) -> ConversationPublic:
    return ConversationPublic.of(get_conversation(db, viewer, conversation_id))


@router.patch("/{conversation_id}", response_model=ConversationPublic)
def update_conversation(
    conversation_id: ConversationId,
    payload: ConversationUpdate,
    db: DbSession,
    now: Now,
    viewer: CurrentViewer,
) -> ConversationPublic:
    conversation = service.do_update_conversation(
        db,
        viewer,
        conversation_id,
        priority=payload.priority,
        category=payload.category,
        subject=payload.subject,
        now=now,
    )
    return _public(db, conversation)


@router.post(
    "/{conversation_id}/messages",
    status_code=status.HTTP_201_CREATED,
    response_model=MessagePublic,
    responses={200: {"description": "Already stored under this client_message_id"}},
)
def post_message(
    conversation_id: ConversationId,
    payload: MessageCreate,
    response: Response,
    db: DbSession,
    now: Now,
    viewer: CurrentViewer,
    settings: AppSettings,
) -> MessagePublic:
    """Reply to the customer (`kind: reply`) or leave an internal note (`kind: note`).
    Sending the same `client_message_id` again returns the stored message (200)."""
    posted = service.do_post_agent_message(
        db,
        viewer,
        conversation_id,
        body=payload.body,
        kind=payload.kind,
        now=now,
        client_message_id=payload.client_message_id,
        max_chars=settings.max_message_chars,
    )
    if not posted.created:
        response.status_code = status.HTTP_200_OK
    return MessagePublic.of(posted.message, posted.author_name)


@router.post(
    "/{conversation_id}/incoming",
    status_code=status.HTTP_201_CREATED,
    response_model=MessagePublic,
    responses={200: {"description": "Already stored under this client_message_id"}},
)
def relay_customer_message(
    conversation_id: ConversationId,
    payload: IncomingMessage,
    response: Response,
    db: DbSession,
    now: Now,
    viewer: CurrentViewer,
    settings: AppSettings,
) -> MessagePublic:
    """An integration relays what the customer wrote: reopens solved, pending and
    on-hold conversations; 409 on a closed one."""
    posted = service.do_relay_contact_message(
        db,
        viewer,
        conversation_id,
        body=payload.body,
        now=now,
        client_message_id=payload.client_message_id,
        max_chars=settings.max_message_chars,
    )
    if not posted.created:
        response.status_code = status.HTTP_200_OK
    return MessagePublic.of(posted.message, posted.author_name)


@router.post("/{conversation_id}/status", response_model=ConversationPublic)
def change_status(
    conversation_id: ConversationId,
    payload: StatusChange,
    db: DbSession,
    now: Now,
    viewer: CurrentViewer,
) -> ConversationPublic:
    """Move through open → pending / on_hold → solved → closed (409 when not allowed)."""
    conversation = service.do_change_status(
        db, viewer, conversation_id, payload.status, now=now, snooze_until=payload.snooze_until
    )
    return _public(db, conversation)


@router.put("/{conversation_id}/tags", response_model=ConversationPublic)
def set_tags(
    conversation_id: ConversationId,
    payload: TagsUpdate,
    db: DbSession,
    now: Now,
    viewer: CurrentViewer,
) -> ConversationPublic:
    """Replace the tags (lower-cased, 1 to 50 characters each, at most 20)."""
    conversation = service.do_set_tags(db, viewer, conversation_id, payload.tags, now=now)
    return _public(db, conversation)


@router.post("/{conversation_id}/assign", response_model=ConversationPublic)
def assign(
    conversation_id: ConversationId,
    payload: AssignRequest,
    db: DbSession,
    now: Now,
    viewer: CurrentViewer,
) -> ConversationPublic:
    """Agents take unassigned conversations or unassign themselves; supervisors and
    admins assign anyone."""
    conversation = service.do_assign(db, viewer, conversation_id, payload.assignee_id, now=now)
    return _public(db, conversation)


@router.post("/{conversation_id}/transfer", response_model=ConversationPublic)
def transfer(
    conversation_id: ConversationId,
    payload: TransferRequest,
    db: DbSession,
    now: Now,
    viewer: CurrentViewer,
) -> ConversationPublic:
    """Hand over to a colleague and/or a team (a team alone clears the assignee)."""
    conversation = service.do_transfer(
        db,
        viewer,
        conversation_id,
        to_user_id=payload.to_user_id,
        to_team_id=payload.to_team_id,
        note=payload.note,
        now=now,
    )
    return _public(db, conversation)


@router.get("/{conversation_id}/history", response_model=HistoryPage)
def history(
    conversation_id: ConversationId,
    db: DbSession,
    viewer: CurrentViewer,
    after_seq: Annotated[int, Query(ge=0, le=MAX_DB_ID)] = 0,
    limit: Annotated[int, Query(ge=1, le=500)] = 200,
) -> HistoryPage:
    """Messages and activities in order; resume with `after_seq`."""
    page = service.get_history_page(db, viewer, conversation_id, after_seq=after_seq, limit=limit)
    entries, conversation = page.entries, page.conversation
    last_seen = entries[-1].seq if entries else after_seq
    return HistoryPage(
        data=[HistoryEntryPublic.of(entry) for entry in entries],
        count=len(entries),
        next_after_seq=last_seen if last_seen < conversation.last_seq else None,
        last_seq=conversation.last_seq,
    )
