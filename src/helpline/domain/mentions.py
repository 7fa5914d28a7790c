"""@mentions in internal notes: which colleagues a note names.

A mention is `@` followed by a handle, at the start of the text or after a space
or punctuation (so `anna@example.com` is an address, not a mention). A handle
names a colleague when it equals, ignoring case, the local part of their email
(`@maria.kowalska`), their whole name without spaces (`@MariaKowalska`), or their
first name when only one colleague has it (`@Maria`). Pure: the caller passes
the colleagues.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

MENTION = re.compile(r"(?<![\w@.])@([\w][\w.\-]{0,63})", re.UNICODE)
MAX_MENTIONS = 20
"""A note naming more colleagues than this notifies the first ones only."""


@dataclass(frozen=True, slots=True)
class Colleague:
    user_id: int
    name: str
    email: str


def mention_handles(body: str) -> list[str]:
    """The handles a text mentions, in order, each once, case-folded; a trailing
    full stop belongs to the sentence, not to the handle."""
    handles: list[str] = []
    for match in MENTION.finditer(body):
        handle = match.group(1).rstrip(".-").casefold()
        if handle and handle not in handles:
            handles.append(handle)
    return handles[:MAX_MENTIONS]


def _keys(colleague: Colleague) -> set[str]:
    keys = {colleague.email.split("@", 1)[0].casefold()}
    squeezed = "".join(colleague.name.split()).casefold()
    if squeezed:
        keys.add(squeezed)
    return keys


def _first_name(colleague: Colleague) -> str:
    parts = colleague.name.split()
    return parts[0].casefold() if parts else ""


def resolve_mentions(handles: Iterable[str], colleagues: Sequence[Colleague]) -> list[int]:
    """User ids the handles name, in mention order, each once; an ambiguous first
    name and an unknown handle name nobody."""
    exact: dict[str, set[int]] = {}
    by_first: dict[str, set[int]] = {}
    for colleague in colleagues:
        for key in _keys(colleague):
            exact.setdefault(key, set()).add(colleague.user_id)
        first = _first_name(colleague)
        if first:
            by_first.setdefault(first, set()).add(colleague.user_id)
    found: list[int] = []
    for handle in handles:
        candidates = exact.get(handle) or by_first.get(handle) or set()
        if len(candidates) == 1:
            (user_id,) = candidates
            if user_id not in found:
                found.append(user_id)
    return found
