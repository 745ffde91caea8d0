"""HTML of the demo site (the markup the site profile's selectors are written against)."""
from __future__ import annotations

from dataclasses import dataclass
from html import escape


def text(value: str) -> str:
    """Escape element text (quotes stay as typed)."""
    return escape(value, quote=False)


def attr(value: str) -> str:
    """Escape a double-quoted attribute value (apostrophes stay as typed)."""
    return escape(value, quote=False).replace('"', "&quot;")


@dataclass(frozen=True)
class Chrome:
    """Everything on a page that depends on the script section (/kr/ or /oz/)."""

    prefix: str
    lang: str
    home: str
    category: str
    menu: tuple[tuple[str, str], ...]
    switch: tuple[str, str]
    next_label: str
    most_read: str
    other_news: str
    follow: str
    author_label: str
    updated_label: str
    caption: str
    footer: tuple[tuple[str, str], ...]

    @property
    def category_path(self) -> str:
        return f"{self.prefix}siyosat/"


CYRILLIC = Chrome(
    prefix="/kr/", lang="uz-Cyrl", home="Асосий", category="Сиёсат",
    menu=(("/kr/", "Асосий"), ("/kr/siyosat/", "Сиёсат"), ("/kr/iqtisodiyot/", "Иқтисодиёт"),
          ("/kr/jamiyat/", "Жамият"), ("/kr/sport/", "Спорт")),
    switch=("/oz/siyosat/", "Oʻzbekcha"), next_label="Кейинги »", most_read="Кўп ўқилган",
    other_news="Бошқа янгиликлар", follow="Бизни ижтимоий тармоқларда кузатиб боринг",
    author_label="Муаллиф:", updated_label="Янгиланди:", caption="Фото: Президент матбуот хизмати",
    footer=(("/kr/about/", "Биз ҳақимизда"), ("/kr/contacts/", "Алоқа"), ("https://t.me/demo", "Telegram")),
)
LATIN = Chrome(
    prefix="/oz/", lang="uz-Latn", home="Bosh sahifa", category="Siyosat",
    menu=(("/oz/", "Bosh sahifa"), ("/oz/siyosat/", "Siyosat"), ("/oz/iqtisodiyot/", "Iqtisodiyot"),
          ("/oz/jamiyat/", "Jamiyat"), ("/oz/sport/", "Sport")),
    switch=("/kr/siyosat/", "Ўзбекча"), next_label="Keyingi »", most_read="Koʻp oʻqilgan",
    other_news="Boshqa yangiliklar", follow="Bizni ijtimoiy tarmoqlarda kuzatib boring",
    author_label="Muallif:", updated_label="Yangilandi:", caption="Foto: Prezident matbuot xizmati",
    footer=(("/oz/about/", "Biz haqimizda"), ("/oz/contacts/", "Aloqa"), ("https://t.me/demo", "Telegram")),
)
SITE_NAME = "Demo Yangiliklar"


@dataclass(frozen=True)
class Card:
    """A `news-card` as shown in listings, "most read" and related blocks."""

    path: str
    title: str
    lead: str | None
    image: str
    time_text: str
    category: str
    category_path: str


def card_html(card: Card) -> str:
    lead = f'<p class="news-card__lead">{text(card.lead)}</p>' if card.lead else ""
    return (
        f'<div class="news-card"><a class="news-card__image" href="{attr(card.path)}">'
        f'<img src="{attr(card.image)}" alt="\'{attr(card.title)}\'ning rasmi"></a>'
        f'<div class="news-card__meta"><a class="news-card__category" href="{attr(card.category_path)}">'
        f'{text(card.category)}</a> <span class="news-card__date">{text(card.time_text)}</span></div>'
        f'<a class="news-card__title" href="{attr(card.path)}">{text(card.title)}</a>{lead}</div>'
    )


def document(chrome: Chrome, title: str, head_extra: str, main: str, most_read: list[Card],
             lang: str | None = None) -> str:
    """A full page: head, header menu, main content, "most read" aside, footer."""
    menu = "".join(f'<a href="{attr(href)}">{text(label)}</a>' for href, label in chrome.menu)
    aside = "".join(f'<li><a href="{attr(c.path)}">{text(c.title)}</a></li>' for c in most_read)
    footer = "".join(f'<a href="{attr(href)}">{text(label)}</a>' for href, label in chrome.footer)
    return (
        f'<!DOCTYPE html>\n<html lang="{lang or chrome.lang}">\n<head>\n<meta charset="utf-8">\n'
        f'<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{text(title)}</title>\n{head_extra}</head>\n<body>\n"
        f'<header class="site-header"><a class="logo" href="{chrome.prefix}">{SITE_NAME}</a>\n'
        f'<nav class="main-menu">{menu}<a class="lang-switch" href="{attr(chrome.switch[0])}">'
        f"{text(chrome.switch[1])}</a></nav></header>\n"
        f'<div class="page">\n<main class="content">\n{main}\n</main>\n'
        f'<aside class="most-read"><h3>{text(chrome.most_read)}</h3><ul>{aside}</ul></aside>\n</div>\n'
        f'<footer class="site-footer"><nav>{footer}</nav><p>© 2025 {SITE_NAME}. '
        f"Материаллардан фойдаланилганда ҳавола кўрсатилиши шарт.</p></footer>\n</body>\n</html>\n"
    )


def listing_main(chrome: Chrome, cards: list[Card], page: int, pages: int) -> str:
    """`<main>` content of one category listing page, with pagination."""
    links = []
    for number in range(1, pages + 1):
        href = chrome.category_path + (f"?page={number}" if number > 1 else "")
        links.append(f'<span class="current">{number}</span>' if number == page else f'<a href="{href}">{number}</a>')
    if page < pages:
        links.append(f'<a class="pagination__next" rel="next" href="{chrome.category_path}?page={page + 1}">'
                     f"{text(chrome.next_label)}</a>")
    body = "\n".join(card_html(c) for c in cards)
    return (
        f'<h1 class="category-title">{text(chrome.category)}</h1>\n<div class="news-list">\n{body}\n</div>\n'
        f'<nav class="pagination">{" ".join(links)}</nav>'
    )


@dataclass
class ArticleView:
    """What an article page shows; None/False leaves the element out."""

    path: str
    title: str
    lead: str | None
    image: str
    paragraphs: list[tuple[str, str]]
    date_text: str | None
    updated_text: str | None
    views: int
    author: str | None
    tags: list[tuple[str, str]]
    related: list[Card]
    share_at: int | None = None
    malformed: bool = False
    alternates: tuple[tuple[str, str], ...] = ()
    """(hreflang, path) of every language version, this page included, as a real bilingual site links them."""


def article_head(view: ArticleView) -> str:
    description = f'<meta name="description" content="{attr(view.lead)}">\n' if view.lead else ""
    alternates = "".join(f'<link rel="alternate" hreflang="{lang}" href="{{{{BASE}}}}{attr(path)}">\n'
                         for lang, path in view.alternates)
    return (
        f'<link rel="canonical" href="{{{{BASE}}}}{attr(view.path)}">\n{alternates}'
        f'<meta property="og:type" content="article">\n'
        f'<meta property="og:title" content="{attr(view.title)}">\n'
        f'<meta property="og:image" content="{{{{BASE}}}}{attr(view.image)}">\n{description}'
    )


def _share(path: str) -> str:
    url = "{{BASE}}" + path
    return (f'<div class="share"><span>Улашиш:</span> <a href="https://t.me/share/url?url={url}">Telegram</a> '
            f'<a href="https://www.facebook.com/sharer/sharer.php?u={url}">Facebook</a></div>')


def article_main(chrome: Chrome, view: ArticleView) -> str:
    """Breadcrumb, `article.news-single` and the "other news" section."""
    close_p = "" if view.malformed else "</p>"
    paras = []
    for i, (kind, value) in enumerate(view.paragraphs):
        if i == view.share_at:
            paras.append(_share(view.path))
        if kind == "blockquote":
            paras.append(f"<blockquote><p>{text(value)}</p></blockquote>")
        else:
            paras.append(f"<p>{text(value)}{close_p}")
    if view.share_at is not None and view.share_at >= len(view.paragraphs):
        paras.append(_share(view.path))
    meta = []
    if view.date_text is not None:
        meta.append(f'<span class="news-single__date">{text(view.date_text)}</span>')
    if view.updated_text is not None:
        meta.append(f'<span class="news-single__updated">{text(view.updated_text)}</span>')
    meta.append(f'<span class="news-single__views">{view.views:,}</span>'.replace(",", " "))
    if view.malformed:
        meta.append("</span>")
    if view.author:
        meta.append(f'<span class="news-single__author">{text(chrome.author_label)} {text(view.author)}</span>')
    lead = f'<p class="news-single__lead">{text(view.lead)}</p>' if view.lead else ""
    tags = "".join(f'<a href="{attr(href)}">#{text(name)}</a>' for href, name in view.tags)
    banner = '\n<div class="banner"><a href="/reklama/">Реклама</a>' if view.malformed else ""
    related = "\n".join(card_html(c) for c in view.related)
    joiner = "" if view.malformed else "\n"
    return (
        f'<nav class="breadcrumb"><a href="{chrome.prefix}">{text(chrome.home)}</a>'
        f'<a href="{chrome.category_path}">{text(chrome.category)}</a></nav>\n'
        f'<article class="news-single">\n<h1 class="news-single__title">{text(view.title)}</h1>\n'
        f'<div class="news-single__meta">{" ".join(meta)}</div>\n{lead}\n'
        f'<figure class="news-single__image"><img src="{attr(view.image)}" alt="\'{attr(view.title)}\'ning rasmi">'
        f"<figcaption>{text(chrome.caption)}</figcaption></figure>\n"
        f'<div class="news-single__body">\n{joiner.join(paras)}\n</div>\n'
        f'<div class="news-single__tags">{tags}</div>\n'
        f'<div class="follow-us">{text(chrome.follow)} <a href="https://t.me/demo">Telegram</a> '
        f'<a href="https://facebook.com/demo">Facebook</a></div>\n</article>\n'
        f'<section class="other-news"><h2>{text(chrome.other_news)}</h2>\n{related}\n</section>{banner}'
    )
