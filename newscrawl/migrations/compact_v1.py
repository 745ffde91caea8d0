"""FROZEN: what migration 0010_compact needs, as it was at schema version 10. Never edit."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

TASHKENT = timezone(timedelta(hours=5))
# How every published_at is stored from version 10 on: ISO 8601 in Tashkent time, so text order is time order.
STORED_FORM = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?\+05:00")

# The articles columns of schema version 9, in their order on disk (the view articles_full shows them so).
ARTICLE_COLUMNS_V9 = ("id", "url", "canonical_url", "title", "lead", "body", "published_at", "published_text",
                      "modified_at", "fetched_at", "category", "author", "image_url", "language", "tags",
                      "published_precision", "modified_text", "script", "extraction", "problems", "content_hash",
                      "first_seen_at", "last_seen_at", "last_changed_at", "etag", "last_modified", "category_key")
RELATED_FIELDS_V9 = ("position", "url", "title", "category", "published_at", "published_precision", "published_text",
                     "lead", "image_url")


def tashkent_iso(value: str | None) -> str | None:
    """A stored time as ISO 8601 in +05:00 (naive values are Tashkent time); unreadable text is kept as it is."""
    if value is None or STORED_FORM.fullmatch(value):
        return value
    try:
        moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return value
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=TASHKENT)
    return moment.astimezone(TASHKENT).isoformat()
