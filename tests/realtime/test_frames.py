"""Parsing client frames: every bad frame becomes a clear error frame."""

from __future__ import annotations

import json

import pytest

from helpline.web.realtime.frames import (
    AGENT_FRAMES,
    VISITOR_FRAMES,
    AgentMessage,
    FrameError,
    Subscribe,
    Typing,
    parse_frame,
)


def _error(text: str, kinds: dict = VISITOR_FRAMES, max_bytes: int = 1000) -> dict:  # type: ignore[type-arg]
    with pytest.raises(FrameError) as raised:
        parse_frame(text, kinds, max_bytes=max_bytes)
    return raised.value.frame


def test_good_frames_parse() -> None:
    assert parse_frame(
        '{"type":"subscribe","conversation_id":3,"after_seq":7}', VISITOR_FRAMES, max_bytes=1000
    ) == Subscribe(type="subscribe", conversation_id=3, after_seq=7)
    assert parse_frame(
        '{"type":"typing","conversation_id":3}', VISITOR_FRAMES, max_bytes=1000
    ) == Typing(type="typing", conversation_id=3, active=True)
    note = parse_frame(
        json.dumps(
            {
                "type": "message",
                "conversation_id": 1,
                "body": "x",
                "client_message_id": "a",
                "kind": "note",
            }
        ),
        AGENT_FRAMES,
        max_bytes=1000,
    )
    assert isinstance(note, AgentMessage) and note.kind == "note"


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("not json", "bad_frame"),
        ("[1, 2]", "bad_frame"),
        ('"subscribe"', "bad_frame"),
        ('{"conversation_id": 1}', "bad_frame"),
        ('{"type": 5}', "bad_frame"),
        ('{"type": "explode"}', "unknown_type"),
        ('{"type": "subscribe"}', "bad_frame"),
        ('{"type": "subscribe", "conversation_id": "1"}', "bad_frame"),
        ('{"type": "subscribe", "conversation_id": true}', "bad_frame"),
        ('{"type": "subscribe", "conversation_id": 1.5}', "bad_frame"),
        ('{"type": "subscribe", "conversation_id": 0}', "bad_frame"),
        ('{"type": "subscribe", "conversation_id": 1, "after_seq": -1}', "bad_frame"),
        ('{"type": "read", "conversation_id": 1, "seq": 99999999999}', "bad_frame"),
        ('{"type": "typing", "conversation_id": 1, "active": "yes"}', "bad_frame"),
        (
            '{"type": "message", "conversation_id": 1, "body": "x", "client_message_id": ""}',
            "bad_frame",
        ),
        (
            '{"type": "message", "conversation_id": 1, "body": 3, "client_message_id": "a"}',
            "bad_frame",
        ),
        ('{"type": "ping", "extra": 1}', "bad_frame"),
    ],
)
def test_bad_frames_are_explained(text: str, code: str) -> None:
    assert _error(text)["code"] == code


def test_visitors_cannot_write_internal_notes() -> None:
    frame = _error(
        json.dumps(
            {
                "type": "message",
                "conversation_id": 9,
                "body": "x",
                "client_message_id": "a",
                "kind": "note",
            }
        )
    )
    assert frame["code"] == "bad_frame"
    assert frame["conversation_id"] == 9 and frame["client_message_id"] == "a"


def test_oversized_frames_are_refused_before_parsing() -> None:
    frame = _error('{"type":"ping"}' + " " * 2000, max_bytes=1000)
    assert frame["code"] == "frame_too_large"
    assert _error("ż" * 600, max_bytes=1000)["code"] == "frame_too_large"  # bytes, not characters
