"""What the article page, the compact table and the search page read from an archive (sync, one connection).

The functions take a sqlite3 connection (Datasette runs them with `Database.execute_fn`) and read both the
current schema and the compact one (migration 0010: body in `article_bodies`, related links keyed by
`article_id`): each asks the archive which layout it has, so the pages work before and after that migration.
The story key (migration 0011) is used only where the column exists.
"""

from __future__ import annotations

import difflib
import html
import re
import sqlite3
from collections.abc import Iterable
from typing import Any

from newscrawl.schema import CONTENT_FIELDS
from newscrawl.search import WHITESPACE_RE, _mark, _matches, build_match, parse_query, snippet

# Placeholders around a highlighted word: characters no article contains, swapped for <mark> after escaping.
MARK = ("\x02", "\x03")
SEARCH_PAGE_SIZE = 50
DIFF_CONTEXT_WORDS = 12


def columns(conn: sqlite3.Connection, table: str) -> list[str]:
    return [row[1] for row in conn.execute(f"PRAGMA table_info([{table}])")]


def has_table(conn: sqlite3.Connection, name: str) -> bool:
    return conn.execute("SELECT 1 FROM sqlite_master WHERE name = ?", [name]).fetchone() is not None


def bodies(conn: sqlite3.Connection, ids: Iterable[int]) -> dict[int, str]:
    """Article id -> body, from `article_bodies` (compact schema) or `articles.body` (before 0010)."""
    wanted = [int(i) for i in ids]
    if not wanted:
        return {}
    marks = ",".join("?" * len(wanted))
    if has_table(conn, "article_bodies"):
        sql = f"SELECT article_id, body FROM article_bodies WHERE article_id IN ({marks})"
    else:
        sql = f"SELECT id, body FROM articles WHERE id IN ({marks})"
    return {row[0]: row[1] or "" for row in conn.execute(sql, wanted)}


def paragraphs(text: str | None) -> list[str]:
    """The body's paragraphs: the archive separates them with one blank line."""
    return [p.strip() for p in re.split(r"\n\s*\n", text or "") if p.strip()]


def highlight_html(text: str) -> str:
    """Escape text that carries MARK placeholders and turn the placeholders into <mark> elements."""
    return html.escape(text).replace(MARK[0], "<mark>").replace(MARK[1], "</mark>")


def snippet_html(query: str, *texts: str | None) -> str:
    """A short raw-text snippet around the first word a query word begins, the matching words in <mark>."""
    terms = parse_query(query or "").terms
    return highlight_html(snippet(tuple(texts), terms, MARK)) if terms else html.escape((texts[0] or "")[:200])


def mark_all_html(query: str, text: str | None) -> str:
    """The whole text (a title), every word a query word begins in <mark>."""
    terms = parse_query(query or "").terms
    parts = WHITESPACE_RE.split(text or "")
    return highlight_html(" ".join(_mark(p, MARK) if p and _matches(p, terms) else p for p in parts))


def _dicts(cursor: sqlite3.Cursor) -> list[dict[str, Any]]:
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor]


def word_diff(old: str | None, new: str | None) -> list[tuple[str, str]]:
    """(kind, text) runs that turn `old` into `new` word by word: kind is '=', '-' or '+'; long unchanged runs
    are cut to their ends, so a one-word edit in a long body shows as one line."""
    a, b = (old or "").split(), (new or "").split()
    runs: list[tuple[str, str]] = []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(a=a, b=b, autojunk=False).get_opcodes():
        if op == "equal":
            words = a[i1:i2]
            if len(words) > 2 * DIFF_CONTEXT_WORDS:
                words = [*words[:DIFF_CONTEXT_WORDS], "…", *words[-DIFF_CONTEXT_WORDS:]]
            runs.append(("=", " ".join(words)))
            continue
        if i2 > i1:
            runs.append(("-", " ".join(a[i1:i2])))
        if j2 > j1:
            runs.append(("+", " ".join(b[j1:j2])))
    return runs


def _version_key(conn: sqlite3.Connection, article: dict[str, Any]) -> tuple[str, Any]:
    """How article_versions names its article: by id where the schema has article_id, else by URL."""
    return ("article_id", article["id"]) if "article_id" in columns(conn, "article_versions") \
        else ("article_url", article["url"])


def article_page(conn: sqlite3.Connection, article_id: int) -> dict[str, Any] | None:
    """Everything the article page shows, or None when there is no such article."""
    found = _dicts(conn.execute("SELECT * FROM articles WHERE id = ?", [article_id]))
    if not found:
        return None
    article = found[0]
    body = article["body"] if "body" in article else bodies(conn, [article_id]).get(article_id, "")
    article["body"] = body
    by_id = "article_id" in columns(conn, "related_links")
    # The card's target is archived under its own URL or under an alias (a redirect's source, another spelling).
    related = _dicts(conn.execute(
        "SELECT r.*, coalesce(t.id, (SELECT a.id FROM url_aliases u JOIN articles a ON a.url = u.url "
        "WHERE u.alias = r.url)) AS archived_id FROM related_links r LEFT JOIN articles t ON t.url = r.url "
        + ("WHERE r.article_id = ?" if by_id else "WHERE r.article_url = ?") + " ORDER BY r.position",
        [article["id"] if by_id else article["url"]]))
    linked_from = _dicts(conn.execute(
        "SELECT DISTINCT a.id, a.title, a.published_at FROM related_links r JOIN articles a ON "
        + ("a.id = r.article_id" if by_id else "a.url = r.article_url")
        + " WHERE r.url = ? ORDER BY a.published_at DESC LIMIT 20", [article["url"]]))
    column, value = _version_key(conn, article)
    versions = _dicts(conn.execute(f"SELECT * FROM article_versions WHERE {column} = ? ORDER BY seen_from DESC",
                                   [value]))
    # Each version is compared with the one that replaced it (the newest with the current article).
    newer: dict[str, Any] = article
    for version in versions:
        version["changes"] = [(field, word_diff(version[field], newer[field])) for field in CONTENT_FIELDS
                              if (version[field] or "") != (newer[field] or "")]
        newer = version
    twins: list[dict[str, Any]] = []
    if article.get("story_key"):
        twins = _dicts(conn.execute("SELECT id, title, script, language, url FROM articles "
                                    "WHERE story_key = ? AND id != ? ORDER BY id", [article["story_key"], article_id]))
    return {"article": article, "paragraphs": paragraphs(body), "related": related, "linked_from": linked_from,
            "versions": versions, "twins": twins}


def search_page(conn: sqlite3.Connection, query: str, page: int = 1) -> dict[str, Any]:
    """Matches of `query` in the folded index, newest first, one page of SEARCH_PAGE_SIZE with snippets."""
    expression = build_match(query or "")
    if expression is None or not has_table(conn, "articles_search"):
        return {"query": query, "hits": [], "total": 0, "page": 1, "pages": 0}
    total = conn.execute("SELECT count(*) FROM articles_search WHERE articles_search MATCH ?",
                         [expression]).fetchone()[0]
    pages = max(1, -(-total // SEARCH_PAGE_SIZE))
    page = min(max(1, page), pages)
    # `+a.id` keeps SQLite from looking up every match by rowid and sorting them all (20 ms for 11,000 matches
    # at 20k articles): it walks the published_at index newest first and stops at the page (1-2 ms, any query).
    # Articles without a date sort last (NULL is the smallest value).
    hits = _dicts(conn.execute(
        "SELECT a.* FROM articles a WHERE +a.id IN "
        "(SELECT rowid FROM articles_search WHERE articles_search MATCH ?) "
        "ORDER BY a.published_at DESC LIMIT ? OFFSET ?",
        [expression, SEARCH_PAGE_SIZE, (page - 1) * SEARCH_PAGE_SIZE]))
    texts = bodies(conn, [h["id"] for h in hits]) if hits and "body" not in hits[0] else {}
    for hit in hits:
        hit["title_html"] = mark_all_html(query, hit["title"])
        hit["snippet"] = snippet_html(query, hit["lead"], hit.get("body", texts.get(hit["id"])), hit["title"])
    return {"query": query, "hits": hits, "total": total, "page": page, "pages": pages}
