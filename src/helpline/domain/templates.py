"""Placeholder templates for canned responses: a tiny data-only language, never code.

A canned response such as ``Hi {{ contact.first_name | default("there") }}`` is
parsed by the small parser below, not by a general template engine: a placeholder
is a documented variable path followed by whitelisted filters, and nothing else
exists to evaluate: no loops, no calls, no operators, no attribute access, no
statements. So a hostile template cannot run anything; it can only be refused.

`validate_template` reports every problem with its position for the editor.
`render_template` never emits raw ``{{ … }}``: a missing value without a fallback
becomes the empty string and is listed in `RenderResult.missing` so the UI can
warn before sending; an invalid placeholder renders as nothing and is listed in
`RenderResult.issues`.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum

MAX_TEMPLATE_CHARS = 20_000
"""Longest template accepted; canned responses are short messages."""

MAX_VALUE_CHARS = 2_000
"""A single substituted value is cut to this length (a CRM field can be anything)."""

MAX_OUTPUT_CHARS = 50_000
"""Rendering stops here; with no loops this only bounds many long values."""

MAX_CUSTOM_KEY_CHARS = 64

ROOT_VARIABLES: dict[str, tuple[str, ...]] = {
    "contact": ("name", "first_name", "last_name", "email", "plan"),
    "conversation": ("number", "subject", "category"),
    "agent": ("name", "first_name"),
    "organisation": ("name",),
}
"""Every variable a template may use, besides ``contact.custom.<key>``."""

DOCUMENTED_VARIABLES: tuple[str, ...] = (
    *(f"{root}.{name}" for root, names in ROOT_VARIABLES.items() for name in names),
    "contact.custom.<key>",
)
"""The list the editor offers; ``<key>`` is any custom attribute synced from the CRM."""

_NO_ARGUMENT_FILTERS: dict[str, Callable[[str], str]] = {
    "upper": str.upper,
    "lower": str.lower,
    "title": str.title,
    "capitalize": str.capitalize,
    "trim": str.strip,
}
ALLOWED_FILTERS: tuple[str, ...] = ("default", *_NO_ARGUMENT_FILTERS)

_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_CUSTOM_KEY = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_-]*")
_SPACE = re.compile(r"\s*")
_TAG_OPENINGS = re.compile(r"\{\{|\{%|\{#|\}\}")


class IssueCode(StrEnum):
    SYNTAX_ERROR = "syntax_error"
    UNKNOWN_VARIABLE = "unknown_variable"
    UNKNOWN_FILTER = "unknown_filter"
    BAD_ARGUMENT = "bad_argument"
    NOT_SUPPORTED = "not_supported"
    TOO_LONG = "too_long"


@dataclass(frozen=True, slots=True)
class TemplateIssue:
    """One problem in a template; offsets index the template text (end exclusive)."""

    code: IssueCode
    message: str
    start: int
    end: int
    line: int
    column: int
    suggestion: str | None = None


@dataclass(frozen=True, slots=True)
class Placeholder:
    """A parsed ``{{ variable | filter … }}``, where ``variable`` is a documented path."""

    variable: str
    filters: tuple[tuple[str, str | None], ...]
    start: int
    end: int

    @property
    def has_default(self) -> bool:
        return any(name == "default" for name, _ in self.filters)


@dataclass(frozen=True, slots=True)
class ParsedTemplate:
    """Literal text and placeholders in order, plus everything wrong with the text."""

    parts: tuple[str | Placeholder | None, ...]
    issues: tuple[TemplateIssue, ...]

    @property
    def variables(self) -> tuple[str, ...]:
        seen: dict[str, None] = {}
        for part in self.parts:
            if isinstance(part, Placeholder):
                seen.setdefault(part.variable)
        return tuple(seen)


@dataclass(frozen=True, slots=True)
class ContactFacts:
    """What a template may know about the customer.

    ``first_name``/``last_name`` are taken from ``name`` when not given, since a
    contact usually has one name field.
    """

    name: str | None = None
    email: str | None = None
    plan: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    custom: Mapping[str, object] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ConversationFacts:
    number: int | None = None
    subject: str | None = None
    category: str | None = None


@dataclass(frozen=True, slots=True)
class AgentFacts:
    name: str | None = None
    first_name: str | None = None


@dataclass(frozen=True, slots=True)
class OrganisationFacts:
    name: str | None = None


@dataclass(frozen=True, slots=True)
class TemplateContext:
    """The values a canned response is rendered with, gathered by the service."""

    contact: ContactFacts = field(default_factory=ContactFacts)
    conversation: ConversationFacts = field(default_factory=ConversationFacts)
    agent: AgentFacts = field(default_factory=AgentFacts)
    organisation: OrganisationFacts = field(default_factory=OrganisationFacts)


@dataclass(frozen=True, slots=True)
class RenderResult:
    """The text to send, and what the agent should see before sending it."""

    text: str
    missing: tuple[str, ...]
    """Variables that had no value and no fallback; they rendered as ''."""
    issues: tuple[TemplateIssue, ...]
    """Problems in the template; invalid placeholders rendered as ''."""
    truncated: bool = False

    @property
    def ok(self) -> bool:
        """True when the text can be sent as it is: valid and nothing missing."""
        return not self.issues and not self.missing and not self.truncated


def split_name(name: str | None) -> tuple[str | None, str | None]:
    """First word as the first name, the rest as the last name."""
    words = (name or "").split()
    if not words:
        return None, None
    return words[0], " ".join(words[1:]) or None


def validate_template(text: str) -> list[TemplateIssue]:
    """Everything the editor should flag, in text order."""
    return list(parse_template(text).issues)


def render_template(text: str, context: TemplateContext) -> RenderResult:
    """Substitute the placeholders; pure data lookup, nothing in the text is executed."""
    parsed = parse_template(text)
    values = _flatten(context)
    out: list[str] = []
    size = 0
    missing: dict[str, None] = {}
    truncated = False
    for part in parsed.parts:
        if part is None:
            continue
        if isinstance(part, Placeholder):
            value = (
                values[part.variable]
                if part.variable in values
                else _custom(context, part.variable)
            )
            piece = _apply(part, value)
            if piece is None:
                missing.setdefault(part.variable)
                piece = ""
        else:
            piece = part
        if size + len(piece) > MAX_OUTPUT_CHARS:
            out.append(piece[: MAX_OUTPUT_CHARS - size])
            truncated = True
            break
        out.append(piece)
        size += len(piece)
    return RenderResult(
        text="".join(out), missing=tuple(missing), issues=parsed.issues, truncated=truncated
    )


def parse_template(text: str) -> ParsedTemplate:
    """Split a template into text and placeholders; never raises on bad input."""
    issues: list[TemplateIssue] = []
    if len(text) > MAX_TEMPLATE_CHARS:
        issues.append(
            _issue(
                text,
                IssueCode.TOO_LONG,
                f"template is longer than {MAX_TEMPLATE_CHARS} characters",
                MAX_TEMPLATE_CHARS,
                len(text),
            )
        )
        return ParsedTemplate(parts=(), issues=tuple(issues))
    parts: list[str | Placeholder | None] = []
    position = 0
    while True:
        match = _TAG_OPENINGS.search(text, position)
        if match is None:
            parts.append(text[position:])
            break
        parts.append(text[position : match.start()])
        marker = match.group()
        if marker == "{{":
            close = text.find("}}", match.end())
            if close == -1:
                issues.append(
                    _issue(
                        text,
                        IssueCode.SYNTAX_ERROR,
                        "'{{' is never closed with '}}'",
                        match.start(),
                        len(text),
                    )
                )
                # Keep the words after the stray braces; drop only the braces.
                position = match.end()
                continue
            placeholder, problems = _parse_placeholder(text, match.start(), close + 2)
            parts.append(placeholder)
            issues.extend(problems)
            position = close + 2
        elif marker in ("{%", "{#"):
            closer = "%}" if marker == "{%" else "#}"
            close = text.find(closer, match.end())
            end = len(text) if close == -1 else close + 2
            what = "statements such as loops and conditions" if marker == "{%" else "comments"
            issues.append(
                _issue(
                    text,
                    IssueCode.NOT_SUPPORTED,
                    f"{what} are not supported; use {{{{ variable }}}} placeholders only",
                    match.start(),
                    end,
                )
            )
            parts.append(None)
            position = end
        else:
            issues.append(
                _issue(
                    text,
                    IssueCode.SYNTAX_ERROR,
                    "'}}' has no matching '{{'",
                    match.start(),
                    match.end(),
                )
            )
            position = match.end()
    return ParsedTemplate(parts=tuple(parts), issues=tuple(issues))


def _parse_placeholder(
    text: str, start: int, end: int
) -> tuple[Placeholder | None, list[TemplateIssue]]:
    """Parse ``text[start:end]`` (``{{ … }}``); return None and issues when invalid."""
    inner_start, inner_end = start + 2, end - 2
    cursor = _Cursor(text, inner_start, inner_end)
    cursor.skip_space()
    if cursor.at_end():
        return None, [_issue(text, IssueCode.SYNTAX_ERROR, "empty placeholder", start, end)]

    path_start = cursor.position
    path = cursor.path()
    if path is None:
        return None, [
            _issue(
                text,
                IssueCode.SYNTAX_ERROR,
                "a placeholder must start with a variable such as contact.first_name",
                cursor.position,
                max(cursor.position + 1, inner_end),
            )
        ]
    issues: list[TemplateIssue] = []
    variable_issue = _check_variable(text, path, path_start, cursor.position)
    if variable_issue is not None:
        issues.append(variable_issue)

    filters: list[tuple[str, str | None]] = []
    cursor.skip_space()
    while not cursor.at_end():
        if not cursor.take("|"):
            issues.append(
                _issue(
                    text,
                    IssueCode.SYNTAX_ERROR,
                    "expected '|' and a filter, or '}}'",
                    cursor.position,
                    inner_end,
                )
            )
            return None, issues
        cursor.skip_space()
        name_start = cursor.position
        name = cursor.identifier()
        if name is None:
            issues.append(
                _issue(
                    text,
                    IssueCode.SYNTAX_ERROR,
                    "expected a filter name after '|'",
                    cursor.position,
                    max(cursor.position + 1, inner_end),
                )
            )
            return None, issues
        name_end = cursor.position
        cursor.skip_space()
        argument: str | None = None
        has_parentheses = cursor.take("(")
        if has_parentheses:
            cursor.skip_space()
            if not cursor.peek(")"):
                argument_start = cursor.position
                argument = cursor.string_literal()
                if argument is None:
                    issues.append(
                        _issue(
                            text,
                            IssueCode.BAD_ARGUMENT,
                            'a filter argument must be a quoted text such as "there"',
                            argument_start,
                            inner_end,
                        )
                    )
                    return None, issues
                cursor.skip_space()
            if not cursor.take(")"):
                issues.append(
                    _issue(
                        text,
                        IssueCode.SYNTAX_ERROR,
                        "expected ')' after the filter argument",
                        cursor.position,
                        inner_end,
                    )
                )
                return None, issues
            cursor.skip_space()
        filter_issue = _check_filter(text, name, argument, name_start, name_end, has_parentheses)
        if filter_issue is not None:
            issues.append(filter_issue)
        filters.append((name, argument))
    if issues:
        return None, issues
    return Placeholder(variable=path, filters=tuple(filters), start=start, end=end), []


def _check_variable(text: str, path: str, start: int, end: int) -> TemplateIssue | None:
    root, _, rest = path.partition(".")
    if root == "contact" and rest.startswith("custom."):
        key = rest[len("custom.") :]
        if _CUSTOM_KEY.fullmatch(key) and len(key) <= MAX_CUSTOM_KEY_CHARS and "." not in key:
            return None
        message = (
            f"'{path}' is not a valid custom attribute: use contact.custom.<key> with letters, "
            f"digits, '_' or '-' (at most {MAX_CUSTOM_KEY_CHARS} characters)"
        )
        return _issue(text, IssueCode.UNKNOWN_VARIABLE, message, start, end)
    if rest in ROOT_VARIABLES.get(root, ()):
        return None
    known = [name for name in DOCUMENTED_VARIABLES if "<" not in name]
    close = difflib.get_close_matches(path, known, n=1, cutoff=0.75)
    hint = f"; did you mean {close[0]}?" if close else ""
    return _issue(
        text,
        IssueCode.UNKNOWN_VARIABLE,
        f"unknown variable '{path}'{hint}",
        start,
        end,
        suggestion=close[0] if close else None,
    )


def _check_filter(
    text: str, name: str, argument: str | None, start: int, end: int, has_parentheses: bool
) -> TemplateIssue | None:
    if name == "default":
        if argument is None:
            return _issue(
                text,
                IssueCode.BAD_ARGUMENT,
                'default needs the fallback text, e.g. default("there")',
                start,
                end,
            )
        if len(argument) > MAX_VALUE_CHARS:
            return _issue(
                text,
                IssueCode.BAD_ARGUMENT,
                f"the fallback text is longer than {MAX_VALUE_CHARS} characters",
                start,
                end,
            )
        return None
    if name in _NO_ARGUMENT_FILTERS:
        if argument is not None:
            return _issue(text, IssueCode.BAD_ARGUMENT, f"{name} takes no argument", start, end)
        return None
    close = difflib.get_close_matches(name, ALLOWED_FILTERS, n=1, cutoff=0.7)
    hint = f"; did you mean {close[0]}?" if close else ""
    allowed = ", ".join(ALLOWED_FILTERS)
    return _issue(
        text,
        IssueCode.UNKNOWN_FILTER,
        f"unknown filter '{name}'{hint} (allowed: {allowed})",
        start,
        end,
        suggestion=close[0] if close else None,
    )


class _Cursor:
    """Reads the inside of one ``{{ … }}``; never looks outside [position, end)."""

    def __init__(self, text: str, position: int, end: int) -> None:
        self.text = text
        self.position = position
        self.end = end

    def at_end(self) -> bool:
        return self.position >= self.end

    def skip_space(self) -> None:
        match = _SPACE.match(self.text, self.position, self.end)
        if match is not None:
            self.position = match.end()

    def peek(self, char: str) -> bool:
        return not self.at_end() and self.text[self.position] == char

    def take(self, char: str) -> bool:
        if self.peek(char):
            self.position += 1
            return True
        return False

    def identifier(self) -> str | None:
        match = _IDENTIFIER.match(self.text, self.position, self.end)
        if match is None:
            return None
        self.position = match.end()
        return match.group()

    def path(self) -> str | None:
        """``name(.name)*``; a custom key may also start with a digit or hold '-'."""
        first = self.identifier()
        if first is None:
            return None
        names = [first]
        while self.take("."):
            pattern = _CUSTOM_KEY if names[-1] == "custom" else _IDENTIFIER
            match = pattern.match(self.text, self.position, self.end)
            if match is None:
                names.append("")
                break
            self.position = match.end()
            names.append(match.group())
        return ".".join(names)

    def string_literal(self) -> str | None:
        """A single- or double-quoted text with backslash escapes for quote and backslash."""
        if self.at_end() or self.text[self.position] not in "\"'":
            return None
        quote = self.text[self.position]
        chars: list[str] = []
        index = self.position + 1
        while index < self.end:
            char = self.text[index]
            if char == "\\" and index + 1 < self.end and self.text[index + 1] in (quote, "\\"):
                chars.append(self.text[index + 1])
                index += 2
                continue
            if char == quote:
                self.position = index + 1
                return "".join(chars)
            chars.append(char)
            index += 1
        return None


def _issue(
    text: str,
    code: IssueCode,
    message: str,
    start: int,
    end: int,
    suggestion: str | None = None,
) -> TemplateIssue:
    line = text.count("\n", 0, start) + 1
    column = start - (text.rfind("\n", 0, start) + 1) + 1
    return TemplateIssue(
        code=code,
        message=message,
        start=start,
        end=end,
        line=line,
        column=column,
        suggestion=suggestion,
    )


def _flatten(context: TemplateContext) -> dict[str, str | None]:
    contact = context.contact
    derived_first, derived_last = split_name(contact.name)
    agent_first, _ = split_name(context.agent.name)
    number = context.conversation.number
    return {
        "contact.name": contact.name,
        "contact.first_name": contact.first_name or derived_first,
        "contact.last_name": contact.last_name or derived_last,
        "contact.email": contact.email,
        "contact.plan": contact.plan,
        "conversation.number": None if number is None else str(number),
        "conversation.subject": context.conversation.subject,
        "conversation.category": context.conversation.category,
        "agent.name": context.agent.name,
        "agent.first_name": context.agent.first_name or agent_first,
        "organisation.name": context.organisation.name,
    }


def _custom(context: TemplateContext, variable: str) -> str | None:
    """A custom attribute as text; only plain scalars are shown, anything else is missing.

    Objects are never converted with ``str()``: a value from the CRM is data, and its
    own code must not run while a reply is rendered.
    """
    prefix = "contact.custom."
    if not variable.startswith(prefix):
        return None
    value = context.contact.custom.get(variable[len(prefix) :])
    if type(value) is bool:
        return "yes" if value else "no"
    if type(value) is int:
        return str(value) if abs(value) < 10**30 else None
    if type(value) is float:
        return repr(value) if value == value and abs(value) != float("inf") else None
    if type(value) is str:
        return value
    return None


def _apply(placeholder: Placeholder, value: str | None) -> str | None:
    """Run the filters left to right; None means "no value" until a default fills it."""
    current = _present(value)
    for name, argument in placeholder.filters:
        if name == "default":
            if current is None:
                current = argument
            continue
        if current is not None:
            current = _present(_NO_ARGUMENT_FILTERS[name](current))
    if current is None:
        return "" if placeholder.has_default else None
    return current


def _present(value: str | None) -> str | None:
    """Blank counts as missing so a fallback applies to an empty CRM field too."""
    if value is None or not value.strip():
        return None
    return value[:MAX_VALUE_CHARS]
