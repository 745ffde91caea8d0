"""CrawlReport: the `crawls` row, progress lines, the drift alarm, the final summary and the exit status."""

from __future__ import annotations

import contextlib
import json
import logging
import os
import time
from typing import IO, Any

from scrapy import signals
from scrapy.downloadermiddlewares.offsite import OffsiteMiddleware
from scrapy.exceptions import CloseSpider
from twisted.internet.task import LoopingCall

from newscrawl import statkeys
from newscrawl.archive import Archive
from newscrawl.errors import (
    ARCHIVE_FAILED,
    DESCRIPTIONS,
    ITEM_ERRORS,
    OFFSITE_REDIRECT,
    REDIRECT_LOOP,
    SPIDER_EXCEPTION,
    STORAGE_CAUSES,
    URL_TOO_LONG,
    WORKER_DIED,
    WORKER_RESTARTS,
    count_error,
    describe,
    error_causes,
    exception_cause,
    one_line,
)
from newscrawl.lock import EXIT_LOCKED, ArchiveLock, ArchiveLocked
from newscrawl.processing import STORED_KINDS

logger = logging.getLogger("newscrawl.report")
DRIFT_FIELDS = ("title", "lead", "body", "published_at")
EXIT_OK, EXIT_FAILED = 0, 1
SUMMARY_PREFIX = "newscrawl summary: "
"""How the one line with a run's verdict begins, in the log (or on stderr when the run could not start)."""
ARCHIVE_UNWRITABLE = "archive_unwritable"
"""The close reason of a crawl stopped before any request because its crawls row could not be written."""
ARCHIVE_LOCKED = "archive_locked"
"""The close reason of a library crawl stopped before any request because another run holds the archive."""
URLLENGTH_DROPPED = "urllength/request_ignored_count"
"""Scrapy's UrlLengthMiddleware drops over-long URLs silently, counting them under this stat only."""
SPIDER_EXCEPTIONS = "spider_exceptions/count"
"""Scrapy's count of exceptions raised by spider callbacks, which it only logs."""
PROGRESS_FD_ENV = "NEWSCRAWL_CLI_PROGRESS_FD"
"""Set by `newscrawl crawl` to a pipe's file descriptor: CrawlReport then writes its progress there as one JSON
object per line every PROGRESS_INTERVAL seconds, and the summary last, whatever LOG_LEVEL is (the command
draws the progress line on a terminal and prints the summary). Not a setting: it is the command's own channel."""
PROGRESS_INTERVAL = 0.5


def storage_problem(exc: BaseException, db_path: str) -> str:
    """"read-only archive: OperationalError: attempt to write a readonly database"."""
    cause = exception_cause(exc, db_path)
    return f"{DESCRIPTIONS.get(cause, cause)}: {one_line(exc)}"


def archive_write_problem(db_path: str) -> str | None:
    """Why the archive cannot take a write (read-only file or folder, ...), or None: checked before a crawl
    starts, so a run that could store nothing makes no request."""
    try:
        with Archive(db_path) as archive:
            # SQLite opens a read-only file read-only without a word and grants it the write lock: only a write
            # (undone here) shows whether the file takes one
            archive.db.execute("BEGIN IMMEDIATE")
            archive.db.execute(f"PRAGMA user_version = {archive.schema_version}")
            archive.db.execute("ROLLBACK")
    except Exception as exc:
        return storage_problem(exc, db_path)
    return None


class CrawlReport:
    def __init__(self, crawler: Any) -> None:
        self.crawler = crawler
        self.stats = crawler.stats
        settings = crawler.settings
        self.db_path = settings.get("NEWSCRAWL_DB")
        self.max_error_share = settings.getfloat("NEWSCRAWL_MAX_ERROR_SHARE")
        self.drift_share = settings.getfloat("NEWSCRAWL_DRIFT_SHARE")
        self.progress_every = settings.getint("NEWSCRAWL_PROGRESS_EVERY")
        self.crawl_id: int | None = None
        self.lock = ArchiveLock(self.db_path)
        """Held for the crawl unless this process already holds it (the crawl command takes it before the
        crawl starts, so that a locked or unusable archive stops the run before Scrapy does anything)."""
        self.started = time.monotonic()
        self.items = 0
        # only its should_follow() is used: the same offsite policy the downloader middleware applies
        self.offsite = OffsiteMiddleware(crawler.stats)
        self.offsite.crawler = crawler
        # Progress: requests counted when scheduled (retries and redirect hops too) and when they leave the
        # downloader (answered or failed), per kind; the originals (no retry, no redirect) make the total.
        self.articles_total = 0
        self.in_flight = {"article": 0, "listing": 0}
        self.articles_left = 0
        self.progress_out: IO[str] | None = None
        self.progress_loop: LoopingCall | None = None

    @classmethod
    def from_crawler(cls, crawler: Any) -> CrawlReport:
        ext = cls(crawler)
        crawler.signals.connect(ext.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(ext.spider_closed, signal=signals.spider_closed)
        crawler.signals.connect(ext.item_scraped, signal=signals.item_scraped)
        crawler.signals.connect(ext.request_scheduled, signal=signals.request_scheduled)
        crawler.signals.connect(ext.request_dropped, signal=signals.request_dropped)
        crawler.signals.connect(ext.request_left_downloader, signal=signals.request_left_downloader)
        return ext

    def spider_opened(self, spider: Any) -> None:
        try:
            self.lock.acquire()
        except ArchiveLocked as exc:
            if not self.lock.held_by_this_process():
                logger.error("newscrawl: %s", exc)
                self.stats.set_value(statkeys.EXIT_CODE, EXIT_LOCKED)
                raise CloseSpider(ARCHIVE_LOCKED) from None
        profile = getattr(spider, "profile", None)
        try:
            with Archive(self.db_path) as archive:
                self.crawl_id = archive.start_crawl(spider=spider.name, site=profile.name if profile else None,
                                                    start_url=getattr(spider, "start_url", None))
        except Exception as exc:  # read-only file or folder, full disk: nothing could be stored, so fetch nothing
            self.stats.set_value(ARCHIVE_FAILED, storage_problem(exc, self.db_path))
            raise CloseSpider(ARCHIVE_UNWRITABLE) from None
        self.stats.set_value(statkeys.CRAWL_ID, self.crawl_id)
        self._open_progress()

    def _open_progress(self) -> None:
        fd = os.environ.get(PROGRESS_FD_ENV)
        if not fd or not fd.isdigit():
            return
        try:
            self.progress_out = os.fdopen(int(fd), "w", buffering=1, encoding="utf-8")
        except OSError:  # not open in this process (a crawl started some other way with the variable set)
            return
        self.progress_loop = LoopingCall(self._send_progress)
        self.progress_loop.start(PROGRESS_INTERVAL, now=False)

    def _send(self, message: dict[str, Any]) -> None:
        if self.progress_out is None:
            return
        try:
            self.progress_out.write(json.dumps(message, ensure_ascii=False) + "\n")
        except (OSError, ValueError):  # the command went away: the crawl goes on, unreported
            self.progress_out = None

    def _send_progress(self) -> None:
        stored = {k.value: self._count(statkeys.items(k.value)) for k in STORED_KINDS}
        self._send({"pages": int(self.stats.get_value("downloader/response_count", 0) or 0),
                    "articles_done": self.articles_left, "articles_total": self.articles_total,
                    "listing_pending": self.in_flight["listing"] > 0, "elapsed": time.monotonic() - self.started,
                    **stored, "not_modified": self._count(statkeys.NOT_MODIFIED),
                    "errors": self._count(statkeys.ERRORS)})

    def _close_progress(self, summary: str) -> None:
        if self.progress_loop is not None and self.progress_loop.running:
            self.progress_loop.stop()
        self._send({"summary": summary})
        if self.progress_out is not None:
            with contextlib.suppress(OSError):
                self.progress_out.close()
            self.progress_out = None

    def _kind(self, request: Any) -> str | None:
        if self._is_article(request):
            return "article"
        spider = self.crawler.spider
        if request.callback is not None and request.callback == getattr(spider, "parse_listing", None):
            return "listing"
        return None

    def request_left_downloader(self, request: Any, spider: Any) -> None:
        kind = self._kind(request)
        if kind is not None:
            self.in_flight[kind] -= 1
            if kind == "article" and not request.meta.get("_newscrawl_hop"):
                self.articles_left += 1

    def record_finish(self, values: dict[str, Any]) -> None:
        """Finish this run's crawls row (a distributed worker sends it to the archiver instead)."""
        if self.crawl_id is not None:
            with Archive(self.db_path) as archive:
                archive.finish_crawl(self.crawl_id, values)

    def item_counts(self, values: dict[str, Any]) -> str:
        """What became of the run's articles, for the summary line (a distributed worker only knows what it queued:
        the archiver counts new, updated and unchanged)."""
        return (f"new={values['items_new']} updated={values['items_updated']} unchanged={values['items_unchanged']} "
                f"not_modified={values['not_modified']}")

    def destination(self) -> str:
        """Where this run's items went, for the summary line (a distributed worker names its Redis stream)."""
        return f"db={self.db_path}"

    def _is_article(self, request: Any) -> bool:
        spider = self.crawler.spider
        return request.callback is not None and request.callback == getattr(spider, "parse_article", None)

    def request_scheduled(self, request: Any, spider: Any) -> None:
        """Counts the request for the progress line. And: an article that redirects off-site is dropped by
        OffsiteMiddleware at scheduling, with no errback."""
        kind = self._kind(request)
        if kind is not None:
            self.in_flight[kind] += 1
            if kind == "article":
                if request.meta.get("redirect_urls") or request.meta.get("retry_times"):
                    request.meta["_newscrawl_hop"] = True  # the same article again: not one more to fetch
                else:
                    self.articles_total += 1
        if (self._is_article(request) and request.meta.get("redirect_urls") and not request.dont_filter
                and not request.meta.get("allow_offsite") and not self.offsite.should_follow(request, spider)):
            count_error(self.stats, OFFSITE_REDIRECT)
            logger.warning("Article %s redirects off-site to %s: not archived", request.meta["redirect_urls"][0],
                           request.url[:300])

    def request_dropped(self, request: Any, spider: Any) -> None:
        """Uncounts the request for the progress line. And: a redirect back to a URL already requested is dropped
        by the duplicate filter, with no errback."""
        kind = self._kind(request)
        if kind is not None:
            self.in_flight[kind] -= 1
            if kind == "article" and not request.meta.get("_newscrawl_hop"):
                self.articles_total -= 1
        if self._is_article(request) and request.url in request.meta.get("redirect_urls", ()):
            count_error(self.stats, REDIRECT_LOOP)
            logger.warning("Article %s redirects in a loop: not archived", request.meta["redirect_urls"][0])

    def item_scraped(self, item: Any, spider: Any) -> None:
        self.items += 1
        if self.progress_every and self.items % self.progress_every == 0:
            logger.info("progress: %s items, %s", self.items, self._counts_line())

    def _count(self, key: str) -> int:
        return int(self.stats.get_value(key, 0) or 0)

    def _counts_line(self) -> str:
        return ", ".join(f"{k.value} {self._count(statkeys.items(k.value))}" for k in STORED_KINDS) + \
            f", dropped {self._count(statkeys.DROPPED)}, errors {self._count(statkeys.ERRORS)}"

    def _stored(self) -> int:
        return sum(self._count(statkeys.items(k.value)) for k in STORED_KINDS)

    def drift(self, spider: Any) -> dict[str, float]:
        """Share of articles whose field came from a layer other than the profile, per field over the threshold."""
        if getattr(spider, "profile", None) is None:
            return {}
        stored = self._stored()
        if not stored:
            return {}
        found = {}
        for name in DRIFT_FIELDS:
            share = 1 - self._count(statkeys.layer(name, "profile")) / stored
            if share > self.drift_share:
                found[name] = round(share, 3)
        return found

    def verdict(self, reason: str) -> tuple[str, int, str | None]:
        """Status, exit code and the reason of a run that did not go well, naming the error causes."""
        fetched = self._count(statkeys.ARTICLES_FETCHED) + self._count(statkeys.NOT_MODIFIED)
        errors = self._count(statkeys.ERRORS)
        request_errors = errors - int(self.stats.get_value(ITEM_ERRORS, 0) or 0)
        stored = self._stored() + self._count(statkeys.NOT_MODIFIED)
        attempted = fetched + request_errors
        share = errors / attempted if attempted else 0.0
        self.stats.set_value(statkeys.ERROR_SHARE, round(share, 3))
        causes = error_causes(self.stats)
        storage = {cause: n for cause, n in causes.items() if cause in STORAGE_CAUSES}
        archive_failed = self.stats.get_value(ARCHIVE_FAILED)
        start_failed = self.stats.get_value(statkeys.START_FAILED)
        if archive_failed:
            return "failed", EXIT_FAILED, f"archive cannot be written ({archive_failed})"
        if storage:
            return "failed", EXIT_FAILED, (f"{sum(storage.values())} of {fetched} fetched articles not stored: "
                                           f"{describe(storage)}")
        if start_failed:
            return "failed", EXIT_FAILED, f"start page unusable ({start_failed})"
        if reason == WORKER_DIED:
            deaths = int(self.stats.get_value(WORKER_RESTARTS, 0) or 0) + 1
            return "failed", EXIT_FAILED, f"extraction worker died {deaths} times; errors: {describe(causes)}"
        if reason != "finished":
            return "interrupted", EXIT_FAILED, f"crawl stopped early ({reason})"
        if not self._count(statkeys.LISTING_PAGES):
            if causes.get(SPIDER_EXCEPTION):
                return "failed", EXIT_FAILED, "start page could not be parsed (exception in the spider; see the log)"
            why = " (URL longer than URLLENGTH_LIMIT)" if causes.get(URL_TOO_LONG) else ""
            return "failed", EXIT_FAILED, f"start page never fetched{why}"
        if attempted and not stored:
            return "failed", EXIT_FAILED, (f"no article stored ({attempted} attempted, {errors} errors"
                                           + (f": {describe(causes)})" if causes else ")"))
        if attempted and share > self.max_error_share:
            return "failed", EXIT_FAILED, (f"error share {share:.0%} over NEWSCRAWL_MAX_ERROR_SHARE "
                                           f"({self.max_error_share:g}): {errors} errors: {describe(causes)}")
        return "ok", EXIT_OK, None

    def spider_closed(self, spider: Any, reason: str) -> None:
        if reason == ARCHIVE_LOCKED:  # another run's archive: nothing of it is touched, not even its crawls row
            self._close_progress(f"{SUMMARY_PREFIX}status=locked")
            return
        try:
            self._report(spider, reason)
        finally:
            self.lock.release()

    def _report(self, spider: Any, reason: str) -> None:
        dropped_urls = int(self.stats.get_value(URLLENGTH_DROPPED, 0) or 0)
        if dropped_urls:
            count_error(self.stats, URL_TOO_LONG, count=dropped_urls)
        raised = int(self.stats.get_value(SPIDER_EXCEPTIONS, 0) or 0)
        if raised:  # a listing page whose parsing raised leaves its articles unfetched: never an ok run by itself
            count_error(self.stats, SPIDER_EXCEPTION, count=raised)
        status, exit_code, why = self.verdict(reason)
        drift = self.drift(spider)
        duration = time.monotonic() - self.started
        if drift:
            profile = spider.profile
            logger.warning("DRIFT: site profile %r (%s) no longer matches: %s filled by fallback layers on %s",
                           profile.name, profile.path, ", ".join(drift),
                           ", ".join(f"{v:.0%}" for v in drift.values()) + " of articles")
        drops = {k.rsplit("/", 1)[1]: v for k, v in self.stats.get_stats().items()
                 if k.startswith(statkeys.DROPPED + "/")}
        values = {
            "status": status, "exit_code": exit_code, "reason": why,
            "requests": int(self.stats.get_value("downloader/request_count", 0) or 0),
            "pages_fetched": int(self.stats.get_value("downloader/response_count", 0) or 0),
            "not_modified": self._count(statkeys.NOT_MODIFIED),
            **{f"items_{k.value}": self._count(statkeys.items(k.value)) for k in STORED_KINDS},
            "items_dropped": self._count(statkeys.DROPPED),
            "drop_reasons": drops, "errors": self._count(statkeys.ERRORS), "error_causes": error_causes(self.stats),
            "error_share": self.stats.get_value(statkeys.ERROR_SHARE), "drift": drift or None,
            "duration_s": round(duration, 2),
        }
        try:
            self.record_finish(values)
        except Exception as exc:  # the verdict still reaches the log and the exit code
            status, exit_code = "failed", EXIT_FAILED
            why = "; ".join(filter(None, [why, f"crawls row not written: {one_line(exc)}"]))
        self.stats.set_value(statkeys.EXIT_CODE, exit_code)
        restarts = int(self.stats.get_value(WORKER_RESTARTS, 0) or 0)
        summary = (f"{SUMMARY_PREFIX}status={status} {self.item_counts(values)} "
                   f"dropped={values['items_dropped']} errors={values['errors']} duration={duration:.1f}s "
                   f"{self.destination()}" + (f" worker_restarts={restarts}" if restarts else "")
                   + (f" reason={why}" if why else ""))
        # One line per run, at INFO for a run that went well and at ERROR for one that did not: at
        # LOG_LEVEL=WARNING (or ERROR) an ok run is silent and only a failed one is logged, as cron mail wants.
        (logger.error if exit_code else logger.info)(summary)
        self._close_progress(summary)
