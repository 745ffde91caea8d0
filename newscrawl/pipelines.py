"""The item pipeline: validates and stores every item (newscrawl.processing.ArchiveWriter, the archive's single
writer); drops are counted by reason, outcomes and extraction layers go to the stats, and every item that could
not be stored is a counted error with its cause (newscrawl.errors). Items arrive extracted: the spider's
parse_article awaited extraction."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from scrapy.exceptions import DropItem

from newscrawl import statkeys
from newscrawl.errors import PROCESSING_FAILED, count_error
from newscrawl.processing import STORED_KINDS, Outcome, OutcomeKind, WriterProcess, WriterThread, \
    extract_processes, failed

logger = logging.getLogger(__name__)


MAX_BATCH = 64
"""Items stored in one transaction at most (a batch is whatever arrived while the previous one was written). A
batch travels to the writer process pickled whole, ~55 KB per article with its raw page, so it is held twice in
each process at once: 256 items peaked at ~28 MB in each, for no measurable gain over 64 in commits."""


class ArchivePipeline:
    """Archives items in batches, in the writer process (or, without extraction workers, on a writer thread):
    while one batch is written, the items that arrive wait, and all of them are the next batch, in one
    transaction. An item's outcome (stats, DropItem) is reported once its batch committed."""

    def __init__(self, crawler: Any) -> None:
        settings = crawler.settings
        self.stats = crawler.stats
        self.db_path = settings.get("NEWSCRAWL_DB")
        self.store_raw = settings.getbool("NEWSCRAWL_STORE_RAW")
        self.max_body_chars = settings.getint("NEWSCRAWL_MAX_BODY_CHARS")
        # with extraction workers, storage gets its own process too; with none, everything stays in this one
        self.in_process = extract_processes(settings) > 0
        self.writer: WriterProcess | WriterThread | None = None
        self.waiting: list[tuple[Any, asyncio.Future[Outcome]]] = []
        self.writing = False

    @classmethod
    def from_crawler(cls, crawler: Any) -> ArchivePipeline:
        return cls(crawler)

    def open_spider(self, spider: Any = None) -> None:
        kind = WriterProcess if self.in_process else WriterThread
        self.writer = kind(self.db_path, self.store_raw, self.max_body_chars)

    def close_spider(self, spider: Any = None) -> None:
        if self.writer is not None:
            self.writer.close()

    async def process_item(self, item: Any) -> Any:
        future: asyncio.Future[Outcome] = asyncio.get_running_loop().create_future()
        self.waiting.append((item, future))
        if not self.writing:
            self._write_next()
        self.record(await future)
        return item

    def _write_next(self) -> None:
        """Hand the waiting items to the writer as one batch (called in the reactor's thread only)."""
        assert self.writer is not None
        batch, self.waiting = self.waiting[:MAX_BATCH], self.waiting[MAX_BATCH:]
        self.writing = True
        done = asyncio.wrap_future(self.writer.write([item for item, _ in batch]))
        done.add_done_callback(lambda finished: self._written(batch, finished))

    def _written(self, batch: list[tuple[Any, asyncio.Future[Outcome]]], finished: asyncio.Future[list[Outcome]]
                 ) -> None:
        self.writing = False
        exc = finished.exception()
        outcomes = finished.result() if exc is None else [failed(item, exc, self.db_path) for item, _ in batch]
        for (_, future), outcome in zip(batch, outcomes, strict=True):
            if not future.done():
                future.set_result(outcome)
        if self.waiting:
            self._write_next()

    def record(self, outcome: Outcome) -> None:
        stats = self.stats
        if outcome.kind == OutcomeKind.FAILED:
            cause = outcome.reason or PROCESSING_FAILED
            count_error(stats, cause, item=True)
            raise DropItem(f"not stored ({cause}): {outcome.url}: {outcome.error}", log_level="ERROR")
        if outcome.kind == OutcomeKind.DROPPED:
            stats.inc_value(statkeys.DROPPED)
            stats.inc_value(statkeys.dropped(outcome.reason or "?"))
            raise DropItem(f"{outcome.reason}: {outcome.url} not archived")
        if outcome.kind in STORED_KINDS:
            stats.inc_value(statkeys.items(outcome.kind.value))
            for name, layer in outcome.layers.items():
                stats.inc_value(statkeys.layer(name, getattr(layer, "value", layer)))
            if outcome.problems:
                stats.inc_value(statkeys.ITEMS_INCOMPLETE)
