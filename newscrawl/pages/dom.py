"""DOM helpers shared by the extractors: CSS selection with compiled XPaths, element text, node removal."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from lxml import etree
from parsel import Selector
from parsel.csstranslator import HTMLTranslator

TRANSLATOR = HTMLTranslator()
"""parsel's CSS-to-XPath translator (it knows ::text and ::attr()); profiles are validated with it too."""


@lru_cache(maxsize=4096)
def compiled(css: str) -> etree.XPath:
    """A CSS selector (with parsel's ::text/::attr()) compiled once to an lxml XPath."""
    return etree.XPath(TRANSLATOR.css_to_xpath(css))


def select(node: Selector | etree._Element, css: str) -> list[Any]:
    """Elements (or attribute/text strings, for ::attr()/::text) matching a CSS selector, with a compiled XPath."""
    found: list[Any] = compiled(css)(getattr(node, "root", node))
    return found


def select_first_text(sel: Selector | etree._Element, selectors: tuple[str, ...]) -> str | None:
    """Text of the first element matched by the first selector that matches (whitespace collapsed)."""
    root = getattr(sel, "root", sel)
    for css in selectors:
        for node in compiled(css)(root):
            text = element_text(node)
            if text:
                return text
    return None


def element_text(node: str | etree._Element) -> str:
    """All text of an element (or a selected string), whitespace collapsed."""
    if isinstance(node, str):
        return " ".join(node.split())
    return " ".join("".join(node.itertext()).split())


def node_text(node: Selector) -> str:
    return element_text(node.root)


def drop_node(element: etree._Element) -> None:
    """Remove an element but keep the text that follows it (its tail), which belongs to its parent."""
    parent = element.getparent()
    if parent is None:
        return
    if element.tail:
        previous = element.getprevious()
        if previous is not None:
            previous.tail = (previous.tail or "") + element.tail
        else:
            parent.text = (parent.text or "") + element.tail
    parent.remove(element)
