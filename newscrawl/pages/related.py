"""The "other news" block of an article page: found by the profile's selectors or by its heading."""

from __future__ import annotations

import re

from parsel import Selector

from newscrawl.pages.cards import Card, generic_cards, profile_cards
from newscrawl.pages.layers import Layer
from newscrawl.sites import Profile

RELATED_HEADING = re.compile(
    r"бошқа янгиликлар|boshqa yangiliklar|ўхшаш|o['ʻ‘’`]?xshash|мавзуга оид|mavzuga oid|тавсия|tavsiya|"
    r"похожие|читайте также|другие новости|по теме|еще новости|ещё новости|"
    r"related|more news|more stories|read also|see also|you may also like",
    re.IGNORECASE,
)
HEADINGS = "//*[self::h2 or self::h3 or self::h4 or self::h5 or self::h6 or self::strong or self::span or self::div]"


def related_cards(sel: Selector, base: str, page_url: str, profile: Profile | None) -> tuple[list[Card], Layer | None]:
    """The related cards and the layer that found them (profile or generic)."""
    if profile is not None and profile.related_cards:
        cards = profile_cards(sel, base, profile.related_cards, profile)
        if cards:
            return cards, Layer.PROFILE
    blocks = [cards for cards in (_cards_under(heading, base, page_url) for heading in sel.xpath(HEADINGS)) if cards]
    if not blocks:
        return [], None
    # An inline "read also" box inside the story holds a link or two; the page's list of other stories holds
    # more and comes after the story. The fullest block wins, the later one on a tie.
    best = max(range(len(blocks)), key=lambda i: (len(blocks[i]), i))
    return blocks[best], Layer.GENERIC


def _cards_under(heading: Selector, base: str, page_url: str) -> list[Card]:
    """The cards of the nearest ancestor of a related-news heading that holds any."""
    text = " ".join("".join(heading.xpath(".//text()").getall()).split())
    if not text or len(text) > 60 or not RELATED_HEADING.search(text):
        return []
    container = heading
    for _ in range(3):
        parents = container.xpath("..")
        if not parents:
            break
        container = parents[0]
        cards = generic_cards(container, base, page_url)
        if cards:
            return cards
    return []
