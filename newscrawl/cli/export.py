"""`newscrawl export`: articles as JSON Lines or CSV, or every raw page as WARC, streamed to stdout or a file."""

from __future__ import annotations

import argparse
import io
import sys
from pathlib import Path

from newscrawl.cli import CommandError, add_db_argument, open_archive, time_argument


def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(
        "export", help="export articles (jsonl, csv) or raw pages (warc)",
        description="Stream the archive out without loading it into memory: articles oldest first as JSON Lines "
                    "(each with its related links under \"related_links\") or CSV, or the stored raw pages as a "
                    "gzipped WARC file. --since/--until/--category select articles for every format (for warc: "
                    "the pages of those articles).")
    parser.add_argument("--format", choices=("jsonl", "csv", "warc"), default="jsonl",
                        help="jsonl: one article per line with its related links; csv: one row per article with a "
                             "header; warc: stored raw pages, gzipped (needs -o or a pipe)")
    parser.add_argument("--since", type=time_argument,
                        help="articles published on or after DATE or DATETIME (Tashkent if no offset)")
    parser.add_argument("--until", type=time_argument, help="articles published up to DATE (whole day) or DATETIME")
    parser.add_argument("--category", help="only this category, in either script or any case (Сиёсат = Siyosat "
                                           "= siyosat: it is compared as category_key)")
    parser.add_argument("--bom", "--excel", action="store_true", dest="bom",
                        help="csv only: begin with a UTF-8 byte order mark, so Excel shows Cyrillic correctly")
    add_db_argument(parser)
    parser.add_argument("-o", "--output", help="output file (default: stdout)")
    return parser


def run(args: argparse.Namespace) -> int:
    from newscrawl.export import export_articles, export_warc  # warcio: only an export pays for it
    from newscrawl.safe_write import atomic_binary, atomic_text, check_stream, check_target

    if args.bom and args.format != "csv":
        raise CommandError("--bom (--excel) is for --format csv only")
    if args.format == "warc" and not args.output and sys.stdout.isatty():
        raise CommandError("refusing to write a gzipped WARC file to the terminal: give -o FILE or pipe it")
    # The target is checked before the archive is even opened: it must not be the archive or a file beside it.
    if args.output:
        check_target(args.output, args.db)
    else:
        check_stream(sys.stdout, args.db)
    selection = {"since": args.since, "until": args.until, "category": args.category}
    with open_archive(args.db) as archive:
        if args.format == "warc":
            if args.output:
                with atomic_binary(args.output, db=args.db) as binary:
                    count = export_warc(archive, binary, Path(args.output).name, **selection)
            else:
                count = export_warc(archive, sys.stdout.buffer, **selection)
            what = "pages"
        else:
            if args.output:
                with atomic_text(args.output, db=args.db) as out:
                    count = export_articles(archive, out, args.format, bom=args.bom, **selection)
            else:
                out = io.TextIOWrapper(sys.stdout.buffer, encoding="utf-8", newline="", write_through=False)
                count = export_articles(archive, out, args.format, bom=args.bom, **selection)
                out.flush()
                out.detach()
            what = "articles"
    print(f"newscrawl export: {count} {what} written to {args.output or 'stdout'}", file=sys.stderr)
    return 0
