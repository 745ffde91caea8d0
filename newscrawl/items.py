"""The records a crawl produces: an article and the related links printed on its page."""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from enum import Enum
from typing import Any

from newscrawl.pages.layers import Layer

REPR_LIMIT = 300
"""Scrapy logs an item's repr when it is dropped or fails: a page body must never reach the log whole."""


class ShortRepr:
    """A dataclass repr with every field cut short and the whole cut to REPR_LIMIT characters."""

    def __repr__(self) -> str:
        parts = []
        for f in fields(self):  # type: ignore[arg-type]
            value = getattr(self, f.name)
            shown = f"<{len(value)} bytes>" if isinstance(value, (bytes, bytearray)) else repr(value)
            parts.append(f"{f.name}={shown[:120] + '…' if len(shown) > 120 else shown}")
        text = f"{type(self).__name__}({', '.join(parts)})"
        return text if len(text) <= REPR_LIMIT else text[:REPR_LIMIT] + "…)"


class ProblemCode(str, Enum):
    """Why an article is incomplete; the values are what `articles.problems` stores as `code`."""

    NO_TITLE = "no_title"
    NO_LEAD = "no_lead"
    NO_BODY = "no_body"
    NO_PUBLISHED_AT = "no_published_at"
    UNPARSED_DATE = "unparsed_date"
    """A layer offered a date text no parser could read; the detail names the field, the layer and the text."""
    EXTRACTION_FAILED = "extraction_failed"
    """The extractor raised; the article holds what its listing card said, the detail is the error."""
    UNKNOWN = "unknown"
    """Only written by migration 0009, for a stored sentence no newscrawl version built: the detail keeps it whole."""

    def __str__(self) -> str:
        return self.value


@dataclass(frozen=True)
class Problem:
    """One reason an article is incomplete: a code to count and query by, a detail for people to read."""

    code: ProblemCode
    detail: str | None = None

    def as_dict(self) -> dict[str, str]:
        """As stored in `articles.problems`: the detail is left out when there is none."""
        return {"code": self.code.value} if self.detail is None else {"code": self.code.value, "detail": self.detail}


@dataclass(repr=False)
class RelatedLink(ShortRepr):
    """A card in an article's "other news" block, as printed there."""

    url: str
    """Absolute URL the card links to."""
    title: str | None = None
    """Card headline, raw text."""
    category: str | None = None
    """Category label printed on the card (e.g. "Сиёсат")."""
    published_text: str | None = None
    """The time exactly as printed on the card ("Бугун 13:35")."""
    published_at: str | None = None
    """That time resolved against the fetch time: ISO 8601 with offset, or None."""
    published_precision: str | None = None
    """"day", "minute" or "second": how much of published_at the card gave."""
    lead: str | None = None
    """The card's one-sentence lead."""
    image_url: str | None = None
    """Absolute URL of the card's image."""
    position: int = 0
    """0-based order of the card in the block."""


class CarriesRawPage:
    """The page an article was extracted from travels with it to the archive pipeline, as an attribute that is
    not a dataclass field: feed exports (`-o articles.jsonl`), ItemAdapter and as_dict() never see it."""

    raw_page: RawPage | None = None
    """The response as fetched, for the `pages` table; set by the spider, None for an article made elsewhere."""


@dataclass(repr=False)
class Article(ShortRepr, CarriesRawPage):
    """One article page as extracted: raw text as published, parsed values beside it."""

    url: str
    """The URL the page was fetched from (after redirects)."""
    canonical_url: str | None = None
    """`<link rel=canonical>` or og:url, absolute."""
    title: str | None = None
    lead: str | None = None
    """Standfirst; never repeated as the body's first paragraph."""
    body: str | None = None
    """Article text, paragraphs separated by one blank line."""
    published_at: str | None = None
    """ISO 8601 with offset (+05:00 when the page gives no zone)."""
    published_precision: str | None = None
    """"day", "minute" or "second": how much of published_at the page actually gave."""
    published_text: str | None = None
    """The publication date as printed (or the metadata value it came from)."""
    modified_at: str | None = None
    """ISO 8601 with offset."""
    modified_text: str | None = None
    fetched_at: str | None = None
    """When the page was fetched, ISO 8601 UTC."""
    author: str | None = None
    image_url: str | None = None
    category: str | None = None
    """Last breadcrumb entry (or metadata section)."""
    tags: list[str] = field(default_factory=list)
    language: str | None = None
    """ISO 639-1 code: "uz", "ru", "en"."""
    script: str | None = None
    """"cyrl", "latn" or "mixed", detected from title, lead and body."""
    related: list[RelatedLink] = field(default_factory=list)
    alternates: list[str] = field(default_factory=list)
    """The same article in other languages or scripts, as the page links them (`<link rel=alternate hreflang>`):
    absolute canonical URLs, the page itself left out. Not a column: the archive links the story's versions by it
    (articles.story_key)."""
    extraction: dict[str, Layer] = field(default_factory=dict)
    """For each field, the layer that filled it: profile, json-ld, opengraph, meta, generic, listing."""
    problems: list[Problem] = field(default_factory=list)
    """Why the article is incomplete (missing lead, unparseable date, ...); empty when all is well."""

    etag: str | None = None
    """The response's ETag, kept for conditional re-fetches."""
    last_modified: str | None = None
    """The response's Last-Modified header, kept for conditional re-fetches."""

    def as_dict(self) -> dict[str, Any]:
        """The article's fields as plain data (the raw page left out)."""
        data = {f.name: getattr(self, f.name) for f in fields(self)}
        data["related"] = [vars(link).copy() for link in self.related]
        data["tags"] = list(self.tags)
        data["extraction"] = {name: Layer(layer).value for name, layer in self.extraction.items()}
        data["problems"] = [problem.as_dict() for problem in self.problems]
        return data


FEED_FIELD_NAMES = {"related": "related_links"}
"""Article fields that feed exports (`scrapy crawl -o`) name as the archive's tables and `newscrawl export` do."""


def article_feed_fields() -> dict[str, str]:
    """Every Article field in order, mapped to its name in a feed (Scrapy's `fields` feed option)."""
    return {f.name: FEED_FIELD_NAMES.get(f.name, f.name) for f in fields(Article)}


@dataclass(repr=False)
class RawPage(ShortRepr):
    """A fetched article response as received."""

    url: str
    final_url: str
    status: int
    headers: dict[str, str]
    body: bytes
    fetched_at: str


@dataclass(repr=False)
class FetchedArticle(ShortRepr):
    """An article response as the spider received it, with what its listing card said; extraction comes later."""

    page: RawPage
    hint: Any
    """The ListingHint of the card (or feed entry) that linked to the page."""
    etag: str | None = None
    last_modified: str | None = None


@dataclass(repr=False)
class MissingPage(ShortRepr):
    """An article link that answered 404 or 410."""

    url: str
    status: int
    fetched_at: str


@dataclass(repr=False)
class NotModified(ShortRepr):
    """An archived article the server confirmed unchanged (HTTP 304)."""

    url: str
    fetched_at: str


@dataclass
class SkippedPage:
    """A page not archived because it broke a limit or is no HTML page: recorded in `skipped_pages`."""

    url: str
    reason: str
    """One of the SKIP_* reasons below."""
    detail: str
    """One line for the operator: the limit and the size found, or the content type."""
    fetched_at: str
    status: int | None = None
    content_type: str | None = None


SKIP_TOO_LARGE = "too_large"
"""The response was over NEWSCRAWL_MAX_PAGE_BYTES, as received or once decompressed (also the error cause)."""
SKIP_NOT_HTML = "not_html"
"""An article link answered 200 with something other than HTML (an image, a PDF)."""
SKIP_EMPTY = "empty"
"""An article link answered 200 with an empty body."""
SKIP_TOO_MANY_LINKS = "too_many_links"
"""A listing page had more article links than NEWSCRAWL_MAX_LISTING_LINKS; the first ones were taken."""
SKIP_BODY_TOO_LONG = "body_too_long"
"""The extracted body was longer than NEWSCRAWL_MAX_BODY_CHARS."""
