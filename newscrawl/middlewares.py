"""Downloader middlewares: one response can never be larger than NEWSCRAWL_MAX_PAGE_BYTES, and a server that
asks us to wait (429/503 with Retry-After) is left alone for that long.

Both build on Scrapy's own middlewares rather than replacing them: the size limit is Scrapy's DOWNLOAD_MAXSIZE
(set from NEWSCRAWL_MAX_PAGE_BYTES by the spider), enforced by Scrapy's download handler while the body arrives
and by its HttpCompressionMiddleware while it decompresses, 64 KiB at a time; we only give the two ways it
refuses a response one recognisable exception, so the spider can record the page as skipped.
"""

from __future__ import annotations

import asyncio
import logging
import time
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from typing import Any

from scrapy.downloadermiddlewares.httpcompression import HttpCompressionMiddleware
from scrapy.downloadermiddlewares.retry import RetryMiddleware
from scrapy.exceptions import DownloadCancelledError, IgnoreRequest
from scrapy.http import Request, Response

from newscrawl.statkeys import RETRY_AFTER_WAITS as STAT_RETRY_AFTER_WAITS

logger = logging.getLogger(__name__)

BACKOFF_STATUSES = frozenset({429, 503})
"""Statuses whose Retry-After we honour (RFC 9110 §10.2.3 names 503; RFC 6585 adds 429)."""
FIRST_BACKOFF_S = 1.0
"""Wait before the first retry of a 429/503 without Retry-After; doubled on each further retry."""
WAIT_STEP_S = 0.5
"""How often a waiting request checks whether the crawl is being stopped."""


class PageTooLarge(IgnoreRequest):
    """A response over NEWSCRAWL_MAX_PAGE_BYTES, as received or once decompressed; reading it was cut off."""

    def __init__(self, url: str, detail: str) -> None:
        super().__init__(f"{url}: {detail}")
        self.url = url
        self.detail = detail


class BoundedCompressionMiddleware(HttpCompressionMiddleware):
    """Scrapy's HttpCompressionMiddleware, whose refusals of over-size responses become PageTooLarge."""

    def process_response(self, request: Request, response: Response, spider: Any = None) -> Request | Response:
        try:
            return super().process_response(request, response)
        except IgnoreRequest as exc:  # Scrapy raises it here for one reason only: DOWNLOAD_MAXSIZE exceeded
            raise PageTooLarge(request.url, f"over NEWSCRAWL_MAX_PAGE_BYTES={self._max_size} once decompressed "
                                            f"({len(response.body)} bytes compressed)") from exc

    def process_exception(self, request: Request, exception: Exception) -> None:
        # The HTTP/1.1 download handler cancels a download for one reason only: DOWNLOAD_MAXSIZE exceeded, by the
        # announced Content-Length or by the bytes received so far.
        if isinstance(exception, DownloadCancelledError):
            limit = request.meta.get("download_maxsize", self._max_size)
            raise PageTooLarge(request.url, f"over NEWSCRAWL_MAX_PAGE_BYTES={limit} as received") from exception


def retry_after_seconds(value: str, now: datetime) -> float | None:
    """Seconds asked for by a Retry-After header (delay-seconds or an HTTP date), None when unreadable."""
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return max(0.0, (moment - now).total_seconds())


class RetryAfterMiddleware(RetryMiddleware):
    """Scrapy's RetryMiddleware, plus: after a 429 or 503, no request goes to that host (download slot) before
    the time its Retry-After asks for, at most NEWSCRAWL_MAX_RETRY_AFTER seconds (1, 2, 4 ... s without one)."""

    def __init__(self, settings: Any) -> None:
        super().__init__(settings)
        self.max_wait = settings.getfloat("NEWSCRAWL_MAX_RETRY_AFTER")
        self.resume_at: dict[str, float] = {}
        """Download slot -> time.monotonic() before which nothing is sent there."""

    def _slot(self, request: Request) -> str:
        engine = self.crawler.engine
        return engine.downloader.get_slot_key(request) if engine is not None else ""

    async def process_request(self, request: Request) -> None:
        slot = self._slot(request)
        while (left := self.resume_at.get(slot, 0.0) - time.monotonic()) > 0:
            if not self.crawler.crawling:  # stopping (Ctrl-C): do not make the stop wait, nor ignore the server
                raise IgnoreRequest(f"crawl stopping while waiting for Retry-After of {request.url}")
            await asyncio.sleep(min(left, WAIT_STEP_S))

    def process_response(self, request: Request, response: Response, spider: Any = None) -> Request | Response:
        if response.status in BACKOFF_STATUSES:  # retried or not, the server asked for a pause
            self.back_off(request, response)
        return super().process_response(request, response)

    def back_off(self, request: Request, response: Response) -> None:
        header = response.headers.get("Retry-After")
        asked = retry_after_seconds(header.decode("latin-1"), datetime.now(timezone.utc)) if header else None
        wait = asked if asked is not None else FIRST_BACKOFF_S * 2 ** request.meta.get("retry_times", 0)
        wait = min(wait, self.max_wait)
        slot = self._slot(request)
        self.resume_at[slot] = max(self.resume_at.get(slot, 0.0), time.monotonic() + wait)
        assert self.crawler.stats is not None
        self.crawler.stats.inc_value(STAT_RETRY_AFTER_WAITS)
        logger.info("%s answered HTTP %s%s: nothing more is sent to %s for %.1f s", request.url, response.status,
                    f" with Retry-After: {header.decode('latin-1')}" if header else "", slot, wait)
