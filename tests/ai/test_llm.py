"""The LLM adapter against a real local HTTP server speaking the OpenAI-compatible API."""

from __future__ import annotations

import json
import logging
import socket
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from helpline.adapters.ai.interfaces import ChatMessage, LlmClient
from helpline.adapters.ai.llm import (
    LlmBadResponse,
    LlmTimeout,
    LlmUnavailable,
    OpenAICompatibleClient,
    chat_completions_url,
    complete_or_fallback,
)

QUESTION = [
    ChatMessage("system", "You draft replies for a support agent."),
    ChatMessage("user", "Where is my parcel?"),
]


class FakeLlmServer(BaseHTTPRequestHandler):
    """`/<behaviour>/v1/chat/completions`: ok, slow, error, not-json, no-choices, empty."""

    requests: list[dict[str, Any]] = []

    def log_message(self, format: str, *args: Any) -> None:  # keep test output clean
        pass

    def do_POST(self) -> None:
        behaviour = self.path.split("/")[1]
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        FakeLlmServer.requests.append(
            {"path": self.path, "body": body, "auth": self.headers.get("Authorization")}
        )
        if behaviour == "slow":
            time.sleep(1.0)
        if behaviour == "error":
            self._send(500, b'{"error": {"message": "model crashed"}}')
        elif behaviour == "not-json":
            self._send(200, b"<html>gateway says hi</html>")
        elif behaviour == "no-choices":
            self._send(200, json.dumps({"id": "x", "object": "chat.completion"}).encode())
        elif behaviour == "empty":
            self._send(200, json.dumps({"choices": [{"message": {"content": "  "}}]}).encode())
        else:
            reply = {
                "id": "chatcmpl-1",
                "object": "chat.completion",
                "model": body["model"],
                "choices": [
                    {
                        "index": 0,
                        "finish_reason": "stop",
                        "message": {"role": "assistant", "content": " Your parcel is on its way. "},
                    }
                ],
            }
            self._send(200, json.dumps(reply).encode())

    def _send(self, status: int, payload: bytes) -> None:
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (timeout test)


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), FakeLlmServer)
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def client_for(server: str, behaviour: str, timeout: float = 5.0) -> OpenAICompatibleClient:
    return OpenAICompatibleClient(
        f"{server}/{behaviour}/v1", "local-model", api_key="sk-test", timeout_seconds=timeout
    )


def test_a_reply_is_drafted_through_the_chat_completions_api(server: str) -> None:
    FakeLlmServer.requests.clear()
    with client_for(server, "ok") as client:
        reply = client.complete(QUESTION, max_tokens=64)

    sent = FakeLlmServer.requests[-1]
    assert isinstance(client, LlmClient)
    assert reply == "Your parcel is on its way."
    assert sent["path"] == "/ok/v1/chat/completions"
    assert sent["auth"] == "Bearer sk-test"
    assert sent["body"]["model"] == "local-model"
    assert sent["body"]["max_tokens"] == 64
    assert sent["body"]["messages"][1] == {"role": "user", "content": "Where is my parcel?"}


def test_a_slow_server_times_out(server: str) -> None:
    with client_for(server, "slow", timeout=0.2) as client, pytest.raises(LlmTimeout):
        client.complete(QUESTION)


def test_a_server_error_is_reported_with_its_status(server: str) -> None:
    with client_for(server, "error") as client, pytest.raises(LlmUnavailable) as raised:
        client.complete(QUESTION)
    assert raised.value.status_code == 500


@pytest.mark.parametrize("behaviour", ["not-json", "no-choices", "empty"])
def test_malformed_answers_are_rejected(server: str, behaviour: str) -> None:
    with client_for(server, behaviour) as client, pytest.raises(LlmBadResponse):
        client.complete(QUESTION)


def test_an_unreachable_server_is_reported() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # closed again below: nobody listens there
    with (
        OpenAICompatibleClient(f"http://127.0.0.1:{port}", "m") as client,
        pytest.raises(LlmUnavailable),
    ):
        client.complete(QUESTION)


@pytest.mark.parametrize("behaviour", ["slow", "error", "not-json", "no-choices"])
def test_failures_fall_back_to_the_default_backend_with_a_warning(
    server: str, behaviour: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="helpline.adapters.ai.llm")
    with client_for(server, behaviour, timeout=0.2) as client:
        text, from_llm = complete_or_fallback(
            client, QUESTION, lambda: "extractive summary", purpose="summary"
        )

    assert (text, from_llm) == ("extractive summary", False)
    assert any("LLM summary failed" in record.message for record in caplog.records)


def test_the_llm_answer_is_used_when_it_works(server: str) -> None:
    with client_for(server, "ok") as client:
        assert complete_or_fallback(client, QUESTION, lambda: "x", purpose="draft") == (
            "Your parcel is on its way.",
            True,
        )
    assert complete_or_fallback(None, QUESTION, lambda: "x", purpose="draft") == ("x", False)


def test_base_urls_with_or_without_v1_reach_the_same_endpoint() -> None:
    assert chat_completions_url("http://h:11434") == "http://h:11434/v1/chat/completions"
    assert chat_completions_url("http://h:8000/v1/") == "http://h:8000/v1/chat/completions"
