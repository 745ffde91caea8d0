"""Text helpers shared by the extractors: decoding bytes, paragraphs of a block, label stripping."""

from __future__ import annotations

import re

from charset_normalizer import from_bytes
from lxml import html as lxml_html
from w3lib.encoding import html_to_unicode

BLOCK_TAGS = {"p", "h2", "h3", "h4", "h5", "h6", "li", "pre", "dd", "dt", "td"}
CONTAINER_TAGS = {"div", "section", "article", "blockquote", "ul", "ol", "main", "span", "font", "center", "dl",
                  "table", "tbody", "tr", "figure"}
AUTHOR_LABEL = re.compile(r"^\s*(муаллиф|muallif|автор|author|by|матн|matn|текст|text)\s*[:\-–—]?\s*", re.IGNORECASE)


def _detect(data: bytes) -> str | None:
    best = from_bytes(data[:200_000]).best()
    return best.encoding if best else None


def decode_html(data: bytes | str, content_type: str | None = None) -> str:
    """HTML as text: charset from the HTTP header, the BOM or <meta>, else detected."""
    if isinstance(data, str):
        return data
    _, text = html_to_unicode(content_type, data, auto_detect_fun=_detect)
    return text


def content_type(headers: dict[str, str]) -> str | None:
    """The Content-Type of stored response headers, whatever the case of the header name."""
    return next((v for k, v in headers.items() if k.lower() == "content-type"), None)


def collapse(text: str | None) -> str | None:
    if text is None:
        return None
    text = " ".join(text.replace("\xa0", " ").split())
    return text or None


def strip_label(text: str | None) -> str | None:
    """'Муаллиф: Name' -> 'Name'."""
    if not text:
        return None
    return collapse(AUTHOR_LABEL.sub("", text, count=1))


def block_paragraphs(element: lxml_html.HtmlElement) -> list[str]:
    """Paragraphs of a block element: one per <p>/<li>/heading, loose text and <br>-separated runs kept apart."""
    paragraphs: list[str] = []
    run: list[str] = []

    def flush() -> None:
        text = collapse("".join(run))
        run.clear()
        if text:
            paragraphs.append(text)

    def walk(node: lxml_html.HtmlElement) -> None:
        if node.text:
            run.append(node.text)
        for child in node:
            if not isinstance(child.tag, str):
                if child.tail:
                    run.append(child.tail)
                continue
            tag = child.tag.lower()
            if tag == "br":
                flush()
            elif tag in BLOCK_TAGS:
                flush()
                run.append(child.text_content())
                flush()
            elif tag in CONTAINER_TAGS and _has_blocks(child):
                flush()
                walk(child)
                flush()
            else:
                run.append(child.text_content())
            if child.tail:
                run.append(child.tail)

    walk(element)
    flush()
    return paragraphs


def _has_blocks(node: lxml_html.HtmlElement) -> bool:
    return any(isinstance(c.tag, str) and c.tag.lower() in BLOCK_TAGS | CONTAINER_TAGS | {"br"}
               for c in node.iterdescendants())
