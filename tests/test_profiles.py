"""Site profiles: bundled ones load, broken ones fail loudly naming file and key, and a new site is just a file."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from archive_checks import connect
from conftest import run_crawl
from newscrawl.demo.server import DemoServer, Page
from newscrawl.extract import extract_article
from newscrawl.sites import ProfileError, available_profiles, load_profile, load_profile_file, profile_for_url

VALID = """\
name = "mysite"
hosts = ["news.example.test"]

[listing]
cards = ["ul.stories > li.story"]
article_url_pattern = '/x/story/\\d+\\.html$'

[card]
link = ["a.headline::attr(href)"]

[article]
title = ["h2.big"]
"""


def write(tmp_path: Path, text: str, name: str = "mysite.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


# --- bundled profiles ------------------------------------------------------------------------------------------------

def test_every_bundled_profile_loads() -> None:
    profiles = available_profiles()
    assert "demo" in profiles
    for stem, path in profiles.items():
        profile = load_profile(stem)
        assert profile.name == stem, f"{path}: name must equal the file name so `-a site={stem}` finds it"
        assert profile.hosts and profile.listing_cards and profile.article["title"]
        assert profile.path == str(path)


def test_demo_profile_values() -> None:
    demo = load_profile("demo")
    assert demo.utc_offset == "+05:00" and demo.language == "uz"
    assert demo.categories["siyosat"] == "/kr/siyosat/" and demo.categories["siyosat-latn"] == "/oz/siyosat/"
    assert demo.article_url_pattern.search("/kr/news/2025/11/15/some-slug/")
    assert not demo.article_url_pattern.search("/kr/siyosat/?page=2")
    assert ".follow-us" in demo.body_exclude


def test_profile_for_url_matches_hosts_and_subdomains() -> None:
    assert profile_for_url("http://demo.newscrawl.test/kr/news/x/").name == "demo"
    assert profile_for_url("http://www.demo.newscrawl.test/kr/").name == "demo"
    assert profile_for_url("https://unknown.example/kr/news/x/") is None
    assert profile_for_url("http://notdemo.newscrawl.test.evil/") is None


def test_loading_by_path_and_by_name(tmp_path: Path) -> None:
    path = write(tmp_path, VALID)
    assert load_profile(str(path)).name == "mysite"
    with pytest.raises(ProfileError, match=r"no such profile; available: .*demo"):
        load_profile("no-such-site")


# --- broken profiles -------------------------------------------------------------------------------------------------

BROKEN = {
    "invalid CSS in article.title": (VALID.replace('title = ["h2.big"]', 'title = ["h2[["]'), "article.title"),
    "invalid CSS in listing.cards": (VALID.replace('"ul.stories > li.story"', '"ul >> li"'), "listing.cards"),
    "invalid CSS in card.link": (VALID.replace("a.headline::attr(href)", "a.headline::nope("), "card.link"),
    "missing name": (VALID.replace('name = "mysite"\n', ""), "name"),
    "missing hosts": (VALID.replace('hosts = ["news.example.test"]\n', ""), "hosts"),
    "empty hosts": (VALID.replace('["news.example.test"]', "[]"), "hosts"),
    "missing listing.cards": (VALID.replace('cards = ["ul.stories > li.story"]\n', ""), "listing.cards"),
    "missing article.title": (VALID.replace('title = ["h2.big"]\n', 'lead = [".dek"]\n'), "article.title"),
    "missing card.link": (VALID.replace('link = ["a.headline::attr(href)"]\n', ""), "card.link"),
    "unknown top-level key": ('titel = "x"\n' + VALID, "titel"),
    "date_formats without a strptime code": ('date_formats = ["dd.mm.yyyy"]\n' + VALID, "date_formats"),
    "unknown key in [article]": (VALID.replace('title = ["h2.big"]', 'title = ["h2.big"]\nlede = [".dek"]'),
                                 "article.lede"),
    "unknown key in [listing]": (VALID.replace("[listing]", '[listing]\nnext_page = ["a.more::attr(href)"]'),
                                 "listing.next_page"),
    "bad article_url_pattern": (VALID.replace("'/x/story/\\d+\\.html$'", "'/x/(story'"),
                                "listing.article_url_pattern"),
    "bad TOML": (VALID.replace('name = "mysite"', 'name = "mysite'), "(file)"),
    "selector not a string": (VALID.replace('title = ["h2.big"]', "title = [3]"), "article.title"),
    "bad timezone": ('timezone = "Asia/Tashkent"\n' + VALID, "timezone"),
}


@pytest.mark.parametrize("text,key", BROKEN.values(), ids=BROKEN.keys())
def test_broken_profile_names_file_and_key(tmp_path: Path, text: str, key: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ProfileError) as caught:
        load_profile_file(path)
    message = str(caught.value)
    assert str(path) in message and f"key '{key}'" in message
    assert caught.value.key == key and caught.value.path == str(path)


def test_unreadable_profile_file(tmp_path: Path) -> None:
    with pytest.raises(ProfileError, match="cannot be read"):
        load_profile_file(tmp_path / "absent.toml")


def test_crawl_with_broken_profile_fails_at_start(tmp_path: Path) -> None:
    path = write(tmp_path, BROKEN["invalid CSS in article.title"][0])
    result = run_crawl(tmp_path / "news.db", "-a", f"site={path}", "-a", "category=siyosat", spider="category",
                       timeout=60)
    assert result.returncode == 2
    assert f"newscrawl: site profile {path}: key 'article.title': invalid CSS selector" in result.stderr
    assert "Spider opened" not in result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / "news.db").exists()


def test_crawl_with_bad_since_is_a_usage_error(tmp_path: Path) -> None:
    result = run_crawl(tmp_path / "news.db", "-a", "since=yesterday", timeout=60)
    assert result.returncode == 2 and "bad spider argument" in result.stderr
    assert not (tmp_path / "news.db").exists()


# --- adding a site is a file -----------------------------------------------------------------------------------------

STORIES = [
    (1, "Сенат қонунни маъқуллади", "Сенат йиғилишида муҳим қонун маъқулланди.", "15.11.2025 10:15",
     "Алишер Каримов", ["Сенат", "Қонун"]),
    (2, "Парламент делегацияси Сеулга борди", "Делегация икки кунлик ташриф билан Сеулда бўлади.",
     "14.11.2025 18:40", "Нодира Тошева", ["Корея"]),
    (3, "Ҳокимлар ҳисобот берди", "Вилоят ҳокимлари халқ депутатлари кенгашида ҳисобот берди.",
     "13.11.2025 09:05", "Алишер Каримов", ["Ҳокимлик", "Ҳисобот"]),
]
MY_PROFILE = """\
name = "mysite"
hosts = ["127.0.0.1"]
base_url = "{base}"
timezone = "+05:00"
language = "uz"

[categories]
siyosat = "/x/politics/"

[listing]
cards = ["ul.stories > li.story"]
next = ["a.older::attr(href)"]
article_url_pattern = '/x/story/\\d+\\.html$'

[card]
link = ["a.headline::attr(href)"]
title = ["a.headline"]
time = ["time.when"]
category = ["span.rubric"]
lead = ["p.teaser"]

[article]
title = ["div.story-head h2.big"]
lead = ["div.story-head .dek"]
published = ["div.story-head .stamp"]
author = [".writer"]
image = [".hero img::attr(src)"]
category = [".section-label"]
tags = [".labels a"]
body = [".story-text"]
body_exclude = [".ad"]

[related]
cards = [".more-stories li.story"]
"""


def body_of(number: int) -> list[str]:
    return [f"{number}-мақоланинг биринчи хатбоши: бу ерда воқеа батафсил ёритилган.",
            f"{number}-мақоланинг иккинчи хатбоши: мутахассислар фикри келтирилган.",
            "– Биз бу қарорни қўллаб-қувватлаймиз, – деди депутат."]


def story_card(number: int, title: str, lead: str, when: str) -> str:
    return (f'<li class="story"><a class="headline" href="/x/story/{number}.html">{title}</a> '
            f'<span class="rubric">Сиёсат</span> <time class="when">{when}</time><p class="teaser">{lead}</p></li>')


def my_site() -> dict[str, Page]:
    """A small site in markup of my own: no h1, no metadata, so only the profile can read it well."""
    cards = [story_card(n, t, lead, when) for n, t, lead, when, _, _ in STORIES]
    pages = {
        "/x/politics/": f'<html><body><ul class="stories">{"".join(cards[:2])}</ul>'
                        '<a class="older" href="/x/politics/?p=2">Аввалгилари</a></body></html>',
        "/x/politics/?p=2": f'<html><body><ul class="stories">{cards[2]}</ul></body></html>',
    }
    for number, title, lead, when, author, tags in STORIES:
        others = "".join(c for i, c in enumerate(cards) if i != number - 1)
        body = "".join(f"<p>{p}</p>" for p in body_of(number)[:2]) + '<div class="ad">Реклама: арзон кредит</div>' \
            + "".join(f"<p>{p}</p>" for p in body_of(number)[2:])
        pages[f"/x/story/{number}.html"] = (
            '<html><head><title>Хабарлар</title></head><body>'
            f'<div class="story-head"><span class="section-label">Сиёсат</span><h2 class="big">{title}</h2>'
            f'<div class="dek">{lead}</div><span class="stamp">{when}</span></div>'
            f'<div class="hero"><img src="/img/{number}.jpg"></div>'
            f'<div class="story-text">{body}</div><div class="writer">{author}</div>'
            '<div class="labels">' + "".join(f'<a href="/t/{i}">{t}</a>' for i, t in enumerate(tags)) + "</div>"
            f'<div class="more-stories"><ul>{others}</ul></div></body></html>'
        )
    return {path: Page(html.encode("utf-8")) for path, html in pages.items()}


@pytest.fixture(scope="module")
def my_crawl(tmp_path_factory: pytest.TempPathFactory):
    """mysite.toml in a temp dir, crawled for real with `scrapy crawl category -a site=<path> -a category=siyosat`."""
    tmp = tmp_path_factory.mktemp("mysite")
    with DemoServer(my_site()) as server:
        profile = write(tmp, MY_PROFILE.format(base=server.url + "/"))
        db = tmp / "news.db"
        result = run_crawl(db, "-a", f"site={profile}", "-a", "category=siyosat", spider="category", timeout=120)
        yield db, server.url, result, profile


def test_new_site_crawled_from_its_profile_file(my_crawl) -> None:
    db, base, result, _ = my_crawl
    assert result.returncode == 0, result.stderr[-3000:]
    con = connect(db)
    rows = {r["url"]: r for r in con.execute("SELECT * FROM articles_full")}
    assert set(rows) == {f"{base}/x/story/{n}.html" for n, *_ in STORIES}
    for number, title, lead, when, author, tags in STORIES:
        row = rows[f"{base}/x/story/{number}.html"]
        assert row["title"] == title and row["lead"] == lead
        assert row["body"] == "\n\n".join(body_of(number)), "the .ad block is excluded, paragraphs kept"
        day, month, rest = when.split(".")
        assert row["published_at"] == f"{rest[:4]}-{month}-{day}T{rest[5:]}:00+05:00"
        assert row["published_text"] == when
        assert (row["author"], row["category"]) == (author, "Сиёсат")
        assert json.loads(row["tags"]) == tags
        assert row["image_url"] == f"{base}/img/{number}.jpg"
        layers = json.loads(row["extraction"])
        for name in ("title", "lead", "published_at", "author", "image_url", "category", "tags", "body", "related"):
            assert layers[name] == "profile", (number, name)


def test_new_site_related_cards_and_no_drift(my_crawl) -> None:
    db, base, result, _ = my_crawl
    con = connect(db)
    related = con.execute("SELECT url, title, category, published_text, published_at, lead FROM related_links "
                          "WHERE article_id = (SELECT id FROM articles WHERE url = ?) ORDER BY position",
                          [f"{base}/x/story/1.html"]).fetchall()
    assert [tuple(r) for r in related] == [
        (f"{base}/x/story/2.html", STORIES[1][1], "Сиёсат", "14.11.2025 18:40", "2025-11-14T18:40:00+05:00",
         STORIES[1][2]),
        (f"{base}/x/story/3.html", STORIES[2][1], "Сиёсат", "13.11.2025 09:05", "2025-11-13T09:05:00+05:00",
         STORIES[2][2]),
    ]
    assert "DRIFT:" not in result.stderr
    drift = con.execute("SELECT drift FROM crawls ORDER BY id DESC").fetchone()[0]
    assert json.loads(drift or "null") is None, drift


def test_new_site_profile_used_by_extract_article(my_crawl) -> None:
    """The same file serves `extract_article(profile=<path>)`; without it the headline is lost to <title>."""
    _, _, _, profile = my_crawl
    html = my_site()["/x/story/2.html"].body
    with_profile = extract_article(html, "http://127.0.0.1/x/story/2.html", profile=str(profile))
    without = extract_article(html, "http://127.0.0.1/x/story/2.html", profile=None)
    assert with_profile["title"] == STORIES[1][1] and with_profile["extraction"]["title"] == "profile"
    assert without["title"] != STORIES[1][1]


def test_demo_profile_category_without_start_url_serves_bundled_demo(tmp_path: Path) -> None:
    db = tmp_path / "news.db"
    result = run_crawl(db, "-a", "site=demo", "-a", "category=siyosat-latn", spider="category", timeout=120)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "crawling the bundled demo site" in result.stderr
    con = sqlite3.connect(db)
    rows = con.execute("SELECT url, script, category, extraction FROM articles").fetchall()
    assert len(rows) == 3
    for url, script, category, extraction in rows:
        assert "/oz/news/" in url and script == "latn" and category == "Siyosat"
        assert json.loads(extraction)["title"] == "profile"


CLASS_INDEX_PAGE = """<html><body class="page">
<div class="wrap  news-card"><div class="news-card news-card" id="a"><a class="t" href="/a">A</a>
  <span class="d">1</span><div class="news-card"><a class="t" href="/inner">I</a></div></div></div>
<ul class="list"><li class="news-card	x
y">one <b class="t">B</b></li><li class="news-card"><img src="/i.jpg"></li></ul>
<section><p class="lead x">lead</p><!-- c --><p class="lead">second</p></section>
<div class="other-news"><div class="news-card"><a class="t" href="/o">O</a></div></div>
</body></html>"""


def test_class_index_selects_what_the_xpath_selects() -> None:
    """select() inside class_index gives exactly the compiled XPath's answer, for every selector and scope."""
    from parsel import Selector

    from newscrawl.demo.site import DEMO_NOW, demo_site
    from newscrawl.pages.dom import class_index, compiled, select

    profile = load_profile("demo")
    selectors = {css for group in (profile.article.values(), profile.card.values()) for sels in group for css in sels}
    selectors |= {*profile.body, *profile.body_exclude, *profile.related_cards, *profile.listing_cards,
                  ".news-card", "div.news-card", ".news-card .t", ".news-card a::attr(href)", ".t::text", ".lead",
                  "p.lead", "li.news-card", ".x", ".y", ".news-card > a", ".news-card + ul", ".missing a",
                  ".news-card, .lead", ".wrap.news-card", ".news-card img::attr(src)", "section .lead",
                  "[class*=news]", "[class*=card] a", "div[class*=ews-c]", "[class*=author]", "[class*=byline]",
                  "[class*='a b']", "[class*=breadcrumb] a", "[class*=x] b",
                  # a descendant class step after the first: answered from the index too
                  ".wrap .news-card", ".news-card .news-card", ".news-card .news-card .t", ".list .news-card .t",
                  ".news-card .t::attr(href)", ".wrap .news-card a::attr(href)", "div.news-card .t", "li .t",
                  ".wrap div.news-card", ".list [class*=card]", ".missing .t", ".news-card .missing", ".page .lead",
                  ".page section .lead", ".page .lead::text", ".other-news .news-card .t", ".list li.news-card b",
                  ".list .news-card .t::text", ".page .news-card > a", ".wrap .news-card:last-child"}
    pages, _ = demo_site(DEMO_NOW)
    texts = [CLASS_INDEX_PAGE] + [p.body.decode() for p in pages.values() if p.content_type.startswith("text/html")]
    for text in texts:
        sel = Selector(text=text)
        scopes = [sel.root, *sel.root.iter("div", "li", "section", "article")]
        expected = {(id(s), css): compiled(css)(s) for s in scopes for css in selectors}
        with class_index(sel):
            for scope in scopes:
                for css in sorted(selectors):
                    assert select(scope, css) == expected[(id(scope), css)], (css, scope.tag, scope.get("class"))


def test_the_class_index_finds_the_classed_elements_as_the_predicate_does() -> None:
    """The index lists a page's classed elements as the parents of its class attributes, and counts a subtree's
    by its class attributes: the same elements and counts as descendant-or-self::*[@class] gives."""
    from lxml import etree

    from newscrawl.demo.site import DEMO_NOW, demo_site
    from newscrawl.pages.dom import _CLASSED, _CLASSED_BELOW, parse_html

    pages, _ = demo_site(DEMO_NOW)
    texts = [CLASS_INDEX_PAGE] + [p.body.decode() for p in pages.values() if p.content_type.startswith("text/html")]
    for text in texts[:60]:
        root = parse_html(text).root
        assert _CLASSED(root) == etree.XPath("descendant-or-self::*[@class]")(root)
        for element in root.iter(etree.Element):
            assert _CLASSED_BELOW(element) == len(element.xpath("descendant::*[@class]"))


def test_the_class_index_recognises_the_profile_selectors() -> None:
    """The index is an optimisation the XPath check above cannot see failing: a cssselect release that translates
    class selectors differently made every selector fall back to the XPath (the profile path lost a third of its
    speed). Every single-class selector of the demo profile must be recognised."""
    from newscrawl.pages.dom import _class_step

    profile = load_profile("demo")
    simple = [css for group in (profile.article.values(), profile.card.values()) for sels in group for css in sels
              if css.startswith(".") and " " not in css and "," not in css]
    assert len(simple) >= 5, simple
    assert [css for css in simple if _class_step(css) is None] == []
    assert _class_step("[class*=byline]") is not None and _class_step("div.a > span") is not None
    assert [css for css in (*profile.related_cards, *profile.listing_cards) if (step := _class_step(css)) is None
            or step.below is None] == []  # ".other-news .news-card": both class steps found in the index
