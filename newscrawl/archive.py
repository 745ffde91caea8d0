"""The SQLite archive: the only module that owns the schema, its migrations and every write."""

from __future__ import annotations

import bisect
import fcntl
import hashlib
import json
import sqlite3
import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, fields
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, cast
from urllib.parse import urlsplit

import sqlite_utils
from sqlite_utils import Migrations

from newscrawl import codec, stories
from newscrawl.dates import TASHKENT
from newscrawl.lock import lock_path
from newscrawl.migrations import archive_v1, compact_v1, problems_v1, stories_v1, urls_v1
from newscrawl.schema import (BODY_COLUMNS, CONTENT_FIELDS, DERIVED_COLUMNS, EXTRACTED_COLUMNS, JSON_COLUMNS,
                              RELATED, RELATED_FIELDS)
from newscrawl.translit import fold
from newscrawl.urls import canonical_url, url_forms

# Migrations are frozen in time: they call only the copies in newscrawl/migrations/, never the live functions
# below (fold, canonical_url, content_hash, ...), so what an old migration does never changes.
SCHEMA = Migrations("newscrawl")

# What the first bytes of every SQLite 3 database file are (https://www.sqlite.org/fileformat.html).
SQLITE_MAGIC = b"SQLite format 3\x00"
SQLITE_HEADER_SIZE = 100
SQLITE_COMPANION_SUFFIXES = ("-wal", "-shm", "-journal")
MIGRATE_LOCK_SUFFIX = ".migrate-lock"
# SQLite's name for a database that lives in memory only
IN_MEMORY = ":memory:"
# How long a command about to write may spend on SQLite's quick_check up front: all of a small archive, the start
# of a huge one (damage further in is reported by the query that meets it).
QUICK_CHECK_SECONDS = 2.0
# The same for a command that only reads: it must answer in well under a second at a million articles (issue 12
# measured 240 ms of quick_check at 5,000 articles), and damage past the start is still one clear line when a
# query reaches it (cli.main reports sqlite3.DatabaseError without a traceback), with nothing written.
READ_QUICK_CHECK_SECONDS = 0.05
MAX_QUERY_URLS = 500
"""URLs bound in one `IN (...)` query at most (SQLite allows 32,766 variables; a listing has up to 500 cards, two
forms each)."""


class ArchiveError(RuntimeError):
    """The archive file cannot be opened or written; the message names the file."""


class ArchiveMissing(ArchiveError):
    """A command that only reads (or only updates) was given a path with no archive."""


class NotAnArchive(ArchiveError):
    """The file is not SQLite, is damaged, or is some other application's database: nothing touched it."""


class ArchiveTooNew(ArchiveError):
    """The archive was migrated by a newer newscrawl: this code must not read its schema as its own or write to it."""

@SCHEMA(name="0001_articles")
def _m0001_articles(db: sqlite_utils.Database) -> None:
    db.table("articles").create({
        "id": int, "url": str, "canonical_url": str, "title": str, "lead": str, "body": str,
        "published_at": str, "published_text": str, "modified_at": str, "fetched_at": str,
        "category": str, "author": str, "image_url": str, "language": str, "tags": str,
    }, pk="id", not_null={"url"})
    db.table("articles").create_index(["url"], unique=True)
    db.table("articles").create_index(["published_at"])
    db.table("related_links").create({
        "article_url": str, "position": int, "url": str, "title": str, "category": str,
        "published_at": str, "published_text": str, "lead": str,
    }, pk=("article_url", "position"))
    db.table("related_links").create_index(["url"])

@SCHEMA(name="0002_history")
def _m0002_history(db: sqlite_utils.Database) -> None:
    articles = db.table("articles")
    for column in ("published_precision", "modified_text", "script", "extraction", "problems", "content_hash",
                   "first_seen_at", "last_seen_at", "last_changed_at", "etag", "last_modified"):
        articles.add_column(column, str)
    db.execute("UPDATE articles SET first_seen_at = fetched_at, last_seen_at = fetched_at, "
               "last_changed_at = fetched_at, extraction = '{}', problems = '[]'")
    for row in list(articles.rows):
        articles.update(row["id"], {"content_hash": archive_v1.content_hash(row), "script": None})
    db.table("related_links").add_column("image_url", str)
    db.table("pages").create({
        "id": int, "url": str, "final_url": str, "status": int, "headers": str, "fetched_at": str,
        "last_fetched_at": str, "sha256": str, "size": int, "compression": str, "body": bytes,
    }, pk="id")
    db.table("pages").create_index(["final_url", "sha256"], unique=True)
    db.table("article_versions").create({
        "id": int, "article_url": str, "seen_from": str, "seen_until": str, "content_hash": str,
        "title": str, "lead": str, "body": str, "published_at": str, "modified_at": str, "author": str,
    }, pk="id")
    db.table("article_versions").create_index(["article_url"])
    db.table("crawls").create({
        "id": int, "spider": str, "site": str, "start_url": str, "started_at": str, "finished_at": str,
        "status": str, "exit_code": int, "reason": str, "requests": int, "pages_fetched": int,
        "not_modified": int, "items_new": int, "items_updated": int, "items_unchanged": int,
        "items_dropped": int, "drop_reasons": str, "errors": int, "error_share": float, "drift": str,
        "duration_s": float,
    }, pk="id")
    db.table("missing_pages").create({
        "url": str, "status": int, "first_failed_at": str, "last_failed_at": str, "attempts": int,
    }, pk="url")

@SCHEMA(name="0003_search")
def _m0003_search(db: sqlite_utils.Database) -> None:
    db.table("articles").enable_fts(["title", "lead", "body"], fts_version="FTS5", create_triggers=True,
                                    tokenize="unicode61 remove_diacritics 2")
    db.execute("CREATE VIRTUAL TABLE articles_search USING fts5(title, lead, body, "
               "tokenize='unicode61 remove_diacritics 2')")
    db.execute("CREATE TRIGGER articles_search_ad AFTER DELETE ON articles BEGIN "
               "DELETE FROM articles_search WHERE rowid = old.id; END")
    for row in db.query("SELECT id, title, lead, body FROM articles"):
        archive_v1.index_folded(db, row)

@SCHEMA(name="0004_related_precision")
def _m0004_related_precision(db: sqlite_utils.Database) -> None:
    db.table("related_links").add_column("published_precision", str)
    db.execute("UPDATE related_links SET published_precision = CASE WHEN published_at IS NULL THEN NULL "
               "WHEN published_text GLOB '*[0-9]:[0-9][0-9]*' THEN 'minute' ELSE 'day' END")


@SCHEMA(name="0005_category_key")
def _m0005_category_key(db: sqlite_utils.Database) -> None:
    db.table("articles").add_column("category_key", str)
    for row in list(db.query("SELECT id, category FROM articles WHERE category IS NOT NULL")):
        db.execute("UPDATE articles SET category_key = ? WHERE id = ?",
                   [archive_v1.category_key(row["category"]), row["id"]])
    db.table("articles").create_index(["category_key"])


@SCHEMA(name="0006_canonical_urls")
def _m0006_canonical_urls(db: sqlite_utils.Database) -> None:
    """Every stored URL in canonical_url form; articles that were one article under several spellings (raw and
    percent-encoded, with and without the trailing slash) merged into the most recently seen row, the others'
    state kept as versions; the merged spellings and the redirects recorded in `pages` become url_aliases.
    Reads URL columns only (bodies stay on disk) and writes only rows that change: an update of `articles`
    re-indexes its full text."""
    db.table("url_aliases").create({"alias": str, "url": str, "first_seen_at": str}, pk="alias", not_null={"url"})
    db.table("url_aliases").create_index(["url"])
    groups: dict[str, list[dict[str, Any]]] = {}
    for row in db.query("SELECT id, url, canonical_url, content_hash, fetched_at, first_seen_at, last_seen_at "
                        "FROM articles ORDER BY id"):
        groups.setdefault(archive_v1.identity(urls_v1.canonical_url(row["url"])), []).append(row)
    renamed: dict[str, str] = {}
    """Old article URL -> the URL it is stored under now."""
    stored: dict[str, str] = {}
    """Identity -> the URL of the one article left with it."""
    aliases: dict[str, str] = {}
    for identity, rows in groups.items():
        rows.sort(key=lambda r: (r["last_seen_at"] or r["fetched_at"] or "", r["id"]))
        keep, older = rows[-1], rows[:-1]
        url = urls_v1.canonical_url(keep["url"])
        for row in older:
            if row["content_hash"] != keep["content_hash"]:
                full = next(db.query("SELECT * FROM articles WHERE id = ?", [row["id"]]))
                db.table("article_versions").insert(archive_v1.version_row(full, url, full["last_seen_at"]))
            db.execute("DELETE FROM related_links WHERE article_url = ?", [row["url"]])
            db.execute("DELETE FROM articles WHERE id = ?", [row["id"]])
            if urls_v1.canonical_url(row["url"]) != url:
                aliases[urls_v1.canonical_url(row["url"])] = url
        first_seen = min((r["first_seen_at"] for r in rows if r["first_seen_at"]), default=keep["first_seen_at"])
        canonical = urls_v1.canonical_url(keep["canonical_url"]) if keep["canonical_url"] else None
        if (url, canonical, first_seen) != (keep["url"], keep["canonical_url"], keep["first_seen_at"]):
            db.execute("UPDATE articles SET url = ?, canonical_url = ?, first_seen_at = ? WHERE id = ?",
                       [url, canonical, first_seen, keep["id"]])
        renamed.update({r["url"]: url for r in rows})
        stored[identity] = url
    article_urls = set(stored.values())

    def resolve(old: str) -> str:
        new = urls_v1.canonical_url(old)
        return renamed.get(old) or stored.get(archive_v1.identity(new)) or aliases.get(new) or new

    pages: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for page in db.query("SELECT id, url, final_url, sha256, fetched_at, last_fetched_at FROM pages ORDER BY id"):
        pages.setdefault((urls_v1.canonical_url(page["final_url"]), page["sha256"]), []).append(page)
    for (final_url, _), same in pages.items():
        first = same[0]
        for page in same[1:]:  # one body fetched under two spellings of the URL: one page, fetch times merged
            db.execute("DELETE FROM pages WHERE id = ?", [page["id"]])
        values = (urls_v1.canonical_url(first["url"]), final_url,
                  min((p["fetched_at"] for p in same if p["fetched_at"]), default=None),
                  max((p["last_fetched_at"] for p in same if p["last_fetched_at"]), default=None))
        if values != (first["url"], first["final_url"], first["fetched_at"], first["last_fetched_at"]):
            db.execute("UPDATE pages SET url = ?, final_url = ?, fetched_at = ?, last_fetched_at = ? WHERE id = ?",
                       [*values, first["id"]])
        for page in same:  # a redirect recorded before aliases existed
            source, target = urls_v1.canonical_url(page["url"]), resolve(final_url)
            if source != target and source not in article_urls:
                aliases.setdefault(source, target)
    now = utc_now()
    db.table("url_aliases").insert_all(({"alias": a, "url": u, "first_seen_at": now} for a, u in aliases.items()
                                        if u in article_urls), replace=True)

    for link in list(db.query("SELECT rowid AS link_id, article_url, url FROM related_links")):
        moved = (resolve(link["article_url"]), resolve(link["url"]))
        if moved != (link["article_url"], link["url"]):
            db.execute("UPDATE OR REPLACE related_links SET article_url = ?, url = ? WHERE rowid = ?",
                       [*moved, link["link_id"]])
    for version in list(db.query("SELECT id, article_url FROM article_versions")):
        if resolve(version["article_url"]) != version["article_url"]:
            db.execute("UPDATE article_versions SET article_url = ? WHERE id = ?",
                       [resolve(version["article_url"]), version["id"]])
    missing: dict[str, dict[str, Any]] = {}
    for row in db.query("SELECT * FROM missing_pages ORDER BY last_failed_at"):
        merged = missing.setdefault(urls_v1.canonical_url(row["url"]), {**row, "attempts": 0})
        merged.update(status=row["status"], last_failed_at=row["last_failed_at"],
                      first_failed_at=min(filter(None, (merged["first_failed_at"], row["first_failed_at"])),
                                          default=None),
                      attempts=merged["attempts"] + (row["attempts"] or 1))
    db.execute("DELETE FROM missing_pages")
    db.table("missing_pages").insert_all(({**row, "url": url} for url, row in missing.items()))


def _version_row(article: dict[str, Any], article_url: str, seen_until: str | None) -> dict[str, Any]:
    """An article's current state as an article_versions row."""
    version = {k: article.get(k) for k in CONTENT_FIELDS}
    version.update(article_url=article_url, content_hash=article["content_hash"],
                   seen_from=article.get("last_changed_at") or article.get("first_seen_at"), seen_until=seen_until)
    return version

@SCHEMA(name="0007_skipped_pages")
def _m0007_skipped_pages(db: sqlite_utils.Database) -> None:
    db.table("skipped_pages").create({
        "url": str, "reason": str, "detail": str, "status": int, "content_type": str,
        "first_skipped_at": str, "last_skipped_at": str, "attempts": int,
    }, pk=("url", "reason"))


@SCHEMA(name="0008_error_causes")
def _m0008_error_causes(db: sqlite_utils.Database) -> None:
    """crawls.error_causes: the run's errors by cause as JSON ({"disk_full": 12}), beside drop_reasons."""
    db.table("crawls").add_column("error_causes", str)


@SCHEMA(name="0009_structured_problems")
def _m0009_structured_problems(db: sqlite_utils.Database) -> None:
    """articles.problems as structured problems, [{"code": "no_lead"}, {"code": "unparsed_date", "detail": ...}],
    instead of sentences ("no lead found"), so nothing ever parses problem text again."""
    for row in list(db.query("SELECT id, problems FROM articles WHERE problems IS NOT NULL")):
        converted = problems_v1.problems(row["problems"])
        if converted != row["problems"]:
            db.execute("UPDATE articles SET problems = ? WHERE id = ?", [converted, row["id"]])


@SCHEMA(name="0010_compact")
def _m0010_compact(db: sqlite_utils.Database) -> None:
    """A smaller archive with faster reads: body out of the articles row (`article_bodies`, view `articles_full`),
    related links keyed by article id, `articles_search` contentless (it kept a second copy of the folded text),
    `articles_fts` indexing the view, `page_dictionaries` for zstd-compressed raw pages, published_at in +05:00
    everywhere (so it sorts as text), and the per-day index. Copies the folded index as it is: nothing is folded."""
    for row in list(db.query("SELECT id, published_at FROM articles WHERE published_at IS NOT NULL")):
        normal = compact_v1.tashkent_iso(row["published_at"])
        if normal != row["published_at"]:
            full = next(db.query("SELECT * FROM articles WHERE id = ?", [row["id"]]))
            full["published_at"] = normal
            db.execute("UPDATE articles SET published_at = ?, content_hash = ? WHERE id = ?",
                       [normal, archive_v1.content_hash(full), row["id"]])
    # sqlite-utils' triggers keep articles_fts in step with articles.body; the archive now writes both indexes itself
    for trigger in ("articles_ai", "articles_ad", "articles_au", "articles_search_ad"):
        db.execute(f"DROP TRIGGER IF EXISTS {trigger}")
    db.execute("DROP TABLE IF EXISTS articles_fts")
    db.execute("CREATE TABLE article_bodies (article_id INTEGER PRIMARY KEY REFERENCES articles(id), body TEXT)")
    db.execute("INSERT INTO article_bodies (article_id, body) SELECT id, body FROM articles ORDER BY id")
    db.execute("ALTER TABLE articles DROP COLUMN body")
    columns = ", ".join(f"b.{c}" if c == "body" else f"a.{c}" for c in compact_v1.ARTICLE_COLUMNS_V9)
    db.execute(f"CREATE VIEW articles_full AS SELECT {columns} FROM articles a "
               "LEFT JOIN article_bodies b ON b.article_id = a.id")
    db.execute("CREATE VIRTUAL TABLE articles_fts USING fts5(title, lead, body, content='articles_full', "
               "content_rowid='id', tokenize='unicode61 remove_diacritics 2')")
    db.execute("INSERT INTO articles_fts (articles_fts) VALUES ('rebuild')")
    db.execute("CREATE VIRTUAL TABLE articles_search_v10 USING fts5(title, lead, body, content='', "
               "tokenize='unicode61 remove_diacritics 2')")
    db.execute("INSERT INTO articles_search_v10 (rowid, title, lead, body) SELECT rowid, title, lead, body "
               "FROM articles_search WHERE rowid IN (SELECT id FROM articles) ORDER BY rowid")
    db.execute("DROP TABLE articles_search")
    db.execute("ALTER TABLE articles_search_v10 RENAME TO articles_search")
    fields = ", ".join(compact_v1.RELATED_FIELDS_V9)
    db.execute("CREATE TABLE related_links_v10 (article_id INTEGER NOT NULL REFERENCES articles(id), "
               "position INTEGER NOT NULL, url TEXT, title TEXT, category TEXT, published_at TEXT, "
               "published_precision TEXT, published_text TEXT, lead TEXT, image_url TEXT, "
               "PRIMARY KEY (article_id, position)) WITHOUT ROWID")
    db.execute(f"INSERT INTO related_links_v10 (article_id, {fields}) SELECT a.id, "
               f"{', '.join('r.' + f for f in compact_v1.RELATED_FIELDS_V9)} FROM related_links r "
               "JOIN articles a ON a.url = r.article_url")
    db.execute("DROP TABLE related_links")
    db.execute("ALTER TABLE related_links_v10 RENAME TO related_links")
    db.execute("CREATE INDEX idx_related_links_url ON related_links (url)")
    db.execute("CREATE TABLE page_dictionaries (id INTEGER PRIMARY KEY, site TEXT NOT NULL, created_at TEXT, "
               "samples INTEGER, size INTEGER, dictionary BLOB NOT NULL)")
    db.execute("CREATE INDEX idx_page_dictionaries_site ON page_dictionaries (site)")
    # Per-day counts by category (Datasette's articles_per_day, `newscrawl stats`) read this index alone.
    db.execute("CREATE INDEX idx_articles_day_category ON articles (substr(published_at, 1, 10), category_key)")


def category_key(category: str | None) -> str | None:
    """The category folded across scripts and apostrophes ("Сиёсат", "Siyosat" -> "siyosat"), for grouping."""
    if not category:
        return None
    return " ".join(fold(category).split()) or None


to_json = json.JSONEncoder(ensure_ascii=False).encode
"""JSON text as the archive stores it (and hashes it): json.dumps(value, ensure_ascii=False), from one encoder made
once, where json.dumps builds one per call (~0.6 us of the ~1 us of a short value; 5 values per stored article)."""


def content_hash(row: dict[str, Any]) -> str:
    """sha256 over the fields whose change makes a new version."""
    payload = to_json([row.get(k) for k in CONTENT_FIELDS])
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()

def stored_time(value: str | None) -> str | None:
    """published_at as the archive stores it: ISO 8601 in Tashkent time (+05:00), so that text order is time order
    and `substr(published_at, 1, 10)` is the Tashkent day whatever offset the page printed. Text that is not an
    ISO time is kept as it is."""
    if value is None or (len(value) == 25 and value.endswith("+05:00")):
        return value
    try:
        moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return value
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=TASHKENT)
    return moment.astimezone(TASHKENT).isoformat()


def _index_text(db: sqlite_utils.Database, article_id: int, texts: tuple[str | None, ...], *,
                delete: bool = False) -> None:
    """Add an article's title, lead and body to both full-text indexes, or (delete) take them out again.

    Both indexes keep no text of their own (articles_fts reads the view articles_full, articles_search is
    contentless), so taking a row out means handing FTS5 exactly the values it was indexed with: the raw text
    as stored, and its fold(). Only a content change does that (content_hash tells), and each text is folded
    once per write."""
    folded = [fold(text or "") for text in texts]
    command, marks = ("articles_fts, rowid", "'delete', ?") if delete else ("rowid", "?")
    db.execute(f"INSERT INTO articles_fts ({command}, title, lead, body) VALUES ({marks}, ?, ?, ?)",
               [article_id, *texts])
    command = command.replace("articles_fts", "articles_search")
    db.execute(f"INSERT INTO articles_search ({command}, title, lead, body) VALUES ({marks}, ?, ?, ?)",
               [article_id, *folded])

def known_migrations() -> list[str]:
    """The names of every migration this code knows, in order (all of them are pending on an empty database)."""
    return [m.name for m in SCHEMA.pending(sqlite_utils.Database(memory=True))]


def sqlite_uri(path: Path, mode: str) -> str:
    """A `file:` URI for path with every reserved character quoted (as_uri percent-encodes '#', '?', '%')."""
    return f"{path.resolve().as_uri()}?mode={mode}"


def check_archive(path: str | Path) -> None:
    """Up front, for a command about to write (before any network or file activity): raise ArchiveError if the
    file at path exists and is not an archive this code may write to, or is damaged. A missing file is fine."""
    if Path(path).exists():
        with Archive(path, readonly=True) as archive:
            archive.quick_check()


def companion_paths(path: str | Path) -> list[Path]:
    """The archive and every file that lives beside it: SQLite's -wal/-shm/-journal, the run lock, the migrate lock."""
    base = Path(path)
    return [base, *(Path(f"{base}{suffix}") for suffix in SQLITE_COMPANION_SUFFIXES),
            Path(f"{base}{MIGRATE_LOCK_SUFFIX}"), lock_path(base)]


def check_file(path: Path) -> None:
    """Cheap checks SQLite itself postpones until some query touches the damage: a file that is not SQLite at
    all, and a truncated one (shorter than the page count its header states). Reads only the 100-byte header."""
    if path.exists() and not path.is_file():
        raise NotAnArchive(f"archive {path} is not a file")
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        return
    if size == 0:  # SQLite's own empty database: a new archive
        return
    with open(path, "rb") as handle:
        header = handle.read(SQLITE_HEADER_SIZE)
    if len(header) < SQLITE_HEADER_SIZE or not header.startswith(SQLITE_MAGIC):
        raise NotAnArchive(f"archive {path} is not a SQLite database (not a newscrawl archive, or damaged); "
                           "it was not changed")
    page_size = int.from_bytes(header[16:18], "big")
    page_size = 65536 if page_size == 1 else page_size
    page_count = int.from_bytes(header[28:32], "big")
    header_valid = header[24:28] == header[92:96] and page_count > 0
    # With a non-empty WAL the file may legitimately lag its header (a checkpoint cut short); SQLite repairs that.
    wal = Path(f"{path}-wal")
    wal_pending = wal.exists() and wal.stat().st_size > 0
    if header_valid and not wal_pending and size < page_count * page_size:
        raise NotAnArchive(f"archive {path} is truncated: {size} bytes where its header says "
                           f"{page_count * page_size}; it was not changed (restore it from a backup)")


def utc_now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")

@dataclass(frozen=True)
class KnownArticle:
    """What the spider needs to decide whether to fetch an archived article again."""

    url: str
    published_at: str | None
    etag: str | None
    last_modified: str | None

_RELATED_URL = 1 + RELATED_FIELDS.index("url")
"""Where a related link's URL sits in its related_links row (after article_id)."""

_EXISTING_COLUMNS = ("id", "url", "content_hash", "first_seen_at", "last_seen_at", "last_changed_at",
                     *(c for c in CONTENT_FIELDS if c not in BODY_COLUMNS))
"""What upsert_article reads of the article it updates: its identity, its history and the content a new version
keeps (_version_row); the body is read only when the content changed."""


class Archive:
    """An open archive file. Every write is one transaction (inside batch(), one savepoint of the batch's
    transaction), so a killed process leaves a consistent file."""

    def __init__(self, path: str | Path, *, readonly: bool = False, create: bool = True) -> None:
        """Open (readonly: never write, never create) or open-and-migrate the archive at path.

        With create=False a missing file is an error instead of a new archive. Whatever the mode, a file that
        is not a newscrawl archive, or that a newer newscrawl has migrated, raises before anything is written.
        """
        self.path = Path(path)
        self._codec = codec.PageCodec()
        self._site_dictionaries: dict[str, int | None] = {}
        self._untrained: dict[str, int] = {}
        """Site -> pages of it stored without a dictionary (counted once from the file, then kept up to date)."""
        self._batched = False
        must_exist = readonly or not create
        if must_exist and not self.path.exists():
            raise ArchiveMissing(f"archive {self.path} does not exist")
        check_file(self.path)
        if not must_exist:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        conn: sqlite3.Connection | None = None
        try:
            # A URI (quoted, so '#', '?' and '%' in a name stay part of the name) whenever the file must
            # already exist: mode=ro / mode=rw make SQLite refuse instead of creating an empty file.
            if must_exist:
                conn = sqlite3.connect(sqlite_uri(self.path, "ro" if readonly else "rw"), uri=True)
            else:
                conn = sqlite3.connect(str(self.path))
            conn.execute("PRAGMA busy_timeout = 10000")
            self.db = sqlite_utils.Database(conn)
            self._check_schema()
            if not readonly:
                self.db.enable_wal()
                self.db.execute("PRAGMA synchronous = NORMAL")
                self._migrate()
            else:
                self._compatible_views()
        except sqlite3.DatabaseError as exc:
            if conn is not None:
                conn.close()
            raise NotAnArchive(f"archive {self.path} cannot be read: {exc} (not a newscrawl archive, or "
                               "damaged; it was not changed)") from exc
        except ArchiveError:
            if conn is not None:
                conn.close()
            raise

    def _check_schema(self) -> None:
        """Refuse some other application's database, and a schema newer than this code, before any write."""
        tables = [name for name in self.db.table_names()
                  if name != Migrations.migrations_table and not name.startswith("sqlite_")]
        applied = [m.name for m in SCHEMA.applied(self.db)]
        if tables and not applied:
            shown = ", ".join(sorted(tables)[:5]) + (", ..." if len(tables) > 5 else "")
            raise NotAnArchive(f"archive {self.path} is a SQLite database but not a newscrawl archive "
                               f"(tables: {shown}); refusing to touch it")
        known = known_migrations()
        unknown = [name for name in applied if name not in known]
        version = self.db.execute("PRAGMA user_version").fetchone()[0]
        if unknown or version > len(known):
            detail = f"migration {unknown[0]}" if unknown else f"schema version {version}"
            raise ArchiveTooNew(f"archive {self.path} has {detail}, newer than this newscrawl (schema version "
                                f"{len(known)}); use a newer newscrawl. The file was not changed")

    def _compatible_views(self) -> None:
        """Reading (never migrating) an archive older than schema version 10: temporary views, private to this
        connection, give it version 10's names (article_bodies, articles_full, related_links.article_id), so
        readers need one query. The file is not touched."""
        columns = {c.name for c in self.db["articles"].columns} if self.db["articles"].exists() else set()
        if "body" not in columns:
            return
        self.db.execute("CREATE TEMP VIEW article_bodies AS SELECT id AS article_id, body FROM main.articles")
        self.db.execute("CREATE TEMP VIEW articles_full AS SELECT * FROM main.articles")
        if self.db["related_links"].exists():
            stored = {c.name for c in self.db["related_links"].columns}
            fields = ", ".join(f"r.{c}" if c in stored else f"NULL AS {c}" for c in RELATED_FIELDS)
            self.db.execute(f"CREATE TEMP VIEW related_links AS SELECT a.id AS article_id, {fields} "
                            "FROM main.related_links r JOIN main.articles a ON a.url = r.article_url")

    def quick_check(self, seconds: float = QUICK_CHECK_SECONDS) -> bool:
        """SQLite's `PRAGMA quick_check`, stopped after `seconds`: True when it checked the whole file, False when
        time ran out first; raises NotAnArchive on damage.

        The check of the b-trees is one step of SQLite's VM, which never calls a progress handler: a handler
        capped it at 50 ms on small files but let it run its whole 0.5-8 s at 100,000 articles. So a timer
        interrupts the connection instead (sqlite3_interrupt, safe from another thread), and only while the
        check runs: the lock keeps a late timer off the statements that follow."""
        deadline = time.monotonic() + seconds
        guard = threading.Lock()
        checking = True

        def stop() -> None:
            with guard:
                if checking:
                    self.db.conn.interrupt()

        timer = threading.Timer(seconds, stop)
        timer.start()
        try:
            result = self.db.execute("PRAGMA quick_check(1)").fetchone()[0]
        except sqlite3.OperationalError as exc:
            if time.monotonic() >= deadline and "interrupt" in str(exc):  # out of time, not damaged: the rest
                return False  # is checked as it is read
            raise NotAnArchive(f"archive {self.path} is damaged: {exc}; it was not changed") from exc
        except sqlite3.DatabaseError as exc:
            raise NotAnArchive(f"archive {self.path} is damaged: {exc}; it was not changed") from exc
        finally:
            with guard:
                checking = False
            timer.cancel()
        if result != "ok":
            result = " ".join(result.split())  # SQLite's report spans lines; the error is one
            raise NotAnArchive(f"archive {self.path} is damaged ({result}); it was not changed "
                               "(restore it from a backup)")
        return True

    def _migrate(self) -> None:
        """Apply pending migrations, one process at a time (the crawl and its worker may open a new file together)."""
        with ExitStack() as stack:
            if str(self.path) != IN_MEMORY:  # no other process sees it, and its lock file would land in the cwd
                guard = stack.enter_context(open(f"{self.path}{MIGRATE_LOCK_SUFFIX}", "a+"))
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

    @contextmanager
    def batch(self) -> Iterator[None]:
        """Many writes, one commit: inside, upsert_article, touch_article, record_missing, record_skipped and
        store_page each run in a SAVEPOINT (one that raises rolls back only itself, and its exception reaches the
        caller as outside a batch), and the batch commits once when the block ends. A failed commit (disk full,
        I/O error) raises, with nothing of the batch kept, so the caller can count every item of it as failed; an
        exception leaving the block rolls the whole batch back. Batches do not nest."""
        if self._batched:
            raise ArchiveError("Archive.batch() does not nest")
        conn = self.db.conn
        if conn.in_transaction:
            conn.commit()
        conn.execute("BEGIN IMMEDIATE")
        self._batched = True
        try:
            yield
        except BaseException:
            self._batched = False
            conn.rollback()
            raise
        self._batched = False
        if not conn.in_transaction:
            raise ArchiveError(f"archive {self.path}: the batch was rolled back after an error; nothing of it "
                               "was stored")
        try:
            conn.commit()
        except sqlite3.Error:
            if conn.in_transaction:
                conn.rollback()
            raise

    @contextmanager
    def _write(self) -> Iterator[None]:
        """One write: its own transaction, or inside batch() a savepoint of the batch's transaction."""
        if not self._batched:
            with self.db.conn:
                yield
            return
        conn = self.db.conn
        if not conn.in_transaction:
            # SQLite rolled the whole batch back after an error (an I/O error or a full disk mid-statement):
            # nothing more may be written as if the batch were still open
            raise ArchiveError(f"archive {self.path}: the batch was rolled back after an earlier error")
        conn.execute("SAVEPOINT item")
        try:
            yield
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK TO item")
                conn.execute("RELEASE item")
            raise
        conn.execute("RELEASE item")

    @property
    def schema_version(self) -> int:
        return self.db.execute("PRAGMA user_version").fetchone()[0]

    def upsert_article(self, article: dict[str, Any], *, record_version: bool = True,
                       raw_page: dict[str, Any] | None = None, aliases: Iterable[str] = ()) -> str:
        """Insert or update one article (with its raw page, if given) and replace its related links, all in one
        transaction (a savepoint inside batch()); returns "new", "updated" or "unchanged". The full-text indexes
        are written only when the content (content_hash) changed.

        An article fetched under another form of an archived article's URL (an alias, the slash variant) updates
        that article; `aliases` (e.g. the URL a redirect started from) are remembered as its aliases."""
        row = {k: article.get(k) for k in EXTRACTED_COLUMNS}
        url = row["url"] = canonical_url(article["url"])
        for key in JSON_COLUMNS:
            row[key] = to_json(row[key] if row[key] is not None else ([] if key != "extraction" else {}))
        row["published_at"] = stored_time(row["published_at"])
        row["content_hash"] = content_hash(row)
        row["category_key"] = category_key(row["category"])
        body = row.pop("body")
        texts = (row["title"], row["lead"], body)
        seen = row["fetched_at"] or utc_now()
        for key in ("etag", "last_modified"):
            if key in article:
                row[key] = article[key]
        with self._write():
            if raw_page is not None:
                self._store_page(**raw_page)
            forms = {url, *map(canonical_url, aliases)}
            existing = self._archived([url], _EXISTING_COLUMNS)[url]
            if existing is None:
                row.update(first_seen_at=seen, last_seen_at=seen, last_changed_at=seen)
                article_id = self._insert("articles", row)
                self.db.execute("INSERT INTO article_bodies (article_id, body) VALUES (?, ?)", [article_id, body])
                _index_text(self.db, article_id, texts)
                outcome = "new"
            else:
                article_id = existing["id"]
                url = row["url"] = existing["url"]
                outcome = "unchanged"
                row["last_seen_at"] = max(seen, existing["last_seen_at"] or seen)
                if existing["content_hash"] != row["content_hash"]:
                    outcome = "updated"
                    existing["body"] = self._body(article_id)
                    if record_version:
                        self._record_version(existing, seen)
                        row["last_changed_at"] = seen
                    _index_text(self.db, article_id, (existing["title"], existing["lead"], existing["body"]),
                                delete=True)
                    self.db.execute("INSERT OR REPLACE INTO article_bodies (article_id, body) VALUES (?, ?)",
                                    [article_id, body])
                    _index_text(self.db, article_id, texts)
                assignments = ", ".join(f"{k} = ?" for k in row)
                self.db.execute(f"UPDATE articles SET {assignments} WHERE id = ?", [*row.values(), article_id])
            self._remember_aliases(url, forms - {url}, seen)
            self._replace_related(article_id, article.get("related") or [])
            _link_story(self, article_id, row, article.get("alternates") or ())
        return outcome

    def _body(self, article_id: int) -> str | None:
        found = self.db.execute("SELECT body FROM article_bodies WHERE article_id = ?", [article_id]).fetchone()
        return found[0] if found else None

    def _find_article(self, url: str) -> dict[str, Any] | None:
        """The archived article stored under url, its slash variant or one of their aliases (url canonical): the
        `articles` row, body not read."""
        return self._row("SELECT * FROM articles WHERE url = ?", [self.resolve_url(url)])

    def _row(self, sql: str, params: list[Any]) -> dict[str, Any] | None:
        """The first row of a SELECT as a dict, or None: what `next(db.query(...), None)` gives, without the
        SAVEPOINT and RELEASE sqlite-utils wraps every query in (two statements more per lookup on the hot path)."""
        cursor = self.db.execute(sql, params)
        found = cursor.fetchone()
        return None if found is None else dict(zip([c[0] for c in cursor.description], found, strict=True))

    def derived_state(self, url: str) -> dict[str, Any] | None:
        """What extraction decides about the archived article at any form of url, as stored: DERIVED_COLUMNS and
        its related links (RELATED, a list of rows in position order); None when it is not archived."""
        found = self.article(url)
        if found is None:
            return None
        state = {k: found.get(k) for k in DERIVED_COLUMNS}
        state[RELATED] = [tuple(link) for link in self.db.execute(
            f"SELECT {', '.join(RELATED_FIELDS)} FROM related_links WHERE article_id = ? ORDER BY position",
            [found["id"]])]
        return state

    def resolve_url(self, url: str) -> str:
        """The URL an article is archived under for any form of it; the canonical URL when it is not archived."""
        return self.resolve_urls([url])[canonical_url(url)]

    def resolve_urls(self, urls: Iterable[str]) -> dict[str, str]:
        """resolve_url() of many URLs at once (a listing page's cards, an article's related links). Canonical URL ->
        the URL its article is archived under, or itself when none is. It reads the URL column only: selecting
        whole rows made this the costliest step of a store."""
        return {url: found["url"] if found else url for url, found in self._archived(urls, ("url",)).items()}

    def _archived(self, urls: Iterable[str], columns: tuple[str, ...]) -> dict[str, dict[str, Any] | None]:
        """Canonical URL -> these `articles` columns of the article archived under any form of it, None when none is.

        An article's own URL wins over its slash variant, and an article URL over an alias (a redirect source).
        The aliases are looked up in the same query as the articles (UNION ALL): one statement per URL lookup, where
        asking for the aliases of the URLs not found took a second one on every new article."""
        forms = {url: url_forms(url) for url in dict.fromkeys(map(canonical_url, urls))}
        selected = ", ".join(f"a.{column}" for column in columns)
        sql = (f"SELECT 0, a.url, {selected} FROM articles a WHERE a.url IN ({{0}}) UNION ALL "
               f"SELECT 1, x.alias, {selected} FROM url_aliases x JOIN articles a ON a.url = x.url "
               "WHERE x.alias IN ({0})")
        found = {(kind, form): dict(zip(columns, row, strict=True)) for kind, form, *row in self._rows_in(
            sql, list(dict.fromkeys(form for both in forms.values() for form in both)))}
        return {url: next((found[kind, form] for kind in (0, 1) for form in both if (kind, form) in found), None)
                for url, both in forms.items()}

    def _rows_in(self, sql: str, values: list[str], *after: Any) -> Iterator[tuple[Any, ...]]:
        """The rows of `sql`, each of whose `IN ({0})` takes `values` (MAX_QUERY_URLS at a time), and whose further
        parameters are `after`."""
        lists = sql.count("{0}")
        for start in range(0, len(values), MAX_QUERY_URLS):
            chunk = values[start:start + MAX_QUERY_URLS]
            yield from self.db.execute(sql.format(", ".join("?" * len(chunk))), [*chunk * lists, *after])

    def _remember_aliases(self, url: str, aliases: set[str], seen: str) -> None:
        """Record other URLs of the article at url, and point related links made with any of them at url."""
        for alias in aliases:
            self.db.execute("INSERT INTO url_aliases (alias, url, first_seen_at) VALUES (?, ?, ?) "
                            "ON CONFLICT(alias) DO UPDATE SET url = excluded.url", [alias, url, seen])
        others = [*(aliases | set(url_forms(url))) - {url}]
        if others:
            self.db.execute(f"UPDATE related_links SET url = ? WHERE url IN ({', '.join('?' * len(others))})",
                            [url, *others])

    def _record_version(self, existing: dict[str, Any], seen_until: str) -> None:
        self._insert("article_versions", _version_row(existing, existing["url"], seen_until))

    def _replace_related(self, article_id: int, related: list[dict[str, Any]]) -> None:
        self.db.execute("DELETE FROM related_links WHERE article_id = ?", [article_id])
        if related:
            columns = ", ".join(("article_id", *RELATED_FIELDS))
            marks = ", ".join("?" * (len(RELATED_FIELDS) + 1))
            resolved = self.resolve_urls(link["url"] for link in related)
            rows = [[article_id, *map(link.get, RELATED_FIELDS)] for link in related]
            for row in rows:
                row[_RELATED_URL] = resolved[canonical_url(row[_RELATED_URL])]
            self.db.conn.executemany(f"INSERT INTO related_links ({columns}) VALUES ({marks})", rows)

    def touch_article(self, url: str, seen_at: str) -> None:
        """Record that an archived article was confirmed unchanged (HTTP 304) at seen_at."""
        with self._write():
            self.db.execute("UPDATE articles SET last_seen_at = ? WHERE url = ?", [seen_at, self.resolve_url(url)])

    def store_page(self, *, url: str, final_url: str, status: int, headers: dict[str, str], body: bytes,
                   fetched_at: str) -> int:
        """Keep a fetched response; an identical body for the same URL only moves last_fetched_at."""
        with self._write():
            return self._store_page(url=url, final_url=final_url, status=status, headers=headers, body=body,
                                    fetched_at=fetched_at)

    def _store_page(self, *, url: str, final_url: str, status: int, headers: dict[str, str], body: bytes,
                    fetched_at: str) -> int:
        digest = hashlib.sha256(body).hexdigest()
        url, final_url = canonical_url(url), canonical_url(final_url)
        found = self._row("SELECT id FROM pages WHERE final_url = ? AND sha256 = ?", [final_url, digest])
        if found:
            self.db.execute("UPDATE pages SET last_fetched_at = ?, status = ? WHERE id = ?",
                            [fetched_at, status, found["id"]])
            return found["id"]
        site = page_site(final_url)
        blob, compression = self._codec.compress(body, self._site_dictionary(site))
        page_id = self._insert("pages", {
            "url": url, "final_url": final_url, "status": status,
            "headers": to_json(headers), "fetched_at": fetched_at,
            "last_fetched_at": fetched_at, "sha256": digest, "size": len(body),
            "compression": compression, "body": blob,
        })
        if compression == codec.ZSTD:
            self._maybe_train(site)
        return page_id

    def _site_dictionary(self, site: str) -> int | None:
        """The id of site's page dictionary (loaded into the codec), or None before it has one."""
        if site not in self._site_dictionaries:
            found = self.db.execute("SELECT id, dictionary FROM page_dictionaries WHERE site = ? ORDER BY id DESC "
                                    "LIMIT 1", [site]).fetchone()
            if found is not None:
                self._codec.add_dictionary(found[0], found[1])
            self._site_dictionaries[site] = found[0] if found else None
        return self._site_dictionaries[site]

    def _maybe_train(self, site: str) -> None:
        """Once codec.TRAIN_PAGES pages of site are stored without a dictionary, train one from them, store it and
        recompress them with it (a one-off cost per site, in the transaction of the page that completed the set)."""
        count = self._untrained.get(site)
        if count is None:
            count = self.db.execute(f"SELECT count(*) FROM pages WHERE compression = ? AND {_SITE_RANGES}",
                                    [codec.ZSTD, *site_ranges(site)]).fetchone()[0]
        else:
            count += 1
        self._untrained[site] = count
        if count < codec.TRAIN_PAGES:
            return
        rows = self.db.execute(f"SELECT id, body FROM pages WHERE compression = ? AND {_SITE_RANGES} ORDER BY id "
                               "LIMIT ?", [codec.ZSTD, *site_ranges(site), 2 * codec.TRAIN_PAGES]).fetchall()
        samples = [self._codec.decompress(blob, codec.ZSTD) for _, blob in rows]
        try:
            dictionary = codec.train(samples)
        except codec.CodecError:
            self._untrained[site] = 0  # pages too few or too alike: try again after as many more
            return
        dictionary_id = self._insert("page_dictionaries", {"site": site, "created_at": utc_now(),
                                                             "samples": len(samples), "size": len(dictionary),
                                                             "dictionary": dictionary})
        self._codec.add_dictionary(dictionary_id, dictionary)
        self._site_dictionaries[site] = dictionary_id
        for (page_id, _), sample in zip(rows, samples, strict=True):
            blob, compression = self._codec.compress(sample, dictionary_id)
            self.db.execute("UPDATE pages SET body = ?, compression = ? WHERE id = ?", [blob, compression, page_id])
        self._untrained.pop(site, None)

    def decompress(self, blob: bytes, compression: str | None) -> bytes:
        """A stored page body (`pages.body`, `pages.compression`) as fetched: the one way raw pages are read."""
        wanted = codec.dictionary_id(compression)
        if wanted is not None and not self._codec.has_dictionary(wanted):
            found = self.db.execute("SELECT dictionary FROM page_dictionaries WHERE id = ?", [wanted]).fetchone()
            if found is None:
                raise ArchiveError(f"archive {self.path}: page dictionary {wanted} is missing")
            self._codec.add_dictionary(wanted, found[0])
        try:
            return self._codec.decompress(blob, compression)
        except codec.CodecError as exc:
            raise ArchiveError(f"archive {self.path}: {exc}") from exc

    def _insert(self, table: str, row: dict[str, Any]) -> int:
        """A plain INSERT on the hot path (sqlite-utils' insert re-reads the table's schema on every call)."""
        sql = f"INSERT INTO {table} ({', '.join(row)}) VALUES ({', '.join('?' * len(row))})"
        return cast(int, self.db.execute(sql, list(row.values())).lastrowid)  # an INSERT always sets it

    def latest_pages(self, *, since: str | None = None, url: str | None = None) -> Iterator[dict[str, Any]]:
        """The newest stored page per URL (body decompressed), optionally filtered."""
        where, params = ["status < 400"], []
        if since:
            where.append("last_fetched_at >= ?")
            params.append(since)
        if url:
            where.append("(final_url = ? OR url = ?)")
            params.extend([canonical_url(url)] * 2)
        sql = (f"SELECT * FROM pages WHERE id IN (SELECT max(id) FROM pages WHERE {' AND '.join(where)} "
               "GROUP BY final_url) ORDER BY id")
        for row in self.db.query(sql, params):
            row["body"] = self.decompress(row["body"], row["compression"])
            row["headers"] = json.loads(row["headers"] or "{}")
            yield row

    def known_articles(self) -> dict[str, KnownArticle]:
        """Archived articles under every URL that names them: their own, its slash variant, their aliases."""
        rows = self.db.query("SELECT url, published_at, etag, last_modified FROM articles")
        if not self._urls_canonical:  # read before this run migrates the file: compare in canonical form anyway
            rows = ({**r, "url": canonical_url(r["url"])} for r in rows)
        known = {r["url"]: KnownArticle(**r) for r in rows}
        if self._urls_canonical:
            for alias, url in self.db.execute("SELECT alias, url FROM url_aliases").fetchall():
                if url in known:
                    known.setdefault(alias, known[url])
        for article in list(known.values()):
            for form in url_forms(article.url):
                known.setdefault(form, article)
        return known

    def record_missing(self, url: str, status: int, failed_at: str) -> None:
        """Remember an article link that answered 404/410, so unchanged listings do not re-fetch it every run."""
        with self._write():
            self.db.execute(
                "INSERT INTO missing_pages (url, status, first_failed_at, last_failed_at, attempts) "
                "VALUES (?, ?, ?, ?, 1) ON CONFLICT(url) DO UPDATE SET status = excluded.status, "
                "last_failed_at = excluded.last_failed_at, attempts = attempts + 1",
                [canonical_url(url), status, failed_at, failed_at])

    def record_skipped(self, *, url: str, reason: str, detail: str, fetched_at: str, status: int | None = None,
                       content_type: str | None = None) -> None:
        """Remember a page left out for breaking a limit or not being HTML, with why; repeats count attempts."""
        with self._write():
            self.db.execute(
                "INSERT INTO skipped_pages (url, reason, detail, status, content_type, first_skipped_at, "
                "last_skipped_at, attempts) VALUES (?, ?, ?, ?, ?, ?, ?, 1) ON CONFLICT(url, reason) DO UPDATE SET "
                "detail = excluded.detail, status = excluded.status, content_type = excluded.content_type, "
                "last_skipped_at = excluded.last_skipped_at, attempts = attempts + 1",
                [url, reason, detail, status, content_type, fetched_at, fetched_at])

    def missing_since(self) -> dict[str, str]:
        """URL -> when it last failed, for links that answered 404/410 and have not been archived since."""
        if not self._urls_canonical:
            return {canonical_url(r["url"]): r["last_failed_at"] for r in self.db.query(
                "SELECT url, last_failed_at FROM missing_pages WHERE url NOT IN (SELECT url FROM articles) "
                "ORDER BY last_failed_at")}  # two spellings of one link: the latest failure wins
        return {r["url"]: r["last_failed_at"] for r in self.db.query(
            "SELECT url, last_failed_at FROM missing_pages WHERE url NOT IN (SELECT url FROM articles) "
            "AND url NOT IN (SELECT alias FROM url_aliases)")}

    # --- the crawl's state, looked up one listing page at a time (newscrawl/state.py; helper `crawl`) ----------
    def state_marks(self) -> tuple[int, int]:
        """The last article id and the last missing_pages rowid: what known_for() and missing_for() count."""
        return (self.db.execute("SELECT coalesce(max(id), 0) FROM articles").fetchone()[0],
                self.db.execute("SELECT coalesce(max(rowid), 0) FROM missing_pages").fetchone()[0])

    def known_for(self, urls: Iterable[str], upto: int) -> dict[str, KnownArticle]:
        """known_articles() for these canonical URLs only (articles with an id up to `upto`): a few indexed
        queries per URL instead of the whole table."""
        if not self._urls_canonical:  # read before this run migrates the file: the whole table, canonicalised
            known = self.known_articles()
            return {url: known[url] for url in urls if url in known}
        resolved = self.resolve_urls(urls)
        rows = {row[0]: KnownArticle(*row) for row in self._rows_in(
            "SELECT url, published_at, etag, last_modified FROM articles WHERE url IN ({0}) AND id <= ?",
            sorted(set(resolved.values())), upto)}
        return {url: rows[stored] for url, stored in resolved.items() if stored in rows}

    def missing_for(self, urls: Iterable[str], upto: int) -> dict[str, str]:
        """missing_since() for these canonical URLs only (missing_pages rows up to rowid `upto`)."""
        if not self._urls_canonical:
            missing = self.missing_since()
            return {url: missing[url] for url in urls if url in missing}
        wanted = list(urls)
        return {url: failed_at for url, failed_at in self.db.execute(
            f"SELECT m.url, m.last_failed_at FROM missing_pages m WHERE m.url IN ({', '.join('?' * len(wanted))}) "
            "AND m.rowid <= ? AND NOT EXISTS (SELECT 1 FROM articles a WHERE a.url = m.url) "
            "AND NOT EXISTS (SELECT 1 FROM url_aliases x WHERE x.alias = m.url)", [*wanted, upto])}
    # --- end of the crawl's state lookups ------------------------------------------------------------------------

    @property
    def _urls_canonical(self) -> bool:
        """Whether migration 0006 has run (a read-only open of an older file does not migrate it)."""
        return self.db["url_aliases"].exists()

    def last_crawl(self, spider: str, start_url: str | None) -> dict[str, Any] | None:
        return next(self.db.query("SELECT * FROM crawls WHERE spider = ? AND start_url IS ? ORDER BY id DESC "
                                  "LIMIT 1", [spider, start_url]), None)

    def article(self, url: str) -> dict[str, Any] | None:
        """The archived article for any form of its URL (see resolve_url), body included."""
        found = self._find_article(canonical_url(url))
        if found is not None:
            found["body"] = self._body(found["id"])
        return found

    def _not_batched(self, what: str) -> None:
        if self._batched:  # these commit on their own (sqlite-utils), which would end the batch half-way
            raise ArchiveError(f"Archive.{what}() cannot run inside Archive.batch()")

    def start_crawl(self, *, spider: str, site: str | None, start_url: str | None, started_at: str | None = None,
                    supersede: bool = True) -> int:
        """A new crawls row, 'running'. supersede: one run per archive, so any row still 'running' was killed;
        the distributed archiver passes False (several workers' runs are open at once, docs/distributed.md)."""
        self._not_batched("start_crawl")
        with self.db.conn:
            if supersede:
                self.db.execute("UPDATE crawls SET status = 'killed', reason = 'process ended without finishing' "
                                "WHERE status = 'running'")
            return cast(int, self.db.table("crawls").insert({"spider": spider, "site": site, "start_url": start_url,
                                                             "started_at": started_at or utc_now(),
                                                             "status": "running"}).last_pk)

    def finish_crawl(self, crawl_id: int, values: dict[str, Any]) -> None:
        row = dict(values)
        for key in ("drop_reasons", "drift", "error_causes"):
            if row.get(key) is not None and not isinstance(row[key], str):
                row[key] = to_json(row[key])
        row.setdefault("finished_at", utc_now())
        self._not_batched("finish_crawl")
        with self.db.conn:
            self.db.table("crawls").update(crawl_id, row)

def page_site(url: str) -> str:
    """The site a page belongs to for its compression dictionary: the host of its (canonical) URL."""
    return urlsplit(url).hostname or ""


# pages of one site, by ranges of the final_url index (its URLs are canonical: scheme://host[:port]/...)
_SITE_RANGES = "(" + " OR ".join(["(final_url >= ? AND final_url < ?)"] * 4) + ")"


def site_ranges(site: str) -> list[str]:
    return [bound for scheme in ("http", "https") for start, end in (("/", "0"), (":", ";"))
            for bound in (f"{scheme}://{site}{start}", f"{scheme}://{site}{end}")]


# --- Stories across scripts: migration 0011 and the story key every write sets (docs/stories.md) -------------------
# Kept at the end of the file: its migration must register after every earlier one.

@SCHEMA(name="0011_story_key")
def _m0011_story_key(db: sqlite_utils.Database) -> None:
    """articles.story_key: the Cyrillic and Latin versions of one story share it (the id of the story's first
    archived article). Existing rows are matched by publication time and title, in archive order, as if each had
    just been written (the pages' hreflang links were never stored); reads the columns the match needs only."""
    db.table("articles").add_column("story_key", int)
    db.table("articles").create_index(["story_key"])
    rows = [stories_v1.Candidate(r["id"], r["title"], r["script"], r["published_at"], None)
            for r in db.query("SELECT id, title, script, published_at FROM articles ORDER BY id")]
    timeline = sorted((moment, row.id) for row in rows if (moment := stories_v1.published(row.published_at)))
    moments = [moment for moment, _ in timeline]
    by_id = {row.id: row for row in rows}
    keys: dict[int, int] = {}
    for row in rows:
        moment = stories_v1.published(row.published_at)
        nearby: list[stories_v1.Candidate] = []
        if moment is not None:
            first = bisect.bisect_left(moments, moment - stories_v1.WINDOW)
            last = bisect.bisect_right(moments, moment + stories_v1.WINDOW)
            nearby = [stories_v1.Candidate(other, by_id[other].title, by_id[other].script, by_id[other].published_at,
                                           keys[other]) for _, other in timeline[first:last]
                      if other in keys]  # archived before this one
        keys[row.id] = stories_v1.story_key(row, (), nearby)
    db.conn.executemany("UPDATE articles SET story_key = ? WHERE id = ?", [(key, id_) for id_, key in keys.items()])


_STORY_COLUMNS = tuple(field.name for field in fields(stories.Candidate))
"""The articles columns a story match reads (stories.Candidate, in its order)."""


def _link_story(archive: Archive, article_id: int, row: dict[str, Any], alternates: Iterable[str]) -> None:
    """Set the story key of the article just written (inside upsert_article's transaction): that of the version the
    page links by hreflang if it is archived, else that of its twin in the other script by time and title (the
    candidates come from the published_at index: the articles of an hour), else its own id."""
    me = stories.Candidate(article_id, row.get("title"), row.get("script"), row.get("published_at"), None)
    linked = list({found["id"]: stories.Candidate(**found)
                   for found in archive._archived(alternates, _STORY_COLUMNS).values()
                   if found is not None and found["id"] != article_id}.values())
    window = stories.search_window(me.published_at)
    nearby = []
    if not linked and window is not None and me.script in stories.SCRIPTS:
        nearby = [stories.Candidate(*found) for found in archive.db.execute(
            f"SELECT {', '.join(_STORY_COLUMNS)} FROM articles WHERE published_at BETWEEN ? AND ? AND script != ? "
            "AND id != ?", [*window, me.script, article_id])]
    key = stories.story_key(me, linked, nearby)
    archive.db.execute("UPDATE articles SET story_key = ? WHERE id = ? AND story_key IS NOT ?", [key, article_id, key])
