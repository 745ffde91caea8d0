"""`newscrawl latest`: the newest articles, one block each, to pick one to `newscrawl show`."""

from __future__ import annotations

import argparse

from newscrawl.cli import (
    SQLITE_MAX_INT,
    add_db_argument,
    add_json_argument,
    bounded_int,
    open_archive,
    print_json,
)
from newscrawl.reading import latest


def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(
        "latest", help="the newest articles (id, time, category, title, URL)",
        description="List the newest archived articles by publication time, newest first (undated ones last). "
                    "Times are as the site published them (+05:00 when the page gave no zone). Read one with "
                    "`newscrawl show ID`.")
    parser.add_argument("-n", "--limit", type=bounded_int(1, SQLITE_MAX_INT), default=10,
                        help="how many articles (default 10)")
    parser.add_argument("--category", help="only this category, in either script or any case "
                                           "(Сиёсат = Siyosat = siyosat)")
    add_json_argument(parser)
    add_db_argument(parser)
    return parser


def when(published_at: str | None) -> str:
    """"2025-11-14 19:48 +05:00" from the stored ISO form; "(no date)" for none."""
    if not published_at:
        return "(no date)"
    return f"{published_at[:16].replace('T', ' ')} {published_at[19:]}".rstrip()


def run(args: argparse.Namespace) -> int:
    with open_archive(args.db) as archive:
        rows = latest(archive.db, args.limit, category=args.category)
    if args.json:
        print_json(rows)
        return 0
    if not rows:
        print("no articles" + (f" in category {args.category!r}" if args.category is not None else ""))
        return 0
    for row in rows:
        category = f"  [{row['category']}]" if row["category"] else ""
        print(f"#{row['id']}  {when(row['published_at'])}{category}\n  {row['title'] or '(untitled)'}\n"
              f"  {row['url']}\n")
    return 0
