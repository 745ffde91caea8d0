"""CPU per article of the archive's write path: Archive.upsert_article with its raw page, for new articles and
again for the same articles unchanged, on the realistic site's ground truth (no crawl, no network).

Runs the code of the checkout it is in, so the same file run from two checkouts compares them.
Reads nothing outside the repository. Usage: python bench/archive_writes.py [--articles 1000] [--batch N]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from contextlib import nullcontext
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from newscrawl.archive import Archive
from newscrawl.demo.realistic import realistic_site

BASE = "https://example.uz"


def items(n: int) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """(article, raw page) of the first n articles, as a perfect extraction gives them."""
    site = realistic_site(n)
    found = []
    for i in range(n):
        e = site.expected(i)
        url = BASE + e.path
        article: dict[str, Any] = {"url": url, "title": e.title, "lead": e.lead, "body": "\n\n".join(e.body),
                   "published_at": e.published_at.isoformat() if e.published_at else None,
                   "published_text": e.published_text, "fetched_at": "2025-11-20T09:00:00+00:00",
                   "category": e.category, "author": e.author, "image_url": e.image_url, "language": "uz",
                   "script": e.script, "tags": e.tags, "extraction": {}, "problems": [],
                   "related": [{"position": p, "url": BASE + u, "title": t} for p, (u, t) in enumerate(e.related)]}
        page = {"url": url, "final_url": url, "status": 200, "headers": {"Content-Type": "text/html"},
                "body": site[e.path].body.replace(b"{{BASE}}", BASE.encode()), "fetched_at": article["fetched_at"]}
        found.append((article, page))
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--articles", type=int, default=1000)
    parser.add_argument("--batch", type=int, default=0, help="articles per Archive.batch() (default 0: none)")
    args = parser.parse_args()
    work = items(args.articles)
    with tempfile.TemporaryDirectory() as tmp, Archive(Path(tmp) / "news.db") as archive:
        for label in ("new", "unchanged"):
            started = time.process_time()
            for start in range(0, len(work), args.batch or 1):
                with archive.batch() if args.batch else nullcontext():
                    for article, page in work[start:start + (args.batch or 1)]:
                        archive.upsert_article(article, raw_page=page)
            spent = time.process_time() - started
            print(f"{label:9} {1000 * spent / len(work):6.2f} ms CPU per article")


if __name__ == "__main__":
    main()
