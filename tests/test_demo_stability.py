"""The bundled demo site is the same all day: `newscrawl crawl` re-run an hour later finds nothing new or updated."""

from __future__ import annotations

import os
import socket
import sqlite3
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from newscrawl.archive import Archive
from newscrawl.arguments import ArgumentProblem, demo_now_setting
from newscrawl.dates import TASHKENT
from newscrawl.demo.site import demo_site
from newscrawl.demo.startup import archived_demo_port, demo_ports
from newscrawl.demo.stories import render_moment

ROOT = Path(__file__).resolve().parent.parent
FAST = ["-s", "DOWNLOAD_DELAY=0", "-s", "AUTOTHROTTLE_ENABLED=False", "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=8",
        "-s", "RETRY_TIMES=1"]


def _free_port() -> int:
    """A port that was free a moment ago; both runs use it, since the demo's URLs include its port."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _newscrawl_crawl(db: Path, port: int, clock: datetime) -> subprocess.CompletedProcess[str]:
    """`newscrawl crawl` as an operator runs it, with no site configured (so it serves the demo itself)."""
    command = [sys.executable, "-m", "newscrawl.cli", "crawl", "--db", str(db), *FAST,
               "-s", f"NEWSCRAWL_DEMO_PORT={port}", "-s", f"NEWSCRAWL_DEMO_NOW={clock.isoformat()}"]
    env = {k: v for k, v in os.environ.items() if k != "NEWSCRAWL_START_URL"}
    return subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=240, env=env)


def test_render_moment_is_the_start_of_the_tashkent_day() -> None:
    moment = datetime(2026, 3, 4, 23, 30, tzinfo=TASHKENT)
    assert render_moment(moment) == datetime(2026, 3, 4, 0, 0, tzinfo=TASHKENT)
    # 20:30 UTC is already the next day in Tashkent (+05:00)
    assert render_moment(datetime.fromisoformat("2026-03-04T20:30+00:00")) == datetime(2026, 3, 5, tzinfo=TASHKENT)


def test_the_demo_clock_setting_needs_a_moment_with_a_zone() -> None:
    assert demo_now_setting("") is None
    assert demo_now_setting("2026-03-04T10:00+05:00") == datetime(2026, 3, 4, 10, tzinfo=TASHKENT)
    for bad in ("2026-03-04T10:00", "yesterday"):
        with pytest.raises(ArgumentProblem, match="NEWSCRAWL_DEMO_NOW"):
            demo_now_setting(bad)


def test_the_demo_renders_the_same_pages_all_day_and_changes_with_the_day() -> None:
    day = datetime(2026, 3, 4, tzinfo=TASHKENT)
    morning, _ = demo_site(render_moment(day + timedelta(hours=9, minutes=7)))
    evening, _ = demo_site(render_moment(day + timedelta(hours=21, minutes=58)))
    assert {p: page.body for p, page in morning.items()} == {p: page.body for p, page in evening.items()}
    tomorrow, _ = demo_site(render_moment(day + timedelta(days=1, hours=9)))
    assert set(tomorrow) != set(morning)  # recent stories move to the new day's dated paths


def test_two_demo_crawls_an_hour_apart_report_nothing_new_or_updated(tmp_path: Path) -> None:
    """Two real `newscrawl crawl` runs against the demo it serves on 127.0.0.1, the demo's clock an hour apart
    (the run that reported "9 updated" and "1 new" was six minutes apart)."""
    db, port = tmp_path / "news.db", _free_port()
    clock = render_moment() + timedelta(hours=10, minutes=12)  # today, Tashkent: the crawl's fetch day
    first = _newscrawl_crawl(db, port, clock)
    assert first.returncode == 0, first.stderr[-3000:]
    with sqlite3.connect(db) as conn:
        urls = {row[0] for row in conn.execute("SELECT url FROM articles")}
    assert len(urls) >= 20

    second = _newscrawl_crawl(db, port, clock + timedelta(hours=1))
    assert second.returncode == 0, second.stderr[-3000:]
    with sqlite3.connect(db) as conn:
        runs = conn.execute("SELECT items_new, items_updated, status FROM crawls ORDER BY id").fetchall()
        assert {row[0] for row in conn.execute("SELECT url FROM articles")} == urls
        assert conn.execute("SELECT count(*) FROM article_versions").fetchone()[0] == 0
    assert runs[0][0] == len(urls) and runs[1] == (0, 0, "ok"), runs


def test_the_archive_keeps_the_demo_port_it_was_crawled_on(tmp_path: Path) -> None:
    """NEWSCRAWL_DEMO_PORT busy on the first run (another demo crawl, a benchmark): that run takes a random port,
    and the next run serves the demo on that port again, though the configured one is free by then, so the
    stored URLs and the incremental state (keyed on the start URL) stay the same: nothing new, nothing updated."""
    db, clock = tmp_path / "news.db", render_moment() + timedelta(hours=10, minutes=12)
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        configured = int(busy.getsockname()[1])
        first = _newscrawl_crawl(db, configured, clock)
    assert first.returncode == 0, first.stderr[-3000:]
    second = _newscrawl_crawl(db, configured, clock + timedelta(hours=1))  # the configured port is free now
    assert second.returncode == 0, second.stderr[-3000:]
    with sqlite3.connect(db) as conn:
        runs = conn.execute("SELECT start_url, items_new, items_updated FROM crawls ORDER BY id").fetchall()
        hosts = {row[0].split("/")[2] for row in conn.execute("SELECT url FROM articles")}
    assert f":{configured}/" not in runs[0][0]
    assert runs[1] == (runs[0][0], 0, 0), runs
    assert hosts == {runs[0][0].split("/")[2]}


def test_demo_ports_put_the_archives_own_port_first(tmp_path: Path) -> None:
    db = tmp_path / "news.db"
    assert demo_ports(8765, db) == [8765]  # no archive yet
    assert demo_ports(8765, None) == [8765]  # a distributed worker: no archive here
    with Archive(db) as archive:
        assert demo_ports(8765, db) == [8765]  # an archive without crawls
        archive.start_crawl(spider="siyosat", site="demo", start_url="http://127.0.0.1:40123/kr/siyosat/")
        archive.start_crawl(spider="siyosat", site=None, start_url="https://example.uz/kr/siyosat/")
    assert archived_demo_port(db) == 40123
    assert demo_ports(8765, db) == [40123, 8765]
    assert demo_ports(40123, db) == [40123]
