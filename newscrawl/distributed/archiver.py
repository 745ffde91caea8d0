"""The archiver: the only process that writes the SQLite archive in a distributed crawl.

It reads the workers' stream with a consumer group, in batches; stores each item through the same ArchiveWriter
the single-process pipeline uses (same validation, same upsert); and only after the batch is committed does it
acknowledge and delete the entries and update the state hashes the workers read, in one MULTI. A crash anywhere
in between leaves the entries pending: the next archiver claims them (XAUTOCLAIM) and stores them again, which
is harmless because every write is an idempotent upsert (at-least-once delivery, exactly-once content).
"""

from __future__ import annotations

import logging
import os
import resource
import signal
import socket
import sqlite3
import time
from collections import Counter
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from typing import Any

import redis

from newscrawl.archive import ArchiveError
from newscrawl.distributed import keys
from newscrawl.distributed.connection import StopRequested, connect, describe, retrying
from newscrawl.distributed.messages import FINISH, MISSING, START, BadMessage, decode_data, decode_item, \
    message_type
from newscrawl.distributed.state import StateChanges, sync_from_archive
from newscrawl.errors import DATABASE_LOCKED, STORAGE_CAUSES, exception_cause
from newscrawl.errors import describe as describe_causes
from newscrawl.items import Article, MissingPage
from newscrawl.lock import ArchiveLock
from newscrawl.processing import STORED_KINDS, ArchiveWriter, OutcomeKind
from newscrawl.urls import canonical_url

logger = logging.getLogger("newscrawl.archiver")
FOREVER = float("inf")
"""The archiver waits out any Redis outage: it has nothing else to do."""
BLOCK_MS = 1000
RETRY_STORAGE_SECONDS = 5.0
RUN_COUNTS_TTL = 7 * 24 * 3600
FAILED = "failed"
DROPPED_PREFIX = "dropped/"
FAILED_PREFIX = "failed/"
REDELIVERED = "redelivered"
"""Run count of items taken over from an archiver that stopped before acknowledging them (not an OutcomeKind)."""


class StorageFailure(RuntimeError):
    """The archive cannot take writes (disk full, read-only, locked): entries stay pending and are retried."""


@dataclass
class Batch:
    """What one batch did, applied to Redis after the commit."""

    ids: list[bytes] = field(default_factory=list)
    changes: StateChanges = field(default_factory=StateChanges)
    counts: dict[str, Counter[str]] = field(default_factory=dict)
    opened: dict[str, int] = field(default_factory=dict)
    """run -> crawl id, for runs started in this batch."""
    finished: set[str] = field(default_factory=set)


@dataclass
class Totals:
    entries: int = 0
    articles: int = 0
    batches: int = 0
    bad: int = 0
    outcomes: Counter[str] = field(default_factory=Counter)


class Archiver:
    def __init__(self, db: str, url: str, *, batch_size: int = 100, claim_idle: float = 60.0,
                 max_body_chars: int = 0, consumer: str | None = None) -> None:
        self.db = db
        self.url = url
        self.batch_size = batch_size
        self.claim_idle = claim_idle
        self.max_body_chars = max_body_chars
        self.consumer = consumer or f"{socket.gethostname()}-{os.getpid()}"
        self.stopping = False
        self.stop_signal = "stop"
        self.claiming = False
        self.totals = Totals()
        self.client = connect(url)
        self.writer: ArchiveWriter | None = None
        self.lock = ArchiveLock(db)

    def _redis(self, call: Any, what: str) -> Any:
        """Waits out any Redis outage, but not a stop: StopRequested once stopping (run() ends there)."""
        return retrying(call, FOREVER, what, stopping=lambda: self.stopping)

    def stop(self, signum: int | None = None, *_: Any) -> None:
        self.stopping = True
        if signum is not None:
            self.stop_signal = signal.Signals(signum).name

    def run(self, idle_exit: float | None = None) -> int:
        """Consume until stopped (SIGTERM/SIGINT) or, with idle_exit, until the stream has been empty that long. A
        stop during a Redis outage ends it at once: what it read and did not commit stays pending (unacknowledged)."""
        self.lock.acquire()  # ArchiveLocked: another archiver or a single-process crawl owns the file
        try:
            self._consume(idle_exit)
        except StopRequested as exc:  # an open batch was rolled back; nothing more is acknowledged
            logger.warning("Archiver %s: %s while Redis was unavailable (%s): exiting without waiting for it; the "
                           "entries it read and did not acknowledge stay pending for the next archiver, which "
                           "stores them (again, harmlessly, if committed)", self.consumer, self.stop_signal,
                           exc.what)
        finally:
            if self.writer is not None:
                self.writer.close()
            self.lock.release()
            self.client.close()
        usage = resource.getrusage(resource.RUSAGE_SELF)
        logger.info("newscrawl archiver: %s entries, %s articles, %s batches, %s unreadable, outcomes %s, "
                    "cpu %.2fs", self.totals.entries, self.totals.articles, self.totals.batches, self.totals.bad,
                    dict(self.totals.outcomes), usage.ru_utime + usage.ru_stime)
        return 0

    def _consume(self, idle_exit: float | None) -> None:
        self.writer = ArchiveWriter(self.db, store_raw=True, max_body_chars=self.max_body_chars)
        if self.writer.open_error is not None:
            raise self.writer.open_error
        assert self.writer.archive is not None
        self._ensure_group()
        archive = self.writer.archive
        synced = self._redis(lambda: sync_from_archive(self.client, archive),
                             "syncing the state")
        logger.info("Archiver %s on %s, archive %s; state synced to Redis: %s", self.consumer,
                    describe(self.url), self.db, synced)
        self._claim(0)  # we hold the archive's lock, so whatever is pending belongs to a dead archiver
        idle_since = time.monotonic()
        last_claim = time.monotonic()
        while not self.stopping:
            if time.monotonic() - last_claim > self.claim_idle:
                self._claim(int(self.claim_idle * 1000))
                last_claim = time.monotonic()
            entries = self._read(">")
            if entries:
                self._process(entries)
                idle_since = time.monotonic()
            elif idle_exit is not None and time.monotonic() - idle_since > idle_exit and \
                    self._redis(lambda: self.client.xlen(keys.STREAM), "reading the backlog") == 0:
                break

    def _ensure_group(self) -> None:
        def create() -> None:
            try:  # id 0: entries workers added before any archiver ran are read too
                self.client.xgroup_create(keys.STREAM, keys.GROUP, id="0", mkstream=True)
            except redis.ResponseError as exc:
                if "BUSYGROUP" not in str(exc):
                    raise
        self._redis(create, "creating the consumer group")

    def _read(self, start: str) -> list[tuple[bytes, dict[bytes, bytes]]]:
        found = self._redis(lambda: self.client.xreadgroup(keys.GROUP, self.consumer, {keys.STREAM: start},
                                                           count=self.batch_size, block=BLOCK_MS),
                            "reading the stream")
        return list(found[0][1]) if found else []

    def _claim(self, min_idle_ms: int) -> None:
        """Take over the entries another (dead) consumer read but never acknowledged, and store them."""
        cursor = "0-0"
        while not self.stopping:
            result = self._redis(lambda start=cursor: self.client.xautoclaim(
                keys.STREAM, keys.GROUP, self.consumer, min_idle_ms, start, count=self.batch_size),
                "claiming pending entries")
            cursor, claimed = result[0], [e for e in result[1] if e[1] is not None]
            if claimed:
                logger.warning("Claimed %s entries a dead archiver had read but not committed", len(claimed))
                self.claiming = True  # the runs' crawls rows say so (_finish)
                try:
                    self._process(claimed)
                finally:
                    self.claiming = False
            if cursor in (b"0-0", "0-0"):
                break

    def _process(self, entries: list[tuple[bytes, dict[bytes, bytes]]]) -> None:
        """Store entries and acknowledge them, a segment at a time: a run of items is one segment (one
        transaction where the archive offers Archive.batch(), else one per item), a start or finish message one of
        its own (crawls rows are written outside any batch). A storage failure leaves the rest pending and waits."""
        position = 0
        while position < len(entries):
            end = position + 1
            if not _control(entries[position][1]):
                while end < len(entries) and not _control(entries[end][1]):
                    end += 1
            segment = entries[position:end]
            stored, failure = self._store(segment)
            position += stored
            if failure is not None:
                logger.error("Archive cannot take writes (%s): %s entries stay pending; retrying in %gs", failure,
                             len(entries) - position, RETRY_STORAGE_SECONDS)
                time.sleep(RETRY_STORAGE_SECONDS)
                if self.stopping:  # the rest stays pending: the next archiver claims it
                    return

    def _store(self, segment: list[tuple[bytes, dict[bytes, bytes]]]) -> tuple[int, BaseException | None]:
        """Store one segment and acknowledge what was committed: (entries acknowledged, the storage failure)."""
        assert self.writer is not None and self.writer.archive is not None
        batch = Batch()
        batching = getattr(self.writer.archive, "batch", None)
        batched = callable(batching) and not _control(segment[0][1])
        context: AbstractContextManager[Any] = batching() if batched else nullcontext()  # type: ignore[misc]
        try:
            with context:
                for entry_id, fields in segment:
                    self._entry(fields, batch)
                    batch.ids.append(entry_id)
        except (StorageFailure, ArchiveError, sqlite3.Error) as exc:
            if batched:  # the batch was rolled back whole: nothing of it is stored, nothing acknowledged
                return 0, exc
            self._acknowledge(batch)  # one transaction per item: what came before the failure is committed
            return len(batch.ids), exc
        self._acknowledge(batch)
        return len(batch.ids), None

    def _entry(self, fields: dict[bytes, bytes], batch: Batch) -> None:
        self.totals.entries += 1
        try:
            kind, run = message_type(fields)
            if kind == START:
                self._start(run, decode_data(fields), batch)
            elif kind == FINISH:
                self._finish(run, decode_data(fields), batch)
            else:
                self._item(run, fields, batch)
        except BadMessage as exc:  # acknowledged and dropped: it can never be read, retrying would block the stream
            self.totals.bad += 1
            logger.error("Unreadable stream entry dropped: %s", exc)

    def _crawl_id(self, run: str, batch: Batch) -> int | None:
        if run in batch.opened:
            return batch.opened[run]
        value = self._redis(lambda: self.client.hget(keys.RUNS, run), "reading the run's crawl id")
        return int(value) if value is not None else None

    def _start(self, run: str, data: dict[str, Any], batch: Batch) -> None:
        assert self.writer is not None and self.writer.archive is not None
        archive = self.writer.archive
        crawl_id = self._crawl_id(run, batch)
        if crawl_id is None:  # a start delivered again after its commit finds its own row, not a new one
            row = next(archive.db.query("SELECT id FROM crawls WHERE spider = ? AND start_url IS ? AND started_at = ? "
                                        "AND status = 'running'", [data["spider"], data.get("start_url"),
                                                                   data.get("started_at")]), None)
            crawl_id = int(row["id"]) if row else self._storing(lambda: archive.start_crawl(
                spider=data["spider"], site=data.get("site"), start_url=data.get("start_url"),
                started_at=data.get("started_at"), supersede=False))
        batch.opened[run] = crawl_id
        batch.changes.crawl(data["spider"], data.get("start_url"), crawl_id, "running")

    def _finish(self, run: str, data: dict[str, Any], batch: Batch) -> None:
        assert self.writer is not None and self.writer.archive is not None
        archive = self.writer.archive
        crawl_id = self._crawl_id(run, batch)
        fallback = bool(data.pop("fallback", False))
        if crawl_id is None:
            if not fallback:  # a worker's fallback finish after the crawl's own is expected, and ignored
                logger.warning("Finish message of run %s, whose start was never archived: ignored", run)
            return
        counts: Counter[str] = Counter({k.decode(): int(v) for k, v in self._redis(
            lambda: self.client.hgetall(keys.run_counts(run)), "reading the run's counts").items()})
        counts.update(batch.counts.get(run, Counter()))
        values = {k: v for k, v in data.items() if k not in ("spider", "start_url")}
        values.update({f"items_{kind.value}": counts.get(kind.value, 0) for kind in STORED_KINDS})
        drops = {k[len(DROPPED_PREFIX):]: n for k, n in counts.items() if k.startswith(DROPPED_PREFIX)}
        values.update(items_dropped=sum(drops.values()), drop_reasons=drops)
        if counts.get(REDELIVERED):  # the run went well, but the crawls row tells of the archiver that died under it
            values["reason"] = "; ".join(filter(None, [values.get("reason"), f"{counts[REDELIVERED]} items taken "
                                                       "over from an archiver that stopped before acknowledging them"]))
        failures = {k[len(FAILED_PREFIX):]: n for k, n in counts.items() if k.startswith(FAILED_PREFIX)}
        if failures:
            values.update(status="failed", exit_code=1, errors=int(values.get("errors") or 0) + sum(failures.values()),
                          reason="; ".join(filter(None, [values.get("reason"), f"{sum(failures.values())} items not "
                                                         f"stored by the archiver: {describe_causes(failures)}"])))
        self._storing(lambda: archive.finish_crawl(crawl_id, values))
        row = archive.db.execute("SELECT spider, start_url, status FROM crawls WHERE id = ?", [crawl_id]).fetchone()
        if row is not None:
            batch.changes.crawl(row[0], row[1], crawl_id, row[2])
        batch.finished.add(run)

    def _item(self, run: str, fields: dict[bytes, bytes], batch: Batch) -> None:
        assert self.writer is not None and self.writer.archive is not None
        item, store_raw = decode_item(fields)
        self.writer.store_raw = store_raw
        outcome = self.writer.handle(item)
        if outcome.kind == OutcomeKind.FAILED and outcome.reason in STORAGE_CAUSES | {DATABASE_LOCKED}:
            raise StorageFailure(f"{outcome.reason}: {outcome.error}")
        counts = batch.counts.setdefault(run, Counter())
        counts[outcome.kind.value] += 1
        if self.claiming:
            counts[REDELIVERED] += 1
        self.totals.outcomes[outcome.kind.value] += 1
        if outcome.kind == OutcomeKind.DROPPED:
            counts[DROPPED_PREFIX + (outcome.reason or "?")] += 1
        elif outcome.kind == OutcomeKind.FAILED:
            counts[FAILED_PREFIX + (outcome.reason or "?")] += 1
            logger.error("Not stored (%s): %s: %s", outcome.reason, outcome.url, outcome.error)
        if isinstance(item, Article) and outcome.kind in STORED_KINDS:
            self.totals.articles += 1
            row = self._known_row(item.url)
            if row is not None:
                page = item.raw_page
                batch.changes.article_stored(row, [canonical_url(page.url)] if page is not None else [])
        elif isinstance(item, MissingPage) and outcome.kind.value == MISSING:
            if self._known_row(item.url) is None:
                batch.changes.page_missing(canonical_url(item.url), item.fetched_at)

    def _known_row(self, url: str) -> dict[str, Any] | None:
        """What the state hash keeps of the archived article at any form of url (the columns KnownArticle has;
        no body is read)."""
        assert self.writer is not None and self.writer.archive is not None
        archive = self.writer.archive
        return next(archive.db.query("SELECT url, published_at, etag, last_modified FROM articles WHERE url = ?",
                                     [archive.resolve_url(url)]), None)

    def _storing(self, call: Any) -> Any:
        """A crawls-row write; its storage failure is StorageFailure, like an item's."""
        try:
            return call()
        except Exception as exc:  # sorted by exception_cause: storage failures wait, anything else is a bug
            cause = exception_cause(exc, self.db)
            if cause in STORAGE_CAUSES | {DATABASE_LOCKED}:
                raise StorageFailure(f"{cause}: {exc}") from exc
            raise

    def _acknowledge(self, batch: Batch) -> None:
        """After the commit: acknowledge and delete the entries, count outcomes, update the state, in one MULTI."""
        if not batch.ids:
            return

        def apply() -> None:
            with self.client.pipeline(transaction=True) as pipe:
                pipe.xack(keys.STREAM, keys.GROUP, *batch.ids)
                pipe.xdel(keys.STREAM, *batch.ids)
                for run, counts in batch.counts.items():
                    if run not in batch.finished:
                        for kind, n in counts.items():
                            pipe.hincrby(keys.run_counts(run), kind, n)
                        # a run whose finish never comes (its start was lost too) leaves no key behind for ever
                        pipe.expire(keys.run_counts(run), RUN_COUNTS_TTL)
                if batch.opened:
                    pipe.hset(keys.RUNS, mapping={run: str(crawl_id) for run, crawl_id in batch.opened.items()})
                for run in batch.finished:
                    pipe.delete(keys.run_counts(run))
                    pipe.hdel(keys.RUNS, run)
                batch.changes.apply(pipe)
                pipe.execute()
        self._redis(apply, "acknowledging a batch")
        self.totals.batches += 1


def _control(fields: dict[bytes, bytes]) -> bool:
    """A run's start or finish message (written outside any batch)."""
    return fields.get(b"type") in (START.encode(), FINISH.encode())


def install_signal_handlers(archiver: Archiver) -> None:
    signal.signal(signal.SIGTERM, archiver.stop)
    signal.signal(signal.SIGINT, archiver.stop)
