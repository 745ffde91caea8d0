"""`newscrawl crawl`: run the siyosat spider (the demo site when no real site is configured) and report."""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager


def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    parser = subparsers.add_parser("crawl", help="crawl a category into the archive and print what was archived")
    parser.add_argument("--db", default="data/news.db", help="archive file (default: data/news.db)")
    parser.add_argument("--spider", default="siyosat")
    parser.add_argument("--start-url", help="category URL (default: NEWSCRAWL_START_URL, else the demo site)")
    parser.add_argument("--max-pages", help="listing pages to follow (0 = no limit)")
    parser.add_argument("--since", help="backfill articles published on or after YYYY-MM-DD")
    parser.add_argument("-s", "--set", action="append", default=[], metavar="NAME=VALUE",
                        help="any Scrapy/newscrawl setting, as with scrapy -s")
    return parser


@contextmanager
def _crawl_handles_ctrl_c() -> Iterator[None]:
    """A terminal's Ctrl-C reaches this process and the crawl alike: the crawl stops gracefully by itself, so
    this process waits for it (and its report) instead of dying with a KeyboardInterrupt and killing it.
    A handler, unlike SIG_IGN, is reset in the child, which keeps Scrapy's own first/second Ctrl-C handling."""
    previous = signal.signal(signal.SIGINT, lambda signum, frame: None)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def run(args: argparse.Namespace) -> int:
    from newscrawl.extensions import SUMMARY_PREFIX  # imports Scrapy: only a crawl pays for it

    command = [sys.executable, "-m", "scrapy", "crawl", args.spider, "-s", f"NEWSCRAWL_DB={args.db}"]
    for name, value in (("start_url", args.start_url), ("max_pages", args.max_pages), ("since", args.since)):
        if value is not None:
            command += ["-a", f"{name}={value}"]
    for setting in args.set:
        command += ["-s", setting]
    before = last_crawl_id(args.db)
    summary = None
    with _crawl_handles_ctrl_c():
        with subprocess.Popen(command, env={**os.environ, "SCRAPY_SETTINGS_MODULE": "newscrawl.settings"},
                              stderr=subprocess.PIPE, text=True, errors="replace") as proc:
            assert proc.stderr is not None
            for line in proc.stderr:  # passed through as it comes; the summary line is kept
                sys.stderr.write(line)
                if SUMMARY_PREFIX in line:
                    summary = line.split(SUMMARY_PREFIX, 1)[1].strip()
        code = proc.wait()
    if code in (0, 1):
        print_report(args.db, before, code, summary)
    return code


def last_crawl_id(db_path: str) -> int:
    """The newest crawls row id before this run (0 if none or unreadable), so the report shows this run's row."""
    from newscrawl.archive import Archive

    if not os.path.exists(db_path):
        return 0
    try:
        with Archive(db_path, readonly=True) as archive:
            row = next(archive.db.query("SELECT max(id) AS id FROM crawls"), None)
    except Exception:  # an unreadable archive is the crawl's to report
        return 0
    return int(row["id"] or 0) if row else 0


def print_report(db_path: str, before: int = 0, code: int = 0, summary: str | None = None) -> None:
    """This run's crawls row (newer than `before`) and the newest articles; when the run could not record its
    verdict (read-only archive, full disk), its summary line instead."""
    from newscrawl.archive import Archive

    try:
        with Archive(db_path, readonly=True) as archive:
            crawl = next(archive.db.query("SELECT * FROM crawls WHERE id > ? ORDER BY id DESC LIMIT 1",
                                          [before]), None)
            total = archive.db["articles"].count
            newest = list(archive.db.query("SELECT published_at, title, url FROM articles "
                                           "ORDER BY published_at DESC NULLS LAST LIMIT 10"))
    except Exception as exc:  # the archive itself is the problem: one line, no traceback
        crawl, total, newest = None, None, []
        problem: str | None = f"{db_path}: cannot be read ({type(exc).__name__}: {exc})"
    else:
        problem = None
    if crawl and crawl["status"] != "running":
        print(f"\nCrawl #{crawl['id']} {crawl['status']}: {crawl['items_new']} new, {crawl['items_updated']} "
              f"updated, {crawl['items_unchanged']} unchanged, {crawl['items_dropped']} dropped, "
              f"{crawl['errors']} errors" + (f" ({crawl['reason']})" if crawl["reason"] else ""))
    else:
        print(f"\nCrawl {'failed' if code else 'finished'} (exit {code}); the archive has no record of it: "
              + (summary or "see the log for its summary line"))
    if problem:
        print(problem)
        return
    print(f"{db_path}: {total} articles archived. Newest:")
    for row in newest:
        print(f"  {row['published_at'] or '(no date)':25}  {row['title']}")
