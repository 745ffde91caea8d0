"""Generic fallbacks: what an article page says near its headline when no profile or metadata does."""

from __future__ import annotations

import re

from lxml import etree
from parsel import Selector

from newscrawl.dates import parse_date_precise
from newscrawl.pages.metadata import Metadata
from newscrawl.pages.text import collapse, strip_label
from newscrawl.pages.dom import element_text, node_text, select_first_text

LEAD_CLASSES = ("lead", "intro", "standfirst", "summary", "excerpt", "anons", "subtitle", "description", "dek")
BREADCRUMB = ("[class*=breadcrumb] a", "[class*=breadcrumb] li", "nav[aria-label*=readcrumb] a")
TITLE_SEPARATORS = re.compile(r"\s+[|—–\-:»·]\s+")
MAX_DATE_TEXT = 80
CARD_WORDS = ("card", "related", "other", "most", "popular", "sidebar", "list", "teaser", "widget")
SKIPPED_TAGS = {"a", "script", "style", "nav", "aside", "footer", "noscript", "template"}
CARD_CLASSES = " or ".join(f"contains(@class,'{w}') or contains(@id,'{w}')" for w in CARD_WORDS)
UPDATED_LABEL = re.compile(r"^\s*(янгиланди|yangilandi|обновлено|изменено|updated|modified)", re.IGNORECASE)
AUTHOR_ATTRIBUTES = ("[rel=author]", "[itemprop=author] [itemprop=name]", "[itemprop=author]")
AUTHOR_CLASSES = ("[class*=byline]", "[class*=author]")
# (attribute steps: a predicate on every element, //*[@rel = 'author' or ...], costs three times as much)
_AUTHOR_MARKED = etree.XPath("boolean(//@rel[. = 'author'] | //@itemprop[. = 'author'])")
_ARTICLE_ANCESTOR = etree.XPath("ancestor::article[1]")
_TAG_LINKS = etree.XPath(".//*[contains(@class,'tag') or contains(@id,'tag')]//a | .//a[contains(@href,'/tag/') "
                         "or contains(@href,'/tags/') or @rel='tag']")


def first_h1(sel: Selector) -> etree._Element | None:
    """The page's first <h1>, as (//h1)[1], by lxml's tag iterator: it stops at the first, and a page without any is
    known at once, where the XPath walks every element (72 vs 51 us a realistic page; 0.5 us without an <h1>)."""
    return next(sel.root.getroottree().getroot().iter("h1"), None)


def headline_scope_element(sel: Selector) -> etree._Element | None:
    """The part of the page that belongs to the headline: its <article>, else its parent and grandparent
    (compiled XPaths: it runs on every page, profile or not)."""
    h1 = first_h1(sel)
    if h1 is None:
        return None
    article = _ARTICLE_ANCESTOR(h1)
    if article:
        return article[0]
    scope = h1
    for _ in range(2):
        parent = scope.getparent()
        if parent is None or parent.tag in ("body", "html"):
            break
        scope = parent
    return scope


def headline_scope(sel: Selector) -> Selector | None:
    """headline_scope_element as a Selector, for the fallbacks that query it with XPath."""
    scope = headline_scope_element(sel)
    return None if scope is None else Selector(root=scope, type="html")


def outside_cards(xpath: str) -> str:
    """Restrict an XPath to nodes not inside links, navigation or card/related/sidebar blocks."""
    return (f"{xpath}[not(ancestor::a or ancestor::script or ancestor::style or ancestor::nav or ancestor::aside "
            f"or ancestor::footer or ancestor::*[{CARD_CLASSES}])]")


def visible_date_text(sel: Selector, updated: bool = False) -> str | None:
    """The first short text near the headline that reads as a publication date (or, with `updated`, as a
    labelled update time such as "Янгиланди: 12:36 15.11.2025")."""
    scope = headline_scope_element(sel)
    if scope is None:
        return None
    # Every short text is one text node of the scope with its spaces collapsed, so when no text node of the
    # scope starts with an update label none of them can (most pages: no walk, no date parsing).
    if updated and not any(map(UPDATED_LABEL.match, scope.itertext())):
        return None
    for text in short_texts(scope):
        if bool(UPDATED_LABEL.search(text)) == updated and parse_date_precise(text) is not None:
            return text
    return None


def short_texts(element: etree._Element) -> list[str]:
    """Short text runs of an element, in document order, skipping links, scripts, navigation and card blocks."""
    found: list[str] = []

    def keep(text: str | None) -> None:
        if text and text.strip() and len(text) <= 4 * MAX_DATE_TEXT:
            text = " ".join(text.split())
            if len(text) <= MAX_DATE_TEXT:
                found.append(text)

    def walk(node: etree._Element) -> None:
        keep(node.text)
        for child in node:
            tag = child.tag if isinstance(child.tag, str) else ""
            marks = f"{child.get('class', '')} {child.get('id', '')}" if tag else ""
            if tag and tag not in SKIPPED_TAGS and not any(word in marks for word in CARD_WORDS):
                walk(child)
            keep(child.tail)

    walk(element)
    return found


def kicker_category(sel: Selector) -> str | None:
    """A short section link placed before the headline (a "kicker")."""
    scope = headline_scope(sel)
    if scope is None:
        return None
    for text in scope.xpath(outside_cards(".//a[following::h1]")).xpath("normalize-space()").getall():
        if 2 <= len(text) <= 40 and len(text.split()) <= 4 and parse_date_precise(text) is None:
            return text
    return None


def lead_image(sel: Selector) -> str | None:
    """The first sizeable image of the article next to the headline."""
    scope = headline_scope(sel)
    if scope is None:
        return None
    for img in scope.xpath(outside_cards(".//img[@src]")):
        src = img.attrib["src"]
        small = any(img.attrib.get(k, "").isdigit() and int(img.attrib[k]) < 100 for k in ("width", "height"))
        if not src.startswith("data:") and not small:
            return src
    return None


def generic_title(sel: Selector, md: Metadata) -> str | None:
    for css in ("article h1", "main h1", "h1"):
        text = select_first_text(sel, (css,))
        if text:
            return text
    title = collapse(sel.css("title::text").get())
    if title:
        return TITLE_SEPARATORS.split(title)[0]
    return None


def generic_lead(sel: Selector) -> str | None:
    """A standfirst-classed block next to the headline, outside cards and sidebars."""
    scope = headline_scope(sel)
    if scope is None:
        return None
    classes = " or ".join(f"contains(@class,'{name}')" for name in LEAD_CLASSES)
    for node in scope.xpath(outside_cards(f".//*[self::p or self::div or self::h2 or self::strong][{classes}]")):
        if not node.css("a, img"):
            text = node_text(node)
            if 30 <= len(text) <= 600:
                return text
    return None


def generic_author(sel: Selector) -> str | None:
    # The attribute selectors each walk the whole page, and match only where an element says rel="author" or
    # itemprop="author", which most pages have none of: one walk tells, then only the class selectors (found in
    # the page's class index) are left.
    marked = _AUTHOR_MARKED(sel.root)
    text = select_first_text(sel, AUTHOR_ATTRIBUTES + AUTHOR_CLASSES if marked else AUTHOR_CLASSES)
    text = strip_label(text)
    return text if text and len(text) <= 80 else None


def breadcrumb_category(sel: Selector, title: str | None) -> str | None:
    for css in BREADCRUMB:
        items = [node_text(n) for n in sel.css(css)]
        items = [t for t in items if t and t != title and len(t) <= 60]
        if len(items) >= 2:
            return items[-1]
    return None


def tag_links(sel: Selector) -> list[str]:
    """Links inside a tags block of the article, or links to /tag/ pages there."""
    scope = headline_scope_element(sel)
    if scope is None:
        return []
    tags = [element_text(n) for n in _TAG_LINKS(scope)]
    return [t for t in dict.fromkeys(tags) if t and len(t) <= 60]
