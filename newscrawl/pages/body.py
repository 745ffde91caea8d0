"""Generic main-text extraction for article pages (used when no site profile matches).

trafilatura's fast pass answers first; its slower comparison with its own fallbacks runs only when that
answer is short; our DOM scorer answers when trafilatura finds nothing; our boilerplate filter and the
headline/standfirst check clean whatever answered (docs/body-extraction.md).
"""

from __future__ import annotations

import copy
import re
from html import unescape

import lxml.html
from lxml import etree

from newscrawl.dates import parse_date_precise
from newscrawl.pages.body_dom import analyse, is_boilerplate_text
from newscrawl.pages.body_trafilatura import trafilatura_paragraphs
from newscrawl.pages.generic import TITLE_SEPARATORS
from newscrawl.pages.text import without_leading_repeats

# A fast answer shorter than this (characters) is checked with trafilatura's full comparison...
SHORT_BODY = 1000
# ...and replaced by the full comparison's answer unless that keeps less than this share of it (a short
# fast answer is as often the whole page's text as a truncated body, so the full answer is trusted).
FULL_KEEPS = 0.5
# A fast answer with more than this share of its text in lines shorter than MENU_ITEM is checked too.
MAX_MENU_SHARE = 0.3
MENU_ITEM = 30
# A paragraph this short (one or two words) right after a dropped announcement is one of its buttons.
MAX_BUTTON = 24
# A leading paragraph this short that reads as a date is the dateline, not the story.
MAX_DATELINE = 60
_DIGIT = re.compile(r"\d")
_TITLE_TAG = re.compile(r"<title[^>]*>(.*?)</title>|<h1[^>]*>(.*?)</h1>", re.I | re.S)
_TAG = re.compile(r"<[^>]+>")


def extract_body(
    html: str,
    url: str | None = None,
    *,
    tree: lxml.html.HtmlElement | None = None,
    title: str | None = None,
    lead: str | None = None,
) -> list[str]:
    """Main article text as a list of paragraphs (raw text as published, whitespace-collapsed within a paragraph)."""
    # trafilatura's own parse drops comments at parse time; a tree parsed with comments loses their
    # neighbours' text in its cleaning, so the HTML string is preferred when there is one. Handing it the
    # string also spares it copying a tree; only the rare second pass parses the page again.
    source: str | lxml.html.HtmlElement | None = html if html and html.strip() else tree
    if source is None:
        return []
    paragraphs = trafilatura_paragraphs(source, url, fast=True)
    if _length(paragraphs) < SHORT_BODY or _menu_share(paragraphs) > MAX_MENU_SHARE:
        full = trafilatura_paragraphs(source, url, fast=False)
        if full and _length(full) > FULL_KEEPS * _length(paragraphs):
            paragraphs = full
    if not paragraphs:
        paragraphs = _dom_paragraphs(html, tree)
    paragraphs = _without_boilerplate(paragraphs)
    headlines = [title] if title else _page_headlines(html, tree)
    return _drop_repeats(paragraphs, headlines, lead)


def _without_boilerplate(paragraphs: list[str]) -> list[str]:
    """Drop announcements and calls to action, and the bare button labels that follow one ("Telegram")."""
    out: list[str] = []
    after_boilerplate = False
    for p in paragraphs:
        if is_boilerplate_text(p) or (after_boilerplate and len(p) <= MAX_BUTTON and len(p.split()) <= 2):
            after_boilerplate = True
            continue
        after_boilerplate = False
        out.append(p)
    return out


def _menu_share(paragraphs: list[str]) -> float:
    """Share of the text in menu-item-length lines: high when trafilatura fell back to the whole page."""
    total = _length(paragraphs)
    return sum(len(p) for p in paragraphs if len(p) < MENU_ITEM) / total if total else 0.0


def _length(paragraphs: list[str]) -> int:
    return sum(len(p) for p in paragraphs)


def _dom_paragraphs(html: str, tree: lxml.html.HtmlElement | None) -> list[str]:
    """Our own DOM scorer's paragraphs (it strips the tree it is given, so it gets a private one)."""
    work = copy.deepcopy(tree) if tree is not None else _parse(html)
    if work is None:
        return []
    return [b.text for b in analyse(work)[1]]


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


def _page_headlines(html: str, tree: lxml.html.HtmlElement | None) -> list[str]:
    """The page's <title> and first <h1> texts, for callers that did not say what the headline is."""
    if tree is not None:
        found = [tree.findtext(".//title"), next((h.text_content() for h in tree.iter("h1")), None)]
    else:
        found = [unescape(_TAG.sub(" ", a or b)) for a, b in _TITLE_TAG.findall(html[:300_000])]
    texts = [t for t in found if t]
    return texts + [part for t in texts for part in TITLE_SEPARATORS.split(t)]


def _is_dateline(text: str) -> bool:
    """A short line that starts with a date ("Кеча, 19:48 Изоҳлар: 3", "15 ноября 2025, 12:30")."""
    if len(text) > MAX_DATELINE or not _DIGIT.search(text):
        return False
    words = text.split()
    return any(_DIGIT.search(" ".join(words[:n])) and parse_date_precise(" ".join(words[:n])) is not None
               for n in range(len(words), 1, -1))


def _drop_repeats(paragraphs: list[str], headlines: list[str], lead: str | None) -> list[str]:
    """Drop leading paragraphs that repeat the headline or the standfirst, or are the dateline."""
    return without_leading_repeats(paragraphs, [*headlines, lead], also=_is_dateline)
