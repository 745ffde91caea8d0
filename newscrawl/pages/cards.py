"""Cards: the (link, title, time, category, lead, image) blocks of listings and "other news" sections."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache, partial
from urllib.parse import urlsplit

from lxml import etree
from parsel import Selector

from newscrawl.dates import parse_date_precise
from newscrawl.pages.dom import node_text, select, select_first_text
from newscrawl.sites import Profile
from newscrawl.urls import CACHED_URLS
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
    # The first <base> with an href, as the selector base::attr(href) finds it; lxml's tag iterator knows at once
    # that a page without a <base> (nearly all) has none, where the XPath walks every element (65 us on a cold
    # tree, ~12 us in extraction, where the class index has just walked it).
    href = next((h for element in sel.root.iter("base") if (h := element.get("href")) is not None), None)
    return absolute_url(url, href) or url


def same_site(url: str, other: str) -> bool:
    a, b = _site_host(url), _site_host(other)
    return a == b or a.endswith("." + b) or b.endswith("." + a)


@lru_cache(maxsize=CACHED_URLS)  # one side is the page's own URL, and a site's menu and pager links recur
def _site_host(url: str) -> str:
    return (urlsplit(url).hostname or "").lower().removeprefix("www.")


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
    """Split the largest ancestor that holds no other story's link into the card's fields."""
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
    fields = split_card(card.root, anchor.root)
    return Card(url=url, title=fields.title or title, time_text=fields.time_text, category=fields.category,
                lead=fields.lead, image_url=absolute_url(base, card.xpath(".//img/@src").get()))


# Card-field splitting: a card is cut into its text runs (each text node on its own, so a headline wrapped
# in the same link as the category and the date is three runs, not one glued string), and each run is
# classified by what it is (a date, headline length, lead length) and where it sits (heading, link,
# category-classed element), never by the words it contains.
MAX_CATEGORY = 40
MAX_CATEGORY_WORDS = 4
MIN_LEAD = 40
MIN_LEAD_WORDS = 6
# A run is searched for a glued date ("Сиёсат Кеча, 17:22 Сарлавҳа") only this many words in.
DATE_SEARCH_WORDS = 6
CATEGORY_CLASS = re.compile(r"categ|rubric|section|kicker|label|topic", re.IGNORECASE)
_CARD_SKIP = {"script", "style", "noscript", "template", "svg", "button"}
_HEADINGS = {"h1", "h2", "h3", "h4", "h5", "h6"}
_INLINE = {"b", "i", "em", "strong", "u", "mark", "q", "abbr", "sub", "sup", "s", "wbr"}
_DIGIT = re.compile(r"\d")


@dataclass
class CardFields:
    """What one card says, field by field (None where it says nothing)."""

    title: str | None = None
    time_text: str | None = None
    category: str | None = None
    lead: str | None = None


@dataclass
class _Run:
    text: str
    in_link: bool
    heading: bool
    hinted: bool  # inside an element whose class says category/rubric/section


def _runs(card: etree._Element, anchor: etree._Element) -> list[_Run]:
    """The card's text runs in document order, each with where it sits. Every element boundary ends a run,
    except inline emphasis (a headline with a bold word stays one run)."""
    runs: list[_Run] = []
    parts: list[str] = []
    state: list[bool] = [False, False, False]

    def flush() -> None:
        text = " ".join("".join(parts).split())
        if text:
            runs.append(_Run(text, *state))
        parts.clear()

    def walk(el: etree._Element, link: bool, heading: bool, hinted: bool) -> None:
        tag = el.tag if isinstance(el.tag, str) else ""
        link = link or tag == "a" or el is anchor
        heading = heading or tag in _HEADINGS
        hinted = hinted or bool(tag and CATEGORY_CLASS.search(el.get("class", "")))
        if tag not in _INLINE:
            flush()
        state[:] = [link, heading, hinted]
        parts.append(el.text or "")
        for child in el:
            if isinstance(child.tag, str) and child.tag not in _CARD_SKIP:
                walk(child, link, heading, hinted)
            state[:] = [link, heading, hinted]
            parts.append(child.tail or "")
        if tag not in _INLINE:
            flush()

    walk(card, False, False, False)
    flush()
    return _split_glued_dates(runs)


def _is_date(text: str) -> bool:
    return len(text) <= MAX_TIME_TEXT and bool(_DIGIT.search(text) or len(text.split()) <= 2) \
        and parse_date_precise(text) is not None


def _split_glued_dates(runs: list[_Run]) -> list[_Run]:
    """Cut a run that holds a date after a short prefix or before more text ("Сиёсат Бугун 13:35",
    "Сиёсат Кеча, 17:22 Шавкат Мирзиёев ...") into its parts."""
    out: list[_Run] = []
    for run in runs:
        words = run.text.split()
        found = None
        if len(words) > 1 and not _is_date(run.text):
            for start in range(min(len(words), DATE_SEARCH_WORDS)):
                for size in (4, 3, 2, 1):
                    window = " ".join(words[start:start + size])
                    if start + size <= len(words) and _DIGIT.search(window):
                        parsed = parse_date_precise(window)
                        # a day alone at the very start is as likely the headline's own words
                        if parsed is not None and (start > 0 or parsed.precision != "day"):
                            found = (start, start + size)
                            break
                if found:
                    break
        if found is None:
            out.append(run)
            continue
        start, end = found
        for part in (words[:start], words[start:end], words[end:]):
            if part:
                out.append(_Run(" ".join(part), run.in_link, run.heading, run.hinted))
    return out


def split_card(card: etree._Element, anchor: etree._Element | None = None) -> CardFields:
    """Title, printed date, category and lead of one card element (lxml), ``anchor`` being its story link."""
    runs = _runs(card, anchor if anchor is not None else card)
    fields = CardFields()
    dates = [r for r in runs if _is_date(r.text)]
    if dates:
        fields.time_text = dates[0].text
    rest = [r for r in runs if not _is_date(r.text)]
    headlines = [r for r in rest if looks_like_headline(r.text)]
    title = (next((r for r in headlines if r.heading), None)
             or max((r for r in headlines if r.in_link), key=lambda r: len(r.text), default=None)
             or next(iter(headlines), None))
    if title is not None:
        fields.title = title.text
    others = [r for r in rest if r is not title]
    short = [r for r in others if len(r.text) <= MAX_CATEGORY and len(r.text.split()) <= MAX_CATEGORY_WORDS]
    category = (next((r for r in short if r.hinted), None)
                or next((r for r in short if title is not None and runs.index(r) < runs.index(title)), None))
    if category is not None:
        fields.category = category.text
    leads = [r for r in others if not r.in_link and len(r.text) >= MIN_LEAD and len(r.text.split()) >= MIN_LEAD_WORDS]
    if leads:
        fields.lead = leads[0].text
    return fields
