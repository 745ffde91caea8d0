"""FROZEN: the archive helpers migrations 0002-0006 use, as they were at schema version 8. Never edit."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import sqlite_utils

from newscrawl.migrations.translit_v1 import fold
from newscrawl.migrations.urls_v1 import url_forms

CONTENT_FIELDS = ("title", "lead", "body", "published_at", "modified_at", "author")


def content_hash(row: dict[str, Any]) -> str:
    """sha256 over the fields whose change makes a new version."""
    payload = json.dumps([row.get(k) for k in CONTENT_FIELDS], ensure_ascii=False)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def category_key(category: str | None) -> str | None:
    """The category folded across scripts and apostrophes ("Сиёсат", "Siyosat" -> "siyosat"), for grouping."""
    if not category:
        return None
    return " ".join(fold(category).split()) or None


def index_folded(db: sqlite_utils.Database, row: dict[str, Any]) -> None:
    """(Re)write one article's row of the script-folded index articles_search."""
    db.execute("DELETE FROM articles_search WHERE rowid = ?", [row["id"]])
    db.execute("INSERT INTO articles_search (rowid, title, lead, body) VALUES (?, ?, ?, ?)",
               [row["id"], fold(row.get("title") or ""), fold(row.get("lead") or ""), fold(row.get("body") or "")])


def identity(url: str) -> str:
    """One key for a canonical URL and its slash variant."""
    return min(url_forms(url))


def version_row(article: dict[str, Any], article_url: str, seen_until: str | None) -> dict[str, Any]:
    """An article's current state as an article_versions row."""
    version = {k: article.get(k) for k in CONTENT_FIELDS}
    version.update(article_url=article_url, content_hash=article["content_hash"],
                   seen_from=article.get("last_changed_at") or article.get("first_seen_at"), seen_until=seen_until)
    return version
