"""RSS/Atom feeds and news sitemaps: cheap discovery of new article URLs. Pure: bytes + URL in."""

from __future__ import annotations

from dataclasses import dataclass

from lxml import etree

from newscrawl.pages.text import collapse
from newscrawl.urls import article_url


@dataclass
class FeedEntry:
    url: str
    title: str | None = None
    published_text: str | None = None


def _local(tag: object) -> str:
    return tag.rsplit("}", 1)[-1].lower() if isinstance(tag, str) else ""


def _child_text(node: etree._Element, *names: str) -> str | None:
    for child in node.iter():
        if _local(child.tag) in names and (child.text or "").strip():
            return collapse(child.text)
    return None


def feed_entries(data: bytes, url: str) -> list[FeedEntry]:
    """Entries of an RSS 2.0 or Atom feed, or of a (news) sitemap; [] for anything unparseable."""
    try:
        root = etree.fromstring(data, etree.XMLParser(recover=True, resolve_entities=False, no_network=True))
    except (etree.XMLSyntaxError, ValueError):
        return []
    if root is None:
        return []
    entries: list[FeedEntry] = []
    for node in root.iter():
        kind = _local(node.tag)
        if kind == "item":
            link = _child_text(node, "link", "guid")
            date = _child_text(node, "pubdate", "date")
        elif kind == "entry":
            href = next((c.get("href") for c in node if _local(c.tag) == "link" and c.get("rel", "alternate")
                         == "alternate"), None)
            link = href or _child_text(node, "id")
            date = _child_text(node, "published", "updated")
        elif kind == "url":
            link = _child_text(node, "loc")
            date = _child_text(node, "publication_date", "lastmod")
        else:
            continue
        entry_url = article_url(url, link) if link and link.startswith(("http://", "https://", "/")) else None
        if entry_url:
            entries.append(FeedEntry(url=entry_url, title=_child_text(node, "title"), published_text=date))
    return entries
