"""What happens to a fetched article: extract -> validate -> archive, in this process or in a worker process.

The chain is CPU-bound (HTML parsing, extraction, SQLite and FTS writes), so by default it runs in one
worker process beside Scrapy's (NEWSCRAWL_EXTRACT_PROCESSES=1): the crawl engine keeps fetching on one core
while the worker extracts and stores on the other, and the worker is the archive's only writer during a crawl.
"""

from __future__ import annotations

import multiprocessing.util
import os
import signal
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from newscrawl.archive import Archive
from newscrawl.errors import exception_cause, one_line
from newscrawl.items import SKIP_BODY_TOO_LONG, Article, FetchedArticle, MissingPage, NotModified, Problem, \
    ProblemCode, SkippedPage
from newscrawl.pages.article import extract_page
from newscrawl.pages.layers import Layer
from newscrawl.pages.text import content_type, decode_html
from newscrawl.sites import Profile, load_profile_file

REQUIRED = ("url", "title")
FAILED = "failed"
"""Outcome.kind of an item that could not be stored: the error cause is in Outcome.reason."""


@dataclass(frozen=True)
class Outcome:
    """What became of one item; sent back from the worker, so it stays small."""

    kind: str
    """"new", "updated", "unchanged", "not_modified", "missing", "skipped", "dropped" or FAILED."""
    url: str
    reason: str | None = None
    """Why an item was dropped ("no_title"), or the error cause of a FAILED one ("disk_full")."""
    layers: dict[str, str] = field(default_factory=dict)
    problems: int = 0
    extraction_error: str | None = None
    error: str | None = None
    """A FAILED item's exception, on one line."""


def validate(article: Article) -> str | None:
    """The reason an article cannot be archived, or None: it needs a URL and a title; the rest may be missing."""
    for name in REQUIRED:
        if not getattr(article, name, None):
            return f"no_{name}"
    return None


def extract_fetched(item: FetchedArticle, profile: Profile | None) -> tuple[Article, str | None]:
    """The article of a fetched page; if extraction itself fails, what the listing said, with the reason."""
    page, hint = item.page, item.hint
    fetched_at = datetime.fromisoformat(page.fetched_at)
    try:
        article = extract_page(decode_html(page.body, content_type(page.headers)), page.final_url, fetched_at,
                               profile, hint)
        error = None
    except Exception as exc:  # keep what we know and say why
        error = one_line(exc)
        article = Article(url=page.final_url, title=hint.title, lead=hint.lead, fetched_at=page.fetched_at,
                          extraction={"title": Layer.LISTING} if hint.title else {},
                          problems=[Problem(ProblemCode.EXTRACTION_FAILED, error)])
    article.etag, article.last_modified = item.etag, item.last_modified
    return article, error


class ItemProcessor:
    """Owns the archive connection and the site profile for the length of a crawl.

    An archive that cannot be opened (read-only, disk full) does not raise here: every item then fails with
    that cause, so the crawl counts it like any other storage error instead of losing the worker.
    """

    def __init__(self, db_path: str, profile_path: str | None, store_raw: bool, max_body_chars: int = 0) -> None:
        self.archive: Archive | None = None
        self.open_error: BaseException | None = None
        self.profile: Profile | None = None
        self.store_raw = store_raw
        self.max_body_chars = max_body_chars
        self.db_path = db_path
        try:
            self.archive = Archive(db_path)
            self.profile = load_profile_file(profile_path) if profile_path else None
        except Exception as exc:  # reported per item by handle()
            self.open_error = exc

    def close(self) -> None:
        if self.archive is not None:
            self.archive.close()

    def handle(self, item: Any) -> Outcome:
        try:
            if self.open_error is not None:
                return self.failed(item, self.open_error)
            return self._handle(item)
        except Exception as exc:  # any failure in the chain is this item's error, with its cause
            return self.failed(item, exc)

    def failed(self, item: Any, exc: BaseException) -> Outcome:
        return Outcome(FAILED, item_url(item), reason=exception_cause(exc, self.db_path), error=one_line(exc))

    def _handle(self, item: Any) -> Outcome:
        assert self.archive is not None
        if isinstance(item, NotModified):
            self.archive.touch_article(item.url, item.fetched_at)
            return Outcome("not_modified", item.url)
        if isinstance(item, MissingPage):
            self.archive.record_missing(item.url, item.status, item.fetched_at)
            return Outcome("missing", item.url)
        if isinstance(item, SkippedPage):
            self.archive.record_skipped(**vars(item))
            return Outcome("skipped", item.url, reason=item.reason)
        article, error = extract_fetched(item, self.profile)
        reason = validate(article) or self.body_over_limit(article, item)
        if reason:
            return Outcome("dropped", article.url, reason=reason, extraction_error=error)
        raw = vars(item.page) if self.store_raw else None
        kind = self.archive.upsert_article(article.as_dict(), raw_page=raw, aliases=(item.page.url,))
        return Outcome(kind, article.url, layers=dict(article.extraction), problems=len(article.problems),
                       extraction_error=error)

    def body_over_limit(self, article: Article, item: FetchedArticle) -> str | None:
        """SKIP_BODY_TOO_LONG, recorded in skipped_pages, when the body is over NEWSCRAWL_MAX_BODY_CHARS."""
        assert self.archive is not None
        length = len(article.body or "")
        if not self.max_body_chars or length <= self.max_body_chars:
            return None
        self.archive.record_skipped(
            url=article.url, reason=SKIP_BODY_TOO_LONG, fetched_at=item.page.fetched_at, status=item.page.status,
            content_type=content_type(item.page.headers),
            detail=f"body of {length} characters is over NEWSCRAWL_MAX_BODY_CHARS={self.max_body_chars}")
        return SKIP_BODY_TOO_LONG


def item_url(item: Any) -> str:
    """The URL an item is about, for messages (a FetchedArticle's final URL)."""
    page = getattr(item, "page", None)
    return str(getattr(page, "final_url", None) or getattr(item, "url", "?"))


_worker: ItemProcessor | None = None


def start_worker(db_path: str, profile_path: str | None, store_raw: bool, max_body_chars: int,
                 parent_pid: int) -> None:
    """Initializer of the worker process: open the archive, and leave as soon as the crawl process is gone."""
    global _worker
    # Ctrl-C reaches the whole process group: the crawl process stops gracefully and lets the worker drain
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _worker = ItemProcessor(db_path, profile_path, store_raw, max_body_chars)
    multiprocessing.util.Finalize(None, _worker.close, exitpriority=10)
    threading.Thread(target=_exit_with_parent, args=(parent_pid,), daemon=True).start()


def handle_in_worker(item: Any) -> Outcome:
    assert _worker is not None, "start_worker() did not run"
    return _worker.handle(item)


def _exit_with_parent(parent_pid: int) -> None:
    """A crawl killed with -9 cannot stop its worker: the worker notices it was orphaned and exits."""
    while os.getppid() == parent_pid:
        time.sleep(0.5)
    os._exit(0)
