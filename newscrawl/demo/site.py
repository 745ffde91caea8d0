"""The bundled demo sites: pages to serve plus the ground truth a perfect extractor must produce."""
from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from email.utils import format_datetime
from html import escape

from newscrawl.demo.generic import GENERIC_START_PATH, generic_site
from newscrawl.demo.markup import CYRILLIC, LATIN, SITE_NAME, ArticleView, Card, Chrome
from newscrawl.demo.markup import article_head, article_main, card_html, document, listing_main
from newscrawl.demo.page import Page
from newscrawl.demo.stories import (DEMO_NOW, TASHKENT, ExpectedArticle, Story, article_time, card_time,
                                    day_path, load_stories, render_moment, to_latin)

__all__ = ["DEMO_NOW", "DEMO_START_PATH", "GENERIC_START_PATH", "ExpectedArticle", "demo_site",
           "generic_site", "synthetic_site"]

DEMO_START_PATH = "/kr/siyosat/"
PER_PAGE = 10
LATIN_IN_KR = replace(LATIN, prefix="/kr/")


@dataclass
class _Entry:
    """One article of the demo site, resolved against the render moment."""

    story: Story
    chrome: Chrome
    script: str
    apostrophe: str
    path: str
    published: datetime
    modified: datetime | None

    def t(self, value: str) -> str:
        """Text as this entry's page prints it (transliterated on Latin pages)."""
        return to_latin(value, self.apostrophe) if self.script == "latn" else value

    @property
    def title(self) -> str:
        return self.t(self.story.title)

    @property
    def lead(self) -> str | None:
        return self.t(self.story.lead) if self.story.lead else None

    @property
    def image(self) -> str:
        return f"/media/{self.published:%Y/%m}/{self.story.slug}.jpg"

    @property
    def missing(self) -> bool:
        return "missing" in self.story.flags

    def card(self, now: datetime, chrome: Chrome) -> Card:
        script = "latn" if chrome is LATIN else "cyrl"
        return Card(self.path, self.title, self.lead, self.image, card_time(self.published, now, script),
                    chrome.category, chrome.category_path)


def _entry(story: Story, now: datetime, twin: bool = False) -> _Entry:
    published = story.published(now)
    if twin:
        chrome, script, apostrophe = LATIN, "latn", story.twin or "ʻ"
    elif story.latin:
        chrome, script, apostrophe = LATIN_IN_KR, "latn", story.latin
    else:
        chrome, script, apostrophe = CYRILLIC, "cyrl", ""
    path = f"{'/oz/' if twin else '/kr/'}news/{day_path(published)}/{story.slug}/"
    return _Entry(story, chrome, script, apostrophe, path, published, story.modified(now))


def _views(slug: str) -> int:
    return 300 + int(hashlib.sha1(slug.encode()).hexdigest()[:6], 16) % 9000


def _tag_slug(tag: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", to_latin(tag, "").lower()).strip("-")


def _date_texts(entry: _Entry, now: datetime) -> tuple[str | None, str | None]:
    """(date line, updated line) as the article page prints them, per the story's flags."""
    flags = entry.story.flags
    if "no-date" in flags or "updated-only" in flags:
        date_text = None
    elif "garbage-date" in flags:
        date_text = "Сана кўрсатилмаган"
    elif "yesterday-only" in flags:
        date_text = card_time(entry.published, now, entry.script)
    else:
        date_text = article_time(entry.published, now, entry.script)
    updated_text = None
    if entry.modified is not None:
        updated_text = f"{entry.chrome.updated_label} {entry.modified:%H:%M %d.%m.%Y}"
    return date_text, updated_text


def _alternates(entry: _Entry) -> tuple[tuple[str, str], ...]:
    """hreflang links of a story published in both scripts (/kr/ and /oz/ share the dated path and the slug)."""
    if not entry.story.twin or entry.story.latin:
        return ()
    kr_path = "/kr/" + entry.path.split("/", 2)[2]
    return (CYRILLIC.lang, kr_path), (LATIN.lang, "/oz/" + kr_path[4:])


def _render_article(entry: _Entry, related: list[_Entry], most_read: list[Card],
                    now: datetime) -> tuple[Page, ExpectedArticle]:
    story = entry.story
    date_text, updated_text = _date_texts(entry, now)
    paragraphs = [(kind, entry.t(value)) for kind, value in story.paragraphs]
    tags = [(f"{entry.chrome.prefix}tag/{_tag_slug(t)}/", entry.t(t)) for t in story.tags]
    view = ArticleView(
        path=entry.path, title=entry.title, lead=entry.lead, image=entry.image, paragraphs=paragraphs,
        date_text=date_text, updated_text=updated_text, views=_views(story.slug), author=story.author,
        tags=tags, related=[r.card(now, entry.chrome if entry.chrome is LATIN else CYRILLIC) for r in related],
        share_at=(len(paragraphs) // 2 if "share" in story.flags else None), malformed="malformed" in story.flags,
        alternates=_alternates(entry),
    )
    html = document(entry.chrome, f"{entry.title} — {SITE_NAME}", article_head(view),
                    article_main(entry.chrome, view), most_read)
    page = Page(html.encode("utf-8"), last_modified=entry.modified or entry.published)
    expected = ExpectedArticle(
        path=entry.path, title=entry.title, lead=entry.lead, body=[value for _, value in paragraphs],
        published_at=entry.published, published_text=date_text, listing_time_text=None,
        modified_at=entry.modified, author=story.author, image_url=entry.image, category=entry.chrome.category,
        tags=[name for _, name in tags], language="uz", script=entry.script,
        related=[(c.path, c.title) for c in view.related],
        alternates=[path for _, path in view.alternates if path != entry.path],
    )
    return page, expected


def _neighbours(entries: list[_Entry], index: int, count: int = 6) -> list[_Entry]:
    """The next `count` servable entries after `index`, wrapping around."""
    found = []
    for step in range(1, len(entries)):
        other = entries[(index + step) % len(entries)]
        if not other.missing:
            found.append(other)
        if len(found) == count:
            break
    return found


def _listing_pages(chrome: Chrome, cards: list[Card], most_read: list[Card], per_page: int) -> dict[str, Page]:
    pages = {}
    total = max(1, -(-len(cards) // per_page))
    rss = ('<link rel="alternate" type="application/rss+xml" '
           f'href="{chrome.category_path}rss/" title="{chrome.category}">\n')
    for number in range(1, total + 1):
        chunk = cards[(number - 1) * per_page:number * per_page]
        title = chrome.category + (f" — {number}-саҳифа" if number > 1 else "") + f" — {SITE_NAME}"
        path = chrome.category_path + (f"?page={number}" if number > 1 else "")
        html = document(chrome, title, rss, listing_main(chrome, chunk, number, total), most_read)
        pages[path] = Page(html.encode("utf-8"))
    return pages


def _rss(entries: list[_Entry]) -> Page:
    items = "".join(
        f"<item><title>{escape(e.title)}</title><link>{{{{BASE}}}}{e.path}</link>"
        f'<guid isPermaLink="true">{{{{BASE}}}}{e.path}</guid>'
        f"<description>{escape(e.lead or '')}</description>"
        f"<pubDate>{format_datetime(e.published)}</pubDate><category>Сиёсат</category></item>\n"
        for e in entries[:20]
    )
    xml = ('<?xml version="1.0" encoding="UTF-8"?>\n<rss version="2.0"><channel>'
           f"<title>Сиёсат — {SITE_NAME}</title><link>{{{{BASE}}}}/kr/siyosat/</link>"
           f"<description>Сиёсат янгиликлари</description><language>uz</language>\n{items}</channel></rss>\n")
    return Page(xml.encode("utf-8"), content_type="application/rss+xml; charset=utf-8")


def _sitemap(entries: list[_Entry]) -> Page:
    urls = "".join(
        f"<url><loc>{{{{BASE}}}}{e.path}</loc><news:news><news:publication><news:name>{SITE_NAME}</news:name>"
        f"<news:language>uz</news:language></news:publication>"
        f"<news:publication_date>{e.published.isoformat()}</news:publication_date>"
        f"<news:title>{escape(e.title)}</news:title></news:news></url>\n"
        for e in entries
    )
    xml = ('<?xml version="1.0" encoding="UTF-8"?>\n<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" '
           f'xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">\n{urls}</urlset>\n')
    return Page(xml.encode("utf-8"), content_type="application/xml; charset=utf-8")


def _static_pages(latest: list[Card], most_read: list[Card]) -> dict[str, Page]:
    """Home, other sections, about/contacts and robots.txt: small, but real pages."""
    pages = {"/robots.txt": Page(b"User-agent: *\nDisallow: /admin/\n\nSitemap: {{BASE}}/sitemap-news.xml\n",
                                 content_type="text/plain; charset=utf-8")}
    for chrome in (CYRILLIC, LATIN):
        cards = latest if chrome is CYRILLIC else []
        main = ('<h1 class="category-title">' + chrome.home + '</h1>\n<div class="news-list">\n'
                + "\n".join(card_html(c) for c in cards) + "\n</div>")
        pages[chrome.prefix] = Page(document(chrome, SITE_NAME, "", main, most_read).encode("utf-8"))
        for href, label in chrome.menu[2:] + chrome.footer[:2]:
            main = f'<h1 class="category-title">{label}</h1>\n<p>Бу бўлим тайёрланмоқда.</p>'
            pages[href] = Page(document(chrome, f"{label} — {SITE_NAME}", "", main, most_read).encode("utf-8"))
    return pages


def _now(now: datetime | None) -> datetime:
    return now.astimezone(TASHKENT) if now is not None else render_moment()


def demo_site(now: datetime | None = None) -> tuple[dict[str, Page], list[ExpectedArticle]]:
    """The demo politics site rendered at `now` (default: the start of today, Tashkent time, so it is the same all
    day); expected articles in /kr/ listing order, then the /oz/ twins."""
    now = _now(now)
    stories = load_stories("siyosat_kr")
    entries = sorted((_entry(s, now) for s in stories), key=lambda e: e.published, reverse=True)
    twins = [_entry(s, now, twin=True) for s in stories if s.twin]
    twins.sort(key=lambda e: e.published, reverse=True)
    by_slug = {e.story.slug: e for e in entries}
    live = [e for e in entries if not e.missing]
    most_read = [e.card(now, CYRILLIC) for e in sorted(live, key=lambda e: -_views(e.story.slug))[:5]]
    kr_cards = [e.card(now, CYRILLIC) for e in entries]
    oz_cards = [e.card(now, LATIN) for e in twins]

    pages: dict[str, Page] = {}
    expected: list[ExpectedArticle] = []
    for index, entry in enumerate(entries):
        card = kr_cards[index]
        if entry.missing:
            expected.append(ExpectedArticle(
                path=entry.path, title=entry.title, lead=None, body=[], published_at=entry.published,
                published_text=None, listing_time_text=card.time_text, modified_at=None, author=None,
                image_url=None, category=None, tags=[], language="uz", script=entry.script, related=[],
                status=404))
            continue
        if entry.story.related:
            related = [by_slug[slug] for slug in entry.story.related]
        else:
            related = _neighbours(entries, index)
        page, truth = _render_article(entry, related, most_read, now)
        if "no-date" in entry.story.flags or "updated-only" in entry.story.flags:
            page.last_modified = entry.modified
        truth.listing_time_text = card.time_text
        pages[entry.path] = page
        expected.append(truth)
    oz_most_read = oz_cards[:5]
    for index, twin in enumerate(twins):
        related = [t for t in twins if t is not twin]
        page, truth = _render_article(twin, related, oz_most_read, now)
        truth.listing_time_text = oz_cards[index].time_text
        pages[twin.path] = page
        expected.append(truth)

    pages.update(_listing_pages(CYRILLIC, kr_cards, most_read, PER_PAGE))
    pages.update(_listing_pages(LATIN, oz_cards, oz_most_read, PER_PAGE))
    pages["/kr/siyosat/rss/"] = _rss(live)
    pages["/sitemap-news.xml"] = _sitemap(live + twins)
    pages.update(_static_pages(kr_cards[:5], most_read))
    return pages, expected


def synthetic_site(n_articles: int = 2000, per_page: int = 20) -> dict[str, Page]:
    """A large site in the demo markup for benchmarks: `n_articles` articles, `per_page` cards per listing page."""
    now = DEMO_NOW
    stories = [s for s in load_stories("siyosat_kr") if s.paragraphs and not s.latin]
    entries = []
    for i in range(n_articles):
        base = stories[i % len(stories)]
        published = (now - timedelta(minutes=17 + 37 * i)).astimezone(TASHKENT)
        story = replace(base, slug=f"{base.slug}-{i + 1}", title=f"{base.title} ({i + 1})",
                        when=published.strftime("%Y-%m-%d %H:%M"), updated=None, flags=frozenset(), related=[])
        entries.append(_Entry(story, CYRILLIC, "cyrl", "", f"/kr/news/{day_path(published)}/{story.slug}/",
                              published, None))
    most_read = [e.card(now, CYRILLIC) for e in entries[:5]]
    pages = {e.path: _render_article(e, _neighbours(entries, i), most_read, now)[0] for i, e in enumerate(entries)}
    pages.update(_listing_pages(CYRILLIC, [e.card(now, CYRILLIC) for e in entries], most_read, per_page))
    return pages
