"""Redis connections and the one way every part waits out a Redis outage: back off, retry, give up only after
NEWSCRAWL_REDIS_OUTAGE_SECONDS (then the caller reports it; nothing crashes), or, for the worker and the archiver,
as soon as they are told to stop (StopRequested)."""

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
STOP_POLL = 0.1
"""How often a back-off sleep looks at the caller's stop flag (set by its SIGTERM/SIGINT handler)."""
# Short socket timeouts: a dead server is noticed in seconds, and the outage handling below takes over.
TIMEOUTS = {"socket_timeout": 10.0, "socket_connect_timeout": 5.0, "health_check_interval": 30}


class RedisUnavailable(RuntimeError):
    """Redis could not be reached for longer than the outage limit."""


class StopRequested(RuntimeError):
    """The caller was told to stop (SIGTERM/SIGINT) while it waited out a Redis outage: the call was not made, and
    the caller ends as its stop says (the worker leaves its job to be reclaimed, the archiver acknowledges nothing
    more) instead of waiting for Redis to come back."""

    def __init__(self, what: str) -> None:
        super().__init__(f"stopped while Redis was unavailable ({what})")
        self.what = what


class RedisRefused(RuntimeError):
    """Redis cannot be used at all when a command starts: unreachable, or it refused the password. One line, no
    password in it; the command exits 2 (a running worker or archiver waits out an outage instead)."""


def check_reachable(url: str) -> None:
    """One PING before a command does anything else: RedisRefused with one clear line if Redis cannot be used."""
    client = redis.Redis.from_url(url, **{**TIMEOUTS, "health_check_interval": 0})
    try:
        client.ping()
    except redis.AuthenticationError as exc:  # a subclass of ConnectionError: first
        if "@" not in url and "password=" not in url:
            raise RedisRefused(f"Redis at {describe(url)} requires a password: none in the URL "
                               "(redis://:PASSWORD@HOST:PORT/DB)") from None
        raise RedisRefused(f"Redis at {describe(url)} refused the credentials in the URL ({_one_line(exc)})") \
            from None
    except redis.ResponseError as exc:  # NOAUTH from an older server, a database number it lacks, ...
        raise RedisRefused(f"Redis at {describe(url)} refused the connection ({_one_line(exc)})") from None
    except (redis.ConnectionError, redis.TimeoutError, OSError) as exc:
        raise RedisRefused(f"Redis at {describe(url)} is unreachable ({_one_line(exc)})") from None
    finally:
        client.close()


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split()) or type(exc).__name__


def connect(url: str) -> redis.Redis:
    return redis.Redis.from_url(url, **TIMEOUTS)


def connect_async(url: str) -> redis.asyncio.Redis:
    return redis.asyncio.Redis.from_url(url, **TIMEOUTS)  # type: ignore[arg-type]


def describe(url: str) -> str:
    """The URL without a password, for messages."""
    if "password=" in url:  # redis://HOST/0?password=...: the query goes
        url = url.split("?", 1)[0] + "?***"
    if "@" in url:
        scheme, rest = url.split("://", 1) if "://" in url else ("redis", url)
        return f"{scheme}://***@{rest.rsplit('@', 1)[1]}"
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


def retrying(call: Callable[[], T], limit: float, what: str, on_outage: Callable[[], None] | None = None,
             stopping: Callable[[], bool] | None = None) -> T:
    """call(), retried with back-off (blocking) while Redis is unreachable, for up to `limit` seconds; with
    `stopping`, StopRequested as soon as it answers True after a failed attempt (checked during the back-off)."""
    backoff = Backoff(limit, what, on_outage)
    while True:
        try:
            result = call()
        except (redis.ConnectionError, redis.TimeoutError, redis.exceptions.BusyLoadingError) as exc:
            delay = backoff.failed(exc)
            if stopping is None:
                time.sleep(delay)
            else:
                _back_off_unless_stopping(delay, stopping, what)
            continue
        backoff.succeeded()
        return result


def _back_off_unless_stopping(delay: float, stopping: Callable[[], bool], what: str) -> None:
    """Sleep `delay` seconds in short steps (a signal handler does not cut time.sleep short), or StopRequested."""
    deadline = time.monotonic() + delay
    while True:
        if stopping():
            logger.warning("Stopping while Redis is unavailable (%s): not waiting for it", what)
            raise StopRequested(what)
        left = deadline - time.monotonic()
        if left <= 0:
            return
        time.sleep(min(left, STOP_POLL))


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

