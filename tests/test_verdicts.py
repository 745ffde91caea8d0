"""The verdict of a run from its counts, and the cause each real storage failure is filed under.

Whole crawls with injected faults are in test_faults.py; these cover the arithmetic and the classification
with a real Scrapy crawler's stats, a real pipeline and real SQLite errors.
"""

from __future__ import annotations

import errno
import sqlite3
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path

import pytest
from scrapy.exceptions import DropItem
from scrapy.utils.test import get_crawler

import newscrawl.settings
from newscrawl.errors import (DATABASE_LOCKED, DISK_FULL, ERRORS, EXTRACTION_FAILED, ITEM_ERRORS, READ_ONLY,
                              WORKER_DIED, count_error, exception_cause)
from newscrawl.extensions import CrawlReport
from newscrawl.pipelines import ArchivePipeline
from newscrawl.processing import Outcome, OutcomeKind

SETTINGS = {k: getattr(newscrawl.settings, k) for k in dir(newscrawl.settings) if k.isupper()}


@pytest.fixture
def crawler(tmp_path: Path):
    return get_crawler(settings_dict={**SETTINGS, "NEWSCRAWL_DB": str(tmp_path / "news.db")})


def fetched(crawler, n: int) -> None:
    crawler.stats.inc_value("newscrawl/articles_fetched", n)
    crawler.stats.inc_value("newscrawl/listing_pages")


def extracted_with_error(crawler, pipeline, url: str, failed: bool) -> None:
    """What parse_article does with an extraction failure (counted, the card's article stored) and the pipeline
    with the stored article."""
    if failed:
        count_error(crawler.stats, EXTRACTION_FAILED, item=True)
    pipeline.record(Outcome(OutcomeKind.NEW, url))


def test_extraction_failures_are_errors_without_counting_the_article_twice(crawler) -> None:
    pipeline = ArchivePipeline(crawler)
    fetched(crawler, 10)
    for i in range(10):
        extracted_with_error(crawler, pipeline, f"u{i}", i < 4)
    assert crawler.stats.get_value(f"{ERRORS}/{EXTRACTION_FAILED}") == 4
    assert crawler.stats.get_value(ITEM_ERRORS) == 4
    assert CrawlReport(crawler).verdict("finished") == ("ok", 0, None), "4 of 10 is under the 0.5 share"
    for i in range(3):
        extracted_with_error(crawler, pipeline, f"v{i}", True)
    fetched(crawler, 3)
    status, code, why = CrawlReport(crawler).verdict("finished")
    assert (status, code) == ("failed", 1)
    assert why == "error share 54% over NEWSCRAWL_MAX_ERROR_SHARE (0.5): 7 errors: extraction failed (7)"


def test_an_item_that_could_not_be_stored_is_a_counted_drop_naming_its_cause(crawler) -> None:
    pipeline = ArchivePipeline(crawler)
    with pytest.raises(DropItem, match=r"not stored \(disk_full\): http://x/a/: OperationalError"):
        pipeline.record(Outcome(OutcomeKind.FAILED, "http://x/a/", reason=DISK_FULL,
                                error="OperationalError: disk full"))
    assert crawler.stats.get_value(f"{ERRORS}/{DISK_FULL}") == 1


def test_one_storage_error_fails_the_run_whatever_the_share(crawler) -> None:
    fetched(crawler, 40)
    count_error(crawler.stats, DISK_FULL, item=True)
    assert CrawlReport(crawler).verdict("finished") == (
        "failed", 1, "1 of 40 fetched articles not stored: disk full (1)")


def test_request_errors_and_item_errors_share_one_denominator(crawler) -> None:
    fetched(crawler, 6)  # 6 responses became items, 5 were stored
    crawler.stats.inc_value("newscrawl/items_new", 5)
    count_error(crawler.stats, "http_500", count=4)  # 4 requests never did
    count_error(crawler.stats, WORKER_DIED, item=True)
    report = CrawlReport(crawler)
    assert report.verdict("finished")[0] == "ok"
    assert crawler.stats.get_value("newscrawl/error_share") == 0.5, "5 errors of 10 article requests"


def test_an_interrupted_run_is_interrupted_and_a_run_that_stored_nothing_failed(crawler) -> None:
    fetched(crawler, 3)
    assert CrawlReport(crawler).verdict("shutdown") == ("interrupted", 1, "crawl stopped early (shutdown)")
    crawler.stats.inc_value("newscrawl/dropped", 3)
    assert CrawlReport(crawler).verdict("finished")[:2] == ("failed", 1)


def test_real_sqlite_failures_map_to_their_causes(tmp_path: Path) -> None:
    db = tmp_path / "x.db"
    holder = sqlite3.connect(db)
    holder.execute("CREATE TABLE t (x)")
    holder.commit()
    holder.execute("BEGIN IMMEDIATE")
    other = sqlite3.connect(db, timeout=0)
    with pytest.raises(sqlite3.OperationalError) as locked:
        other.execute("INSERT INTO t VALUES (1)")
    assert exception_cause(locked.value) == DATABASE_LOCKED
    holder.rollback()
    readonly = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    with pytest.raises(sqlite3.OperationalError) as refused:
        readonly.execute("INSERT INTO t VALUES (1)")
    assert exception_cause(refused.value) == READ_ONLY
    assert exception_cause(OSError(errno.ENOSPC, "No space left on device")) == DISK_FULL
    assert exception_cause(BrokenProcessPool("gone")) == WORKER_DIED
