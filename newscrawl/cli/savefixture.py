"""`newscrawl savefixture`: save a page and its current extraction as a regression test case."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from newscrawl.cli.extract import add_page_arguments, extracted

FIXTURES = Path("tests/fixtures/pages")


def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    parser = subparsers.add_parser("savefixture", help="save a page + its current output under "
                                   "tests/fixtures/pages/<site>/<case>/ (then fix expected.json if needed)")
    add_page_arguments(parser)
    parser.add_argument("--site", default="generic", help="fixture group, usually the profile name")
    parser.add_argument("--name", required=True, help="case name, e.g. no-lead or redesign-2026")
    parser.add_argument("--dir", default=str(FIXTURES), help=f"fixtures root (default: {FIXTURES})")
    return parser


def run(args: argparse.Namespace) -> int:
    body, url, fetched_at, article = extracted(args)
    case = Path(args.dir) / args.site / args.name
    case.mkdir(parents=True, exist_ok=True)
    (case / "page.html").write_bytes(body)
    (case / "url.txt").write_text(url + "\n", encoding="utf-8")
    (case / "fetched_at.txt").write_text(fetched_at.isoformat() + "\n", encoding="utf-8")
    (case / "profile.txt").write_text(args.profile + "\n", encoding="utf-8")
    (case / "expected.json").write_text(json.dumps(article, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    print(f"saved {case}: check expected.json, then `pytest tests/test_fixture_pages.py` guards it")
    return 0
