"""One identity per article over real HTTP: Cyrillic slugs, /x -> /x/ redirects and slash variants are each
fetched once, stored once, and related links join the articles they name."""

from __future__ import annotations

import gzip
from pathlib import Path
from urllib.parse import quote

from archive_checks import connect
from conftest import run_crawl
from hostile import HostileServer, Reply, Request, redirect
from test_bad_input import article, listing

import pytest
import sqlite_utils

from newscrawl.archive import SCHEMA, Archive, content_hash
from newscrawl.migrations.archive_v1 import index_folded
from newscrawl.search import search
from newscrawl.urls import article_url, canonical_url

LISTING = "/kr/siyosat/"
DAY = "/kr/news/2025/11/15/"
SLUGS = ["сенат-мажлиси", "президент-қарори", "ўзбекистон-қозоғистон", "олий-мажлис-ялпи", "ҳукумат-йиғилиши",
         "вазирлар-маҳкамаси"]
TITLES = ["Сенат ялпи мажлиси бўлиб ўтди", "Президент янги қарор имзолади", "Ўзбекистон ва Қозоғистон учрашуви",
          "Олий Мажлис ялпи мажлиси", "Ҳукумат йиғилиши ўтказилди", "Вазирлар Маҳкамаси қарори чиқди"]
SECOND_RUN = ("-s", "NEWSCRAWL_REFRESH_HOURS=0")


def with_related(body: bytes, links: list[tuple[str, str]]) -> bytes:
    """An article page whose "other news" block links to links (href, title)."""
    cards = "".join(f'<div class="news-card"><a class="news-card__title" href="{href}">{title}</a></div>'
                    for href, title in links)
    return body.replace(b"</article>", f'</article><div class="other-news">{cards}</div>'.encode())


def site(href: dict[int, str], served: str) -> list[tuple[str, object]]:
    """Routes of a listing linking story i at href[i], each story's related block linking the next two the same
    way; served is a regex of the article path that answers 200 (group 1 = slug)."""
    def listing_page(req: Request) -> Reply:
        return Reply(200, listing([(href[i], TITLES[i], "15.11.2025 10:00") for i in href]))

    def story(req: Request) -> Reply:
        slug = req.match.group(1)
        i = next(i for i, s in enumerate(SLUGS) if quote(s) == slug or s == slug)
        related = [(href[j % len(SLUGS)], TITLES[j % len(SLUGS)]) for j in (i + 1, i + 2)]
        return Reply(200, with_related(article(TITLES[i], "15.11.2025 10:00"), related))

    return [(f"^{LISTING}$", listing_page), (served, story)]


def article_hits(server: HostileServer) -> list[str]:
    return [p for p in server.paths() if p.startswith("/kr/news/")]


def joined(db: Path) -> tuple[int, int]:
    """(related links, related links whose url is an archived article's url): the analysts' JOIN."""
    con = connect(db)
    total = con.execute("SELECT count(*) FROM related_links").fetchone()[0]
    matched = con.execute("SELECT count(*) FROM related_links r JOIN articles a ON a.url = r.url").fetchone()[0]
    return total, matched


def crawl(db: Path, server: HostileServer, *args: str) -> None:
    result = run_crawl(db, "-a", f"start_url={server.url}{LISTING}", *args)
    assert result.returncode == 0, result.stderr[-3000:]


def test_cyrillic_slugs_are_fetched_once_and_related_links_join(tmp_path: Path) -> None:
    href = {i: f"{DAY}{slug}/" for i, slug in enumerate(SLUGS)}  # raw Cyrillic, as the site prints it
    db = tmp_path / "news.db"
    with HostileServer(site(href, rf"^{DAY}([^/]+)/$")) as server:
        crawl(db, server)
        assert sorted(article_hits(server)) == sorted(f"{DAY}{quote(s)}/" for s in SLUGS)
        server.requests.clear()
        crawl(db, server, *SECOND_RUN)
        assert article_hits(server) == [], "the second run fetches no archived article again"
    con = connect(db)
    assert sorted(r[0] for r in con.execute("SELECT url FROM articles")) == sorted(
        f"{server.url}{DAY}{quote(s)}/" for s in SLUGS)
    assert joined(db) == (2 * len(SLUGS), 2 * len(SLUGS)), "every related link joins articles.url"


def test_redirect_to_the_slash_form_is_remembered(tmp_path: Path) -> None:
    href = {i: f"{DAY}{slug}" for i, slug in enumerate(SLUGS)}  # linked without the slash the site redirects to

    def to_slash(req: Request) -> Reply:
        return redirect(req.path + "/")

    db = tmp_path / "news.db"
    with HostileServer([*site(href, rf"^{DAY}([^/]+)/$"), (rf"^{DAY}[^/]+$", to_slash)]) as server:
        crawl(db, server)
        assert len(article_hits(server)) == 2 * len(SLUGS), "each story: the redirect, then the page"
        server.requests.clear()
        crawl(db, server, *SECOND_RUN)
        assert article_hits(server) == [], "the redirect source resolves to the stored article"
    con = connect(db)
    stored = {r[0] for r in con.execute("SELECT url FROM articles")}
    assert stored == {f"{server.url}{DAY}{quote(s)}/" for s in SLUGS}, "stored under the URL that answered"
    aliases = dict(con.execute("SELECT alias, url FROM url_aliases").fetchall())
    assert aliases == {url.removesuffix("/"): url for url in stored}
    assert joined(db) == (2 * len(SLUGS), 2 * len(SLUGS)), "related links made with the source URL join"


def test_both_slash_forms_served_make_one_article(tmp_path: Path) -> None:
    # the listing links every story both ways; related blocks link the other form than their neighbour
    href = {i: f"{DAY}{slug}" + ("/" if i % 2 else "") for i, slug in enumerate(SLUGS)}

    def both(req: Request) -> Reply:
        return Reply(200, listing([(f"{DAY}{s}{end}", TITLES[i], "15.11.2025 10:00")
                                   for i, s in enumerate(SLUGS) for end in ("", "/")]))

    db = tmp_path / "news.db"
    with HostileServer([(f"^{LISTING}$", both), *site(href, rf"^{DAY}([^/]+)/?$")[1:]]) as server:
        crawl(db, server)
        server.requests.clear()
        crawl(db, server, *SECOND_RUN)
        assert article_hits(server) == [], "neither form is fetched again"
    con = connect(db)
    assert con.execute("SELECT count(*) FROM articles").fetchone()[0] == len(SLUGS), "one article per story"
    assert sorted(r[0] for r in con.execute("SELECT title FROM articles")) == sorted(TITLES)
    assert joined(db) == (2 * len(SLUGS), 2 * len(SLUGS))


def test_feed_entries_use_the_same_identity(tmp_path: Path) -> None:
    """A feed naming an archived article in another spelling does not make it be fetched again."""
    href = {i: f"{DAY}{slug}/" for i, slug in enumerate(SLUGS)}
    items = "".join(f"<item><title>{TITLES[i]}</title><link>{{base}}{DAY}{quote(s).lower()}/?utm_source=rss#c"
                    f"</link></item>" for i, s in enumerate(SLUGS))

    def rss(req: Request) -> Reply:
        return Reply(200, f'<rss><channel>{items.format(base=req.server.url)}</channel></rss>'.encode(),
                     {"Content-Type": "application/rss+xml"})

    def listing_with_feed(req: Request) -> Reply:
        page = listing([(href[i], TITLES[i], "15.11.2025 10:00") for i in href])
        return Reply(200, page.replace(b"<head>", b'<head><link rel="alternate" type="application/rss+xml" '
                                                  b'href="/kr/siyosat/rss/">'))

    db = tmp_path / "news.db"
    routes = site(href, rf"^{DAY}([^/]+)/$")
    with HostileServer([(f"^{LISTING}$", listing_with_feed), ("^/kr/siyosat/rss/$", rss), *routes[1:]]) as server:
        crawl(db, server)
        assert len(article_hits(server)) == len(SLUGS), "listing and feed name each story once between them"
        assert server.hits("/kr/siyosat/rss/") == 1
        server.requests.clear()
        crawl(db, server, *SECOND_RUN)
        assert server.hits("/kr/siyosat/rss/") == 2 and article_hits(server) == []



# --- migration 0006 on an archive as the code before it wrote it -----------------------------------------------

SITE = "https://kun.uz/kr/news/2025/11/15/"
SENAT = quote("сенат")  # %D1%81%D0%B5%D0%BD%D0%B0%D1%82


def old_article(url: str, title: str, seen: str, **extra: str) -> dict[str, object]:
    """An articles row as upsert_article wrote it before migration 0006 (schema 0005)."""
    row: dict[str, object] = {"url": url, "canonical_url": url, "title": title, "lead": "Лид.", "body": f"{title}.",
                              "published_at": "2025-11-15T10:00:00+05:00", "fetched_at": seen, "category": "Сиёсат",
                              "category_key": "siyosat", "tags": "[]", "extraction": "{}", "problems": "[]",
                              "first_seen_at": seen, "last_seen_at": seen, "last_changed_at": seen, **extra}
    row["content_hash"] = content_hash(row)
    return row


def old_archive(path: Path) -> None:
    db = sqlite_utils.Database(path)
    SCHEMA.apply(db, stop_before="0006_canonical_urls")
    db.execute("PRAGMA user_version = 5")
    rows = [
        # one story stored twice: linked raw-Cyrillic once, percent-encoded (lower-case escapes) once
        old_article(f"{SITE}сенат/", "Сенат мажлиси", "2025-11-15T06:00:00+00:00"),
        old_article(f"{SITE}{SENAT.lower()}/", "Сенат мажлиси бўлиб ўтди", "2025-11-16T06:00:00+00:00"),
        # one story stored twice: /x and /x/ both answered 200
        old_article(f"{SITE}x", "Икс мақола", "2025-11-15T07:00:00+00:00"),
        old_article(f"{SITE}x/", "Икс мақола", "2025-11-15T08:00:00+00:00"),
        old_article("https://KUN.uz:443/kr/news/2025/11/15/c?utm_source=tg&id=3#top", "Си мақола",
                    "2025-11-15T09:00:00+00:00"),
    ]
    for row in rows:
        db["articles"].insert(row)
    for row in db.query("SELECT id, title, lead, body FROM articles"):
        index_folded(db, row)
    db["article_versions"].insert({"article_url": f"{SITE}сенат/", "seen_from": "2025-11-14T06:00:00+00:00",
                                   "seen_until": "2025-11-15T06:00:00+00:00", "content_hash": "h0",
                                   "title": "Сенат (биринчи)", "body": "Биринчи."})
    links = [(f"{SITE}сенат/", 0, f"{SITE}x"), (f"{SITE}сенат/", 1, f"{SITE}y/"),
             (f"{SITE}{SENAT.lower()}/", 0, f"{SITE}x"), (f"{SITE}x/", 0, f"{SITE}сенат/"),
             (f"{SITE}x/", 1, f"{SITE}old-c"), (f"{SITE}x", 0, f"{SITE}{SENAT.lower()}/")]
    db["related_links"].insert_all({"article_url": a, "position": p, "url": u, "title": "T"} for a, p, u in links)
    body = gzip.compress(b"<html>senat</html>")
    pages = [(f"{SITE}сенат/", f"{SITE}сенат/", "2025-11-15T06:00:00+00:00"),
             (f"{SITE}{SENAT.lower()}/", f"{SITE}{SENAT.lower()}/", "2025-11-16T06:00:00+00:00"),
             (f"{SITE}old-c", "https://kun.uz/kr/news/2025/11/15/c?id=3", "2025-11-15T09:00:00+00:00")]
    db["pages"].insert_all({"url": u, "final_url": f, "status": 200, "headers": "{}", "fetched_at": t,
                            "last_fetched_at": t, "sha256": "s" if "old-c" not in u else "c", "size": 18,
                            "compression": "gzip", "body": body} for u, f, t in pages)
    db["missing_pages"].insert_all([
        {"url": f"{SITE}йўқ/", "status": 404, "first_failed_at": "2025-11-15", "last_failed_at": "2025-11-15",
         "attempts": 2},
        {"url": f"{SITE}{quote('йўқ')}/", "status": 410, "first_failed_at": "2025-11-14",
         "last_failed_at": "2025-11-16", "attempts": 1}])
    db.conn.commit()
    db.close()


def test_migration_0006_canonicalises_and_merges_without_losing_history(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    old_archive(path)
    with Archive(path) as archive:
        db = archive.db
        articles = {r["url"]: r for r in db.query("SELECT * FROM articles")}
        senat, x, c = f"{SITE}{SENAT}/", f"{SITE}x/", f"{SITE}c?id=3"
        assert set(articles) == {senat, x, c}, "3 stories, each under one canonical URL"
        assert articles[senat]["title"] == "Сенат мажлиси бўлиб ўтди", "the most recently seen row is kept"
        assert articles[senat]["first_seen_at"] == "2025-11-15T06:00:00+00:00", "first seen by either row"
        assert articles[c]["canonical_url"] == c
        versions = [r["title"] for r in db.query("SELECT title FROM article_versions WHERE article_url = ? "
                                                 "ORDER BY seen_until", [senat])]
        assert versions == ["Сенат (биринчи)", "Сенат мажлиси"], "old row's history and its state are versions"
        assert db["article_versions"].count == 2, "identical /x and /x/ add no version"
        links = {(r["article_url"], r["position"]): r["url"] for r in db.query(
            "SELECT a.url AS article_url, r.position, r.url FROM related_links r "
            "JOIN articles a ON a.id = r.article_id")}
        assert links == {(senat, 0): x, (x, 0): senat, (x, 1): c}, "links of the kept rows, pointing at them"
        assert db.execute("SELECT count(*) FROM related_links r JOIN articles a ON a.url = r.url").fetchone()[0] == 3
        pages = list(db.query("SELECT url, final_url, fetched_at, last_fetched_at FROM pages ORDER BY id"))
        assert [(p["url"], p["final_url"]) for p in pages] == [(senat, senat), (f"{SITE}old-c", c)]
        assert (pages[0]["fetched_at"], pages[0]["last_fetched_at"]) == ("2025-11-15T06:00:00+00:00",
                                                                         "2025-11-16T06:00:00+00:00")
        aliases = dict(db.execute("SELECT alias, url FROM url_aliases").fetchall())
        assert aliases == {f"{SITE}x": x, f"{SITE}old-c": c}
        missing = list(db.query("SELECT * FROM missing_pages"))
        assert [(m["url"], m["status"], m["attempts"], m["first_failed_at"], m["last_failed_at"]) for m in missing] \
            == [(f"{SITE}{quote('йўқ')}/", 410, 3, "2025-11-14", "2025-11-16")]
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        db.execute("INSERT INTO articles_fts(articles_fts) VALUES ('integrity-check')")
        assert [h.url for h in search(db, "мажлиси")] == [senat]
        assert db.execute("SELECT count(*) FROM articles_search").fetchone()[0] == 3

        known = archive.known_articles()
        for form in (f"{SITE}x", x, senat, f"{SITE}{SENAT}", f"{SITE}old-c"):
            assert form in known, form
        assert known[f"{SITE}old-c"].url == c
        assert archive.upsert_article({"url": f"{SITE}сенат", "title": "Сенат мажлиси бўлиб ўтди", "lead": "Лид.",
                                       "body": "Сенат мажлиси бўлиб ўтди.", "published_at": "2025-11-15T10:00:00+05:00",
                                       "category": "Сиёсат", "fetched_at": "2025-11-17T06:00:00+00:00"}) == "unchanged"
        assert db["articles"].count == 3


def test_archive_resolves_aliases_and_slash_variants_whatever_the_order(tmp_path: Path) -> None:
    def story(url: str, title: str, related: tuple[str, ...] = ()) -> dict[str, object]:
        return {"url": url, "title": title, "body": f"{title}.", "fetched_at": "2025-11-15T06:00:00+00:00",
                "related": [{"url": r, "position": p, "title": "T"} for p, r in enumerate(related)]}

    with Archive(tmp_path / "news.db") as archive:
        # a related card links /x before /x is known to redirect to /x/; the raw Cyrillic card is encoded
        assert archive.upsert_article(story(f"{SITE}a/", "A", (f"{SITE}x", f"{SITE}сенат/"))) == "new"
        assert archive.upsert_article(story(f"{SITE}x/", "X"), aliases=[f"{SITE}x"]) == "new"
        assert archive.upsert_article(story(f"{SITE}{SENAT.lower()}/", "S")) == "new"
        links = [r[0] for r in archive.db.execute("SELECT url FROM related_links ORDER BY position")]
        assert links == [f"{SITE}x/", f"{SITE}{SENAT}/"], "rewritten when the alias became known"
        # the site also answers /a (no slash): the same article, updated in place
        assert archive.upsert_article(story(f"{SITE}a", "A2", (f"{SITE}x/",))) == "updated"
        assert archive.db["articles"].count == 3
        assert archive.article(f"{SITE}a")["url"] == f"{SITE}a/"
        known = archive.known_articles()
        assert {known[canonical_url(u)].url for u in (f"{SITE}x", f"{SITE}x/", f"{SITE}сенат", f"{SITE}a")} == {
            f"{SITE}x/", f"{SITE}{SENAT}/", f"{SITE}a/"}
        archive.record_missing(f"{SITE}йўқ/", 404, "2025-11-15T06:00:00+00:00")
        assert archive.missing_since() == {f"{SITE}{quote('йўқ')}/": "2025-11-15T06:00:00+00:00"}


def test_an_idn_start_url_keeps_its_articles_on_site(tmp_path: Path) -> None:
    """Requests carry an IDN host in punycode: the spider's allowed domain must be spelled the same way."""
    from scrapy.utils.test import get_crawler
    from scrapy.utils.url import url_is_from_any_domain

    import newscrawl.settings
    from newscrawl.spiders.category import CategorySpider

    project = {name: getattr(newscrawl.settings, name) for name in dir(newscrawl.settings) if name.isupper()}
    crawler = get_crawler(CategorySpider, {**project, "NEWSCRAWL_DB": str(tmp_path / "none.db")})
    spider = CategorySpider.from_crawler(crawler, start_url="https://Пример.рф/kr/siyosat/", site="none")
    card = article_url(spider.start_url, "/kr/news/2025/11/15/сенат/")
    assert card == f"https://xn--e1afmkfd.xn--p1ai{DAY}{SENAT}/"
    assert url_is_from_any_domain(card, spider.allowed_domains)


def test_an_archive_not_yet_migrated_is_looked_up_in_canonical_form(tmp_path: Path) -> None:
    """The spider reads the archive read-only before its run migrates it: no re-fetch of the whole archive."""
    path = tmp_path / "old.db"
    old_archive(path)
    with Archive(path, readonly=True) as archive:
        known = archive.known_articles()
        assert {f"{SITE}{SENAT}/", f"{SITE}{SENAT}", f"{SITE}x", f"{SITE}x/", f"{SITE}c?id=3"} <= set(known)
        assert archive.missing_since() == {f"{SITE}{quote('йўқ')}/": "2025-11-16"}
        assert archive.schema_version == 5, "a read-only open does not migrate"


def test_many_urls_resolve_in_one_go_exactly_as_one_at_a_time(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """resolve_urls() (a listing page's cards, an article's related links, in one query) gives every URL the
    answer of resolve_url(): its own archived form first, then its slash variant, then an alias of either, else
    itself; known_for() likewise; and past MAX_QUERY_URLS (the chunk of one IN query) nothing is lost."""
    import newscrawl.archive as archive_module
    monkeypatch.setattr(archive_module, "MAX_QUERY_URLS", 3)  # several chunks with a handful of URLs

    def story(url: str, title: str) -> dict[str, object]:
        return {"url": url, "title": title, "body": f"{title}.", "fetched_at": "2025-11-15T06:00:00+00:00"}

    with Archive(tmp_path / "news.db") as archive:
        archive.upsert_article(story(f"{SITE}own/", "Own"))
        archive.upsert_article(story(f"{SITE}both", "Both bare"))
        archive.upsert_article(story(f"{SITE}both/", "Both slashed"))  # the same article: stored as first seen
        archive.upsert_article(story(f"{SITE}moved/", "Moved"), aliases=[f"{SITE}old-name", f"{SITE}old-name/x"])
        archive.upsert_article(story(f"{SITE}{SENAT.lower()}/", "Senat"))
        archive.upsert_article(story(f"{SITE}copy/", "Copy"), aliases=[f"{SITE}own/"])  # an alias that is archived
        asked = [f"{SITE}own", f"{SITE}own/", f"{SITE}both", f"{SITE}both/", f"{SITE}old-name", f"{SITE}old-name/",
                 f"{SITE}old-name/x", f"{SITE}сенат", f"{SITE}nowhere", f"{SITE}nowhere/", f"{SITE}own/?utm_source=x"]
        one_by_one = {canonical_url(url): archive.resolve_url(url) for url in asked}
        assert archive.resolve_urls(asked) == one_by_one
        assert one_by_one == {canonical_url(url): stored for url, stored in [
            (f"{SITE}own", f"{SITE}own/"), (f"{SITE}own/", f"{SITE}own/"),  # an archived URL before an alias of it
            (f"{SITE}both", f"{SITE}both"), (f"{SITE}both/", f"{SITE}both"),  # the slash variant of an article
            (f"{SITE}old-name", f"{SITE}moved/"), (f"{SITE}old-name/", f"{SITE}moved/"),
            (f"{SITE}old-name/x", f"{SITE}moved/"), (f"{SITE}сенат", f"{SITE}{SENAT}/"),
            (f"{SITE}nowhere", f"{SITE}nowhere"), (f"{SITE}nowhere/", f"{SITE}nowhere/"),
            (f"{SITE}own/?utm_source=x", f"{SITE}own/")]}
        upto = archive.state_marks()[0]
        known = archive.known_for([canonical_url(url) for url in asked], upto)
        assert {url: k.url for url, k in known.items()} == {
            url: stored for url, stored in one_by_one.items() if "nowhere" not in url}
        assert archive.known_for([canonical_url(f"{SITE}own")], upto - 5) == {}  # stored after the mark: not known
