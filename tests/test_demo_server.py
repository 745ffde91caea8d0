"""The loopback demo server and the invariants of the bundled demo sites."""
from __future__ import annotations

import hashlib
import re
import urllib.error
import urllib.request
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime
from urllib.parse import urljoin, urlsplit

import pytest

from newscrawl.demo.server import DemoServer, Page

TASHKENT = timezone(timedelta(hours=5))


def fetch(url: str, method: str = "GET", headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
    """Status, headers and body of one request; HTTP errors are returned, not raised."""
    request = urllib.request.Request(url, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, dict(response.headers.items()), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers.items()), error.read()


@pytest.fixture()
def server():
    pages = {
        "/": Page(b"<a href='{{BASE}}/x/'>home</a>"),
        "/list/?page=2": Page(b"second page"),
        "/boom/": Page(b"<h1>server error</h1>", status=500),
        "/cp/": Page("<p>Привет, мир</p>".encode("cp1251"), content_type="text/html"),
        "/dated/": Page(b"dated", last_modified=datetime(2025, 11, 15, 12, 33, 7, tzinfo=TASHKENT)),
        "/no-etag/": Page(b"plain", etag=False),
    }
    with DemoServer(pages) as demo:
        yield demo


def test_url_is_loopback_without_trailing_slash(server):
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+", server.url)


def test_serves_pages_and_replaces_base(server):
    status, headers, body = fetch(server.url + "/")
    assert status == 200
    assert headers["Content-Type"] == "text/html; charset=utf-8"
    assert body == f"<a href='{server.url}/x/'>home</a>".encode()


def test_query_is_part_of_the_key(server):
    assert fetch(server.url + "/list/?page=2")[2] == b"second page"
    assert fetch(server.url + "/list/?page=3")[0] == 404
    assert fetch(server.url + "/list/")[0] == 404


def test_unknown_path_is_404_html(server):
    status, headers, body = fetch(server.url + "/nope/")
    assert status == 404
    assert headers["Content-Type"].startswith("text/html")
    assert b"404" in body


def test_error_status_served_with_body(server):
    status, _, body = fetch(server.url + "/boom/")
    assert (status, body) == (500, b"<h1>server error</h1>")


def test_windows_1251_bytes_served_intact(server):
    status, headers, body = fetch(server.url + "/cp/")
    assert status == 200
    assert headers["Content-Type"] == "text/html"
    assert body == "<p>Привет, мир</p>".encode("cp1251")


def test_etag_is_sha1_of_final_body_and_if_none_match_gives_304(server):
    status, headers, body = fetch(server.url + "/")
    assert headers["ETag"] == '"' + hashlib.sha1(body).hexdigest() + '"'
    status, _, body = fetch(server.url + "/", headers={"If-None-Match": headers["ETag"]})
    assert (status, body) == (304, b"")
    assert fetch(server.url + "/", headers={"If-None-Match": '"other"'})[0] == 200
    status, headers, _ = fetch(server.url + "/no-etag/", headers={"If-None-Match": "*"})
    assert status == 200 and "ETag" not in headers


def test_last_modified_and_if_modified_since(server):
    _, headers, _ = fetch(server.url + "/dated/")
    assert headers["Last-Modified"] == "Sat, 15 Nov 2025 07:33:07 GMT"
    later = format_datetime(datetime(2025, 11, 15, 8, 0, tzinfo=timezone.utc), usegmt=True)
    earlier = format_datetime(datetime(2025, 11, 15, 7, 0, tzinfo=timezone.utc), usegmt=True)
    assert fetch(server.url + "/dated/", headers={"If-Modified-Since": headers["Last-Modified"]})[0] == 304
    assert fetch(server.url + "/dated/", headers={"If-Modified-Since": later})[0] == 304
    assert fetch(server.url + "/dated/", headers={"If-Modified-Since": earlier})[0] == 200
    assert fetch(server.url + "/", headers={"If-Modified-Since": later})[0] == 200


def test_set_page_and_remove_at_runtime(server):
    _, first, _ = fetch(server.url + "/")
    server.set_page("/", Page(b"changed"))
    status, second, body = fetch(server.url + "/", headers={"If-None-Match": first["ETag"]})
    assert (status, body) == (200, b"changed")
    assert second["ETag"] != first["ETag"]
    server.set_page("/new/", Page(b"new", headers={"X-Where": "{{BASE}}/new/"}))
    status, headers, _ = fetch(server.url + "/new/")
    assert status == 200 and headers["X-Where"] == server.url + "/new/"
    server.remove("/new/")
    assert fetch(server.url + "/new/")[0] == 404


def test_head_sends_headers_without_body(server):
    status, headers, body = fetch(server.url + "/list/?page=2", method="HEAD")
    assert status == 200 and body == b""
    assert headers["Content-Length"] == str(len(b"second page"))


def test_request_log_and_hits(server):
    fetch(server.url + "/list/?page=2", headers={"User-Agent": "demo-test"})
    fetch(server.url + "/list/?page=2")
    fetch(server.url + "/nope/")
    assert server.hits("/list/?page=2") == 2
    assert server.hits("/list/") == 0
    first = server.requests[0]
    assert (first.method, first.path, first.status) == ("GET", "/list/?page=2", 200)
    assert first.headers["User-Agent"] == "demo-test"
    assert server.requests[-1].status == 404
    server.reset_log()
    assert server.requests == [] and server.hits("/list/?page=2") == 0


def test_stop_releases_the_port():
    demo = DemoServer({"/": Page(b"x")}).start()
    url = demo.url
    demo.stop()
    with pytest.raises(urllib.error.URLError):
        urllib.request.urlopen(url + "/", timeout=2)


# --- the bundled sites -------------------------------------------------------------------------

from newscrawl.demo.site import (DEMO_NOW, DEMO_START_PATH, GENERIC_START_PATH, demo_site,  # noqa: E402
                                 generic_site, synthetic_site)

CARD_LINK = re.compile(r'<a class="news-card__title" href="([^"]+)">')
NEXT_LINK = re.compile(r'<a class="pagination__next" rel="next" href="([^"]+)">')


@pytest.fixture(scope="module")
def demo():
    return demo_site(DEMO_NOW)


def listing_chain(pages, start):
    """Follow `pagination__next` from `start`; the list of listing paths visited."""
    chain, path = [], start
    while path:
        chain.append(path)
        match = NEXT_LINK.search(pages[path].body.decode())
        path = urljoin("http://x" + path, match.group(1))[len("http://x"):] if match else None
    return chain


def test_demo_listing_has_at_least_3_pages_of_10_cards_and_26_articles(demo):
    pages, expected = demo
    chain = listing_chain(pages, DEMO_START_PATH)
    assert chain[:3] == ["/kr/siyosat/", "/kr/siyosat/?page=2", "/kr/siyosat/?page=3"]
    cards = [link for path in chain for link in CARD_LINK.findall(pages[path].body.decode())]
    assert all(len(CARD_LINK.findall(pages[p].body.decode())) == 10 for p in chain[:-1])
    assert len(cards) >= 26 and len(set(cards)) == len(cards)
    kr = [e for e in expected if e.path.startswith("/kr/")]
    assert [e.path for e in kr] == cards
    dates = [e.published_at for e in kr]
    assert dates == sorted(dates, reverse=True)


def test_every_listing_link_resolves_or_is_the_deliberate_404(demo):
    pages, expected = demo
    by_path = {e.path: e for e in expected}
    for path in [*listing_chain(pages, DEMO_START_PATH), "/oz/siyosat/"]:
        for link in CARD_LINK.findall(pages[path].body.decode()):
            assert (link in pages) == (by_path[link].status == 200), link
    assert [e.status for e in expected].count(404) == 1


def test_related_links_point_at_existing_pages(demo):
    pages, expected = demo
    for article in expected:
        if article.status == 200:
            assert len(article.related) >= 2
            assert all(path in pages for path, _ in article.related), article.path


def test_demo_seed_article_matches_the_seed_page(demo):
    pages, expected = demo
    seed = next(e for e in expected if e.title.startswith("Мирзиёев ва Тоқаев 1,3 млрд"))
    assert seed.lead == "Президентлар раислигида Олий давлатлараро кенгашнинг иккинчи йиғилиши бўлиб ўтди."
    assert seed.published_at == datetime(2025, 11, 15, 12, 33, tzinfo=TASHKENT)
    assert [t for _, t in seed.related][:2] == [
        "Мирзиёев Тоқаевни мукофотлади", "Ўзбекистон ва Қозоғистон ўртасида товар айирбошлаш 4 млрд долларга етди"]
    html = pages[seed.path].body.decode()
    assert "Бугун 13:35" in html and "<title>" + seed.title + " — Demo Yangiliklar</title>" in html
    assert '<link rel="canonical" href="{{BASE}}' + seed.path + '">' in html
    assert "ld+json" not in html
    body = html[html.index('<div class="news-single__body">'):html.index('<div class="news-single__tags">')]
    assert 'class="share"' in body and "кузатиб боринг" not in body


def test_demo_has_each_deliberately_broken_page(demo):
    pages, expected = demo
    kr = [e for e in expected if e.path.startswith("/kr/") and e.status == 200]
    no_date = [e for e in kr if e.published_text is None and e.modified_at is None]
    assert no_date and all(e.published_at is not None and e.listing_time_text for e in no_date)
    assert any(e.lead is None and 'name="description"' not in pages[e.path].body.decode() for e in kr)
    assert any(e.published_text == "Сана кўрсатилмаган" for e in kr)
    assert any(e.published_text == "Кеча 19:48" for e in kr)
    assert any(e.published_text is None and e.modified_at is not None for e in kr)
    assert any("</span> </span>" in pages[e.path].body.decode() for e in kr)
    assert sum(e.script == "latn" for e in kr) >= 3
    latin_variants = {ap for e in expected if e.script == "latn" for ap in "ʻ'‘" if f"O{ap}zbekiston" in e.title}
    assert len(latin_variants) >= 2


def test_demo_relative_times_are_never_in_the_future():
    now = datetime(2025, 11, 20, 0, 40, tzinfo=TASHKENT)
    _, expected = demo_site(now)
    assert all(e.published_at <= now for e in expected)
    today = [e for e in expected if e.listing_time_text and e.listing_time_text.startswith("Бугун")]
    assert today and all(e.published_at.date() == now.date() for e in today)


def test_demo_site_over_http_replaces_base_and_serves_feeds(demo):
    pages, expected = demo
    with DemoServer(pages) as server:
        article = expected[0]
        status, _, body = fetch(server.url + article.path)
        assert status == 200 and f'href="{server.url}{article.path}"' in body.decode()
        status, headers, body = fetch(server.url + "/kr/siyosat/rss/")
        assert status == 200 and headers["Content-Type"].startswith("application/rss+xml")
        assert body.count(b"<item>") == 20 and b"+0500</pubDate>" in body
        status, _, body = fetch(server.url + "/robots.txt")
        assert b"Disallow: /admin/" in body and f"Sitemap: {server.url}/sitemap-news.xml".encode() in body
        missing = next(e for e in expected if e.status == 404)
        assert fetch(server.url + missing.path)[0] == 404


def test_generic_site_shape_and_windows_1251_page():
    pages, expected = generic_site(DEMO_NOW)
    assert GENERIC_START_PATH in pages and GENERIC_START_PATH + "?page=3" in pages
    assert len(expected) >= 12 and all(e.path in pages for e in expected)
    assert all(path in pages for e in expected for path, _ in e.related)
    assert all(3 <= len(e.related) <= 5 for e in expected)
    cp1251 = [e for e in expected if pages[e.path].content_type == "text/html"]
    assert cp1251 and all(e.language == "ru" for e in cp1251)
    page = pages[cp1251[0].path]
    assert b'<meta charset="windows-1251">' in page.body
    assert cp1251[0].title in page.body.decode("cp1251")
    flavours = [pages[e.path].body for e in expected]
    assert any(b"application/ld+json" in b for b in flavours)
    assert any(b"article:published_time" in b and b"ld+json" not in b for b in flavours)
    assert any(b"og:title" not in b for b in flavours)
    assert {"Кеча, 19:48", "Сегодня в 09:15", "3 соат олдин", "13-noyabr, 2025 yil 10:20"} <= {
        e.published_text for e in expected}


def test_synthetic_site_size():
    pages = synthetic_site(2000)
    articles = [p for p in pages if p.startswith("/kr/news/")]
    listings = [p for p in pages if p.startswith("/kr/siyosat/")]
    assert len(articles) == 2000 and len(listings) == 100
    last = pages["/kr/siyosat/?page=100"].body.decode()
    assert len(CARD_LINK.findall(last)) == 20 and "pagination__next" not in last
    assert all(urlsplit(link).path in pages for link in CARD_LINK.findall(last))


@pytest.mark.parametrize("tashkent_clock", ["04:03", "12:00", "23:59"])
def test_generic_pages_date_every_article_right_at_any_hour(tashkent_clock: str):
    """The generic site prints times relative to its clock ("Сегодня в", "Кеча"); in the small hours of a Tashkent
    day, an article from 4 h 45 min ago was yesterday, and the page must say so (it said "Сегодня" and the crawl
    test failed between 19:00 and 24:00 UTC)."""
    from newscrawl.pages.article import extract_page
    from newscrawl.pages.text import decode_html
    now = datetime.combine(DEMO_NOW.astimezone(TASHKENT).date(), datetime.strptime(tashkent_clock, "%H:%M").time(),
                           TASHKENT)
    pages, expected = generic_site(now)
    for truth in (e for e in expected if e.status == 200 and e.published_at is not None):
        page = pages[truth.path]
        article = extract_page(decode_html(page.body, page.content_type), "http://127.0.0.1:8765" + truth.path, now)
        assert article.published_at == truth.published_at.isoformat(), (truth.path, truth.published_text)
