"""One identity per article over real HTTP: Cyrillic slugs, /x -> /x/ redirects and slash variants are each
fetched once, stored once, and related links join the articles they name."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote

from archive_checks import connect
from conftest import run_crawl
from hostile import HostileServer, Reply, Request, redirect
from test_bad_input import article, listing

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

