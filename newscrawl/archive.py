"""The SQLite archive: the only module that owns the schema, its migrations and every write."""

from __future__ import annotations

import fcntl
import gzip
import hashlib
import json
import sqlite3
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, cast

import sqlite_utils
from sqlite_utils import Migrations

from newscrawl.lock import lock_path
from newscrawl.migrations import archive_v1, problems_v1, urls_v1
from newscrawl.schema import (CONTENT_FIELDS, DERIVED_COLUMNS, EXTRACTED_COLUMNS, JSON_COLUMNS, RELATED,
                              RELATED_FIELDS)
from newscrawl.translit import fold
from newscrawl.urls import canonical_url, url_forms

# Migrations are frozen in time: they call only the copies in newscrawl/migrations/, never the live functions
# below (fold, canonical_url, content_hash, ...), so what an old migration does never changes.
SCHEMA = Migrations("newscrawl")
RAW_COMPRESSION = "gzip"

# What the first bytes of every SQLite 3 database file are (https://www.sqlite.org/fileformat.html).
SQLITE_MAGIC = b"SQLite format 3\x00"
SQLITE_HEADER_SIZE = 100
SQLITE_COMPANION_SUFFIXES = ("-wal", "-shm", "-journal")
MIGRATE_LOCK_SUFFIX = ".migrate-lock"
# How long a command about to write may spend on SQLite's quick_check up front: all of a small archive, the start
# of a huge one (damage further in is reported by the query that meets it).
QUICK_CHECK_SECONDS = 2.0


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

class Archive:
    """An open archive file. Every write is one transaction, so a killed process leaves a consistent file."""

    def __init__(self, path: str | Path, *, readonly: bool = False, create: bool = True) -> None:
        """Open (readonly: never write, never create) or open-and-migrate the archive at path.

        With create=False a missing file is an error instead of a new archive. Whatever the mode, a file that
        is not a newscrawl archive, or that a newer newscrawl has migrated, raises before anything is written.
        """
        self.path = Path(path)
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

    def quick_check(self, seconds: float = QUICK_CHECK_SECONDS) -> None:
        """SQLite's `PRAGMA quick_check`, stopped after `seconds`; raises NotAnArchive on damage."""
        deadline = time.monotonic() + seconds
        self.db.conn.set_progress_handler(lambda: int(time.monotonic() > deadline), 10_000)
        try:
            result = self.db.execute("PRAGMA quick_check(1)").fetchone()[0]
        except sqlite3.OperationalError as exc:
            if time.monotonic() > deadline:  # out of time, not damaged: the rest is checked as it is read
                return
            raise NotAnArchive(f"archive {self.path} is damaged: {exc}; it was not changed") from exc
        except sqlite3.DatabaseError as exc:
            raise NotAnArchive(f"archive {self.path} is damaged: {exc}; it was not changed") from exc
        finally:
            self.db.conn.set_progress_handler(None, 0)
        if result != "ok":
            result = " ".join(result.split())  # SQLite's report spans lines; the error is one
            raise NotAnArchive(f"archive {self.path} is damaged ({result}); it was not changed "
                               "(restore it from a backup)")

    def _migrate(self) -> None:
        """Apply pending migrations, one process at a time (the crawl and its worker may open a new file together)."""
        with open(f"{self.path}{MIGRATE_LOCK_SUFFIX}", "a+") as guard:
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
                       raw_page: dict[str, Any] | None = None, aliases: Iterable[str] = ()) -> str:
        """Insert or update one article (with its raw page, if given) and replace its related links, all in one
        transaction; returns "new", "updated" or "unchanged".

        An article fetched under another form of an archived article's URL (an alias, the slash variant) updates
        that article; `aliases` (e.g. the URL a redirect started from) are remembered as its aliases."""
        row = {k: article.get(k) for k in EXTRACTED_COLUMNS}
        url = row["url"] = canonical_url(article["url"])
        for key in JSON_COLUMNS:
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
            forms = {url, *map(canonical_url, aliases)}
            existing = self._find_article(url)
            if existing is None:
                row.update(first_seen_at=seen, last_seen_at=seen, last_changed_at=seen)
                article_id = self._insert("articles", row)
                outcome = "new"
            else:
                article_id = existing["id"]
                url = row["url"] = existing["url"]
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
            self._remember_aliases(url, forms - {url}, seen)
            self._replace_related(url, article.get("related") or [])
        return outcome

    def _find_article(self, url: str) -> dict[str, Any] | None:
        """The archived article stored under url, its slash variant or one of their aliases (url canonical)."""
        return next(self.db.query("SELECT * FROM articles WHERE url = ?", [self.resolve_url(url)]), None)

    def derived_state(self, url: str) -> dict[str, Any] | None:
        """What extraction decides about the archived article at any form of url, as stored: DERIVED_COLUMNS and
        its related links (RELATED, a list of rows in position order); None when it is not archived."""
        found = self._find_article(canonical_url(url))
        if found is None:
            return None
        state = {k: found.get(k) for k in DERIVED_COLUMNS}
        state[RELATED] = [tuple(link) for link in self.db.execute(
            f"SELECT {', '.join(RELATED_FIELDS)} FROM related_links WHERE article_url = ? ORDER BY position",
            [found["url"]])]
        return state

    def resolve_url(self, url: str) -> str:
        """The URL an article is archived under for any form of it; the canonical URL when it is not archived.

        Called for every related link of every stored article, so it reads the URL column only: selecting the
        whole row (body included) made it the costliest step of a store."""
        url = canonical_url(url)
        forms = url_forms(url)
        marks = ", ".join("?" * len(forms))
        found = self.db.execute(f"SELECT url FROM articles WHERE url IN ({marks}) ORDER BY url != ? LIMIT 1",
                                [*forms, url]).fetchone()
        if found is None:
            found = self.db.execute(f"SELECT a.url FROM url_aliases x JOIN articles a ON a.url = x.url "
                                    f"WHERE x.alias IN ({marks}) ORDER BY x.alias != ? LIMIT 1",
                                    [*forms, url]).fetchone()
        return str(found[0]) if found else url

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

    def _replace_related(self, article_url: str, related: list[dict[str, Any]]) -> None:
        self.db.execute("DELETE FROM related_links WHERE article_url = ?", [article_url])
        if related:
            columns = ", ".join(("article_url", *RELATED_FIELDS))
            marks = ", ".join("?" * (len(RELATED_FIELDS) + 1))
            self.db.conn.executemany(f"INSERT INTO related_links ({columns}) VALUES ({marks})",
                                     [[article_url, *(self.resolve_url(link["url"]) if k == "url" else link.get(k)
                                                      for k in RELATED_FIELDS)] for link in related])

    def touch_article(self, url: str, seen_at: str) -> None:
        """Record that an archived article was confirmed unchanged (HTTP 304) at seen_at."""
        with self.db.conn:
            self.db.execute("UPDATE articles SET last_seen_at = ? WHERE url = ?", [seen_at, self.resolve_url(url)])

    def store_page(self, *, url: str, final_url: str, status: int, headers: dict[str, str], body: bytes,
                   fetched_at: str) -> int:
        """Keep a fetched response; an identical body for the same URL only moves last_fetched_at."""
        with self.db.conn:
            return self._store_page(url=url, final_url=final_url, status=status, headers=headers, body=body,
                                    fetched_at=fetched_at)

    def _store_page(self, *, url: str, final_url: str, status: int, headers: dict[str, str], body: bytes,
                    fetched_at: str) -> int:
        digest = hashlib.sha256(body).hexdigest()
        url, final_url = canonical_url(url), canonical_url(final_url)
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
            row["body"] = decompress(row["body"], row["compression"])
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
        with self.db.conn:
            self.db.execute(
                "INSERT INTO missing_pages (url, status, first_failed_at, last_failed_at, attempts) "
                "VALUES (?, ?, ?, ?, 1) ON CONFLICT(url) DO UPDATE SET status = excluded.status, "
                "last_failed_at = excluded.last_failed_at, attempts = attempts + 1",
                [canonical_url(url), status, failed_at, failed_at])

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
        if not self._urls_canonical:
            return {canonical_url(r["url"]): r["last_failed_at"] for r in self.db.query(
                "SELECT url, last_failed_at FROM missing_pages WHERE url NOT IN (SELECT url FROM articles) "
                "ORDER BY last_failed_at")}  # two spellings of one link: the latest failure wins
        return {r["url"]: r["last_failed_at"] for r in self.db.query(
            "SELECT url, last_failed_at FROM missing_pages WHERE url NOT IN (SELECT url FROM articles) "
            "AND url NOT IN (SELECT alias FROM url_aliases)")}

    @property
    def _urls_canonical(self) -> bool:
        """Whether migration 0006 has run (a read-only open of an older file does not migrate it)."""
        return self.db["url_aliases"].exists()

    def last_crawl(self, spider: str, start_url: str | None) -> dict[str, Any] | None:
        return next(self.db.query("SELECT * FROM crawls WHERE spider = ? AND start_url IS ? ORDER BY id DESC "
                                  "LIMIT 1", [spider, start_url]), None)

    def article(self, url: str) -> dict[str, Any] | None:
        """The archived article for any form of its URL (see resolve_url)."""
        return self._find_article(canonical_url(url))

    def start_crawl(self, *, spider: str, site: str | None, start_url: str | None, started_at: str | None = None,
                    supersede: bool = True) -> int:
        """A new crawls row, 'running'. supersede: one run per archive, so any row still 'running' was killed;
        the distributed archiver passes False (several workers' runs are open at once, docs/distributed.md)."""
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
                row[key] = json.dumps(row[key], ensure_ascii=False)
        row.setdefault("finished_at", utc_now())
        with self.db.conn:
            self.db.table("crawls").update(crawl_id, row)

def compress(body: bytes) -> bytes:
    return gzip.compress(body, compresslevel=6)

def decompress(blob: bytes, compression: str | None) -> bytes:
    if compression == "gzip":
        return gzip.decompress(blob)
    if compression in (None, "", "none"):
        return blob
    raise ArchiveError(f"unknown page compression {compression!r}")
