"""`newscrawl crawl`: run the siyosat spider (the demo site when no real site is configured), quietly, with a
progress line on a terminal, and report the run in one summary line."""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, TextIO

CLEAR_LINE = "\033[K"
NEW_SHOWN = 5
"""New articles listed above the summary line; `newscrawl latest` shows more."""

def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(
        "crawl", help="crawl a category into the archive and print one summary line",
        description="Run the crawl (scrapy crawl SPIDER) into the archive. Quiet by default: only Scrapy's "
                    "warnings and errors, a progress line on a terminal (pages, articles done of the total known "
                    "so far, rate, ETA once the listing is walked), and one final summary line on stdout: the "
                    "verdict, new, updated, unchanged, not modified, errors, duration and the archive. With no "
                    "start URL or site configured it crawls the bundled demo site on 127.0.0.1. Exit status: "
                    "0 ok, 1 failed, 2 usage, 75 another run holds the archive.")
    parser.add_argument("--db", default="data/news.db", help="archive file (default: data/news.db)")
    parser.add_argument("--spider", default="siyosat", help="spider to run (default: siyosat; `category` takes "
                                                            "-s NEWSCRAWL_SITE and a category)")
    parser.add_argument("--start-url", help="category URL (default: NEWSCRAWL_START_URL, else the demo site)")
    parser.add_argument("--max-pages", help="listing pages to follow (0 = no limit; default NEWSCRAWL_MAX_PAGES)")
    parser.add_argument("--since", help="backfill articles published on or after YYYY-MM-DD")
    parser.add_argument("-s", "--set", action="append", default=[], metavar="NAME=VALUE",
                        help="any Scrapy/newscrawl setting, as with scrapy -s (e.g. -s LOG_FILE=logs/crawl.log)")
    parser.add_argument("-v", "--verbose", action="store_true",
                        help="Scrapy's own log (LOG_LEVEL, INFO by default) on stderr instead of the progress line; "
                             "giving -s LOG_LEVEL=... does the same")
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


class Terminal:
    """stderr with one progress line kept at its bottom on a terminal: other lines are written above it."""

    def __init__(self, stream: TextIO, progress: bool) -> None:
        self.stream = stream
        self.progress = progress
        self.shown = ""
        self.lock = threading.Lock()

    def status(self, text: str) -> None:
        if not self.progress:
            return
        with self.lock:
            width = shutil.get_terminal_size().columns - 1
            self.shown = text[:width]
            self.stream.write(f"\r{CLEAR_LINE}{self.shown}")
            self.stream.flush()

    def write(self, text: str) -> None:
        with self.lock:
            if self.shown:
                self.stream.write(f"\r{CLEAR_LINE}")
            self.stream.write(text)
            if self.shown:
                self.stream.write(self.shown)
            self.stream.flush()

    def clear(self) -> None:
        with self.lock:
            if self.shown:
                self.stream.write(f"\r{CLEAR_LINE}")
                self.stream.flush()
                self.shown = ""


def _clock(seconds: float) -> str:
    minutes, secs = divmod(int(seconds), 60)
    return f"{minutes // 60}:{minutes % 60:02d}:{secs:02d}" if minutes >= 60 else f"{minutes}:{secs:02d}"


def progress_line(state: dict[str, Any]) -> str:
    """"crawl 0:12  99 pages  96/240 articles  8.1/s  ETA 0:18  new 40 upd 0 err 0": articles done of those
    found so far ("240+" while listing pages are still being walked; the ETA only once the total is known)."""
    done, total, elapsed = state["articles_done"], state["articles_total"], state["elapsed"]
    rate = done / elapsed if elapsed > 0 else 0.0
    known = not state["listing_pending"]
    line = f"crawl {_clock(elapsed)}  {state['pages']} pages  {done}/{total}{'' if known else '+'} articles  " \
           f"{rate:.1f}/s"
    if known and rate > 0 and total >= done:
        line += f"  ETA {_clock((total - done) / rate)}"
    return line + f"  new {state.get('new', 0)} upd {state.get('updated', 0)} err {state['errors']}"


def _read_progress(fd: int, terminal: Terminal, found: dict[str, str]) -> None:
    """The crawl's progress channel (PROGRESS_FD_ENV): progress states, then its summary line."""
    from newscrawl.extensions import SUMMARY_PREFIX
    with os.fdopen(fd, encoding="utf-8", errors="replace") as channel:
        for line in channel:
            try:
                message = json.loads(line)
            except ValueError:
                continue
            if "summary" in message:
                found["summary"] = message["summary"].split(SUMMARY_PREFIX, 1)[-1].strip()
            else:
                terminal.status(progress_line(message))


def _uses_demo_site(args: argparse.Namespace) -> bool:
    """Whether the crawl will serve the bundled demo site (the crawl command decides the same way)."""
    if args.start_url:
        return False
    try:
        from scrapy.settings import Settings

        from newscrawl.demo.startup import needs_demo_site
        settings = Settings()
        settings.setmodule("newscrawl.settings")
        for setting in args.set:
            name, _, value = setting.partition("=")
            settings.set(name, value, priority="cmdline")
        return needs_demo_site(None, settings, None)
    except Exception:  # a bad profile or setting: the crawl itself reports it
        return False


def run(args: argparse.Namespace) -> int:
    from newscrawl.extensions import PROGRESS_FD_ENV, SUMMARY_PREFIX  # imports Scrapy: only a crawl pays for it

    command = [sys.executable, "-m", "scrapy", "crawl", args.spider, "-s", f"NEWSCRAWL_DB={args.db}"]
    for name, value in (("start_url", args.start_url), ("max_pages", args.max_pages), ("since", args.since)):
        if value is not None:
            command += ["-a", f"{name}={value}"]
    # Quiet: Scrapy's warnings and errors only. -v, or a LOG_LEVEL of one's own, asks for Scrapy's log as it is;
    # a LOG_FILE keeps its log as configured (INFO: the summary line is in it), with the terminal still quiet.
    verbose = args.verbose or any(s.startswith("LOG_LEVEL=") for s in args.set)
    if not verbose and not any(s.startswith("LOG_FILE=") for s in args.set):
        command += ["-s", "LOG_LEVEL=WARNING"]
    for setting in args.set:
        command += ["-s", setting]
    before = last_crawl_id(args.db)
    terminal = Terminal(sys.stderr, progress=not verbose and sys.stderr.isatty())
    if not verbose and _uses_demo_site(args):
        terminal.write("newscrawl crawl: no start URL configured: crawling the bundled demo site on 127.0.0.1\n")
    found: dict[str, str] = {}
    read_fd, write_fd = os.pipe()
    env = {**os.environ, "SCRAPY_SETTINGS_MODULE": "newscrawl.settings", PROGRESS_FD_ENV: str(write_fd)}
    reader = threading.Thread(target=_read_progress, args=(read_fd, terminal, found), daemon=True)
    with _crawl_handles_ctrl_c():
        try:
            proc = subprocess.Popen(command, env=env, stderr=subprocess.PIPE, text=True, errors="replace",
                                    pass_fds=(write_fd,))
        finally:
            os.close(write_fd)  # the crawl holds the only write end: the channel ends when the crawl does
        reader.start()
        with proc:
            assert proc.stderr is not None
            for line in proc.stderr:  # passed through as it comes (above the progress line)
                if SUMMARY_PREFIX in line:  # kept for the report; printed there as the one summary line
                    found.setdefault("summary", line.split(SUMMARY_PREFIX, 1)[1].strip())
                    if not verbose:
                        continue
                terminal.write(line)
        code = proc.wait()
        reader.join(timeout=10)
    terminal.clear()
    if code in (0, 1):
        print_report(args.db, before, code, found.get("summary"))
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
    """The articles this run added (up to NEW_SHOWN), then ONE summary line from this run's crawls row (newer
    than `before`); when the run could not record its verdict (read-only archive, full disk), its summary line
    from the crawl instead."""
    from newscrawl.archive import Archive
    from newscrawl.cli.latest import when

    try:
        with Archive(db_path, readonly=True) as archive:
            crawl = next(archive.db.query("SELECT * FROM crawls WHERE id > ? ORDER BY id DESC LIMIT 1",
                                          [before]), None)
            total = archive.db["articles"].count
            added = list(archive.db.query(
                "SELECT id, published_at, title FROM articles WHERE first_seen_at >= ? "
                "ORDER BY published_at DESC NULLS LAST LIMIT ?", [crawl["started_at"], NEW_SHOWN + 1])) \
                if crawl and crawl["items_new"] else []
    except Exception as exc:  # the archive itself is the problem: one line, no traceback
        print(f"Crawl {'failed' if code else 'finished'} (exit {code}): {summary or 'no summary'}; "
              f"{db_path} cannot be read ({type(exc).__name__}: {exc})")
        return
    if not crawl or crawl["status"] == "running":
        print(f"Crawl {'failed' if code else 'finished'} (exit {code}); the archive has no record of it: "
              + (summary or "see the log for its summary line"))
        return
    if added:
        print("New articles, newest first:")
        for row in added[:NEW_SHOWN]:
            print(f"  #{row['id']:<6} {when(row['published_at']):23}  {row['title']}")
        if crawl["items_new"] > NEW_SHOWN:
            print(f"  ... and {crawl['items_new'] - NEW_SHOWN} more (newscrawl latest -n {crawl['items_new']})")
    dropped = f", {crawl['items_dropped']} dropped" if crawl["items_dropped"] else ""
    duration = f" in {crawl['duration_s']:.1f}s" if crawl["duration_s"] is not None else ""
    print(f"Crawl #{crawl['id']} {crawl['status']}: {crawl['items_new']} new, {crawl['items_updated']} updated, "
          f"{crawl['items_unchanged']} unchanged, {crawl['not_modified']} not modified{dropped}, "
          f"{crawl['errors']} error{'' if crawl['errors'] == 1 else 's'}{duration}; {db_path}: {total} articles"
          + (f" ({crawl['reason']})" if crawl["reason"] else ""))
