"""Listing (category) pages: the article cards on a page and the links to further pages. Pure: HTML + URL in."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import parse_qs, urlsplit

from lxml import etree
from parsel import Selector

from newscrawl.pages.cards import Card, absolute_url, generic_cards, page_base, profile_cards, same_site
from newscrawl.pages.dom import class_index, has_token, parse_html, select, select_first_text
from newscrawl.pages.layers import Layer
from newscrawl.sites import Profile

NEXT_WORDS = re.compile(r"^(кейинги|keyingi|далее|следующая|вперёд|вперед|next|older|»|›|→|>>)\b|^[»›→]$|"
                        r"(кейинги|keyingi|далее|следующая|next)\s*[»›→>]?$", re.IGNORECASE)
MAIN_CONTENT = ("main", "[role=main]", "#content", ".content", "#main", ".main")
FEED_TYPES = ("application/rss+xml", "application/atom+xml")
_ALTERNATE_LINKS = etree.XPath("descendant-or-self::link[@rel = 'alternate']")  # 'link[rel="alternate"]'


@dataclass
class ListingPage:
    """What one listing page offers the spider."""

    cards: list[Card]
    next_url: str | None
    feeds: list[str] = field(default_factory=list)
    source: Layer = Layer.GENERIC
    """PROFILE when the profile's card selectors found the cards, else GENERIC."""
    more_cards: bool = False
    """The page had more than max_cards cards; `cards` holds the first ones."""


def current_page_number(url: str) -> int:
    values = parse_qs(urlsplit(url).query).get("page")
    try:
        return int(values[0]) if values else 1
    except ValueError:
        return 1


def parse_listing(html: str | Selector, url: str, profile: Profile | None = None,
                  max_cards: int | None = None) -> ListingPage:
    """Article cards (the first max_cards of them), next page and feed links of a listing page."""
    sel = html if isinstance(html, Selector) else parse_html(html)
    with class_index(sel):  # a card's fields are class selectors: found in the index, not by walking the page
        return _parse_listing(sel, url, profile, max_cards)


def _parse_listing(sel: Selector, url: str, profile: Profile | None, max_cards: int | None) -> ListingPage:
    base = page_base(sel, url)
    cards: list[Card] = []
    source = Layer.GENERIC
    if profile is not None:
        cards = profile_cards(sel, base, profile.listing_cards, profile)
        if profile.article_url_pattern is not None:
            cards = [c for c in cards if profile.article_url_pattern.search(c.url)]
        source = Layer.PROFILE if cards else Layer.GENERIC
    if not cards:
        # One card past the cap tells that the page had more.
        cards = generic_cards(main_content(sel), base, url, None if max_cards is None else max_cards + 1)
    cards = [c for c in cards if same_site(c.url, url)]
    more = max_cards is not None and len(cards) > max_cards
    if more:
        del cards[max_cards:]
    next_url = None
    if profile is not None:
        next_url = (absolute_url(base, select_first_text(sel, profile.listing_next))
                    or following_page([h for css in profile.listing_pages for h in select(sel, css)], base, url))
    next_url = next_url or generic_next_page(sel, base, url)
    if next_url == url:
        next_url = None
    return ListingPage(cards=cards, next_url=next_url, feeds=feed_links(sel, base), source=source,
                       more_cards=more)


def main_content(sel: Selector) -> Selector:
    for css in MAIN_CONTENT:
        found = sel.css(css)
        if found:
            return found[0]
    return sel


def generic_next_page(sel: Selector, base: str, url: str) -> str | None:
    """rel=next, a "next"-worded link, or the link to page N+1."""
    for node in sel.root.iter("link", "a"):  # link[rel~="next"], a[rel~="next"]: "next" one of rel's tokens
        href = node.get("href")
        if href is None or not has_token(node.get("rel"), "next"):
            continue
        found = absolute_url(base, href)
        if found and same_site(found, url):
            return found
    following = current_page_number(url) + 1
    # a[href], walked lazily (the next page's link is found long before the footer's) and as elements, not a
    # Selector each: a listing page has hundreds of links
    for a in sel.root.iter("a"):
        href = a.get("href")
        if href is None:
            continue
        text = " ".join("".join(a.itertext()).split())  # its text nodes, as "::text" selects them
        found = absolute_url(base, href)
        if not found or not same_site(found, url) or found == url:
            continue
        if (text and NEXT_WORDS.search(text)) or (a.get("aria-label", "").lower() in ("next", "next page")):
            return found
        if text == str(following) or (current_page_number(found) == following and text.isdigit()):
            return found
    return None


def following_page(hrefs: list[str], base: str, url: str) -> str | None:
    """Among numbered page links (a profile's listing.pages), the one to page N+1."""
    following = current_page_number(url) + 1
    for href in hrefs:
        found = absolute_url(base, href)
        if found and same_site(found, url) and current_page_number(found) == following:
            return found
    return None


def feed_links(sel: Selector, base: str) -> list[str]:
    links = []
    for node in _ALTERNATE_LINKS(sel.root):
        if node.get("type", "").lower() in FEED_TYPES:
            found = absolute_url(base, node.get("href"))
            if found:
                links.append(found)
    return links
