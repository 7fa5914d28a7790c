"""Help-center Markdown: sanitised HTML for pages, plain text for search and excerpts.

Articles are written by staff but shown to the public, so the HTML is produced in
two independent steps: markdown-it with raw HTML turned off (a ``<script>`` in an
article is shown as text), then nh3 with a short allow-list of tags, attributes and
URL schemes. Links get ``rel="nofollow noopener"`` so an article cannot lend our
ranking to a spammer or hand ``window.opener`` to another site.
"""

from __future__ import annotations

import re
from functools import lru_cache

import nh3
from markdown_it import MarkdownIt
from markdown_it.token import Token

ALLOWED_TAGS = frozenset(
    {
        "a",
        "abbr",
        "blockquote",
        "br",
        "code",
        "del",
        "em",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "hr",
        "img",
        "li",
        "ol",
        "p",
        "pre",
        "s",
        "strong",
        "table",
        "tbody",
        "td",
        "th",
        "thead",
        "tr",
        "ul",
    }
)
ALLOWED_ATTRIBUTES: dict[str, set[str]] = {
    "a": {"href", "title"},
    "img": {"src", "alt", "title"},
    "ol": {"start"},
    "td": {"style"},
    "th": {"style"},
}
URL_SCHEMES = frozenset({"http", "https", "mailto"})
LINK_REL = "nofollow noopener"

_parser = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})
_parser.enable(["table", "strikethrough"])
_cleaner = nh3.Cleaner(
    tags=set(ALLOWED_TAGS),
    attributes=ALLOWED_ATTRIBUTES,
    url_schemes=set(URL_SCHEMES),
    link_rel=LINK_REL,
    filter_style_properties={"text-align"},
    strip_comments=True,
)
_SPACES = re.compile(r"\s+")


def _inline_text(token: Token) -> str:
    parts: list[str] = []
    for child in token.children or ():
        if child.type in ("text", "code_inline"):
            parts.append(child.content)
        elif child.type in ("softbreak", "hardbreak"):
            parts.append(" ")
        elif child.type == "image":
            parts.append(_inline_text(child))
    return "".join(parts)


def _drop_title_heading(tokens: list[Token], title: str | None) -> list[Token]:
    """Leave out a first heading that repeats the title: the page already shows it."""
    if title is None or len(tokens) < 3:
        return tokens
    first, inline, close = tokens[0], tokens[1], tokens[2]
    if (
        first.type == "heading_open"
        and close.type == "heading_close"
        and _SPACES.sub(" ", _inline_text(inline)).strip().casefold()
        == _SPACES.sub(" ", title).strip().casefold()
    ):
        return tokens[3:]
    return tokens


def _demote_headings(tokens: list[Token]) -> None:
    """The page title is the only <h1>; article headings start at <h2>."""
    for token in tokens:
        if token.type in ("heading_open", "heading_close") and token.tag in (
            "h1",
            "h2",
            "h3",
            "h4",
            "h5",
        ):
            token.tag = f"h{int(token.tag[1]) + 1}"


@lru_cache(maxsize=256)
def render_markdown(source: str, title: str | None = None) -> str:
    """Sanitised HTML for an article body; safe to insert into a page as it is."""
    tokens = _drop_title_heading(_parser.parse(source), title)
    _demote_headings(tokens)
    html = _parser.renderer.render(tokens, _parser.options, {})
    return str(_cleaner.clean(html))


def markdown_text(source: str, title: str | None = None) -> str:
    """The words of an article without Markdown syntax, one line per block."""
    tokens = _drop_title_heading(_parser.parse(source), title)
    lines: list[str] = []
    for token in tokens:
        if token.type == "inline":
            text = _inline_text(token).strip()
        elif token.type in ("code_block", "fence"):
            text = token.content.strip()
        else:
            continue
        if text:
            lines.append(text)
    return "\n".join(lines)


def excerpt(source: str, title: str | None = None, max_chars: int = 180) -> str:
    """The first words of an article for lists, cut at a word boundary."""
    text = _SPACES.sub(" ", markdown_text(source, title)).strip()
    if len(text) <= max_chars:
        return text
    cut = text.rfind(" ", 0, max_chars)
    return text[: cut if cut > max_chars // 2 else max_chars].rstrip(" ,.;:") + "…"
