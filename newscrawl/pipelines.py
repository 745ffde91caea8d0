"""The item pipeline: each fetched article goes through extract -> validate -> archive (newscrawl.processing),
in a worker process by default; drops are counted by reason, outcomes and extraction layers go to the stats."""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor
from typing import Any

from scrapy.exceptions import DropItem

from newscrawl.lock import acquire
from newscrawl.processing import ItemProcessor, Outcome, handle_in_worker, start_worker

logger = logging.getLogger(__name__)


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

    @classmethod
    def from_crawler(cls, crawler: Any) -> ArchivePipeline:
        return cls(crawler)

    def open_spider(self, spider: Any = None) -> None:
        acquire(self.db_path)
        profile = getattr(spider or self.crawler.spider, "profile", None)
        args = (self.db_path, profile.path if profile else None, self.store_raw, self.max_body_chars)
        if self.in_worker:
            self.executor = ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn"),
                                                initializer=start_worker, initargs=(*args, os.getpid()))
            self.executor.submit(os.getpid)  # start the worker now, while the first listing page downloads
        else:
            self.processor = ItemProcessor(*args)

    def close_spider(self, spider: Any = None) -> None:
        if self.executor is not None:
            self.executor.shutdown(wait=True)
        if self.processor is not None:
            self.processor.close()

    async def process_item(self, item: Any) -> Any:
        if self.executor is not None:
            outcome = await asyncio.wrap_future(self.executor.submit(handle_in_worker, item))
        else:
            assert self.processor is not None
            outcome = self.processor.handle(item)
        self.record(outcome)
        return item

    def record(self, outcome: Outcome) -> None:
        stats = self.stats
        if outcome.extraction_error:
            logger.error("Extraction failed for %s: %s", outcome.url, outcome.extraction_error)
            stats.inc_value("newscrawl/extraction_failed")
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
