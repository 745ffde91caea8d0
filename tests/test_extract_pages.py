"""extract_article on the saved fixture pages, every field checked against the demo sites' ground truth."""

from __future__ import annotations

from datetime import datetime
from functools import cache
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from newscrawl.demo.site import DEMO_NOW, ExpectedArticle, demo_site, generic_site
from newscrawl.extract import ListingHint, extract_article
from test_fixture_pages import PAGES, load_case

BASE = "http://demo.newscrawl.test"
FETCHED = datetime.fromisoformat("2025-11-15T09:00:00+00:00")
FOLLOW_US = "Бизни ижтимоий тармоқларда кузатиб боринг"
OTHER_NEWS = "Бошқа янгиликлар"
CAPTION = "Фото: Президент матбуот хизмати"
SHARE = ("Улашиш", "Telegram", "Facebook")
DEMO_CASES = ("seed", "no-lead", "garbage-date", "malformed", "latin", "updated-only")
GENERIC_CASES = ("jsonld", "bare-yesterday", "cp1251-russian")


@cache
def truths() -> dict[str, ExpectedArticle]:
    """Ground truth of both demo sites rendered at DEMO_NOW, by absolute URL on the fixture host."""
    found = {}
    for build in (demo_site, generic_site):
        for expected in build(DEMO_NOW)[1]:
            found[BASE + expected.path] = expected
    return found


def case(site: str, name: str, **overrides: Any) -> tuple[dict[str, Any], ExpectedArticle]:
    """Extract a saved fixture page (as saved: same url, fetched_at, profile unless overridden) and its truth."""
    body, url, fetched_at, profile = load_case(PAGES / site / name)
    kwargs: dict[str, Any] = {"fetched_at": fetched_at, "profile": profile, **overrides}
    return extract_article(body, url, **kwargs), truths()[url]


def absolute(path: str | None) -> str | None:
    return BASE + path if path and path.startswith("/") else path


def iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def paragraphs(article: dict[str, Any]) -> list[str]:
    return article["body"].split("\n\n") if article["body"] else []


def assert_clean_body(article: dict[str, Any], truth: ExpectedArticle) -> None:
    """The body is the story's paragraphs only: no lead, no chrome, no cards, no captions, no share buttons."""
    body = article["body"]
    assert paragraphs(article) == truth.body
    for chrome in (FOLLOW_US, OTHER_NEWS, CAPTION, *SHARE, "Bizni ijtimoiy", "Boshqa yangiliklar", "Foto:"):
        assert chrome not in body
    for title, _ in truth.related:
        assert title not in body
    if truth.lead:
        assert paragraphs(article)[0] != truth.lead and truth.lead not in body


# --- the contract --------------------------------------------------------------------------------------------------

def test_bytes_and_url_give_a_dict_with_body() -> None:
    body, url, _, _ = load_case(PAGES / "demo" / "seed")
    article = extract_article(body, url=url)
    assert isinstance(article, dict)
    assert isinstance(article["body"], str) and len(article["body"]) > 500
    assert {"title", "lead", "published_at", "extraction", "problems", "related"} <= set(article)


# --- demo site: the profile layer ------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", DEMO_CASES)
def test_demo_page_fields_match_ground_truth(name: str) -> None:
    article, truth = case("demo", name)
    assert article["title"] == truth.title
    assert article["lead"] == truth.lead
    assert_clean_body(article, truth)
    assert article["modified_at"] == iso(truth.modified_at)
    assert article["author"] == truth.author
    assert article["image_url"] == absolute(truth.image_url)
    assert article["category"] == truth.category
    assert article["tags"] == truth.tags
    assert article["language"] == truth.language
    assert article["script"] == truth.script
    assert [(r["url"], r["title"]) for r in article["related"]] == [(absolute(p), t) for p, t in truth.related]
    assert article["canonical_url"] == article["url"]
    assert article["fetched_at"] == "2025-11-15T09:00:00+00:00"
    if truth.published_text and name != "garbage-date":
        assert article["published_at"] == iso(truth.published_at)
        assert article["published_text"] == truth.published_text
        assert article["published_precision"] == "minute"


def test_seed_article_every_field() -> None:
    article, truth = case("demo", "seed")
    assert article["title"] == "Мирзиёев ва Тоқаев 1,3 млрд долларлик лойиҳаларни ишга туширди"
    assert article["lead"] == "Президентлар раислигида Олий давлатлараро кенгашнинг иккинчи йиғилиши бўлиб ўтди."
    assert article["published_at"] == "2025-11-15T12:33:00+05:00"
    assert article["published_text"] == "15.11.2025 12:33"
    assert article["modified_at"] == "2025-11-15T12:36:00+05:00"
    assert article["modified_text"] == "Янгиланди: 12:36 15.11.2025"
    assert article["category"] == "Сиёсат"
    assert article["tags"] == ["Қозоғистон", "Мирзиёев", "Тоқаев", "Олий давлатлараро кенгаш"]
    assert article["image_url"] == f"{BASE}/media/2025/11/mirziyoev-va-toqaev-loyihalarni-ishga-tushirdi.jpg"
    assert (article["language"], article["script"]) == ("uz", "cyrl")
    assert len(paragraphs(article)) == len(truth.body) == 14
    assert any(p.startswith("– ") for p in paragraphs(article)), "quoted speech keeps its dash"
    assert article["problems"] == []


def test_seed_related_cards_every_field() -> None:
    article, truth = case("demo", "seed")
    related = article["related"]
    assert len(related) == 6
    assert [r["position"] for r in related] == list(range(6))
    assert [(r["url"], r["title"]) for r in related] == [(absolute(p), t) for p, t in truth.related]
    first = related[0]
    assert first["category"] == "Сиёсат"
    assert first["published_text"] == "Бугун 13:35"
    assert first["published_at"] == "2025-11-15T13:35:00+05:00"
    assert first["lead"].startswith("Шундан сўнг Қозоғистон билан")
    assert first["image_url"] == f"{BASE}/media/2025/11/mirziyoev-toqaevni-mukofotladi.jpg"
    by_text = {r["published_text"]: r["published_at"] for r in related}
    assert by_text["Кеча 19:48"] == "2025-11-14T19:48:00+05:00"
    assert by_text["13.11.2025 13:13"] == "2025-11-13T13:13:00+05:00"
    for card in related:
        target = truths()[card["url"]]
        assert card["published_at"] == iso(target.published_at)
        assert card["lead"] == target.lead


def test_demo_provenance_is_the_profile() -> None:
    article, _ = case("demo", "seed")
    for name in ("title", "lead", "published_at", "modified_at", "image_url", "category", "tags", "body", "related"):
        assert article["extraction"][name] == "profile", name
    assert article["extraction"]["language"] == "meta"


def test_without_profile_fields_come_from_metadata_and_generic_layers() -> None:
    article, truth = case("demo", "seed", profile=None)
    assert "profile" not in article["extraction"].values()
    assert article["extraction"]["title"] == "opengraph"
    assert article["extraction"]["body"] == "generic"
    assert article["extraction"]["related"] == "generic"
    assert article["title"] == truth.title
    assert article["published_at"] == iso(truth.published_at)
    assert_clean_body(article, truth)


def test_no_lead_page() -> None:
    article, truth = case("demo", "no-lead")
    assert truth.lead is None and article["lead"] is None
    assert "lead" not in article["extraction"]
    assert {"code": "no_lead"} in article["problems"]
    assert paragraphs(article)[0] == truth.body[0]


def test_garbage_date_is_a_problem_not_a_date() -> None:
    article, _ = case("demo", "garbage-date")
    assert article["published_at"] is None and article["published_text"] is None
    assert any(p["code"] == "unparsed_date" and "Сана кўрсатилмаган" in p["detail"] for p in article["problems"])
    assert {"code": "no_published_at"} in article["problems"]


@pytest.mark.parametrize("name", ["garbage-date", "updated-only"])
def test_listing_hint_fills_a_missing_date(name: str) -> None:
    hint_free, truth = case("demo", name)
    assert hint_free["published_at"] is None
    article, _ = case("demo", name, hint=ListingHint(time_text=truth.listing_time_text, fetched_at=FETCHED))
    assert article["published_at"] == iso(truth.published_at)
    assert article["published_text"] == truth.listing_time_text
    assert article["extraction"]["published_at"] == "listing"


def test_updated_only_page_keeps_modified_not_published() -> None:
    article, truth = case("demo", "updated-only")
    assert article["modified_at"] == "2025-11-12T18:05:00+05:00" == iso(truth.modified_at)
    assert article["modified_text"].startswith("Янгиланди:")
    assert article["published_at"] is None


def test_latin_article() -> None:
    article, _ = case("demo", "latin")
    assert article["title"] == "Mirziyoyev va Toqayev 1,3 mlrd dollarlik loyihalarni ishga tushirdi"
    assert article["lead"] == "Prezidentlar raisligida Oliy davlatlararo kengashning ikkinchi yigʻilishi boʻlib oʻtdi."
    assert article["published_text"] == "Bugun, 12:33"
    assert article["published_at"] == "2025-11-15T12:33:00+05:00"
    assert article["category"] == "Siyosat"
    assert "Qozogʻiston" in article["tags"]
    assert (article["language"], article["script"]) == ("uz", "latn")


# --- relative dates, resolved in Tashkent's calendar ----------------------------------------------------------------

def tiny_demo_page(date_text: str) -> str:
    """A minimal article in the demo markup with the given date line."""
    return (
        '<html lang="uz-Cyrl"><head><meta charset="utf-8"><title>Синов</title></head><body>'
        '<nav class="breadcrumb"><a href="/kr/">Асосий</a> › <a href="/kr/siyosat/">Сиёсат</a></nav>'
        '<article class="news-single"><h1 class="news-single__title">Тунги мажлис якунланди</h1>'
        f'<div class="news-single__meta"><span class="news-single__date">{date_text}</span></div>'
        '<p class="news-single__lead">Мажлис ярим тунда якунланди.</p>'
        '<div class="news-single__body"><p>Биринчи хатбоши.</p><p>Иккинчи хатбоши.</p></div>'
        "</article></body></html>"
    )


@pytest.mark.parametrize(("date_text", "fetched_at", "published_at"), [
    ("Бугун 13:35", "2025-11-15T09:00:00+00:00", "2025-11-15T13:35:00+05:00"),
    ("Кеча 19:48", "2025-11-15T09:00:00+00:00", "2025-11-14T19:48:00+05:00"),
    # 20:30 UTC is already 01:30 on 16 November in Tashkent: "today" is the 16th, "yesterday" the 15th.
    ("Бугун 00:15", "2025-11-15T20:30:00+00:00", "2025-11-16T00:15:00+05:00"),
    ("Кеча 23:50", "2025-11-15T20:30:00+00:00", "2025-11-15T23:50:00+05:00"),
    ("Bugun, 00:15", "2025-11-15T20:30:00+00:00", "2025-11-16T00:15:00+05:00"),
])
def test_relative_date_resolves_against_fetch_time_in_tashkent(date_text: str, fetched_at: str,
                                                              published_at: str) -> None:
    article = extract_article(tiny_demo_page(date_text).encode(), f"{BASE}/kr/news/2025/11/16/tun/",
                              fetched_at=datetime.fromisoformat(fetched_at), profile="demo")
    assert article["published_at"] == published_at
    assert article["published_text"] == date_text
    assert article["extraction"]["published_at"] == "profile"
    assert article["body"] == "Биринчи хатбоши.\n\nИккинчи хатбоши."


# --- generic site: metadata and generic layers ----------------------------------------------------------------------

@pytest.mark.parametrize("name", GENERIC_CASES)
def test_generic_page_fields_match_ground_truth(name: str) -> None:
    article, truth = case("generic", name)
    assert article["title"] == truth.title
    assert article["lead"] == truth.lead
    assert_clean_body(article, truth)
    assert article["published_at"] == iso(truth.published_at)
    assert article["published_text"] == truth.published_text
    assert article["modified_at"] == iso(truth.modified_at)
    assert article["author"] == truth.author
    assert article["image_url"] == absolute(truth.image_url)
    assert article["category"] == truth.category
    assert article["tags"] == truth.tags
    assert (article["language"], article["script"]) == (truth.language, truth.script)
    assert [(r["url"], r["title"]) for r in article["related"]] == [(absolute(p), t) for p, t in truth.related]
    assert "profile" not in article["extraction"].values()
    assert article["problems"] == []


def test_jsonld_page_provenance_and_printed_date() -> None:
    article, _ = case("generic", "jsonld")
    layers = article["extraction"]
    for name in ("title", "lead", "published_at", "author", "image_url", "category", "tags"):
        assert layers[name] == "json-ld", name
    assert layers["body"] == "generic" and layers["related"] == "generic"
    assert article["published_at"] == "2025-11-15T13:20:00+05:00"
    assert article["published_text"] == "15 ноябрь 2025, 13:20", "the date as printed, not the metadata value"


def test_bare_page_visible_relative_date() -> None:
    article, _ = case("generic", "bare-yesterday")
    assert article["published_text"] == "Кеча, 19:48"
    assert article["published_at"] == "2025-11-14T19:48:00+05:00"
    layers = article["extraction"]
    assert {layers[k] for k in ("title", "lead", "published_at", "image_url", "category", "body")} == {"generic"}
    assert article["author"] is None and article["tags"] == []
    assert article["related"][0]["published_text"] == "Кеча, 18:05"
    assert article["related"][0]["published_at"] == "2025-11-14T18:05:00+05:00"


def test_opengraph_page_provenance() -> None:
    article, _ = case("generic", "cp1251-russian")
    layers = article["extraction"]
    for name in ("title", "lead", "published_at", "image_url", "category", "tags"):
        assert layers[name] == "opengraph", name
    assert article["author"] == "Анна Ким" and layers["author"] == "generic"


def test_listing_layer_when_the_page_has_nothing() -> None:
    page = ("<html><body><div><p>Бир хатбоши матни шу ерда ёзилган ва у етарлича узун бўлиши керак.</p></div>"
            "</body></html>")
    hint = ListingHint(time_text="Бугун 13:35", fetched_at=FETCHED, title="Карточкадаги сарлавҳа",
                       lead="Карточкадаги лид.", category="Сиёсат")
    article = extract_article(page, f"{BASE}/kr/news/x/", fetched_at=FETCHED, hint=hint)
    assert (article["title"], article["lead"], article["category"]) == ("Карточкадаги сарлавҳа", "Карточкадаги лид.",
                                                                        "Сиёсат")
    assert article["published_at"] == "2025-11-15T13:35:00+05:00"
    for name in ("title", "lead", "category", "published_at"):
        assert article["extraction"][name] == "listing", name


# --- decoding bytes ------------------------------------------------------------------------------------------------

RUSSIAN_TITLE = "Президент подписал указ о реформе государственной службы"


def russian_text() -> str:
    body, _, _, _ = load_case(PAGES / "generic" / "cp1251-russian")
    return body.decode("cp1251")


def test_decoded_by_meta_charset() -> None:
    body, _, _, _ = load_case(PAGES / "generic" / "cp1251-russian")
    assert b'<meta charset="windows-1251">' in body
    article = extract_article(body, f"{BASE}/news/a.html")
    assert article["title"] == RUSSIAN_TITLE and article["language"] == "ru"


def test_http_content_type_wins_over_a_wrong_meta_charset() -> None:
    html = russian_text().replace('<meta charset="windows-1251">', '<meta charset="utf-8">')
    data = html.encode("cp1251", errors="xmlcharrefreplace")
    assert extract_article(data, f"{BASE}/news/a.html")["title"] != RUSSIAN_TITLE
    article = extract_article(data, f"{BASE}/news/a.html", content_type="text/html; charset=windows-1251")
    assert article["title"] == RUSSIAN_TITLE


@pytest.mark.parametrize("encoding", ["windows-1251", "koi8-r"])
def test_decoded_by_detection_without_any_declaration(encoding: str) -> None:
    html = russian_text().replace('<meta charset="windows-1251">', "")
    assert "charset" not in html
    article = extract_article(html.encode(encoding, errors="xmlcharrefreplace"), f"{BASE}/news/a.html",
                              content_type="text/html")
    assert article["title"] == RUSSIAN_TITLE
    assert article["body"].startswith("Президент Узбекистана Шавкат Мирзиёев подписал указ")


def test_profile_time_zone_and_date_formats(tmp_path) -> None:
    """A site elsewhere: its profile's timezone governs dates printed without one, and its own formats come first."""
    from datetime import timezone

    from newscrawl.sites import SITES_DIR, load_profile_file

    path = tmp_path / "moscow.toml"
    path.write_text((SITES_DIR / "demo.toml").read_text(encoding="utf-8")
                    .replace('timezone = "+05:00"', 'timezone = "+03:00"\ndate_formats = ["%Y/%m/%d %H.%M"]'),
                    encoding="utf-8")
    profile = load_profile_file(path)
    page = ('<html><body><article class="news-single"><h1 class="news-single__title">Заголовок статьи</h1>'
            '<span class="news-single__date">2025/11/15 12.33</span><div class="news-single__body"><p>Текст.</p>'
            '</div></article><section class="other-news"><div class="news-card"><a class="news-card__title" '
            'href="/kr/news/2025/11/15/x/">Сегодня</a><span class="news-card__date">Сегодня 00:15</span></div>'
            '</section></body></html>')
    fetched = datetime(2025, 11, 15, 20, 30, tzinfo=timezone.utc)
    article = extract_article(page, "http://demo.newscrawl.test/kr/news/2025/11/15/a/", fetched, profile=profile)
    assert article["published_at"] == "2025-11-15T12:33:00+03:00"
    assert article["published_precision"] == "minute"
    assert article["related"][0]["published_at"] == "2025-11-15T00:15:00+03:00", "23:30 in Moscow is still the 15th"
    tashkent = extract_article(page, "http://demo.newscrawl.test/kr/news/2025/11/15/a/", fetched, profile="demo")
    assert tashkent["related"][0]["published_at"] == "2025-11-16T00:15:00+05:00"
    assert any(p["code"] == "unparsed_date" and p["detail"].startswith("published_at from profile:")
               for p in tashkent["problems"])


@pytest.mark.parametrize(("markup", "author"), [
    ('<a rel="author" href="/a/">Анна Ким</a><span class="byline">Бошқа</span>', "Анна Ким"),
    ('<div itemprop="author"><span itemprop="name">Анна Ким</span> муаллиф</div>', "Анна Ким"),
    ('<span itemprop="author">Муаллиф: Анна Ким</span><span class="byline">Бошқа</span>', "Анна Ким"),
    ('<a rel="author"> </a><span class="post-byline">Анна Ким</span>', "Анна Ким"),
    ('<span class="post-author">Анна Ким</span>', "Анна Ким"),
    ('<span rel="authors">Бошқа</span><span itemprop="authorName">Бошқа</span>', None),
])
def test_generic_author_attribute_selectors_before_class_ones(markup: str, author: str | None) -> None:
    """The author markup (rel/itemprop author) wins over a byline class, whether or not the page has any
    (generic_author skips the attribute selectors on a page with none)."""
    from parsel import Selector

    from newscrawl.pages.dom import class_index
    from newscrawl.pages.generic import generic_author

    sel = Selector(text=f"<html><body><article><h1>Сарлавҳа</h1>{markup}</article></body></html>")
    with class_index(sel):
        assert generic_author(sel) == author


METADATA_PAGE = """<html lang="uz"><head>
<link rel="canonical"><link rel="canonical" href=""><link rel="canonical" href="/second">
<link rel="Canonical" href="/case"><link rel="alternate stylesheet" hreflang="ru" href=" /ru ">
<link rel="alternate" hreflang="x-default" href="/"><link rel="alternates" hreflang="en" href="/en">
<link rel=" preload	alternate" hreflang=" oz " href="/oz"><link rel="alternate" href="/no-lang">
<meta property="og:url" content="/og"><meta name="Description" content=" a  b "><meta itemprop="x" content=" ">
<script type="application/ld+json">{"@type": "NewsArticle", "headline": "H"};</script>
<script type="application/LD+json">{"@type": "NewsArticle", "headline": "other"}</script>
<script type="application/ld+json"></script></head>
<body><time datetime=" 2025-11-15 ">a</time><time>b</time><time datetime="  "></time>
<svg><link rel="canonical" href="/svg"/></svg></body></html>"""


def test_metadata_is_read_as_its_xpaths_read_it() -> None:
    """read_metadata finds its elements in one walk; what it reads is what each kind's XPath selects."""
    from lxml import etree
    from parsel import Selector

    from newscrawl.pages.metadata import read_metadata

    root = Selector(text=METADATA_PAGE).root
    md = read_metadata(Selector(root=root, type="html"))
    canonical = etree.XPath('//link[@rel="canonical"]/@href')(root)
    assert md.canonical == ((canonical[0] if canonical else None) or "/og") == "/og"  # the first one is empty
    assert md.time_datetime == [v.strip() for v in etree.XPath("//time/@datetime")(root) if v.strip()]
    hreflang = etree.XPath('//link[@hreflang][@href][contains(concat(" ", normalize-space(@rel), " "), " alternate ")]')
    assert md.hreflang == [(n.get("hreflang").strip(), n.get("href").strip()) for n in hreflang(root)]
    assert [lang for lang, _ in md.hreflang] == ["ru", "x-default", "oz"]
    assert md.jsonld["headline"] == "H" and md.meta == {"description": "a b"} and md.og == {"og:url": ["/og"]}
    assert md.html_lang == "uz"


@pytest.mark.parametrize("text", [
    "", "  \n", '{"a": [1]}', '<?xml version="1.0"?><html><body><p>x</p></body></html>', "just text", "<",
    "\x00 <html><body>a\x00b</body></html> \x00", "\ufeff<html><p>x", "\x0b<p>a</p>\x1c", "<p>Ўзбек<br>тили</p>",
    "<html><form><input value=1><label>x</label><select><option>a</select><textarea>t</textarea></form>"
    "<!-- c --><?pi x?></html>",
])
def test_pages_are_parsed_as_parsel_parses_them(text: str) -> None:
    """parse_html builds the tree parsel's Selector(text=...) builds, whatever the text; every element is an
    lxml.html HtmlElement (form fields included: nothing uses their form methods)."""
    import lxml.html
    from lxml import etree
    from parsel import Selector

    from newscrawl.pages.dom import parse_html

    ours, parsel = parse_html(text), Selector(text=text)
    assert ours.type == parsel.type
    if parsel.type == "json":
        assert ours.root == parsel.root
        return
    assert etree.tostring(ours.root.getroottree()) == etree.tostring(parsel.root.getroottree())
    if parsel.type == "html":
        assert all(isinstance(el, lxml.html.HtmlElement) for el in ours.root.iter(etree.Element))


PAGE_PIECES = [b"<p>", b"</p>", b" ", b"\n", b"\t", b"\x0b", b"\x1c", b"\x00", b"\xef\xbb\xbf", b"\xc2\xa0",
               b"\xc2\x85", b"\xe2\x80\x83", "Ўзбек".encode(), b"\xd0", b"\xff", "\ufffd".encode(), b"a", b">",
               b'<meta charset="windows-1251">', b"<html>"]


@settings(max_examples=400, deadline=None)
@given(st.lists(st.sampled_from(PAGE_PIECES), max_size=12),
       st.sampled_from([None, "text/html", "text/html; charset=utf-8", "text/html; charset=windows-1251"]))
def test_the_bytes_a_page_is_parsed_from_are_its_text_as_the_parser_reads_it(pieces: list[bytes],
                                                                             content_type: str | None) -> None:
    """decode_page hands the parser the page's own bytes only where they are exactly what it would parse: the
    decoded text, stripped, without NULs, in UTF-8."""
    from newscrawl.pages.text import decode_html, decode_page

    data = b"".join(pieces)
    text, utf8 = decode_page(data, content_type)
    assert text == decode_html(data, content_type)
    if utf8 is not None:
        assert utf8 == text.strip().replace("\x00", "").encode("utf-8")


def test_a_utf8_page_is_parsed_from_its_own_bytes() -> None:
    from newscrawl.pages.text import decode_page

    assert decode_page("\n <p>\x00Ўз</p>\r\n".encode(), "text/html; charset=utf-8")[1] == "<p>Ўз</p>".encode()
    assert decode_page(b"<p>\xff</p>", "text/html; charset=utf-8")[1] is None  # decoding replaced a byte
    assert decode_page("\ufeff<p>a</p>".encode(), None)[1] is None


def test_element_text_of_a_leaf_is_its_itertext() -> None:
    """element_text reads a childless element's text directly: the same answer as the itertext walk it skips,
    for every element of the demo pages and of odd markup (empty, blank, entities, comments, nested)."""
    from lxml import etree

    from newscrawl.pages.dom import element_text, parse_html

    pages, _ = demo_site(DEMO_NOW)
    texts = [p.body.decode() for p in pages.values() if p.content_type.startswith("text/html")][:40]
    texts.append("<html><body><p></p><p> a \n b\t</p><b>x<!-- c -->y</b><i>&amp; &nbsp;</i><u><?pi?></u>"
                 "<span>one<em>two</em> three</span><br/>tail</body></html>")
    for text in texts:
        for element in parse_html(text).root.iter(etree.Element):
            assert element_text(element) == " ".join("".join(element.itertext()).split())


ODD_HEAD_PAGES = [
    "<html><head><base target='_top'><base href='/a/'><base href='/b/'></head><body><h1>x</h1></body></html>",
    "<html><body><p><base href=' rel/ '></p><div><h2>no h1</h2></div></body></html>",
    "<html><head></head><body><article><div><h1>one</h1></div><h1>two</h1></article></body></html>",
    "<!-- c --><html><body><section><div><p><h1>deep</h1></p></div></section></body></html>",
    "<h1>bare</h1>",
]


def test_page_base_and_first_headline_are_the_xpaths() -> None:
    """page_base's <base> and the headline scope's first <h1>, found with lxml's tag iterator, are the elements
    the XPaths base::attr(href) and (//h1)[1] find, on every demo page and odd markup."""
    from newscrawl.pages.cards import absolute_url, page_base
    from newscrawl.pages.dom import compiled, parse_html
    from newscrawl.pages.generic import first_h1

    pages, _ = demo_site(DEMO_NOW)
    texts = [p.body.decode() for p in pages.values() if p.content_type.startswith("text/html")][:60]
    for text in texts + ODD_HEAD_PAGES:
        sel = parse_html(text)
        found = compiled("base::attr(href)")(sel.root)
        assert page_base(sel, "http://h/p/q") == (absolute_url("http://h/p/q", found[0] if found else None)
                                                   or "http://h/p/q")
        h1 = compiled("h1")(sel.root)  # document order: the first is (//h1)[1]
        assert first_h1(sel) is (h1[0] if h1 else None)

