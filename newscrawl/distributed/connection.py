"""Redis connections and the one way every part waits out a Redis outage: back off, retry, give up only after
NEWSCRAWL_REDIS_OUTAGE_SECONDS (then the caller reports it; nothing crashes)."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

import redis
import redis.asyncio

logger = logging.getLogger(__name__)
T = TypeVar("T")
BACKOFF_FIRST, BACKOFF_MAX = 0.2, 5.0
# Short socket timeouts: a dead server is noticed in seconds, and the outage handling below takes over.
TIMEOUTS = {"socket_timeout": 10.0, "socket_connect_timeout": 5.0, "health_check_interval": 30}


class RedisUnavailable(RuntimeError):
    """Redis could not be reached for longer than the outage limit."""


def connect(url: str) -> redis.Redis:
    return redis.Redis.from_url(url, **TIMEOUTS)


def connect_async(url: str) -> redis.asyncio.Redis:
    return redis.asyncio.Redis.from_url(url, **TIMEOUTS)  # type: ignore[arg-type]


def describe(url: str) -> str:
    """The URL without a password, for messages."""
    if "@" in url:
        scheme, rest = url.split("://", 1) if "://" in url else ("redis", url)
        return f"{scheme}://***@{rest.split('@', 1)[1]}"
    return url


class Backoff:
    """Counts one outage: how long it has lasted and how long to sleep next."""

    def __init__(self, limit: float, what: str, on_outage: Callable[[], None] | None = None) -> None:
        self.limit = limit
        self.what = what
        self.on_outage = on_outage
        self.started: float | None = None
        self.delay = BACKOFF_FIRST

    def failed(self, exc: BaseException) -> float:
        """Record a failed attempt; the seconds to wait, or RedisUnavailable once the outage is over the limit."""
        now = time.monotonic()
        if self.started is None:
            self.started = now
            logger.warning("Redis unavailable (%s: %s): backing off and retrying for up to %gs", self.what,
                           exc, self.limit)
            if self.on_outage is not None:
                self.on_outage()
        if now - self.started > self.limit:
            raise RedisUnavailable(f"Redis unavailable for over {self.limit:g}s ({self.what}): {exc}") from exc
        delay, self.delay = self.delay, min(self.delay * 2, BACKOFF_MAX)
        return delay

    def succeeded(self) -> None:
        if self.started is not None:
            logger.warning("Redis is back after %.1fs (%s)", time.monotonic() - self.started, self.what)
        self.started, self.delay = None, BACKOFF_FIRST


def retrying(call: Callable[[], T], limit: float, what: str, on_outage: Callable[[], None] | None = None) -> T:
    """call(), retried with back-off (blocking) while Redis is unreachable, for up to `limit` seconds."""
    backoff = Backoff(limit, what, on_outage)
    while True:
        try:
            result = call()
        except (redis.ConnectionError, redis.TimeoutError, redis.exceptions.BusyLoadingError) as exc:
            time.sleep(backoff.failed(exc))
            continue
        backoff.succeeded()
        return result


async def retrying_async(call: Callable[[], Awaitable[T]], limit: float, what: str,
                         on_outage: Callable[[], None] | None = None) -> T:
    """retrying() for the asyncio client: the reactor keeps running while this waits."""
    backoff = Backoff(limit, what, on_outage)
    while True:
        try:
            result = await call()
        except (redis.ConnectionError, redis.TimeoutError, redis.exceptions.BusyLoadingError) as exc:
            await asyncio.sleep(backoff.failed(exc))
            continue
        backoff.succeeded()
        return result
