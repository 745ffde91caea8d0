"""What the analyst commands read from the archive: filtered articles, one article with its related links and
earlier versions, the raw pages of a selection.

Every query of the reading side that touches where the body lives (`article_bodies`) or how related links and
versions point at their article (`related_links.article_id`, `article_versions.article_url`) is in this module,
so a schema change of those is made here once (see docs/architecture.md).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from typing import Any

from newscrawl.archive import category_key
from newscrawl.dates import time_bound
from newscrawl.schema import JSON_COLUMNS, RELATED_FIELDS

RELATED_KEY = "related_links"
"""The name of an article's related links everywhere: the table, the JSONL key, `show --json`."""
VERSIONS_KEY = "versions"
TWINS_KEY = "twins"


def article_filter(since: str | None = None, until: str | None = None, category: str | None = None,
                   alias: str = "") -> tuple[str, list[str]]:
    """A WHERE clause (possibly empty) and its parameters for --since/--until/--category.

    published_at is stored as ISO 8601 in +05:00, so bounds converted to +05:00 compare as strings
    and use the published_at index. A date --until includes that whole day. A category matches its
    category_key, so "Сиёсат", "Siyosat" and "siyosat" select the same articles.
    """
    prefix = f"{alias}." if alias else ""
    where: list[str] = []
    params: list[str] = []
    if since:
        where.append(f"{prefix}published_at >= ?")
        params.append(time_bound(since))
    if until:
        whole_day = len(until.strip()) == 10
        where.append(f"{prefix}published_at < ?" if whole_day else f"{prefix}published_at <= ?")
        params.append(time_bound(until, end_of_day=True))
    if category is not None:
        where.append(f"{prefix}category_key IS ?")
        params.append(category_key(category))  # type: ignore[arg-type]  # None matches articles with none
    return (" WHERE " + " AND ".join(where) if where else ""), params


def _connection(db: Any) -> sqlite3.Connection:
    return getattr(db, "conn", db)


def article_columns(db: Any) -> list[tuple[str, str]]:
    """(name, SQL expression) of every column of an article as readers show it, for `FROM articles a LEFT JOIN
    article_bodies b ON b.article_id = a.id`: the columns of the view `articles_full` (the pre-version-10 row,
    body included, in that order), then the article columns added since (story_key). Taken from the file itself,
    so an older archive is read as it is."""
    conn = _connection(db)
    full = [row[1] for row in conn.execute("PRAGMA table_info(articles_full)")]
    extra = [row[1] for row in conn.execute("PRAGMA table_info(articles)") if row[1] not in full]
    return [(c, "b.body" if c == "body" else f"a.{c}") for c in (*full, *extra)]


ARTICLE_FROM = "articles a LEFT JOIN article_bodies b ON b.article_id = a.id"
"""The FROM clause for article_columns(): the hot row and its body."""


def iter_articles(db: Any, *, since: str | None = None, until: str | None = None, category: str | None = None,
                  related: bool = True, decode_json: bool = True) -> Iterator[dict[str, Any]]:
    """Articles oldest first, JSON columns decoded (unless decode_json=False: then they stay JSON text), related
    links attached under RELATED_KEY. Rows come straight off a cursor; the related links come off a second cursor
    in the same order and are merged in, instead of one query per article."""
    conn = _connection(db)
    where, params = article_filter(since, until, category, alias="a")
    selected = ", ".join(f"{expr} AS {name}" for name, expr in article_columns(conn))
    cursor = conn.execute(f"SELECT {selected} FROM {ARTICLE_FROM}{where} ORDER BY a.published_at, a.id", params)
    columns = [d[0] for d in cursor.description]
    json_columns = [c for c in JSON_COLUMNS if c in columns] if decode_json else []
    links = _related_stream(conn, where, params) if related else None
    pending: tuple[Any, dict[str, Any]] | None = next(links, None) if links is not None else None
    loads = json.loads
    for values in cursor:
        row = dict(zip(columns, values, strict=True))
        for key in json_columns:
            if row[key] is not None:
                row[key] = loads(row[key])
        if links is not None:
            found = []
            article_id = row["id"]
            while pending is not None and pending[0] == article_id:
                found.append(pending[1])
                pending = next(links, None)
            row[RELATED_KEY] = found
        yield row


def _related_stream(conn: sqlite3.Connection, where: str, params: list[str]) -> Iterator[tuple[Any, dict[str, Any]]]:
    """(article id, link) for the selected articles' related links, in the articles' order and by position."""
    fields = ", ".join(f"r.{f}" for f in RELATED_FIELDS)
    cursor = conn.execute(f"SELECT r.article_id, {fields} FROM articles a JOIN related_links r "
                          f"ON r.article_id = a.id{where} ORDER BY a.published_at, a.id, r.position", params)
    for values in cursor:
        yield values[0], dict(zip(RELATED_FIELDS, values[1:], strict=True))


def article_json_lines(db: Any, *, since: str | None = None, until: str | None = None,
                       category: str | None = None) -> Iterator[str]:
    """The articles of iter_articles as JSON objects, one string each, made by SQLite's JSON functions: the JSON
    columns go out as stored (json()), the related links as an array under RELATED_KEY in position order.
    Built in SQLite's C code, this runs faster than even a bare `SELECT *` serialised by Python's json
    (bench/export.py), where decoding and re-encoding every row in Python ran at half that speed."""
    conn = _connection(db)
    values = ", ".join(f"'{c}', " + (f"json({expr})" if c in JSON_COLUMNS else expr)
                       for c, expr in article_columns(conn))
    link = "json_object(" + ", ".join(f"'{f}', r.{f}" for f in RELATED_FIELDS) + ")"
    # the inner ORDER BY walks the (article_id, position) key: json_group_array keeps the order it is fed. The
    # objects are made outside the subquery: a JSON value that crosses a subquery loses its JSON subtype and had
    # to be parsed again by json() (a fifth of the export's time at 100,000 articles: 600,000 links)
    links = (f"(SELECT json_group_array({link}) FROM (SELECT * FROM related_links "
             "WHERE article_id = a.id ORDER BY position) r)")
    where, params = article_filter(since, until, category, alias="a")
    sql = (f"SELECT json_object({values}, '{RELATED_KEY}', {links}) FROM {ARTICLE_FROM}{where} "
           "ORDER BY a.published_at, a.id")
    for (line,) in conn.execute(sql, params):
        yield line


def latest(db: Any, limit: int, category: str | None = None) -> list[dict[str, Any]]:
    """The newest `limit` articles by publication time (undated last): id, dates, category, title, url, lead."""
    conn = _connection(db)
    where, params = article_filter(category=category)
    cursor = conn.execute(
        "SELECT id, published_at, published_precision, category, category_key, title, url, lead FROM articles"
        f"{where} ORDER BY published_at IS NULL, published_at DESC, id DESC LIMIT ?", [*params, limit])
    columns = [d[0] for d in cursor.description]
    return [dict(zip(columns, values, strict=True)) for values in cursor]


def find_article(archive: Any, key: str) -> dict[str, Any] | None:
    """The whole article (body included, JSON columns decoded) by its id or any form of its URL (slash variant,
    redirect alias), or None. `archive` is a newscrawl.archive.Archive."""
    from newscrawl.urls import canonical_url
    conn = _connection(archive.db)
    selected = ", ".join(f"{expr} AS {name}" for name, expr in article_columns(conn))
    if key.strip().isdigit():
        cursor = conn.execute(f"SELECT {selected} FROM {ARTICLE_FROM} WHERE a.id = ?", [int(key)])
    else:
        cursor = conn.execute(f"SELECT {selected} FROM {ARTICLE_FROM} WHERE a.url = ?",
                              [archive.resolve_url(canonical_url(key))])
    values = cursor.fetchone()
    if values is None:
        return None
    row = dict(zip([d[0] for d in cursor.description], values, strict=True))
    for column in JSON_COLUMNS:
        if row.get(column) is not None:
            row[column] = json.loads(row[column])
    return row


def related_links(db: Any, article: dict[str, Any]) -> list[dict[str, Any]]:
    """The article's related links by position, each with `archived_id`: the id of the linked article when it is
    archived too (None otherwise)."""
    conn = _connection(db)
    fields = ", ".join(f"r.{f}" for f in RELATED_FIELDS)
    cursor = conn.execute(f"SELECT {fields}, a.id FROM related_links r LEFT JOIN articles a ON a.url = r.url "
                          "WHERE r.article_id = ? ORDER BY r.position", [article["id"]])
    return [{**dict(zip(RELATED_FIELDS, values[:-1], strict=True)), "archived_id": values[-1]} for values in cursor]


def story_count_sql(db: Any) -> str:
    """The aggregate that counts stories, not copies, over `articles` rows (newscrawl.stories.STORY_COUNT_SQL), or
    count(*) on an archive from before story keys (schema 11), read as it is."""
    from newscrawl.stories import STORY_COUNT_SQL
    conn = _connection(db)
    has_key = any(row[1] == "story_key" for row in conn.execute("PRAGMA table_info(articles)"))
    return STORY_COUNT_SQL if has_key else "count(*)"


def twins(db: Any, article: dict[str, Any]) -> list[dict[str, Any]]:
    """The other versions of the article's story (the same story in the other script: docs/stories.md)."""
    if article.get("story_key") is None:
        return []
    conn = _connection(db)
    cursor = conn.execute("SELECT id, url, title, script, published_at FROM articles WHERE story_key = ? "
                          "AND id != ? ORDER BY id", [article["story_key"], article["id"]])
    columns = [d[0] for d in cursor.description]
    return [dict(zip(columns, values, strict=True)) for values in cursor]


def versions(db: Any, article: dict[str, Any]) -> list[dict[str, Any]]:
    """Earlier states of the article, oldest first (article_versions): when each was seen and its fields."""
    conn = _connection(db)
    cursor = conn.execute("SELECT * FROM article_versions WHERE article_url = ? ORDER BY seen_from, id",
                          [article["url"]])
    columns = [d[0] for d in cursor.description]
    return [{k: v for k, v in zip(columns, values, strict=True) if k != "article_url"} for values in cursor]


def page_rows(db: Any, *, since: str | None = None, until: str | None = None,
              category: str | None = None) -> Iterator[dict[str, Any]]:
    """Stored raw pages in fetch order; with a filter, only the pages of the articles it selects (by the
    article's URL or the URL a redirect ended on)."""
    conn = _connection(db)
    where, params = article_filter(since, until, category)
    sql = "SELECT * FROM pages"
    if where:
        sql += (f" WHERE url IN (SELECT url FROM articles{where}) OR final_url IN (SELECT url FROM articles{where})")
        params = params * 2
    cursor = conn.execute(sql + " ORDER BY id", params)
    columns = [d[0] for d in cursor.description]
    for values in cursor:
        yield dict(zip(columns, values, strict=True))
