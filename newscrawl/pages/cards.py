"""Cards: the (link, title, time, category, lead, image) blocks of listings and "other news" sections."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import partial
from urllib.parse import urlsplit

from parsel import Selector

from newscrawl.dates import parse_date
from newscrawl.sites import Profile, node_text, select, select_first_text
from newscrawl.urls import absolute_url as absolute_url, article_url as article_url  # used here, re-exported

NON_ARTICLE_PATH = re.compile(
    r"/(tags?|category|categories|rubric|section|author|authors|search|login|register|about|contacts?|"
    r"advert\w*|rss|feed|page|archive|admin|subscribe|privacy|terms)(/|$)|\.(jpe?g|png|gif|webp|svg|pdf|xml|rss)$",
    re.IGNORECASE,
)
CHROME_ANCESTORS = (
    "ancestor::header or ancestor::nav or ancestor::footer or "
    "ancestor::*[@role='navigation' or @role='banner' or @role='contentinfo']"
)
MAX_TIME_TEXT = 60


@dataclass
class Card:
    """One linked story as printed in a listing or an "other news" block."""

    url: str
    title: str | None = None
    time_text: str | None = None
    category: str | None = None
    lead: str | None = None
    image_url: str | None = None


def page_base(sel: Selector, url: str) -> str:
    """The URL relative links resolve against (<base href> if present)."""
    found = select(sel, "base::attr(href)")
    return absolute_url(url, found[0] if found else None) or url


def same_site(url: str, other: str) -> bool:
    a = (urlsplit(url).hostname or "").lower().removeprefix("www.")
    b = (urlsplit(other).hostname or "").lower().removeprefix("www.")
    return a == b or a.endswith("." + b) or b.endswith("." + a)


def profile_cards(sel: Selector, base: str, card_selectors: tuple[str, ...], profile: Profile) -> list[Card]:
    """Cards found by a profile's selectors (first selector that matches anything wins)."""
    for css in card_selectors:
        nodes = select(sel, css)
        cards = [c for c in (_profile_card(n, base, profile) for n in nodes) if c]
        if cards:
            return _dedupe(cards)
    return []


def _profile_card(node: object, base: str, profile: Profile) -> Card | None:
    url = article_url(base, select_first_text(node, profile.card["link"]))
    if not url:
        return None
    return Card(
        url=url,
        title=select_first_text(node, profile.card["title"]),
        time_text=select_first_text(node, profile.card["time"]),
        category=select_first_text(node, profile.card["category"]),
        lead=select_first_text(node, profile.card["lead"]),
        image_url=absolute_url(base, select_first_text(node, profile.card["image"])),
    )


def _dedupe(cards: list[Card]) -> list[Card]:
    """One card per URL, keeping the first, filling its gaps from later duplicates."""
    seen: dict[str, Card] = {}
    for card in cards:
        kept = seen.setdefault(card.url, card)
        if kept is not card:
            for name in ("title", "time_text", "category", "lead", "image_url"):
                if getattr(kept, name) is None:
                    setattr(kept, name, getattr(card, name))
    return list(seen.values())


def looks_like_headline(text: str) -> bool:
    words = text.split()
    return 15 <= len(text) <= 300 and len(words) >= 3


def looks_like_article_url(url: str, page_url: str) -> bool:
    """Same site, not the page itself or a parent of it, not a tag/category/author/search/file link."""
    if not same_site(url, page_url):
        return False
    path = urlsplit(url).path
    page_path = urlsplit(page_url).path
    if urlsplit(url)._replace(fragment="") == urlsplit(page_url)._replace(fragment=""):
        return False
    if page_path.startswith(path.rstrip("/") + "/") or path in ("", "/"):
        return False
    if "page=" in urlsplit(url).query:
        return False
    return not NON_ARTICLE_PATH.search(path)


def generic_cards(container: Selector, base: str, page_url: str, limit: int | None = None) -> list[Card]:
    """Cards found without a profile: headline-length links to article-like URLs outside the page chrome; only
    the first `limit` stories get a card, so a page of 100,000 links costs no more than one of `limit`."""
    anchors = container.xpath(f".//a[@href][not({CHROME_ANCESTORS})]")
    candidates: list[tuple[Selector, str, str]] = []
    for a in anchors:
        url = article_url(base, a.attrib.get("href"))
        text = node_text(a)
        if url and looks_like_headline(text) and looks_like_article_url(url, page_url):
            candidates.append((a, url, text))
    urls = {url for _, url, _ in candidates}
    if limit is not None and len(urls) > limit:
        kept = set(list(dict.fromkeys(url for _, url, _ in candidates))[:limit])
        candidates = [c for c in candidates if c[1] in kept]
    cards = [_generic_card(a, url, text, urls, base) for a, url, text in candidates]
    return _dedupe(cards)


def _generic_card(anchor: Selector, url: str, title: str, all_urls: set[str], base: str) -> Card:
    """Read time, lead, category and image from the largest ancestor that holds no other story's link."""
    card = anchor
    for _ in range(4):
        parent = card.xpath("..")
        if not parent or parent[0].root.tag in ("body", "html", "main", "ul", "ol"):
            break
        # Lazily, up to the first other story's link: the list holding a listing's cards holds every link of it.
        hrefs = (a.get("href") for a in parent[0].root.iter("a") if a.get("href"))
        if any(link != url and link in all_urls for link in map(partial(article_url, base), hrefs)):
            break
        card = parent[0]
    result = Card(url=url, title=title)
    if card is anchor:
        return result
    for text in card.xpath(".//text()[normalize-space()]").getall():
        text = " ".join(text.split())
        if text == title or text in title:
            continue
        if result.time_text is None and len(text) <= MAX_TIME_TEXT and parse_date(text) is not None:
            result.time_text = text
        elif result.lead is None and len(text) >= 40 and len(text.split()) >= 6:
            result.lead = text
    result.category = card.xpath(
        ".//*[contains(@class,'categ') or contains(@class,'rubric') or contains(@class,'section')]"
        "[string-length(normalize-space()) < 40]/text()[normalize-space()]").get()
    if result.category:
        result.category = result.category.strip()
    result.image_url = absolute_url(base, card.xpath(".//img/@src").get())
    return result
