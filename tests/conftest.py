"""Shared fixtures: real HTTP servers on 127.0.0.1 serving the demo sites, and real crawls into real files."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import pytest

from newscrawl.demo.server import DemoServer
from newscrawl.demo.site import DEMO_START_PATH, GENERIC_START_PATH, ExpectedArticle, demo_site, generic_site

LATIN_START_PATH = "/oz/siyosat/"
ROOT = Path(__file__).resolve().parent.parent
FAST = ["-s", "DOWNLOAD_DELAY=0", "-s", "AUTOTHROTTLE_ENABLED=False", "-s", "LOG_LEVEL=INFO",
        "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=8", "-s", "RETRY_TIMES=1"]


def run_crawl(db: Path, *args: str, spider: str = "siyosat", timeout: float = 240,
              env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run `scrapy crawl` for real in a subprocess from the repo root, as an operator would."""
    command = [sys.executable, "-m", "scrapy", "crawl", spider, "-s", f"NEWSCRAWL_DB={db}", *FAST, *args]
    return subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, **(env or {})})


@dataclass
class CrawledSite:
    """A site served on 127.0.0.1, crawled once into `db`."""

    server: DemoServer
    db: Path
    expected: list[ExpectedArticle]
    results: list[subprocess.CompletedProcess[str]]
    """One per start path, in order."""
    start_url: str


def _crawl_site(tmp_path_factory: pytest.TempPathFactory, build, start_paths: tuple[str, ...], name: str):
    now = datetime.now(timezone.utc)
    pages, expected = build(now)
    server = DemoServer(pages).start()
    db = tmp_path_factory.mktemp(name) / "news.db"
    results = [run_crawl(db, "-a", f"start_url={server.url + path}", "-a", "max_pages=0") for path in start_paths]
    return CrawledSite(server, db, expected, results, server.url + start_paths[0])


@pytest.fixture(scope="session")
def demo_archive(tmp_path_factory: pytest.TempPathFactory):
    """The demo site's Cyrillic category, then its Latin one, crawled into one fresh archive."""
    site = _crawl_site(tmp_path_factory, demo_site, (DEMO_START_PATH, LATIN_START_PATH), "demo")
    yield site
    site.server.stop()


@pytest.fixture(scope="session")
def generic_archive(tmp_path_factory: pytest.TempPathFactory):
    """A site whose markup no profile describes, crawled the same way."""
    site = _crawl_site(tmp_path_factory, generic_site, (GENERIC_START_PATH,), "generic")
    yield site
    site.server.stop()


@pytest.fixture
def server():
    """An empty demo server; tests add their own pages."""
    with DemoServer({}) as srv:
        yield srv
