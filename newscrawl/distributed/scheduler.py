"""scrapy-redis's scheduler (shared frontier: a request queue and a duplicate filter in Redis) with the three
things a newscrawl worker needs on top: keys scoped to one run (set by the add-on), which expire if the run dies
(a finished run deletes them), and a Redis outage waited out instead of crashing the crawl."""

from __future__ import annotations

import logging
import time
from typing import Any

import redis
from scrapy_redis.dupefilter import RFPDupeFilter
from scrapy_redis.queue import LifoQueue
from scrapy_redis.scheduler import Scheduler

from newscrawl import statkeys
from newscrawl.distributed.connection import Backoff, RedisUnavailable, retrying

logger = logging.getLogger(__name__)
RUN_KEY_TTL = 24 * 3600
"""Seconds a run's queue and duplicate filter outlive their last use: a killed run's keys disappear by
themselves (a finished run deletes them at once)."""
TTL_REFRESH_SECONDS = 60.0
REDIS_ERRORS = (redis.ConnectionError, redis.TimeoutError, redis.exceptions.BusyLoadingError)


class RunQueue(LifoQueue):
    """scrapy-redis's LIFO queue whose every push also sets the key's expiry, in the same round trip: Redis deletes
    an emptied list, and the push that creates it again would otherwise leave a key without expiry, kept for ever
    if the run is killed before the scheduler's periodic refresh."""

    def push(self, request: Any) -> None:
        with self.server.pipeline(transaction=False) as pipe:
            pipe.lpush(self.key, self._encode_request(request))
            pipe.expire(self.key, RUN_KEY_TTL)
            pipe.execute()


class RunDupeFilter(RFPDupeFilter):
    """scrapy-redis's duplicate filter whose every addition also sets the key's expiry, in the same round trip (the
    first one creates the key; a run killed before the scheduler's periodic refresh must not leave it for ever)."""

    def request_seen(self, request: Any) -> bool:
        with self.server.pipeline(transaction=False) as pipe:
            pipe.sadd(self.key, self.request_fingerprint(request))
            pipe.expire(self.key, RUN_KEY_TTL)
            added, _ = pipe.execute()
        return bool(added == 0)


class RunScheduler(Scheduler):
    outage = 600.0

    @classmethod
    def from_settings(cls, settings: Any) -> RunScheduler:
        cls.outage = settings.getfloat("NEWSCRAWL_REDIS_OUTAGE_SECONDS")
        # scrapy-redis pings Redis here and raises if it is down: a worker started during an outage waits
        scheduler: RunScheduler = retrying(lambda: super(RunScheduler, cls).from_settings(settings), cls.outage,
                                           "starting the scheduler")
        return scheduler

    def open(self, spider: Any) -> Any:
        self.backoff = Backoff(self.outage, "scheduler", self._count_outage)
        self.refreshed = 0.0
        return retrying(lambda: super(RunScheduler, self).open(spider), self.outage, "opening the run's queue")

    def _count_outage(self) -> None:
        if self.stats is not None:
            self.stats.inc_value(statkeys.REDIS_OUTAGES)

    def _give_up(self, exc: RedisUnavailable) -> None:
        logger.error("%s: stopping the crawl", exc)
        stop = getattr(self.spider, "stop_crawl", None)
        if stop is not None:
            stop(statkeys.REDIS_UNAVAILABLE_REASON)

    def enqueue_request(self, request: Any) -> bool:
        """scrapy-redis's enqueue (mark the request seen, then push it), with each step retried on its own while
        Redis is unreachable: retrying both as one step dropped the request when the mark had been written and the
        push failed (the retry found it 'seen'). A mark whose attempt failed may have been written before the
        connection broke, so after any failed attempt the request is pushed whatever the filter answers: a request
        fetched twice is harmless (the archive's upsert is idempotent), a lost listing page cuts the crawl short.
        Must not lose the request: waits (blocking) until Redis takes it, or gives the crawl up."""
        try:
            if not request.dont_filter:
                failed: list[BaseException] = []

                def mark() -> bool:
                    try:
                        return bool(self.df.request_seen(request))
                    except REDIS_ERRORS as exc:
                        failed.append(exc)
                        raise
                seen = retrying(mark, self.outage, "scheduling a request", self._count_outage)
                if seen and not failed:
                    self.df.log(request, self.spider)
                    return False
            if self.stats:
                self.stats.inc_value("scheduler/enqueued/redis")
            retrying(lambda: self.queue.push(request), self.outage, "scheduling a request", self._count_outage)
        except RedisUnavailable as exc:
            self._give_up(exc)
            return False
        return True

    def next_request(self) -> Any:
        try:
            self._refresh_ttl()
            request = super().next_request()
        except REDIS_ERRORS as exc:
            self._wait(exc)
            return None  # the engine asks again
        self.backoff.succeeded()
        return request

    def has_pending_requests(self) -> bool:
        try:
            return bool(super().has_pending_requests())
        except REDIS_ERRORS as exc:
            self._wait(exc)
            return True  # unknown: keep the crawl open until Redis answers or the outage limit passes

    def _wait(self, exc: BaseException) -> None:
        try:
            time.sleep(min(self.backoff.failed(exc), 1.0))
        except RedisUnavailable as gave_up:
            self._give_up(gave_up)

    def _refresh_ttl(self) -> None:
        """Keeps the keys of a run that pops for longer than RUN_KEY_TTL without pushing (pushes set it too)."""
        now = time.monotonic()
        if now - self.refreshed >= TTL_REFRESH_SECONDS:
            self.refreshed = now
            with self.server.pipeline(transaction=False) as pipe:
                pipe.expire(self.queue.key, RUN_KEY_TTL)
                pipe.expire(self.df.key, RUN_KEY_TTL)
                pipe.execute()

    def close(self, reason: str) -> None:
        try:
            super().close(reason)  # deletes the run's queue and duplicate filter
        except REDIS_ERRORS as exc:
            logger.warning("Could not delete the run's keys (%s): they expire in %ss", exc, RUN_KEY_TTL)
