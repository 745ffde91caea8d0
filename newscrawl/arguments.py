"""Spider arguments and NEWSCRAWL_* settings, parsed and checked in one place before a crawl starts.

`scrapy crawl` (newscrawl.commands.crawl) calls these before any request or file is made, so a bad value is one
line naming it and exit 2; the spider calls the same functions, so library use fails as early and as clearly.
"""

from __future__ import annotations

import difflib
import math
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from urllib.parse import urlsplit

from newscrawl import settings as defaults


class ArgumentProblem(ValueError):
    """A spider argument or a setting has a value the crawl cannot use; the message names it."""


def max_pages_argument(value: str | int | None) -> int | None:
    """`-a max_pages=N`: None when absent, else a whole number >= 0 (0 = no limit)."""
    if value is None or value == "":
        return None
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise ArgumentProblem(f"bad spider argument max_pages={value!r}: must be a whole number >= 0 "
                              "(0 = no limit)") from None
    if number < 0:
        raise ArgumentProblem(f"bad spider argument max_pages={value!r}: must be >= 0 (0 = no limit)")
    return number


def since_argument(value: str | None) -> date | None:
    """`-a since=YYYY-MM-DD`: None when absent, else a real calendar date."""
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise ArgumentProblem(f"bad spider argument since={value!r}: {exc} (expected YYYY-MM-DD)") from None


def start_url_argument(value: str | None, name: str = "start_url") -> str | None:
    """`-a start_url=URL` / NEWSCRAWL_START_URL: an http(s) URL with a host, or None when absent."""
    if not value:
        return None
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ArgumentProblem(f"bad {name} {value!r}: must be an http:// or https:// URL with a host")
    return value


def demo_now_setting(value: str | None) -> datetime | None:
    """NEWSCRAWL_DEMO_NOW: the moment the bundled demo site takes as now, ISO 8601 with a zone; None when empty."""
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is None:
        raise ArgumentProblem(f"bad setting NEWSCRAWL_DEMO_NOW={value!r}: must be an ISO 8601 moment with a zone "
                              "(2025-11-15T14:00+05:00), or empty for the real clock")
    return moment


AUTO = "auto"
def redis_url_argument(value: str | None, name: str = "NEWSCRAWL_REDIS_URL") -> str | None:
    """NEWSCRAWL_REDIS_URL / --redis: a redis://, rediss:// or unix:// URL, or None when absent."""
    if not value:
        return None
    if urlsplit(value).scheme not in ("redis", "rediss", "unix"):
        raise ArgumentProblem(f"bad {name} {value!r}: must be a redis://HOST:PORT/DB (or rediss://, unix://) URL")
    return value


@dataclass(frozen=True)
class Rule:
    """What a NEWSCRAWL_* setting accepts."""

    kind: type
    minimum: float | None = None
    maximum: float | None = None
    auto: bool = False
    """The value "auto" is accepted too (the code that reads the setting decides what it means)."""


SETTING_RULES: dict[str, Rule] = {
    "NEWSCRAWL_DB": Rule(str),
    "NEWSCRAWL_START_URL": Rule(str),
    "NEWSCRAWL_SITE": Rule(str),
    "NEWSCRAWL_MAX_PAGES": Rule(int, 0),
    "NEWSCRAWL_REFRESH_HOURS": Rule(float, 0),
    "NEWSCRAWL_STORE_RAW": Rule(bool),
    "NEWSCRAWL_MAX_ERROR_SHARE": Rule(float, 0, 1),
    "NEWSCRAWL_DRIFT_SHARE": Rule(float, 0, 1),
    "NEWSCRAWL_PROGRESS_EVERY": Rule(int, 0),
    "NEWSCRAWL_MISSING_RETRY_HOURS": Rule(float, 0),
    "NEWSCRAWL_EXTRACT_PROCESSES": Rule(int, 0, 32, auto=True),
    "NEWSCRAWL_DEMO_PORT": Rule(int, 0, 65535),
    "NEWSCRAWL_DEMO_NOW": Rule(str),
    # 0 would mean "no limit" to Scrapy's DOWNLOAD_MAXSIZE; under 1 KiB no real page fits.
    "NEWSCRAWL_MAX_PAGE_BYTES": Rule(int, 1024),
    "NEWSCRAWL_MAX_BODY_CHARS": Rule(int, 1),
    "NEWSCRAWL_MAX_LISTING_LINKS": Rule(int, 1),
    "NEWSCRAWL_MAX_LISTING_PAGES": Rule(int, 1),
    "NEWSCRAWL_MAX_RETRY_AFTER": Rule(float, 0),
    "NEWSCRAWL_MAX_PENDING": Rule(int, 1),
    "NEWSCRAWL_GC_THRESHOLD": Rule(int, 0, 10_000_000),
    "NEWSCRAWL_REDIS_URL": Rule(str),
    "NEWSCRAWL_REDIS_RUN": Rule(str),
    "NEWSCRAWL_REDIS_BACKLOG": Rule(int, 1),
    "NEWSCRAWL_REDIS_OUTAGE_SECONDS": Rule(float, 0),
}
KNOWN_SETTINGS = frozenset(name for name in dir(defaults) if name.startswith("NEWSCRAWL_"))


def setting_value(settings: Any, name: str) -> Any:
    """The setting read as its rule's type; ArgumentProblem naming it when it cannot be, or is out of range."""
    rule = SETTING_RULES[name]
    raw = settings.get(name)
    if rule.auto and str(raw).strip().lower() == AUTO:
        return AUTO
    getter = {int: settings.getint, float: settings.getfloat, bool: settings.getbool, str: settings.get}[rule.kind]
    try:
        value = getter(name)
    except (TypeError, ValueError):
        raise ArgumentProblem(f"bad setting {name}={raw!r}: must be {_describe(rule)}") from None
    if rule.kind in (int, float):
        if not math.isfinite(value) or (rule.minimum is not None and value < rule.minimum) or (
                rule.maximum is not None and value > rule.maximum):
            raise ArgumentProblem(f"bad setting {name}={raw!r}: must be {_describe(rule)}")
    return value


def _describe(rule: Rule) -> str:
    kind = {int: "a whole number", float: "a number", bool: "True or False", str: "text"}[rule.kind]
    if rule.auto:
        kind = f"{AUTO} or {kind}"
    if rule.minimum is not None and rule.maximum is not None:
        return f"{kind} from {rule.minimum:g} to {rule.maximum:g}"
    if rule.minimum is not None:
        return f"{kind} >= {rule.minimum:g}"
    return kind


def settings_problem(settings: Any) -> str | None:
    """The first NEWSCRAWL_* setting that is unknown (a typo) or has an unusable value, as one line; else None."""
    for name in sorted(settings):
        if name.startswith("NEWSCRAWL_") and name not in KNOWN_SETTINGS:
            close = difflib.get_close_matches(name, KNOWN_SETTINGS, n=1)
            return f"unknown setting {name}" + (f" (did you mean {close[0]}?)" if close else "")
    try:
        for name in SETTING_RULES:
            setting_value(settings, name)
        start_url_argument(settings.get("NEWSCRAWL_START_URL"), "NEWSCRAWL_START_URL")
        demo_now_setting(settings.get("NEWSCRAWL_DEMO_NOW"))
        redis_url_argument(settings.get("NEWSCRAWL_REDIS_URL"))
    except ArgumentProblem as exc:
        return str(exc)
    if not settings.get("NEWSCRAWL_DB"):
        return "bad setting NEWSCRAWL_DB='': must name the archive file"
    return None
