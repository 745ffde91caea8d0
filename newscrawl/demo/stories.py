"""Story texts of the demo sites, their true dates, and the date texts the sites print."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from functools import cache
from importlib import resources

from newscrawl import translit
from newscrawl.dates import TASHKENT

DEMO_NOW = datetime(2025, 11, 15, 14, 0, tzinfo=TASHKENT)
"""The render moment matching the seed page (related cards "Бугун 13:35" and "14.11.2025 19:48")."""

LATIN_MONTHS = ("yanvar", "fevral", "mart", "aprel", "may", "iyun",
                "iyul", "avgust", "sentyabr", "oktyabr", "noyabr", "dekabr")
CYRILLIC_MONTHS = ("январь", "февраль", "март", "апрель", "май", "июнь",
                   "июль", "август", "сентябрь", "октябрь", "ноябрь", "декабрь")
RUSSIAN_MONTHS = ("января", "февраля", "марта", "апреля", "мая", "июня",
                  "июля", "августа", "сентября", "октября", "ноября", "декабря")


@dataclass
class ExpectedArticle:
    """Ground truth for one article URL: exactly what a perfect extractor must produce."""

    path: str
    title: str
    lead: str | None
    body: list[str]
    published_at: datetime | None
    published_text: str | None
    listing_time_text: str | None
    modified_at: datetime | None
    author: str | None
    image_url: str | None
    category: str | None
    tags: list[str]
    language: str
    script: str
    related: list[tuple[str, str]]
    status: int = 200
    alternates: list[str] = field(default_factory=list)
    """Paths of the same story in the other script (its hreflang links), for the three stories under /oz/ too."""


@dataclass
class Story:
    """One entry of a content file: texts plus rendering flags."""

    slug: str
    title: str
    lead: str | None
    when: str
    paragraphs: list[tuple[str, str]] = field(default_factory=list)
    updated: str | None = None
    author: str | None = None
    tags: list[str] = field(default_factory=list)
    flags: frozenset[str] = frozenset()
    latin: str | None = None
    twin: str | None = None
    related: list[str] = field(default_factory=list)

    def published(self, now: datetime) -> datetime:
        """The true publication moment, given the render moment `now`."""
        return resolve_when(self.when, now)

    def modified(self, now: datetime) -> datetime | None:
        """The true update moment, when the story has one."""
        if self.updated is None:
            return None
        return self.published(now) + parse_offset(self.updated)


def render_moment(clock: datetime | None = None) -> datetime:
    """The moment the served demo site is rendered at: the start (00:00) of the Tashkent day of `clock` (default:
    the real clock). Anchored to the day, not the minute, so every run of one day sees the same pages at the same
    URLs (a crawl re-run an hour later finds nothing new or updated), and no story is ever in the future."""
    moment = (clock or datetime.now(TASHKENT)).astimezone(TASHKENT)
    return datetime.combine(moment.date(), time(0, 0), TASHKENT)


def parse_offset(text: str) -> timedelta:
    """`+3m`, `-1h27m`, `-6h` -> a signed timedelta."""
    match = re.fullmatch(r"([+-])(?:(\d+)h)?(?:(\d+)m)?", text.strip())
    if not match or not (match[2] or match[3]):
        raise ValueError(f"bad offset {text!r}")
    delta = timedelta(hours=int(match[2] or 0), minutes=int(match[3] or 0))
    return -delta if match[1] == "-" else delta


def resolve_when(spec: str, now: datetime) -> datetime:
    """A story's `when:` value -> an aware Tashkent datetime, whole minutes."""
    now = now.astimezone(TASHKENT)
    if spec.startswith(("-", "+")):
        return (now + parse_offset(spec)).replace(second=0, microsecond=0)
    if spec.startswith("yesterday "):
        clock = time.fromisoformat(spec.split()[1])
        return datetime.combine(now.date() - timedelta(days=1), clock, TASHKENT)
    return datetime.fromisoformat(spec).replace(tzinfo=TASHKENT)


def _parse_block(block: str) -> Story:
    head, _, text = block.partition("\n\n")
    lines = head.splitlines()
    meta = dict(line.split(": ", 1) for line in lines[1:])
    paragraphs = []
    for chunk in text.split("\n\n"):
        chunk = chunk.strip()
        if chunk:
            paragraphs.append(("blockquote", chunk[2:]) if chunk.startswith("> ") else ("p", chunk))
    return Story(
        slug=lines[0].strip(),
        title=meta["title"],
        lead=meta.get("lead"),
        when=meta["when"],
        paragraphs=paragraphs,
        updated=meta.get("updated"),
        author=meta.get("author"),
        tags=[t.strip() for t in meta.get("tags", "").split(";") if t.strip()],
        flags=frozenset(meta.get("flags", "").split()),
        latin=meta.get("script"),
        twin=meta.get("oz"),
        related=meta.get("related", "").split(),
    )


@cache
def load_stories(name: str) -> tuple[Story, ...]:
    """Parse `content/<name>.txt` (see docs/demo-site.md for the format)."""
    raw = resources.files("newscrawl.demo").joinpath("content").joinpath(f"{name}.txt").read_text("utf-8")
    raw = "\n".join(line for line in raw.splitlines() if not line.startswith("#"))
    blocks = [b.strip("\n") for b in re.split(r"^=== ", raw, flags=re.M)[1:]]
    return tuple(_parse_block(b) for b in blocks)


_HARD_SIGN = {"ʻ": "ʼ", "'": "'", "‘": "’"}


def to_latin(text: str, apostrophe: str = "ʻ") -> str:
    """The project's Uzbek Cyrillic -> Latin, with oʻ/gʻ (and ʼ) written in the page's `apostrophe` variant."""
    return translit.to_latin(text).replace("ʻ", apostrophe).replace("ʼ", _HARD_SIGN.get(apostrophe, "ʼ"))


def tashkent_day_offset(moment: datetime, now: datetime) -> int:
    """How many Tashkent calendar days `moment` lies before `now` (0 = same day)."""
    return (now.astimezone(TASHKENT).date() - moment.astimezone(TASHKENT).date()).days


def card_time(moment: datetime, now: datetime, script: str = "cyrl") -> str:
    """The time a listing or related card prints: relative for today/yesterday, else absolute."""
    moment = moment.astimezone(TASHKENT)
    days = tashkent_day_offset(moment, now)
    clock = moment.strftime("%H:%M")
    if days == 0:
        return f"Бугун {clock}" if script == "cyrl" else f"Bugun, {clock}"
    if days == 1:
        return f"Кеча {clock}" if script == "cyrl" else f"Kecha, {clock}"
    return moment.strftime("%d.%m.%Y %H:%M")


def article_time(moment: datetime, now: datetime, script: str = "cyrl") -> str:
    """The date line of a demo article page: absolute in Cyrillic, Latin words in Latin."""
    moment = moment.astimezone(TASHKENT)
    if script == "cyrl":
        return moment.strftime("%d.%m.%Y %H:%M")
    if tashkent_day_offset(moment, now) in (0, 1):
        return card_time(moment, now, "latn")
    return f"{moment.day}-{LATIN_MONTHS[moment.month - 1]}, {moment.year} {moment:%H:%M}"


def day_path(moment: datetime) -> str:
    """`YYYY/MM/DD` of the Tashkent calendar day."""
    return moment.astimezone(TASHKENT).strftime("%Y/%m/%d")
