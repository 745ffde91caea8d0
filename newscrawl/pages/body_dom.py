"""Own DOM scorer: segment a page into text blocks, find the article container, keep its clean blocks."""

from __future__ import annotations

import re

import lxml.html

from newscrawl.pages.dom import drop_node
from newscrawl.pages.text import Block, collapse, split_blocks

# Elements whose content is never article text.
_DROP_TAGS = {
    "script", "style", "noscript", "template", "iframe", "svg", "canvas", "object", "embed",
    "video", "audio", "map", "button", "select", "textarea", "input", "label", "option",
    "nav", "aside", "footer", "figure", "figcaption", "picture", "dialog", "menu",
}
# Blocks that are paragraphs of their parent container rather than containers themselves.
_LEAF_TAGS = {"p", "li", "dt", "dd", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "pre", "tr", "address"}

_NEGATIVE_TOKENS = (
    "share", "sharing", "social", "related", "comment", "footer", "nav", "navbar", "navigation",
    "menu", "subscribe", "subscription", "newsletter", "promo", "caption", "breadcrumb",
    "breadcrumbs", "tags", "tag", "taglist", "sidebar", "widget", "ad", "ads", "advert",
    "advertisement", "banner", "sponsor", "sponsored", "popular", "mostread", "trending",
    "recommended", "recommend", "outbrain", "taboola", "byline", "author", "cookie", "consent",
    "modal", "popup", "overlay", "masthead", "toolbar", "pagination", "pager", "print",
    "follow", "signup", "login", "paywall", "hidden", "dateline", "timestamp", "meta", "skip",
    "disclaimer", "copyright", "credit", "credits", "gallery", "slideshow", "video", "player",
)
_NEGATIVE = frozenset(_NEGATIVE_TOKENS)
_NEGATIVE_PREFIXES = ("share", "social", "related", "comment", "footer", "subscri", "newsletter",
                      "promo", "breadcrumb", "sidebar", "advert", "sponsor", "recommend", "caption")
_POSITIVE = frozenset(("article", "body", "content", "entry", "main", "post", "text", "story",
                       "blog", "prose", "richtext"))
_TOKEN_SPLIT = re.compile(r"[^a-z0-9]+")
_CAMEL = re.compile(r"(?<=[a-z])(?=[A-Z])")
_HIDDEN_STYLE = re.compile(r"display\s*:\s*none|visibility\s*:\s*hidden", re.I)

# Short lines that announce or are boilerplate (follow us, related, most read, ...), multilingual.
BOILERPLATE_LINE = re.compile(
    r"^\W*(?:"
    r"follow us|subscribe|sign up|share (?:this|on)|related|read more|see also|more (?:news|stories)|"
    r"most (?:read|popular)|recommended|advert(?:isement)?|also read|read also|trending|comments?|"
    r"leave a (?:comment|reply)|tags?:|"
    r"бизни ижтимоий тармоқларда|ижтимоий тармоқларда кузатиб|бошқа янгиликлар|кўп ўқилган|"
    r"тегишли янгиликлар|мавзуга оид|изоҳлар|"
    r"bizni ijtimoiy tarmoqlarda|ijtimoiy tarmoqlarda kuzatib|boshqa yangiliklar|ko.p o.qilgan|"
    r"mavzuga oid|izohlar|"
    r"подписывайтесь|подпишитесь|похожие новости|читайте также|другие новости|самое читаемое|"
    r"популярное|реклама|поделиться|мы в соцсетях|комментарии"
    r")\b.{0,40}$",
    re.I,
)
# Calls to action that mark a short block as boilerplate wherever they occur in it.
CALL_TO_ACTION = re.compile(
    r"\b(?:subscribe|newsletter|follow (?:us|him|her|me)|share (?:it|this)|sign up|"
    r"кузатиб боринг|obuna bo\w*|kuzatib boring|обуна бўлинг|подпис\w+ на)\b",
    re.I,
)


# Widening to an ancestor: it must add this share of new good text, and be mostly good text.
CLIMB_GAIN = 0.25
CLIMB_PURITY = 0.8


def _tokens(el: lxml.html.HtmlElement) -> list[str]:
    raw = f"{el.get('class', '')} {el.get('id', '')} {el.get('role', '')}"
    return [t for t in _TOKEN_SPLIT.split(_CAMEL.sub("-", raw).lower()) if t]


def is_negative(el: lxml.html.HtmlElement) -> bool:
    """Class/id/role says this element is boilerplate (and nothing says it is content)."""
    tokens = _tokens(el)
    if not tokens:
        return False
    negative = any(t in _NEGATIVE or t.startswith(_NEGATIVE_PREFIXES) for t in tokens)
    return negative and not any(t in _POSITIVE for t in tokens)


def clean(root: lxml.html.HtmlElement) -> None:
    """Remove elements that never hold article text (scripts, navigation, figures, hidden nodes)."""
    doomed = [el for el in root.iter() if not isinstance(el.tag, str)
              or el.tag in _DROP_TAGS or (el.tag not in ("body", "html") and _hidden(el))]
    for el in doomed:
        drop_node(el)
    for el in root.iter("time"):
        parent = el.getparent()
        if parent is not None and collapse(parent.text_content()) == collapse(el.text_content()):
            parent.text = (parent.text or "") + " "
            drop_node(el)


def _hidden(el: lxml.html.HtmlElement) -> bool:
    return (el.get("hidden") is not None or el.get("aria-hidden") == "true"
            or bool(_HIDDEN_STYLE.search(el.get("style", ""))))


def segment(root: lxml.html.HtmlElement) -> list[Block]:
    """Split a cleaned tree into text blocks in document order."""
    body = root.find("body")
    scope = body if body is not None else root
    return split_blocks(scope)


def _is_good(block: Block) -> bool:
    return len(block.text) >= 25 and block.link_density < 0.33 and not block.heading


def _container(block: Block) -> lxml.html.HtmlElement:
    el = block.owner
    if el.tag in _LEAF_TAGS:
        parent = el.getparent()
        while parent is not None and parent.tag in _LEAF_TAGS | {"ul", "ol", "dl", "tbody", "table"}:
            parent = parent.getparent()
        if parent is not None:
            return parent
    return el


def pick_container(blocks: list[Block]) -> list[lxml.html.HtmlElement]:
    """Readability-style scoring: good blocks vote for their container and its ancestors."""
    scores: dict[lxml.html.HtmlElement, float] = {}
    for b in blocks:
        if not _is_good(b):
            continue
        value = 1.0 + b.text.count(",") + b.text.count("،") + min(len(b.text) / 100, 3.0)
        el = _container(b)
        for level in range(4):
            if el is None or el.tag == "html":
                break
            scores[el] = scores.get(el, 0.0) + value / (1 if level == 0 else 2 if level == 1 else level * 3)
            el = el.getparent()
    if not scores:
        return []
    link = _link_density_by_element(blocks)
    ranked = {el: s * (1 - link.get(el, 0.0)) * (0.5 if is_negative(el) else 1.0)
              for el, s in scores.items()}
    top = max(ranked, key=lambda el: ranked[el])
    parent = top.getparent()
    if parent is None:
        return [top]
    threshold = max(10.0, ranked[top] * 0.2)
    chosen = [sib for sib in parent if sib is top or ranked.get(sib, 0.0) >= threshold]
    return _climb(chosen, blocks)


def _text_by_element(blocks: list[Block]) -> dict[lxml.html.HtmlElement, list[int]]:
    """[good, total] characters of the blocks under each element.

    Text under a boilerplate-classed element between the block and the ancestor counts as bad.
    """
    totals: dict[lxml.html.HtmlElement, list[int]] = {}
    for b in blocks:
        good = _is_good(b)
        node = b.owner
        while node is not None:
            good = good and not is_negative(node)
            t = totals.setdefault(node, [0, 0])
            t[0] += len(b.text) if good else 0
            t[1] += len(b.text)
            node = node.getparent()
    return totals


def _climb(chosen: list[lxml.html.HtmlElement], blocks: list[Block]) -> list[lxml.html.HtmlElement]:
    """Widen the choice to an ancestor while that mostly adds article-like text (split bodies)."""
    text = _text_by_element(blocks)
    good = sum(text.get(el, [0, 0])[0] for el in chosen)
    total = sum(text.get(el, [0, 0])[1] for el in chosen)
    widened = True
    while widened:
        widened = False
        ancestor = chosen[0].getparent()
        for _ in range(4):
            if ancestor is None or ancestor.tag in ("body", "html"):
                break
            g, t = text.get(ancestor, (0, 0))
            gain, extra = g - good, t - total
            if gain >= CLIMB_GAIN * good and gain >= CLIMB_PURITY * extra:
                chosen, good, total, widened = [ancestor], g, t, True
                break
            ancestor = ancestor.getparent()
    return chosen


def _link_density_by_element(blocks: list[Block]) -> dict[lxml.html.HtmlElement, float]:
    totals: dict[lxml.html.HtmlElement, list[int]] = {}
    for b in blocks:
        el = b.owner
        while el is not None:
            t = totals.setdefault(el, [0, 0])
            t[0] += len(b.text)
            t[1] += b.link_chars
            el = el.getparent()
    return {el: lk / max(1, n) for el, (n, lk) in totals.items()}


def _inside(el: lxml.html.HtmlElement, containers: set[lxml.html.HtmlElement]) -> bool:
    """``el`` lies in one of ``containers`` with no boilerplate-classed element in between."""
    negative = False
    while el is not None:
        if el in containers:
            return not negative
        negative = negative or el.tag == "header" or is_negative(el)
        el = el.getparent()
    return False


def is_boilerplate_text(text: str) -> bool:
    """A short announcement ("Follow us", "Related", ...) or a short call to action, whoever extracted it."""
    return bool((len(text) < 80 and BOILERPLATE_LINE.search(text))
                or (len(text) < 120 and CALL_TO_ACTION.search(text)))


def keep(block: Block) -> bool:
    """Drop link lists, boilerplate announcements and headline-level headings."""
    if block.owner.tag == "h1":
        return False
    if block.link_density > 0.5:
        return False
    return not is_boilerplate_text(block.text)


def analyse(root: lxml.html.HtmlElement) -> tuple[list[Block], list[Block]]:
    """All text blocks of a (mutable) parsed page, and those the DOM scorer takes as the article."""
    clean(root)
    blocks = segment(root)
    containers = set(pick_container(blocks))
    return blocks, [b for b in blocks if _inside(b.owner, containers) and keep(b)]
