"""The distributed crawl (docs/distributed.md): crawl workers on any machine share a frontier in Redis
(scrapy-redis's scheduler and duplicate filter, scoped to one run), extract in the worker and push each article
to a Redis Stream; one archiver (`newscrawl archiver`) is the only writer of the SQLite file and keeps the
incremental state the workers read in Redis. Off unless NEWSCRAWL_REDIS_URL is set."""

from __future__ import annotations

from typing import Any

URL_SETTING = "NEWSCRAWL_REDIS_URL"


def enabled(settings: Any) -> bool:
    """Whether this crawl is a distributed worker (NEWSCRAWL_REDIS_URL set)."""
    return bool(settings.get(URL_SETTING))
