"""The worker's item pipeline: instead of storing (ArchivePipeline), it appends each item, with its raw page, to
the Redis stream the archiver consumes. Back-pressure: while the backlog not yet archived (the stream's length:
the archiver deletes what it committed) is over NEWSCRAWL_REDIS_BACKLOG, the item waits, and Scrapy's own limit
on items in progress stops fetching; memory stays bounded however slow the archiver is."""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

from scrapy.exceptions import DropItem

from newscrawl import statkeys
from newscrawl.distributed import keys
from newscrawl.distributed.connection import RedisUnavailable, connect_async, retrying_async
from newscrawl.distributed.messages import encode_item
from newscrawl.errors import REDIS_UNAVAILABLE, count_error
from newscrawl.items import Article

logger = logging.getLogger(__name__)
BACKLOG_POLL_SECONDS = 0.2


class StreamPipeline:
    def __init__(self, crawler: Any) -> None:
        settings = crawler.settings
        self.crawler = crawler
        self.stats = crawler.stats
        self.url = settings.get("NEWSCRAWL_REDIS_URL")
        self.run = settings.get("NEWSCRAWL_REDIS_RUN")
        self.backlog = settings.getint("NEWSCRAWL_REDIS_BACKLOG")
        self.outage = settings.getfloat("NEWSCRAWL_REDIS_OUTAGE_SECONDS")
        self.store_raw = settings.getbool("NEWSCRAWL_STORE_RAW")
        self.client: Any = None

    @classmethod
    def from_crawler(cls, crawler: Any) -> StreamPipeline:
        return cls(crawler)

    def open_spider(self, spider: Any = None) -> None:
        self.client = connect_async(self.url)

    async def close_spider(self, spider: Any = None) -> None:
        if self.client is not None:
            await self.client.aclose()

    def _count_outage(self) -> None:
        self.stats.inc_value(statkeys.REDIS_OUTAGES)

    async def process_item(self, item: Any) -> Any:
        fields = encode_item(item, self.run, self.store_raw)
        try:
            await self._wait_for_room()
            await retrying_async(lambda: self.client.xadd(keys.STREAM, fields), self.outage, "queueing an item",
                                 self._count_outage)
        except RedisUnavailable as exc:
            count_error(self.stats, REDIS_UNAVAILABLE, item=True)
            stop = getattr(self.crawler.spider, "stop_crawl", None)
            if stop is not None:
                stop(statkeys.REDIS_UNAVAILABLE_REASON)
            raise DropItem(f"not queued ({REDIS_UNAVAILABLE}): {getattr(item, 'url', '?')}: {exc}",
                           log_level="ERROR") from None
        self.stats.inc_value(statkeys.ITEMS_QUEUED)
        if isinstance(item, Article):  # the layers feed CrawlReport's drift alarm, as ArchivePipeline's do
            for name, layer in item.extraction.items():
                self.stats.inc_value(statkeys.layer(name, getattr(layer, "value", layer)))
        return item

    async def _wait_for_room(self) -> None:
        """Wait while the archiver's backlog is over the limit; give up (RedisUnavailable) only when it has not
        shrunk for NEWSCRAWL_REDIS_OUTAGE_SECONDS (no archiver running)."""
        waited = False
        progress = time.monotonic()
        smallest: int | None = None
        while True:
            length = await retrying_async(lambda: self.client.xlen(keys.STREAM), self.outage, "reading the backlog",
                                          self._count_outage)
            if length <= self.backlog:
                return
            if not waited:
                waited = True
                self.stats.inc_value(statkeys.BACKLOG_WAITS)
                logger.info("Archiver backlog %s over NEWSCRAWL_REDIS_BACKLOG=%s: pausing", length, self.backlog)
            if smallest is None or length < smallest:
                smallest, progress = length, time.monotonic()
            elif time.monotonic() - progress > self.outage:
                raise RedisUnavailable(f"the archiver's backlog ({length}) has not shrunk for {self.outage:g}s: "
                                       "is an archiver running?")
            await asyncio.sleep(BACKLOG_POLL_SECONDS)
