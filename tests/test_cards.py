"""Listing and related cards split into title, printed date, category and lead on card markups nobody tuned
for (pure extraction: HTML in, fields out). The shapes are invented, not the demo's."""

from __future__ import annotations

from datetime import datetime, timezone

import lxml.html
import pytest

from newscrawl.extract import extract_article
from newscrawl.pages.cards import split_card
from newscrawl.pages.listing import parse_listing

BASE = "http://news.example.uz"
FETCHED = datetime(2025, 11, 15, 10, 0, tzinfo=timezone.utc)  # 15:00 in Tashkent
TITLE = "Шавкат Мирзиёев Қасим-Жомарт Тоқаев билан суҳбат ўтказди"
LEAD = "Ташриф дастурига мувофиқ, эртага олий даражадаги музокаралар ҳамда кенгаш йиғилиши бўлиб ўтади."

# (name, card markup, expected (title, time_text, category, lead), expected parsed precision)
SHAPES = [
    ("seed: image, category, date and headline in one link, lead beside it",
     f'<div class="c"><a href="/kr/news/1/"><img src="/i/1.jpg" alt="\'x\'ning rasmi"><span>Сиёсат</span>'
     f'<span>Кеча, 17:22</span><span>{TITLE}</span></a><p>{LEAD}</p></div>',
     (TITLE, "Кеча, 17:22", "Сиёсат", LEAD), "minute"),
    ("everything glued in one text node of the link",
     f'<div class="c"><a href="/kr/news/1/">Сиёсат Бугун 13:35 {TITLE}</a><div>{LEAD}</div></div>',
     (TITLE, "Бугун 13:35", "Сиёсат", LEAD), "minute"),
    ("category and date in one run, headline in a heading",
     f'<li><a href="/kr/news/1/"><img src="/i/1.jpg"></a><div class="meta">Сиёсат 14.11.2025 19:48</div>'
     f'<h3><a href="/kr/news/1/">{TITLE}</a></h3><p>{LEAD}</p></li>',
     (TITLE, "14.11.2025 19:48", "Сиёсат", LEAD), "minute"),
    ("headline first, a classed rubric link after it, <time>, Latin script",
     '<article><h2><a href="/oz/news/1/">Prezident Qozogʻiston bilan hamkorlikni muhokama qildi</a></h2>'
     '<a class="post-rubric" href="/oz/siyosat/">Siyosat</a><time>Kecha, 19:48</time>'
     '<p>Muzokaralarda savdo, energetika va transport sohalaridagi loyihalar koʻrib chiqildi.</p></article>',
     ("Prezident Qozogʻiston bilan hamkorlikni muhokama qildi", "Kecha, 19:48", "Siyosat",
      "Muzokaralarda savdo, energetika va transport sohalaridagi loyihalar koʻrib chiqildi."), "minute"),
    ("Russian card: inline emphasis inside the headline, day-only date after the lead",
     '<div><a href="/ru/news/1/"><strong>Срочно:</strong> Сенат одобрил закон о государственной службе</a>'
     '<p>Документ вводит обязательный конкурсный отбор на вакантные должности в госорганах.</p>'
     '<small>14 ноября 2025</small></div>',
     ("Срочно: Сенат одобрил закон о государственной службе", "14 ноября 2025", None,
      "Документ вводит обязательный конкурсный отбор на вакантные должности в госорганах."), "day"),
    ("a headline that starts with a day is not cut",
     '<div><a href="/kr/news/1/">16 ноябрь куни Тошкентда етакчилар учрашуви бўлиб ўтади</a></div>',
     ("16 ноябрь куни Тошкентда етакчилар учрашуви бўлиб ўтади", None, None, None), None),
]


@pytest.mark.parametrize("name, markup, expected, precision", SHAPES, ids=[s[0] for s in SHAPES])
def test_card_fields_split(name, markup, expected, precision):
    card = lxml.html.fragment_fromstring(markup)
    fields = split_card(card, card.find(".//a"))
    assert (fields.title, fields.time_text, fields.category, fields.lead) == expected


def _related_page(cards: str, inline: str = "") -> str:
    return f"""<html><head><meta charset="utf-8"><title>{TITLE}</title></head><body>
<header><nav><a href="/kr/">Асосий</a><a href="/kr/siyosat/">Сиёсат</a></nav></header>
<main><article><h1>{TITLE}</h1>
<div class="text"><p>{LEAD}</p>{inline}
<p>Музокаралар якунида томонлар қатор ҳужжатларни имзолади ва ҳамкорлик режаларини тасдиқлади.</p></div>
</article>
<section class="x9"><div class="hd">Бошқа янгиликлар</div>{cards}</section></main></body></html>"""


def _seed_cards(n: int) -> str:
    return "".join(
        f'<div class="c"><a href="/kr/news/2025/11/1{i}/story-{i}/"><img src="/i/{i}.jpg" alt="\'x\'ning rasmi">'
        f'<span>Сиёсат</span><span>{when}</span><span>Бешинчи мақоланинг узун сарлавҳаси рақам {i}</span></a>'
        f'<p>Бу {i}-мақоланинг қисқа мазмуни, бир жумлада ёзилган ва етарлича узун.</p></div>'
        for i, when in zip(range(n), ["Бугун 13:35", "Кеча 19:48", "13.11.2025 13:13", "12.11.2025 09:51"],
                           strict=False))


def test_seed_shaped_related_cards_every_field_and_parsed_date():
    article = extract_article(_related_page(_seed_cards(4)), f"{BASE}/kr/news/2025/11/15/main/", FETCHED,
                              profile="none")
    related = article["related"]
    assert [r["title"] for r in related] == [f"Бешинчи мақоланинг узун сарлавҳаси рақам {i}" for i in range(4)]
    assert {r["category"] for r in related} == {"Сиёсат"}
    assert [r["published_text"] for r in related] == ["Бугун 13:35", "Кеча 19:48", "13.11.2025 13:13",
                                                      "12.11.2025 09:51"]
    assert [r["published_at"] for r in related] == ["2025-11-15T13:35:00+05:00", "2025-11-14T19:48:00+05:00",
                                                    "2025-11-13T13:13:00+05:00", "2025-11-12T09:51:00+05:00"]
    assert {r["published_precision"] for r in related} == {"minute"}
    assert related[1]["lead"] == "Бу 1-мақоланинг қисқа мазмуни, бир жумлада ёзилган ва етарлича узун."


INLINE_READ_ALSO = ('<div class="box"><b>Читайте также</b> <a href="/kr/news/2025/11/01/inline/">'
                    'Ички қутидаги бошқа мақоланинг сарлавҳаси</a></div>')


def test_inline_read_also_box_does_not_replace_the_related_block():
    page = _related_page(_seed_cards(3), inline=INLINE_READ_ALSO)
    article = extract_article(page, f"{BASE}/kr/news/2025/11/15/main/", FETCHED, profile="none")
    urls = [r["url"] for r in article["related"]]
    assert len(urls) == 3 and f"{BASE}/kr/news/2025/11/01/inline/" not in urls


def test_inline_read_also_alone_is_still_found():
    page = _related_page("", inline=INLINE_READ_ALSO)
    article = extract_article(page, f"{BASE}/kr/news/2025/11/15/main/", FETCHED, profile="none")
    assert [r["url"] for r in article["related"]] == [f"{BASE}/kr/news/2025/11/01/inline/"]


def test_listing_cards_of_the_seed_shape():
    html = (f'<html><body><main><h1>Сиёсат</h1><div class="grid">{_seed_cards(4)}</div></main></body></html>')
    listing = parse_listing(html, f"{BASE}/kr/siyosat/")
    assert [(c.title, c.category, c.time_text) for c in listing.cards] == [
        (f"Бешинчи мақоланинг узун сарлавҳаси рақам {i}", "Сиёсат", when)
        for i, when in enumerate(["Бугун 13:35", "Кеча 19:48", "13.11.2025 13:13", "12.11.2025 09:51"])]
    assert all(c.lead and c.lead.startswith("Бу ") for c in listing.cards)
