"""Screenshots of the Datasette pages for the README, taken in real headless Chromium.

    .venv/bin/python -m newscrawl.datasette.screenshots [--db data/news.db] [--out docs/screenshots]

Without --db it crawls the bundled demo site (on 127.0.0.1) into a temporary archive first. It serves the
archive with `newscrawl serve` on a free port and saves article.png, search.png and chart.png. Needs the test
extra (Playwright) and Debian's `chromium` package (`apt-get install chromium`): Playwright drives the
distribution's browser, so nothing is downloaded at run time.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
# Headless and quiet: no GPU, no sandbox (root in CI containers), and no network of its own (updates, sync).
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
SEARCH_EXAMPLE = "Mirziyoyev"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def crawl_demo(db: Path) -> None:
    """A real crawl of the bundled demo site into db (the demo server listens on 127.0.0.1 only)."""
    settings = ["-s", f"NEWSCRAWL_DB={db}", "-s", "DOWNLOAD_DELAY=0", "-s", "AUTOTHROTTLE_ENABLED=0",
                "-s", "LOG_LEVEL=ERROR"]
    # both scripts' sections, so that the article page shows a story's copy in the other script
    for spider in (["siyosat"], ["category", "-a", "site=demo", "-a", "category=siyosat-latn"]):
        subprocess.run([sys.executable, "-m", "scrapy", "crawl", *spider, *settings], cwd=ROOT, check=True,
                       timeout=300, capture_output=True)


@contextlib.contextmanager
def serving(db: Path, *extra: str) -> Iterator[str]:
    """`newscrawl serve --db db` on a free port (a real subprocess); yields its base URL once it answers."""
    port = free_port()
    command = [sys.executable, "-c", "import sys; from newscrawl.cli import main; sys.exit(main())",
               "serve", "--db", str(db), "--port", str(port), *extra]
    process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"{base}/-/versions.json", timeout=5):
                    break
            except OSError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                assert process.stderr is not None
                raise RuntimeError(f"datasette did not start: {process.stderr.read().decode()[-2000:]}")
            time.sleep(0.1)
        yield base
    finally:
        process.terminate()
        process.wait(timeout=20)
        if process.stderr is not None:
            process.stderr.close()


def launch(playwright: Any) -> Any:
    """Debian's Chromium under Playwright (Playwright's own browser download is never used)."""
    if not Path(CHROMIUM).exists():
        raise FileNotFoundError(f"{CHROMIUM} not found: apt-get install chromium (or set CHROMIUM_PATH)")
    return playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)


def first_article_with_related(db: Path) -> int:
    """An article to show: one with a copy in the other script if any has, then the most related links that are
    archived."""
    import sqlite3

    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        link = "article_id" if "article_id" in {r[1] for r in conn.execute("PRAGMA table_info(related_links)")} \
            else "article_url"
        source = "a.id" if link == "article_id" else "a.url"
        columns = {r[1] for r in conn.execute("PRAGMA table_info(articles)")}
        twinned = ("EXISTS (SELECT 1 FROM articles o WHERE o.story_key = a.story_key AND o.id != a.id)"
                   if "story_key" in columns else "0")
        row = conn.execute(f"SELECT a.id FROM articles a JOIN related_links r ON r.{link} = {source} "
                           f"JOIN articles t ON t.url = r.url GROUP BY a.id ORDER BY {twinned} DESC, count(*) DESC, "
                           "a.id LIMIT 1").fetchone()
        return int(row[0]) if row else 1
    finally:
        conn.close()


def take(db: Path, out: Path) -> list[Path]:
    from playwright.sync_api import sync_playwright

    out.mkdir(parents=True, exist_ok=True)
    shots = []
    with serving(db) as base, sync_playwright() as playwright:
        browser = launch(playwright)
        page = browser.new_page(viewport={"width": 1200, "height": 900})
        name = db.stem
        for file, path, ready in (
                ("article.png", f"/{name}/articles/{first_article_with_related(db)}", "article.newscrawl-article"),
                ("search.png", f"/{name}/-/search?q={SEARCH_EXAMPLE}", "li.newscrawl-hit mark"),
                ("chart.png", f"/{name}/-/chart", "#newscrawl-per-day svg .mark-rect path")):
            page.goto(base + path)
            page.wait_for_selector(ready, timeout=15000)
            target = out / file
            page.screenshot(path=str(target), full_page=False)
            shots.append(target)
        browser.close()
    return shots


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", type=Path, help="archive to show (default: a fresh crawl of the demo site)")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots", help="folder for the PNGs")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="newscrawl-shots-") as tmp:
        db = args.db
        if db is None:
            db = Path(tmp) / "news.db"
            crawl_demo(db)
        for shot in take(db, args.out):
            print(shot)
    return 0


if __name__ == "__main__":
    sys.exit(main())
