"""The `newscrawl` command: one subcommand per module in this package, each with add_parser() and run()."""

from __future__ import annotations

import argparse
import importlib
import sys

from newscrawl.dates import time_bound

SUBCOMMANDS = ("crawl", "search", "stats", "export", "reparse", "extract", "savefixture", "serve")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="newscrawl", description="Crawl a news category into a SQLite archive "
                                     "and work with the archive.")
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in SUBCOMMANDS:
        module = importlib.import_module(f"newscrawl.cli.{name}")
        sub = module.add_parser(subparsers)
        sub.set_defaults(run=module.run)
    return parser


def time_argument(text: str) -> str:
    """argparse type for --since/--until: a date or an ISO datetime, checked up front."""
    try:
        time_bound(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return text


def add_db_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--db", default="data/news.db", help="archive file (default: data/news.db)")


def main(argv: list[str] | None = None) -> int:
    try:
        args = build_parser().parse_args(argv)
    except SystemExit as exc:  # --help, or a usage error argparse has already explained
        return int(exc.code or 0)
    try:
        return int(args.run(args) or 0)
    except BrokenPipeError:
        return 0
    except Exception as exc:  # a clear one-line error instead of a traceback
        from newscrawl.archive import ArchiveError
        if isinstance(exc, (ArchiveError, FileNotFoundError, ValueError)):
            print(f"newscrawl {args.command}: {exc}", file=sys.stderr)
            return 2
        raise


if __name__ == "__main__":
    sys.exit(main())
