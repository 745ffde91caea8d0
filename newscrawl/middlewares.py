"""Downloader middlewares: one response can never be larger than NEWSCRAWL_MAX_PAGE_BYTES, a server that
asks us to wait (429/503 with Retry-After) is left alone for that long, and a page that cannot hold a meta refresh
is not decoded to look for one.

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
from scrapy.downloadermiddlewares.redirect import MetaRefreshMiddleware
from scrapy.downloadermiddlewares.retry import RetryMiddleware
from scrapy.exceptions import DownloadCancelledError, IgnoreRequest
from scrapy.http import HtmlResponse, Request, Response
from w3lib.encoding import html_body_declared_encoding, http_content_type_encoding, read_bom

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


META_REFRESH_CHARS = 4096
"""Scrapy's get_meta_refresh() reads response.text[0:4096]."""
ASCII_SAFE_ENCODINGS = frozenset({"utf-8", "ascii", "latin-1", "iso8859-1", "iso8859-2", "iso8859-5", "iso8859-9",
                                  "iso8859-15", "cp1250", "cp1251", "cp1252", "cp1254", "cp1257", "koi8-r", "koi8-u"})
"""Codec names (w3lib's, after its resolve) of encodings that write every ASCII character as its own ASCII byte and
no other character with ASCII bytes: in them the text "http-equiv", in any case, is in the decoded text only where
those bytes are in the body (UTF-8 and the single-byte encodings Uzbek and Russian sites use)."""


def may_hold_meta_refresh(response: HtmlResponse) -> bool:
    """False only when the first META_REFRESH_CHARS characters of the page certainly hold no
    <meta http-equiv=refresh>: its declared encoding (BOM, then Content-Type, then <meta charset>, TextResponse's
    own order) is ASCII-safe and the bytes those characters can take hold no "http-equiv" in any case (an attribute
    name, which HTML never entity-encodes)."""
    if getattr(response, "_encoding", None):  # built with an explicit encoding (not a download): Scrapy decides
        return True
    encoding = (read_bom(response.body)[0]
                or http_content_type_encoding((response.headers.get(b"Content-Type") or b"").decode("latin-1"))
                or html_body_declared_encoding(response.body))
    if encoding is None or encoding not in ASCII_SAFE_ENCODINGS:
        return True
    most_bytes = META_REFRESH_CHARS * (4 if encoding == "utf-8" else 1) + 4  # and a byte-order mark before them
    return b"http-equiv" in response.body[:most_bytes].lower()


class LeanMetaRefreshMiddleware(MetaRefreshMiddleware):
    """Scrapy's MetaRefreshMiddleware, minus its cost on pages without a meta refresh: it decodes every HTML
    response whole (response.text, ~0.12 ms of the crawl process's CPU for a 45 KB page, which the article's
    extraction decodes again in its worker) to look at the first 4096 characters. A page that cannot hold one
    there (may_hold_meta_refresh) is passed on as it is; any other goes through Scrapy's own code."""

    def process_response(self, request: Request, response: Response, spider: Any = None) -> Request | Response:
        if isinstance(response, HtmlResponse) and not may_hold_meta_refresh(response):
            return response
        return super().process_response(request, response)
