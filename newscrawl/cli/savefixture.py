"""`newscrawl savefixture`: save a page and its current extraction as a regression test case."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from newscrawl.cli import checked
from newscrawl.cli.extract import add_page_arguments, extracted

FIXTURES = Path("tests/fixtures/pages")


def _safe_name(text: str) -> str:
    from newscrawl.safe_write import safe_name  # it imports the archive module: only when this command runs

    return safe_name(text)


def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(
        "savefixture", help="save a page + its current output under "
        "tests/fixtures/pages/<site>/<case>/ (then fix expected.json if needed)",
        description="Freeze one page and what the extractors make of it now as a regression test case: the page "
                    "and expected.json go under DIR/SITE/NAME/; correct expected.json by hand where the output "
                    "is wrong, and the fixture tests hold the extractors to it.")
    add_page_arguments(parser)
    parser.add_argument("--site", default="generic", type=checked(_safe_name),
                        help="fixture group, usually the profile name (one plain name)")
    parser.add_argument("--name", required=True, type=checked(_safe_name),
                        help="case name, e.g. no-lead or redesign-2026 (one plain name)")
    parser.add_argument("--dir", default=str(FIXTURES), help=f"fixtures root (default: {FIXTURES})")
    return parser


def run(args: argparse.Namespace) -> int:
    from newscrawl.safe_write import atomic_output, inside

    case = inside(args.dir, args.site, args.name)  # before fetching: a bad target costs no request
    body, url, fetched_at, article = extracted(args)
    case.mkdir(parents=True, exist_ok=True)
    files: dict[str, str | bytes] = {
        "page.html": body, "url.txt": url + "\n", "fetched_at.txt": fetched_at.isoformat() + "\n",
        "profile.txt": args.profile + "\n", "expected.json": json.dumps(article, ensure_ascii=False, indent=2) + "\n",
    }
    for name, content in files.items():
        with atomic_output(case / name, binary=isinstance(content, bytes)) as out:
            out.write(content)
    print(f"saved {case}: check expected.json, then `pytest tests/test_fixture_pages.py` guards it")
    return 0
