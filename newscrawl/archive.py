"""The SQLite archive: the only module that owns the schema, its migrations and every write."""

from __future__ import annotations

import fcntl
import gzip
import hashlib
import json
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import sqlite_utils
from sqlite_utils import Migrations

from newscrawl.translit import fold

SCHEMA = Migrations("newscrawl")
CONTENT_FIELDS = ("title", "lead", "body", "published_at", "modified_at", "author")
ARTICLE_COLUMNS = ("url", "canonical_url", "title", "lead", "body", "published_at", "published_precision",
                   "published_text", "modified_at", "modified_text", "fetched_at", "category", "author", "image_url",
                   "language", "script", "tags", "extraction", "problems")
RELATED_COLUMNS = ("url", "title", "category", "published_at", "published_precision", "published_text", "lead",
                   "image_url", "position")
RAW_COMPRESSION = "gzip"

class ArchiveError(RuntimeError):
    """The archive file cannot be opened or written; the message names the file."""

@SCHEMA(name="0001_articles")
def _m0001_articles(db: sqlite_utils.Database) -> None:
    db["articles"].create({
        "id": int, "url": str, "canonical_url": str, "title": str, "lead": str, "body": str,
        "published_at": str, "published_text": str, "modified_at": str, "fetched_at": str,
        "category": str, "author": str, "image_url": str, "language": str, "tags": str,
    }, pk="id", not_null={"url"})
    db["articles"].create_index(["url"], unique=True)
    db["articles"].create_index(["published_at"])
    db["related_links"].create({
        "article_url": str, "position": int, "url": str, "title": str, "category": str,
        "published_at": str, "published_text": str, "lead": str,
    }, pk=("article_url", "position"))
    db["related_links"].create_index(["url"])

@SCHEMA(name="0002_history")
def _m0002_history(db: sqlite_utils.Database) -> None:
    articles = db["articles"]
    for column in ("published_precision", "modified_text", "script", "extraction", "problems", "content_hash",
                   "first_seen_at", "last_seen_at", "last_changed_at", "etag", "last_modified"):
        articles.add_column(column, str)
    db.execute("UPDATE articles SET first_seen_at = fetched_at, last_seen_at = fetched_at, "
               "last_changed_at = fetched_at, extraction = '{}', problems = '[]'")
    for row in list(articles.rows):
        articles.update(row["id"], {"content_hash": content_hash(row), "script": None})
    db["related_links"].add_column("image_url", str)
    db["pages"].create({
        "id": int, "url": str, "final_url": str, "status": int, "headers": str, "fetched_at": str,
        "last_fetched_at": str, "sha256": str, "size": int, "compression": str, "body": bytes,
    }, pk="id")
    db["pages"].create_index(["final_url", "sha256"], unique=True)
    db["article_versions"].create({
        "id": int, "article_url": str, "seen_from": str, "seen_until": str, "content_hash": str,
        "title": str, "lead": str, "body": str, "published_at": str, "modified_at": str, "author": str,
    }, pk="id")
    db["article_versions"].create_index(["article_url"])
    db["crawls"].create({
        "id": int, "spider": str, "site": str, "start_url": str, "started_at": str, "finished_at": str,
        "status": str, "exit_code": int, "reason": str, "requests": int, "pages_fetched": int,
        "not_modified": int, "items_new": int, "items_updated": int, "items_unchanged": int,
        "items_dropped": int, "drop_reasons": str, "errors": int, "error_share": float, "drift": str,
        "duration_s": float,
    }, pk="id")
    db["missing_pages"].create({
        "url": str, "status": int, "first_failed_at": str, "last_failed_at": str, "attempts": int,
    }, pk="url")

@SCHEMA(name="0003_search")
def _m0003_search(db: sqlite_utils.Database) -> None:
    db["articles"].enable_fts(["title", "lead", "body"], fts_version="FTS5", create_triggers=True,
                              tokenize="unicode61 remove_diacritics 2")
    db.execute("CREATE VIRTUAL TABLE articles_search USING fts5(title, lead, body, "
               "tokenize='unicode61 remove_diacritics 2')")
    db.execute("CREATE TRIGGER articles_search_ad AFTER DELETE ON articles BEGIN "
               "DELETE FROM articles_search WHERE rowid = old.id; END")
    for row in db.query("SELECT id, title, lead, body FROM articles"):
        _index_folded(db, row)

@SCHEMA(name="0004_related_precision")
def _m0004_related_precision(db: sqlite_utils.Database) -> None:
    db["related_links"].add_column("published_precision", str)
    db.execute("UPDATE related_links SET published_precision = CASE WHEN published_at IS NULL THEN NULL "
               "WHEN published_text GLOB '*[0-9]:[0-9][0-9]*' THEN 'minute' ELSE 'day' END")


@SCHEMA(name="0005_category_key")
def _m0005_category_key(db: sqlite_utils.Database) -> None:
    db["articles"].add_column("category_key", str)
    for row in list(db.query("SELECT id, category FROM articles WHERE category IS NOT NULL")):
        db.execute("UPDATE articles SET category_key = ? WHERE id = ?", [category_key(row["category"]), row["id"]])
    db["articles"].create_index(["category_key"])


@SCHEMA(name="0007_skipped_pages")
def _m0007_skipped_pages(db: sqlite_utils.Database) -> None:
    db["skipped_pages"].create({
        "url": str, "reason": str, "detail": str, "status": int, "content_type": str,
        "first_skipped_at": str, "last_skipped_at": str, "attempts": int,
    }, pk=("url", "reason"))


def category_key(category: str | None) -> str | None:
    """The category folded across scripts and apostrophes ("Сиёсат", "Siyosat" -> "siyosat"), for grouping."""
    if not category:
        return None
    return " ".join(fold(category).split()) or None


def content_hash(row: dict[str, Any]) -> str:
    """sha256 over the fields whose change makes a new version."""
    payload = json.dumps([row.get(k) for k in CONTENT_FIELDS], ensure_ascii=False)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()

def _index_folded(db: sqlite_utils.Database, row: dict[str, Any]) -> None:
    db.execute("DELETE FROM articles_search WHERE rowid = ?", [row["id"]])
    db.execute("INSERT INTO articles_search (rowid, title, lead, body) VALUES (?, ?, ?, ?)",
               [row["id"], fold(row.get("title") or ""), fold(row.get("lead") or ""), fold(row.get("body") or "")])

def utc_now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")

@dataclass(frozen=True)
class KnownArticle:
    """What the spider needs to decide whether to fetch an archived article again."""

    url: str
    published_at: str | None
    etag: str | None
    last_modified: str | None

class Archive:
    """An open archive file. Every write is one transaction, so a killed process leaves a consistent file."""

    def __init__(self, path: str | Path, *, readonly: bool = False) -> None:
        self.path = Path(path)
        try:
            if readonly:
                if not self.path.exists():
                    raise ArchiveError(f"archive {self.path} does not exist")
                conn = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True)
            else:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                conn = sqlite3.connect(str(self.path))
            conn.execute("PRAGMA busy_timeout = 10000")
            self.db = sqlite_utils.Database(conn)
            if not readonly:
                self.db.enable_wal()
                self.db.execute("PRAGMA synchronous = NORMAL")
                self._migrate()
        except sqlite3.DatabaseError as exc:
            raise ArchiveError(f"archive {self.path}: {exc}") from exc

    def _migrate(self) -> None:
        """Apply pending migrations, one process at a time (the crawl and its worker may open a new file together)."""
        with open(f"{self.path}.migrate-lock", "a+") as guard:
            fcntl.flock(guard, fcntl.LOCK_EX)
            if SCHEMA.pending(self.db):
                SCHEMA.apply(self.db)
            version = len(SCHEMA.applied(self.db))
            if self.db.execute("PRAGMA user_version").fetchone()[0] != version:
                self.db.execute(f"PRAGMA user_version = {version}")

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> Archive:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def schema_version(self) -> int:
        return self.db.execute("PRAGMA user_version").fetchone()[0]

    def upsert_article(self, article: dict[str, Any], *, record_version: bool = True,
                       raw_page: dict[str, Any] | None = None) -> str:
        """Insert or update one article (with its raw page, if given) and replace its related links, all in one
        transaction; returns "new", "updated" or "unchanged"."""
        row = {k: article.get(k) for k in ARTICLE_COLUMNS}
        for key in ("tags", "extraction", "problems"):
            row[key] = json.dumps(row[key] if row[key] is not None else ([] if key != "extraction" else {}),
                                  ensure_ascii=False)
        row["content_hash"] = content_hash(row)
        row["category_key"] = category_key(row["category"])
        seen = row["fetched_at"] or utc_now()
        for key in ("etag", "last_modified"):
            if key in article:
                row[key] = article[key]
        with self.db.conn:
            if raw_page is not None:
                self._store_page(**raw_page)
            existing = next(self.db.query("SELECT * FROM articles WHERE url = ?", [row["url"]]), None)
            if existing is None:
                row.update(first_seen_at=seen, last_seen_at=seen, last_changed_at=seen)
                article_id = self._insert("articles", row)
                outcome = "new"
            else:
                article_id = existing["id"]
                outcome = "unchanged"
                row["last_seen_at"] = max(seen, existing["last_seen_at"] or seen)
                if existing["content_hash"] != row["content_hash"]:
                    outcome = "updated"
                    if record_version:
                        self._record_version(existing, seen)
                        row["last_changed_at"] = seen
                assignments = ", ".join(f"{k} = ?" for k in row)
                self.db.execute(f"UPDATE articles SET {assignments} WHERE id = ?", [*row.values(), article_id])
            _index_folded(self.db, {"id": article_id, **row})
            self._replace_related(row["url"], article.get("related") or [])
        return outcome

    def _record_version(self, existing: dict[str, Any], seen_until: str) -> None:
        version = {k: existing.get(k) for k in CONTENT_FIELDS}
        version.update(article_url=existing["url"], content_hash=existing["content_hash"],
                       seen_from=existing.get("last_changed_at") or existing.get("first_seen_at"), seen_until=seen_until)
        self.db["article_versions"].insert(version)

    def _replace_related(self, article_url: str, related: list[dict[str, Any]]) -> None:
        self.db.execute("DELETE FROM related_links WHERE article_url = ?", [article_url])
        if related:
            columns = ", ".join(("article_url", *RELATED_COLUMNS))
            marks = ", ".join("?" * (len(RELATED_COLUMNS) + 1))
            self.db.conn.executemany(f"INSERT INTO related_links ({columns}) VALUES ({marks})",
                                     [[article_url, *(link.get(k) for k in RELATED_COLUMNS)] for link in related])

    def touch_article(self, url: str, seen_at: str) -> None:
        """Record that an archived article was confirmed unchanged (HTTP 304) at seen_at."""
        with self.db.conn:
            self.db.execute("UPDATE articles SET last_seen_at = ? WHERE url = ?", [seen_at, url])

    def store_page(self, *, url: str, final_url: str, status: int, headers: dict[str, str], body: bytes,
                   fetched_at: str) -> int:
        """Keep a fetched response; an identical body for the same URL only moves last_fetched_at."""
        with self.db.conn:
            return self._store_page(url=url, final_url=final_url, status=status, headers=headers, body=body,
                                    fetched_at=fetched_at)

    def _store_page(self, *, url: str, final_url: str, status: int, headers: dict[str, str], body: bytes,
                    fetched_at: str) -> int:
        digest = hashlib.sha256(body).hexdigest()
        found = next(self.db.query("SELECT id FROM pages WHERE final_url = ? AND sha256 = ?",
                                   [final_url, digest]), None)
        if found:
            self.db.execute("UPDATE pages SET last_fetched_at = ?, status = ? WHERE id = ?",
                            [fetched_at, status, found["id"]])
            return found["id"]
        return self._insert("pages", {
            "url": url, "final_url": final_url, "status": status,
            "headers": json.dumps(headers, ensure_ascii=False), "fetched_at": fetched_at,
            "last_fetched_at": fetched_at, "sha256": digest, "size": len(body),
            "compression": RAW_COMPRESSION, "body": compress(body),
        })

    def _insert(self, table: str, row: dict[str, Any]) -> int:
        """A plain INSERT on the hot path (sqlite-utils' insert re-reads the table's schema on every call)."""
        sql = f"INSERT INTO {table} ({', '.join(row)}) VALUES ({', '.join('?' * len(row))})"
        return self.db.execute(sql, list(row.values())).lastrowid

    def latest_pages(self, *, since: str | None = None, url: str | None = None) -> Iterator[dict[str, Any]]:
        """The newest stored page per URL (body decompressed), optionally filtered."""
        where, params = ["status < 400"], []
        if since:
            where.append("last_fetched_at >= ?")
            params.append(since)
        if url:
            where.append("(final_url = ? OR url = ?)")
            params.extend([url, url])
        sql = (f"SELECT * FROM pages WHERE id IN (SELECT max(id) FROM pages WHERE {' AND '.join(where)} "
               "GROUP BY final_url) ORDER BY id")
        for row in self.db.query(sql, params):
            row["body"] = decompress(row["body"], row["compression"])
            row["headers"] = json.loads(row["headers"] or "{}")
            yield row

    def known_articles(self) -> dict[str, KnownArticle]:
        rows = self.db.query("SELECT url, published_at, etag, last_modified FROM articles")
        return {r["url"]: KnownArticle(**r) for r in rows}

    def record_missing(self, url: str, status: int, failed_at: str) -> None:
        """Remember an article link that answered 404/410, so unchanged listings do not re-fetch it every run."""
        with self.db.conn:
            self.db.execute(
                "INSERT INTO missing_pages (url, status, first_failed_at, last_failed_at, attempts) "
                "VALUES (?, ?, ?, ?, 1) ON CONFLICT(url) DO UPDATE SET status = excluded.status, "
                "last_failed_at = excluded.last_failed_at, attempts = attempts + 1", [url, status, failed_at, failed_at])

    def record_skipped(self, *, url: str, reason: str, detail: str, fetched_at: str, status: int | None = None,
                       content_type: str | None = None) -> None:
        """Remember a page left out for breaking a limit or not being HTML, with why; repeats count attempts."""
        with self.db.conn:
            self.db.execute(
                "INSERT INTO skipped_pages (url, reason, detail, status, content_type, first_skipped_at, "
                "last_skipped_at, attempts) VALUES (?, ?, ?, ?, ?, ?, ?, 1) ON CONFLICT(url, reason) DO UPDATE SET "
                "detail = excluded.detail, status = excluded.status, content_type = excluded.content_type, "
                "last_skipped_at = excluded.last_skipped_at, attempts = attempts + 1",
                [url, reason, detail, status, content_type, fetched_at, fetched_at])

    def missing_since(self) -> dict[str, str]:
        """URL -> when it last failed, for links that answered 404/410 and have not been archived since."""
        return {r["url"]: r["last_failed_at"] for r in self.db.query(
            "SELECT url, last_failed_at FROM missing_pages WHERE url NOT IN (SELECT url FROM articles)")}

    def last_crawl(self, spider: str, start_url: str | None) -> dict[str, Any] | None:
        return next(self.db.query("SELECT * FROM crawls WHERE spider = ? AND start_url IS ? ORDER BY id DESC "
                                  "LIMIT 1", [spider, start_url]), None)

    def article(self, url: str) -> dict[str, Any] | None:
        return next(self.db.query("SELECT * FROM articles WHERE url = ?", [url]), None)

    def start_crawl(self, *, spider: str, site: str | None, start_url: str | None) -> int:
        with self.db.conn:
            self.db.execute("UPDATE crawls SET status = 'killed', reason = 'process ended without finishing' "
                            "WHERE status = 'running'")
            return self.db["crawls"].insert({"spider": spider, "site": site, "start_url": start_url,
                                             "started_at": utc_now(), "status": "running"}).last_pk

    def finish_crawl(self, crawl_id: int, values: dict[str, Any]) -> None:
        row = dict(values)
        for key in ("drop_reasons", "drift"):
            if row.get(key) is not None and not isinstance(row[key], str):
                row[key] = json.dumps(row[key], ensure_ascii=False)
        row.setdefault("finished_at", utc_now())
        with self.db.conn:
            self.db["crawls"].update(crawl_id, row)

def compress(body: bytes) -> bytes:
    return gzip.compress(body, compresslevel=6)

def decompress(blob: bytes, compression: str | None) -> bytes:
    if compression == "gzip":
        return gzip.decompress(blob)
    if compression in (None, "", "none"):
        return blob
    raise ArchiveError(f"unknown page compression {compression!r}")
