"""Error causes: the names a counted error is filed under, and how an exception or a failed request maps to one.

Every counted error increments `newscrawl/errors` and `newscrawl/errors/<cause>` (count_error). Errors on items
that were fetched but could not be stored also increment ITEM_ERRORS, so the verdict can tell "requests that
failed" from "fetched articles that were lost" without counting an article twice.
"""

from __future__ import annotations

import errno
import os
import resource
import sqlite3
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import Any

from newscrawl.statkeys import ARCHIVE_FAILED, ERRORS, ITEM_ERRORS, WORKER_RESTARTS  # noqa: F401 (re-exported)

# storage: the archive cannot take writes; one of these fails the run whatever the error share
DISK_FULL = "disk_full"
READ_ONLY = "read_only"
IO_ERROR = "io_error"
CORRUPT = "corrupt"
STORAGE_CAUSES = frozenset({DISK_FULL, READ_ONLY, IO_ERROR, CORRUPT})
# the rest of the item chain
DATABASE_LOCKED = "database_locked"
WORKER_DIED = "worker_died"
EXTRACTION_FAILED = "extraction_failed"
PROCESSING_FAILED = "processing_failed"
# requests
REDIRECT_LOOP = "redirect_loop"
OFFSITE_REDIRECT = "offsite_redirect"
URL_TOO_LONG = "url_too_long"
TIMEOUT = "timeout"
CONNECTION_REFUSED = "connection_refused"
DNS_ERROR = "dns_error"
REQUEST_FAILED = "request_failed"
SPIDER_EXCEPTION = "spider_exception"
"""A callback of the spider raised (a bug, or input it cannot handle): what that page led to is missing."""
REDIS_UNAVAILABLE = "redis_unavailable"
"""A distributed worker could not hand an item to Redis within NEWSCRAWL_REDIS_OUTAGE_SECONDS (docs/distributed.md)."""

DESCRIPTIONS = {
    DISK_FULL: "disk full", READ_ONLY: "read-only archive", IO_ERROR: "disk I/O error", CORRUPT: "corrupt archive",
    DATABASE_LOCKED: "database locked", WORKER_DIED: "worker process died", EXTRACTION_FAILED: "extraction failed",
    PROCESSING_FAILED: "processing failed", REDIRECT_LOOP: "redirect loop", OFFSITE_REDIRECT: "off-site redirect",
    URL_TOO_LONG: "URL over URLLENGTH_LIMIT", SPIDER_EXCEPTION: "exception in the spider",
    REDIS_UNAVAILABLE: "Redis unavailable",
}

SCRAPY_MAX_REDIRECTS = "max redirections reached"
"""The message of the IgnoreRequest Scrapy's RedirectMiddleware raises at REDIRECT_MAX_TIMES."""


def http_cause(status: int) -> str:
    """The cause of an article that answered an HTTP error: "http_404"."""
    return f"http_{status}"


def count_error(stats: Any, cause: str, *, item: bool = False, count: int = 1) -> None:
    stats.inc_value(ERRORS, count)
    stats.inc_value(f"{ERRORS}/{cause}", count)
    if item:
        stats.inc_value(ITEM_ERRORS, count)


def error_causes(stats: Any) -> dict[str, int]:
    """Cause -> count, most frequent first."""
    prefix = ERRORS + "/"
    found = {k[len(prefix):]: int(v) for k, v in stats.get_stats().items() if k.startswith(prefix) and v}
    return dict(sorted(found.items(), key=lambda kv: (-kv[1], kv[0])))


def describe(causes: dict[str, int]) -> str:
    """"disk full (12), http_500 (1)"."""
    return ", ".join(f"{DESCRIPTIONS.get(cause, cause)} ({n})" for cause, n in causes.items())


def exception_cause(exc: BaseException, db_path: str | Path | None = None) -> str:
    """The cause an exception raised while extracting or storing an item is counted under.

    SQLite reports a write that found no room as SQLITE_FULL only when the write was partial; one refused
    outright (ENOSPC, EFBIG past RLIMIT_FSIZE) is a plain I/O error. Given the archive's path, an I/O error
    on a full file system or at the file size limit is counted as disk_full, which is what the operator must fix.
    """
    cause = _exception_cause(exc)
    if cause == IO_ERROR and db_path is not None and _no_room(Path(db_path)):
        return DISK_FULL
    return cause


NO_ROOM_MARGIN = 1 << 20
"""Less free space than this (1 MiB: a few SQLite pages and a WAL frame or two) counts as a full disk."""


def _no_room(db_path: Path) -> bool:
    try:
        fs = os.statvfs(db_path.parent)
        if fs.f_bavail * fs.f_frsize < NO_ROOM_MARGIN:
            return True
        limit = resource.getrlimit(resource.RLIMIT_FSIZE)[0]
        if limit == resource.RLIM_INFINITY:
            return False
        files = (db_path, Path(f"{db_path}-wal"), Path(f"{db_path}-journal"))
        return any(f.exists() and f.stat().st_size + NO_ROOM_MARGIN >= limit for f in files)
    except OSError:
        return False


def _exception_cause(exc: BaseException) -> str:
    if isinstance(exc, BrokenProcessPool):
        return WORKER_DIED
    if isinstance(exc, sqlite3.Error):
        # sqlite_errorname ("SQLITE_FULL", "SQLITE_READONLY_DBMOVED", ...) is exact where messages vary
        name = getattr(exc, "sqlite_errorname", "") or ""
        message = str(exc).lower()
        if name == "SQLITE_FULL" or "disk is full" in message:
            return DISK_FULL
        if name.startswith("SQLITE_READONLY") or "readonly" in message or name == "SQLITE_CANTOPEN":
            return READ_ONLY
        if name.startswith(("SQLITE_BUSY", "SQLITE_LOCKED")) or "locked" in message:
            return DATABASE_LOCKED
        if name.startswith("SQLITE_IOERR") or "i/o error" in message:
            return IO_ERROR
        if name in ("SQLITE_CORRUPT", "SQLITE_NOTADB") or "malformed" in message:
            return CORRUPT
        return PROCESSING_FAILED
    if isinstance(exc, OSError):
        if exc.errno in (errno.ENOSPC, errno.EFBIG, errno.EDQUOT):
            return DISK_FULL
        if exc.errno in (errno.EROFS, errno.EACCES, errno.EPERM):
            return READ_ONLY
        return IO_ERROR
    cause = getattr(exc, "__cause__", None)
    if cause is not None and cause is not exc:
        return _exception_cause(cause)
    return PROCESSING_FAILED


def one_line(exc: BaseException, limit: int = 300) -> str:
    text = " ".join(f"{type(exc).__name__}: {exc}".split())
    return text if len(text) <= limit else text[:limit] + "…"
