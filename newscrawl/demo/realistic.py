"""A realistic synthetic site for scale benchmarks: real-sized news pages rendered on demand.

`realistic_site(n)` returns a read-only Mapping[path, Page] over `n` articles and their listing pages
that renders each page deterministically when it is looked up, so 100,000 articles never sit in
memory (DemoServer serves such a mapping as is). Article pages are 41-50 KB (UTF-8 bytes), like the target site's:
a header with a mega menu and a ticker, critical CSS, external and inline scripts, JSON-LD, the
article (demo markup, so the bundled demo profile extracts it), share buttons, 6 related cards, a
12-card sidebar, a footer, counters and an inline app state. One article in five is in Uzbek Latin.
`RealisticSite.expected(i)` is the ground truth of article `i` (what a perfect extractor returns).
"""
from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import replace
from datetime import datetime, timedelta
from functools import lru_cache

from newscrawl.demo.markup import (CYRILLIC, LATIN, SITE_NAME, ArticleView, Card, Chrome, article_head,
                                   article_main, attr, card_html, listing_main, text)
from newscrawl.demo.page import Page
from newscrawl.demo.stories import (DEMO_NOW, LATIN_MONTHS, TASHKENT, ExpectedArticle, Story, day_path,
                                    load_stories, to_latin)

__all__ = ["LATIN_EVERY", "RealisticSite", "realistic_site"]

LATIN_EVERY = 5
"""Article i is in Uzbek Latin when i % LATIN_EVERY == 2 (one in five)."""
MINUTES_APART = 11  # about 130 articles a day, like a busy national news site
PAGE_BYTES = (41_000, 49_500)
"""Every article page's size lies in this range (bytes of UTF-8), spread evenly by a hash of its path."""
LATIN_IN_KR = replace(LATIN, prefix="/kr/")
APOSTROPHES = ("ʻ", "'", "‘")
ARTICLE_PATH = re.compile(r"/kr/news/\d{4}/\d{2}/\d{2}/[a-z0-9-]+-(\d+)/")
SECTIONS = (("siyosat", "Сиёсат", "Siyosat"), ("iqtisodiyot", "Иқтисодиёт", "Iqtisodiyot"),
            ("jamiyat", "Жамият", "Jamiyat"), ("sport", "Спорт", "Sport"), ("dunyo", "Дунё", "Dunyo"),
            ("texnologiya", "Технология", "Texnologiya"), ("madaniyat", "Маданият", "Madaniyat"),
            ("salomatlik", "Саломатлик", "Salomatlik"))
SUBSECTIONS = ("Янгиликлар", "Таҳлил", "Интервью", "Фоторепортаж", "Видео", "Расмий", "Минтақалар")
CSS = "".join(
    f".{name}{{display:flex;margin:0 {i % 7}px;padding:{i % 5}px {i % 9}px;font:{12 + i % 6}px/1.4 "
    f"'PT Sans',Arial,sans-serif;color:#{(i * 2654435761) % 0xFFFFFF:06x}}}\n"
    for i, name in enumerate(f"{block}__{part}" for block in ("site-header", "main-menu", "news-card", "sidebar")
                             for part in ("wrap", "item", "link", "title", "meta", "image", "icon", "inner")))
ANALYTICS = (
    "window.dataLayer=window.dataLayer||[];function gtag(){dataLayer.push(arguments);}gtag('js',new Date());"
    "gtag('config','G-DEMO0NEWS1',{anonymize_ip:true,send_page_view:true});"
    "(function(m,e,t,r,i,k,a){m[i]=m[i]||function(){(m[i].a=m[i].a||[]).push(arguments)};"
    "m[i].l=1*new Date();k=e.createElement(t),a=e.getElementsByTagName(t)[0],k.async=1,k.src=r,"
    "a.parentNode.insertBefore(k,a)})(window,document,'script','https://mc.yandex.ru/metrika/tag.js','ym');"
    "ym(90000001,'init',{clickmap:true,trackLinks:true,accurateTrackBounce:true,webvisor:false});"
)
EXTERNAL_SCRIPTS = ("/static/js/vendor.8f3a2c1.js", "/static/js/app.41be07d.js", "/static/js/lazyload.min.js",
                    "https://www.googletagmanager.com/gtag/js?id=G-DEMO0NEWS1",
                    "https://yandex.ru/ads/system/context.js", "https://telegram.org/js/telegram-widget.js?22")
SHARE_TARGETS = (("Telegram", "https://t.me/share/url?url="), ("Facebook", "https://www.facebook.com/sharer/sharer.php?u="),
                 ("X", "https://x.com/intent/tweet?url="), ("WhatsApp", "https://wa.me/?text="),
                 ("Odnoklassniki", "https://connect.ok.ru/offer?url="), ("VK", "https://vk.com/share.php?url="))


@lru_cache(maxsize=4096)
def _latin(value: str, apostrophe: str) -> str:
    """to_latin of the few distinct story texts, once each (it is the bulk of rendering a Latin page)."""
    return to_latin(value, apostrophe)


def realistic_site(n_articles: int, per_page: int = 20) -> RealisticSite:
    """The realistic site with `n_articles` articles, newest first, `per_page` cards per listing page."""
    return RealisticSite(n_articles, per_page)


def _share_bar(path: str) -> str:
    url = "{{BASE}}" + path
    links = "".join(f'<a class="share__link share__link--{name.lower()}" href="{href}{url}" target="_blank" '
                    f'rel="noopener"><svg class="share__icon" width="20" height="20" aria-hidden="true">'
                    f'<use href="/static/icons.svg#{name.lower()}"></use></svg>{name}</a>'
                    for name, href in SHARE_TARGETS)
    return (f'<div class="share share--bottom"><span class="share__title">Улашиш:</span>{links}'
            f'<button class="share__copy" data-url="{url}">Ҳаволани нусхалаш</button></div>\n')


class RealisticSite(Mapping[str, Page]):
    """Pages of the realistic site, rendered on lookup (see the module docstring)."""

    def __init__(self, n_articles: int, per_page: int = 20, now: datetime = DEMO_NOW) -> None:
        if n_articles < 1 or per_page < 1:
            raise ValueError("n_articles and per_page must be at least 1")
        self.n_articles = n_articles
        self.per_page = per_page
        self.now = now.astimezone(TASHKENT)
        self.listing_pages = -(-n_articles // per_page)
        self._stories = [s for s in load_stories("siyosat_kr") if s.paragraphs and not s.latin]
        self._entry = lru_cache(maxsize=4096)(self._make_entry)
        self._chrome_cache: dict[str, tuple[str, str]] = {}

    # -- the Mapping -------------------------------------------------------------------------------------

    def __len__(self) -> int:
        return self.n_articles + self.listing_pages

    def __iter__(self) -> Iterator[str]:
        for number in range(1, self.listing_pages + 1):
            yield self.listing_path(number)
        for index in range(self.n_articles):
            yield self.article_path(index)

    def __contains__(self, path: object) -> bool:
        return isinstance(path, str) and self._locate(path) is not None

    def __getitem__(self, path: str) -> Page:
        where = self._locate(path)
        if where is None:
            raise KeyError(path)
        kind, number = where
        return self._listing(number) if kind == "listing" else self._article(number)

    def _locate(self, path: str) -> tuple[str, int] | None:
        if path == "/kr/siyosat/":
            return "listing", 1
        if path.startswith("/kr/siyosat/?page="):
            number = path.removeprefix("/kr/siyosat/?page=")
            if number.isdigit() and 2 <= int(number) <= self.listing_pages and path == self.listing_path(int(number)):
                return "listing", int(number)
            return None
        match = ARTICLE_PATH.fullmatch(path)
        if match:
            index = int(match[1]) - 1
            if 0 <= index < self.n_articles and self.article_path(index) == path:
                return "article", index
        return None

    # -- the site's content ------------------------------------------------------------------------------

    @staticmethod
    def listing_path(number: int) -> str:
        return "/kr/siyosat/" + (f"?page={number}" if number > 1 else "")

    def article_path(self, index: int) -> str:
        return self._entry(index)[0]

    def is_latin(self, index: int) -> bool:
        return index % LATIN_EVERY == 2

    def _make_entry(self, index: int) -> tuple[str, Story, datetime, str, str]:
        """(path, story, published, script, apostrophe) of article `index` (0 = newest)."""
        count = len(self._stories)
        base = self._stories[index % count]
        # Real articles are longer than the demo's: two more stories' paragraphs follow the first one's.
        extra = [p for k in (7, 13) for p in self._stories[(index + k) % count].paragraphs]
        published = (self.now - timedelta(minutes=17 + MINUTES_APART * index)).replace(second=0, microsecond=0)
        story = replace(base, slug=f"{base.slug}-{index + 1}", title=f"{base.title} ({index + 1})",
                        paragraphs=list(base.paragraphs) + extra, when=published.strftime("%Y-%m-%d %H:%M"),
                        updated=None, flags=frozenset(), related=[])
        latin = self.is_latin(index)
        apostrophe = APOSTROPHES[(index // LATIN_EVERY) % len(APOSTROPHES)] if latin else ""
        path = f"/kr/news/{day_path(published)}/{story.slug}/"
        return path, story, published, "latn" if latin else "cyrl", apostrophe

    def _t(self, index: int, value: str) -> str:
        _, _, _, script, apostrophe = self._entry(index)
        if script != "latn":
            return value
        head, number = value, ""
        if value.endswith(")") and " (" in value:  # a numbered title: the story's text is shared, cache it
            head, _, number = value.rpartition(" (")
            number = " (" + number
        return _latin(head, apostrophe) + number

    def _chrome(self, index: int) -> Chrome:
        return LATIN_IN_KR if self.is_latin(index) else CYRILLIC

    def _date_text(self, index: int) -> str:
        """The article's date line: always absolute (a relative one would depend on the crawl's clock)."""
        _, _, published, script, _ = self._entry(index)
        if script == "cyrl":
            return published.strftime("%d.%m.%Y %H:%M")
        return f"{published.day}-{LATIN_MONTHS[published.month - 1]}, {published.year} {published:%H:%M}"

    def card(self, index: int) -> Card:
        path, story, published, _, _ = self._entry(index)
        chrome = self._chrome(index)
        return Card(path, self._t(index, story.title), self._t(index, story.lead) if story.lead else None,
                    f"/media/{published:%Y/%m}/{story.slug}.jpg", published.strftime("%d.%m.%Y %H:%M"),
                    chrome.category, chrome.category_path)

    def related_indexes(self, index: int) -> list[int]:
        """The 6 articles in the related block: the next older ones, wrapping around."""
        return [(index + step) % self.n_articles for step in range(1, 7)] if self.n_articles > 1 else []

    def _view(self, index: int) -> ArticleView:
        path, story, published, _, _ = self._entry(index)
        paragraphs = [(kind, self._t(index, value)) for kind, value in story.paragraphs]
        chrome = self._chrome(index)
        tags = [(f"{chrome.prefix}tag/{re.sub(r'[^a-z0-9]+', '-', to_latin(t, '').lower()).strip('-')}/",
                 self._t(index, t)) for t in story.tags]
        views = 300 + int(hashlib.sha1(story.slug.encode()).hexdigest()[:6], 16) % 90000
        return ArticleView(path=path, title=self._t(index, story.title),
                           lead=self._t(index, story.lead) if story.lead else None,
                           image=f"/media/{published:%Y/%m}/{story.slug}.jpg", paragraphs=paragraphs,
                           date_text=self._date_text(index), updated_text=None, views=views, author=story.author,
                           tags=tags, related=[self.card(r) for r in self.related_indexes(index)],
                           share_at=len(paragraphs) // 2)

    def expected(self, index: int) -> ExpectedArticle:
        """Ground truth of article `index`: exactly what a perfect extractor must produce."""
        view = self._view(index)
        _, _, published, script, _ = self._entry(index)
        return ExpectedArticle(
            path=view.path, title=view.title, lead=view.lead, body=[value for _, value in view.paragraphs],
            published_at=published, published_text=view.date_text, listing_time_text=self.card(index).time_text,
            modified_at=None, author=view.author, image_url=view.image, category=self._chrome(index).category,
            tags=[name for _, name in view.tags], language="uz", script=script,
            related=[(c.path, c.title) for c in view.related])

    # -- rendering ---------------------------------------------------------------------------------------

    def _frame(self, chrome: Chrome) -> tuple[str, str]:
        """(header, sidebar + footer) shared by every page of one chrome; built once."""
        cached = self._chrome_cache.get(chrome.lang)
        if cached is not None:
            return cached
        latin = chrome.lang == "uz-Latn"
        menu = []
        for slug, cyrillic, latin_name in SECTIONS:
            subs = "".join(f'<li><a href="{chrome.prefix}{slug}/{i}/">{text(to_latin(s) if latin else s)}</a></li>'
                           for i, s in enumerate(SUBSECTIONS))
            menu.append(f'<li class="main-menu__item"><a class="main-menu__link" href="{chrome.prefix}{slug}/">'
                        f'{text(latin_name if latin else cyrillic)}</a><ul class="main-menu__sub">{subs}</ul></li>')
        ticker = "".join(f'<li class="ticker__item"><a href="{attr(c.path)}">{text(c.title)}</a></li>'
                         for c in (self.card(i) for i in range(min(8, self.n_articles))))
        rates = "".join(f'<span class="rates__item">{code} <b>{value}</b></span>'
                        for code, value in (("USD", "12 045,67"), ("EUR", "13 912,10"), ("RUB", "148,33")))
        header = (
            f'<div class="topbar"><span class="topbar__date">{DEMO_NOW:%d.%m.%Y}</span>'
            f'<span class="topbar__weather">Тошкент +14°</span><div class="rates">{rates}</div></div>\n'
            f'<header class="site-header"><a class="logo" href="{chrome.prefix}">{SITE_NAME}</a>\n'
            f'<nav class="main-menu"><ul class="main-menu__list">{"".join(menu)}</ul>'
            f'<a class="lang-switch" href="{attr(chrome.switch[0])}">{text(chrome.switch[1])}</a>'
            f'<form class="search" action="{chrome.prefix}search/"><input type="search" name="q" '
            f'placeholder="Қидириш..."><button type="submit">🔍</button></form></nav></header>\n'
            f'<div class="ticker"><span class="ticker__label">Тезкор</span>'
            f'<ul class="ticker__list">{ticker}</ul></div>\n'
        )
        latest = "\n".join(card_html(self.card(i)) for i in range(min(12, self.n_articles)))
        most_read = "".join(f'<li><a href="{attr(c.path)}">{text(c.title)}</a></li>'
                            for c in (self.card(i) for i in range(3, min(8, self.n_articles))))
        columns = "".join(
            f'<div class="site-footer__col"><h4>{text(latin_name if latin else cyrillic)}</h4><ul>'
            + "".join(f'<li><a href="{chrome.prefix}{slug}/{i}/">{text(to_latin(s) if latin else s)}</a></li>'
                      for i, s in enumerate(SUBSECTIONS)) + "</ul></div>"
            for slug, cyrillic, latin_name in SECTIONS[:4])
        footer_links = "".join(f'<a href="{attr(href)}">{text(label)}</a>' for href, label in chrome.footer)
        scripts = "".join(f'<script src="{src}" async></script>\n' for src in EXTERNAL_SCRIPTS)
        tail = (
            f'<aside class="sidebar"><div class="banner banner--sidebar" data-slot="sidebar-top">'
            f'<script>window.yaContextCb=window.yaContextCb||[];window.yaContextCb.push(()=>{{Ya.Context.AdvManager'
            f'.render({{renderTo:"yandex_rtb_R-A-1",blockId:"R-A-1"}})}});</script></div>\n'
            f'<section class="most-read"><h3>{text(chrome.most_read)}</h3><ol>{most_read}</ol></section>\n'
            f'<section class="sidebar-news"><h3>Сўнгги янгиликлар</h3>\n{latest}\n</section></aside>\n</div>\n'
            f'<div class="subscribe"><form action="/subscribe/" method="post"><label>Янгиликларга обуна бўлинг'
            f'<input type="email" name="email"></label><button>Обуна</button></form></div>\n'
            f'<footer class="site-footer"><div class="site-footer__cols">{columns}</div><nav>{footer_links}</nav>'
            f'<p>© 2025 {SITE_NAME}. Материаллардан фойдаланилганда ҳавола кўрсатилиши шарт. '
            f'Гувоҳнома № 0987, 12.03.2019. 18+</p></footer>\n{scripts}'
            f'<script>{ANALYTICS}</script>\n'
            f'<noscript><div><img src="https://mc.yandex.ru/watch/90000001" style="position:absolute;left:-9999px" '
            f'alt=""></div></noscript>\n'
        )
        self._chrome_cache[chrome.lang] = (header, tail)
        return header, tail

    def _document(self, chrome: Chrome, title: str, head_extra: str, main: str, state: str) -> str:
        header, tail = self._frame(chrome)
        return (
            f'<!DOCTYPE html>\n<html lang="{chrome.lang}">\n<head>\n<meta charset="utf-8">\n'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">\n<title>{text(title)}</title>\n'
            f'<link rel="preconnect" href="https://fonts.gstatic.com" crossorigin>\n'
            f'<link rel="stylesheet" href="/static/css/app.41be07d.css">\n'
            f'<link rel="icon" href="/favicon.ico">\n<style>{CSS}</style>\n{head_extra}'
            f"<script>{ANALYTICS[:160]}</script>\n</head>\n<body>\n{header}"
            f'<div class="page">\n<main class="content">\n{main}\n</main>\n{tail}'
            f"<script>window.__INITIAL_STATE__={state}</script>\n</body>\n</html>\n"
        )

    def _state(self, first: int, size: int) -> str:
        """The app's inline state: a preload of older cards (JSON), as long as the page needs."""
        items, length, index = [], 2, first
        while length < size and self.n_articles > 1:
            c = self.card(index % self.n_articles)
            item = {"url": c.path, "title": c.title, "lead": c.lead, "image": c.image, "date": c.time_text,
                    "category": c.category, "views": 300 + index % 9000}
            encoded = json.dumps(item, ensure_ascii=False)
            items.append(encoded)
            length += len(encoded.encode()) + 1
            index += 1
        return "[" + ",".join(items) + "]"

    def _article(self, index: int) -> Page:
        view = self._view(index)
        chrome = self._chrome(index)
        published = self._entry(index)[2]
        ld = {"@context": "https://schema.org", "@type": "NewsArticle", "headline": view.title,
              "description": view.lead, "image": ["{{BASE}}" + view.image], "datePublished": published.isoformat(),
              "mainEntityOfPage": "{{BASE}}" + view.path, "articleSection": chrome.category,
              "inLanguage": "uz-Latn" if self.is_latin(index) else "uz-Cyrl",
              "publisher": {"@type": "Organization", "name": SITE_NAME,
                            "logo": {"@type": "ImageObject", "url": "{{BASE}}/static/logo.png"}}}
        if view.author:
            ld["author"] = {"@type": "Person", "name": view.author}
        head = (article_head(view) + f'<meta property="og:site_name" content="{SITE_NAME}">\n'
                f'<meta property="article:published_time" content="{published.isoformat()}">\n'
                f'<meta name="twitter:card" content="summary_large_image">\n'
                f'<script type="application/ld+json">{json.dumps(ld, ensure_ascii=False)}</script>\n')
        main = article_main(chrome, view) + "\n" + _share_bar(view.path)
        html = self._document(chrome, f"{view.title} — {SITE_NAME}", head, main, "[]")
        digest = hashlib.sha1(view.path.encode()).digest()
        target = PAGE_BYTES[0] + int.from_bytes(digest[:4], "big") % (PAGE_BYTES[1] - PAGE_BYTES[0])
        missing = target - len(html.encode())
        if missing > 0:
            html = html.replace("__INITIAL_STATE__=[]", "__INITIAL_STATE__=" + self._state(index + 7, missing), 1)
        return Page(html.encode("utf-8"), last_modified=published)

    def _listing_main(self, cards: list[Card], number: int) -> str:
        """The demo listing, with a real site's pagination: first, last and two pages either side."""
        html = listing_main(CYRILLIC, cards, number, 1)
        shown = sorted({1, self.listing_pages, *range(max(1, number - 2), min(self.listing_pages, number + 2) + 1)})
        links = [f'<span class="current">{n}</span>' if n == number else f'<a href="{self.listing_path(n)}">{n}</a>'
                 for n in shown]
        if number < self.listing_pages:
            links.append(f'<a class="pagination__next" rel="next" href="{self.listing_path(number + 1)}">'
                         f"{text(CYRILLIC.next_label)}</a>")
        head, _, _ = html.rpartition('<nav class="pagination">')
        return head + f'<nav class="pagination">{" ".join(links)}</nav>'

    def _listing(self, number: int) -> Page:
        first = (number - 1) * self.per_page
        cards = [self.card(i) for i in range(first, min(first + self.per_page, self.n_articles))]
        title = CYRILLIC.category + (f" — {number}-саҳифа" if number > 1 else "") + f" — {SITE_NAME}"
        rss = f'<link rel="alternate" type="application/rss+xml" href="{CYRILLIC.category_path}rss/">\n'
        html = self._document(CYRILLIC, title, rss, self._listing_main(cards, number), "[]")
        return Page(html.encode("utf-8"))
