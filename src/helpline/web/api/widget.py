"""The visitor API under /api/v1/widget/{public_key}/ and the staff attachment routes.

Every widget request names a chat inbox by its public key, comes from a page the
inbox allows (Origin), and — after `sessions` — carries the visitor's signed token.
The protocol is documented in docs/widget-protocol.md.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any

from fastapi import (
    APIRouter,
    Depends,
    FastAPI,
    File,
    Form,
    HTTPException,
    Path,
    Query,
    Request,
    Response,
    UploadFile,
    status,
)
from fastapi.responses import FileResponse

from helpline.adapters.db.models import Attachment, Contact, Inbox
from helpline.adapters.storage import LocalStorage, read_chunks
from helpline.domain.enums import MessageKind
from helpline.services import attachments as files
from helpline.services import self_service, visitors, widget
from helpline.services.conversations import access_conversation, message_payload
from helpline.services.errors import AuthenticationFailed, NotFound
from helpline.services.visitors import Visitor, VisitorLimits
from helpline.settings import Settings
from helpline.web.app_state import app_object, shared_limits
from helpline.web.deps import AppSettings, CurrentViewer, DbSession, Now, client_ip
from helpline.web.origins import check_widget_origin
from helpline.web.schemas.conversations import MAX_DB_ID, MessagePublic
from helpline.web.schemas.widget import (
    AttachmentPublic,
    ContactView,
    ConversationStart,
    CsatAnswer,
    OfflineMessage,
    OfflineTicket,
    PostedVisitorMessage,
    SessionCreate,
    SessionPublic,
    TranscriptQueued,
    TranscriptRequest,
    UploadedAttachment,
    VisitorConversationList,
    VisitorHistoryPage,
    VisitorMessageCreate,
)

router = APIRouter(prefix="/widget/{public_key}", tags=["widget"])
staff_router = APIRouter(tags=["attachments"])

ConversationId = Annotated[int, Path(ge=1, le=MAX_DB_ID)]
AttachmentId = Annotated[int, Path(ge=1, le=MAX_DB_ID)]


# ---------------------------------------------------------------- app-wide helpers


def widget_limits(app: FastAPI) -> VisitorLimits:
    """The app's visitor rate limits, created on first use (one per app, so every
    test starts afresh; replace `app.state.widget_limits` to change them)."""
    return app_object(
        app, "widget_limits", lambda: VisitorLimits(app.state.settings, shared=shared_limits(app))
    )


def attachment_storage(app: FastAPI) -> LocalStorage:
    settings: Settings = app.state.settings
    return app_object(
        app, "attachment_storage", lambda: LocalStorage(settings.data_dir / "uploads")
    )


def token_lifetime(settings: Settings) -> timedelta:
    return timedelta(days=settings.visitor_token_days)


def bearer_token(request: Request) -> str | None:
    scheme, _, value = request.headers.get("Authorization", "").partition(" ")
    return value.strip() if scheme.lower() == "bearer" and value.strip() else None


# ---------------------------------------------------------------- dependencies


def get_widget_inbox(
    public_key: Annotated[str, Path(min_length=1, max_length=64)],
    request: Request,
    db: DbSession,
    settings: AppSettings,
) -> Inbox:
    inbox = visitors.access_widget_inbox(db, public_key)
    check_widget_origin(request.headers.get("origin"), inbox.settings, settings=settings)
    return inbox


WidgetInbox = Annotated[Inbox, Depends(get_widget_inbox)]


def _visitor_from(
    token: str | None, db: DbSession, inbox: Inbox, request: Request, now: Now
) -> Visitor:
    try:
        return visitors.access_visitor(
            db,
            inbox,
            token,
            secret_key=request.app.state.secret_key,
            now=now,
            max_age=token_lifetime(request.app.state.settings),
        )
    except AuthenticationFailed as error:
        raise HTTPException(401, error.message) from error


def get_visitor(request: Request, db: DbSession, inbox: WidgetInbox, now: Now) -> Visitor:
    return _visitor_from(bearer_token(request), db, inbox, request, now)


CurrentVisitor = Annotated[Visitor, Depends(get_visitor)]


# ---------------------------------------------------------------- config and sessions


@router.get("/config")
def get_config(
    db: DbSession, inbox: WidgetInbox, now: Now, settings: AppSettings
) -> dict[str, Any]:
    """The inbox's widget texts, pre-chat form, topics, limits and whether an agent
    is online now."""
    limits = files.attachment_limits(inbox.settings, settings)
    config = widget.widget_config(
        db, inbox, now=now, max_bytes=limits.max_bytes, allowed_types=limits.allowed_types
    )
    return {**config, **self_service.widget_help_config(db, inbox)}


@router.post("/sessions", response_model=SessionPublic)
def open_session(
    payload: SessionCreate,
    request: Request,
    db: DbSession,
    inbox: WidgetInbox,
    now: Now,
    settings: AppSettings,
) -> SessionPublic:
    """Start or renew a visitor session; see identity verification in the docs."""
    widget_limits(request.app).session(client_ip(request), now=now)
    previous = visitors.read_visitor_token(
        request.app.state.secret_key,
        payload.visitor_token,
        now=now,
        max_age=token_lifetime(settings),
    )
    if previous is not None and previous.inbox_id != inbox.id:
        previous = None
    session = visitors.do_open_visitor_session(
        db,
        inbox,
        secret_key=request.app.state.secret_key,
        previous=previous,
        name=payload.name,
        email=payload.email,
        external_id=payload.external_id,
        identifier_hash=payload.identifier_hash,
        now=now,
        lifetime=token_lifetime(settings),
    )
    return SessionPublic(
        visitor_token=session.token,
        contact=_contact_view(session.contact),
        expires_at=session.expires_at.isoformat(),
    )


def _contact_view(contact: Contact) -> ContactView:
    email = contact.email or contact.custom_attributes.get("unverified_email")
    return ContactView(
        name=contact.name,
        email=email if isinstance(email, str) else None,
        verified=contact.verified,
    )


# ---------------------------------------------------------------- conversations


@router.get("/conversations", response_model=VisitorConversationList)
def list_conversations(
    db: DbSession, inbox: WidgetInbox, visitor: CurrentVisitor, now: Now
) -> VisitorConversationList:
    """The visitor's own conversations in this inbox, newest first."""
    rows = widget.list_visitor_conversations(db, visitor)
    data = [widget.visitor_conversation_view(db, row, now=now) for row in rows]
    return VisitorConversationList(data=data, count=len(data))


@router.post("/conversations", status_code=status.HTTP_201_CREATED)
def start_conversation(
    payload: ConversationStart,
    request: Request,
    response: Response,
    db: DbSession,
    inbox: WidgetInbox,
    visitor: CurrentVisitor,
    now: Now,
    settings: AppSettings,
) -> dict[str, Any]:
    """Open a chat with the visitor's first message (201), or find the one this
    `client_message_id` already opened (200)."""
    widget_limits(request.app).conversation(visitor, client_ip(request), now=now)
    conversation, created = widget.do_start_conversation(
        db,
        inbox,
        visitor,
        message=payload.message,
        client_message_id=payload.client_message_id,
        topic_category=payload.topic_category,
        locale=payload.locale,
        now=now,
        max_chars=settings.max_message_chars,
    )
    if not created:
        response.status_code = status.HTTP_200_OK
    return widget.visitor_conversation_view(db, conversation, now=now)


@router.get("/conversations/{conversation_id}/history", response_model=VisitorHistoryPage)
def history(
    conversation_id: ConversationId,
    db: DbSession,
    inbox: WidgetInbox,
    visitor: CurrentVisitor,
    after_seq: Annotated[int, Query(ge=0, le=MAX_DB_ID)] = 0,
) -> VisitorHistoryPage:
    """What the visitor may see after `after_seq`; never internal notes."""
    page = widget.visitor_history(
        db, visitor, conversation_id, public_key=inbox.public_key, after_seq=after_seq
    )
    return VisitorHistoryPage(
        events=page.frames, last_seq=page.last_seq, next_after_seq=page.next_after_seq
    )


def _visitor_message(inbox: Inbox, posted_payload: dict[str, Any]) -> dict[str, Any]:
    frame = widget.visitor_message_frame(posted_payload, inbox.public_key)
    assert frame is not None
    message: dict[str, Any] = frame["event"]["message"]
    return message


@router.post(
    "/conversations/{conversation_id}/messages",
    status_code=status.HTTP_201_CREATED,
    response_model=PostedVisitorMessage,
)
def post_message(
    conversation_id: ConversationId,
    payload: VisitorMessageCreate,
    request: Request,
    response: Response,
    db: DbSession,
    inbox: WidgetInbox,
    visitor: CurrentVisitor,
    now: Now,
    settings: AppSettings,
) -> PostedVisitorMessage:
    """Send a message; committed before the answer. A retry with the same
    `client_message_id` answers 200 with the stored message."""
    widget_limits(request.app).message(visitor, client_ip(request), now=now)
    posted = widget.do_visitor_message(
        db,
        visitor,
        conversation_id,
        body=payload.body,
        client_message_id=payload.client_message_id,
        now=now,
        max_chars=settings.max_message_chars,
    )
    if not posted.created:
        response.status_code = status.HTTP_200_OK
    message = _visitor_message(inbox, message_payload(posted.message, posted.author_name))
    return PostedVisitorMessage(seq=posted.message.seq, message=message)


def _attachment_public(attachment: Attachment, url: str) -> AttachmentPublic:
    return AttachmentPublic(
        id=attachment.id,
        name=attachment.name,
        size=attachment.size,
        mime=attachment.mime,
        image=attachment.is_image,
        url=url,
    )


@router.post(
    "/conversations/{conversation_id}/attachments",
    status_code=status.HTTP_201_CREATED,
    response_model=UploadedAttachment,
)
def upload(
    conversation_id: ConversationId,
    request: Request,
    response: Response,
    db: DbSession,
    inbox: WidgetInbox,
    visitor: CurrentVisitor,
    now: Now,
    settings: AppSettings,
    file: Annotated[UploadFile, File()],
    client_message_id: Annotated[str | None, Form(max_length=64)] = None,
) -> UploadedAttachment:
    """Send a file as a message (413 too big, 415 type not allowed; nothing kept)."""
    widget_limits(request.app).message(visitor, client_ip(request), now=now)
    visitors.check_visitor_conversation(db, visitor, conversation_id)
    limits = files.attachment_limits(inbox.settings, settings)
    storage = attachment_storage(request.app)
    stored, mime = files.store_upload(storage, read_chunks(file.file), limits)
    attachment, posted = files.do_attach_contact_file(
        db,
        storage,
        visitor,
        conversation_id,
        stored=stored,
        mime=mime,
        name=file.filename or "file",
        now=now,
        client_message_id=client_message_id,
    )
    if not posted.created:
        response.status_code = status.HTTP_200_OK
    message = _visitor_message(inbox, message_payload(posted.message, posted.author_name))
    return UploadedAttachment(
        attachment=_attachment_public(
            attachment, widget.widget_attachment_url(inbox.public_key, attachment.id)
        ),
        seq=posted.message.seq,
        message=message,
    )


def _download(storage: LocalStorage, attachment: Attachment) -> FileResponse:
    path = storage.path(attachment.storage_key)
    if not path.exists():
        raise NotFound("attachment", attachment.id)
    return FileResponse(
        path,
        media_type=attachment.mime,
        filename=attachment.name,
        content_disposition_type="attachment",
        # X-Content-Type-Options: nosniff comes with every response (SecurityHeaders).
        headers={
            "Content-Security-Policy": "default-src 'none'; sandbox",
            "Cache-Control": "private, max-age=3600",
        },
    )


@router.get("/attachments/{attachment_id}", response_class=FileResponse)
def download(
    attachment_id: AttachmentId,
    request: Request,
    db: DbSession,
    inbox: WidgetInbox,
    now: Now,
    token: Annotated[str | None, Query(max_length=512)] = None,
) -> FileResponse:
    """The file, as a download, for the visitor of its conversation only. The
    token may come as `?token=` for elements that cannot send headers."""
    visitor = _visitor_from(bearer_token(request) or token, db, inbox, request, now)
    attachment = files.access_attachment_for_visitor(db, visitor, attachment_id)
    return _download(attachment_storage(request.app), attachment)


@router.post("/conversations/{conversation_id}/csat")
def rate(
    conversation_id: ConversationId,
    payload: CsatAnswer,
    db: DbSession,
    inbox: WidgetInbox,
    visitor: CurrentVisitor,
    now: Now,
) -> dict[str, Any]:
    """Store the visitor's satisfaction score (1 to 5), comment and, optionally,
    recommendation score (0 to 10)."""
    conversation = widget.do_rate_conversation(
        db,
        visitor,
        conversation_id,
        score=payload.score,
        comment=payload.comment,
        nps_score=payload.nps_score,
        now=now,
    )
    return widget.visitor_conversation_view(db, conversation, now=now)


@router.post(
    "/conversations/{conversation_id}/transcript",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=TranscriptQueued,
)
def transcript(
    conversation_id: ConversationId,
    payload: TranscriptRequest,
    request: Request,
    db: DbSession,
    inbox: WidgetInbox,
    visitor: CurrentVisitor,
    now: Now,
) -> TranscriptQueued:
    """Email the conversation to the visitor (through the outbox)."""
    visitors.access_visitor_conversation(db, visitor, conversation_id)
    widget_limits(request.app).conversation(visitor, client_ip(request), now=now)
    address = widget.do_send_transcript(
        db,
        visitor,
        conversation_id,
        email=payload.email,
        public_key=inbox.public_key,
        now=now,
    )
    return TranscriptQueued(queued=True, to=address)


@router.post("/offline", status_code=status.HTTP_201_CREATED, response_model=OfflineTicket)
def offline(
    payload: OfflineMessage,
    request: Request,
    db: DbSession,
    inbox: WidgetInbox,
    now: Now,
    settings: AppSettings,
) -> OfflineTicket:
    """Leave a message while nobody is online: it becomes an email ticket."""
    widget_limits(request.app).conversation(None, client_ip(request), now=now)
    conversation, texts = widget.do_create_offline_ticket(
        db,
        inbox,
        name=payload.name,
        email=payload.email,
        message=payload.message,
        topic_category=payload.topic_category,
        now=now,
        max_chars=settings.max_message_chars,
        locale=payload.locale,
    )
    locale = payload.locale if payload.locale in texts else "en"
    return OfflineTicket(
        expected_reply=texts[locale],
        expected_reply_texts=texts,
        conversation_number=conversation.number,
    )


# ---------------------------------------------------------------- staff


@staff_router.get("/attachments/{attachment_id}", response_class=FileResponse)
def staff_download(
    attachment_id: AttachmentId, request: Request, db: DbSession, viewer: CurrentViewer
) -> FileResponse:
    """A conversation's file, for staff who can see that conversation."""
    attachment = files.access_attachment_for_viewer(db, viewer, attachment_id)
    return _download(attachment_storage(request.app), attachment)


@staff_router.post(
    "/conversations/{conversation_id}/attachments",
    status_code=status.HTTP_201_CREATED,
    response_model=MessagePublic,
)
def staff_upload(
    conversation_id: ConversationId,
    request: Request,
    response: Response,
    db: DbSession,
    viewer: CurrentViewer,
    now: Now,
    settings: AppSettings,
    file: Annotated[UploadFile, File()],
    kind: Annotated[MessageKind, Form()] = MessageKind.REPLY,
    client_message_id: Annotated[str | None, Form(max_length=64)] = None,
) -> MessagePublic:
    """Reply (or leave a note) with a file; the limits of the conversation's inbox
    apply."""
    conversation = access_conversation(db, viewer, conversation_id)
    inbox = db.get(Inbox, conversation.inbox_id)
    db.expire(conversation)  # the message service locks and re-reads it
    limits = files.attachment_limits(inbox.settings if inbox is not None else {}, settings)
    storage = attachment_storage(request.app)
    stored, mime = files.store_upload(storage, read_chunks(file.file), limits)
    _attachment, posted = files.do_attach_agent_file(
        db,
        storage,
        viewer,
        conversation_id,
        stored=stored,
        mime=mime,
        name=file.filename or "file",
        kind=kind,
        now=now,
        client_message_id=client_message_id,
    )
    if not posted.created:
        response.status_code = status.HTTP_200_OK
    return MessagePublic.of(posted.message, posted.author_name)
