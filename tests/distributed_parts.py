"""The real processes of a distributed crawl for tests: the archiver and workers as `newscrawl` subprocesses
(each in its own session, so a test can kill -9 a worker with its crawl), jobs queued with `newscrawl enqueue`,
and the comparison of two archives field by field."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import redis

from newscrawl.distributed import keys

ROOT = Path(__file__).resolve().parent.parent
FAST_JOB = ["-s", "DOWNLOAD_DELAY=0", "-s", "AUTOTHROTTLE_ENABLED=False", "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=8",
            "-s", "RETRY_TIMES=1", "-s", "NEWSCRAWL_EXTRACT_PROCESSES=0", "-s", "LOG_LEVEL=INFO"]
TIMESTAMPS = {"id", "fetched_at", "first_seen_at", "last_seen_at", "last_changed_at"}
"""Columns that differ between two crawls of the same site by design (row ids follow arrival order)."""


def newscrawl(*args: str) -> list[str]:
    return [sys.executable, "-m", "newscrawl.cli", *args]


class Process:
    """A started subprocess with its output in a file."""

    def __init__(self, command: list[str], log: Path) -> None:
        self.log = log
        self.handle = open(log, "ab")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(command, cwd=ROOT, stdout=self.handle, stderr=subprocess.STDOUT,
                                     start_new_session=True,
                                     env={**os.environ, "SCRAPY_SETTINGS_MODULE": "newscrawl.settings"})

    @property
    def pid(self) -> int:
        return self.proc.pid

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def kill9(self) -> None:
        """kill -9 of the whole process group: the worker and its crawl, as when its machine dies."""
        os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=30)
        self.handle.close()

    def stop(self, timeout: float = 60) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            code = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            code = self.proc.wait()
        self.handle.close()
        return code


def archiver(db: Path, url: str, log: Path, *extra: str) -> Process:
    return Process(newscrawl("archiver", "--db", str(db), "--redis", url, *extra), log)


def worker(url: str, log: Path, *extra: str) -> Process:
    return Process(newscrawl("worker", "--redis", url, *extra), log)


def enqueue(url: str, start_url: str, *extra: str) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(newscrawl("enqueue", "siyosat", "--redis", url, "--start-url", start_url, "--mode", "full",
                                      *FAST_JOB, *extra), cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    return result


def enqueue_category(url: str, site: str, category: str, *extra: str) -> subprocess.CompletedProcess[str]:
    """A job for the category spider (`scrapy crawl category -a site=SITE -a category=SLUG`), every listing page."""
    result = subprocess.run(newscrawl("enqueue", "category", "--redis", url, "--site", site, "--category", category,
                                      "--mode", "full", *FAST_JOB, *extra),
                            cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    return result


def wait_for(predicate: Callable[[], Any], timeout: float, what: str, *watch: Process) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        for process in watch:
            assert process.proc.poll() is None, f"{process.log.name} exited early:\n{process.output()[-3000:]}"
        time.sleep(0.2)
    logs = "\n".join(f"--- {p.log.name}\n{p.output()[-3000:]}" for p in watch)
    raise AssertionError(f"timed out waiting for {what}\n{logs}")


def drained(client: redis.Redis, db: Path) -> bool:
    """No job queued or running, nothing left on the stream, and no crawls row still running."""
    if client.llen(keys.JOBS) or client.hlen(keys.RUNNING) or client.xlen(keys.STREAM):
        return False
    if not db.exists():
        return False
    return count(db, "SELECT count(*) FROM crawls WHERE status = 'running'") == 0 and \
        count(db, "SELECT count(*) FROM crawls") > 0


def count(db: Path, sql: str) -> int:
    if not db.exists():
        return 0
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as con:
        try:
            return int(con.execute(sql).fetchone()[0])
        except sqlite3.OperationalError:  # the archiver has not created the table yet
            return 0


def rows(db: Path, sql: str) -> list[dict[str, Any]]:
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as con:
        con.row_factory = sqlite3.Row
        return [dict(r) for r in con.execute(sql)]


def snapshot(db: Path) -> dict[str, Any]:
    """The archive's content, minus what differs by design between runs (fetch times, row ids)."""
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as con:
        con.row_factory = sqlite3.Row
        names = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type IN ('table', 'view')")}
        table = "articles_full" if "articles_full" in names else "articles"  # the whole article, bodies included
        articles = {r["url"]: {k: v for k, v in dict(r).items() if k not in TIMESTAMPS}
                    for r in con.execute(f"SELECT * FROM {table}")}
        columns = [r[1] for r in con.execute("PRAGMA table_info(related_links)")]
        if "article_id" in columns:  # migration 0010: the article by id, which follows arrival order: by URL here
            related = sorted((r["url_of_article"], *(r[c] for c in columns if c != "article_id")) for r in con.execute(
                "SELECT a.url AS url_of_article, r.* FROM related_links r JOIN articles a ON a.id = r.article_id"))
        else:
            related = sorted(tuple(r) for r in con.execute("SELECT * FROM related_links"))
        return {
            "articles": articles, "related": related,
            "pages": sorted(tuple(r) for r in con.execute("SELECT url, final_url, status, sha256, size FROM pages")),
            "aliases": sorted(tuple(r) for r in con.execute("SELECT alias, url FROM url_aliases")),
            "missing": sorted(tuple(r) for r in con.execute("SELECT url, status FROM missing_pages")),
            "skipped": sorted(tuple(r) for r in con.execute("SELECT url, reason FROM skipped_pages")),
            "versions": count(db, "SELECT count(*) FROM article_versions"),
            "article_rows": count(db, "SELECT count(*) FROM articles"),  # no article twice (the dict above is by URL)
        }


def integrity(db: Path) -> str:
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as con:
        return str(con.execute("PRAGMA integrity_check").fetchone()[0])


def assert_same_archive(db: Path, reference: Path) -> None:
    assert integrity(db) == "ok"
    got, want = snapshot(db), snapshot(reference)
    assert set(got["articles"]) == set(want["articles"])
    for url, article in want["articles"].items():
        differing = {k for k in article if got["articles"][url].get(k) != article[k]}
        if json.loads(article["extraction"] or "{}").get("published_at") == "listing":
            # the page gave no date, the link that led to it did: a listing card ("12.11.2025 17:40") or a feed
            # entry ("Wed, 12 Nov 2025 17:40:00 +0500"), whichever response was parsed first, in any crawl
            # (single-process too). The moment must agree; its printed form and precision follow the link.
            differing -= {"published_text", "published_precision"}
        assert not differing, f"{url}: {differing}"
    for name in ("related", "pages", "aliases", "missing", "skipped", "versions", "article_rows"):
        assert got[name] == want[name], name
