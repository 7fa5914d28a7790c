"""WebSocket frames clients send, as pydantic models, and the parser that turns a
raw text frame into one of them or into an error frame (the connection stays up).
"""

from __future__ import annotations

import json
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from helpline.domain.enums import MessageKind

MAX_DB_ID = 2_147_483_647
DbId = Annotated[int, Field(strict=True, ge=1, le=MAX_DB_ID)]
Seq = Annotated[int, Field(strict=True, ge=0, le=MAX_DB_ID)]


class Frame(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Subscribe(Frame):
    type: Literal["subscribe"]
    conversation_id: DbId
    after_seq: Seq = 0


class Unsubscribe(Frame):
    type: Literal["unsubscribe"]
    conversation_id: DbId


class VisitorMessage(Frame):
    type: Literal["message"]
    conversation_id: DbId
    body: Annotated[str, Field(strict=True, max_length=1_000_000)]
    client_message_id: Annotated[str, Field(strict=True, min_length=1, max_length=64)]


class AgentMessage(VisitorMessage):
    kind: MessageKind = MessageKind.REPLY


class Typing(Frame):
    type: Literal["typing"]
    conversation_id: DbId
    active: Annotated[bool, Field(strict=True)] = True


class Read(Frame):
    type: Literal["read"]
    conversation_id: DbId
    seq: Seq


class Ping(Frame):
    type: Literal["ping"]


VISITOR_FRAMES: dict[str, type[Frame]] = {
    "subscribe": Subscribe,
    "unsubscribe": Unsubscribe,
    "message": VisitorMessage,
    "typing": Typing,
    "read": Read,
    "ping": Ping,
}
AGENT_FRAMES: dict[str, type[Frame]] = {**VISITOR_FRAMES, "message": AgentMessage}


def error_frame(
    code: str,
    message: str,
    *,
    conversation_id: int | None = None,
    client_message_id: str | None = None,
    details: dict[str, Any] | None = None,
) -> dict[str, Any]:
    frame: dict[str, Any] = {"type": "error", "code": code, "message": message}
    if conversation_id is not None:
        frame["conversation_id"] = conversation_id
    if client_message_id is not None:
        frame["client_message_id"] = client_message_id
    frame["details"] = details or {}
    return frame


class FrameError(Exception):
    """A frame that cannot be used; `frame` is the error to send back."""

    def __init__(self, frame: dict[str, Any]) -> None:
        super().__init__(frame["message"])
        self.frame = frame


def _context(data: dict[str, Any]) -> dict[str, Any]:
    """Ids from a rejected frame, echoed so the client can match the error."""
    context: dict[str, Any] = {}
    conversation_id = data.get("conversation_id")
    if isinstance(conversation_id, int) and not isinstance(conversation_id, bool):
        context["conversation_id"] = conversation_id
    client_message_id = data.get("client_message_id")
    if isinstance(client_message_id, str) and len(client_message_id) <= 64:
        context["client_message_id"] = client_message_id
    return context


def parse_frame(text: str, kinds: dict[str, type[Frame]], *, max_bytes: int) -> Frame:
    """One client frame, or FrameError with a clear error frame."""
    if len(text) > max_bytes or len(text.encode("utf-8", "surrogatepass")) > max_bytes:
        raise FrameError(
            error_frame(
                "frame_too_large",
                f"frames are limited to {max_bytes} bytes",
                details={"max_bytes": max_bytes},
            )
        )
    try:
        data = json.loads(text)
    except ValueError as error:
        raise FrameError(error_frame("bad_frame", "the frame is not valid JSON")) from error
    if not isinstance(data, dict):
        raise FrameError(error_frame("bad_frame", "a frame is a JSON object"))
    kind = data.get("type")
    if not isinstance(kind, str):
        raise FrameError(
            error_frame("bad_frame", "a frame needs a string 'type'", **_context(data))
        )
    model = kinds.get(kind)
    if model is None:
        raise FrameError(
            error_frame(
                "unknown_type",
                f"unknown frame type {kind[:40]!r}",
                details={"known": sorted(kinds)},
                **_context(data),
            )
        )
    try:
        return model.model_validate(data)
    except ValidationError as error:
        fields = [
            {"field": ".".join(str(part) for part in item["loc"]), "message": item["msg"]}
            for item in error.errors(include_url=False, include_input=False)
        ]
        raise FrameError(
            error_frame(
                "bad_frame",
                f"the {kind} frame is not valid",
                details={"fields": fields},
                **_context(data),
            )
        ) from error


def binary_frame_error() -> dict[str, Any]:
    return error_frame("bad_frame", "frames are JSON text, not binary")
