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
from newscrawl.reading import article_columns, article_filter, article_json_lines, iter_articles, page_rows

__all__ = ["article_filter", "export_articles", "export_warc", "iter_articles", "warc_date"]
BOM = "\ufeff"
"""The UTF-8 byte order mark, by which Excel recognises a CSV file as UTF-8 (without it, Cyrillic is garbled)."""

# The stored body is already decoded, so these headers would mislead a WARC reader; they are kept renamed.
TRANSPORT_HEADERS = frozenset({"content-encoding", "transfer-encoding", "content-length"})


def write_csv(db: sqlite_utils.Database, rows: Iterator[dict[str, Any]], out: TextIO) -> int:
    """A header row of every articles column, then one row per article; JSON columns stay JSON text (as stored)."""
    columns = [name for name, _ in article_columns(db)]  # the file's own columns: an older archive is exported as it is
    writer = csv.DictWriter(out, fieldnames=columns, extrasaction="ignore")
    writer.writeheader()
    count = 0
    writerow = writer.writerow
    for row in rows:
        writerow(row)
        count += 1
    return count


def export_articles(archive: Archive, out: TextIO, fmt: str, *, since: str | None = None,
                    until: str | None = None, category: str | None = None, bom: bool = False) -> int:
    """Write articles as "jsonl" (related links under "related_links") or "csv" (with a UTF-8 byte order mark
    first when bom: Excel then reads the file as UTF-8); returns the number of articles written."""
    if fmt == "jsonl":
        count = 0
        write = out.write
        for line in article_json_lines(archive.db, since=since, until=until, category=category):
            write(line + "\n")  # one write per line: a quarter faster on 800 MB than two
            count += 1
        return count
    if fmt == "csv":
        if bom:
            out.write(BOM)
        rows = iter_articles(archive.db, since=since, until=until, category=category, related=False,
                             decode_json=False)
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


def export_warc(archive: Archive, out: BinaryIO, filename: str = "newscrawl.warc.gz", *, since: str | None = None,
                until: str | None = None, category: str | None = None) -> int:
    """Every stored raw page (with a filter: the pages of the articles it selects) as a gzipped WARC response
    record after one warcinfo record; returns the count of response records."""
    writer = WARCWriter(out, gzip=True)
    info = {"software": "newscrawl", "format": "WARC File Format 1.0",
            "description": f"raw pages from the newscrawl archive {archive.path.name}"}
    writer.write_record(writer.create_warcinfo_record(filename, info))
    count = 0
    for row in page_rows(archive.db, since=since, until=until, category=category):
        body = archive.decompress(row["body"], row["compression"])
        headers = json.loads(row["headers"] or "{}")
        record = writer.create_warc_record(
            row["final_url"] or row["url"], "response", payload=BytesIO(body), length=None,
            http_headers=http_headers(row["status"], headers, len(body)),
            warc_headers_dict={"WARC-Date": warc_date(row["fetched_at"])})
        writer.write_record(record)
        count += 1
    return count
