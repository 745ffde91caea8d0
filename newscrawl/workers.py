"""Helpers for extraction worker processes started by a command (newscrawl reparse): Ctrl-C and orphaning.

(newscrawl.processing has the crawl's own copies of these two, kept beside its pool.)
"""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def sigint_blocked() -> Iterator[None]:
    """Start workers inside this: the signal mask survives fork and exec, so a worker cannot be killed by a
    Ctrl-C during its start-up, before start_worker() ignores SIGINT; this process gets that Ctrl-C when the mask
    is restored, so it is never lost. A pool starts workers on submit, so every submit is wrapped."""
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


def start_worker(parent_pid: int) -> None:
    """Initializer of a worker: Ctrl-C (sent to the whole process group) is the parent's to handle, and the
    worker leaves as soon as the parent is gone (killed with -9, it cannot close the task queue)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    threading.Thread(target=_exit_with_parent, args=(parent_pid,), daemon=True).start()


def _exit_with_parent(parent_pid: int) -> None:
    while os.getppid() == parent_pid:
        time.sleep(0.5)
    os._exit(0)
