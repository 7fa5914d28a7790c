"""HTML-safe snippets: the source text escaped, matched words wrapped in ``<mark>``.

The text comes from articles and canned responses written by people, so it is
escaped here and the result can be inserted into a page as it is.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable

MAX_SCANNED_CHARS = 50_000
"""Matches are looked for in the first characters of a field only (keeps hits fast)."""

ELLIPSIS = "…"


def match_words(words: Iterable[str]) -> re.Pattern[str]:
    """A pattern finding any of `words` as a whole word (longest first)."""
    ordered = sorted(words, key=len, reverse=True)
    if not ordered:
        return re.compile(r"(?!x)x")
    alternatives = "|".join(map(re.escape, ordered))
    return re.compile(rf"(?<![^\W_])(?:{alternatives})(?![^\W_])")


def highlight(text: str, marks: re.Pattern[str], max_chars: int) -> str:
    """The part of `text` with the most `marks`, at most `max_chars` long, as safe HTML."""
    spans = [match.span() for match in marks.finditer(text, 0, MAX_SCANNED_CHARS)]
    if len(text) <= max_chars:
        start, end = 0, len(text)
    else:
        start, end = _best_window(text, spans, max_chars)
    pieces: list[str] = [ELLIPSIS] if start > 0 else []
    cursor = start
    for span_start, span_end in spans:
        if span_start < start or span_end > end:
            continue
        pieces.append(html.escape(text[cursor:span_start]))
        pieces.append(f"<mark>{html.escape(text[span_start:span_end])}</mark>")
        cursor = span_end
    pieces.append(html.escape(text[cursor:end]))
    if end < len(text):
        pieces.append(ELLIPSIS)
    return "".join(pieces)


def _best_window(text: str, spans: list[tuple[int, int]], max_chars: int) -> tuple[int, int]:
    """The window with the most matches, starting a little before its first match."""
    lead = max_chars // 5
    best_start, best_count = 0, 0
    last = 0
    for first, (span_start, _) in enumerate(spans):
        window_start = max(0, span_start - lead)
        last = max(last, first)
        while last + 1 < len(spans) and spans[last + 1][1] <= window_start + max_chars:
            last += 1
        count = last - first + 1
        if count > best_count:
            best_start, best_count = window_start, count
    return _word_bounds(text, best_start, max_chars)


def _word_bounds(text: str, start: int, max_chars: int) -> tuple[int, int]:
    """Move the window edges to spaces so a snippet never starts or ends mid-word."""
    if start > 0:
        space = text.find(" ", start, start + 30)
        if space != -1 and not text[start - 1].isspace():
            start = space + 1
    end = min(len(text), start + max_chars)
    if end < len(text):
        space = text.rfind(" ", max(start, end - 30), end)
        if space > start:
            end = space
    return start, end
