"""`newscrawl extract FILE_OR_URL`: print what the extractors make of one page, with each field's layer."""

from __future__ import annotations

import argparse
import json
import urllib.error
import urllib.request
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from newscrawl.cli import CommandError, check_profile, datetime_argument


def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(
        "extract", help="extract one page (file or URL) and print JSON with provenance",
        description="Run the extractors over one article page, a saved file or a URL, and print the fields as "
                    "JSON with the layer that gave each (profile, metadata, generic, card): for writing and "
                    "checking a site profile. Nothing is stored.")
    add_page_arguments(parser)
    return parser


def add_page_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("source", metavar="FILE_OR_URL", help="a saved HTML file, or an http(s) URL to fetch")
    parser.add_argument("--url", help="the page's URL when SOURCE is a file (default: file:// URL)")
    parser.add_argument("--profile", default="auto", help="site profile name or TOML path; 'auto' matches the "
                        "URL's host, 'none' uses only metadata and generic layers (default: auto)")
    parser.add_argument("--fetched-at", type=datetime_argument,
                        help="fetch time for relative dates (ISO 8601; default: now)")


def load_page(args: argparse.Namespace) -> tuple[bytes, str, str | None, datetime]:
    """The page's bytes, its URL, its Content-Type and the fetch time, from a file or over HTTP."""
    fetched_at = args.fetched_at or datetime.now(timezone.utc)
    if args.source.startswith(("http://", "https://")):
        request = urllib.request.Request(args.source, headers={"User-Agent": "newscrawl-extract/0.1"})
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return response.read(), args.url or response.geturl(), response.headers.get("Content-Type"), fetched_at
        except urllib.error.URLError as exc:
            detail = f"HTTP {exc.code}" if isinstance(exc, urllib.error.HTTPError) else str(exc.reason)
            raise CommandError(f"cannot fetch {args.source}: {detail}") from None
    path = Path(args.source)
    return path.read_bytes(), args.url or path.resolve().as_uri(), None, fetched_at


def extracted(args: argparse.Namespace) -> tuple[bytes, str, datetime, dict[str, Any]]:
    from newscrawl.extract import extract_article  # the extractors (lxml, parsel, dates): only when extracting

    check_profile(args.profile)
    body, url, content_type, fetched_at = load_page(args)
    return body, url, fetched_at, extract_article(body, url, fetched_at, profile=args.profile,
                                                  content_type=content_type)


def run(args: argparse.Namespace) -> int:
    _, _, _, article = extracted(args)
    print(json.dumps(article, ensure_ascii=False, indent=2))
    return 0
