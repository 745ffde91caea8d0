"""A crawl's memory does not grow with the site: the listing walk waits for the articles it found (the request
queue stays bounded), and what earlier runs left is looked up one listing page at a time, not loaded whole."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import quote

from archive_checks import connect
from conftest import run_crawl
from hostile import HostileServer, Reply, Request, html
from test_bad_input import article, listing

from newscrawl.archive import Archive
from newscrawl.state import SqliteCrawlState
from newscrawl.urls import canonical_url

SITE = "https://kun.example/kr/news/"
PAGES, PER_PAGE, BOUND = 30, 20, 30
ARTICLES = PAGES * PER_PAGE


def slow_articles_site() -> list[tuple[str, object]]:
    """PAGES listing pages of PER_PAGE cards, answered at once, and articles answered after 50 ms: a listing
    walk left alone runs far ahead of the article fetches, as on a site whose articles are slow to process."""
    def listing_page(req: Request) -> Reply:
        number = int(req.match.group(1) or 1)
        cards = [(f"/kr/news/2025/11/15/a{number}-{i}/", f"Мақола {number}-{i} сарлавҳаси", "15.11.2025 10:00")
                 for i in range(PER_PAGE)]
        more = f'<a class="pagination__next" href="/kr/siyosat/?page={number + 1}">»</a>' if number < PAGES else ""
        return Reply(200, listing(cards, more))

    def story(req: Request) -> Reply:
        return Reply(200, article(f"Мақола {req.match.group(1)} сарлавҳаси", "15.11.2025 10:00"), delay=0.05)

    return [(r"^/kr/siyosat/(?:\?page=(\d+))?$", listing_page), (r"^/kr/news/2025/11/15/(a[\d-]+)/$", story),
            (r"^/robots.txt$", lambda req: html("", 404))]


def stat(output: str, key: str) -> int:
    found = re.search(rf"'{re.escape(key)}': (\d+)", output)
    assert found, f"no {key} in the stats dump: {output[-2000:]}"
    return int(found.group(1))


def test_the_request_queue_stays_bounded_however_long_the_walk(tmp_path: Path) -> None:
    with HostileServer(slow_articles_site()) as server:
        start = f"start_url={server.url}/kr/siyosat/"
        bounded = run_crawl(tmp_path / "bounded.db", "-a", start, "-a", "max_pages=0",
                            "-s", f"NEWSCRAWL_MAX_PENDING={BOUND}")
        assert bounded.returncode == 0, bounded.stderr[-3000:]
        # the same crawl with the gate wide open: the walk runs ahead and the queue grows with the site
        unbounded = run_crawl(tmp_path / "open.db", "-a", start, "-a", "max_pages=0",
                              "-s", f"NEWSCRAWL_MAX_PENDING={10 * ARTICLES}")
        assert unbounded.returncode == 0, unbounded.stderr[-3000:]
    # at most the bound, one listing page's cards, and the listing page itself (plus page 1's feed discovery)
    assert stat(bounded.stderr, "newscrawl/max_pending") <= BOUND + PER_PAGE + 3
    assert stat(bounded.stderr, "newscrawl/listings_held") > 0
    assert stat(unbounded.stderr, "newscrawl/max_pending") > 4 * (BOUND + PER_PAGE), "the test proves nothing"
    for db in ("bounded.db", "open.db"):
        assert connect(tmp_path / db).execute("SELECT count(*) FROM articles").fetchone()[0] == ARTICLES


def story(url: str, title: str) -> dict[str, object]:
    return {"url": url, "title": title, "body": f"{title}.", "fetched_at": "2025-11-15T06:00:00+00:00",
            "published_at": "2025-11-15T10:00:00+05:00"}


def test_state_is_looked_up_per_url_under_every_form(tmp_path: Path) -> None:
    path = tmp_path / "news.db"
    senat = canonical_url(f"{SITE}сенат/")
    with Archive(path) as archive:
        archive.upsert_article(story(f"{SITE}x/", "X"), aliases=[f"{SITE}old-x"])
        archive.upsert_article(story(senat, "S"))
        archive.record_missing(f"{SITE}йўқ/", 404, "2025-11-15T06:00:00+00:00")
        archive.record_missing(f"{SITE}x/", 404, "2025-11-14T06:00:00+00:00")  # archived since: not missing
    state = SqliteCrawlState(path)
    with Archive(path) as archive:  # stored after the run started: this run does not count it as known
        archive.upsert_article(story(f"{SITE}new/", "N"))
        archive.record_missing(f"{SITE}gone/", 410, "2025-11-15T06:00:00+00:00")
    forms = {f"{SITE}x": f"{SITE}x/", f"{SITE}x/": f"{SITE}x/", f"{SITE}old-x": f"{SITE}x/",
             f"{SITE}сенат": senat, f"{SITE}сенат/": senat}
    missing = canonical_url(f"{SITE}йўқ/")
    asked = [canonical_url(u) for u in [*forms, f"{SITE}new/", f"{SITE}nothing", f"{SITE}йўқ/", f"{SITE}gone/"]]
    state.look_up(asked)
    for form, stored in forms.items():
        known = state.known_article(canonical_url(form))
        assert known is not None and known.url == stored, form
        assert known.published_at == "2025-11-15T10:00:00+05:00"
    assert state.known_article(canonical_url(f"{SITE}new/")) is None
    assert state.known_article(canonical_url(f"{SITE}nothing")) is None
    assert missing == f"{SITE}{quote('йўқ')}/"
    assert state.missing_since(missing) == "2025-11-15T06:00:00+00:00"
    assert state.missing_since(canonical_url(f"{SITE}x/")) is None
    assert state.missing_since(canonical_url(f"{SITE}gone/")) is None
    # only what was asked is held: the next listing page replaces it
    assert set(state.known) <= set(asked)
    state.look_up([canonical_url(f"{SITE}nothing")])
    assert state.known == {} and state.missing == {}


def test_a_new_archive_knows_nothing(tmp_path: Path) -> None:
    state = SqliteCrawlState(tmp_path / "none.db")
    state.look_up([f"{SITE}x/"])
    assert state.known_article(f"{SITE}x/") is None and state.missing_since(f"{SITE}x/") is None
    assert not (tmp_path / "none.db").exists()
