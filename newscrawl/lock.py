"""One run per archive: an flock on `<db>.lock`, released by the kernel however the process ends."""

from __future__ import annotations

import fcntl
import os
import time
from collections.abc import Callable
from pathlib import Path

EXIT_LOCKED = 75
WAIT_POLL_SECONDS = 0.2
_held: dict[str, int] = {}


class ArchiveLocked(RuntimeError):
    """Another process is crawling into the same archive."""


def lock_path(db_path: str | Path) -> Path:
    return Path(f"{Path(db_path).resolve()}.lock")


def acquire(db_path: str | Path, *, wait: float = 0, on_wait: Callable[[str], None] | None = None) -> None:
    """Take the archive's lock for this process (re-entrant); raise ArchiveLocked if another process has it.

    With `wait` (seconds; float("inf") for as long as it takes) keep trying that long first, calling
    on_wait(holder pid) once when the wait begins.
    """
    path = lock_path(db_path)
    key = str(path)
    if key in _held:
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    deadline = time.monotonic() + wait
    waiting = False
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            break
        except BlockingIOError:
            holder = os.pread(fd, 64, 0).decode(errors="replace").strip() or "unknown"
            if time.monotonic() >= deadline:
                os.close(fd)
                raise ArchiveLocked(f"another newscrawl run (pid {holder}) is writing to {Path(db_path)}; "
                                    f"exiting without touching it") from None
            if not waiting and on_wait is not None:
                on_wait(holder)
            waiting = True
            # Polling rather than a blocking flock, so the wait can end at a deadline.
            time.sleep(WAIT_POLL_SECONDS)
    os.ftruncate(fd, 0)
    os.pwrite(fd, str(os.getpid()).encode(), 0)
    _held[key] = fd


def release(db_path: str | Path) -> None:
    fd = _held.pop(str(lock_path(db_path)), None)
    if fd is not None:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)
