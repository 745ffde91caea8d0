"""Field-by-field comparison of an archived article with the demo site's ground truth."""

from __future__ import annotations

import json
from datetime import datetime
import re
import sqlite3
from pathlib import Path

from newscrawl.demo.site import ExpectedArticle

ISO_WITH_OFFSET = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2})?[+-]\d{2}:\d{2}$")


AGO = re.compile(r"олдин|oldin|назад|ago\b", re.IGNORECASE)


def _ago(text: str | None) -> bool:
    """"3 соат олдин" names a moment relative to the fetch: a page rendered a minute before the fetch reads a
    minute later, so such dates are compared to the minute within two minutes."""
    return bool(text and AGO.search(text))


def connect(db: Path) -> sqlite3.Connection:
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    con.row_factory = sqlite3.Row
    return con


def mismatches(con: sqlite3.Connection, base: str, expected: ExpectedArticle) -> list[str]:
    """Every field of the archived row that differs from the ground truth, as readable lines."""
    row = con.execute("SELECT * FROM articles_full WHERE url = ?", [base + expected.path]).fetchone()
    if row is None:
        return [f"{expected.path}: not archived"]
    image = expected.image_url
    want = {
        "title": expected.title, "lead": expected.lead, "body": "\n\n".join(expected.body),
        "published_at": expected.published_at.isoformat() if expected.published_at else None,
        "modified_at": expected.modified_at.isoformat() if expected.modified_at else None,
        "author": expected.author, "category": expected.category,
        "tags": json.dumps(expected.tags, ensure_ascii=False), "language": expected.language,
        "script": expected.script, "image_url": base + image if image and image.startswith("/") else image,
    }
    problems = json.loads(row["problems"])
    if expected.published_text and not any(expected.published_text in p.get("detail", "") for p in problems):
        want["published_text"] = expected.published_text
    if _ago(row["published_text"]) and row["published_at"] and want["published_at"]:
        drift = datetime.fromisoformat(row["published_at"]) - datetime.fromisoformat(want["published_at"])
        if abs(drift.total_seconds()) <= 120:
            want["published_at"] = row["published_at"]
    found = [f"{expected.path} {k}: got {row[k]!r}, want {v!r}" for k, v in want.items() if row[k] != v]
    related = [(r["url"], r["title"]) for r in con.execute(
        "SELECT url, title FROM related_links WHERE article_id = ? ORDER BY position", [row["id"]])]
    if related != [(base + p, t) for p, t in expected.related]:
        found.append(f"{expected.path} related: got {related}, want {expected.related}")
    return found


def folded_index(con: sqlite3.Connection) -> list[tuple[int, str, str, str]]:
    """What the contentless folded index articles_search holds, per article: (rowid, title, lead, body), each
    the indexed terms in order joined by spaces (read with fts5vocab, since the index keeps no text)."""
    con.execute("CREATE VIRTUAL TABLE IF NOT EXISTS temp.folded_terms USING fts5vocab(main, articles_search, "
                "'instance')")
    found: dict[int, dict[str, list[str]]] = {}
    for term, doc, col, _ in con.execute("SELECT term, doc, col, offset FROM temp.folded_terms "
                                         "ORDER BY doc, col, offset"):
        found.setdefault(doc, {}).setdefault(col, []).append(term)
    return [(doc, *(" ".join(cols.get(c, [])) for c in ("title", "lead", "body"))) for doc, cols in found.items()]
