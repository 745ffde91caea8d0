"""The one entry point for article extraction, used by the spider, `newscrawl extract` and `newscrawl reparse`."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from newscrawl.pages.article import ListingHint, extract_page
from newscrawl.pages.text import decode_page
from newscrawl.sites import Profile, resolve_profile

__all__ = ["ListingHint", "extract_article"]


def extract_article(html: bytes | str, url: str, fetched_at: datetime | None = None,
                    profile: Profile | str | None = None, hint: ListingHint | None = None,
                    content_type: str | None = None) -> dict[str, Any]:
    """Every archive field of an article page, plus `extraction` (the layer behind each field) and `problems`.

    Bytes are decoded by the HTTP charset (content_type), the BOM or <meta charset>, else by detection.
    """
    text, utf8 = decode_page(html, content_type)
    return extract_page(text, url, fetched_at, resolve_profile(profile, url), hint, utf8).as_dict()
