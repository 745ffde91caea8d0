"""The "other news" block of an article page: found by the profile's selectors or by its heading."""

from __future__ import annotations

import re

from parsel import Selector

from newscrawl.pages.cards import Card, generic_cards, profile_cards
from newscrawl.sites import Profile

RELATED_HEADING = re.compile(
    r"бошқа янгиликлар|boshqa yangiliklar|ўхшаш|o['ʻ‘’`]?xshash|мавзуга оид|mavzuga oid|тавсия|tavsiya|"
    r"похожие|читайте также|другие новости|по теме|еще новости|ещё новости|"
    r"related|more news|more stories|read also|see also|you may also like",
    re.IGNORECASE,
)
HEADINGS = "//*[self::h2 or self::h3 or self::h4 or self::h5 or self::h6 or self::strong or self::span or self::div]"


def related_cards(sel: Selector, base: str, page_url: str, profile: Profile | None) -> tuple[list[Card], str | None]:
    """The related cards and the layer that found them ("profile" or "generic")."""
    if profile is not None and profile.related_cards:
        cards = profile_cards(sel, base, profile.related_cards, profile)
        if cards:
            return cards, "profile"
    for heading in sel.xpath(HEADINGS):
        text = " ".join("".join(heading.xpath(".//text()").getall()).split())
        if not text or len(text) > 60 or not RELATED_HEADING.search(text):
            continue
        container = heading
        for _ in range(3):
            parents = container.xpath("..")
            if not parents:
                break
            container = parents[0]
            cards = generic_cards(container, base, page_url)
            if cards:
                return cards, "generic"
    return [], None
