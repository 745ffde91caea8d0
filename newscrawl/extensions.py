"""CrawlReport: the `crawls` row, progress lines, the drift alarm, the final summary and the exit status."""

from __future__ import annotations

import logging
import time
from typing import Any

from scrapy import signals

from newscrawl.archive import Archive
from newscrawl.lock import acquire, release

logger = logging.getLogger("newscrawl.report")
DRIFT_FIELDS = ("title", "lead", "body", "published_at")
EXIT_OK, EXIT_FAILED = 0, 1
FINISHED_EXIT_CODES: list[int] = []
"""Exit codes of the crawls this process finished, for the `crawl` command."""


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
        self.started = time.monotonic()
        self.items = 0

    @classmethod
    def from_crawler(cls, crawler: Any) -> CrawlReport:
        ext = cls(crawler)
        crawler.signals.connect(ext.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(ext.spider_closed, signal=signals.spider_closed)
        crawler.signals.connect(ext.item_scraped, signal=signals.item_scraped)
        return ext

    def spider_opened(self, spider: Any) -> None:
        acquire(self.db_path)
        profile = getattr(spider, "profile", None)
        with Archive(self.db_path) as archive:
            self.crawl_id = archive.start_crawl(spider=spider.name, site=profile.name if profile else None,
                                                start_url=getattr(spider, "start_url", None))
        self.stats.set_value("newscrawl/crawl_id", self.crawl_id)

    def item_scraped(self, item: Any, spider: Any) -> None:
        self.items += 1
        if self.progress_every and self.items % self.progress_every == 0:
            logger.info("progress: %s items, %s", self.items, self._counts_line())

    def _count(self, key: str) -> int:
        return int(self.stats.get_value(f"newscrawl/{key}", 0) or 0)

    def _counts_line(self) -> str:
        return ", ".join(f"{k} {self._count('items_' + k)}" for k in ("new", "updated", "unchanged")) + \
            f", dropped {self._count('dropped')}, errors {self._count('errors')}"

    def _stored(self) -> int:
        return self._count("items_new") + self._count("items_updated") + self._count("items_unchanged")

    def drift(self, spider: Any) -> dict[str, float]:
        """Share of articles whose field came from a layer other than the profile, per field over the threshold."""
        if getattr(spider, "profile", None) is None:
            return {}
        stored = self._stored()
        if not stored:
            return {}
        found = {}
        for name in DRIFT_FIELDS:
            share = 1 - self._count(f"layer/{name}/profile") / stored
            if share > self.drift_share:
                found[name] = round(share, 3)
        return found

    def verdict(self, reason: str) -> tuple[str, int, str | None]:
        fetched = self._count("articles_fetched") + self._count("not_modified")
        errors = self._count("errors")
        stored = self._stored() + self._count("not_modified")
        attempted = fetched + errors
        share = errors / attempted if attempted else 0.0
        self.stats.set_value("newscrawl/error_share", round(share, 3))
        start_failed = self.stats.get_value("newscrawl/start_failed")
        if start_failed:
            return "failed", EXIT_FAILED, f"start page unusable ({start_failed})"
        if reason != "finished":
            return "interrupted", EXIT_FAILED, f"crawl stopped early ({reason})"
        if attempted and not stored:
            return "failed", EXIT_FAILED, f"no article parsed ({attempted} attempted, {errors} errors)"
        if attempted and share > self.max_error_share:
            return "failed", EXIT_FAILED, f"error share {share:.0%} over NEWSCRAWL_MAX_ERROR_SHARE"
        return "ok", EXIT_OK, None

    def spider_closed(self, spider: Any, reason: str) -> None:
        status, exit_code, why = self.verdict(reason)
        drift = self.drift(spider)
        duration = time.monotonic() - self.started
        if drift:
            profile = spider.profile
            logger.warning("DRIFT: site profile %r (%s) no longer matches: %s filled by fallback layers on %s",
                           profile.name, profile.path, ", ".join(drift),
                           ", ".join(f"{v:.0%}" for v in drift.values()) + " of articles")
        drops = {k.rsplit("/", 1)[1]: v for k, v in self.stats.get_stats().items()
                 if k.startswith("newscrawl/dropped/")}
        values = {
            "status": status, "exit_code": exit_code, "reason": why,
            "requests": int(self.stats.get_value("downloader/request_count", 0) or 0),
            "pages_fetched": int(self.stats.get_value("downloader/response_count", 0) or 0),
            "not_modified": self._count("not_modified"),
            "items_new": self._count("items_new"), "items_updated": self._count("items_updated"),
            "items_unchanged": self._count("items_unchanged"), "items_dropped": self._count("dropped"),
            "drop_reasons": drops, "errors": self._count("errors"),
            "error_share": self.stats.get_value("newscrawl/error_share"), "drift": drift or None,
            "duration_s": round(duration, 2),
        }
        if self.crawl_id is not None:
            with Archive(self.db_path) as archive:
                archive.finish_crawl(self.crawl_id, values)
        self.stats.set_value("newscrawl/exit_code", exit_code)
        FINISHED_EXIT_CODES.append(exit_code)
        summary = (f"newscrawl summary: status={status} new={values['items_new']} updated={values['items_updated']} "
                   f"unchanged={values['items_unchanged']} not_modified={values['not_modified']} "
                   f"dropped={values['items_dropped']} errors={values['errors']} duration={duration:.1f}s "
                   f"db={self.db_path}" + (f" reason={why}" if why else ""))
        (logger.error if exit_code else logger.info)(summary)
        release(self.db_path)
