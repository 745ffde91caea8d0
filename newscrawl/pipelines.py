"""The item pipeline: each fetched article goes through extract -> validate -> archive (newscrawl.processing),
in a worker process by default; drops are counted by reason, outcomes and extraction layers go to the stats,
and every item that could not be stored is a counted error with its cause (newscrawl.errors)."""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import os
import signal
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from typing import Any

from scrapy.exceptions import DropItem

from newscrawl.errors import (EXTRACTION_FAILED, PROCESSING_FAILED, WORKER_DIED, WORKER_RESTARTS, count_error,
                              exception_cause, one_line)
from newscrawl.lock import acquire
from newscrawl.processing import FAILED, ItemProcessor, Outcome, handle_in_worker, item_url, start_worker

logger = logging.getLogger(__name__)

MAX_WORKER_RESTARTS = 3
"""A worker that keeps dying (out of memory, killed by an operator) is replaced this many times per crawl;
after that the crawl stops, and fails with reason worker_died."""


@contextmanager
def _sigint_blocked() -> Iterator[None]:
    """The signal mask survives fork and exec: a worker started while SIGINT is blocked cannot be killed by a
    Ctrl-C during its start-up, before start_worker() ignores SIGINT; this process gets that Ctrl-C when the
    mask is restored, so it is never lost."""
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


class ArchivePipeline:
    """Archives every item as soon as it arrives, each in its own transaction."""

    def __init__(self, crawler: Any) -> None:
        settings = crawler.settings
        self.crawler = crawler
        self.stats = crawler.stats
        self.db_path = settings.get("NEWSCRAWL_DB")
        self.store_raw = settings.getbool("NEWSCRAWL_STORE_RAW")
        self.max_body_chars = settings.getint("NEWSCRAWL_MAX_BODY_CHARS")
        self.in_worker = settings.getint("NEWSCRAWL_EXTRACT_PROCESSES") > 0
        self.executor: ProcessPoolExecutor | None = None
        self.processor: ItemProcessor | None = None
        self.worker_args: tuple[Any, ...] = ()
        self.restarts = 0
        self.gave_up = False
        self.closing: asyncio.Future[None] | None = None  # held so the task is not garbage-collected mid-run

    @classmethod
    def from_crawler(cls, crawler: Any) -> ArchivePipeline:
        return cls(crawler)

    def open_spider(self, spider: Any = None) -> None:
        acquire(self.db_path)
        profile = getattr(spider or self.crawler.spider, "profile", None)
        args = (self.db_path, profile.path if profile else None, self.store_raw, self.max_body_chars)
        if self.in_worker:
            self.worker_args = (*args, os.getpid())
            self.executor = self._start_executor()
        else:
            self.processor = ItemProcessor(*args)

    def _start_executor(self) -> ProcessPoolExecutor:
        executor = ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn"),
                                       initializer=start_worker, initargs=self.worker_args)
        with _sigint_blocked():  # a pool starts its process on its first submit
            executor.submit(os.getpid)  # start the worker now, while the first listing page downloads
        return executor

    def close_spider(self, spider: Any = None) -> None:
        if self.executor is not None:
            self.executor.shutdown(wait=True)
        if self.processor is not None:
            self.processor.close()

    async def process_item(self, item: Any) -> Any:
        if self.executor is not None:
            outcome = await self._in_worker(item)
        else:
            assert self.processor is not None
            outcome = self.processor.handle(item)
        self.record(outcome)
        return item

    async def _in_worker(self, item: Any) -> Outcome:
        """The item's outcome from the worker; a dead worker is replaced and the item tried once more."""
        for attempt in (1, 2):
            executor = self.executor
            assert executor is not None
            try:
                return await asyncio.wrap_future(executor.submit(handle_in_worker, item))
            except BrokenProcessPool as exc:
                error: BaseException = exc
                if attempt == 1 and not self._replace_worker(executor):
                    break
            except Exception as exc:  # e.g. the item could not be pickled: this item's error, not the worker's
                return Outcome(FAILED, item_url(item), reason=exception_cause(exc), error=one_line(exc))
        return Outcome(FAILED, item_url(item), reason=WORKER_DIED, error=one_line(error))

    def _replace_worker(self, broken: ProcessPoolExecutor) -> bool:
        """Start a fresh worker unless another item already did (several items are in flight when one dies);
        False once MAX_WORKER_RESTARTS is used up."""
        if self.executor is not broken:
            return True
        if self.restarts >= MAX_WORKER_RESTARTS:
            if not self.gave_up:
                self.gave_up = True
                logger.error("The extraction worker died %s times: stopping the crawl", self.restarts + 1)
                self.closing = asyncio.ensure_future(self.crawler.engine.close_spider_async(reason=WORKER_DIED))
            return False
        self.restarts += 1
        self.stats.inc_value(WORKER_RESTARTS)
        logger.error("The extraction worker died: starting a new one (restart %s of %s); items in flight are "
                     "tried again", self.restarts, MAX_WORKER_RESTARTS)
        broken.shutdown(wait=False, cancel_futures=True)
        self.executor = self._start_executor()
        return True

    def record(self, outcome: Outcome) -> None:
        stats = self.stats
        if outcome.kind == FAILED:
            cause = outcome.reason or PROCESSING_FAILED
            count_error(stats, cause, item=True)
            raise DropItem(f"not stored ({cause}): {outcome.url}: {outcome.error}", log_level="ERROR")
        if outcome.extraction_error:
            logger.error("Extraction failed for %s: %s", outcome.url, outcome.extraction_error)
            count_error(stats, EXTRACTION_FAILED, item=True)
        if outcome.kind == "dropped":
            stats.inc_value("newscrawl/dropped")
            stats.inc_value(f"newscrawl/dropped/{outcome.reason}")
            raise DropItem(f"{outcome.reason}: {outcome.url} not archived")
        if outcome.kind in ("new", "updated", "unchanged"):
            stats.inc_value(f"newscrawl/items_{outcome.kind}")
            for name, layer in outcome.layers.items():
                stats.inc_value(f"newscrawl/layer/{name}/{layer}")
            if outcome.problems:
                stats.inc_value("newscrawl/items_incomplete")
