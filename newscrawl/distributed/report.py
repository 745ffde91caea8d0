"""CrawlReport for a distributed worker: the same verdict, progress and drift alarm, but the `crawls` row is the
archiver's to write. The worker sends a start message (before any item) and a finish message (after the last
one) on the item stream, so the archiver sees them in order; it never opens the archive or its lock."""

from __future__ import annotations

import logging
from itertools import chain
from typing import Any

from newscrawl import statkeys
from newscrawl.archive import utc_now
from newscrawl.distributed import keys
from newscrawl.distributed.connection import connect, describe, retrying
from newscrawl.distributed.messages import FINISH, START, encode_control
from newscrawl.distributed.pipeline import LEASE_LOST_REASON
from newscrawl.extensions import CrawlReport

logger = logging.getLogger("newscrawl.report")
FENCED_ADD = """
if redis.call('GET', KEYS[2]) ~= ARGV[1] then return 0 end
return redis.call('XADD', KEYS[1], '*', unpack(ARGV, 2))
"""


class RedisCrawlReport(CrawlReport):
    def __init__(self, crawler: Any) -> None:
        super().__init__(crawler)
        settings = crawler.settings
        self.run = settings.get("NEWSCRAWL_REDIS_RUN")
        self.outage = settings.getfloat("NEWSCRAWL_REDIS_OUTAGE_SECONDS")
        self.url = settings.get("NEWSCRAWL_REDIS_URL")
        self.client = connect(self.url)
        self.lease = keys.crawl_lease()
        self.fenced_add = self.client.register_script(FENCED_ADD)

    def _send_run_message(self, kind: str, data: dict[str, Any]) -> bool:
        """Add the run's start or finish to the stream; under a worker's lease only while it is still this crawl's
        (fencing): False when the lease was lost, and nothing was sent."""
        fields = encode_control(kind, self.run, data)
        if self.lease is None:
            retrying(lambda: self.client.xadd(keys.STREAM, fields),  # type: ignore[arg-type]
                     self.outage, f"sending the run's {kind} message")
            return True
        lease_key, holder = self.lease
        args: list[Any] = [holder, *chain.from_iterable(fields.items())]
        sent = retrying(lambda: self.fenced_add(keys=[keys.STREAM, lease_key], args=args), self.outage,
                        f"sending the run's {kind} message")
        if sent == 0:
            logger.error("Run %s: the site's lease is held by another worker now (this one stalled past it): its "
                         "%s message is not sent; the run is the other worker's to close", self.run, kind)
            return False
        return True

    def spider_opened(self, spider: Any) -> None:
        profile = getattr(spider, "profile", None)
        if not self._send_run_message(START, {"spider": spider.name, "site": profile.name if profile else None,
                                              "start_url": getattr(spider, "start_url", None),
                                              "started_at": utc_now()}):
            stop = getattr(spider, "stop_crawl", None)
            if stop is not None:
                stop(LEASE_LOST_REASON)
        self.stats.set_value(statkeys.CRAWL_ID, self.run)
        logger.info("Distributed worker: run %s, items go to the archiver through Redis", self.run)

    def record_finish(self, values: dict[str, Any]) -> None:
        # items_* counts are the archiver's (it knows what was new); it adds them to these values
        message = {k: v for k, v in values.items() if not k.startswith("items_") and k != "drop_reasons"}
        outages = self._count(statkeys.REDIS_OUTAGES)
        if outages:  # waited out, so not a failure; but the crawls row tells of it, as of any other disturbance
            note = f"Redis unavailable during the run, waited out ({outages} calls retried)"
            message["reason"] = "; ".join(filter(None, [values.get("reason"), note]))
        if not self._send_run_message(FINISH, message):
            return
        logger.info("Distributed worker: %s items queued for the archiver (run %s)",
                    self._count(statkeys.ITEMS_QUEUED), self.run)

    def item_counts(self, values: dict[str, Any]) -> str:
        """A worker cannot know which items were new (the archiver decides, and writes them into the crawls row): its
        summary says how many it queued instead of new=0 updated=0 unchanged=0."""
        return f"queued={self._count(statkeys.ITEMS_QUEUED)} not_modified={values['not_modified']}"

    def destination(self) -> str:
        """The summary names the stream the items went to (the worker never opens NEWSCRAWL_DB), no password."""
        return f"redis={describe(self.url)} stream={keys.STREAM}"

    def _stored(self) -> int:
        """For the verdict: items handed to the archiver (whether they were new is decided there)."""
        return self._count(statkeys.ITEMS_QUEUED)

    def spider_closed(self, spider: Any, reason: str) -> None:
        try:
            super().spider_closed(spider, reason)
        finally:
            self.client.close()
