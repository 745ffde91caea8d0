"""`newscrawl serve`: browse and query the archive read-only in Datasette, with newscrawl's metadata."""

from __future__ import annotations

import argparse
import re
import socket
import sys
import tempfile
from pathlib import Path

from newscrawl.cli import CommandError, add_db_argument, bounded_int, open_archive

URI_SAFE = re.compile(r"[\w/.\-]+")


def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    parser = subparsers.add_parser("serve", help="browse the archive in Datasette (read-only)",
                                   description="Serve the archive read-only with Datasette: table pages, full-text "
                                               "search, canned queries (articles_per_day, mentions_per_week, ...).")
    add_db_argument(parser)
    parser.add_argument("--host", default="127.0.0.1", help="interface to listen on (default: 127.0.0.1)")
    parser.add_argument("--port", type=bounded_int(1, 65535), default=8001, help="port (default: 8001)")
    parser.add_argument("--open", action="store_true", help="open a browser window")
    return parser


def setting_text(value: object) -> str:
    return ("on" if value else "off") if isinstance(value, bool) else str(value)


def datasette_argv(db: Path, host: str, port: int, open_browser: bool = False) -> list[str]:
    """Arguments for `datasette`: the file as a mutable database, which Datasette opens `mode=ro`: it reads the
    WAL and takes SQLite's locks, so it shows what a running or killed crawl committed (immutable would not);
    no write reaches it (newscrawl.datasette makes every connection query_only). The metadata, templates and
    pages come from the newscrawl plugin, as they do for a plain `datasette data/news.db`."""
    from newscrawl.datasette import SETTINGS

    argv = ["serve", str(db), "--host", host, "--port", str(port)]
    for name, value in SETTINGS.items():
        argv += ["--setting", name, setting_text(value)]
    if open_browser:
        argv.append("--open")
    return argv


def check_listen(host: str, port: int) -> None:
    """Bind once up front, so a bad --host or a taken --port is one line and exit 2, not Datasette's startup log."""
    try:
        with socket.create_server((host, port)):
            pass
    except OSError as exc:
        raise CommandError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None


def run(args: argparse.Namespace) -> int:
    from newscrawl.datasette import run_datasette

    db = Path(args.db)
    open_archive(args.db).close()  # missing, not an archive, damaged or too new: one line, exit 2
    check_listen(args.host, args.port)
    with tempfile.TemporaryDirectory(prefix="newscrawl-serve-") as tmp:
        if not URI_SAFE.fullmatch(str(db.resolve())):
            # Datasette puts the path into a `file:` URI unquoted; a link with a plain name (SQLite follows it,
            # -wal included) keeps '#', '?' or '%' in the real name from being read as URI syntax.
            link = Path(tmp) / f"{db.stem if URI_SAFE.fullmatch(db.stem) else 'archive'}.db"
            link.symlink_to(db.resolve())
            db = link
        print(f"newscrawl serve: http://{args.host}:{args.port}/{db.stem} (read-only, Ctrl-C to stop)",
              file=sys.stderr, flush=True)
        return run_datasette(datasette_argv(db, args.host, args.port, args.open))
