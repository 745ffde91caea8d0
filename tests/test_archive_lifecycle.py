"""The archive over time: migrating an older file, re-parsing stored pages, raw pages on and off, the main command."""

from __future__ import annotations

import json
import shutil
from datetime import datetime, timezone
import sqlite3
import subprocess
import sys
from pathlib import Path

import sqlite_utils
from archive_checks import connect, mismatches
from conftest import ROOT, run_crawl

from newscrawl.archive import SCHEMA, Archive, known_migrations
from newscrawl.demo.server import DemoServer
from newscrawl.demo.site import demo_site
from newscrawl.search import search
from newscrawl.sites import SITES_DIR

OLD_ROWS = [
    {"url": "http://old.example/kr/news/1/", "title": "Мирзиёев Тоқаевни мукофотлади", "lead": "Орден топширилди.",
     "body": "Президент Шавкат Мирзиёев Қасим-Жомарт Тоқаевни орден билан тақдирлади.",
     "published_at": "2025-11-15T13:35:00+05:00", "fetched_at": "2025-11-15T09:00:00+00:00", "category": "Сиёсат",
     "tags": '["Қозоғистон"]', "language": "uz"},
    {"url": "http://old.example/oz/news/2/", "title": "Oʻzbekiston va Qozogʻiston savdosi oʻsdi",
     "lead": None, "body": "Tovar ayirboshlash 4 mlrd dollarga yetdi.", "published_at": "2025-11-15T12:09:00+05:00",
     "fetched_at": "2025-11-15T09:00:00+00:00", "category": "Siyosat", "tags": "[]", "language": "uz"},
]


def test_an_archive_from_the_first_schema_is_migrated_in_place(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    old = sqlite_utils.Database(path)
    SCHEMA.apply(old, stop_before="0002_history")
    old.execute("PRAGMA user_version = 1")
    for row in OLD_ROWS:
        old.execute(f"INSERT INTO articles ({', '.join(row)}) VALUES ({', '.join('?' * len(row))})", list(row.values()))
    old.execute("INSERT INTO related_links (article_url, position, url, title) VALUES (?, 0, ?, ?)",
                [OLD_ROWS[0]["url"], OLD_ROWS[1]["url"], OLD_ROWS[1]["title"]])
    old.conn.commit()
    old.close()
    assert "pages" not in sqlite_utils.Database(path).table_names()

    with Archive(path) as archive:
        assert archive.schema_version == len(SCHEMA.applied(archive.db)) == len(known_migrations())
        assert {"pages", "article_versions", "crawls", "missing_pages", "articles_fts",
                "articles_search"} <= set(archive.db.table_names())
        rows = list(archive.db.query("SELECT * FROM articles ORDER BY id"))
        assert [r["title"] for r in rows] == [r["title"] for r in OLD_ROWS]
        assert all(r["first_seen_at"] == r["fetched_at"] and r["content_hash"] for r in rows)
        assert [r["category_key"] for r in rows] == ["siyosat", "siyosat"], "Сиёсат and Siyosat are one category"
        assert archive.db["related_links"].count == 1
        assert [h.url for h in search(archive.db, "Mirziyoyev")] == [OLD_ROWS[0]["url"]]
        assert [h.url for h in search(archive.db, "Қозоғистон")] == [OLD_ROWS[1]["url"]]
        outcome = archive.upsert_article({**OLD_ROWS[0], "tags": ["Қозоғистон"], "problems": [], "extraction": {},
                                          "fetched_at": "2025-11-16T09:00:00+00:00"})
        assert outcome == "unchanged"
    with Archive(path) as again:
        assert again.schema_version == len(known_migrations()) and again.db["articles"].count == 2


def _reparse(db: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "newscrawl.cli", "reparse", "--db", str(db), *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)


def test_fix_a_selector_then_reparse_without_network(tmp_path: Path) -> None:
    """Crawl with a profile whose body selector went wrong (it picks the follow-us block), then re-parse the
    stored pages with the fixed profile."""
    broken = tmp_path / "demo-broken.toml"
    broken.write_text((SITES_DIR / "demo.toml").read_text(encoding="utf-8").replace(
        'body = [".news-single__body"]', 'body = [".news-single .follow-us"]'), encoding="utf-8")
    db = tmp_path / "news.db"
    pages, expected = demo_site(datetime.now(timezone.utc))
    server = DemoServer(pages).start()
    result = run_crawl(db, "-a", f"start_url={server.url}/kr/siyosat/", "-a", "max_pages=0", "-a", f"site={broken}")
    assert result.returncode == 0, result.stderr[-3000:]
    con = connect(db)
    bodies = dict(con.execute("SELECT url, body FROM articles_full"))
    assert all(body.endswith("Telegram Facebook") and len(body) < 80 for body in bodies.values())

    server.stop()
    repaired = _reparse(db, "--profile", "demo")
    assert repaired.returncode == 0, repaired.stderr
    assert f"reparsed {len(bodies)} pages: {len(bodies)} articles changed (body {len(bodies)}" in repaired.stdout
    con = connect(db)
    found = [m for e in expected if e.status == 200 and e.path.startswith("/kr/")
             for m in mismatches(con, server.url, e)]
    assert found == []
    assert con.execute("SELECT count(*) FROM article_versions").fetchone()[0] == 0
    again = _reparse(db, "--profile", "demo")
    assert "0 articles changed" in again.stdout


def test_reparse_of_one_url(demo_archive, tmp_path: Path) -> None:
    db = tmp_path / "copy.db"
    shutil.copy(demo_archive.db, db)
    url = connect(db).execute("SELECT url FROM articles ORDER BY id LIMIT 1").fetchone()[0]
    with sqlite3.connect(db) as con:
        con.execute("UPDATE articles SET title = 'broken' WHERE url = ?", [url])
    result = _reparse(db, "--url", url)
    assert "reparsed 1 pages: 1 articles changed (title 1)" in result.stdout
    assert connect(db).execute("SELECT title FROM articles WHERE url = ?", [url]).fetchone()[0] != "broken"


def test_raw_pages_can_be_switched_off(demo_archive, tmp_path: Path) -> None:
    db = tmp_path / "noraw.db"
    result = run_crawl(db, "-a", f"start_url={demo_archive.server.url}/kr/siyosat/", "-s", "NEWSCRAWL_STORE_RAW=False")
    assert result.returncode == 0
    con = connect(db)
    assert con.execute("SELECT count(*) FROM pages").fetchone()[0] == 0
    assert con.execute("SELECT count(*) FROM articles").fetchone()[0] > 20


def test_main_command_crawls_the_bundled_demo_and_reports(tmp_path: Path) -> None:
    """The README's first command: `newscrawl crawl` with no site configured."""
    db = tmp_path / "news.db"
    result = subprocess.run([sys.executable, "-m", "newscrawl.cli", "crawl", "--db", str(db), "-s",
                             "DOWNLOAD_DELAY=0", "-s", "AUTOTHROTTLE_ENABLED=False"], cwd=tmp_path,
                            capture_output=True, text=True, timeout=240)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "crawling the bundled demo site" in result.stderr
    con = connect(db)
    count = con.execute("SELECT count(*) FROM articles").fetchone()[0]
    assert count >= 26
    assert result.stdout.splitlines()[-1].endswith(f"; {db}: {count} articles")  # the one summary line, last
    assert f"Crawl #1 ok: {count} new, " in result.stdout
    crawl = con.execute("SELECT status, start_url FROM crawls").fetchone()
    assert crawl["status"] == "ok" and crawl["start_url"].startswith("http://127.0.0.1:")
    assert json.loads(con.execute("SELECT tags FROM articles LIMIT 1").fetchone()[0]) is not None
    again = subprocess.run([sys.executable, "-m", "newscrawl.cli", "crawl", "--db", str(db), "-s",
                            "DOWNLOAD_DELAY=0", "-s", "AUTOTHROTTLE_ENABLED=False"], cwd=tmp_path,
                           capture_output=True, text=True, timeout=240)
    assert again.returncode == 0, again.stderr[-3000:]
    assert con.execute("SELECT count(*) FROM articles").fetchone()[0] == count, "a second demo run duplicated"
