"""Serving the bundled demo site for a crawl that has no real site configured; used by the crawl command."""
from __future__ import annotations

import logging
import sqlite3
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from newscrawl.demo.server import DemoServer
from newscrawl.demo.site import DEMO_START_PATH, demo_site
from newscrawl.demo.stories import render_moment
from newscrawl.sites import Profile, load_profile

logger = logging.getLogger(__name__)


def needs_demo_site(start_url: str | None, settings: Any, site: str | None) -> bool:
    """True when nothing names a real site: no start URL (argument or NEWSCRAWL_START_URL) and no site profile
    other than the demo's (a real profile with a base_url gives the spider its start URL)."""
    if start_url or settings.get("NEWSCRAWL_START_URL"):
        return False
    site = site or settings.get("NEWSCRAWL_SITE") or "auto"
    return site in ("auto", "none") or load_profile(site).name == "demo"


def archived_demo_port(db: str | Path) -> int | None:
    """The port of the demo site the archive was last crawled from (its newest crawls row on 127.0.0.1), or None
    for a new archive. The port is part of every stored demo URL and of the crawl's incremental state (keyed on
    the start URL), so serving the demo there again keeps them the same even when NEWSCRAWL_DEMO_PORT was busy
    on the first run and a random port was taken."""
    try:
        conn = sqlite3.connect(f"{Path(db).resolve().as_uri()}?mode=ro", uri=True)
    except sqlite3.Error:  # no archive yet
        return None
    try:
        row = conn.execute("SELECT start_url FROM crawls WHERE start_url LIKE 'http://127.0.0.1:%' "
                           "ORDER BY id DESC LIMIT 1").fetchone()
    except sqlite3.Error:  # a new, empty or foreign file: check_archive has had its say, this only picks a port
        return None
    finally:
        conn.close()
    return urlsplit(row[0]).port if row else None


def demo_ports(configured: int, db: str | Path | None) -> list[int]:
    """The ports to try, in order: the archive's own demo port (archived_demo_port), then NEWSCRAWL_DEMO_PORT."""
    archived = archived_demo_port(db) if db else None
    return [archived, configured] if archived and archived != configured else [configured]


def start_demo_site(ports: list[int], category: str | None, site: str | None,
                    clock: datetime | None = None) -> tuple[DemoServer, str]:
    """The demo site served on 127.0.0.1 (on the first free one of `ports`, else any free port) and the category's
    start URL.

    It is rendered as of the start of the Tashkent day of `clock` (NEWSCRAWL_DEMO_NOW; default the real clock),
    so every run of one day finds the same pages at the same URLs."""
    pages, _ = demo_site(render_moment(clock))
    server: DemoServer | None = None
    for port in ports:
        try:
            server = DemoServer(pages, port=port).start()
            break
        except OSError as exc:  # a fixed port keeps demo URLs stable across runs; any free port still works
            logger.warning("Demo port %s unavailable (%s)", port, exc)
    if server is None:
        server = DemoServer(pages).start()
        logger.warning("Demo site on a random port (%s): its URLs differ from earlier demo runs'; later runs into "
                       "this archive use the same port while it is free", server.port)
    profile: Profile | None = load_profile(site) if site and site not in ("auto", "none") else None
    path = DEMO_START_PATH
    if profile is not None and category in profile.categories:
        path = profile.categories[category]
    logger.info("No start URL configured: crawling the bundled demo site at %s", server.url)
    return server, server.url + path
