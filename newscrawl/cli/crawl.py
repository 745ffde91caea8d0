"""`newscrawl crawl`: run the siyosat spider (the demo site when no real site is configured) and report."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys

from newscrawl.archive import Archive


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


def run(args: argparse.Namespace) -> int:
    command = [sys.executable, "-m", "scrapy", "crawl", args.spider, "-s", f"NEWSCRAWL_DB={args.db}"]
    for name, value in (("start_url", args.start_url), ("max_pages", args.max_pages), ("since", args.since)):
        if value is not None:
            command += ["-a", f"{name}={value}"]
    for setting in args.set:
        command += ["-s", setting]
    code = subprocess.call(command, env={**os.environ, "SCRAPY_SETTINGS_MODULE": "newscrawl.settings"})
    if code in (0, 1):
        print_report(args.db)
    return code


def print_report(db_path: str) -> None:
    with Archive(db_path, readonly=True) as archive:
        crawl = next(archive.db.query("SELECT * FROM crawls ORDER BY id DESC LIMIT 1"), None)
        total = archive.db["articles"].count
        if crawl:
            print(f"\nCrawl #{crawl['id']} {crawl['status']}: {crawl['items_new']} new, {crawl['items_updated']} "
                  f"updated, {crawl['items_unchanged']} unchanged, {crawl['items_dropped']} dropped, "
                  f"{crawl['errors']} errors" + (f" ({crawl['reason']})" if crawl["reason"] else ""))
        print(f"{db_path}: {total} articles archived. Newest:")
        for row in archive.db.query("SELECT published_at, title, url FROM articles "
                                    "ORDER BY published_at DESC NULLS LAST LIMIT 10"):
            print(f"  {row['published_at'] or '(no date)':25}  {row['title']}")
