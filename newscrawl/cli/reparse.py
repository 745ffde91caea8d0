"""`newscrawl reparse`: run the current extractors over stored raw pages and update articles, no network.

Extraction is CPU-bound, so with --processes N (default: every core) N worker processes extract while this
process reads pages and writes: workers never open the archive, which keeps its single writer, and results are
written in the order the pages were read, so the archive ends exactly as a one-process run leaves it.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections import deque
from collections.abc import Iterable, Iterator
from datetime import datetime
from itertools import chain, islice
from typing import TYPE_CHECKING, Any

from newscrawl.cli import add_db_argument, bounded_int, check_profile, date_argument, open_archive

if TYPE_CHECKING:
    from concurrent.futures import Future

    from newscrawl.archive import Archive

# Problems a value kept from the listing card makes untrue: the field's "no_<field>" code (ProblemCode values).
MISSING_CODES = {"title": "no_title", "lead": "no_lead", "published_at": "no_published_at"}
CHUNK = 8
"""Pages per task sent to a worker: enough to amortise the round trip, few enough to keep every worker busy."""
IN_FLIGHT_PER_PROCESS = 4
"""Tasks queued per worker: the pages held in memory stay bounded whatever the archive's size."""
PARALLEL_FROM = 200
"""Without --processes, fewer pages than this are reparsed in this process: starting workers (each imports the
extractors, about a second) would cost more than they save."""

Page = dict[str, Any]
Task = tuple[bytes, str, str, str | None]
"""What a worker needs of a stored page: body, final URL, fetch time, Content-Type."""


def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(
        "reparse", help="re-extract stored pages and update articles in place",
        description="Run the current extractors over the raw pages stored in the archive (no network) and update "
                    "the articles whose fields changed, recording earlier versions: the fix-a-selector-then-"
                    "repair loop. Waits for a crawl that holds the archive (see --wait).")
    add_db_argument(parser)
    parser.add_argument("--since", type=date_argument, help="only pages fetched on or after this date (YYYY-MM-DD)")
    parser.add_argument("--url", help="only this article URL")
    parser.add_argument("--profile", default="auto", help="site profile (default: match each URL's host)")
    parser.add_argument("--processes", type=bounded_int(1, 256), metavar="N",
                        help="extract in N worker processes while this one reads and writes the archive "
                             f"(default: the number of CPUs, {os.cpu_count() or 1} here, once at least "
                             f"{PARALLEL_FROM} pages are selected; 1: everything in this process)")
    parser.add_argument("--wait", type=bounded_int(0, 10**7), metavar="SECONDS",
                        help="while a crawl is writing to the archive, wait at most this long for it to finish, "
                             "then exit 75 (default: wait as long as it runs; 0: do not wait)")
    return parser


def reparse(archive: Archive, *, since: str | None = None, url: str | None = None,
            profile: str = "auto", processes: int = 1, parallel_from: int = 0) -> tuple[int, int, dict[str, int]]:
    """Re-extract every selected page and store everything derived from it again (fields, precision, provenance,
    problems, related links, the search index); the archive keeps versions by content hash as for a crawl.
    Extraction runs in `processes` worker processes (1: in this one) once at least `parallel_from` pages are
    selected; writes stay here, in page order.
    Returns (pages seen, articles whose stored state changed, changes per column, `related` for the block)."""
    pages = changed = 0
    fields: dict[str, int] = {}
    selected: Iterator[Page] = iter(archive.latest_pages(since=since, url=url))
    ahead: list[Page] = []
    if processes > 1:
        ahead = list(islice(selected, parallel_from))  # read first: a few pages are not worth the workers
    if processes > 1 and len(ahead) == parallel_from:
        extracted = _extract_parallel(chain(ahead, selected), profile, processes)
    else:
        extracted = ((page, _extract(_task(page), profile)) for page in chain(ahead, selected))
    for page, new in extracted:
        pages += 1
        old = archive.article(page["final_url"])
        before = archive.derived_state(page["final_url"])
        if old is not None:
            _keep_listing_values(old, new)
            new["fetched_at"] = old["fetched_at"]
            new["etag"], new["last_modified"] = old["etag"], old["last_modified"]
        archive.upsert_article(new, record_version=False)
        after = archive.derived_state(page["final_url"]) or {}
        diff = [k for k in after if before is None or before.get(k) != after[k]]
        if diff:
            changed += 1
            for key in diff:
                fields[key] = fields.get(key, 0) + 1
    return pages, changed, fields


def _task(page: Page) -> Task:
    from newscrawl.pages.text import content_type

    return page["body"], page["final_url"], page["last_fetched_at"], content_type(page["headers"])


def _extract(task: Task, profile: str) -> dict[str, Any]:
    from newscrawl.extract import extract_article

    body, url, fetched_at, content_type = task
    return extract_article(body, url, datetime.fromisoformat(fetched_at), profile=profile, content_type=content_type)


def _extract_chunk(tasks: list[Task], profile: str) -> list[dict[str, Any]]:
    """A worker's job: the articles of a few pages (an exception here is raised again in the writer)."""
    return [_extract(task, profile) for task in tasks]


def _extract_parallel(pages: Iterable[Page], profile: str, processes: int) -> Iterator[tuple[Page, dict[str, Any]]]:
    """(page, article) in page order, extracted by a pool of workers a bounded number of chunks ahead."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    from newscrawl.workers import sigint_blocked, start_worker

    # spawn, not fork: the parent holds an open SQLite connection, which a forked child must never share
    executor = ProcessPoolExecutor(processes, mp_context=multiprocessing.get_context("spawn"),
                                   initializer=start_worker, initargs=(os.getpid(),))
    queue: deque[tuple[list[Page], Future[list[dict[str, Any]]]]] = deque()
    source = iter(pages)
    try:
        while True:
            while len(queue) < processes * IN_FLIGHT_PER_PROCESS:
                chunk = list(islice(source, CHUNK))
                if not chunk:
                    break
                tasks = [_task(page) for page in chunk]
                for page in chunk:  # the task holds the body until a worker has extracted it; the page need not
                    page.pop("body", None)
                with sigint_blocked():
                    queue.append((chunk, executor.submit(_extract_chunk, tasks, profile)))
            if not queue:
                return
            chunk, future = queue.popleft()
            yield from zip(chunk, future.result(), strict=True)
    finally:
        executor.shutdown(wait=True, cancel_futures=True)


def _keep_listing_values(old: dict[str, Any], new: dict[str, Any]) -> None:
    """Values that came from the listing card cannot be re-derived from the page: keep them."""
    layers = json.loads(old.get("extraction") or "{}")
    for name, layer in layers.items():
        if layer != "listing" or new.get(name):
            continue
        new[name] = old.get(name)
        new["extraction"][name] = "listing"
        if name == "published_at":
            new["published_text"], new["published_precision"] = old["published_text"], old["published_precision"]
    # in the crawl's order, so provenance that did not change is stored as the same text
    new["extraction"] = {**{k: new["extraction"][k] for k in layers if k in new["extraction"]}, **new["extraction"]}
    filled = {code for name, code in MISSING_CODES.items() if new.get(name)}
    new["problems"] = [p for p in new["problems"] if not (isinstance(p, dict) and p.get("code") in filled)]


def run(args: argparse.Namespace) -> int:
    from newscrawl.archive import Archive
    from newscrawl.lock import acquire

    check_profile(args.profile)
    # Checked read-only first: a missing file, another application's database, a newer schema or a damaged file
    # is refused before the lock file is created beside it.
    open_archive(args.db).close()

    def waiting(holder: str) -> None:
        print(f"newscrawl reparse: waiting for the crawl (pid {holder}) writing to {args.db} to finish",
              file=sys.stderr, flush=True)

    # The crawl's own lock: one writer at a time, so reparse never meets "database is locked" mid-way.
    lock = acquire(args.db, wait=float("inf") if args.wait is None else args.wait, on_wait=waiting)
    try:
        with Archive(args.db, create=False) as archive:
            pages, changed, fields = reparse(
                archive, since=args.since, url=args.url, profile=args.profile,
                processes=args.processes or os.cpu_count() or 1,
                parallel_from=0 if args.processes else PARALLEL_FROM)
    finally:
        lock.release()
    detail = ", ".join(f"{k} {v}" for k, v in sorted(fields.items(), key=lambda kv: -kv[1])) or "no field changed"
    print(f"reparsed {pages} pages: {changed} articles changed ({detail})")
    return 0
