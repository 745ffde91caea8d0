"""Each extraction rule has one definition: profile and generic bodies split, clean and de-duplicate the same
markup the same way, and a card's date reads the same in extraction and in a `--since` backfill."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

import lxml.html

from archive_checks import connect
from conftest import run_crawl

from newscrawl.demo.server import DemoServer, Page
from newscrawl.items import Article, Problem, ProblemCode
from newscrawl.pages.article import extract_page
from newscrawl.pages.body_dom import analyse
from newscrawl.pages.layers import Layer
from newscrawl.pages.sitedates import card_date
from newscrawl.sites import SITES_DIR, Profile, parse_profile

FETCHED = datetime(2025, 11, 15, 12, 0, tzinfo=timezone.utc)
URL = "http://127.0.0.1/kr/news/2025/11/15/a/"
LEAD = "Сенат ялпи мажлисида муҳим қарорлар қабул қилинди."
# Markup the two splitters used to cut differently: <div> paragraphs and a <br> inside a list item.
BODY = ("<div>Тошкентда Олий Мажлис Сенатининг навбатдаги ялпи мажлиси бўлиб ўтди, қонунлар кўриб чиқилди.</div>"
        "<div>Мажлисда халқаро шартномалар ҳам ратификация қилинди, деди Сенат матбуот хизмати.</div>"
        "<ul><li>Биринчи қонун солиқлар ҳақида, уни депутатлар олдинроқ маъқуллашган эди.<br>"
        "Иккинчи қонун таълим ҳақида, у ҳам маъқулланди ва имзолашга юборилди.</li></ul>")
PARAGRAPHS = [
    "Тошкентда Олий Мажлис Сенатининг навбатдаги ялпи мажлиси бўлиб ўтди, қонунлар кўриб чиқилди.",
    "Мажлисда халқаро шартномалар ҳам ратификация қилинди, деди Сенат матбуот хизмати.",
    "Биринчи қонун солиқлар ҳақида, уни депутатлар олдинроқ маъқуллашган эди.",
    "Иккинчи қонун таълим ҳақида, у ҳам маъқулланди ва имзолашга юборилди.",
]


def profile(**article: object) -> Profile:
    data = {"name": "t", "hosts": ["127.0.0.1"], "listing": {"cards": [".card"]},
            "card": {"link": ["a::attr(href)"]},
            "article": {"title": ["h1"], "lead": [".lead"], "body": [".body"], **article}}
    return parse_profile(Path("t.toml"), data)


def page(body: str, lead: str = LEAD) -> str:
    return (f'<html><body><article><h1>Сенат ялпи мажлиси бўлиб ўтди</h1><p class="lead">{lead}</p>'
            f'<div class="body">{body}</div></article></body></html>')


def test_profile_and_generic_bodies_split_the_same_markup_the_same_way() -> None:
    article = extract_page(page(BODY), URL, FETCHED, profile())
    assert article.extraction["body"] is Layer.PROFILE
    assert article.body is not None and article.body.split("\n\n") == PARAGRAPHS
    tree = lxml.html.document_fromstring(page(BODY))
    scored = [block.text for block in analyse(tree)[1]]
    assert scored[-len(PARAGRAPHS):] == PARAGRAPHS, "the generic DOM scorer cuts the same paragraphs"


def test_a_removed_node_keeps_the_text_after_it() -> None:
    body = '<p>Сенат қарори <span class="ad">РЕКЛАМА</span>эълон қилинди ва кучга кирди, деди расмий вакил.</p>'
    article = extract_page(page(body), URL, FETCHED, profile(body_exclude=[".ad"]))
    assert article.body == "Сенат қарори эълон қилинди ва кучга кирди, деди расмий вакил."


def test_a_body_that_repeats_the_lead_loses_it_whatever_its_punctuation_or_case() -> None:
    repeated = f"<p>{LEAD.upper().rstrip('.')} !</p>{BODY}"
    article = extract_page(page(repeated), URL, FETCHED, profile())
    assert article.extraction["body"] is Layer.PROFILE and article.lead == LEAD
    assert article.body is not None and article.body.split("\n\n") == PARAGRAPHS


def test_problems_are_codes_with_details_and_layers_are_plain_values_in_the_record() -> None:
    article = extract_page(page(BODY, lead=""), URL, FETCHED, profile(published=["h1"]))
    assert Problem(ProblemCode.NO_LEAD) in article.problems
    assert any(p.code is ProblemCode.UNPARSED_DATE and p.detail and p.detail.startswith("published_at from profile:")
               for p in article.problems)
    record = json.loads(json.dumps(article.as_dict()))
    assert {"code": "no_lead"} in record["problems"] and {"code": "no_published_at"} in record["problems"]
    assert record["extraction"]["title"] == "profile" and type(article.as_dict()["extraction"]["title"]) is str
    assert Article(url=URL, problems=[Problem(ProblemCode.EXTRACTION_FAILED, "boom")]).as_dict()["problems"] == \
        [{"code": "extraction_failed", "detail": "boom"}]


def test_a_card_date_reads_with_the_profile_formats() -> None:
    american = parse_profile(Path("t.toml"), {"name": "t", "hosts": ["127.0.0.1"], "date_formats": ["%m.%d.%Y"],
                                              "listing": {"cards": [".card"]}, "card": {"link": ["a::attr(href)"]},
                                              "article": {"title": ["h1"]}})
    parsed = card_date("05.11.2025", FETCHED, american)
    assert parsed is not None and parsed.value.isoformat() == "2025-05-11T00:00:00+05:00"
    plain = card_date("05.11.2025", FETCHED, None)
    assert plain is not None and plain.value.date().isoformat() == "2025-11-05"


def test_since_reads_card_dates_with_the_profile_formats(tmp_path: Path) -> None:
    """A profile printing month-first dates: `--since` must skip the May card and fetch the December one
    (read without the profile's formats, they would be 5 November and 12 January: the opposite)."""
    toml = tmp_path / "monthfirst.toml"
    toml.write_text('date_formats = ["%m.%d.%Y"]\n' + (SITES_DIR / "demo.toml").read_text(encoding="utf-8"),
                    encoding="utf-8")
    old, new = "/kr/news/2025/05/11/old/", "/kr/news/2025/12/01/new/"
    cards = "".join(f'<div class="news-card"><a class="news-card__title" href="{href}">{title}</a>'
                    f'<span class="news-card__date">{when}</span></div>'
                    for href, title, when in ((new, "Декабрдаги янгилик сарлавҳаси", "12.01.2025"),
                                              (old, "Майдаги эски янгилик сарлавҳаси", "05.11.2025")))
    listing = f'<html><body><main><div class="news-list">{cards}</div></main></body></html>'
    pages = {"/kr/siyosat/": Page(listing.encode()),
             new: Page(page(BODY).encode()),
             old: Page(page(BODY).encode())}
    with DemoServer(pages) as server:
        db = tmp_path / "news.db"
        result = run_crawl(db, "-a", f"start_url={server.url}/kr/siyosat/", "-a", f"site={toml}",
                           "-a", "since=2025-06-01", "-a", "max_pages=0")
        assert result.returncode == 0, result.stderr[-3000:]
        assert server.hits(new) == 1 and server.hits(old) == 0
    urls = [row["url"] for row in connect(db).execute("SELECT url FROM articles")]
    assert urls == [server.url + new]
