"""Client for any OpenAI-compatible chat-completions endpoint (Ollama, vLLM, llama.cpp
server, a hosted provider), used for drafting, tone adjustment, summaries and translation.

Every failure — connection refused, timeout, HTTP error, a body that is not the expected
JSON — raises an `LlmError` subclass. Callers use `complete_or_fallback`, which logs a
warning and returns the default backend's answer instead: an LLM outage never crashes a
request or loses a message.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Sequence
from types import TracebackType
from typing import Any, Self

import httpx

from helpline.adapters.ai.interfaces import ChatMessage, LlmClient

logger = logging.getLogger(__name__)

MAX_RESPONSE_BYTES = 2 * 1024 * 1024


class LlmError(Exception):
    """The LLM endpoint could not give a usable answer."""


class LlmTimeout(LlmError):
    """The endpoint did not answer within the configured time."""


class LlmUnavailable(LlmError):
    """The endpoint refused the connection or answered with an HTTP error."""

    def __init__(self, message: str, status_code: int | None = None) -> None:
        super().__init__(message)
        self.status_code = status_code


class LlmBadResponse(LlmError):
    """The endpoint answered, but not with an OpenAI-compatible chat completion."""


def chat_completions_url(base_url: str) -> str:
    """``http://host:11434/v1`` → ``http://host:11434/v1/chat/completions`` (a base URL
    without ``/v1`` gets it added, as Ollama and vLLM serve the API there)."""
    root = base_url.rstrip("/")
    if not root.endswith("/v1"):
        root += "/v1"
    return root + "/chat/completions"


def _reply_text(payload: Any) -> str:
    try:
        content = payload["choices"][0]["message"]["content"]
    except (KeyError, IndexError, TypeError) as exc:
        raise LlmBadResponse(f"no choices[0].message.content in the answer: {exc!r}") from exc
    if not isinstance(content, str) or not content.strip():
        raise LlmBadResponse("the answer's message content is empty or not text")
    return content.strip()


class OpenAICompatibleClient:
    """Synchronous chat-completions client with timeouts; implements `LlmClient`."""

    def __init__(
        self,
        base_url: str,
        model: str,
        *,
        api_key: str | None = None,
        timeout_seconds: float = 20.0,
        connect_timeout_seconds: float = 5.0,
        max_tokens: int = 512,
        temperature: float = 0.2,
    ) -> None:
        if timeout_seconds <= 0:
            raise ValueError("timeout_seconds must be positive")
        self.url = chat_completions_url(base_url)
        self.model = model
        self.max_tokens = max_tokens
        self.temperature = temperature
        headers = {"Accept": "application/json"}
        if api_key:
            headers["Authorization"] = f"Bearer {api_key}"
        self._http = httpx.Client(
            headers=headers,
            timeout=httpx.Timeout(
                timeout_seconds, connect=min(connect_timeout_seconds, timeout_seconds)
            ),
            follow_redirects=False,
        )

    def complete(
        self,
        messages: Sequence[ChatMessage],
        *,
        max_tokens: int | None = None,
        temperature: float | None = None,
    ) -> str:
        if not messages:
            raise ValueError("a chat completion needs at least one message")
        body = {
            "model": self.model,
            "messages": [{"role": m.role, "content": m.content} for m in messages],
            "max_tokens": max_tokens if max_tokens is not None else self.max_tokens,
            "temperature": temperature if temperature is not None else self.temperature,
            "stream": False,
        }
        try:
            response = self._http.post(self.url, json=body)
        except httpx.TimeoutException as exc:
            raise LlmTimeout(f"{self.url} did not answer in time ({type(exc).__name__})") from exc
        except httpx.HTTPError as exc:
            raise LlmUnavailable(f"{self.url} is unreachable: {exc}") from exc
        if response.status_code != httpx.codes.OK:
            raise LlmUnavailable(
                f"{self.url} answered HTTP {response.status_code}",
                status_code=response.status_code,
            )
        if len(response.content) > MAX_RESPONSE_BYTES:
            raise LlmBadResponse(f"the answer is larger than {MAX_RESPONSE_BYTES} bytes")
        try:
            payload = json.loads(response.content)
        except ValueError as exc:
            raise LlmBadResponse(f"the answer is not JSON: {exc}") from exc
        return _reply_text(payload)

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()


def complete_or_fallback(
    client: LlmClient | None,
    messages: Sequence[ChatMessage],
    fallback: Callable[[], str],
    *,
    purpose: str,
    max_tokens: int | None = None,
) -> tuple[str, bool]:
    """Ask the LLM if one is configured; on any `LlmError` log a warning and use `fallback`.

    Returns the text and whether it came from the LLM (the UI labels drafted text).
    """
    if client is None:
        return fallback(), False
    try:
        return client.complete(messages, max_tokens=max_tokens), True
    except LlmError as exc:
        logger.warning("LLM %s failed, using the default backend instead: %s", purpose, exc)
        return fallback(), False
