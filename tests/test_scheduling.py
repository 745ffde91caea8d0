"""Scheduled runs against a real server on 127.0.0.1: incremental, conditional, edit-aware, locked, kill-safe."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from datetime import datetime, timezone

import pytest
from archive_checks import connect
from conftest import ROOT, run_crawl

from newscrawl.demo.server import DemoServer, Page
from newscrawl.demo.site import DEMO_START_PATH, demo_site, synthetic_site
from newscrawl.lock import EXIT_LOCKED, acquire


@pytest.fixture
def site(tmp_path):
    """A freshly rendered demo site, served, and an archive path with one complete crawl in it."""
    pages, expected = demo_site(datetime.now(timezone.utc))
    with DemoServer(pages) as server:
        db = tmp_path / "news.db"
        first = run_crawl(db, "-a", f"start_url={server.url}{DEMO_START_PATH}")
        assert first.returncode == 0, first.stderr[-3000:]
        yield server, db, expected


def article_requests(server: DemoServer) -> list:
    return [r for r in server.requests if "/news/" in r.path]


def test_unchanged_site_costs_one_listing_page(site):
    server, db, _ = site
    server.reset_log()
    result = run_crawl(db, "-a", f"start_url={server.url}{DEMO_START_PATH}", "-s", "NEWSCRAWL_REFRESH_HOURS=0")
    assert result.returncode == 0, result.stderr[-3000:]
    listing = [r for r in server.requests if r.path.startswith("/kr/siyosat/") and "rss" not in r.path]
    assert [r.path for r in listing] == [DEMO_START_PATH]
    assert article_requests(server) == []
    crawl = connect(db).execute("SELECT * FROM crawls ORDER BY id DESC LIMIT 1").fetchone()
    assert (crawl["status"], crawl["items_new"], crawl["items_updated"]) == ("ok", 0, 0)


def test_refresh_window_refetches_recent_articles_conditionally(site):
    server, db, expected = site
    server.reset_log()
    result = run_crawl(db, "-a", f"start_url={server.url}{DEMO_START_PATH}", "-s", "NEWSCRAWL_REFRESH_HOURS=48")
    assert result.returncode == 0, result.stderr[-3000:]
    now = datetime.now(timezone.utc)
    recent = {e.path for e in expected if e.status == 200 and e.published_at
              and (now - e.published_at).total_seconds() < 48 * 3600 and e.path.startswith("/kr/")}
    fetched = article_requests(server)
    assert recent and {r.path for r in fetched} == recent
    assert all(r.status == 304 for r in fetched)
    assert all("If-None-Match" in r.headers or "if-none-match" in {k.lower() for k in r.headers} for r in fetched)
    crawl = connect(db).execute("SELECT * FROM crawls ORDER BY id DESC LIMIT 1").fetchone()
    assert crawl["not_modified"] == len(recent) and crawl["items_updated"] == 0
    assert connect(db).execute("SELECT count(*) FROM article_versions").fetchone()[0] == 0


def test_edited_article_is_versioned_once(site):
    server, db, expected = site
    now = datetime.now(timezone.utc)
    target = next(e for e in expected if e.status == 200 and e.published_at and e.path.startswith("/kr/")
                  and (now - e.published_at).total_seconds() < 24 * 3600)
    pages, _ = demo_site(now)
    original = pages[target.path]
    edited = original.body.replace(target.body[0].encode(), b"EDITED: " + target.body[0].encode(), 1)
    assert edited != original.body
    server.set_page(target.path, Page(body=edited, content_type=original.content_type))
    url = server.url + target.path

    def run() -> subprocess.CompletedProcess[str]:
        return run_crawl(db, "-a", f"start_url={server.url}{DEMO_START_PATH}")

    assert run().returncode == 0
    con = connect(db)
    versions = con.execute("SELECT * FROM article_versions WHERE article_url = ?", [url]).fetchall()
    assert len(versions) == 1
    assert versions[0]["body"].startswith(target.body[0])
    row = con.execute("SELECT body, last_changed_at, first_seen_at FROM articles_full WHERE url = ?", [url]).fetchone()
    assert row["body"].startswith("EDITED: ") and row["last_changed_at"] > row["first_seen_at"]
    assert run().returncode == 0
    assert con.execute("SELECT count(*) FROM article_versions").fetchone()[0] == 1


def test_start_page_500_fails_loudly(tmp_path):
    with DemoServer({DEMO_START_PATH: Page(body=b"<h1>Internal error</h1>", status=500)}) as server:
        db = tmp_path / "news.db"
        result = run_crawl(db, "-a", f"start_url={server.url}{DEMO_START_PATH}")
    assert result.returncode == 1
    assert "start page unusable (HTTP 500)" in result.stderr
    crawl = connect(db).execute("SELECT status, reason, exit_code FROM crawls").fetchone()
    assert crawl["status"] == "failed" and "HTTP 500" in crawl["reason"] and crawl["exit_code"] == 1


def test_unreachable_start_page_fails_loudly(tmp_path):
    with DemoServer({}) as server:
        url = server.url
    result = run_crawl(tmp_path / "news.db", "-a", f"start_url={url}{DEMO_START_PATH}")
    assert result.returncode == 1
    assert "start page unusable (DownloadConnectionRefusedError" in result.stderr


def test_second_run_while_locked_exits_75_and_touches_nothing(site, tmp_path):
    server, db, _ = site
    before = {p.name: p.read_bytes() for p in db.parent.glob("news.db*") if not p.name.endswith(".lock")}
    with acquire(db):
        server.reset_log()
        result = run_crawl(db, "-a", f"start_url={server.url}{DEMO_START_PATH}")
    assert result.returncode == EXIT_LOCKED
    assert "another newscrawl run" in result.stderr
    assert server.requests == []
    after = {p.name: p.read_bytes() for p in db.parent.glob("news.db*") if not p.name.endswith(".lock")}
    assert after == before


def test_lock_of_a_killed_process_does_not_go_stale(site):
    server, db, _ = site
    holder = subprocess.Popen([sys.executable, "-c", "import sys, time; from newscrawl.lock import acquire; "
                               f"acquire({str(db)!r}); print('held', flush=True); time.sleep(120)"],
                              stdout=subprocess.PIPE, text=True)
    assert holder.stdout.readline().strip() == "held"
    assert run_crawl(db, "-a", f"start_url={server.url}{DEMO_START_PATH}").returncode == EXIT_LOCKED
    holder.send_signal(signal.SIGKILL)
    holder.wait()
    assert run_crawl(db, "-a", f"start_url={server.url}{DEMO_START_PATH}").returncode == 0


def test_kill_9_mid_crawl_then_rerun_finishes_without_duplicates(tmp_path):
    total = 240
    with DemoServer(synthetic_site(total, per_page=20)) as server:
        db = tmp_path / "news.db"
        start = f"start_url={server.url}{DEMO_START_PATH}"
        command = [sys.executable, "-m", "scrapy", "crawl", "siyosat", "-a", start, "-s", f"NEWSCRAWL_DB={db}",
                   "-s", "NEWSCRAWL_MAX_PAGES=0", "-s", "DOWNLOAD_DELAY=0.05", "-s", "AUTOTHROTTLE_ENABLED=False",
                   "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=1", "-s", "LOG_LEVEL=WARNING"]
        victim = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 120
        stored = 0
        while stored < 30 and time.monotonic() < deadline and victim.poll() is None:
            time.sleep(0.2)
            try:
                with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as con:
                    stored = con.execute("SELECT count(*) FROM articles").fetchone()[0]
            except sqlite3.Error:
                stored = 0
        assert victim.poll() is None, "the crawl finished before it could be killed"
        os.kill(victim.pid, signal.SIGKILL)
        victim.wait()
        con = sqlite3.connect(db)
        assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        kept = con.execute("SELECT count(*) FROM articles").fetchone()[0]
        assert kept >= 30
        assert con.execute("SELECT status FROM crawls").fetchone()[0] == "running"
        con.close()
        result = run_crawl(db, "-a", start, "-s", "NEWSCRAWL_MAX_PAGES=0")
        assert result.returncode == 0, result.stderr[-3000:]
    con = connect(db)
    assert con.execute("SELECT count(*), count(DISTINCT url) FROM articles").fetchone()[:] == (total, total)
    assert con.execute("SELECT count(DISTINCT final_url) FROM pages").fetchone()[0] == total
    statuses = [r[0] for r in con.execute("SELECT status FROM crawls ORDER BY id")]
    assert statuses == ["killed", "ok"]
    assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def test_since_backfills_a_date_range_only(tmp_path):
    now = datetime.now(timezone.utc)
    pages, expected = demo_site(now)
    with DemoServer(pages) as server:
        db = tmp_path / "news.db"
        result = run_crawl(db, "-a", f"start_url={server.url}{DEMO_START_PATH}", "-a", "since=2025-11-13")
    assert result.returncode == 0, result.stderr[-3000:]
    con = connect(db)
    dates = [r[0] for r in con.execute("SELECT published_at FROM articles")]
    assert dates and all(d[:10] >= "2025-11-13" for d in dates)
    wanted = {server.url + e.path for e in expected if e.status == 200 and e.path.startswith("/kr/")
              and e.published_at and e.published_at.isoformat()[:10] >= "2025-11-13"}
    assert wanted <= {r[0] for r in con.execute("SELECT url FROM articles")}


def test_interrupted_backfill_resumes_from_jobdir(tmp_path):
    """A long backfill with Scrapy's JOBDIR: one Ctrl-C stops it gracefully, the same command resumes it."""
    total = 160
    with DemoServer(synthetic_site(total, per_page=20)) as server:
        db, jobdir = tmp_path / "news.db", tmp_path / "job"
        command = [sys.executable, "-m", "scrapy", "crawl", "siyosat", "-a", f"start_url={server.url}{DEMO_START_PATH}",
                   "-a", "max_pages=0", "-s", f"NEWSCRAWL_DB={db}", "-s", f"JOBDIR={jobdir}",
                   "-s", "DOWNLOAD_DELAY=0.05", "-s", "AUTOTHROTTLE_ENABLED=False",
                   "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=1", "-s", "LOG_LEVEL=INFO"]
        first = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        deadline, stored = time.monotonic() + 120, 0
        while stored < 20 and time.monotonic() < deadline and first.poll() is None:
            time.sleep(0.2)
            try:
                with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as con:
                    stored = con.execute("SELECT count(*) FROM articles").fetchone()[0]
            except sqlite3.Error:
                stored = 0
        assert first.poll() is None, "the backfill finished before it could be interrupted"
        first.send_signal(signal.SIGINT)
        _, stderr = first.communicate(timeout=120)
        assert first.returncode == 1 and "status=interrupted" in stderr
        assert (jobdir / "requests.queue").exists()
        interrupted = connect(db).execute("SELECT count(*) FROM articles").fetchone()[0]
        assert 20 <= interrupted < total
        server.reset_log()
        resumed = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=240)
        assert resumed.returncode == 0, resumed.stderr[-3000:]
        refetched = [r.path for r in server.requests if "/news/" in r.path]
    con = connect(db)
    assert con.execute("SELECT count(*), count(DISTINCT url) FROM articles").fetchone()[:] == (total, total)
    assert len(refetched) <= total - interrupted + 16, "the resumed run re-fetched what was already archived"
    assert [r[0] for r in con.execute("SELECT status FROM crawls ORDER BY id")] == ["interrupted", "ok"]
