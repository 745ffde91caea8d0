"""Schema version 10 (migration 0010_compact): an archive written by version 9 keeps every field, body, related
link, raw page, search hit and version; the write path re-indexes only changed content; batch() commits once and
rolls back one failing item alone; raw pages get a per-site zstd dictionary."""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import json
import os
import re
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
import sqlite_utils
from archive_checks import folded_index
from conftest import ROOT

from newscrawl import codec
from newscrawl.archive import SCHEMA, Archive, known_migrations, to_json
from newscrawl.demo.site import synthetic_site
from newscrawl.migrations import archive_v1
from newscrawl.processing import ArchiveWriter
from newscrawl.schema import RELATED_FIELDS
from newscrawl.search import search

V9_ARTICLES = [
    {"id": 1, "url": "https://e.uz/kr/news/1/", "canonical_url": "https://e.uz/kr/news/1/",
     "title": "Мирзиёев Тоқаевни мукофотлади", "lead": "Орден топширилди.",
     "body": "Президент Шавкат Мирзиёев Тоқаевни тақдирлади.\n\n– Раҳмат, – деди у.",
     "published_at": "2025-11-15T13:35:00+05:00", "published_text": "15.11.2025 13:35", "modified_at": None,
     "fetched_at": "2025-11-15T09:00:00+00:00", "category": "Сиёсат", "author": "Муҳаррир",
     "image_url": "https://e.uz/i/1.jpg", "language": "uz", "tags": '["Қозоғистон"]', "published_precision": "minute",
     "modified_text": None, "script": "cyrl", "extraction": '{"title": "profile"}', "problems": "[]",
     "first_seen_at": "2025-11-15T09:00:00+00:00", "last_seen_at": "2025-11-16T09:00:00+00:00",
     "last_changed_at": "2025-11-15T09:00:00+00:00", "etag": '"abc"', "last_modified": None,
     "category_key": "siyosat"},
    # a page that printed Moscow time: stored in +05:00 from version 10 on, so text order is time order
    {"id": 2, "url": "https://e.uz/oz/news/2/", "canonical_url": None,
     "title": "Oʻzbekiston va Qozogʻiston savdosi oʻsdi", "lead": None,
     "body": "Tovar ayirboshlash 4 mlrd dollarga yetdi.", "published_at": "2025-11-15T10:09:00+03:00",
     "published_text": "15.11.2025 10:09", "modified_at": None, "fetched_at": "2025-11-15T09:00:00+00:00",
     "category": "Siyosat", "author": None, "image_url": None, "language": "uz", "tags": "[]",
     "published_precision": "minute", "modified_text": None, "script": "latn", "extraction": "{}",
     "problems": '[{"code": "no_lead"}]', "first_seen_at": "2025-11-15T09:00:00+00:00",
     "last_seen_at": "2025-11-15T09:00:00+00:00", "last_changed_at": "2025-11-15T09:00:00+00:00", "etag": None,
     "last_modified": "Sat, 15 Nov 2025 07:09:00 GMT", "category_key": "siyosat"},
    {"id": 3, "url": "https://e.uz/kr/news/3/", "canonical_url": None, "title": "Санасиз мақола", "lead": "Лид.",
     "body": None, "published_at": None, "published_text": None, "modified_at": None,
     "fetched_at": "2025-11-15T09:00:00+00:00", "category": None, "author": None, "image_url": None,
     "language": "uz", "tags": "[]", "published_precision": None, "modified_text": None, "script": "cyrl",
     "extraction": "{}", "problems": '[{"code": "no_body"}]', "first_seen_at": "2025-11-15T09:00:00+00:00",
     "last_seen_at": "2025-11-15T09:00:00+00:00", "last_changed_at": "2025-11-15T09:00:00+00:00", "etag": None,
     "last_modified": None, "category_key": None},
]
V9_LINKS = [
    {"article_url": "https://e.uz/kr/news/1/", "position": 0, "url": "https://e.uz/oz/news/2/",
     "title": "Savdo oʻsdi", "category": "Siyosat", "published_at": "2025-11-15T12:09:00+05:00",
     "published_precision": "minute", "published_text": "Bugun 12:09", "lead": "Karta lidi.",
     "image_url": "https://e.uz/i/2.jpg"},
    {"article_url": "https://e.uz/kr/news/1/", "position": 1, "url": "https://e.uz/kr/news/99/",
     "title": "Архивда йўқ", "category": None, "published_at": None, "published_precision": None,
     "published_text": None, "lead": None, "image_url": None},
    {"article_url": "https://e.uz/oz/news/2/", "position": 0, "url": "https://e.uz/kr/news/1/",
     "title": "Мирзиёев", "category": "Сиёсат", "published_at": "2025-11-15T00:00:00+05:00",
     "published_precision": "day", "published_text": "15.11.2025", "lead": None, "image_url": None},
]
PAGE_HTML = "<html><body><h1>Мирзиёев Тоқаевни мукофотлади</h1></body></html>".encode()
V9_VERSION = {"id": 1, "article_url": "https://e.uz/kr/news/1/", "seen_from": "2025-11-14T09:00:00+00:00",
              "seen_until": "2025-11-15T09:00:00+00:00", "content_hash": "h0", "title": "Эски сарлавҳа",
              "lead": "Эски лид.", "body": "Эски матн.", "published_at": "2025-11-15T13:35:00+05:00",
              "modified_at": None, "author": None}


def _insert(db: sqlite_utils.Database, table: str, row: dict[str, Any]) -> None:
    db.execute(f"INSERT INTO {table} ({', '.join(row)}) VALUES ({', '.join('?' * len(row))})", list(row.values()))


def v9_archive(path: Path) -> Path:
    """An archive as schema version 9 wrote it: migrations up to 0009, rows in with plain SQL (articles_fts kept by
    its version-9 triggers, articles_search by the version-9 folding code), a gzip raw page."""
    db = sqlite_utils.Database(path)
    SCHEMA.apply(db, stop_before="0010_compact")
    db.execute("PRAGMA user_version = 9")
    for row in V9_ARTICLES:
        _insert(db, "articles", {**row, "content_hash": archive_v1.content_hash(row)})
        archive_v1.index_folded(db, row)
    for link in V9_LINKS:
        _insert(db, "related_links", link)
    _insert(db, "article_versions", V9_VERSION)
    _insert(db, "pages", {"url": "https://e.uz/kr/news/1/", "final_url": "https://e.uz/kr/news/1/", "status": 200,
                          "headers": '{"Content-Type": "text/html"}', "fetched_at": "2025-11-15T09:00:00+00:00",
                          "last_fetched_at": "2025-11-16T09:00:00+00:00",
                          "sha256": hashlib.sha256(PAGE_HTML).hexdigest(),
                          "size": len(PAGE_HTML), "compression": "gzip", "body": gzip.compress(PAGE_HTML)})
    db.conn.commit()
    db.close()
    return path


def test_a_version_9_archive_keeps_everything(tmp_path: Path) -> None:
    path = v9_archive(tmp_path / "v9.db")
    with Archive(path, readonly=True) as old:  # read before migrating: the same names work on the old schema
        assert [h.url for h in search(old.db, "Mirziyoyev")] == ["https://e.uz/kr/news/1/"]
        assert old.derived_state("https://e.uz/kr/news/1/")["related"][0][1] == "https://e.uz/oz/news/2/"
    with Archive(path) as archive:
        assert archive.schema_version == len(known_migrations())
        db = archive.db
        assert "body" not in {c.name for c in db["articles"].columns}
        assert db.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'").fetchall() == [], \
            "the archive writes both indexes itself"
        full = {r["id"]: r for r in db.query("SELECT * FROM articles_full ORDER BY id")}
        for old in V9_ARTICLES:
            row = full[old["id"]]
            want = {**old, "content_hash": archive_v1.content_hash(old)}
            if old["id"] == 2:
                want["published_at"] = "2025-11-15T12:09:00+05:00"
                want["content_hash"] = archive_v1.content_hash(want)
            assert row == want
        assert [c.name for c in db["articles_full"].columns][:7] == ["id", "url", "canonical_url", "title", "lead",
                                                                     "body", "published_at"], "the old order"
        links = list(db.query(f"SELECT a.url AS article_url, {', '.join('r.' + f for f in RELATED_FIELDS)} "
                              "FROM related_links r JOIN articles a ON a.id = r.article_id "
                              "ORDER BY r.article_id, r.position"))
        assert links == V9_LINKS
        version = next(db.query("SELECT * FROM article_versions"))
        assert version == V9_VERSION
        (page,) = list(archive.latest_pages())
        assert page["compression"] == "gzip" and page["body"] == PAGE_HTML
        assert page["headers"] == {"Content-Type": "text/html"}

        # both indexes survived: the folded one copied (nothing re-folded), the raw one rebuilt over the view
        assert [h.url for h in search(db, "Mirziyoyev")] == ["https://e.uz/kr/news/1/"]
        assert [h.url for h in search(db, "Қозоғистон")] == ["https://e.uz/oz/news/2/"]
        assert [h.url for h in search(db, "раҳмат")] == ["https://e.uz/kr/news/1/"], "a word of the body"
        assert search(db, "Mirziyoyev")[0].snippet.startswith("Президент Шавкат [Мирзиёев]")
        assert folded_index(db.conn)[0] == (1, "mirziyoyev toqayevni mukofotladi", "orden topshirildi",
                                            "prezident shavkat mirziyoyev toqayevni taqdirladi rahmat dedi u")
        raw = db.execute("SELECT rowid FROM articles_fts WHERE articles_fts MATCH 'Тоқаевни' ORDER BY rowid")
        assert raw.fetchall() == [(1,)]
        db.execute("INSERT INTO articles_fts (articles_fts) VALUES ('integrity-check')")
        # the next crawl finds the articles unchanged (the hash of a converted date was recomputed)
        again = {**V9_ARTICLES[1], "tags": [], "extraction": {}, "problems": [{"code": "no_lead"}]}
        assert archive.upsert_article(again) == "unchanged"
    with Archive(path) as reopened:
        assert reopened.schema_version == len(known_migrations())


def _article(n: int, body: str, **extra: Any) -> dict[str, Any]:
    return {"url": f"https://e.uz/kr/news/{n}/", "title": f"Сарлавҳа {n}", "lead": "Лид.", "body": body,
            "published_at": f"2025-11-{10 + n % 10:02d}T10:00:00+05:00", "fetched_at": "2025-11-20T09:00:00+00:00",
            "category": "Сиёсат", "tags": [], "extraction": {}, "problems": [], **extra}


def test_content_changes_reindex_and_nothing_else_does(tmp_path: Path) -> None:
    with Archive(tmp_path / "a.db") as archive:
        archive.upsert_article(_article(1, "Биринчи матн: Тошкент."))
        statements: list[str] = []
        archive.db.conn.set_trace_callback(statements.append)
        assert archive.upsert_article(_article(1, "Биринчи матн: Тошкент.")) == "unchanged"
        archive.db.conn.set_trace_callback(None)
        assert not [s for s in statements if "articles_search" in s or "articles_fts" in s or "article_bodies" in s]

        assert archive.upsert_article(_article(1, "Иккинчи матн: Самарқанд.")) == "updated"
        db = archive.db
        assert [h.url for h in search(db, "Samarqand")] == ["https://e.uz/kr/news/1/"]
        assert search(db, "Toshkent") == [], "the old text left the folded index"
        assert db.execute("SELECT count(*) FROM articles_fts WHERE articles_fts MATCH 'Тошкент'").fetchone()[0] == 0
        db.execute("INSERT INTO articles_fts (articles_fts) VALUES ('integrity-check')")
        assert folded_index(db.conn) == [(1, "sarlavha 1", "lid", "ikkinchi matn samarqand")]
        assert db.execute("SELECT body FROM article_versions").fetchone()[0] == "Биринчи матн: Тошкент."


def test_published_at_is_stored_in_tashkent_time_and_sorts_as_text(tmp_path: Path) -> None:
    with Archive(tmp_path / "a.db") as archive:
        archive.upsert_article(_article(1, "Матн бир.", published_at="2025-11-15T10:30:00+03:00"))  # 12:30 +05
        archive.upsert_article(_article(2, "Матн икки.", published_at="2025-11-15T12:00:00+05:00"))
        archive.upsert_article(_article(3, "Матн уч.", published_at="2025-11-15T07:45:00Z"))  # 12:45 +05
        archive.upsert_article(_article(4, "Матн тўрт.", published_at=None))
        stored = dict(archive.db.execute("SELECT url, published_at FROM articles").fetchall())
        assert stored["https://e.uz/kr/news/1/"] == "2025-11-15T12:30:00+05:00"
        assert stored["https://e.uz/kr/news/3/"] == "2025-11-15T12:45:00+05:00"
        assert [h.url[-2] for h in search(archive.db, "matn")] == ["3", "1", "2", "4"], "newest first, undated last"
        assert [h.url[-2] for h in search(archive.db, "matn", since="2025-11-15T12:15:00+05:00")] == ["3", "1"]


JSON_VALUES = st.recursive(st.none() | st.booleans() | st.integers() | st.floats() | st.text(),
                           lambda inner: st.lists(inner) | st.dictionaries(st.text(), inner), max_leaves=12)


@settings(max_examples=300, deadline=None)
@given(JSON_VALUES)
def test_the_archives_json_is_json_dumps_without_ascii_escapes(value: Any) -> None:
    """to_json (one encoder made once) writes, and content_hash hashes, exactly what json.dumps wrote."""
    assert to_json(value) == json.dumps(value, ensure_ascii=False)


def test_a_failing_item_rolls_back_alone_in_a_batch(tmp_path: Path) -> None:
    path = tmp_path / "a.db"
    with Archive(path) as archive, archive.batch():
        archive.upsert_article(_article(1, "Биринчи."))
        with pytest.raises((TypeError, AttributeError)):  # a related card with no URL, met after the article row
            archive.upsert_article(_article(2, "Иккинчи.", related=[{"position": 0, "url": None}]))
        archive.record_missing("https://e.uz/kr/news/404/", 404, "2025-11-20T09:00:00+00:00")
        archive.upsert_article(_article(3, "Учинчи."))
        # nothing is committed before the batch ends: another connection sees none of it
        with sqlite3.connect(path) as other:
            assert other.execute("SELECT count(*) FROM articles").fetchone()[0] == 0
    with sqlite3.connect(path) as con:
        assert [r[0] for r in con.execute("SELECT url FROM articles ORDER BY id")] == [
            "https://e.uz/kr/news/1/", "https://e.uz/kr/news/3/"]
        assert con.execute("SELECT count(*) FROM article_bodies").fetchone()[0] == 2
        assert con.execute("SELECT count(*) FROM missing_pages").fetchone()[0] == 1
        ids = {r[0] for r in con.execute("SELECT id FROM articles")}
        assert {doc for doc, *_ in folded_index(con)} == ids, "the failed item left nothing in the folded index"
        con.execute("INSERT INTO articles_fts (articles_fts) VALUES ('integrity-check')")


def _sqlite_temp_files() -> list[str]:
    """The (unlinked) temporary files SQLite holds open in this process: named etilqs_* (Linux /proc)."""
    found = []
    for fd in os.listdir("/proc/self/fd"):
        with contextlib.suppress(OSError):  # the listing's own descriptor is gone by now
            if "etilqs" in (target := os.readlink(f"/proc/self/fd/{fd}")):
                found.append(target)
    return found


def test_the_writers_item_savepoints_journal_in_memory_and_roll_back_alone(tmp_path: Path) -> None:
    """An item that rewrites ~1 MB of existing pages (a long body replaced) journals them for its savepoint; the
    writer keeps that journal in memory (no temporary file, whose pwrites cost ~3% of storing an article), and a
    failing item still rolls back alone from it."""
    long_body = " ".join(f"сўз{n}" for n in range(50000))
    writer = ArchiveWriter(str(tmp_path / "a.db"), store_raw=False)
    archive = writer.archive
    assert archive is not None
    archive.upsert_article(_article(1, long_body))
    with archive.batch():
        assert archive.upsert_article(_article(1, long_body + " охири")) == "updated"
        with pytest.raises((TypeError, AttributeError)):  # fails after its row, body and indexes were rewritten
            archive.upsert_article(_article(1, "Қисқа.", related=[{"position": 0, "url": None}]))
        assert _sqlite_temp_files() == []
    writer.close()
    with sqlite3.connect(tmp_path / "a.db") as con:
        assert con.execute("SELECT body FROM article_bodies").fetchall() == [(long_body + " охири",)]
        assert con.execute("SELECT count(*) FROM article_versions").fetchone()[0] == 1
        con.execute("INSERT INTO articles_fts (articles_fts) VALUES ('integrity-check')")
        assert {doc for doc, *_ in folded_index(con)} == {1}


def test_an_exception_leaving_the_batch_rolls_it_back(tmp_path: Path) -> None:
    with Archive(tmp_path / "a.db") as archive:
        archive.upsert_article(_article(1, "Биринчи."))
        with pytest.raises(RuntimeError), archive.batch():
            archive.upsert_article(_article(2, "Иккинчи."))
            raise RuntimeError("the caller gave up")
        assert archive.db.execute("SELECT count(*) FROM articles").fetchone()[0] == 1
        assert archive.upsert_article(_article(3, "Учинчи.")) == "new", "writes outside a batch work again"
        with pytest.raises(Exception, match="does not nest"), archive.batch(), archive.batch():
            pass
        with pytest.raises(Exception, match="cannot run inside"), archive.batch():
            archive.start_crawl(spider="siyosat", site=None, start_url=None)


BATCH_ON_A_FULL_DISK = textwrap.dedent("""
    import resource, sqlite3, sys
    from newscrawl.archive import Archive, ArchiveError
    path, limit, words = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    archive = Archive(path)
    resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))  # Python ignores SIGXFSZ: writes fail with EFBIG
    failed_items = 0
    try:
        with archive.batch():
            for n in range(100, 130):
                article = {"url": f"https://e.uz/kr/news/{n}/", "title": f"Сарлавҳа {n}",
                           "body": " ".join(f"сўз{n}x{i}" for i in range(words)), "fetched_at": "2025-11-20"}
                try:
                    archive.upsert_article(article)
                except (sqlite3.Error, ArchiveError):
                    failed_items += 1
    except (sqlite3.Error, ArchiveError) as exc:
        print(f"batch failed: {type(exc).__name__}: {exc}; items failed before the commit: {failed_items}")
        sys.exit(3)
    print("batch committed")
""")


@pytest.mark.parametrize(("words", "failed_items"), [(1000, "0"), (4000, "[1-9][0-9]*")])
def test_a_failed_commit_raises_and_leaves_the_file_as_before(tmp_path: Path, words: int, failed_items: str) -> None:
    """30 articles of `words` words, one batch, too little room: at 1000 words the batch fits SQLite's page cache,
    so every item succeeds and the commit fails; at 4000 the cache spills mid-batch, items fail, SQLite rolls the
    batch back, and the items after them and the batch's end say so."""
    path = tmp_path / "a.db"
    with Archive(path) as archive:
        archive.upsert_article(_article(1, "Биринчи."))
        archive.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    limit = path.stat().st_size + 100_000  # the batch needs about 1 MB in the WAL, all written at its commit
    result = subprocess.run([sys.executable, "-c", BATCH_ON_A_FULL_DISK, str(path), str(limit), str(words)],
                            cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 3, result.stdout + result.stderr
    assert re.fullmatch(f"batch failed: .*; items failed before the commit: {failed_items}\n", result.stdout)
    with Archive(path) as archive:
        archive.quick_check()
        assert [r[0] for r in archive.db.execute("SELECT url FROM articles")] == ["https://e.uz/kr/news/1/"]
        assert archive.upsert_article(_article(2, "Иккинчи.")) == "new"
        archive.db.execute("INSERT INTO articles_fts (articles_fts) VALUES ('integrity-check')")


def test_raw_pages_get_a_dictionary_per_site(tmp_path: Path) -> None:
    pages = [p.body for path, p in synthetic_site(codec.TRAIN_PAGES + 6).items() if "/news/" in path]
    assert len(pages) > codec.TRAIN_PAGES
    with Archive(tmp_path / "a.db") as archive:
        archive.store_page(url="https://other.uz/a/", final_url="https://other.uz/a/", status=200, headers={},
                           body=b"<html>other site</html>", fetched_at="2025-11-20T09:00:00+00:00")
        for i, body in enumerate(pages):
            url = f"https://e.uz/kr/news/{i}/"
            archive.store_page(url=url, final_url=url, status=200, headers={"Content-Type": "text/html"}, body=body,
                               fetched_at="2025-11-20T09:00:00+00:00")
        dictionaries = archive.db.execute("SELECT id, site, samples FROM page_dictionaries").fetchall()
        assert dictionaries == [(1, "e.uz", codec.TRAIN_PAGES)]
        stored = dict(archive.db.execute("SELECT final_url, compression FROM pages").fetchall())
        assert stored.pop("https://other.uz/a/") == "zstd", "another site's page is not compressed with it"
        assert set(stored.values()) == {"zstd:dict=1"}, "the pages it was trained on were recompressed with it"
    with Archive(tmp_path / "a.db", readonly=True) as reader:  # a new reader loads the dictionary from the file
        got = {p["final_url"]: p["body"] for p in reader.latest_pages()}
    assert [got[f"https://e.uz/kr/news/{i}/"] for i in range(len(pages))] == pages
    assert got["https://other.uz/a/"] == b"<html>other site</html>"


def test_an_unknown_compression_is_a_clear_error(tmp_path: Path) -> None:
    with Archive(tmp_path / "a.db") as archive:
        with pytest.raises(Exception, match="unknown page compression 'lz4'"):
            archive.decompress(b"x", "lz4")
        with pytest.raises(Exception, match="page dictionary 7 is missing"):
            archive.decompress(b"x", "zstd:dict=7")
        with pytest.raises(Exception, match="does not decompress as gzip"):
            archive.decompress(b"not gzip", "gzip")


def test_export_reads_bodies_and_links_of_both_schemas(tmp_path: Path) -> None:
    """Export opens read-only: a version-9 file (not migrated) and a version-10 file give the same rows."""
    from newscrawl.export import iter_articles

    old = v9_archive(tmp_path / "old.db")
    new = v9_archive(tmp_path / "new.db")
    Archive(new).close()
    rows = []
    for path in (old, new):
        with Archive(path, readonly=True) as archive:
            rows.append(sorted(iter_articles(archive.db), key=lambda r: r["id"]))
    assert [r["body"] for r in rows[0]] == [r["body"] for r in rows[1]] == [a["body"] for a in V9_ARTICLES]
    assert [len(r["related_links"]) for r in rows[1]] == [2, 1, 0]
    assert [r["related_links"] for r in rows[0]] == [r["related_links"] for r in rows[1]]
    assert json.dumps(rows[1][0]["related_links"][0], ensure_ascii=False).count("Savdo oʻsdi") == 1


def test_live_fold_is_the_fold_the_folded_index_holds() -> None:
    """Taking a changed article out of the contentless articles_search means handing FTS5 fold() of its old text:
    that works only while the live fold() is the one the stored rows were folded with (translit_v1 for rows
    migrated from version 9). A change to fold() needs a migration that rebuilds articles_search; this test fails
    first, to say so."""
    from translit_cases import FOLD_GROUPS, LATIN_VARIANTS, PAIRS

    from newscrawl.migrations import translit_v1
    from newscrawl.translit import fold

    texts = [t for pair in PAIRS for t in (pair.cyrillic, pair.latin)]
    texts += [t for pair in LATIN_VARIANTS for t in pair] + [t for group in FOLD_GROUPS for t in group]
    assert len(texts) > 100
    assert [fold(t) for t in texts] == [translit_v1.fold(t) for t in texts]
