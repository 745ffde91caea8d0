"""Combine our DOM scorer with trafilatura: agree → ours; disagree → trafilatura's region, our blocks."""

from __future__ import annotations

import re

import lxml.html

from newscrawl.pages.body_dom import Block, keep
from newscrawl.pages.body_score import score_page, shingles

# Below this shingle F1 between the two candidates, our container choice is considered wrong.
AGREEMENT = 0.5
_WORD = re.compile(r"\w+")


def trafilatura_text(html: str, tree: lxml.html.HtmlElement, url: str | None) -> str:
    """trafilatura's precision-oriented main text of a page ('' when it finds none)."""
    import trafilatura

    if not html:  # trafilatura parses markup its own way; a tree we parsed gives it worse results
        html = lxml.html.tostring(tree, encoding="unicode")
    try:
        return trafilatura.extract(html, url=url, favor_precision=True) or ""
    except Exception:  # noqa: BLE001 - a second opinion must never break extraction
        return ""


def supported(block: Block, ref: str, ref_shingles) -> bool:
    """Most of ``block``'s text also occurs in the reference text."""
    words = _WORD.findall(block.text)
    if len(words) < 8:
        return " ".join(words) in ref
    own = shingles(block.text)
    return sum((own & ref_shingles).values()) >= 0.5 * sum(own.values())


def choose_paragraphs(html: str, tree: lxml.html.HtmlElement, url: str | None,
                      blocks: list[Block], chosen: list[Block]) -> list[str]:
    """Final paragraphs: ours when trafilatura broadly agrees, else the blocks trafilatura vouches for."""
    other = trafilatura_text(html, tree, url)
    ours = "\n".join(b.text for b in chosen)
    if not other or (ours and score_page(ours, other).f1 >= AGREEMENT):
        return [b.text for b in chosen]
    ref = " ".join(_WORD.findall(other))
    ref_shingles = shingles(other)
    return [b.text for b in blocks if keep(b) and supported(b, ref, ref_shingles)]
