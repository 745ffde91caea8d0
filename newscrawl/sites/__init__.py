"""Site profiles: declarative TOML files describing a site's markup, and the loader that validates them."""

from __future__ import annotations

import re
import sys
from bisect import bisect_left
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from functools import cached_property, lru_cache
from dataclasses import dataclass, field
from datetime import timedelta, timezone
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from cssselect import SelectorError
from lxml import etree
from parsel import Selector
from parsel.csstranslator import HTMLTranslator

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

SITES_DIR = Path(__file__).parent

LISTING_KEYS = ("cards", "next", "pages", "article_url_pattern")
CARD_KEYS = ("link", "title", "time", "category", "lead", "image")
ARTICLE_KEYS = ("title", "lead", "published", "modified", "author", "image", "category", "tags", "canonical")


class ProfileError(ValueError):
    """A profile file is invalid; the message names the file and the key."""

    def __init__(self, path: Path | str, key: str, problem: str) -> None:
        super().__init__(f"site profile {path}: key '{key}': {problem}")
        self.path = str(path)
        self.key = key


@dataclass(frozen=True)
class Profile:
    """What one site's pages look like: selectors per field, each a list tried in order."""

    name: str
    path: str
    hosts: tuple[str, ...]
    base_url: str | None
    language: str | None
    timezone: str
    """Offset of dates the site prints without one, e.g. "+05:00"; relative dates use this zone's calendar."""
    categories: dict[str, str]
    listing_cards: tuple[str, ...]
    listing_next: tuple[str, ...]
    listing_pages: tuple[str, ...]
    article_url_pattern: re.Pattern[str] | None
    card: dict[str, tuple[str, ...]]
    article: dict[str, tuple[str, ...]]
    body: tuple[str, ...]
    body_exclude: tuple[str, ...]
    related_cards: tuple[str, ...]
    feeds: tuple[str, ...] = field(default=())

    date_formats: tuple[str, ...] = field(default=())
    """strptime formats tried on the profile's own date texts before the general date parser."""

    @cached_property  # read for every date of every page
    def zone(self) -> timezone:
        sign = -1 if self.timezone.startswith("-") else 1
        hours, minutes = self.timezone[1:].split(":")
        return timezone(sign * timedelta(hours=int(hours), minutes=int(minutes)))

    def matches(self, url: str) -> bool:
        host = (urlsplit(url).hostname or "").lower()
        return any(host == h or host.endswith("." + h) for h in self.hosts)


_translator = HTMLTranslator()


def _selectors(path: Path, key: str, value: Any, required: bool = False) -> tuple[str, ...]:
    if value is None:
        if required:
            raise ProfileError(path, key, "is required")
        return ()
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list) or not all(isinstance(s, str) and s.strip() for s in items):
        raise ProfileError(path, key, "must be a CSS selector or a list of CSS selectors")
    for css in items:
        try:
            _translator.css_to_xpath(css)
        except (SelectorError, ValueError, NotImplementedError) as exc:
            raise ProfileError(path, key, f"invalid CSS selector {css!r}: {exc}") from None
    return tuple(items)


def _table(path: Path, data: dict[str, Any], key: str) -> dict[str, Any]:
    value = data.get(key, {})
    if not isinstance(value, dict):
        raise ProfileError(path, key, "must be a table")
    return value


def parse_profile(path: Path, data: dict[str, Any]) -> Profile:
    """Validate raw TOML data into a Profile, raising ProfileError naming the file and key."""
    name = data.get("name")
    if not isinstance(name, str) or not name:
        raise ProfileError(path, "name", "is required")
    hosts = data.get("hosts")
    if not isinstance(hosts, list) or not hosts or not all(isinstance(h, str) for h in hosts):
        raise ProfileError(path, "hosts", "must be a non-empty list of host names")
    timezone = data.get("timezone", "+05:00")
    offset = re.fullmatch(r"[+-](\d{2}):(\d{2})", timezone) if isinstance(timezone, str) else None
    # the zone is built for every date parsed: an offset datetime.timezone refuses must fail here, not per page
    if offset is None or int(offset[1]) > 23 or int(offset[2]) > 59:
        raise ProfileError(path, "timezone", f"must be a UTC offset from -23:59 to +23:59 like +05:00, "
                                             f"not {timezone!r}")
    categories = _table(path, data, "categories")
    if not all(isinstance(v, str) for v in categories.values()):
        raise ProfileError(path, "categories", "values must be URL paths")
    listing = _table(path, data, "listing")
    article = _table(path, data, "article")
    card = _table(path, data, "card")
    related = _table(path, data, "related")
    pattern = listing.get("article_url_pattern")
    compiled = None
    if pattern is not None:
        try:
            compiled = re.compile(pattern)
        except (re.error, TypeError) as exc:
            raise ProfileError(path, "listing.article_url_pattern", f"invalid regular expression: {exc}") from None
    formats = data.get("date_formats", [])
    if not isinstance(formats, list) or not all(isinstance(f, str) and "%" in f for f in formats):
        raise ProfileError(path, "date_formats", "must be a list of strptime formats such as '%d.%m.%Y %H:%M'")
    known = {"name", "hosts", "base_url", "timezone", "date_formats", "language", "description", "categories", "listing", "article", "card",
             "related", "feeds"}
    unknown = sorted(set(data) - known)
    if unknown:
        raise ProfileError(path, unknown[0], "unknown key")
    for table, values, allowed in (("listing", listing, LISTING_KEYS), ("card", card, CARD_KEYS),
                                   ("article", article, ARTICLE_KEYS + ("body", "body_exclude")),
                                   ("related", related, ("cards",))):
        unknown = sorted(set(values) - set(allowed))
        if unknown:
            raise ProfileError(path, f"{table}.{unknown[0]}", "unknown key")
    return Profile(
        name=name,
        path=str(path),
        hosts=tuple(h.lower() for h in hosts),
        base_url=data.get("base_url"),
        language=data.get("language"),
        timezone=timezone,
        categories=dict(categories),
        listing_cards=_selectors(path, "listing.cards", listing.get("cards"), required=True),
        listing_next=_selectors(path, "listing.next", listing.get("next")),
        listing_pages=_selectors(path, "listing.pages", listing.get("pages")),
        article_url_pattern=compiled,
        card={k: _selectors(path, f"card.{k}", card.get(k), required=k == "link") for k in CARD_KEYS},
        article={k: _selectors(path, f"article.{k}", article.get(k), required=k == "title") for k in ARTICLE_KEYS},
        body=_selectors(path, "article.body", article.get("body")),
        body_exclude=_selectors(path, "article.body_exclude", article.get("body_exclude")),
        related_cards=_selectors(path, "related.cards", related.get("cards")),
        feeds=tuple(data.get("feeds", ())),
        date_formats=tuple(formats),
    )


def load_profile_file(path: Path | str) -> Profile:
    """The profile in a TOML file, parsed once per version of the file (profile_for_url runs for every page)."""
    path = Path(path)
    try:
        stat = path.stat()
    except OSError as exc:
        raise ProfileError(path, "(file)", f"cannot be read: {exc}") from None
    return _load_profile_file(path, stat.st_mtime_ns, stat.st_size)


@lru_cache(maxsize=64)
def _load_profile_file(path: Path, modified: int, size: int) -> Profile:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ProfileError(path, "(file)", f"not valid TOML: {exc}") from None
    except OSError as exc:
        raise ProfileError(path, "(file)", f"cannot be read: {exc}") from None
    return parse_profile(path, data)


def available_profiles(directory: Path = SITES_DIR) -> dict[str, Path]:
    return {p.stem: p for p in sorted(directory.glob("*.toml"))}


def load_profile(name_or_path: str) -> Profile:
    """Load a profile by name (a file in newscrawl/sites/) or by path to a TOML file."""
    if name_or_path.endswith(".toml") or "/" in name_or_path:
        return load_profile_file(name_or_path)
    profiles = available_profiles()
    if name_or_path not in profiles:
        raise ProfileError(SITES_DIR / f"{name_or_path}.toml", "(file)",
                           f"no such profile; available: {', '.join(profiles) or 'none'}")
    return load_profile_file(profiles[name_or_path])


def profile_for_url(url: str) -> Profile | None:
    """The first bundled profile whose hosts match the URL's host."""
    for path in available_profiles().values():
        profile = load_profile_file(path)
        if profile.matches(url):
            return profile
    return None


@lru_cache(maxsize=4096)
def compiled(css: str) -> etree.XPath:
    """A CSS selector (with parsel's ::text/::attr()) compiled once to an lxml XPath."""
    return etree.XPath(_translator.css_to_xpath(css))


# Class selectors (".news-single__title", ".other-news .news-card", "div.lead a::attr(href)") are most of a
# profile's selectors. As XPath each one walks its whole scope testing every element's class string (about
# 40 us on a 120-element page, some 20 of them per article from the page root, and six per related card), so
# while a page is extracted its classed elements are indexed once: by class token, and by position in document
# order. A selector whose first step is one class, run from the page root or from a classed element (a card),
# then finds that step's elements in the index (those between the scope element and the end of its subtree);
# the rest of its XPath runs from the one element found. The answer is the XPath's own: the index is used only
# where it gives the same elements (none or one found, or no further step); other scopes, such as a copy of
# the body, use the XPath. [class*=part] (the generic author's "[class*=byline]") is the tokens holding part.
_CLASS_STEP = re.compile(
    r"descendant-or-self::(\*|[A-Za-z][\w-]*)\[@class and contains\((?:concat\(' ', normalize-space\(@class\), ' '\), "
    r"' ([^' ]+) '|@class, '([^' \t\n\r]+)')\)\](/(?!/).*)?", re.DOTALL)  # .name, or [class*=part]
_XPATH_BLANKS = re.compile(r"[ \t\n\r]+")  # what XPath's normalize-space() collapses
_CLASSED = etree.XPath("descendant-or-self::*[@class]")
_CLASSED_BELOW = etree.XPath("count(descendant::*[@class])")


@dataclass(frozen=True)
class _ClassStep:
    tag: str | None  # None for *
    name: str
    substring: bool  # [class*=name]: a class token containing name (a part without blanks lies in one token)
    rest: etree.XPath | None  # the steps after the class step, relative to its element


@lru_cache(maxsize=4096)
def _class_step(css: str) -> _ClassStep | None:
    xpath = _translator.css_to_xpath(css)
    match = _CLASS_STEP.fullmatch(xpath)
    if match is None or "|" in xpath:
        return None
    tag, name, part, rest = match.groups()
    return _ClassStep(None if tag == "*" else tag, name or part, name is None,
                      etree.XPath(rest[1:]) if rest else None)


class ClassIndex:
    """The elements of one page that have a class, by class token and by position in document order (among
    them). Valid while the tree is unchanged."""

    def __init__(self, root: etree._Element) -> None:
        self.root = root
        classed = _CLASSED(root)
        self.count = len(classed)
        self.position: dict[etree._Element, int] = {}
        self.by_class: dict[str, tuple[list[etree._Element], list[int]]] = {}
        self._ends: dict[etree._Element, int] = {}
        self._parts: dict[str, tuple[list[etree._Element], list[int]]] = {}
        for number, element in enumerate(classed):
            self.position[element] = number
            for token in _XPATH_BLANKS.split(element.get("class")):
                if token:
                    elements, positions = self.by_class.setdefault(token, ([], []))
                    if not positions or positions[-1] != number:  # class="a a"
                        elements.append(element)
                        positions.append(number)

    def _span(self, scope: etree._Element) -> tuple[int, int] | None:
        """Positions of the classed elements in scope's subtree (itself included): [start, end)."""
        if scope is self.root:
            return 0, self.count
        start = self.position.get(scope)
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
            hits: dict[int, etree._Element] = {}
            for token, (elements, positions) in self.by_class.items():
                if part in token:
                    hits.update(zip(positions, elements))
            order = sorted(hits)
            found = self._parts[part] = ([hits[p] for p in order], order)
        return found

    def select(self, scope: etree._Element, step: _ClassStep) -> list | None:
        """The selector's matches under scope (itself included), or None when the index cannot tell: the
        scope is not the page's root or one of its classed elements, or several elements carry the class
        and more steps follow."""
        span = self._span(scope)
        if span is None:
            return None
        elements, positions = self._with_part(step.name) if step.substring else self.by_class.get(step.name, ([], []))
        anchors = elements[bisect_left(positions, span[0]):bisect_left(positions, span[1])]
        if step.tag is not None:
            anchors = [a for a in anchors if a.tag == step.tag]
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


def select(node: Selector | etree._Element, css: str) -> list:
    """Elements (or attribute/text strings, for ::attr()/::text) matching a CSS selector, with a compiled XPath."""
    root = node.root if isinstance(node, Selector) else node
    index = _PAGE_INDEX.get()
    if index is not None:
        step = _class_step(css)
        if step is not None:
            found = index.select(root, step)
            if found is not None:
                return found
    return compiled(css)(root)


def select_first_text(sel: Selector | etree._Element, selectors: tuple[str, ...]) -> str | None:
    """Text of the first element matched by the first selector that matches (whitespace collapsed)."""
    root = sel.root if isinstance(sel, Selector) else sel
    for css in selectors:
        for node in select(root, css):
            text = element_text(node)
            if text:
                return text
    return None


def element_text(node: object) -> str:
    if isinstance(node, str):
        return " ".join(node.split())
    return " ".join("".join(node.itertext()).split())


def node_text(node: Selector) -> str:
    return element_text(node.root)
