"""A second news site ("Kun Xabar") whose markup no site profile knows: metadata-driven or bare pages."""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from newscrawl.demo.markup import attr, text
from newscrawl.demo.page import Page
from newscrawl.demo.stories import (CYRILLIC_MONTHS, LATIN_MONTHS, RUSSIAN_MONTHS, TASHKENT, ExpectedArticle,
                                    Story, day_path, load_stories, resolve_when, tashkent_day_offset, to_latin)

GENERIC_START_PATH = "/news/politics/"
SITE = "Kun Xabar"
PER_PAGE = 5


@dataclass(frozen=True)
class _Plan:
    """One article of the generic site: which story, which page flavour, when, how its date is printed."""

    source: str          # content file
    slug: str            # story slug in that file
    flavour: str         # jsonld | og | bare
    when: str
    date_form: str = ""  # bare pages: hours-ago | today-ru | yesterday | latin-long | ru-long
    latin: str = ""      # apostrophe when the page is Uzbek Latin
    cp1251: bool = False


PLANS = (
    _Plan("siyosat_kr", "mirziyoev-toqaevni-mukofotladi", "jsonld", "-40m"),
    _Plan("generic_ru", "prezident-podpisal-ukaz-o-reforme-gossluzhby", "og", "-1h30m", cp1251=True),
    _Plan("siyosat_kr", "tovar-ayirboshlash-4-mlrd-dollarga-yetdi", "bare", "-3h", "hours-ago"),
    _Plan("generic_ru", "senat-ratifitsiroval-soglashenie-s-afganistanom", "bare", "-4h45m", "today-ru"),
    _Plan("siyosat_kr", "oliy-majlis-qoshma-majlisi", "og", "-6h"),
    _Plan("siyosat_kr", "mirziyoev-toqaev-bilan-suhbat-otkazdi", "bare", "yesterday 19:48", "yesterday"),
    _Plan("siyosat_kr", "maslahat-uchrashuvi-toshkentda", "jsonld", "2025-11-14 18:05"),
    _Plan("generic_ru", "mirziyoev-i-tokaev-proveli-peregovory", "jsonld", "2025-11-14 16:30", cp1251=True),
    _Plan("siyosat_kr", "ozbekiston-aqsh-hamkorligi", "og", "2025-11-14 09:00", latin="ʻ"),
    _Plan("siyosat_kr", "ozbekiston-qozogiston-parlament-komissiyasi", "bare", "2025-11-13 10:20", "latin-long",
          latin="'"),
    _Plan("siyosat_kr", "vazirlar-mahkamasi-qarori-hududlar", "jsonld", "2025-11-12 15:00"),
    _Plan("siyosat_kr", "mahalliy-kengashlar-saylovi", "og", "2025-11-12 09:30"),
    _Plan("generic_ru", "tsik-utverdil-kalendarnyi-plan-vyborov", "bare", "2025-11-11 12:00", "ru-long"),
    _Plan("siyosat_kr", "turkiy-davlatlar-sammiti", "jsonld", "2025-11-10 13:40"),
    _Plan("siyosat_kr", "janubiy-koreya-delegatsiyasi", "og", "2025-11-09 18:20"),
)

_WORDS = {
    "uz-Cyrl": dict(category="Сиёсат", related="Бошқа янгиликлар", today="Бугун", yesterday="Кеча",
                    share="Улашинг:", subscribe="Янгиликларга обуна бўлинг", comments="Изоҳлар",
                    most_read="Энг кўп ўқилган", tags="Теглар:", author="Муаллиф:"),
    "uz-Latn": dict(category="Siyosat", related="Oʻxshash yangiliklar", today="Bugun", yesterday="Kecha",
                    share="Ulashing:", subscribe="Yangiliklarga obuna boʻling", comments="Izohlar",
                    most_read="Eng koʻp oʻqilgan", tags="Teglar:", author="Muallif:"),
    "ru": dict(category="Политика", related="Похожие новости", today="Сегодня", yesterday="Вчера",
               share="Поделиться:", subscribe="Подпишитесь на новости", comments="Комментарии",
               most_read="Самое читаемое", tags="Теги:", author="Автор:"),
}


@dataclass
class _Item:
    plan: _Plan
    story: Story
    lang: str
    path: str
    published: datetime
    modified: datetime | None

    def t(self, value: str) -> str:
        return to_latin(value, self.plan.latin) if self.plan.latin else value

    @property
    def title(self) -> str:
        return self.t(self.story.title)

    @property
    def lead(self) -> str:
        return self.t(self.story.lead or "")

    @property
    def image(self) -> str:
        return f"/uploads/{self.published:%Y/%m}/{self.story.slug}.jpg"

    @property
    def words(self) -> dict[str, str]:
        return _WORDS[self.lang]


def _short_time(moment: datetime, now: datetime, lang: str) -> str:
    """Time next to a link in lists: "Бугун, 13:35", "Вчера, 19:48" or "14.11.2025"."""
    words = _WORDS[lang]
    days = tashkent_day_offset(moment, now)
    if days == 0:
        return f"{words['today']}, {moment:%H:%M}"
    if days == 1:
        return f"{words['yesterday']}, {moment:%H:%M}"
    return moment.strftime("%d.%m.%Y")


def _long_date(moment: datetime, lang: str) -> str:
    """`14 ноябрь 2025, 18:05` / `14 ноября 2025, 18:05` / `14-noyabr, 2025 yil 18:05`."""
    if lang == "uz-Latn":
        return f"{moment.day}-{LATIN_MONTHS[moment.month - 1]}, {moment.year} yil {moment:%H:%M}"
    months = RUSSIAN_MONTHS if lang == "ru" else CYRILLIC_MONTHS
    return f"{moment.day} {months[moment.month - 1]} {moment.year}, {moment:%H:%M}"


def _visible_date(item: _Item, now: datetime) -> str:
    moment, form = item.published, item.plan.date_form
    if item.plan.flavour == "jsonld" or form in ("latin-long", "ru-long"):
        return _long_date(moment, item.lang)
    if item.plan.flavour == "og":
        return _long_date(moment, "ru") if item.lang == "ru" else f"{moment:%H:%M / %d.%m.%Y}"
    if form == "hours-ago":
        return f"{round((now - moment).total_seconds() / 3600)} соат олдин"
    if form == "today-ru":  # "-4h45m" falls on the previous Tashkent day in the small hours: say so, as a site would
        word = "Сегодня" if tashkent_day_offset(moment, now) == 0 else "Вчера"
        return f"{word} в {moment:%H:%M}"
    return f"{item.words['yesterday']}, {moment:%H:%M}"


def _head(item: _Item, now: datetime) -> str:
    charset = "windows-1251" if item.plan.cp1251 else "utf-8"
    parts = [f'<meta charset="{charset}">', f"<title>{text(item.title)} | {SITE}</title>"]
    url = "{{BASE}}" + item.path
    if item.plan.flavour in ("jsonld", "og"):
        parts += [
            f'<meta name="description" content="{attr(item.lead)}">',
            '<meta property="og:type" content="article">',
            f'<meta property="og:url" content="{url}">',
            f'<meta property="og:title" content="{attr(item.title)}">',
            f'<meta property="og:description" content="{attr(item.lead)}">',
            f'<meta property="og:image" content="{{{{BASE}}}}{item.image}">',
            f'<meta property="article:published_time" content="{item.published.isoformat()}">',
            f'<meta property="article:section" content="{attr(item.words["category"])}">',
        ]
        if item.modified:
            parts.append(f'<meta property="article:modified_time" content="{item.modified.isoformat()}">')
        parts += [f'<meta property="article:tag" content="{attr(item.t(tag))}">' for tag in item.story.tags]
    if item.plan.flavour == "jsonld":
        data = {
            "@context": "https://schema.org", "@type": "NewsArticle", "mainEntityOfPage": url,
            "headline": item.title, "description": item.lead, "datePublished": item.published.isoformat(),
            "dateModified": (item.modified or item.published).isoformat(),
            "image": ["{{BASE}}" + item.image], "articleSection": item.words["category"],
            "keywords": ", ".join(item.t(tag) for tag in item.story.tags), "inLanguage": item.lang,
            "publisher": {"@type": "Organization", "name": SITE},
        }
        if item.story.author:
            data["author"] = {"@type": "Person", "name": item.t(item.story.author)}
        parts.append('<script type="application/ld+json">' + json.dumps(data, ensure_ascii=False) + "</script>")
    return "\n".join(parts)


def _article_html(item: _Item, related: list[_Item], most_read: list[_Item],
                  now: datetime) -> tuple[str, ExpectedArticle]:
    words, flavour = item.words, item.plan.flavour
    date_text = _visible_date(item, now)
    if flavour == "jsonld":
        date_html = f'<time datetime="{item.published.isoformat()}">{text(date_text)}</time>'
    else:
        date_html = f'<span class="post-date">{text(date_text)}</span>'
    byline = ""
    if item.story.author and flavour != "bare":
        byline = f' <span class="byline">{text(words["author"])} {text(item.t(item.story.author))}</span>'
    body = [item.t(value) for _, value in item.story.paragraphs]
    paragraphs = "".join(
        f"<blockquote>{text(item.t(v))}</blockquote>" if kind == "blockquote" else f"<p>{text(item.t(v))}</p>"
        for kind, v in item.story.paragraphs)
    if flavour == "bare":
        strong = PLANS.index(item.plan) % 2 == 0
        first = f"<p><strong>{text(item.lead)}</strong></p>" if strong else f'<p class="intro">{text(item.lead)}</p>'
        lead_html, paragraphs = "", first + paragraphs
        tags_html = ""
    else:
        lead_html = f'<p class="standfirst">{text(item.lead)}</p>'
        tags_html = (f'<div class="post-tags">{text(words["tags"])} '
                     + " ".join(f'<a href="/tag/{i}/">{text(item.t(tag))}</a>' for i, tag in enumerate(item.story.tags))
                     + "</div>")
    rel = "".join(f'<li><a href="{r.path}">{text(r.title)}</a> <span class="time">'
                  f"{text(_short_time(r.published, now, item.lang))}</span></li>" for r in related)
    popular = "".join(f'<li><a href="{m.path}">{text(m.title)}</a></li>' for m in most_read)
    html = (
        f'<!DOCTYPE html>\n<html lang="{item.lang}">\n<head>\n{_head(item, now)}\n</head>\n<body>\n'
        f'<header class="top"><a class="brand" href="/">{SITE}</a><ul class="nav"><li><a href="/news/politics/">'
        f'{text(words["category"])}</a></li><li><a href="/news/economy/">Iqtisodiyot</a></li></ul></header>\n'
        f'<div class="layout"><div class="main-col">\n<article>\n<header>'
        f'<a class="kicker" href="/news/politics/">{text(words["category"])}</a>\n<h1>{text(item.title)}</h1>\n'
        f'<div class="info">{date_html}{byline} <span class="comments-count">{text(words["comments"])}: '
        f"{len(item.story.slug) % 17}</span></div></header>\n{lead_html}\n"
        f'<figure><img src="{item.image}" alt="{attr(item.title)}"></figure>\n'
        f'<div class="text">{paragraphs}</div>\n{tags_html}\n'
        f'<div class="share-bar">{text(words["share"])} <a href="https://t.me/share/url?url={{{{BASE}}}}{item.path}">'
        f'Telegram</a> <a href="https://www.facebook.com/sharer/sharer.php?u={{{{BASE}}}}{item.path}">Facebook</a>'
        f'</div>\n<div class="subscribe">{text(words["subscribe"])}: <a href="https://t.me/kunxabar">@kunxabar</a>'
        f'</div>\n</article>\n<div class="related"><h3>{text(words["related"])}</h3><ul>{rel}</ul></div>\n'
        f'</div>\n<aside class="sidebar"><h3>{text(words["most_read"])}</h3><ol>{popular}</ol></aside></div>\n'
        f'<footer><p>© 2025 {SITE}</p><a href="/about">About</a> <a href="/ads">Reklama</a></footer>\n'
        "</body>\n</html>\n"
    )
    expected = ExpectedArticle(
        path=item.path, title=item.title, lead=item.lead, body=body, published_at=item.published,
        published_text=date_text, listing_time_text=None, modified_at=item.modified,
        author=item.t(item.story.author) if item.story.author and flavour != "bare" else None, image_url=item.image,
        category=words["category"], tags=[item.t(tag) for tag in item.story.tags] if flavour != "bare" else [],
        language="ru" if item.lang == "ru" else "uz", script="latn" if item.plan.latin else "cyrl",
        related=[(r.path, r.title) for r in related],
    )
    return html, expected


def _listing_html(items: list[_Item], number: int, pages: int, now: datetime) -> str:
    rows = "\n".join(
        f'<li><h2><a href="{i.path}">{text(i.title)}</a></h2><span class="meta">'
        f'{text(_short_time(i.published, now, "uz-Cyrl"))}</span><p>{text(i.lead)}</p></li>' for i in items)
    if number == 1:
        pager = " ".join(f'<a href="?page={n}">{n}</a>' for n in range(2, pages + 1))
        pager = f'<b>1</b> {pager} <a class="more" href="?page=2">Далее →</a>'
    else:
        pager = " ".join(f"<b>{n}</b>" if n == number else
                         f'<a href="{GENERIC_START_PATH}{"" if n == 1 else f"?page={n}"}">{n}</a>'
                         for n in range(1, pages + 1))
    return (
        f'<!DOCTYPE html>\n<html lang="uz-Cyrl">\n<head><meta charset="utf-8"><title>Сиёсат | {SITE}</title></head>\n'
        f'<body>\n<header class="top"><a class="brand" href="/">{SITE}</a></header>\n<section class="feed">\n'
        f'<h1>Сиёсат</h1>\n<ul class="articles">\n{rows}\n</ul>\n<div class="pager">{pager}</div>\n</section>\n'
        f"<footer><p>© 2025 {SITE}</p></footer>\n</body>\n</html>\n"
    )


def _item(plan: _Plan, now: datetime) -> _Item:
    story = next(s for s in load_stories(plan.source) if s.slug == plan.slug)
    lang = "ru" if plan.source == "generic_ru" else ("uz-Latn" if plan.latin else "uz-Cyrl")
    published = resolve_when(plan.when, now)
    modified = published + (changed - story.published(now)) if (changed := story.modified(now)) else None
    return _Item(plan, story, lang, f"/news/{day_path(published)}/{story.slug}.html", published, modified)


def generic_site(now: datetime | None = None) -> tuple[dict[str, Page], list[ExpectedArticle]]:
    """The generic site rendered at `now`; expected articles in listing order (newest first)."""
    now = (now or datetime.now(TASHKENT)).astimezone(TASHKENT)
    items = sorted((_item(p, now) for p in PLANS), key=lambda i: i.published, reverse=True)
    pages: dict[str, Page] = {}
    expected = []
    total = -(-len(items) // PER_PAGE)
    for index, item in enumerate(items):
        related = [items[(index + step) % len(items)] for step in range(1, 4 + index % 3)]
        html, truth = _article_html(item, related, items[:4], now)
        if item.plan.cp1251:
            pages[item.path] = Page(html.encode("cp1251", errors="xmlcharrefreplace"), content_type="text/html")
        else:
            pages[item.path] = Page(html.encode("utf-8"))
        truth.listing_time_text = _short_time(item.published, now, "uz-Cyrl")
        expected.append(truth)
    for number in range(1, total + 1):
        chunk = items[(number - 1) * PER_PAGE:number * PER_PAGE]
        path = GENERIC_START_PATH + ("" if number == 1 else f"?page={number}")
        pages[path] = Page(_listing_html(chunk, number, total, now).encode("utf-8"))
    return pages, expected
