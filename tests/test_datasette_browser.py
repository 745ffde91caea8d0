"""Datasette as a person sees it: real headless Chromium (Debian's package, driven by Playwright) on
`newscrawl serve` over an archive crawled from the demo site (everything on 127.0.0.1).

Without Chromium or Playwright the tests skip on a developer's machine, but fail under CI (`CI` set, as
.ci/run does), so a missing browser can never pass CI silently.
"""
from __future__ import annotations

import os
import re
import sqlite3
import urllib.parse
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import LATIN_START_PATH, run_crawl
from test_serve import add_changed_version, datasette_serving

from newscrawl.datasette.reading import bodies, columns
from newscrawl.demo.server import DemoServer
from newscrawl.demo.site import DEMO_START_PATH, demo_site
from newscrawl.datasette.screenshots import CHROMIUM, launch
from newscrawl.translit import fold


def _browser_missing() -> str | None:
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "playwright is not installed (pip install -e '.[test]')"
    if not Path(CHROMIUM).exists():
        return f"{CHROMIUM} is missing (apt-get install chromium)"
    return None


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    missing = _browser_missing()
    if missing:
        if os.environ.get("CI"):
            pytest.fail(f"browser tests cannot run in CI: {missing}")
        pytest.skip(missing)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = launch(playwright)
        yield chromium
        chromium.close()


@pytest.fixture(scope="module")
def archive(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    db = tmp_path_factory.mktemp("browser") / "news.db"
    # both sections of the demo, for real: the Cyrillic and Latin copies of its twin stories are then archived
    pages, _ = demo_site()
    with DemoServer(pages) as server:
        for start in (DEMO_START_PATH, LATIN_START_PATH):
            result = run_crawl(db, "-a", f"start_url={server.url}{start}", "-a", "max_pages=0")
            assert result.returncode == 0, result.stderr[-3000:]
    return db, add_changed_version(db)


@pytest.fixture(scope="module")
def site(archive: tuple[Path, str]) -> Iterator[str]:
    with datasette_serving(archive[0]) as base:
        yield base + "/news"


@pytest.fixture()
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1200, "height": 900})
    page = context.new_page()
    page.set_default_timeout(15000)
    yield page
    context.close()


def _query(db: Path, sql: str, *params: Any) -> list[tuple[Any, ...]]:
    conn = sqlite3.connect(db)
    try:
        return conn.execute(sql, params).fetchall()
    finally:
        conn.close()


def _bodies(db: Path) -> dict[int, str]:
    """Every article's body, wherever the schema keeps it (articles.body, or article_bodies from 0010)."""
    conn = sqlite3.connect(db)
    try:
        return bodies(conn, [i for (i,) in conn.execute("SELECT id FROM articles")])
    finally:
        conn.close()


def _related_join(db: Path) -> str:
    """SQL joining related_links r to the article s it was printed on, in either schema."""
    conn = sqlite3.connect(db)
    try:
        by_id = "article_id" in columns(conn, "related_links")
    finally:
        conn.close()
    return "JOIN articles s ON " + ("s.id = r.article_id" if by_id else "s.url = r.article_url")


def test_article_page_shows_the_article(page: Any, site: str, archive: tuple[Path, str]) -> None:
    article_id, title, lead, url = _query(
        archive[0], "SELECT id, title, lead, url FROM articles WHERE title = 'Мирзиёев Тоқаевни мукофотлади'")[0]
    body = _bodies(archive[0])[article_id]
    page.goto(f"{site}/articles/{article_id}")
    assert page.locator("article h1").inner_text() == title
    assert page.locator(".newscrawl-lead").inner_text() == lead
    paragraphs = [p.strip() for p in body.split("\n\n") if p.strip()]
    shown = page.locator(".newscrawl-body p").all_inner_texts()
    assert shown == paragraphs and len(shown) >= 2
    assert page.locator(".newscrawl-source a").get_attribute("href") == url
    assert "(to the minute)" in page.locator(".newscrawl-meta").inner_text()
    # the body is readable: as wide as a column of text, not squeezed into a table cell
    assert page.locator(".newscrawl-body").bounding_box()["width"] > 400


def test_related_link_navigates_to_the_archived_article(page: Any, site: str, archive: tuple[Path, str]) -> None:
    source, target_title, target_id = _query(
        archive[0], f"SELECT s.id, t.title, t.id FROM related_links r {_related_join(archive[0])} "
        "JOIN articles t ON t.url = r.url ORDER BY s.id, r.position LIMIT 1")[0]
    page.goto(f"{site}/articles/{source}")
    page.locator("a.newscrawl-related-archived", has_text=target_title).first.click()
    page.wait_for_url(re.compile(rf"/news/articles/{target_id}$"))
    assert page.locator("article h1").inner_text() == target_title


def test_earlier_version_shows_what_changed(page: Any, site: str, archive: tuple[Path, str]) -> None:
    (article_id,) = _query(archive[0], "SELECT id FROM articles WHERE url = ?", archive[1])[0]
    page.goto(f"{site}/articles/{article_id}")
    version = page.locator("details.newscrawl-version").first
    assert "lead" in version.locator(".newscrawl-diff b").all_inner_texts()[0]
    assert version.locator("ins").first.inner_text() == "(янгиланди)"


def test_latin_query_finds_cyrillic_with_highlighted_snippets(page: Any, site: str, archive: tuple[Path, str]) -> None:
    texts = _bodies(archive[0])
    rows = [(i, title, lead, texts[i]) for i, title, lead in _query(archive[0], "SELECT id, title, lead FROM articles")]
    expected = {r[0] for r in rows if any("mirziyoyev" in fold(t or "") for t in r[1:])}
    for query in ("Mirziyoyev", "Mirzi"):
        page.goto(f"{site}/articles")
        page.fill("#newscrawl-q", query)
        page.press("#newscrawl-q", "Enter")
        page.wait_for_url(re.compile(r"/-/search\?q="))
        hits = page.locator("li.newscrawl-hit")
        assert hits.count() == len(expected) > 0, query
        links = hits.locator("a.newscrawl-hit-title").evaluate_all("els => els.map(e => e.getAttribute('href'))")
        assert {int(h.rsplit("/", 1)[1]) for h in links} == expected
        marks = page.locator("li.newscrawl-hit mark").all_inner_texts()
        assert "Мирзиёев" in marks, marks  # Cyrillic words, highlighted for a Latin query
        assert all(fold(m).startswith("mirzi") for m in marks)
    page.goto(f"{site}/-/search?" + urllib.parse.urlencode({"q": "Oʻzbekiston"}))
    latin = page.locator("li.newscrawl-hit").count()
    page.goto(f"{site}/-/search?" + urllib.parse.urlencode({"q": "Ўзбекистон"}))
    assert page.locator("li.newscrawl-hit").count() == latin > 0


def test_chart_is_drawn_with_zero_days(page: Any, site: str, archive: tuple[Path, str]) -> None:
    hosts: set[str] = set()
    page.on("request", lambda request: hosts.add(urllib.parse.urlsplit(request.url).hostname or request.url))
    page.goto(f"{site}/-/chart")
    bars = page.locator("#newscrawl-per-day svg .mark-rect path")
    bars.first.wait_for()
    days = {d for (d,) in _query(archive[0], "SELECT DISTINCT substr(published_at, 1, 10) FROM articles "
                                 "WHERE published_at IS NOT NULL")}
    assert bars.count() >= len(days)  # one bar (per category) for every day with articles
    assert page.locator("#newscrawl-per-day svg .mark-line path").count() == 1
    assert page.locator("#newscrawl-per-category svg .mark-rect path").count() >= 1
    page.locator("details summary", has_text="The numbers").click()
    cells = page.locator("details table tbody tr td:nth-child(3)").all_inner_texts()
    assert "0" in cells  # the demo's dates have gaps: zero days are listed, not skipped
    assert hosts == {"127.0.0.1"}  # Vega-Lite is served by the plugin: no CDN, works offline


def test_tables_list_hides_internal_tables(page: Any, site: str) -> None:
    page.goto(site)
    headings = page.locator(".db-table h3 a").all_inner_texts()
    assert "articles" in headings and "related_links" in headings
    for internal in ("_sqlite_migrations", "articles_fts", "articles_search", "articles_search_data"):
        assert internal not in headings
    assert page.locator("#sql-editor").input_value().startswith("select id, published_at, category, title from")
    page.locator(".CodeMirror").first.wait_for()
    assert "from articles" in page.locator(".CodeMirror").first.inner_text()  # what the editor shows


def test_compact_articles_table_with_full_columns_one_click_away(page: Any, site: str) -> None:
    page.goto(f"{site}/articles")
    headers = [h.strip().rstrip("▼▲ \xa0") for h in page.locator("table.rows-and-columns th").all_inner_texts()]
    assert headers == ["id", "title", "published_at", "category", "script", "text"]
    first_rows = page.locator("table.rows-and-columns tbody tr").nth(1).bounding_box()
    assert first_rows["y"] + first_rows["height"] < 900  # two rows on the first screen (was: data at 1,300 px)
    page.locator("a.newscrawl-all-columns").click()
    full = {h.strip() for h in page.locator("table.rows-and-columns th").all_inner_texts()}
    assert {"canonical_url", "tags", "content_hash"} <= full


def test_related_links_rows_link_to_articles(page: Any, site: str) -> None:
    page.goto(f"{site}/related_links")
    archived = page.locator("a.newscrawl-archived").first
    archived.click()
    page.wait_for_url(re.compile(r"/news/articles/\d+$"))
    assert page.locator("article h1").inner_text()


def test_twins_linked_when_the_archive_has_story_keys(browser: Any, archive: tuple[Path, str]) -> None:
    """The demo publishes some stories in both scripts: the crawl gives each pair one story_key (migration 0011,
    docs/stories.md); the article page links the other script's copy, and the chart counts the story once."""
    db = archive[0]
    conn = sqlite3.connect(db)
    dated = "published_at IS NOT NULL"
    cyrillic, latin = conn.execute(
        "SELECT c.id, l.id FROM articles c JOIN articles l ON l.story_key = c.story_key AND l.id != c.id "
        f"WHERE c.script = 'cyrl' AND l.script = 'latn' AND c.{dated} LIMIT 1").fetchone()
    (articles, stories) = conn.execute(
        f"SELECT count(*), count(DISTINCT coalesce(story_key, id)) FROM articles WHERE {dated}").fetchone()
    conn.close()
    assert stories < articles, "the demo's twins share a story key"
    context = browser.new_context()
    page = context.new_page()
    try:
        with datasette_serving(db) as base:
            page.goto(f"{base}/news/articles/{cyrillic}")
            twin = page.locator("a.newscrawl-twin")
            assert twin.count() == 1
            twin.click()
            page.wait_for_url(re.compile(rf"/news/articles/{latin}$"))
            page.goto(f"{base}/news/-/chart")
            assert page.locator("h1").inner_text() == "Stories per day"
            assert page.locator("p", has_text="stories (the Cyrillic and Latin copies").inner_text().startswith(
                f"{stories} stories")
    finally:
        context.close()
