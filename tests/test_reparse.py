"""`newscrawl reparse` recomputes everything derived from a stored page, and says honestly what it changed."""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

from archive_checks import folded_index
from conftest import ROOT


def _reparse(db: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "newscrawl.cli", "reparse", "--db", str(db), *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)


def _snapshot(db: Path) -> tuple[list[tuple], list[tuple], list[tuple]]:
    with sqlite3.connect(db) as con:
        articles = con.execute("SELECT url, published_precision, extraction, problems, category_key FROM articles "
                               "ORDER BY url").fetchall()
        related = con.execute("SELECT * FROM related_links ORDER BY article_id, position").fetchall()
        search = folded_index(con)
    return articles, related, search


def test_reparse_restores_related_links_and_precision(demo_archive, tmp_path: Path) -> None:
    """Related links deleted and a precision spoiled on a copy of a crawled archive: reparse puts both back (and
    the provenance and problems spoiled with them), and counts exactly those changes."""
    untouched, db = tmp_path / "untouched.db", tmp_path / "spoiled.db"
    shutil.copy(demo_archive.db, untouched)
    shutil.copy(demo_archive.db, db)
    crawled = _snapshot(db)
    assert crawled[1], "the demo articles have related blocks"
    with sqlite3.connect(db) as con:
        url, linked = con.execute("SELECT a.url, count(*) FROM related_links r JOIN articles a ON a.id = r.article_id "
                                  "GROUP BY a.url ORDER BY a.url LIMIT 1").fetchone()
        spoiled = con.execute("SELECT url FROM articles WHERE published_precision = 'minute' AND url != ? "
                              "AND extraction NOT LIKE '%listing%' ORDER BY url LIMIT 1", [url]).fetchone()[0]
        con.execute("DELETE FROM related_links WHERE article_id = (SELECT id FROM articles WHERE url = ?)", [url])
        con.execute("UPDATE articles SET published_precision = 'day', problems = '[{\"code\": \"no_lead\"}]', "
                    "extraction = '{}' WHERE url = ?", [spoiled])

    # What reparse changes on an unspoiled copy (articles whose date came from the listing card) is the baseline.
    baseline = _reparse(untouched)
    assert baseline.returncode == 0, baseline.stderr
    unspoiled_changes = int(baseline.stdout.split(": ")[1].split()[0])
    result = _reparse(db)
    assert result.returncode == 0, result.stderr
    assert f": {unspoiled_changes + 2} articles changed (" in result.stdout, result.stdout
    for field in ("related 1", "published_precision 1"):
        assert field in result.stdout, result.stdout
    restored = _snapshot(db)
    assert restored == _snapshot(untouched), "the spoiled copy is now exactly what reparse makes of the unspoiled one"
    assert restored[1] == crawled[1], "every related block as the crawl stored it"
    assert [a[:2] for a in restored[0]] == [a[:2] for a in crawled[0]], "every precision as the crawl stored it"
    with sqlite3.connect(db) as con:
        assert con.execute("SELECT count(*) FROM related_links r JOIN articles a ON a.id = r.article_id "
                           "WHERE a.url = ?", [url]).fetchone()[0] == linked
        assert con.execute("SELECT count(*) FROM article_versions").fetchone()[0] == 0

    again = _reparse(db)
    assert ": 0 articles changed (no field changed)" in again.stdout, again.stdout


def _spoil(db: Path) -> None:
    """The same damage on each copy: related blocks gone, a precision and provenance wrong."""
    with sqlite3.connect(db) as con:
        con.execute("DELETE FROM related_links WHERE article_id IN "
                    "(SELECT id FROM articles ORDER BY url LIMIT 5)")
        con.execute("UPDATE articles SET published_precision = 'day', extraction = '{}' "
                    "WHERE url IN (SELECT url FROM articles ORDER BY url DESC LIMIT 5)")


def test_parallel_reparse_leaves_the_archive_exactly_as_one_process_does(demo_archive, tmp_path: Path) -> None:
    """Workers extract, the command alone writes, in page order: byte-for-byte the same archive and report."""
    single, parallel = tmp_path / "single.db", tmp_path / "parallel.db"
    for db in (single, parallel):
        shutil.copy(demo_archive.db, db)
        _spoil(db)
    one = _reparse(single, "--processes", "1")
    two = _reparse(parallel, "--processes", "3")  # more workers than cores: order must still hold
    assert one.returncode == 0 and two.returncode == 0, one.stderr + two.stderr
    assert "related 5" in one.stdout and "published_precision 5" in one.stdout, one.stdout
    assert two.stdout == one.stdout
    with sqlite3.connect(single) as a, sqlite3.connect(parallel) as b:
        assert list(a.iterdump()) == list(b.iterdump())


def test_parallel_extraction_keeps_page_order_and_results(demo_archive) -> None:
    """The pool's answers are the in-process extraction's, page by page, in the order the pages were read."""
    from newscrawl.archive import Archive
    from newscrawl.cli.reparse import _extract, _extract_parallel, _task

    with Archive(demo_archive.db, readonly=True) as archive:
        pages = list(archive.latest_pages())
    expected = [(page["final_url"], _extract(_task(page), "auto")) for page in pages]
    got = [(page["final_url"], article) for page, article in _extract_parallel(pages, "auto", 2)]
    assert len(got) == len(pages) > 16 and got == expected
