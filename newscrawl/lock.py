"""One run per archive: an flock on `<db>.lock`, released by the kernel however the process ends."""

from __future__ import annotations

import fcntl
import os
import time
from collections.abc import Callable
from pathlib import Path

EXIT_LOCKED = 75
WAIT_POLL_SECONDS = 0.2


class ArchiveLocked(RuntimeError):
    """Another process is crawling into the same archive."""


def lock_path(db_path: str | Path) -> Path:
    return Path(f"{Path(db_path).resolve()}.lock")


class ArchiveLock:
    """The lock of one archive, held by this object from acquire() to release() (or the end of a `with`).

    flock locks belong to an open file: two objects in one process exclude each other like two processes, so
    whoever holds the lock for a run must be the one object that releases it."""

    def __init__(self, db_path: str | Path) -> None:
        self.db_path = Path(db_path)
        self.path = lock_path(db_path)
        self._fd: int | None = None

    @property
    def held(self) -> bool:
        return self._fd is not None

    def acquire(self, *, wait: float = 0, on_wait: Callable[[str], None] | None = None) -> ArchiveLock:
        """Take the lock; raise ArchiveLocked if another holder has it.

        With `wait` (seconds; float("inf") for as long as it takes) keep trying that long first, calling
        on_wait(holder pid) once when the wait begins.
        """
        if self._fd is not None:
            return self
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
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
                    raise ArchiveLocked(f"another newscrawl run (pid {holder}) is writing to {self.db_path}; "
                                        f"exiting without touching it") from None
                if not waiting and on_wait is not None:
                    on_wait(holder)
                waiting = True
                # Polling rather than a blocking flock, so the wait can end at a deadline.
                time.sleep(WAIT_POLL_SECONDS)
        os.ftruncate(fd, 0)
        os.pwrite(fd, str(os.getpid()).encode(), 0)
        self._fd = fd
        return self

    def held_by_this_process(self) -> bool:
        """Whether this process holds the lock through another ArchiveLock (the crawl command's, when a crawl's
        extension looks): the file names its holder's pid, written only once the flock is held."""
        try:
            return self.path.read_text().strip() == str(os.getpid())
        except OSError:
            return False

    def release(self) -> None:
        fd, self._fd = self._fd, None
        if fd is not None:
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)

    def __enter__(self) -> ArchiveLock:
        return self.acquire()

    def __exit__(self, *exc: object) -> None:
        self.release()


def acquire(db_path: str | Path, *, wait: float = 0, on_wait: Callable[[str], None] | None = None) -> ArchiveLock:
    """A held ArchiveLock on db_path (see ArchiveLock.acquire); release it with its release()."""
    return ArchiveLock(db_path).acquire(wait=wait, on_wait=on_wait)
