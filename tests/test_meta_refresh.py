"""Meta refresh: followed as Scrapy follows it, while pages that cannot hold one are not decoded to look
(newscrawl.middlewares.LeanMetaRefreshMiddleware in place of Scrapy's MetaRefreshMiddleware)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from scrapy.http import HtmlResponse
from scrapy.utils.response import get_meta_refresh

from conftest import ROOT, run_crawl
from newscrawl.demo.page import Page
from newscrawl.demo.server import DemoServer
from newscrawl.demo.site import demo_site
from newscrawl.middlewares import may_hold_meta_refresh

URL = "http://127.0.0.1:8765/kr/news/2025/11/15/x/"


def response(body: bytes, content_type: str = "text/html") -> HtmlResponse:
    return HtmlResponse(URL, body=body, headers={"Content-Type": content_type})


REFRESH = b'<html><head><META HTTP-EQUIV="Refresh" CONTENT="0; url=/kr/news/2025/11/15/y/"></head><body></body></html>'


@pytest.mark.parametrize("body, content_type, may_hold", [
    (b"<html><head><title>x</title></head><body>" + "Сиёсат ".encode() * 2000 + b"</body></html>",
     "text/html; charset=utf-8", False),
    (REFRESH, "text/html; charset=utf-8", True),
    (REFRESH.replace(b"Refresh", b"X-UA-Compatible"), "text/html; charset=utf-8", True),  # Scrapy's code decides
    ("<html><body>Сиёсат</body></html>".encode("cp1251"), "text/html; charset=windows-1251", False),
    (b'<html><head><meta charset="windows-1251"></head><body>x</body></html>', "text/html", False),
    ("<html><head><meta http-equiv=refresh content='0; url=/y/'></head></html>".encode("utf-16"),
     "text/html; charset=utf-16", True),  # not ASCII-safe: Scrapy's code decides
    (b"<html><body>no charset declared anywhere</body></html>", "text/html", True),
    (b"\xef\xbb\xbf<html><body>a BOM</body></html>", "text/html; charset=utf-16", False),  # the BOM wins
])
def test_a_page_is_skipped_only_when_its_declared_encoding_and_bytes_rule_a_meta_refresh_out(
        body: bytes, content_type: str, may_hold: bool) -> None:
    page = response(body, content_type)
    assert may_hold_meta_refresh(page) is may_hold
    if not may_hold:
        assert get_meta_refresh(page) == (None, None)


def test_scrapy_finds_no_meta_refresh_on_any_page_the_middleware_skips() -> None:
    """Every page of the demo site and of the saved fixtures: wherever may_hold_meta_refresh() says no, Scrapy's
    own get_meta_refresh() agrees."""
    pages = [response(p.body.replace(b"{{BASE}}", b"http://127.0.0.1:8765"), p.content_type)
             for p in demo_site()[0].values() if p.content_type.startswith("text/html")]
    pages += [response(f.read_bytes()) for f in sorted((ROOT / "tests/fixtures").rglob("*.html"))]
    skipped = [page for page in pages if not may_hold_meta_refresh(page)]
    assert len(skipped) > 20
    assert all(get_meta_refresh(page) == (None, None) for page in skipped)


def _article(title: str, head: str = "") -> Page:
    return Page(f'<html lang="uz-Cyrl"><head><meta charset="utf-8">{head}<title>{title}</title></head><body>'
                f'<article><h1 class="news-single__title">{title}</h1>'
                '<span class="news-single__date">15.11.2025 10:00</span>'
                '<p class="news-single__lead">Сенат ялпи мажлисида муҳим қарорлар қабул қилинди.</p>'
                f'<div class="news-single__body"><p>{title}: мақола матни.</p></div></article></body></html>'.encode())


def test_a_crawl_follows_a_meta_refresh_and_archives_pages_with_other_http_equiv(tmp_path: Path) -> None:
    news = "/kr/news/2025/11/15/"
    pages = {
        f"{news}moved/": Page(f'<html><head><meta http-equiv="refresh" content="0; url={news}target/"></head>'
                              '<body>Кўчирилди</body></html>'.encode()),
        f"{news}target/": _article("Кўчирилган мақола"),
        f"{news}compatible/": _article("Эски браузер учун",
                                       '<meta http-equiv="X-UA-Compatible" content="IE=edge">'),
        f"{news}plain/": _article("Оддий мақола"),
        "/kr/siyosat/": Page(('<html><head><meta charset="utf-8"></head><body><div class="news-list">' + "".join(
            f'<div class="news-card"><a class="news-card__title" href="{news}{slug}/">{slug}</a>'
            '<span class="news-card__date">15.11.2025 10:00</span></div>'
            for slug in ("moved", "compatible", "plain")) + "</div></body></html>").encode()),
    }
    db = tmp_path / "news.db"
    with DemoServer(pages) as server:
        done = run_crawl(db, "-a", f"start_url={server.url}/kr/siyosat/", "-a", "max_pages=0")
        assert done.returncode == 0, done.stderr[-3000:]
        titles = dict(sqlite3.connect(db).execute("SELECT url, title FROM articles").fetchall())
        assert titles == {f"{server.url}{news}target/": "Кўчирилган мақола",
                          f"{server.url}{news}compatible/": "Эски браузер учун",
                          f"{server.url}{news}plain/": "Оддий мақола"}
        assert server.hits(f"{news}target/") == 1
