"""The small interfaces every AI backend implements, so callers never import a backend.

Probabilities are numpy arrays of shape (messages, labels) whose columns follow the
classifier's `labels`; embeddings are L2-normalised float32 rows.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, Protocol, Self, runtime_checkable

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float32]


@dataclass(frozen=True, slots=True)
class ScoredLabel:
    """One candidate label for a message with its probability."""

    label: str
    score: float


@runtime_checkable
class IntentClassifier(Protocol):
    """Maps a message to one of a fixed set of labels (intents, categories)."""

    @property
    def labels(self) -> tuple[str, ...]:
        """Label of each probability column, in order."""
        ...

    def fit(self, texts: Sequence[str], labels: Sequence[str]) -> None:
        """Train from scratch on labelled messages."""
        ...

    def predict_proba(self, texts: Sequence[str]) -> FloatArray:
        """Probability of every label for every message; rows sum to 1."""
        ...

    def predict(self, texts: Sequence[str], top_k: int = 1) -> list[list[ScoredLabel]]:
        """The `top_k` most likely labels of each message, best first."""
        ...

    def save(self, directory: Path) -> None:
        """Write the trained model as numpy arrays + JSON (never pickle), with its hash."""
        ...

    @classmethod
    def load(cls, directory: Path) -> Self:
        """Read a model written by `save`, refusing files whose hash does not match."""
        ...


@runtime_checkable
class Embedder(Protocol):
    """Turns messages into fixed-size vectors whose cosine similarity means similar meaning."""

    @property
    def dimension(self) -> int: ...

    def embed(self, texts: Sequence[str]) -> FloatArray:
        """One L2-normalised float32 row per message."""
        ...


@dataclass(frozen=True, slots=True)
class ChatMessage:
    """One turn of an OpenAI-compatible chat request."""

    role: Literal["system", "user", "assistant"]
    content: str


@runtime_checkable
class LlmClient(Protocol):
    """A chat-completion model (local Ollama/vLLM or a hosted endpoint)."""

    def complete(
        self,
        messages: Sequence[ChatMessage],
        *,
        max_tokens: int | None = None,
        temperature: float | None = None,
    ) -> str:
        """The assistant's reply text; raises `helpline.adapters.ai.llm.LlmError` on any
        failure so the caller can fall back to the default backend."""
        ...
