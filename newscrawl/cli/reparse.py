"""`newscrawl reparse`: run the current extractors over stored raw pages and update articles, no network."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import datetime
from typing import Any

from newscrawl.archive import Archive
from newscrawl.cli import add_db_argument, bounded_int, check_profile, date_argument, open_archive
from newscrawl.extract import extract_article
from newscrawl.lock import acquire
from newscrawl.pages.text import content_type

# Problems a value kept from the listing card makes untrue: the field's "no_<field>" code (ProblemCode values).
MISSING_CODES = {"title": "no_title", "lead": "no_lead", "published_at": "no_published_at"}


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
    parser.add_argument("--wait", type=bounded_int(0, 10**7), metavar="SECONDS",
                        help="while a crawl is writing to the archive, wait at most this long for it to finish, "
                             "then exit 75 (default: wait as long as it runs; 0: do not wait)")
    return parser


def reparse(archive: Archive, *, since: str | None = None, url: str | None = None,
            profile: str = "auto") -> tuple[int, int, dict[str, int]]:
    """Re-extract every selected page and store everything derived from it again (fields, precision, provenance,
    problems, related links, the search index); the archive keeps versions by content hash as for a crawl.
    Returns (pages seen, articles whose stored state changed, changes per column, `related` for the block)."""
    pages = changed = 0
    fields: dict[str, int] = {}
    for page in archive.latest_pages(since=since, url=url):
        pages += 1
        old = archive.article(page["final_url"])
        before = archive.derived_state(page["final_url"])
        new = extract_article(page["body"], page["final_url"], datetime.fromisoformat(page["last_fetched_at"]),
                              profile=profile, content_type=content_type(page["headers"]))
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
            pages, changed, fields = reparse(archive, since=args.since, url=args.url, profile=args.profile)
    finally:
        lock.release()
    detail = ", ".join(f"{k} {v}" for k, v in sorted(fields.items(), key=lambda kv: -kv[1])) or "no field changed"
    print(f"reparsed {pages} pages: {changed} articles changed ({detail})")
    return 0
