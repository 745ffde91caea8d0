"""Site profiles: declarative TOML files describing a site's markup, and the loader that validates them."""

from __future__ import annotations

import re
import sys
from functools import cached_property, lru_cache
from dataclasses import dataclass, field
from datetime import timedelta, timezone
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from cssselect import SelectorError

from newscrawl.pages.dom import TRANSLATOR

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

SITES_DIR = Path(__file__).parent

LISTING_KEYS = ("cards", "next", "pages", "article_url_pattern")
CARD_KEYS = ("link", "title", "time", "category", "lead", "image")
ARTICLE_KEYS = ("title", "lead", "published", "modified", "author", "image", "category", "tags", "canonical")


class ProfileError(ValueError):
    """A profile file is invalid; the message names the file and the key."""

    def __init__(self, path: Path | str, key: str, problem: str) -> None:
        super().__init__(f"site profile {path}: key '{key}': {problem}")
        self.path = str(path)
        self.key = key


@dataclass(frozen=True)
class Profile:
    """What one site's pages look like: selectors per field, each a list tried in order."""

    name: str
    path: str
    hosts: tuple[str, ...]
    base_url: str | None
    language: str | None
    utc_offset: str
    """The TOML key `timezone`: the offset of dates the site prints without one, e.g. "+05:00"; relative dates
    use this zone's calendar."""
    categories: dict[str, str]
    listing_cards: tuple[str, ...]
    listing_next: tuple[str, ...]
    listing_pages: tuple[str, ...]
    article_url_pattern: re.Pattern[str] | None
    card: dict[str, tuple[str, ...]]
    article: dict[str, tuple[str, ...]]
    body: tuple[str, ...]
    body_exclude: tuple[str, ...]
    related_cards: tuple[str, ...]
    feeds: tuple[str, ...] = field(default=())

    date_formats: tuple[str, ...] = field(default=())
    """strptime formats tried on the profile's own date texts before the general date parser."""

    @cached_property  # read for every date of every page
    def zone(self) -> timezone:
        sign = -1 if self.utc_offset.startswith("-") else 1
        hours, minutes = self.utc_offset[1:].split(":")
        return timezone(sign * timedelta(hours=int(hours), minutes=int(minutes)))

    def matches(self, url: str) -> bool:
        host = (urlsplit(url).hostname or "").lower()
        return any(host == h or host.endswith("." + h) for h in self.hosts)


def _selectors(path: Path, key: str, value: Any, required: bool = False) -> tuple[str, ...]:
    if value is None:
        if required:
            raise ProfileError(path, key, "is required")
        return ()
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list) or not all(isinstance(s, str) and s.strip() for s in items):
        raise ProfileError(path, key, "must be a CSS selector or a list of CSS selectors")
    for css in items:
        try:
            TRANSLATOR.css_to_xpath(css)
        except (SelectorError, ValueError, NotImplementedError) as exc:
            raise ProfileError(path, key, f"invalid CSS selector {css!r}: {exc}") from None
    return tuple(items)


def _table(path: Path, data: dict[str, Any], key: str) -> dict[str, Any]:
    value = data.get(key, {})
    if not isinstance(value, dict):
        raise ProfileError(path, key, "must be a table")
    return value


def parse_profile(path: Path, data: dict[str, Any]) -> Profile:
    """Validate raw TOML data into a Profile, raising ProfileError naming the file and key."""
    name = data.get("name")
    if not isinstance(name, str) or not name:
        raise ProfileError(path, "name", "is required")
    hosts = data.get("hosts")
    if not isinstance(hosts, list) or not hosts or not all(isinstance(h, str) for h in hosts):
        raise ProfileError(path, "hosts", "must be a non-empty list of host names")
    utc_offset = data.get("timezone", "+05:00")
    offset = re.fullmatch(r"[+-](\d{2}):(\d{2})", utc_offset) if isinstance(utc_offset, str) else None
    # the zone is built for every date parsed: an offset datetime.timezone refuses must fail here, not per page
    if offset is None or int(offset[1]) > 23 or int(offset[2]) > 59:
        raise ProfileError(path, "timezone", f"must be a UTC offset from -23:59 to +23:59 like +05:00, "
                                             f"not {utc_offset!r}")
    categories = _table(path, data, "categories")
    if not all(isinstance(v, str) for v in categories.values()):
        raise ProfileError(path, "categories", "values must be URL paths")
    listing = _table(path, data, "listing")
    article = _table(path, data, "article")
    card = _table(path, data, "card")
    related = _table(path, data, "related")
    pattern = listing.get("article_url_pattern")
    compiled = None
    if pattern is not None:
        try:
            compiled = re.compile(pattern)
        except (re.error, TypeError) as exc:
            raise ProfileError(path, "listing.article_url_pattern", f"invalid regular expression: {exc}") from None
    formats = data.get("date_formats", [])
    if not isinstance(formats, list) or not all(isinstance(f, str) and "%" in f for f in formats):
        raise ProfileError(path, "date_formats", "must be a list of strptime formats such as '%d.%m.%Y %H:%M'")
    known = {"name", "hosts", "base_url", "timezone", "date_formats", "language", "description", "categories",
             "listing", "article", "card", "related", "feeds"}
    unknown = sorted(set(data) - known)
    if unknown:
        raise ProfileError(path, unknown[0], "unknown key")
    for table, values, allowed in (("listing", listing, LISTING_KEYS), ("card", card, CARD_KEYS),
                                   ("article", article, (*ARTICLE_KEYS, "body", "body_exclude")),
                                   ("related", related, ("cards",))):
        unknown = sorted(set(values) - set(allowed))
        if unknown:
            raise ProfileError(path, f"{table}.{unknown[0]}", "unknown key")
    return Profile(
        name=name,
        path=str(path),
        hosts=tuple(h.lower() for h in hosts),
        base_url=data.get("base_url"),
        language=data.get("language"),
        utc_offset=utc_offset,
        categories=dict(categories),
        listing_cards=_selectors(path, "listing.cards", listing.get("cards"), required=True),
        listing_next=_selectors(path, "listing.next", listing.get("next")),
        listing_pages=_selectors(path, "listing.pages", listing.get("pages")),
        article_url_pattern=compiled,
        card={k: _selectors(path, f"card.{k}", card.get(k), required=k == "link") for k in CARD_KEYS},
        article={k: _selectors(path, f"article.{k}", article.get(k), required=k == "title") for k in ARTICLE_KEYS},
        body=_selectors(path, "article.body", article.get("body")),
        body_exclude=_selectors(path, "article.body_exclude", article.get("body_exclude")),
        related_cards=_selectors(path, "related.cards", related.get("cards")),
        feeds=tuple(data.get("feeds", ())),
        date_formats=tuple(formats),
    )


def load_profile_file(path: Path | str) -> Profile:
    """The profile in a TOML file, parsed once per version of the file (profile_for_url runs for every page)."""
    path = Path(path)
    try:
        stat = path.stat()
    except OSError as exc:
        raise ProfileError(path, "(file)", f"cannot be read: {exc}") from None
    return _load_profile_file(path, stat.st_mtime_ns, stat.st_size)


@lru_cache(maxsize=64)
def _load_profile_file(path: Path, modified: int, size: int) -> Profile:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ProfileError(path, "(file)", f"not valid TOML: {exc}") from None
    except OSError as exc:
        raise ProfileError(path, "(file)", f"cannot be read: {exc}") from None
    return parse_profile(path, data)


def available_profiles(directory: Path = SITES_DIR) -> dict[str, Path]:
    return {p.stem: p for p in sorted(directory.glob("*.toml"))}


def load_profile(name_or_path: str) -> Profile:
    """Load a profile by name (a file in newscrawl/sites/) or by path to a TOML file."""
    if name_or_path.endswith(".toml") or "/" in name_or_path:
        return load_profile_file(name_or_path)
    profiles = available_profiles()
    if name_or_path not in profiles:
        raise ProfileError(SITES_DIR / f"{name_or_path}.toml", "(file)",
                           f"no such profile; available: {', '.join(profiles) or 'none'}")
    return load_profile_file(profiles[name_or_path])


def profile_for_url(url: str) -> Profile | None:
    """The first bundled profile whose hosts match the URL's host."""
    for path in available_profiles().values():
        profile = load_profile_file(path)
        if profile.matches(url):
            return profile
    return None


def resolve_profile(profile: Profile | str | None, url: str) -> Profile | None:
    """A Profile from a Profile, a profile name or path, "auto" (match the URL's host), or None/"none"."""
    if profile is None or isinstance(profile, Profile):
        return profile
    if profile in ("", "none", "generic"):
        return None
    if profile == "auto":
        return profile_for_url(url)
    return load_profile(profile)
