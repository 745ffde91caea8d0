"""Kinds of article where generic extraction used to drop whole sections of text: long lists, tables,
question/answer interviews and live blogs. Expected paragraphs are read from the fixture's own markup."""

from __future__ import annotations

from pathlib import Path

import lxml.html

from newscrawl.pages.body import extract_body

FIXTURES = Path(__file__).parent / "fixtures" / "body"
URL = "https://example.uz/news/1"


def _page(name: str) -> tuple[str, lxml.html.HtmlElement]:
    html = (FIXTURES / name).read_text(encoding="utf-8")
    return html, lxml.html.document_fromstring(html)


def _texts(tree: lxml.html.HtmlElement, css: str) -> list[str]:
    return [" ".join(el.text_content().split()) for el in tree.cssselect(css)]


def _assert_absent(body: list[str], tree: lxml.html.HtmlElement, *chrome: str) -> None:
    text = "\n".join(body)
    for css in chrome:
        for piece in _texts(tree, css):
            assert piece not in text, piece


def test_long_list_keeps_every_item_in_order():
    html, tree = _page("long_list_cyrl.html")
    body = extract_body(html, URL)
    items = _texts(tree, ".content li")
    assert len(items) == 12
    assert body == [*_texts(tree, ".content > p")[:1], *items, *_texts(tree, ".content > p")[1:]]
    _assert_absent(body, tree, ".other span", ".other p", "aside li", "footer p", ".share a")


def test_table_keeps_every_row_as_one_line():
    html, tree = _page("table_latn.html")
    body = extract_body(html, URL)
    rows = [" ".join(cell.text_content().strip() for cell in tr) for tr in tree.cssselect("table tr")]
    paragraphs = _texts(tree, ".body > p")
    assert body == [paragraphs[0], *rows, paragraphs[1]]
    _assert_absent(body, tree, ".follow p", ".follow a", "#right a", "#bottom", "#top a")


def test_interview_keeps_every_question_and_answer():
    html, tree = _page("interview_qa_ru.html")
    lead = _texts(tree, "p.lead")[0]
    body = extract_body(html, URL, lead=lead)
    assert body == _texts(tree, ".story-body > *")
    assert "— Нет." in body, "a one-word answer is part of the interview"
    _assert_absent(body, tree, ".related-news li", ".related-news h3", "footer p", ".social-share a")
    # without being told the standfirst, it stays: it is article text
    assert extract_body(html, URL)[0] == lead


def test_live_blog_keeps_every_update_with_its_time():
    html, tree = _page("live_blog_cyrl.html")
    body = extract_body(html, URL)
    expected = []
    for entry in tree.cssselect(".entry"):
        expected.append(entry.cssselect(".entry-time")[0].text_content())
        text = entry.cssselect(".entry-text")[0]
        expected += [" ".join(t.split()) for t in text.itertext() if t.strip()]  # a <br> starts a paragraph
    assert len(expected) == 11
    assert body == expected
    _assert_absent(body, tree, ".sidebar a", ".sidebar h3", "header a", "footer")
