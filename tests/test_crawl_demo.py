"""`scrapy crawl siyosat` for real, over HTTP on 127.0.0.1, against the bundled demo site (profile layer)."""

from __future__ import annotations

import hashlib
import json

from archive_checks import ISO_WITH_OFFSET, connect, mismatches
from conftest import run_crawl

from newscrawl.archive import Archive


def reachable(site) -> list:
    return [e for e in site.expected if e.status == 200]


def test_crawls_exit_zero_and_summarise(demo_archive):
    for result in demo_archive.results:
        assert result.returncode == 0, result.stderr[-3000:]
        assert "newscrawl summary: status=ok" in result.stderr


def test_every_article_archived_field_by_field(demo_archive):
    con = connect(demo_archive.db)
    problems = [m for e in reachable(demo_archive) for m in mismatches(con, demo_archive.server.url, e)]
    assert problems == []
    assert con.execute("SELECT count(*) FROM articles").fetchone()[0] == len(reachable(demo_archive))


def test_missing_page_is_not_archived_but_counted(demo_archive):
    con = connect(demo_archive.db)
    missing = [e for e in demo_archive.expected if e.status == 404]
    assert missing
    for e in missing:
        row = con.execute("SELECT 1 FROM articles WHERE url = ?", [demo_archive.server.url + e.path]).fetchone()
        assert row is None
    crawl = con.execute("SELECT * FROM crawls ORDER BY id LIMIT 1").fetchone()
    assert crawl["status"] == "ok" and crawl["errors"] == len(missing)
    assert crawl["items_new"] == len([e for e in reachable(demo_archive) if e.path.startswith("/kr/")])


def test_categories_in_both_scripts_share_a_key(demo_archive):
    con = connect(demo_archive.db)
    rows = con.execute("SELECT category, category_key, count(*) FROM articles GROUP BY 1, 2").fetchall()
    assert {(r[0], r[1]) for r in rows} == {("Сиёсат", "siyosat"), ("Siyosat", "siyosat")}


def test_timestamps_are_iso_with_offset(demo_archive):
    con = connect(demo_archive.db)
    for row in con.execute("SELECT url, published_at, modified_at FROM articles"):
        assert row["published_at"] and ISO_WITH_OFFSET.match(row["published_at"]), row["url"]
        assert row["modified_at"] is None or ISO_WITH_OFFSET.match(row["modified_at"])
    for row in con.execute("SELECT published_at FROM related_links WHERE published_at IS NOT NULL"):
        assert ISO_WITH_OFFSET.match(row["published_at"])


def test_incomplete_articles_say_why(demo_archive):
    con = connect(demo_archive.db)
    rows = {r["url"].removeprefix(demo_archive.server.url): json.loads(r["problems"])
            for r in con.execute("SELECT url, problems FROM articles")}
    no_lead = [e.path for e in reachable(demo_archive) if e.lead is None]
    assert no_lead and all({"code": "no_lead"} in rows[p] for p in no_lead)
    garbage = [e for e in reachable(demo_archive) if e.published_text and e.published_at
               and any(e.published_text in p.get("detail", "") for p in rows[e.path])]
    assert garbage, "the page with an unreadable date must record it"
    assert all(any(p["code"] == "unparsed_date" and p["detail"].startswith("published_at from profile:")
                   for p in rows[e.path]) for e in garbage)


def test_raw_pages_kept_byte_for_byte(demo_archive):
    con = connect(demo_archive.db)
    pages = con.execute("SELECT final_url, sha256, compression, body, status FROM pages").fetchall()
    urls = {r["final_url"] for r in pages}
    assert urls == {r["url"] for r in con.execute("SELECT url FROM articles")}
    assert {r["compression"] for r in pages} <= {"zstd", *(f"zstd:dict={i}" for i in range(1, 10))}
    with Archive(demo_archive.db, readonly=True) as archive:
        bodies = [archive.decompress(row["body"], row["compression"]) for row in pages]
    for row, body in zip(pages, bodies, strict=True):
        assert hashlib.sha256(body).hexdigest() == row["sha256"]
        served = demo_archive.server.url.encode()
        assert body.startswith(b"<!DOCTYPE") or body.startswith(b"<")
        assert served in body or b"{{BASE}}" not in body


def test_rerun_never_duplicates_and_replaces_related(demo_archive, tmp_path):
    db = tmp_path / "again.db"
    url = demo_archive.server.url + "/kr/siyosat/"
    first = run_crawl(db, "-a", f"start_url={url}", "-a", "max_pages=0")
    con = connect(db)
    counts = [con.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in ("articles", "related_links")]
    second = run_crawl(db, "-a", f"start_url={url}", "-a", "max_pages=0")
    assert first.returncode == 0 and second.returncode == 0, second.stderr[-2000:]
    again = [con.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in ("articles", "related_links")]
    assert again == counts
    assert con.execute("SELECT count(*) FROM article_versions").fetchone()[0] == 0
    last = con.execute("SELECT * FROM crawls ORDER BY id DESC LIMIT 1").fetchone()
    assert last["items_new"] == 0 and last["status"] == "ok"
    assert con.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
