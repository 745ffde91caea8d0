"""Listing pages, pure: article cards by profile or by what article links look like, and every pagination form."""

from __future__ import annotations

import pytest

from newscrawl.pages.listing import parse_listing
from newscrawl.sites import load_profile

BASE = "http://news.example.uz"
CHROME = """
<header><nav><a href="/kr/">Асосий</a><a href="/kr/siyosat/">Сиёсат</a><a href="/kr/jamiyat/">Жамият</a>
<a href="/kr/news/2025/11/01/menu-story/">Менюдаги бир мақола сарлавҳаси узун</a></nav></header>
"""
ASIDE = """<aside class="sidebar"><h3>Кўп ўқилган</h3>
<a href="/kr/news/2025/11/02/popular/">Энг кўп ўқилган мақоланинг сарлавҳаси</a></aside>"""
FOOTER = '<footer><a href="/kr/about/">Биз ҳақимизда маълумот саҳифаси</a></footer>'


def page(main: str, head: str = "") -> str:
    return f"<html><head>{head}</head><body>{CHROME}<main>{main}</main>{ASIDE}{FOOTER}</body></html>"


GENERIC_MAIN = """
<h1>Сиёсат</h1>
<ul class="items">
 <li><a href="/kr/news/2025/11/15/first/">Мирзиёев ва Тоқаев 1,3 млрд долларлик лойиҳаларни ишга туширди</a>
     <span class="when">Бугун 13:35</span><p>Президентлар раислигида Олий давлатлараро кенгашнинг иккинчи йиғилиши
     бўлиб ўтди.</p><span class="category">Сиёсат</span></li>
 <li><a href="/kr/news/2025/11/14/second/"><img src="/i/2.jpg" alt="x"></a>
     <a href="/kr/news/2025/11/14/second/">Oʻzbekiston va Qozogʻiston oʻrtasida savdo oʻsdi</a>
     <time>14.11.2025 19:48</time></li>
 <li><a href="/kr/tag/qozogiston/">Қозоғистон мавзусидаги барча хабарлар</a></li>
 <li><a href="/kr/author/karimov/">Муаллиф Каримовнинг барча мақолалари рўйхати</a></li>
 <li><a href="https://other.example.com/kr/news/2025/11/14/x/">Бошқа сайтдаги мақола сарлавҳаси жуда узун</a></li>
 <li><a href="/kr/siyosat/">Сиёсат бўлимининг бош саҳифасига қайтиш</a></li>
 <li><a href="/kr/news/2025/11/14/short/">Қисқа</a></li>
</ul>
"""


def test_generic_cards_are_headline_links_in_the_main_content() -> None:
    listing = parse_listing(page(GENERIC_MAIN), f"{BASE}/kr/siyosat/")
    assert listing.source == "generic"
    assert [c.url for c in listing.cards] == [f"{BASE}/kr/news/2025/11/15/first/", f"{BASE}/kr/news/2025/11/14/second/"]
    first, second = listing.cards
    assert first.title == "Мирзиёев ва Тоқаев 1,3 млрд долларлик лойиҳаларни ишга туширди"
    assert first.time_text == "Бугун 13:35"
    assert first.lead.startswith("Президентлар раислигида")
    assert first.category == "Сиёсат"
    assert second.title == "Oʻzbekiston va Qozogʻiston oʻrtasida savdo oʻsdi"
    assert second.time_text == "14.11.2025 19:48"
    assert second.image_url == f"{BASE}/i/2.jpg"


def test_profile_cards_and_url_pattern() -> None:
    html = page("""<div class="news-list">
      <div class="news-card"><a class="news-card__title" href="/kr/news/2025/11/15/a/">A sarlavha</a>
        <span class="news-card__date">Кеча 19:48</span><a class="news-card__category">Сиёсат</a>
        <p class="news-card__lead">Lead</p></div>
      <div class="news-card"><a class="news-card__title" href="/kr/promo/banner/">Reklama</a></div>
    </div>""")
    listing = parse_listing(html, f"{BASE}/kr/siyosat/", load_profile("demo"))
    assert listing.source == "profile"
    assert [(c.url, c.title, c.time_text, c.category, c.lead) for c in listing.cards] == [
        (f"{BASE}/kr/news/2025/11/15/a/", "A sarlavha", "Кеча 19:48", "Сиёсат", "Lead")]


def test_profile_that_matches_nothing_falls_back_to_generic() -> None:
    listing = parse_listing(page(GENERIC_MAIN), f"{BASE}/kr/siyosat/", load_profile("demo"))
    assert listing.source == "generic" and len(listing.cards) == 2


@pytest.mark.parametrize("nav, url, expected", [
    ('<a rel="next" href="?page=2">2</a>', "/kr/siyosat/", "/kr/siyosat/?page=2"),
    ('<link rel="next" href="/kr/siyosat/page/2/">', "/kr/siyosat/", "/kr/siyosat/page/2/"),
    ('<a href="/kr/siyosat/?p=2">Кейинги »</a>', "/kr/siyosat/", "/kr/siyosat/?p=2"),
    ('<a href="/oz/siyosat/?p=2">Keyingi</a>', "/oz/siyosat/", "/oz/siyosat/?p=2"),
    ('<a href="/ru/politics/?p=3">Далее →</a>', "/ru/politics/?p=2", "/ru/politics/?p=3"),
    ('<a href="/kr/siyosat/?page=1">«</a><a href="/kr/siyosat/?page=3">»</a>', "/kr/siyosat/?page=2",
     "/kr/siyosat/?page=3"),
    ('<a href="?page=1">1</a><a href="?page=2">2</a><a href="?page=3">3</a>', "/kr/siyosat/?page=2",
     "/kr/siyosat/?page=3"),
    ('<a href="?page=1">1</a><a href="?page=2">2</a>', "/kr/siyosat/", "/kr/siyosat/?page=2"),
    ('<a href="/kr/siyosat/?page=2">2</a>', "/kr/siyosat/?page=2", None),
    ('<a href="https://elsewhere.example/kr/?page=2">Next</a>', "/kr/siyosat/", None),
    ("", "/kr/siyosat/", None),
    # rel is a token list; a link without href is skipped; the text of nested markup is the link's text
    ('<a rel="nofollow\tnext" href="?page=5">x</a>', "/kr/siyosat/", "/kr/siyosat/?page=5"),
    ('<a rel="nextpage" href="?page=6">x</a><a rel="next">x</a><a href="?page=7"><b>Кейинги</b> »</a>',
     "/kr/siyosat/", "/kr/siyosat/?page=7"),
    ('<a href="?page=8" aria-label="Next page"><svg></svg></a>', "/kr/siyosat/", "/kr/siyosat/?page=8"),
    ('<a href="?p=9"><span>2</span></a>', "/kr/siyosat/", "/kr/siyosat/?p=9"),
])
def test_next_page_forms(nav: str, url: str, expected: str | None) -> None:
    head = nav if nav.startswith("<link") else ""
    body = "" if head else f'<nav class="pages">{nav}</nav>'
    listing = parse_listing(page(GENERIC_MAIN + body, head), BASE + url)
    assert listing.next_url == (BASE + expected if expected else None)


def test_listing_that_links_to_itself_has_no_next_page() -> None:
    html = page(GENERIC_MAIN + '<a rel="next" href="/kr/siyosat/">Кейинги</a>')
    assert parse_listing(html, f"{BASE}/kr/siyosat/").next_url is None


def test_feeds_and_empty_listing() -> None:
    head = ('<link rel="alternate" type="application/rss+xml" href="/kr/rss/">'
            '<link rel="alternate" hreflang="ru" href="/ru/politics/">')
    listing = parse_listing(page("<p>Ҳозирча янгилик йўқ</p>", head), f"{BASE}/kr/siyosat/")
    assert listing.cards == [] and listing.next_url is None
    assert listing.feeds == [f"{BASE}/kr/rss/"]


def test_tracking_parameters_do_not_make_a_second_article() -> None:
    html = page("""<ul>
      <li><a href="/kr/news/2025/11/15/x/?utm_source=telegram&amp;utm_medium=post">Сенат ялпи мажлисида муҳим қонунлар қабул қилинди</a></li>
      <li><a href="/kr/news/2025/11/15/x/?fbclid=IwAR0">Сенат ялпи мажлисида муҳим қонунлар қабул қилинди</a></li>
      <li><a href="/kr/news/2025/11/15/y/?id=7&amp;utm_campaign=a">Ҳукумат йиғилишида иқтисодиёт масалалари кўрилди</a></li>
    </ul>""")
    listing = parse_listing(html, f"{BASE}/kr/siyosat/")
    assert [c.url for c in listing.cards] == [f"{BASE}/kr/news/2025/11/15/x/", f"{BASE}/kr/news/2025/11/15/y/?id=7"]


def test_base_href_and_garbage_markup() -> None:
    html = ('<html><head><base href="http://cdn.news.example.uz/kr/"></head><body><main><div><p>'
            '<a href="news/2025/11/15/x/">Сенат ялпи мажлисида муҳим қонунлар қабул қилинди</a></span></div>'
            '<a href="javascript:void(0)">Бу ҳавола эмас, балки скрипт чақируви холос</a></main>')
    listing = parse_listing(html, f"{BASE}/kr/siyosat/")
    assert [c.url for c in listing.cards] == ["http://cdn.news.example.uz/kr/news/2025/11/15/x/"]


def test_profile_numbered_pages_give_the_next_page_when_next_is_missing() -> None:
    html = page("""<div class="news-list"><div class="news-card"><a class="news-card__title"
      href="/kr/news/2025/11/15/a/">A sarlavha</a></div></div>
      <nav class="pagination"><a href="/kr/siyosat/?page=1"><i class="dot"></i></a><span class="current"></span>
      <a href="/kr/siyosat/?page=3"><i class="dot"></i></a></nav>""")
    listing = parse_listing(html, f"{BASE}/kr/siyosat/?page=2", load_profile("demo"))
    assert listing.next_url == f"{BASE}/kr/siyosat/?page=3"
    assert parse_listing(html, f"{BASE}/kr/siyosat/?page=2").next_url is None, "only the profile knows these dots"
