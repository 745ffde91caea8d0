"""`newscrawl export`: articles as JSON Lines or CSV, or every raw page as WARC, streamed to stdout or a file."""

from __future__ import annotations

import argparse
import io
import sys
from pathlib import Path

from newscrawl.cli import add_db_argument, open_archive, time_argument
from newscrawl.safe_write import atomic_binary, atomic_text, check_stream, check_target


def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    parser = subparsers.add_parser("export", help="export articles (jsonl, csv) or raw pages (warc)",
                                   description="Stream the archive out without loading it into memory.")
    parser.add_argument("--format", choices=("jsonl", "csv", "warc"), default="jsonl",
                        help="jsonl: one article per line with related links; csv: one row per article with a "
                             "header; warc: every stored raw page, gzipped")
    parser.add_argument("--since", type=time_argument,
                        help="articles published on or after DATE or DATETIME (Tashkent if no offset)")
    parser.add_argument("--until", type=time_argument, help="articles published up to DATE (whole day) or DATETIME")
    parser.add_argument("--category", help="only articles of this category, as stored (e.g. Сиёсат)")
    add_db_argument(parser)
    parser.add_argument("-o", "--output", help="output file (default: stdout)")
    return parser


def run(args: argparse.Namespace) -> int:
    from newscrawl.export import export_articles, export_warc  # warcio: only an export pays for it

    # The target is checked before the archive is even opened: it must not be the archive or a file beside it.
    if args.output:
        check_target(args.output, args.db)
    else:
        check_stream(sys.stdout, args.db)
    with open_archive(args.db) as archive:
        if args.format == "warc":
            if args.output:
                with atomic_binary(args.output, db=args.db) as binary:
                    count = export_warc(archive, binary, Path(args.output).name)
            else:
                count = export_warc(archive, sys.stdout.buffer)
            what = "pages"
        else:
            if args.output:
                with atomic_text(args.output, db=args.db) as out:
                    count = export_articles(archive, out, args.format, since=args.since, until=args.until,
                                            category=args.category)
            else:
                out = io.TextIOWrapper(sys.stdout.buffer, encoding="utf-8", newline="", write_through=False)
                count = export_articles(archive, out, args.format, since=args.since, until=args.until,
                                        category=args.category)
                out.flush()
                out.detach()
            what = "articles"
    print(f"newscrawl export: {count} {what} written to {args.output or 'stdout'}", file=sys.stderr)
    return 0
