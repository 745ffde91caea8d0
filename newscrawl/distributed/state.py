"""The incremental state of a distributed crawl, in Redis hashes the archiver keeps (keys.KNOWN, keys.MISSING,
keys.LAST_RUNS): workers on other machines cannot open the SQLite file. RedisCrawlState is the spider's
CrawlState (newscrawl/state.py) read per card; the functions below are the archiver's writing side."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from itertools import islice
from typing import Any

import redis

from newscrawl.archive import Archive, KnownArticle
from newscrawl.distributed import keys
from newscrawl.distributed.connection import connect, retrying
from newscrawl.state import UNFINISHED_STATUSES
from newscrawl.urls import url_forms

SYNC_CHUNK = 5000


def encode_known(article: KnownArticle) -> str:
    return json.dumps([article.url, article.published_at, article.etag, article.last_modified], ensure_ascii=False)


def decode_known(value: bytes | str) -> KnownArticle:
    url, published_at, etag, last_modified = json.loads(value)
    return KnownArticle(url=url, published_at=published_at, etag=etag, last_modified=last_modified)


class RedisCrawlState:
    """CrawlState read from Redis, one lookup per card (a million known URLs never sit in a worker's memory).
    Calls wait out a Redis outage (connection.retrying) for up to `outage` seconds."""

    def __init__(self, client: redis.Redis, outage: float) -> None:
        self.client = client
        self.outage = outage
        self.known: dict[str, KnownArticle | None] = {}
        self.missing: dict[str, str | None] = {}
        """What the last look_up() read; a URL outside it is read on its own."""

    @classmethod
    def from_settings(cls, settings: Any) -> RedisCrawlState:
        return cls(connect(settings.get("NEWSCRAWL_REDIS_URL")), settings.getfloat("NEWSCRAWL_REDIS_OUTAGE_SECONDS"))

    def look_up(self, urls: Iterable[str]) -> None:
        """Read the state of one listing page's cards in one round trip (the spider calls this per listing page
        where its CrawlState has look_up; known_article() and missing_since() answer from it)."""
        wanted = list(dict.fromkeys(urls))
        self.known, self.missing = {}, {}
        if not wanted:
            return
        forms = [list(url_forms(url)) for url in wanted]

        def fetch() -> list[Any]:
            with self.client.pipeline(transaction=False) as pipe:
                pipe.hmget(keys.KNOWN, [form for group in forms for form in group])
                pipe.hmget(keys.MISSING, wanted)
                return list(pipe.execute())
        known_values, missing_values = retrying(fetch, self.outage, "reading the state of a listing page")
        position = 0
        for url, group in zip(wanted, forms, strict=True):
            found = next((v for v in known_values[position:position + len(group)] if v is not None), None)
            position += len(group)
            self.known[url] = decode_known(found) if found is not None else None
        for url, value in zip(wanted, missing_values, strict=True):
            self.missing[url] = value.decode() if isinstance(value, bytes) else value

    def known_article(self, url: str) -> KnownArticle | None:
        if url in self.known:
            return self.known[url]
        return self._read_known(url)

    def _read_known(self, url: str) -> KnownArticle | None:
        """The hash holds each article under its URL and its aliases; the slash variant is looked up here, as
        Archive.resolve_url does, instead of being stored (half the memory)."""
        values = retrying(lambda: self.client.hmget(keys.KNOWN, list(url_forms(url))), self.outage,
                          "reading known articles")
        found = next((v for v in values if v is not None), None)
        return decode_known(found) if found is not None else None

    def missing_since(self, url: str) -> str | None:
        if url in self.missing:
            return self.missing[url]
        value = retrying(lambda: self.client.hget(keys.MISSING, url), self.outage, "reading missing pages")
        return value.decode() if isinstance(value, bytes) else value

    def previous_run_unfinished(self, spider: str, start_url: str) -> int | None:
        value = retrying(lambda: self.client.hget(keys.LAST_RUNS, keys.last_run_field(spider, start_url)),
                         self.outage, "reading the last run")
        if value is None:
            return None
        crawl_id, status = json.loads(value)
        return int(crawl_id) if status in UNFINISHED_STATUSES else None


def sync_from_archive(client: redis.Redis, archive: Archive) -> dict[str, int]:
    """Rebuild the three state hashes from the archive (the archiver does this at start, so a Redis that lost its
    data, or an archive restored from a backup, is reflected before any worker reads it). Built under temporary
    keys and renamed in one step: a worker never sees a half-built hash."""
    archived = "crawls" in archive.db.table_names()
    # each article under its own URL and its aliases, not the slash variants known_articles() adds
    known = {url: article for url, article in archive.known_articles().items()
             if url == article.url or url not in url_forms(article.url)} if archived else {}
    missing = archive.missing_since() if archived else {}
    last_runs: dict[str, str] = {}
    if archived:
        for row in archive.db.query("SELECT spider, start_url, id, status FROM crawls WHERE id IN "
                                    "(SELECT max(id) FROM crawls GROUP BY spider, start_url)"):
            last_runs[keys.last_run_field(row["spider"], row["start_url"])] = json.dumps([row["id"], row["status"]])
    built: dict[str, Iterator[tuple[str, str]]] = {keys.KNOWN: ((url, encode_known(a)) for url, a in known.items()),
             keys.MISSING: iter(missing.items()), keys.LAST_RUNS: iter(last_runs.items())}
    for key, pairs in built.items():
        temporary = key + ":sync"
        client.delete(temporary)
        while chunk := dict(islice(pairs, SYNC_CHUNK)):
            client.hset(temporary, mapping=chunk)  # type: ignore[arg-type]
        with client.pipeline() as pipe:  # MULTI: delete and rename together
            pipe.delete(key)
            if client.exists(temporary):
                pipe.rename(temporary, key)
            pipe.execute()
    return {"known": len(known), "missing": len(missing), "last_runs": len(last_runs)}


class StateChanges:
    """What one archiver batch changes in the state hashes, applied after the batch's commit."""

    def __init__(self) -> None:
        self.known: dict[str, str] = {}
        self.not_missing: set[str] = set()
        self.missing: dict[str, str] = {}
        self.last_runs: dict[str, str] = {}

    def article_stored(self, row: dict[str, Any], aliases: Iterable[str]) -> None:
        value = encode_known(KnownArticle(url=row["url"], published_at=row["published_at"], etag=row["etag"],
                                          last_modified=row["last_modified"]))
        for form in {row["url"], *aliases}:
            self.known[form] = value
            self.not_missing.add(form)
            self.missing.pop(form, None)

    def page_missing(self, url: str, failed_at: str) -> None:
        self.missing[url] = failed_at
        self.not_missing.discard(url)

    def crawl(self, spider: str, start_url: str | None, crawl_id: int, status: str) -> None:
        self.last_runs[keys.last_run_field(spider, start_url)] = json.dumps([crawl_id, status])

    def apply(self, pipe: Any) -> None:
        if self.known:
            pipe.hset(keys.KNOWN, mapping=self.known)
        if self.not_missing:
            pipe.hdel(keys.MISSING, *self.not_missing)
        if self.missing:
            pipe.hset(keys.MISSING, mapping=self.missing)
        if self.last_runs:
            pipe.hset(keys.LAST_RUNS, mapping=self.last_runs)
