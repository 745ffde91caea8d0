"""`newscrawl search QUERY`: cross-script full-text search over the archive, newest first."""

from __future__ import annotations

import argparse
import dataclasses
import sys

from newscrawl.cli import (
    SQLITE_MAX_INT,
    add_db_argument,
    add_json_argument,
    bounded_int,
    open_archive,
    print_json,
    time_argument,
)
from newscrawl.cli.latest import when

BOLD = ("\033[1m", "\033[0m")


def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(
        "search", help="find articles by words in any script (Мирзиёев = Mirziyoyev)",
        description="Words must all match and match the words they begin (Тоқаев finds Тоқаевни); "
                    '"quoted phrase", OR between terms, -word to exclude. Cyrillic, Latin and every '
                    "apostrophe variant find the same articles. See docs/search.md.")
    parser.add_argument("query", nargs="+", help="search words")
    add_db_argument(parser)
    parser.add_argument("--limit", type=bounded_int(0, SQLITE_MAX_INT), default=20,
                        help="most matches to show (default 20, 0 = all)")
    parser.add_argument("--since", type=time_argument,
                        help="only articles published on or after DATE or DATETIME (Tashkent if no offset)")
    add_json_argument(parser)
    return parser


def run(args: argparse.Namespace) -> int:
    from newscrawl.search import BRACKETS, search  # the archive module: only when searching, not for --help

    highlight = BOLD if sys.stdout.isatty() and not args.json else BRACKETS
    with open_archive(args.db) as archive:
        hits = search(archive.db, " ".join(args.query), limit=args.limit or None, since=args.since,
                      highlight=highlight)
    if args.json:  # a list, empty when nothing matched; the snippet marks matches with [brackets]
        print_json([dataclasses.asdict(hit) for hit in hits])
        return 0
    if not hits:
        print("no matches")
        return 0
    for hit in hits:
        print(f"{when(hit.published_at)}  {hit.title or '(untitled)'}\n  {hit.url}\n  {hit.snippet}\n")
    return 0
