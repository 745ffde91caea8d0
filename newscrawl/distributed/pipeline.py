"""The worker's item pipeline: instead of storing (ArchivePipeline), it appends each item, with its raw page, to
the Redis stream the archiver consumes. Back-pressure: while the backlog not yet archived (the stream's length:
the archiver deletes what it committed) is at NEWSCRAWL_REDIS_BACKLOG, the item waits, and Scrapy's own limit
on items in progress stops fetching; memory stays bounded however slow the archiver is."""

from __future__ import annotations

import asyncio
import logging
import time
from itertools import chain
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
ADD_WITHIN_BACKLOG = """
if KEYS[2] and redis.call('GET', KEYS[2]) ~= ARGV[2] then return -1 end
local length = redis.call('XLEN', KEYS[1])
if length >= tonumber(ARGV[1]) then return length end
return redis.call('XADD', KEYS[1], '*', unpack(ARGV, 3))
"""
"""XADD only while the stream is under the limit, else its length: checked and added in one step, so items in
progress together cannot all pass one check (they overshot the limit by their number), in one round trip.
With a lease (KEYS[2], ARGV[2] its holder: a crawl a worker started), -1 once the lease is no longer this crawl's:
fenced off, nothing added."""
LEASE_LOST = -1
LEASE_LOST_REASON = "lease_lost"
LEASE_LOST_STAT = "newscrawl/lease_lost"
"""Items refused because the lease was lost (a stat of the crawl's log; no crawls row is this run's to write)."""


class LeaseLost(RuntimeError):
    """This crawl's worker lost the site's lease to another worker: the run is not this crawl's any more."""


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
        self.lease = keys.crawl_lease()
        self.client: Any = None
        self.add: Any = None

    @classmethod
    def from_crawler(cls, crawler: Any) -> StreamPipeline:
        return cls(crawler)

    def open_spider(self, spider: Any = None) -> None:
        self.client = connect_async(self.url)
        self.add = self.client.register_script(ADD_WITHIN_BACKLOG)  # EVALSHA, loaded again after a Redis restart

    async def close_spider(self, spider: Any = None) -> None:
        if self.client is not None:
            await self.client.aclose()

    def _count_outage(self) -> None:
        self.stats.inc_value(statkeys.REDIS_OUTAGES)

    async def process_item(self, item: Any) -> Any:
        fields = encode_item(item, self.run, self.store_raw)
        try:
            await self._add_within_backlog(fields)
        except LeaseLost:
            stop = getattr(self.crawler.spider, "stop_crawl", None)
            if stop is not None and not self.stats.get_value(LEASE_LOST_STAT):
                logger.error("The site's lease is held by another worker now (this one stalled past it): stopping "
                             "the crawl; its items and finish are refused, the run is the other worker's to close")
                stop(LEASE_LOST_REASON)
            self.stats.inc_value(LEASE_LOST_STAT)
            raise DropItem(f"not queued (lease lost): {getattr(item, 'url', '?')}", log_level="INFO") from None
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

    async def _add_within_backlog(self, fields: dict[str, bytes]) -> None:
        """Add the entry once the archiver's backlog is under the limit; give up (RedisUnavailable) only when it has
        not shrunk for NEWSCRAWL_REDIS_OUTAGE_SECONDS (no archiver running)."""
        lease_keys, holder = ([keys.STREAM, self.lease[0]], self.lease[1]) if self.lease else ([keys.STREAM], "")
        args = [self.backlog, holder, *chain.from_iterable(fields.items())]
        waited = False
        progress = time.monotonic()
        smallest: int | None = None
        while True:
            answer = await retrying_async(lambda: self.add(keys=lease_keys, args=args), self.outage,
                                          "queueing an item", self._count_outage)
            if not isinstance(answer, int):  # the entry's id: added
                return
            if answer == LEASE_LOST:
                raise LeaseLost(holder)
            length = answer
            if not waited:
                waited = True
                self.stats.inc_value(statkeys.BACKLOG_WAITS)
                logger.info("Archiver backlog %s at NEWSCRAWL_REDIS_BACKLOG=%s: pausing", length, self.backlog)
            if smallest is None or length < smallest:
                smallest, progress = length, time.monotonic()
            elif time.monotonic() - progress > self.outage:
                raise RedisUnavailable(f"the archiver's backlog ({length}) has not shrunk for {self.outage:g}s: "
                                       "is an archiver running?")
            await asyncio.sleep(BACKLOG_POLL_SECONDS)
