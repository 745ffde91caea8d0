"""DOM helpers shared by the extractors: CSS selection with compiled XPaths (and a per-page class index),
element text, node removal."""

from __future__ import annotations

import re
from bisect import bisect_left
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import lxml.html
from lxml import etree
from parsel import Selector
from parsel.csstranslator import HTMLTranslator

TRANSLATOR = HTMLTranslator()
"""parsel's CSS-to-XPath translator (it knows ::text and ::attr()); profiles are validated with it too."""


# Every element of a parsed page is an lxml.html HtmlElement (comments, PIs, entities their lxml.html classes), found
# in C: lxml.html's own lookup is a Python method called for each element given a Python object (~300 a page),
# only to give form fields (form, input, select, textarea, label) subclasses whose form methods nothing here uses.
_HTML_CLASSES = etree.ElementDefaultClassLookup(element=lxml.html.HtmlElement, comment=lxml.html.HtmlComment,
                                               pi=lxml.html.HtmlProcessingInstruction, entity=lxml.html.HtmlEntity)
_XML_DECLARATION = re.compile(r"[\s\ufeff]*<\?xml\s")  # parsel reads such a text as XML


def parse_html(text: str, utf8: bytes | None = None) -> Selector:
    """A page as parsel's Selector(text=...) parses an HTML page: stripped, without NULs, as UTF-8, recovering
    from errors, huge trees allowed, an empty document read as <html/>; with the lookup above. Text parsel would
    not read as HTML (empty, JSON, with an XML declaration) is left to parsel itself. `utf8`, when given, is
    those bytes already (text.decode_page's answer)."""
    if text.lstrip()[:1] != "<" or _XML_DECLARATION.match(text):
        return Selector(text=text)
    parser = lxml.html.HTMLParser(recover=True, encoding="utf-8", huge_tree=True)  # one a page, as parsel: not
    parser.set_element_class_lookup(_HTML_CLASSES)  # shared between the threads extraction may run on
    root = etree.fromstring(text.strip().replace("\x00", "").encode("utf-8") if utf8 is None else utf8, parser=parser)
    if root is None:
        root = etree.fromstring(b"<html/>", parser=parser)
    return Selector(root=root, type="html")


@lru_cache(maxsize=4096)
def compiled(css: str) -> etree.XPath:
    """A CSS selector (with parsel's ::text/::attr()) compiled once to an lxml XPath."""
    return etree.XPath(TRANSLATOR.css_to_xpath(css))


# Class selectors (".news-single__title", ".other-news .news-card", "div.lead a::attr(href)") are most of a
# profile's selectors. As XPath each one walks its whole scope testing every element's class string (about
# 40 us on a 120-element page, some 20 of them per article from the page root, and six per related card), so
# while a page is extracted its classed elements are indexed once: by class token, and by position in document
# order. A selector whose first step is one class, run from the page root or from a classed element (a card),
# then finds that step's elements in the index (those between the scope element and the end of its subtree);
# the rest of its XPath runs from the one element found. The answer is the XPath's own: the index is used only
# where it gives the same elements (none or one found, or no further step); other scopes, such as a copy of
# the body, use the XPath. [class*=part] (the generic author's "[class*=byline]") is the tokens holding part.
# cssselect >= 1.4 puts a cheap `contains(@class, 'name') and` pre-filter in front of the token test: allowed.
_CLASS_STEP = re.compile(
    r"descendant-or-self::(\*|[A-Za-z][\w-]*)\[@class and "
    r"(?:contains\(@class, '[^']*'\) and )?contains\((?:concat\(' ', normalize-space\(@class\), ' '\), "
    r"' ([^' ]+) '|@class, '([^' \t\n\r]+)')\)\](/(?!/).*)?", re.DOTALL)  # .name, or [class*=part]
_XPATH_BLANKS = re.compile(r"[ \t\n\r]+")  # what XPath's normalize-space() collapses


def has_token(value: str | None, token: str) -> bool:
    """Whether an attribute's blank-separated value (rel="alternate nofollow") holds the token, as the CSS
    [rel~=token] and the XPath contains(concat(" ", normalize-space(@rel), " "), " token ") test it."""
    return value is not None and token in _XPATH_BLANKS.split(value)
# descendant-or-self::*[@class], as the parents of the class attributes (the same elements, in document order):
# libxml2 finds attributes faster than it tests a predicate on every element (102 vs 125 us a realistic page).
_CLASSED = etree.XPath("descendant-or-self::*/@class/..")
_CLASSED_BELOW = etree.XPath("count(descendant::*/@class)")  # an element has one class attribute at most


@dataclass(frozen=True)
class _ClassStep:
    tag: str | None  # None for *
    name: str
    substring: bool  # [class*=name]: a class token containing name (a part without blanks lies in one token)
    rest: etree.XPath | None  # the steps after the class step, relative to its element
    below: _ClassStep | None = None  # instead of rest, a class step among its descendants (".other-news .news-card")


_DESCENDANT = "/descendant::"


@lru_cache(maxsize=4096)
def _class_step(css: str) -> _ClassStep | None:
    xpath = TRANSLATOR.css_to_xpath(css)
    return None if "|" in xpath else _parse_class_step(xpath)


def _parse_class_step(xpath: str) -> _ClassStep | None:
    match = _CLASS_STEP.fullmatch(xpath)
    if match is None:
        return None
    tag, name, part, rest = match.groups()
    # A descendant class step after it is found in the index as well: as XPath it walks the whole subtree of the
    # first step's element (~35 us for the related block's `.other-news .news-card`, every article).
    below = _parse_class_step("descendant-or-self::" + rest[len(_DESCENDANT):]) \
        if rest and rest.startswith(_DESCENDANT) else None
    return _ClassStep(None if tag == "*" else tag, name or part, name is None,
                      etree.XPath(rest[1:]) if rest and below is None else None, below)


@lru_cache(maxsize=4096)  # a site's pages share their templates' few hundred class values
def _class_tokens(value: str) -> tuple[str, ...]:
    """The tokens of a class value as XPath's normalize-space() cuts it, each once (class="a a" holds a once)."""
    return tuple(dict.fromkeys(token for token in _XPATH_BLANKS.split(value) if token))


@lru_cache(maxsize=256)  # pages of one template have the same class values in the same order (a few variants)
def _token_values(values: tuple[str, ...]) -> dict[str, list[str]]:
    """Each class token of the values, with the values holding it (in their order). Shared: never changed."""
    found: dict[str, list[str]] = {}
    for value in values:
        for token in _class_tokens(value):
            found.setdefault(token, []).append(value)
    return found


class ClassIndex:
    """The elements of one page that have a class, by class token and by position in document order (among
    them). Valid while the tree is unchanged."""

    def __init__(self, root: etree._Element) -> None:
        self.root = root
        self._classed: list[etree._Element] = _CLASSED(root)
        self.count = len(self._classed)
        # A page repeats a few dozen class values over its hundreds of classed elements (every card has the same
        # ones), so values are split into tokens once each, and a token's elements are gathered when first asked.
        by_value: dict[str, list[int]] = {}
        for number, element in enumerate(self._classed):
            value = element.get("class")
            positions = by_value.get(value)
            if positions is None:
                by_value[value] = [number]
            else:
                positions.append(number)
        self._by_value = by_value
        self._values = _token_values(tuple(by_value))  # class token -> the class values holding it
        self._by_class: dict[str, tuple[list[etree._Element], list[int]]] = {}
        self._position: dict[etree._Element, int] | None = None
        self._ends: dict[etree._Element, int] = {}
        self._parts: dict[str, tuple[list[etree._Element], list[int]]] = {}

    def _with_class(self, token: str) -> tuple[list[etree._Element], list[int]]:
        """Elements with the class token, in document order."""
        found = self._by_class.get(token)
        if found is None:
            values = self._values.get(token, ())
            positions = self._by_value[values[0]] if len(values) == 1 else \
                sorted(p for value in values for p in self._by_value[value])
            found = self._by_class[token] = ([self._classed[p] for p in positions], positions)
        return found

    def _span(self, scope: etree._Element) -> tuple[int, int] | None:
        """Positions of the classed elements in scope's subtree (itself included): [start, end)."""
        if scope is self.root:
            return 0, self.count
        if self._position is None:  # most scopes are the root: cards are asked for on some pages only
            self._position = dict(zip(self._classed, range(self.count), strict=True))
        start = self._position.get(scope)
        if start is None:  # not a classed element of this page
            return None
        end = self._ends.get(scope)
        if end is None:  # descendants follow their ancestor in document order
            end = self._ends[scope] = start + 1 + int(_CLASSED_BELOW(scope))
        return start, end

    def _with_part(self, part: str) -> tuple[list[etree._Element], list[int]]:
        """Elements with a class token containing part, in document order."""
        found = self._parts.get(part)
        if found is None:
            positions = sorted({p for token, values in self._values.items() if part in token
                                for value in values for p in self._by_value[value]})
            found = self._parts[part] = ([self._classed[p] for p in positions], positions)
        return found

    def select(self, scope: etree._Element, step: _ClassStep) -> list | None:
        """The selector's matches under scope (itself included), or None when the index cannot tell: the
        scope is not the page's root or one of its classed elements, or several elements carry the class
        and more steps follow."""
        span = self._span(scope)
        return None if span is None else self._select(span, step)

    def _select(self, span: tuple[int, int], step: _ClassStep) -> list | None:
        """select() among the classed elements at positions [start, end)."""
        elements, positions = self._with_part(step.name) if step.substring else self._with_class(step.name)
        anchors = elements[bisect_left(positions, span[0]):bisect_left(positions, span[1])]
        if step.tag is not None:
            anchors = [a for a in anchors if a.tag == step.tag]
        if step.below is not None:  # its descendants: its own span without itself
            if len(anchors) != 1:
                return [] if not anchors else None
            start, end = self._span(anchors[0]) or (0, 0)  # a classed element: always has a span
            return self._select((start + 1, end), step.below)
        if step.rest is None:
            return list(anchors)
        if not anchors:
            return []
        return step.rest(anchors[0]) if len(anchors) == 1 else None


_PAGE_INDEX: ContextVar[ClassIndex | None] = ContextVar("page_class_index", default=None)


@contextmanager
def class_index(sel: Selector | etree._Element) -> Iterator[ClassIndex]:
    """Within the block, class selectors run on this page's tree use a class index of the page. The caller
    must not change the tree inside the block (work on a copy, as the body extraction does)."""
    index = ClassIndex(getattr(sel, "root", sel))
    token = _PAGE_INDEX.set(index)
    try:
        yield index
    finally:
        _PAGE_INDEX.reset(token)


def select(node: Selector | etree._Element, css: str) -> list[Any]:
    """Elements (or attribute/text strings, for ::attr()/::text) matching a CSS selector, with a compiled XPath
    (or, inside class_index(), the page's class index where it gives the same answer)."""
    root = node.root if isinstance(node, Selector) else node
    index = _PAGE_INDEX.get()
    if index is not None:
        step = _class_step(css)
        if step is not None:
            found = index.select(root, step)
            if found is not None:
                return found
    result: list[Any] = compiled(css)(root)
    return result


def select_first_text(sel: Selector | etree._Element, selectors: tuple[str, ...]) -> str | None:
    """Text of the first element matched by the first selector that matches (whitespace collapsed)."""
    root = sel.root if isinstance(sel, Selector) else sel
    for css in selectors:
        for node in select(root, css):
            text = element_text(node)
            if text:
                return text
    return None


def element_text(node: str | etree._Element) -> str:
    """All text of an element (or a selected string), whitespace collapsed."""
    if isinstance(node, str):
        return " ".join(node.split())
    if not len(node) and isinstance(node.tag, str):  # a leaf element (most a selector finds): its text is all,
        return " ".join((node.text or "").split())  # without itertext's walker (half the cost)
    return " ".join("".join(node.itertext()).split())


def node_text(node: Selector) -> str:
    return element_text(node.root)


def drop_node(element: etree._Element) -> None:
    """Remove an element but keep the text that follows it (its tail), which belongs to its parent."""
    parent = element.getparent()
    if parent is None:
        return
    if element.tail:
        previous = element.getprevious()
        if previous is not None:
            previous.tail = (previous.tail or "") + element.tail
        else:
            parent.text = (parent.text or "") + element.tail
    parent.remove(element)
