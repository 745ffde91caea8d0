"""Streaming exports of the archive: articles as JSON Lines or CSV, raw pages as WARC/1.0."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from datetime import datetime, timezone
from http import HTTPStatus
from io import BytesIO
from typing import Any, BinaryIO, TextIO

import sqlite_utils
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from newscrawl.archive import Archive
from newscrawl.dates import time_bound
from newscrawl.schema import JSON_COLUMNS, RELATED_FIELDS

# The stored body is already decoded, so these headers would mislead a WARC reader; they are kept renamed.
TRANSPORT_HEADERS = frozenset({"content-encoding", "transfer-encoding", "content-length"})


def article_filter(since: str | None = None, until: str | None = None,
                   category: str | None = None) -> tuple[str, list[str]]:
    """A WHERE clause (possibly empty) and its parameters for the export options.

    published_at is stored as ISO 8601 in +05:00, so bounds converted to +05:00 compare as strings
    and use the published_at index. A date --until includes that whole day.
    """
    where: list[str] = []
    params: list[str] = []
    if since:
        where.append("published_at >= ?")
        params.append(time_bound(since))
    if until:
        whole_day = len(until.strip()) == 10
        where.append("published_at < ?" if whole_day else "published_at <= ?")
        params.append(time_bound(until, end_of_day=True))
    if category:
        where.append("category = ?")
        params.append(category)
    return (" WHERE " + " AND ".join(where) if where else ""), params


def iter_articles(db: sqlite_utils.Database, *, since: str | None = None, until: str | None = None,
                  category: str | None = None, related: bool = True) -> Iterator[dict[str, Any]]:
    """Articles oldest first, JSON columns decoded, related links attached; rows come straight off a cursor."""
    where, params = article_filter(since, until, category)
    sql = f"SELECT * FROM articles_full{where} ORDER BY published_at, id"
    for row in db.query(sql, params):
        for key in JSON_COLUMNS:
            if row.get(key) is not None:
                row[key] = json.loads(row[key])
        if related:
            row["related"] = [dict(link) for link in db.query(
                f"SELECT {', '.join(RELATED_FIELDS)} FROM related_links WHERE article_id = ? ORDER BY position",
                [row["id"]])]
        yield row


def write_jsonl(rows: Iterator[dict[str, Any]], out: TextIO) -> int:
    """One JSON object per line, UTF-8 text as is; returns the number of lines."""
    count = 0
    for row in rows:
        out.write(json.dumps(row, ensure_ascii=False))
        out.write("\n")
        count += 1
    return count


def write_csv(db: sqlite_utils.Database, rows: Iterator[dict[str, Any]], out: TextIO) -> int:
    """A header row of every articles column, then one row per article; JSON columns stay JSON text."""
    columns = list(db["articles_full"].columns_dict)  # the file's own columns: an older archive is exported as it is
    writer = csv.DictWriter(out, fieldnames=columns, extrasaction="ignore")
    writer.writeheader()
    count = 0
    for row in rows:
        writer.writerow({k: json.dumps(v, ensure_ascii=False) if k in JSON_COLUMNS and v is not None else v
                         for k, v in row.items()})
        count += 1
    return count


def export_articles(archive: Archive, out: TextIO, fmt: str, *, since: str | None = None,
                    until: str | None = None, category: str | None = None) -> int:
    """Write articles as "jsonl" or "csv"; returns the number of articles written."""
    if fmt == "jsonl":
        return write_jsonl(iter_articles(archive.db, since=since, until=until, category=category), out)
    if fmt == "csv":
        rows = iter_articles(archive.db, since=since, until=until, category=category, related=False)
        return write_csv(archive.db, rows, out)
    raise ValueError(f"unknown article export format {fmt!r}")


def warc_date(timestamp: str) -> str:
    """An ISO 8601 timestamp with any offset as the WARC/1.0 form, UTC with a Z."""
    moment = datetime.fromisoformat(timestamp.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def http_headers(status: int, headers: dict[str, str], body_length: int) -> StatusAndHeaders:
    """The response head as stored, minus transport encodings that no longer apply to the decoded body."""
    try:
        reason = HTTPStatus(status).phrase
    except ValueError:
        reason = ""
    pairs: list[tuple[str, str]] = []
    for name, value in headers.items():
        if name.lower() in TRANSPORT_HEADERS:
            pairs.append((f"X-Archive-Orig-{name}", value))
        else:
            pairs.append((name, value))
    pairs.append(("Content-Length", str(body_length)))
    return StatusAndHeaders(f"{status} {reason}".strip(), pairs, protocol="HTTP/1.1")


def export_warc(archive: Archive, out: BinaryIO, filename: str = "newscrawl.warc.gz") -> int:
    """Every stored raw page as a gzipped WARC response record after one warcinfo record; returns the count."""
    writer = WARCWriter(out, gzip=True)
    info = {"software": "newscrawl", "format": "WARC File Format 1.0",
            "description": f"raw pages from the newscrawl archive {archive.path.name}"}
    writer.write_record(writer.create_warcinfo_record(filename, info))
    count = 0
    for row in archive.db.query("SELECT * FROM pages ORDER BY id"):
        body = archive.decompress(row["body"], row["compression"])
        headers = json.loads(row["headers"] or "{}")
        record = writer.create_warc_record(
            row["final_url"] or row["url"], "response", payload=BytesIO(body), length=None,
            http_headers=http_headers(row["status"], headers, len(body)),
            warc_headers_dict={"WARC-Date": warc_date(row["fetched_at"])})
        writer.write_record(record)
        count += 1
    return count
