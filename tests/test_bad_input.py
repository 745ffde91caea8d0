"""Bad input over real HTTP: every problem gets a clear reason, nothing else is lost, the crawl goes on."""

from __future__ import annotations

import json

import pytest

from archive_checks import connect
from conftest import run_crawl

from newscrawl.demo.server import DemoServer, Page

LISTING = "/kr/siyosat/"
STORY = ("<p>Тошкентда Олий Мажлис Сенатининг навбатдаги ялпи мажлиси бўлиб ўтди. Унда бир қатор қонунлар "
         "кўриб чиқилди ва маъқулланди.</p><p>– Қонунлар аҳоли манфаатларига хизмат қилади, – деди Сенат раиси.</p>"
         "<p>Мажлисда халқаро шартномалар ҳам ратификация қилинди.</p>")


def article(title: str | None, date: str | None, lead: str | None = "Сенат ялпи мажлисида муҳим қарорлар "
            "қабул қилинди.") -> bytes:
    head = f"<title>{title} — Demo</title>" if title else ""
    parts = [f'<html lang="uz-Cyrl"><head><meta charset="utf-8">{head}</head><body>',
             '<nav class="breadcrumb"><a href="/kr/">Асосий</a><a href="/kr/siyosat/">Сиёсат</a></nav>',
             '<article class="news-single">']
    if title:
        parts.append(f'<h1 class="news-single__title">{title}</h1>')
    if date:
        parts.append(f'<div class="news-single__meta"><span class="news-single__date">{date}</span></div>')
    if lead:
        parts.append(f'<p class="news-single__lead">{lead}</p>')
    parts.append(f'<div class="news-single__body">{STORY}</div></article></body></html>')
    return "".join(parts).encode()


def listing(links: list[tuple[str, str, str]], extra: str = "") -> bytes:
    cards = "".join(f'<div class="news-card"><a class="news-card__title" href="{href}">{title}</a>'
                    f'<span class="news-card__date">{when}</span></div>' for href, title, when in links)
    return (f'<html><head><meta charset="utf-8"></head><body><main class="content"><div class="news-list">{cards}'
            f'</div>{extra}</main></body></html>').encode()


@pytest.mark.parametrize("processes", ["0", "1"], ids=["in-process", "worker-process"])
def test_bad_articles_are_reported_and_the_rest_archived(tmp_path, processes):
    links = [
        ("/kr/news/2025/11/15/good/", "Сенат ялпи мажлиси бўлиб ўтди", "15.11.2025 10:00"),
        ("/kr/news/2025/11/15/no-title/", "Сарлавҳасиз мақола ҳам бор", ""),
        ("/kr/news/2025/11/15/no-date/", "Санасиз мақола бўлиб ўтди", ""),
        ("/kr/news/2025/11/15/garbage-date/", "Нотўғри санали мақола", "14.11.2025 09:00"),
        ("/kr/news/2025/11/15/server-error/", "Сервер хатоси берган мақола", "14.11.2025 08:00"),
        ("/kr/news/2025/11/15/gone/", "Ўчириб юборилган мақола сарлавҳаси", "14.11.2025 07:00"),
    ]
    pages = {
        LISTING: Page(listing(links, f'<nav class="pagination"><a rel="next" href="{LISTING}">Кейинги »</a></nav>')),
        "/kr/news/2025/11/15/good/": Page(article("Сенат ялпи мажлиси бўлиб ўтди", "15.11.2025 10:00")),
        "/kr/news/2025/11/15/no-title/": Page(b"<html><body><div>\xd0\x9c\xd0\xb0\xd1\x82\xd0\xbd</div></body>"),
        "/kr/news/2025/11/15/no-date/": Page(article("Санасиз мақола бўлиб ўтди", None)),
        "/kr/news/2025/11/15/garbage-date/": Page(article("Нотўғри санали мақола", "32.13.2025 99:99")),
        "/kr/news/2025/11/15/server-error/": Page(b"<h1>500</h1>", status=500),
        "/kr/news/2025/11/15/gone/": Page(b"<h1>404</h1>", status=404),
    }
    with DemoServer(pages) as server:
        db = tmp_path / "news.db"
        result = run_crawl(db, "-a", f"start_url={server.url}{LISTING}", "-a", "max_pages=0",
                           "-s", f"NEWSCRAWL_EXTRACT_PROCESSES={processes}")
        assert server.hits(LISTING) == 1, "a listing that links to itself is fetched once"
        assert server.hits("/kr/news/2025/11/15/server-error/") == 2, "500 is retried (RETRY_TIMES=1)"
    assert result.returncode == 0, result.stderr[-3000:]
    con = connect(db)
    rows = {r["url"].removeprefix(server.url): r for r in con.execute("SELECT * FROM articles")}
    assert set(rows) == {"/kr/news/2025/11/15/good/", "/kr/news/2025/11/15/no-title/",
                         "/kr/news/2025/11/15/no-date/", "/kr/news/2025/11/15/garbage-date/"}
    good = rows["/kr/news/2025/11/15/good/"]
    assert good["published_at"] == "2025-11-15T10:00:00+05:00" and json.loads(good["problems"]) == []
    untitled = rows["/kr/news/2025/11/15/no-title/"]
    assert untitled["title"] == "Сарлавҳасиз мақола ҳам бор"
    assert json.loads(untitled["extraction"])["title"] == "listing"
    assert {"code": "no_published_at"} in json.loads(untitled["problems"])
    undated = rows["/kr/news/2025/11/15/no-date/"]
    assert undated["published_at"] is None and {"code": "no_published_at"} in json.loads(undated["problems"])
    garbage = rows["/kr/news/2025/11/15/garbage-date/"]
    assert garbage["published_at"] == "2025-11-14T09:00:00+05:00"
    assert json.loads(garbage["extraction"])["published_at"] == "listing"
    assert {"code": "unparsed_date", "detail": "published_at from profile: '32.13.2025 99:99'"} \
        in json.loads(garbage["problems"])
    crawl = con.execute("SELECT * FROM crawls").fetchone()
    assert crawl["errors"] == 2 and crawl["items_new"] == 4 and crawl["status"] == "ok"
    assert con.execute("SELECT status FROM missing_pages").fetchone()[0] == 404


def test_article_without_any_title_is_dropped_with_a_counted_reason(tmp_path):
    cards = listing([("/kr/news/2025/11/15/first/", "Биринчи мақоланинг тўлиқ сарлавҳаси", "15.11.2025 10:00"),
                     ("/kr/news/2025/11/15/untitled/", "", "15.11.2025 09:00")])
    pages = {
        LISTING: Page(cards),
        "/kr/news/2025/11/15/first/": Page(article("Биринчи мақоланинг тўлиқ сарлавҳаси", "15.11.2025 10:00")),
        "/kr/news/2025/11/15/untitled/": Page(article(None, "15.11.2025 09:00")),
    }
    with DemoServer(pages) as server:
        db = tmp_path / "news.db"
        result = run_crawl(db, "-a", f"start_url={server.url}{LISTING}")
        assert server.hits("/kr/news/2025/11/15/untitled/") == 1
    assert result.returncode == 0, result.stderr[-3000:]
    assert "no_title: " + server.url + "/kr/news/2025/11/15/untitled/ not archived" in result.stderr
    con = connect(db)
    assert [r[0] for r in con.execute("SELECT url FROM articles")] == [server.url + "/kr/news/2025/11/15/first/"]
    crawl = con.execute("SELECT items_dropped, drop_reasons FROM crawls").fetchone()
    assert crawl["items_dropped"] == 1 and json.loads(crawl["drop_reasons"]) == {"no_title": 1}


def test_empty_listing_fails_the_crawl(tmp_path):
    with DemoServer({LISTING: Page(listing([]))}) as server:
        result = run_crawl(tmp_path / "news.db", "-a", f"start_url={server.url}{LISTING}")
    assert result.returncode == 1
    assert "no article links on the start page" in result.stderr


def test_robots_txt_is_obeyed_and_the_user_agent_names_the_project(tmp_path):
    links = [("/kr/news/2025/11/15/open/", "Очиқ мақоланинг тўлиқ сарлавҳаси", "15.11.2025 10:00"),
             ("/kr/news/2025/11/15/private/", "Ёпиқ мақоланинг тўлиқ сарлавҳаси", "15.11.2025 09:00")]
    pages = {
        "/robots.txt": Page(b"User-agent: *\nDisallow: /kr/news/2025/11/15/private/\n", content_type="text/plain"),
        LISTING: Page(listing(links)),
        "/kr/news/2025/11/15/open/": Page(article("Очиқ мақоланинг тўлиқ сарлавҳаси", "15.11.2025 10:00")),
        "/kr/news/2025/11/15/private/": Page(article("Ёпиқ мақоланинг тўлиқ сарлавҳаси", "15.11.2025 09:00")),
    }
    with DemoServer(pages) as server:
        result = run_crawl(tmp_path / "news.db", "-a", f"start_url={server.url}{LISTING}")
        assert server.hits("/kr/news/2025/11/15/private/") == 0
        assert server.hits("/kr/news/2025/11/15/open/") == 1
        agents = {r.headers.get("User-Agent", "") for r in server.requests}
    assert result.returncode == 0, result.stderr[-3000:]
    assert agents and all(agent.startswith("newscrawl/") for agent in agents)
    assert "Forbidden by robots.txt" in result.stderr
    crawl = connect(tmp_path / "news.db").execute("SELECT errors, items_new, status FROM crawls").fetchone()
    assert (crawl["errors"], crawl["items_new"], crawl["status"]) == (0, 1, "ok")
