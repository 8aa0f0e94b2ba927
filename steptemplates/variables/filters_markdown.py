"""The ``Markdown`` filter: CommonMark with pipe tables and bare-URL links, rendered as
Octostache's Markdig renders them."""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import cache
from typing import TYPE_CHECKING

from steptemplates.variables.dotnet.strings import WHITESPACE
from steptemplates.variables.filters_arguments import needs_argument, no_options

if TYPE_CHECKING:
    from markdown_it import MarkdownIt
    from markdown_it.rules_core import StateCore
    from markdown_it.token import Token


def markdown(argument: str | None, options: Sequence[str]) -> str | None:
    no_options("Markdown", options)
    text = needs_argument("Markdown", argument)
    return _markdown_renderer().render(text.strip(WHITESPACE)) + "\n"


@cache
def _markdown_renderer() -> MarkdownIt:
    from markdown_it import MarkdownIt  # imported on first use: most runs never render Markdown

    renderer = MarkdownIt("commonmark").enable(["table", "strikethrough"])
    renderer.core.ruler.push("bare_links", _link_bare_urls)
    renderer.add_render_rule("s_open", lambda *_args: "<del>")
    renderer.add_render_rule("s_close", lambda *_args: "</del>")
    for cell in ("th_open", "td_open"):
        renderer.add_render_rule(cell, _render_table_cell)
    return renderer


def _render_table_cell(
    renderer: object, tokens: Sequence[Token], index: int, *_settings: object
) -> str:
    # Markdig writes alignment as "text-align: left;", markdown-it as "text-align:left".
    token = tokens[index]
    style = str(token.attrGet("style") or "")
    attribute = f' style="{style.replace(":", ": ")};"' if style else ""
    return f"<{token.tag}{attribute}>"


# Markdig links bare URLs starting like these when they follow a space or one of `*_~(`.
_BARE_URL = re.compile(r"(?<![^\s*_~(])(?:https?://|ftp://|mailto:|www\.)[^\s<]+", re.IGNORECASE)
_URL_PREFIX = re.compile(r"(?:https?://|ftp://|mailto:[^@]*@|www\.)", re.IGNORECASE)
_TRAILING_PUNCTUATION = "?!.,:*_~;'\""


def _link_bare_urls(state: StateCore) -> None:
    for block in state.tokens:
        if block.type != "inline" or not block.children:
            continue
        children: list[Token] = []
        inside_link = 0
        for token in block.children:
            inside_link += {"link_open": 1, "link_close": -1}.get(token.type, 0)
            if token.type == "text" and not inside_link:
                children.extend(_split_bare_urls(token))
            else:
                children.append(token)
        block.children = children


def _split_bare_urls(token: Token) -> list[Token]:
    from markdown_it.token import Token

    pieces: list[Token] = []
    text = token.content
    position = 0
    for match in _BARE_URL.finditer(text):
        url = _trim_url(match.group())
        if not _has_domain(url):
            continue
        href = "http://" + url if url.lower().startswith("www.") else url
        label = url[len("mailto:") :] if url.lower().startswith("mailto:") else url
        pieces += [
            Token("text", "", 0, content=text[position : match.start()]),
            Token("link_open", "a", 1, attrs={"href": href}),
            Token("text", "", 0, content=label),
            Token("link_close", "a", -1),
        ]
        position = match.start() + len(url)
    if not pieces:
        return [token]
    pieces.append(Token("text", "", 0, content=text[position:]))
    return [piece for piece in pieces if piece.type != "text" or piece.content]


def _trim_url(url: str) -> str:
    while url and (url[-1] in _TRAILING_PUNCTUATION or _unbalanced_close(url)):
        url = url[:-1]
    return url


def _unbalanced_close(url: str) -> bool:
    return url.endswith(")") and url.count(")") > url.count("(")


def _has_domain(url: str) -> bool:
    """Markdig only links a URL whose host looks like a domain name with a dot in it."""
    prefix = _URL_PREFIX.match(url)
    rest = url[prefix.end() :] if prefix else url
    labels = re.split(r"[/?#:]", rest, maxsplit=1)[0].split(".")
    return len(labels) > 1 and all(re.fullmatch(r"[\w-]+", label) for label in labels)
