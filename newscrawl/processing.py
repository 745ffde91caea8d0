"""What happens to a fetched article: extraction (ExtractionPool, awaited by the spider's parse_article) and then
validation and storage (ArchiveWriter, the archive's single writer, fed batches by the archive pipeline).

Extraction is CPU-bound HTML parsing, so it runs in NEWSCRAWL_EXTRACT_PROCESSES worker processes (0: in the
crawling process): the reactor keeps fetching while workers extract. Workers only extract; they never open the
archive, so several of them (or, later, extraction on other machines) still leave one writer. The writer runs in
its own process (WriterProcess) when there are workers, else on a thread of the crawling process (WriterThread).
"""

from __future__ import annotations

import asyncio
import ctypes
import logging
import multiprocessing
import os
import signal
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor, ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import Enum
from typing import TYPE_CHECKING, Any

from newscrawl.archive import Archive
from newscrawl.arguments import AUTO, setting_value
from newscrawl.errors import WORKER_DIED, exception_cause, one_line
from newscrawl.items import SKIP_BODY_TOO_LONG, Article, FetchedArticle, MissingPage, NotModified, Problem, \
    ProblemCode, SkippedPage
from newscrawl.pages.layers import Layer
from newscrawl.statkeys import WORKER_RESTARTS

# The writer process imports this module too, and needs none of the extraction (parsel, lxml, dateparser,
# charset_normalizer: ~13 MB of its peak of ~80): the extraction side imports it where it is used.
if TYPE_CHECKING:
    from newscrawl.sites import Profile

logger = logging.getLogger(__name__)

REQUIRED = ("url", "title")
MAX_WORKER_RESTARTS = 3
"""A worker that keeps dying (out of memory, killed by an operator) is replaced this many times per crawl;
after that the crawl stops, and fails with reason worker_died."""


class OutcomeKind(str, Enum):
    """What became of one item in the archive pipeline; the stored kinds are also upsert_article()'s answers."""

    NEW = "new"
    UPDATED = "updated"
    UNCHANGED = "unchanged"
    NOT_MODIFIED = "not_modified"
    MISSING = "missing"
    SKIPPED = "skipped"
    DROPPED = "dropped"
    FAILED = "failed"
    """Could not be stored: the error cause is in Outcome.reason."""


STORED_KINDS = (OutcomeKind.NEW, OutcomeKind.UPDATED, OutcomeKind.UNCHANGED)


@dataclass(frozen=True)
class Outcome:
    kind: OutcomeKind
    url: str
    reason: str | None = None
    """Why an item was dropped ("no_title"), or the error cause of a FAILED one ("disk_full")."""
    layers: dict[str, str] = field(default_factory=dict)
    problems: int = 0
    error: str | None = None
    """A FAILED item's exception, on one line."""


@dataclass(frozen=True)
class Extracted:
    """What extraction made of a fetched page: the article, or (article None) the error cause of a failure
    outside extraction itself (the worker died, the page could not be sent to it)."""

    article: Article | None
    extraction_error: str | None = None
    """Extraction raised: the article holds what the listing card said, and this is why."""
    cause: str | None = None
    error: str | None = None


def validate(article: Article) -> str | None:
    """The reason an article cannot be archived, or None: it needs a URL and a title; the rest may be missing."""
    for name in REQUIRED:
        if not getattr(article, name, None):
            return f"no_{name}"
    return None


def extract_fetched(item: FetchedArticle, profile: Profile | None) -> Extracted:
    """The article of a fetched page; if extraction itself fails, what the listing said, with the reason."""
    from newscrawl.pages.article import extract_page
    from newscrawl.pages.text import content_type, decode_page
    page, hint = item.page, item.hint
    fetched_at = datetime.fromisoformat(page.fetched_at)
    try:
        text, utf8 = decode_page(page.body, content_type(page.headers))
        article = extract_page(text, page.final_url, fetched_at, profile, hint, utf8)
        error = None
    except Exception as exc:  # keep what we know and say why
        error = one_line(exc)
        article = Article(url=page.final_url, title=hint.title, lead=hint.lead, fetched_at=page.fetched_at,
                          extraction={"title": Layer.LISTING} if hint.title else {},
                          problems=[Problem(ProblemCode.EXTRACTION_FAILED, error)])
    article.etag, article.last_modified = item.etag, item.last_modified
    return Extracted(article, extraction_error=error)


# --- extraction ------------------------------------------------------------------------------------------------

MAX_PROCESSES = 32


def extract_processes(settings: Any) -> int:
    """NEWSCRAWL_EXTRACT_PROCESSES as a number: "auto" is one per core but one, the crawl process's (Scrapy,
    and the archive's writer thread, which share it), and at least one."""
    value = setting_value(settings, "NEWSCRAWL_EXTRACT_PROCESSES")
    if value == AUTO:
        return max(1, min(MAX_PROCESSES, (os.cpu_count() or 2) - 1))
    return int(value)


@contextmanager
def _sigint_blocked() -> Iterator[None]:
    """The signal mask survives fork and exec: a worker started while SIGINT is blocked cannot be killed by a
    Ctrl-C during its start-up, before _start_worker() ignores SIGINT; this process gets that Ctrl-C when the
    mask is restored, so it is never lost. A pool starts workers on submit, so every submit is wrapped."""
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


_profile: Profile | None = None


def _start_worker(profile_path: str | None, parent_pid: int) -> None:
    """Initializer of a worker process: load the profile, and leave as soon as the crawl process is gone."""
    global _profile
    # Ctrl-C reaches the whole process group: the crawl process stops gracefully and lets the workers drain
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _name_process(EXTRACTOR_NAME)
    from newscrawl.sites import load_profile_file
    _profile = load_profile_file(profile_path) if profile_path else None
    threading.Thread(target=_exit_with_parent, args=(parent_pid,), daemon=True).start()


def _extract_batch_in_worker(items: list[FetchedArticle]) -> list[Extracted]:
    return [extract_fetched(item, _profile) for item in items]


def _exit_with_parent(parent_pid: int) -> None:
    """A crawl killed with -9 cannot stop its workers, whose task queue stays open: they notice and exit."""
    while os.getppid() == parent_pid:
        time.sleep(0.5)
    os._exit(0)


BATCHES_PER_WORKER = 2
"""Batches handed to the pool per worker process at a time: one being extracted, one queued behind it, so a worker
never waits for the crawl process between two batches."""
MAX_BATCH = 16
"""Pages per batch at most (~0.75 MB of realistic pages in flight per batch)."""


class ExtractionPool:
    """Extraction for one crawl, in `processes` worker processes (0: in the calling process).

    Pages are handed to the workers in batches: while BATCHES_PER_WORKER batches per worker are out, the pages
    that arrive wait, and go together as the next batch once one comes back. Each hand-off through the process
    pool costs the crawl process ~0.3 ms of CPU (pickling, its feeder and manager threads, the wake-ups), so under
    load, when the workers are the bottleneck, that cost is shared by the batch (bench: 0.1 ms per page in
    batches of 4); when they keep up, a page goes alone at once and waits for nothing.

    A worker that dies is replaced and the pages it had are extracted again, up to MAX_WORKER_RESTARTS times;
    then `give_up(WORKER_DIED)` is called (the spider closes the crawl) and those pages fail with that cause.
    """

    def __init__(self, processes: int, profile: Profile | None, stats: Callable[[], Any],
                 give_up: Callable[[str], None]) -> None:
        self.processes = processes
        self.profile = profile
        self.stats = stats
        """The crawl's stats collector, which exists only once the crawl starts."""
        self.give_up = give_up
        self.executor: ProcessPoolExecutor | None = None
        self.restarts = 0
        self.gave_up = False
        self._waiting: list[tuple[FetchedArticle, asyncio.Future[Extracted]]] = []
        self._batches_out: set[asyncio.Task[None]] = set()
        self.batches = 0
        """Batches handed to the pool so far (pages per batch: how much of the hand-off cost was shared)."""

    def start(self) -> None:
        if self.processes > 0 and self.executor is None:
            self.executor = self._start_executor()

    def _start_executor(self) -> ProcessPoolExecutor:
        profile_path = str(self.profile.path) if self.profile is not None else None
        executor = ProcessPoolExecutor(self.processes, mp_context=multiprocessing.get_context("spawn"),
                                       initializer=_start_worker, initargs=(profile_path, os.getpid()))
        with _sigint_blocked():
            executor.submit(os.getpid)  # start a worker now, while the first listing page downloads
        return executor

    def close(self) -> None:
        if self.executor is not None:
            self.executor.shutdown(wait=True)
            self.executor = None

    async def extract(self, item: FetchedArticle) -> Extracted:
        if self.processes <= 0:
            return extract_fetched(item, self.profile)
        future: asyncio.Future[Extracted] = asyncio.get_running_loop().create_future()
        self._waiting.append((item, future))
        self._send_waiting()
        return await future

    def _send_waiting(self) -> None:
        """Hand the waiting pages to the pool as one batch, unless enough batches are out already."""
        if not self._waiting or len(self._batches_out) >= BATCHES_PER_WORKER * self.processes:
            return
        batch, self._waiting = self._waiting[:MAX_BATCH], self._waiting[MAX_BATCH:]
        self.batches += 1
        task = asyncio.ensure_future(self._run_batch(batch))
        self._batches_out.add(task)  # a reference: the event loop keeps only weak ones to its tasks

    async def _run_batch(self, batch: list[tuple[FetchedArticle, asyncio.Future[Extracted]]]) -> None:
        try:
            results = await self._extract_batch([item for item, _ in batch])
            for (_, future), extracted in zip(batch, results, strict=True):
                if not future.done():  # its page's callback was cancelled (a forced stop)
                    future.set_result(extracted)
        except Exception as exc:  # never leave a page's callback waiting for ever
            for _, future in batch:
                if not future.done():
                    future.set_exception(exc)
        except BaseException:  # cancelled (the loop is shutting down): so are the pages' callbacks
            for _, future in batch:
                future.cancel()
            raise
        finally:
            task = asyncio.current_task()
            if task is not None:
                self._batches_out.discard(task)
            self._send_waiting()

    async def _extract_batch(self, items: list[FetchedArticle]) -> list[Extracted]:
        error: BaseException | None = None
        for attempt in (1, 2):
            executor = self.executor
            if executor is None:  # closed: the crawl is over
                break
            try:
                with _sigint_blocked():
                    future = executor.submit(_extract_batch_in_worker, items)
                return await asyncio.wrap_future(future)
            except BrokenProcessPool as exc:
                error = exc
                if attempt == 1 and not self._replace_worker(executor):
                    break
            except Exception as exc:  # e.g. a page could not be pickled: that page's error, not the batch's
                if len(items) > 1:
                    return [extracted for item in items for extracted in await self._extract_batch([item])]
                return [Extracted(None, cause=exception_cause(exc), error=one_line(exc))]
        failure = Extracted(None, cause=WORKER_DIED, error=one_line(error) if error else "extraction pool closed")
        return [failure] * len(items)

    def _replace_worker(self, broken: ProcessPoolExecutor) -> bool:
        """Start fresh workers unless another page already did (several are in flight when one dies);
        False once MAX_WORKER_RESTARTS is used up."""
        if self.executor is not broken:
            return True
        if self.restarts >= MAX_WORKER_RESTARTS:
            if not self.gave_up:
                self.gave_up = True
                logger.error("The extraction worker died %s times: stopping the crawl", self.restarts + 1)
                self.give_up(WORKER_DIED)
            return False
        self.restarts += 1
        self.stats().inc_value(WORKER_RESTARTS)
        logger.error("The extraction worker died: starting a new one (restart %s of %s); pages in flight are "
                     "extracted again", self.restarts, MAX_WORKER_RESTARTS)
        broken.shutdown(wait=False, cancel_futures=True)
        self.executor = self._start_executor()
        return True


# --- validation and storage ------------------------------------------------------------------------------------

CHECKPOINT_EVERY = 64
"""Stored items between two WAL checkpoints (about 1000 pages of WAL, SQLite's own automatic interval)."""


class ArchiveWriter:
    """Owns the archive connection for the length of a crawl: the single writer.

    An archive that cannot be opened (read-only, disk full) does not raise here: every item then fails with
    that cause, so the crawl counts it like any other storage error.

    handle_batch() stores many items in one transaction, each in its own savepoint: an item that fails alone
    (a bad value) fails alone; a commit that fails (disk full) fails every item of the batch with its cause.
    The WAL is checkpointed by the writer between batches, not by SQLite inside a commit: an error from SQLite's
    automatic checkpoint is reported by the COMMIT although the commit took place, which would count a stored
    batch as lost.
    """

    def __init__(self, db_path: str, store_raw: bool, max_body_chars: int = 0) -> None:
        self.archive: Archive | None = None
        self.open_error: BaseException | None = None
        self.store_raw = store_raw
        self.max_body_chars = max_body_chars
        self.db_path = db_path
        self.since_checkpoint = 0
        try:
            self.archive = Archive(db_path)
            self.archive.db.execute("PRAGMA wal_autocheckpoint = 0")
            # Each item's savepoint keeps the pages it changes in a sub-journal, which SQLite writes to a temporary
            # file once past 64 KiB (most articles: the FTS segments, the page row): in memory it is a copy, not a
            # pwrite per page (~3% of storing a realistic article). Set after Archive() has migrated the file, so
            # a migration's sorts stay on disk; an item's sub-journal is bounded by what one item writes.
            self.archive.db.execute("PRAGMA temp_store = MEMORY")
        except Exception as exc:  # reported per item by handle()
            self.open_error = exc

    def close(self) -> None:
        if self.archive is not None:
            self.archive.close()

    def handle_batch(self, items: list[Any]) -> list[Outcome]:
        """The outcome of every item, stored in one transaction; known only once it committed."""
        if self.open_error is not None:
            return [self.failed(item, self.open_error) for item in items]
        assert self.archive is not None
        outcomes: list[Outcome] = []
        lost: Outcome | None = None
        try:
            with self.archive.batch():
                for item in items:
                    outcome = self.handle(item)
                    if not self.archive.db.conn.in_transaction:
                        # SQLite rolled the whole transaction back (disk full, I/O error): this item's cause is
                        # every item's (Archive.batch() then raises at the end of the block: the cause is here)
                        lost = outcome
                        break
                    outcomes.append(outcome)
        except Exception as exc:  # the commit failed: nothing of the batch is stored
            if lost is None:
                return [self.failed(item, exc) for item in items]
        if lost is not None:
            return [replace(lost, url=item_url(other)) for other in items]
        self.since_checkpoint += len(items)
        if self.since_checkpoint >= CHECKPOINT_EVERY:
            self.since_checkpoint = 0
            try:
                self.archive.db.execute("PRAGMA wal_checkpoint(PASSIVE)")
            except Exception as exc:  # the next commit, which grows the WAL, fails with the same cause
                logger.warning("WAL checkpoint failed: %s", one_line(exc))
        return outcomes

    def handle(self, item: Any) -> Outcome:
        try:
            if self.open_error is not None:
                return self.failed(item, self.open_error)
            return self._handle(item)
        except Exception as exc:  # any failure in storing is this item's error, with its cause
            return self.failed(item, exc)

    def failed(self, item: Any, exc: BaseException) -> Outcome:
        return failed(item, exc, self.db_path)

    def _handle(self, item: Any) -> Outcome:
        assert self.archive is not None
        if isinstance(item, NotModified):
            self.archive.touch_article(item.url, item.fetched_at)
            return Outcome(OutcomeKind.NOT_MODIFIED, item.url)
        if isinstance(item, MissingPage):
            self.archive.record_missing(item.url, item.status, item.fetched_at)
            return Outcome(OutcomeKind.MISSING, item.url)
        if isinstance(item, SkippedPage):
            self.archive.record_skipped(**vars(item))
            return Outcome(OutcomeKind.SKIPPED, item.url, reason=item.reason)
        if not isinstance(item, Article):
            raise TypeError(f"not an item newscrawl archives: {type(item).__name__}")
        reason = validate(item) or self.body_over_limit(item)
        if reason:
            return Outcome(OutcomeKind.DROPPED, item.url, reason=reason)
        page = item.raw_page
        raw = vars(page) if self.store_raw and page is not None else None
        kind = self.archive.upsert_article(item.as_dict(), raw_page=raw, aliases=(page.url,) if page else ())
        return Outcome(OutcomeKind(kind), item.url, layers=dict(item.extraction), problems=len(item.problems))

    def body_over_limit(self, article: Article) -> str | None:
        """SKIP_BODY_TOO_LONG, recorded in skipped_pages, when the body is over NEWSCRAWL_MAX_BODY_CHARS."""
        assert self.archive is not None
        length = len(article.body or "")
        if not self.max_body_chars or length <= self.max_body_chars:
            return None
        from newscrawl.pages.text import content_type
        page = article.raw_page
        fetched_at = page.fetched_at if page else article.fetched_at or ""
        self.archive.record_skipped(
            url=article.url, reason=SKIP_BODY_TOO_LONG, fetched_at=fetched_at,
            status=page.status if page else None, content_type=content_type(page.headers) if page else None,
            detail=f"body of {length} characters is over NEWSCRAWL_MAX_BODY_CHARS={self.max_body_chars}")
        return SKIP_BODY_TOO_LONG


# --- where the writer runs -----------------------------------------------------------------------------------

class WriterThread:
    """The archive's single writer on a thread of the crawl process (NEWSCRAWL_EXTRACT_PROCESSES=0: everything in
    one process). SQLite, gzip and the FTS triggers release the GIL, so a batch is stored while the reactor
    fetches; one thread keeps one writer and the commit order."""

    def __init__(self, db_path: str, store_raw: bool, max_body_chars: int) -> None:
        self.thread = ThreadPoolExecutor(1, thread_name_prefix="archive-writer")
        # sqlite3 connections belong to the thread that opened them
        self.writer = self.thread.submit(ArchiveWriter, db_path, store_raw, max_body_chars).result()

    def write(self, items: list[Any]) -> Future[list[Outcome]]:
        return self.thread.submit(self.writer.handle_batch, items)

    def close(self) -> None:
        self.thread.submit(self.writer.close).result()
        self.thread.shutdown(wait=True)


_writer: ArchiveWriter | None = None


def _start_writer(db_path: str, store_raw: bool, max_body_chars: int, parent_pid: int) -> None:
    """Initializer of the writer process: open the archive; ignore Ctrl-C (the crawl drains into it) and leave
    as soon as the crawl process is gone."""
    global _writer
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _name_process(WRITER_NAME)
    _writer = ArchiveWriter(db_path, store_raw, max_body_chars)
    threading.Thread(target=_exit_with_parent, args=(parent_pid,), daemon=True).start()


def _write_in_process(items: list[Any]) -> list[Outcome]:
    assert _writer is not None
    return _writer.handle_batch(items)


def _close_in_process() -> None:
    if _writer is not None:
        _writer.close()


EXTRACTOR_NAME = "newscrawl-extr"
WRITER_NAME = "newscrawl-write"
"""The names (/proc/PID/comm, `ps -o comm`, 15 bytes at most) the extraction workers and the writer process give
themselves once started, to tell them apart: they have the same spawn command line."""


def _name_process(name: str) -> None:
    with suppress(OSError, AttributeError):  # not Linux: the name is only for operators and tests
        ctypes.CDLL(None).prctl(PR_SET_NAME, name.encode()[:15], 0, 0, 0)


PR_SET_NAME = 15


class WriterProcess:
    """The archive's single writer in its own process, fed batches by the archive pipeline: storage (SQLite, the
    search indexes, compression; ~2.4 ms of CPU per 45 KB article) leaves the crawl process, whose reactor then
    only fetches and schedules. A writer that dies fails the batch it had (cause worker_died) and is replaced
    for the next one."""

    def __init__(self, db_path: str, store_raw: bool, max_body_chars: int) -> None:
        self.args = (db_path, store_raw, max_body_chars, os.getpid())
        self.executor = self._start()

    def _start(self) -> ProcessPoolExecutor:
        executor = ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn"),
                                       initializer=_start_writer, initargs=self.args)
        with _sigint_blocked():
            executor.submit(os.getpid)  # start it now, while the first pages download
        return executor

    def write(self, items: list[Any]) -> Future[list[Outcome]]:
        try:
            with _sigint_blocked():
                return self.executor.submit(_write_in_process, items)
        except BrokenProcessPool:
            logger.error("The archive writer process died: starting a new one")
            self.executor.shutdown(wait=False, cancel_futures=True)
            self.executor = self._start()
            with _sigint_blocked():
                return self.executor.submit(_write_in_process, items)

    def close(self) -> None:
        with suppress(BrokenProcessPool):  # nothing to close: the batches it had were failed
            self.executor.submit(_close_in_process).result()
        self.executor.shutdown(wait=True)


def failed(item: Any, exc: BaseException, db_path: str | None) -> Outcome:
    """A FAILED outcome for an item, with the error cause of exc."""
    return Outcome(OutcomeKind.FAILED, item_url(item), reason=exception_cause(exc, db_path), error=one_line(exc))


def item_url(item: Any) -> str:
    """The URL an item is about, for messages (a FetchedArticle's final URL)."""
    page = getattr(item, "page", None)
    return str(getattr(page, "final_url", None) or getattr(item, "url", "?"))
