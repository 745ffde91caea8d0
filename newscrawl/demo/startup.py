"""Serving the bundled demo site for a crawl that has no real site configured; used by the crawl command."""
from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

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


def start_demo_site(port: int, category: str | None, site: str | None,
                    clock: datetime | None = None) -> tuple[DemoServer, str]:
    """The demo site served on 127.0.0.1 (on `port`, else any free port) and the category's start URL.

    It is rendered as of the start of the Tashkent day of `clock` (NEWSCRAWL_DEMO_NOW; default the real clock),
    so every run of one day finds the same pages at the same URLs."""
    pages, _ = demo_site(render_moment(clock))
    try:
        server = DemoServer(pages, port=port).start()
    except OSError as exc:  # the fixed port keeps demo URLs stable across runs; any free port still works
        logger.warning("Demo port %s unavailable (%s): using a random port, so URLs differ from earlier demo runs",
                       port, exc)
        server = DemoServer(pages).start()
    profile: Profile | None = load_profile(site) if site and site not in ("auto", "none") else None
    path = DEMO_START_PATH
    if profile is not None and category in profile.categories:
        path = profile.categories[category]
    logger.info("No start URL configured: crawling the bundled demo site at %s", server.url)
    return server, server.url + path
