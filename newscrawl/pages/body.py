"""Generic main-text extraction for article pages (used when no site profile matches)."""

from __future__ import annotations

import copy
import re

import lxml.html
from lxml import etree

from newscrawl.pages.body_dom import analyse
from newscrawl.pages.body_merge import choose_paragraphs


def extract_body(
    html: str,
    url: str | None = None,
    *,
    tree: lxml.html.HtmlElement | None = None,
    title: str | None = None,
    lead: str | None = None,
) -> list[str]:
    """Main article text as a list of paragraphs (raw text as published, whitespace-collapsed within a paragraph)."""
    if tree is None:
        tree = _parse(html)
        if tree is None:
            return []
        work = tree  # our own parse: safe to strip in place (html is kept for trafilatura)
    else:
        work = copy.deepcopy(tree)
    blocks, chosen = analyse(work)
    paragraphs = choose_paragraphs(html, tree, url, blocks, chosen)
    return _drop_repeats(paragraphs, title, lead)


def _parse(html: str) -> lxml.html.HtmlElement | None:
    if not html or not html.strip():
        return None
    try:
        return lxml.html.document_fromstring(html)
    except (etree.ParserError, ValueError):
        try:
            return lxml.html.document_fromstring(html.encode("utf-8", "surrogatepass"))
        except (etree.ParserError, ValueError):
            return None


_NON_WORD = re.compile(r"[\W_]+")


def _key(text: str) -> str:
    return _NON_WORD.sub(" ", text).strip().casefold()


def _drop_repeats(paragraphs: list[str], title: str | None, lead: str | None) -> list[str]:
    """Drop leading paragraphs that repeat the headline or the standfirst."""
    skip = {_key(t) for t in (title, lead) if t and _key(t)}
    out = list(paragraphs)
    while out and _key(out[0]) in skip:
        out.pop(0)
    return out
