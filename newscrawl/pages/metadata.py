"""Structured metadata of a page: JSON-LD, OpenGraph and article:* meta, <time datetime>, canonical, language."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from lxml import etree
from parsel import Selector

from newscrawl.pages.dom import has_token

ARTICLE_TYPES = {"newsarticle", "article", "reportagenewsarticle", "blogposting", "analysisnewsarticle",
                 "opinionnewsarticle", "backgroundnewsarticle", "report", "webpage"}


@dataclass
class Metadata:
    """Values found in a page's metadata, each keyed by the layer it came from."""

    jsonld: dict[str, Any] = field(default_factory=dict)
    og: dict[str, list[str]] = field(default_factory=dict)
    meta: dict[str, str] = field(default_factory=dict)
    time_datetime: list[str] = field(default_factory=list)
    canonical: str | None = None
    html_lang: str | None = None
    hreflang: list[tuple[str, str]] = field(default_factory=list)
    """(hreflang, href) of every `<link rel=alternate hreflang>`: the page in other languages or scripts."""

    def og_first(self, key: str) -> str | None:
        values = self.og.get(key)
        return values[0] if values else None


JSONLD_TYPE = "application/ld+json"
# The elements metadata is read from, found in one walk of the page (an XPath per kind walked it five times).
METADATA_TAGS = ("meta", "time", "link", "script")
TEXT_NODES = etree.XPath("text()")
HTML_LANG = etree.XPath("/html/@lang")


def _jsonld_objects(data: Any) -> list[dict[str, Any]]:
    """Flatten JSON-LD (lists, @graph) into a list of objects."""
    found: list[dict[str, Any]] = []
    stack = [data]
    while stack:
        item = stack.pop()
        if isinstance(item, list):
            stack.extend(reversed(item))
        elif isinstance(item, dict):
            found.append(item)
            if "@graph" in item:
                stack.append(item["@graph"])
    return found


def _types(obj: dict[str, Any]) -> set[str]:
    value = obj.get("@type", [])
    values = value if isinstance(value, list) else [value]
    return {str(v).lower() for v in values}


def article_jsonld(scripts: list[etree._Element]) -> dict[str, Any]:
    """The NewsArticle/Article JSON-LD object of the page's ld+json scripts (the first one that has a headline),
    or {}."""
    candidates: list[dict[str, Any]] = []
    for raw in (text for script in scripts for text in TEXT_NODES(script)):
        try:
            data = json.loads(raw.strip().rstrip(";"), strict=False)
        except (ValueError, RecursionError):
            continue
        candidates.extend(o for o in _jsonld_objects(data) if _types(o) & ARTICLE_TYPES)
    candidates.sort(key=lambda o: ("webpage" in _types(o), not o.get("headline")))
    return candidates[0] if candidates else {}


def jsonld_text(value: Any) -> str | None:
    """A JSON-LD value as text: strings as is, {name: ...} objects and lists by their names."""
    if value is None:
        return None
    if isinstance(value, str):
        text = " ".join(value.split())
        return text or None
    if isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, dict):
        return jsonld_text(value.get("name") or value.get("url") or value.get("@id"))
    if isinstance(value, list):
        parts = [t for t in (jsonld_text(v) for v in value) if t]
        return ", ".join(dict.fromkeys(parts)) or None
    return None


def jsonld_list(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [t.strip() for t in value.split(",") if t.strip()]
    if isinstance(value, list):
        return [t for v in value for t in jsonld_list(v)]
    text = jsonld_text(value)
    return [text] if text else []


def read_metadata(sel: Selector) -> Metadata:
    root = sel.root
    md = Metadata()
    scripts: list[etree._Element] = []
    canonical: str | None = None
    for node in root.iter(*METADATA_TAGS):  # document order, as each kind's XPath (//meta, //time, ...) gave it
        tag = node.tag
        if tag == "meta":
            _read_meta(md, node)
        elif tag == "time":
            value = node.get("datetime")
            if value is not None and value.strip():
                md.time_datetime.append(value.strip())
        elif tag == "link":
            href = node.get("href")
            if href is None:
                continue
            rel = node.get("rel")
            if canonical is None and rel == "canonical":
                canonical = href
            # [contains(concat(" ", normalize-space(@rel), " "), " alternate ")]: one of rel's tokens
            lang = node.get("hreflang")
            if lang is not None and has_token(rel, "alternate"):
                md.hreflang.append((lang.strip(), href.strip()))
        elif node.get("type") == JSONLD_TYPE:
            scripts.append(node)
    md.jsonld = article_jsonld(scripts)
    md.canonical = canonical or md.og_first("og:url")
    lang = HTML_LANG(root)
    md.html_lang = (lang[0] if lang else None) or md.meta.get("content-language")
    return md


def _read_meta(md: Metadata, node: etree._Element) -> None:
    attrib = node.attrib
    key = (attrib.get("property") or attrib.get("name") or attrib.get("itemprop") or "").strip()
    content = attrib.get("content")
    if not key or content is None or not content.strip():
        return
    key = key.lower()
    content = " ".join(content.split())
    if key.startswith(("og:", "article:")):
        md.og.setdefault(key, []).append(content)
    else:
        md.meta.setdefault(key, content)
