"""The `newscrawl` command: one subcommand per module in this package, each with add_parser() and run()."""

from __future__ import annotations

import argparse
import importlib
import json
import os
import sqlite3
import sys
import traceback
from collections.abc import Callable
from datetime import date, datetime
from typing import TYPE_CHECKING, Any, NoReturn

if TYPE_CHECKING:
    from newscrawl.archive import Archive

EXIT_USAGE = 2
EXIT_BUG = 1  # what Python itself exits with for an uncaught exception
EXIT_INTERRUPTED = 130  # what a shell reports for a process ended by SIGINT
# SQLite stores integers in 64 bits: a larger --limit or count cannot even be passed to a query.
SQLITE_MAX_INT = 2**63 - 1


class CommandError(ValueError):
    """A problem the user can act on (a page that cannot be fetched, a port that is taken): one line, exit 2.

    A ValueError so code that already expects one keeps working; main() reports only this family and the other
    expected errors (expected_error) as one line, never a bare ValueError, which is a bug."""


class Parser(argparse.ArgumentParser):
    """argparse with a usage error on one line (which option, what is wrong), for cron mail and scripts."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message} (see {self.prog} --help)\n")

SUBCOMMANDS = ("crawl", "latest", "show", "search", "stats", "export", "reparse", "extract", "savefixture", "serve",
               "archiver", "enqueue", "worker")  # the last three: the distributed crawl (docs/distributed.md)


def package_version() -> str:
    """The installed distribution's version (pyproject.toml), as pip and `pip show newscrawl` see it."""
    from importlib.metadata import PackageNotFoundError, version
    try:
        return version("newscrawl")
    except PackageNotFoundError:  # run from a source tree that was never installed
        return "unknown (not installed)"


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(prog="newscrawl", description="Crawl a news category into a SQLite archive "
                                     "and work with the archive.",
                    epilog="`newscrawl COMMAND --help` describes a command. Times: publication times are shown "
                           "as the site published them (+05:00 when it gave no zone); crawl and fetch times in "
                           "UTC, as stored and as Datasette shows them.")
    parser.add_argument("--version", action="version", version=f"newscrawl {package_version()}",
                        help="print the installed version and exit")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in SUBCOMMANDS:
        module = importlib.import_module(f"newscrawl.cli.{name}")
        sub = module.add_parser(subparsers)
        sub.set_defaults(run=module.run)
    return parser


def time_argument(text: str) -> str:
    """argparse type for --since/--until: a date or an ISO datetime, checked up front (as either bound)."""
    from newscrawl.dates import time_bound

    try:
        time_bound(text)
        time_bound(text, end_of_day=True)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    except OverflowError:
        raise argparse.ArgumentTypeError(f"{text!r} is out of range") from None
    return text


def date_argument(text: str) -> str:
    """argparse type for a plain YYYY-MM-DD date."""
    try:
        date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date: {text!r} (use YYYY-MM-DD)") from None
    return text


def datetime_argument(text: str) -> datetime:
    """argparse type for an ISO 8601 datetime."""
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an ISO 8601 datetime: {text!r}") from None


def bounded_int(low: int, high: int) -> Callable[[str], int]:
    """argparse type for an integer in [low, high] (no overflow deeper down: SQLite, timedelta, ports)."""
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"{value} is out of range ({low} to {high})")
        return value
    return parse


def checked(validate: Callable[[str], Any]) -> Callable[[str], Any]:
    """argparse type from a validator that raises ValueError with a message."""
    def parse(text: str) -> Any:
        try:
            return validate(text)
        except ValueError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None
    return parse


def check_profile(profile: str) -> None:
    """Load a named/TOML profile once up front, so a bad one fails before any file or network activity."""
    from newscrawl.sites import load_profile
    if profile not in ("auto", "none"):
        load_profile(profile)


def open_archive(db: str) -> Archive:
    """The archive opened read-only and quick-checked, so damage is one clear line before any output."""
    from newscrawl.archive import READ_QUICK_CHECK_SECONDS, SCHEMA, Archive, ArchiveError
    archive = Archive(db, readonly=True)
    try:
        archive.quick_check(READ_QUICK_CHECK_SECONDS)
        if not SCHEMA.applied(archive.db):
            raise ArchiveError(f"archive {db} is empty: nothing has been crawled into it yet")
    except BaseException:
        archive.close()
        raise
    return archive


def add_db_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--db", default="data/news.db", help="archive file (default: data/news.db)")


def add_json_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true",
                        help="print JSON instead of text, for scripts (UTF-8, one document)")


def setting_values(items: list[str]) -> dict[str, str]:
    """The `-s NAME=VALUE` options of a command that starts crawls, as a dict; a malformed one is a usage error."""
    settings = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not name:
            raise CommandError(f"bad -s {item!r}: expected NAME=VALUE")
        settings[name] = value
    return settings


def print_json(value: Any) -> None:
    """One JSON document on stdout, UTF-8 text as is (not \\u escapes), whatever the terminal's encoding."""
    sys.stdout.flush()
    sys.stdout.buffer.write(json.dumps(value, ensure_ascii=False, indent=2).encode("utf-8") + b"\n")
    sys.stdout.buffer.flush()


def expected_error(exc: BaseException, db: str | None) -> BaseException | None:
    """The one-line form of an error the user can act on, or None for anything else (a bug)."""
    from newscrawl.archive import ArchiveError
    from newscrawl.arguments import ArgumentProblem
    from newscrawl.safe_write import UnsafeTarget
    from newscrawl.sites import ProfileError
    if isinstance(exc, sqlite3.DatabaseError):  # damage SQLite found only when a query reached it
        return ArchiveError(f"archive {db or ''} cannot be read: {exc}")
    if isinstance(exc, OSError) and exc.strerror:  # a file the user named, a full disk, a refused connection
        return CommandError(f"{exc.filename}: {exc.strerror}" if exc.filename else exc.strerror)
    if isinstance(exc, (ArchiveError, CommandError, ProfileError, UnsafeTarget, ArgumentProblem)):
        return exc
    return None


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help, or a usage error argparse has already explained
        return int(exc.code or 0)
    if args.command is None:  # bare `newscrawl`: what it can do, as --help says it (asked for, so exit 0)
        parser.print_help()
        return 0
    try:
        return int(args.run(args) or 0)
    except BrokenPipeError:
        return 0
    except KeyboardInterrupt:  # Ctrl-C: output files are left as they were (safe_write), no traceback
        print(f"newscrawl {args.command}: interrupted", file=sys.stderr)
        # The interrupt can land inside a library's constructor (warcio's SpooledTemporaryFile), leaving a
        # half-built object whose __del__ prints an "Exception ignored" traceback at exit: the cleanup that
        # matters (the partial output file) is done, so leave without running finalizers.
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(EXIT_INTERRUPTED)
    except Exception as exc:  # noqa: BLE001 - sorted below: expected errors are one line, the rest re-shown
        from newscrawl.lock import EXIT_LOCKED, ArchiveLocked
        if isinstance(exc, ArchiveLocked):
            print(f"newscrawl {args.command}: {exc}", file=sys.stderr)
            return EXIT_LOCKED
        expected = expected_error(exc, getattr(args, "db", None))
        if expected is not None:  # a clear one-line error instead of a traceback
            print(f"newscrawl {args.command}: {expected}", file=sys.stderr)
            return EXIT_USAGE
        # a bug: the whole traceback, so it can be reported and fixed, and the exit status of a crash
        traceback.print_exc()
        print(f"newscrawl {args.command}: unexpected error (a bug in newscrawl): {type(exc).__name__}: {exc}",
              file=sys.stderr)
        return EXIT_BUG


if __name__ == "__main__":
    sys.exit(main())
