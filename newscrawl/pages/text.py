"""Text helpers shared by the extractors: decoding bytes, splitting paragraphs, dropping repeated leads,
label stripping."""

from __future__ import annotations

import re
from dataclasses import dataclass
from collections.abc import Callable, Iterable

from charset_normalizer import from_bytes
from lxml import etree
from lxml import html as lxml_html
from w3lib.encoding import html_to_unicode, resolve_encoding

# Elements that end a paragraph.
BLOCK_TAGS = {
    "p", "div", "section", "article", "main", "header", "li", "ul", "ol", "dl", "dt", "dd",
    "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "pre", "table", "tbody", "thead", "tfoot",
    "tr", "td", "th", "caption", "hr", "address", "center", "body", "html", "details", "summary",
    "fieldset", "legend", "hgroup", "form",
}
HEADING_TAGS = {"h1", "h2", "h3", "h4", "h5", "h6"}
_NON_WORD = re.compile(r"[\W_]+")
AUTHOR_LABEL = re.compile(r"^\s*(муаллиф|muallif|автор|author|by|матн|matn|текст|text)\s*[:\-–—]?\s*", re.IGNORECASE)


def _detect(data: bytes) -> str | None:
    best = from_bytes(data[:200_000]).best()
    return best.encoding if best else None


def decode_html(data: bytes | str, content_type: str | None = None) -> str:
    """HTML as text: charset from the HTTP header, the BOM or <meta>, else detected."""
    return decode_page(data, content_type)[0]


_PRINTABLE = range(0x21, 0x7F)  # ASCII but blanks and controls
_ASCII_BLANKS = b" \t\n\r\x0b\x0c\x1c\x1d\x1e\x1f"  # the ASCII characters str.strip() strips


def decode_page(data: bytes | str, content_type: str | None = None) -> tuple[str, bytes | None]:
    """decode_html's text, and the bytes the page's parser reads (the text stripped, without NULs, in UTF-8)
    when the page's own bytes already are those: UTF-8 (declared or detected), nothing replaced on decoding,
    ASCII at either end once ASCII blanks are stripped (no BOM, no other blank, no NUL there). Else None: the
    parser encodes the text (~60 us a 45 KB page)."""
    if isinstance(data, str):
        return data, None
    encoding, text = html_to_unicode(content_type, data, auto_detect_fun=_detect)
    body = data.strip(_ASCII_BLANKS)
    if body and body[0] in _PRINTABLE and body[-1] in _PRINTABLE and resolve_encoding(encoding) == "utf-8" \
            and "\ufffd" not in text:
        return text, body.replace(b"\x00", b"")
    return text, None


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


@dataclass
class Block:
    """A run of text between paragraph boundaries, with the element that owns it."""

    text: str
    owner: lxml_html.HtmlElement
    link_chars: int
    position: int
    heading: bool = False

    @property
    def link_density(self) -> float:
        return self.link_chars / max(1, len(self.text))


class _Segmenter:
    """Accumulates inline text and cuts it into blocks at block-level tags and ``<br>``."""

    def __init__(self) -> None:
        self.blocks: list[Block] = []
        self.parts: list[str] = []
        self.link_chars = 0
        self.owner: lxml_html.HtmlElement | None = None

    def flush(self) -> None:
        text = collapse("".join(self.parts)) or ""
        if text and self.owner is not None:
            self.blocks.append(Block(text, self.owner, min(self.link_chars, len(text)),
                                     len(self.blocks), self.owner.tag in HEADING_TAGS))
        self.parts, self.link_chars, self.owner = [], 0, None

    def add(self, text: str | None, in_link: bool, owner: lxml_html.HtmlElement) -> None:
        if not text:
            return
        if self.owner is None:
            if not text.strip():
                return
            self.owner = owner
        self.parts.append(text)
        if in_link:
            self.link_chars += len(text.strip())

    def run(self, scope: lxml_html.HtmlElement) -> list[Block]:
        owners = [scope]
        links = 0
        for event, el in etree.iterwalk(scope, events=("start", "end")):
            tag = el.tag if isinstance(el.tag, str) else ""
            if event == "start":
                if tag == "br":
                    self.flush()
                elif tag in BLOCK_TAGS:
                    self.flush()
                    owners.append(el)
                if tag == "a":
                    links += 1
                if tag and tag != "br":
                    self.add(el.text, links > 0, owners[-1])
                continue
            if tag in BLOCK_TAGS:
                self.flush()
                owners.pop()
            if tag == "a":
                links -= 1
            if el is not scope:
                self.add(el.tail, links > 0, owners[-1])
        self.flush()
        return self.blocks


def split_blocks(scope: lxml_html.HtmlElement) -> list[Block]:
    """The text blocks of an element in document order: a paragraph ends at every block-level tag and <br>,
    inline markup (links, emphasis, spans) stays inside its paragraph. The one paragraph splitter: profile
    bodies and the generic DOM scorer cut the same markup the same way."""
    return _Segmenter().run(scope)


def block_paragraphs(element: lxml_html.HtmlElement) -> list[str]:
    """Paragraphs of a block element, whitespace collapsed."""
    return [block.text for block in split_blocks(element)]


def comparable(text: str) -> str:
    """A paragraph reduced to its words, casefolded: the headline, the standfirst and a body paragraph that
    repeats them compare equal whatever their punctuation, spacing or case."""
    return _NON_WORD.sub(" ", text).strip().casefold()


def without_leading_repeats(paragraphs: list[str], repeats: Iterable[str | None],
                            also: Callable[[str], bool] | None = None) -> list[str]:
    """Drop the leading paragraphs that repeat one of `repeats` (the headline, the standfirst), or that
    `also` says belong before the story (a dateline). The one lead normaliser of profile and generic bodies."""
    keys = {key for key in (comparable(t) for t in repeats if t) if key}
    start = 0
    while start < len(paragraphs) and (comparable(paragraphs[start]) in keys
                                        or (also is not None and also(paragraphs[start]))):
        start += 1
    return paragraphs[start:]
