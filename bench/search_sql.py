"""The SQL of `newscrawl search` and of per-day counts at scale: before and after schema version 10, in one run.

Builds (once, kept at --db) an archive of N articles from the realistic site's ground truth through
Archive.upsert_article in batches (no crawl: the articles are what a perfect extraction gives), then times, as
the median CPU seconds of several runs each:

* the search SQL of schema version 9 (every match sorted by datetime(published_at)) against version 10's
  (a walk of the published_at index with the matches as a filter), for a frequent word, a rare one and a
  two-word phrase;
* articles per day and category: a scan of `articles` against the index idx_articles_day_category.

Reads nothing outside the repository. Usage: python bench/search_sql.py [--articles 100000] [--db PATH]
"""

from __future__ import annotations

import argparse
import sqlite3
import statistics
import sys
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from newscrawl.archive import Archive
from newscrawl.demo.realistic import realistic_site
from newscrawl.search import build_match, search, search_sql

OLD_SEARCH = ("SELECT a.published_at, a.title, a.url, a.lead, b.body FROM articles_search "
              "JOIN articles a ON a.id = articles_search.rowid JOIN article_bodies b ON b.article_id = a.id "
              "WHERE articles_search MATCH ? "
              "ORDER BY datetime(a.published_at) IS NULL, datetime(a.published_at) DESC, a.id DESC LIMIT 20")
PER_DAY_SCAN = ("SELECT substr(+published_at, 1, 10) AS day, category_key, count(*) FROM articles NOT INDEXED "
                "GROUP BY day, category_key")
PER_DAY_INDEX = ("SELECT substr(published_at, 1, 10) AS day, category_key, count(*) FROM articles "
                 "GROUP BY substr(published_at, 1, 10), category_key")


def build(path: Path, n: int) -> None:
    site = realistic_site(n)
    base = "https://example.uz"
    with Archive(path) as archive:
        done = archive.db.execute("SELECT count(*) FROM articles").fetchone()[0]
        for start in range(done, n, 500):
            with archive.batch():
                for i in range(start, min(n, start + 500)):
                    e = site.expected(i)
                    archive.upsert_article({
                        "url": base + e.path, "title": e.title, "lead": e.lead, "body": "\n\n".join(e.body),
                        "published_at": e.published_at.isoformat() if e.published_at else None,
                        "published_text": e.published_text, "fetched_at": "2025-11-20T09:00:00+00:00",
                        "category": e.category, "author": e.author, "image_url": e.image_url, "language": "uz",
                        "script": e.script, "tags": e.tags, "extraction": {}, "problems": [],
                        "related": [{"position": p, "url": base + u, "title": t}
                                    for p, (u, t) in enumerate(e.related)]})
            print(f"  {min(n, start + 500)} articles", file=sys.stderr, end="\r", flush=True)
        archive.db.execute("ANALYZE")


def run(conn: sqlite3.Connection, sql: str, params: list[Any]) -> list[Any]:
    return conn.execute(sql, params).fetchall()


def cpu_ms(run: Callable[[], Any], times: int = 7) -> float:
    spent = []
    for _ in range(times):
        started = time.process_time()
        run()
        spent.append(time.process_time() - started)
    return 1000 * statistics.median(spent)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--articles", type=int, default=100_000)
    parser.add_argument("--db", type=Path, default=Path("/tmp/newscrawl-search-bench.db"))
    args = parser.parse_args()
    build(args.db, args.articles)
    with Archive(args.db, readonly=True) as archive:
        conn = archive.db.conn
        total = conn.execute("SELECT count(*) FROM articles").fetchone()[0]
        print(f"{total} articles in {args.db}")
        for query in ("Ўзбекистон", "Мирзиёев", "Тоқаев", "Олий Мажлис", "Сенатнинг", "йўқсўзқидирилмоқда"):
            expression = build_match(query) or ""
            matches = conn.execute("SELECT count(*) FROM articles_search WHERE articles_search MATCH ?",
                                   [expression]).fetchone()[0]
            sql, params = search_sql(expression)
            old = cpu_ms(partial(run, conn, OLD_SEARCH, [expression]))
            new = cpu_ms(partial(run, conn, sql, params))
            whole = cpu_ms(partial(search, conn, query))
            plan = " / ".join(r[3] for r in conn.execute("EXPLAIN QUERY PLAN " + sql, params))
            print(f"search {query!r:14} {matches:7} matches: SQL of version 9 {old:7.1f} ms, of version 10 "
                  f"{new:6.1f} ms; search() with snippets {whole:6.1f} ms CPU  [{plan}]")
        scan, indexed = cpu_ms(partial(run, conn, PER_DAY_SCAN, [])), cpu_ms(partial(run, conn, PER_DAY_INDEX, []))
        plan = " / ".join(r[3] for r in conn.execute("EXPLAIN QUERY PLAN " + PER_DAY_INDEX))
        print(f"articles per day and category: table scan {scan:.1f} ms, index {indexed:.1f} ms CPU ({plan})")


if __name__ == "__main__":
    main()
