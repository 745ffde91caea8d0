"""Article pages: every archive field, layered per field (profile -> JSON-LD -> OpenGraph -> meta -> generic)."""

from __future__ import annotations

import copy
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from parsel import Selector

from newscrawl.dates import ParsedDate
from newscrawl.items import Article, Problem, ProblemCode, RelatedLink
from newscrawl.pages.body import extract_body
from newscrawl.pages.cards import Card, absolute_url, page_base
from newscrawl.pages.dom import class_index, drop_node, element_text, parse_html, select, select_first_text
from newscrawl.pages.layers import STRUCTURED, Layer
from newscrawl.pages.metadata import Metadata, jsonld_list, jsonld_text, read_metadata
from newscrawl.pages.generic import (breadcrumb_category, generic_author, generic_lead, generic_title, kicker_category,
                                     lead_image, tag_links, visible_date_text)
from newscrawl.pages.related import related_cards
from newscrawl.pages.sitedates import card_date, site_date
from newscrawl.pages.text import block_paragraphs, strip_label, without_leading_repeats
from newscrawl.sites import Profile
from newscrawl.translit import detect_script
from newscrawl.urls import article_url

PUBLISHED_META = ("article:published_time", "og:published_time")
PUBLISHED_NAMES = ("pubdate", "publishdate", "date", "dc.date", "dc.date.issued", "article.published",
                   "sailthru.date", "parsely-pub-date", "datepublished", "publish-date")
MODIFIED_NAMES = ("dc.date.modified", "article.updated", "datemodified", "last-modified")
RUSSIAN_ONLY = re.compile(r"[ыщэъ]", re.IGNORECASE)
UZBEK_ONLY = re.compile(r"[ўқғҳ]", re.IGNORECASE)
LATIN_UZBEK = re.compile(r"[oOgG][ʻ‘'’`]|\b(va|bilan|uchun|haqida|yil|boʻyicha)\b")
MAX_ALTERNATES = 10
# Fields every article should have, and the problem recorded when one is missing.
REQUIRED = {"title": ProblemCode.NO_TITLE, "lead": ProblemCode.NO_LEAD, "body": ProblemCode.NO_BODY,
            "published_at": ProblemCode.NO_PUBLISHED_AT}


@dataclass
class ListingHint:
    """What the card that linked to this article said about it (used only where the page says nothing)."""

    time_text: str | None = None
    fetched_at: datetime | None = None
    title: str | None = None
    lead: str | None = None
    category: str | None = None


class _Fields:
    """Collects field values with the layer that gave each."""

    def __init__(self) -> None:
        self.values: dict[str, Any] = {}
        self.sources: dict[str, Layer] = {}

    def offer(self, name: str, layer: Layer, value: object) -> bool:
        if name in self.values or value in (None, "", []):
            return name in self.values
        self.values[name] = value
        self.sources[name] = layer
        return True

    def first(self, name: str, candidates: list[tuple[Layer, Callable[[], object]]]) -> None:
        for layer, get in candidates:
            if self.offer(name, layer, get()):
                return


def extract_page(html: str, url: str, fetched_at: datetime | None = None, profile: Profile | None = None,
                 hint: ListingHint | None = None, utf8: bytes | None = None) -> Article:
    """Extract an Article from decoded HTML (and, when decode_page gave them, the bytes to parse it from). Pure:
    no network, no storage."""
    sel = parse_html(html, utf8) if html else parse_html("<html></html>")
    with class_index(sel):  # nothing below changes sel's tree (the body is cut from a copy)
        return _extract_page(sel, html, url, fetched_at, profile, hint)


def _extract_page(sel: Selector, html: str, url: str, fetched_at: datetime | None, profile: Profile | None,
                  hint: ListingHint | None) -> Article:
    fetched = _aware(fetched_at or datetime.now(timezone.utc))
    base = page_base(sel, url)
    md = read_metadata(sel)
    ld = md.jsonld
    prof = profile.article if profile else {}
    f = _Fields()
    problems: list[Problem] = []

    def psel(key: str) -> str | None:
        return select_first_text(sel, prof.get(key, ())) if profile else None

    f.first("title", [(Layer.PROFILE, lambda: psel("title")),
                      (Layer.JSON_LD, lambda: jsonld_text(ld.get("headline"))),
                      (Layer.OPENGRAPH, lambda: md.og_first("og:title")),
                      (Layer.GENERIC, lambda: generic_title(sel, md)),
                      (Layer.LISTING, lambda: hint.title if hint else None)])
    title = f.values.get("title")
    f.first("lead", [(Layer.PROFILE, lambda: psel("lead")),
                     (Layer.JSON_LD, lambda: jsonld_text(ld.get("description"))),
                     (Layer.OPENGRAPH, lambda: md.og_first("og:description")),
                     (Layer.META, lambda: md.meta.get("description")), (Layer.GENERIC, lambda: generic_lead(sel)),
                     (Layer.LISTING, lambda: hint.lead if hint else None)])
    _dates(f, "published", sel, md, fetched, profile, psel("published"), problems, hint)
    _dates(f, "modified", sel, md, fetched, profile, psel("modified"), problems, None)
    f.first("author", [(Layer.PROFILE, lambda: strip_label(psel("author"))),
                       (Layer.JSON_LD, lambda: jsonld_text(ld.get("author"))),
                       (Layer.OPENGRAPH, lambda: _not_url(md.og_first("article:author"))),
                       (Layer.META, lambda: _not_url(md.meta.get("author"))),
                       (Layer.GENERIC, lambda: generic_author(sel))])
    f.first("image_url", [(Layer.PROFILE, lambda: absolute_url(base, psel("image"))),
                          (Layer.JSON_LD, lambda: absolute_url(base, _image(ld.get("image")))),
                          (Layer.OPENGRAPH, lambda: absolute_url(base, md.og_first("og:image"))),
                          (Layer.GENERIC, lambda: absolute_url(base, lead_image(sel)))])
    f.first("category", [(Layer.PROFILE, lambda: psel("category")),
                         (Layer.JSON_LD, lambda: jsonld_text(ld.get("articleSection"))),
                         (Layer.OPENGRAPH, lambda: md.og_first("article:section")),
                         (Layer.GENERIC, lambda: breadcrumb_category(sel, title) or kicker_category(sel)),
                         (Layer.LISTING, lambda: hint.category if hint else None)])
    f.first("tags", [(Layer.PROFILE, lambda: _profile_tags(sel, prof.get("tags", ()))),
                     (Layer.JSON_LD, lambda: jsonld_list(ld.get("keywords"))),
                     (Layer.OPENGRAPH, lambda: md.og.get("article:tag", [])),
                     (Layer.META, lambda: jsonld_list(md.meta.get("keywords") or md.meta.get("news_keywords"))),
                     (Layer.GENERIC, lambda: tag_links(sel))])
    f.first("canonical_url", [(Layer.PROFILE, lambda: article_url(base, psel("canonical"))),
                              (Layer.META, lambda: article_url(base, md.canonical)), (Layer.GENERIC, lambda: url)])
    lead = f.values.get("lead")
    f.first("body", [(Layer.PROFILE, lambda: _profile_body(sel, profile)),
                     (Layer.GENERIC, lambda: extract_body(html, url, tree=sel.root, title=title, lead=lead))])
    body = without_leading_repeats(f.values.get("body") or [], [title, lead])
    f.values["body"] = "\n\n".join(body) if body else None
    if not body:
        f.sources.pop("body", None)
    f.first("language", [(Layer.META, lambda: _language_code(md.html_lang or jsonld_text(ld.get("inLanguage"))
                                                          or md.og_first("og:locale"))),
                         (Layer.GENERIC, lambda: _guess_language(" ".join(filter(None, [title, lead, *body[:3]]))))])
    text = " ".join(filter(None, [title, lead, f.values.get("body")]))
    related, related_layer = related_cards(sel, base, url, profile)
    article = Article(
        url=url,
        canonical_url=f.values.get("canonical_url"),
        title=title,
        lead=lead,
        body=f.values.get("body"),
        fetched_at=fetched.astimezone(timezone.utc).isoformat(timespec="seconds"),
        author=f.values.get("author"),
        image_url=f.values.get("image_url"),
        category=f.values.get("category"),
        tags=list(dict.fromkeys(t.lstrip("#").strip() for t in f.values.get("tags", []) if t.strip("# "))),
        language=f.values.get("language"),
        script=detect_script(text) if text else None,
        related=[_related_link(c, i, fetched, profile) for i, c in enumerate(related)],
        alternates=_alternates(md, base, url, f.values.get("canonical_url")),
        extraction=dict(f.sources),
        problems=problems,
    )
    for kind in ("published", "modified"):
        parsed: ParsedDate | None = f.values.get(f"{kind}_at")
        if parsed is not None:
            setattr(article, f"{kind}_at", parsed.value.isoformat())
            setattr(article, f"{kind}_text", f.values.get(f"{kind}_text"))
    if article.published_at:
        article.published_precision = f.values["published_at"].precision
        if f.sources["published_at"] in STRUCTURED:
            article.published_text = (_printed_date(sel, f.values["published_at"], fetched, profile)
                                      or article.published_text)
    if article.modified_at and article.published_at and \
            f.values["modified_at"].value <= f.values["published_at"].value:
        article.modified_at = article.modified_text = None
        article.extraction.pop("modified_at", None)
    if related_layer:
        article.extraction["related"] = related_layer
    _note_missing(article, problems)
    return article


def _alternates(md: Metadata, base: str, url: str, canonical: str | None) -> list[str]:
    """The page's hreflang versions as article URLs: not itself, not x-default (a language chooser, not a version
    of this article); at most MAX_ALTERNATES, since a real site has one per language."""
    own = {article_url(base, url), canonical}
    found = (article_url(base, href) for lang, href in md.hreflang if lang.lower() != "x-default")
    return list(dict.fromkeys(u for u in found if u and u not in own))[:MAX_ALTERNATES]


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def _dates(f: _Fields, kind: str, sel: Selector, md: Metadata, fetched: datetime, profile: Profile | None,
           profile_text: str | None, problems: list[Problem], hint: ListingHint | None) -> None:
    """Fill <kind>_at (a ParsedDate) and <kind>_text from the first layer that gives a parseable date."""
    ld_key = "datePublished" if kind == "published" else "dateModified"
    og_keys = PUBLISHED_META if kind == "published" else ("article:modified_time", "og:updated_time")
    names = PUBLISHED_NAMES if kind == "published" else MODIFIED_NAMES
    candidates: list[tuple[Layer, Callable[[], str | None], datetime]] = [
        (Layer.PROFILE, lambda: profile_text, fetched),
        (Layer.JSON_LD, lambda: jsonld_text(md.jsonld.get(ld_key)), fetched),
        *[(Layer.OPENGRAPH, lambda k=k: md.og_first(k), fetched) for k in og_keys],
        *[(Layer.META, lambda n=n: md.meta.get(n), fetched) for n in names],
    ]
    if kind == "published":
        candidates.append((Layer.META, lambda: md.time_datetime[0] if md.time_datetime else None, fetched))
        candidates.append((Layer.GENERIC, lambda: visible_date_text(sel), fetched))
        if hint and hint.time_text:
            candidates.append((Layer.LISTING, lambda: hint.time_text, _aware(hint.fetched_at or fetched)))
    else:
        candidates.append((Layer.GENERIC, lambda: visible_date_text(sel, updated=True), fetched))
    for layer, get_text, base in candidates:
        text = get_text()
        if not text:
            continue
        # the listing card's date is read exactly as `--since` reads it
        parsed = (card_date(text, base, profile) if layer is Layer.LISTING
                  else site_date(text, base, profile, formats=layer is Layer.PROFILE))
        if parsed is None:
            problems.append(Problem(ProblemCode.UNPARSED_DATE, f"{kind}_at from {layer}: {text[:80]!r}"))
            continue
        f.offer(f"{kind}_at", layer, parsed)
        f.values[f"{kind}_text"] = text
        return


def _printed_date(sel: Selector, parsed: ParsedDate, fetched: datetime, profile: Profile | None) -> str | None:
    """The date as the page prints it near the headline, when it names the same moment as the metadata."""
    text = visible_date_text(sel)
    printed = site_date(text, fetched, profile) if text else None
    if printed is None:
        return None
    if printed.precision == "day":
        return text if printed.value.date() == parsed.value.astimezone(printed.value.tzinfo).date() else None
    return text if abs((printed.value - parsed.value).total_seconds()) < 60 else None


def _not_url(value: str | None) -> str | None:
    return None if not value or value.startswith(("http://", "https://")) else value


def _image(value: object) -> str | None:
    if isinstance(value, list):
        value = value[0] if value else None
    if isinstance(value, dict):
        value = value.get("url") or value.get("contentUrl")
    return value if isinstance(value, str) else None


def _profile_tags(sel: Selector, selectors: tuple[str, ...]) -> list[str]:
    for css in selectors:
        tags = [element_text(n) for n in select(sel, css)]
        if tags:
            return [t for t in tags if t]
    return []


def _profile_body(sel: Selector, profile: Profile | None) -> list[str]:
    if profile is None:
        return []
    for css in profile.body:
        nodes = select(sel, css)
        if not nodes:
            continue
        element = copy.deepcopy(nodes[0])
        for exclude in profile.body_exclude:
            for node in select(element, exclude):
                drop_node(node)
        paragraphs = block_paragraphs(element)
        if paragraphs:
            return paragraphs
    return []


def _language_code(value: str | None) -> str | None:
    if not value:
        return None
    code = value.strip().lower().replace("_", "-").split("-")[0]
    return code if re.fullmatch(r"[a-z]{2,3}", code) else None


def _guess_language(text: str) -> str | None:
    if not text:
        return None
    if UZBEK_ONLY.search(text) or LATIN_UZBEK.search(text):
        return "uz"
    if RUSSIAN_ONLY.search(text):
        return "ru"
    script = detect_script(text)
    return "uz" if script in ("cyrl", "mixed") else None


def _related_link(card: Card, position: int, fetched: datetime, profile: Profile | None) -> RelatedLink:
    parsed = card_date(card.time_text, fetched, profile)
    return RelatedLink(url=card.url, title=card.title, category=card.category, published_text=card.time_text,
                       published_at=parsed.value.isoformat() if parsed else None,
                       published_precision=parsed.precision if parsed else None, lead=card.lead,
                       image_url=card.image_url, position=position)


def _note_missing(article: Article, problems: list[Problem]) -> None:
    for name, code in REQUIRED.items():
        if not getattr(article, name):
            problems.append(Problem(code))
