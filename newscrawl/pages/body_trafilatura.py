"""trafilatura as the first stage of generic body extraction, rendered as raw paragraphs of the page."""

from __future__ import annotations

import logging

import lxml.html
from lxml import etree

from newscrawl.pages.text import collapse

# trafilatura's output elements that hold several paragraphs rather than being one.
_BLOCKS = frozenset(("p", "head", "list", "item", "table", "row", "quote", "code", "div"))
# Elements rendered as one paragraph even when they hold block children (a table row reads as one line).
_ONE_LINE = frozenset(("row",))
# A story card: a block with a link, a picture and little text (under 300 characters). Two or more side by
# side are a list of other stories (related, most read), whose leads trafilatura otherwise takes for
# article paragraphs.
_CARD = ("*[self::div or self::li or self::article][.//a[@href] and .//img]"
         "[string-length(normalize-space()) < 300]")
CARD_LIST_PRUNE = f"//{_CARD}[preceding-sibling::{_CARD} or following-sibling::{_CARD}]"
PRUNE = [CARD_LIST_PRUNE]
# trafilatura logs a warning for every page it finds nothing on; that is an outcome, not a problem.
logging.getLogger("trafilatura").setLevel(logging.ERROR)


def trafilatura_paragraphs(page: str | lxml.html.HtmlElement, url: str | None, *, fast: bool) -> list[str]:
    """trafilatura's main text of a page (HTML, or a tree it copies and never changes) as paragraphs.

    ``fast`` skips its comparison with its readability and jusText fallbacks; that comparison costs about
    a third of its time and only matters when the first answer is short.
    """
    from trafilatura import bare_extraction

    try:
        document = bare_extraction(page, url=url, fast=fast, include_comments=False, with_metadata=False,
                                   prune_xpath=PRUNE)
    except Exception:  # noqa: BLE001 - one stage failing leaves the others to answer
        return []
    body = getattr(document, "body", None)
    return render(body) if body is not None else []


def render(body: etree._Element) -> list[str]:
    """Paragraphs of trafilatura's output tree: one per paragraph, heading, list item, quote and table row,
    and a new one at each line break, whitespace collapsed; text stays as the page printed it (no list
    markers, no table separators)."""
    out: list[str] = []

    def leaf(el: etree._Element) -> None:
        parts: list[str] = []
        for event, node in etree.iterwalk(el, events=("start", "end")):
            if event == "start":
                if node.tag == "lb":
                    parts.append("\n")
                elif node.text:
                    parts.append(node.text)
            else:
                if node.tag == "cell":
                    parts.append(" ")
                if node is not el and node.tail:
                    parts.append(node.tail)
        for line in "".join(parts).split("\n"):
            text = collapse(line)
            if text:
                out.append(text)

    def walk(el: etree._Element) -> None:
        blocks = [c for c in el if c.tag in _BLOCKS]
        if el.tag in _ONE_LINE or not blocks:
            leaf(el)
            return
        loose(el.text)
        for child in el:
            walk(child)
            loose(child.tail)

    def loose(text: str | None) -> None:
        squashed = collapse(text)
        if squashed:
            out.append(squashed)

    walk(body)
    return out
