"""One run per archive: an flock on `<db>.lock`, released by the kernel however the process ends."""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

EXIT_LOCKED = 75
_held: dict[str, int] = {}


class ArchiveLocked(RuntimeError):
    """Another process is crawling into the same archive."""


def lock_path(db_path: str | Path) -> Path:
    return Path(f"{Path(db_path).resolve()}.lock")


def acquire(db_path: str | Path) -> None:
    """Take the archive's lock for this process (re-entrant); raise ArchiveLocked if another process has it."""
    path = lock_path(db_path)
    key = str(path)
    if key in _held:
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        holder = os.pread(fd, 64, 0).decode(errors="replace").strip() or "unknown"
        os.close(fd)
        raise ArchiveLocked(f"another newscrawl run (pid {holder}) is writing to {Path(db_path)}; "
                            f"exiting without touching it") from None
    os.ftruncate(fd, 0)
    os.pwrite(fd, str(os.getpid()).encode(), 0)
    _held[key] = fd


def release(db_path: str | Path) -> None:
    fd = _held.pop(str(lock_path(db_path)), None)
    if fd is not None:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)
