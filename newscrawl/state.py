"""What a crawl knows from earlier runs, behind one small interface: the spider asks CrawlState and never opens
the archive. SqliteCrawlState reads it from the archive file one listing page at a time (look_up), so a crawl's
memory and start-up do not grow with the archive; a distributed crawl can back the same Protocol with a shared
store."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Protocol

from newscrawl.archive import Archive, KnownArticle

UNFINISHED_STATUSES = frozenset({"running", "killed", "interrupted"})
"""crawls.status values of a run that did not get to the end of its listing walk."""


class CrawlState(Protocol):
    def look_up(self, urls: Iterable[str]) -> None:
        """Read what earlier runs left about these canonical URLs (one listing page's cards, a feed's entries):
        known_article() and missing_since() answer for them until the next look_up()."""

    def known_article(self, url: str) -> KnownArticle | None:
        """The archived article a canonical URL names (its own URL, an alias or its slash variant), or None."""

    def missing_since(self, url: str) -> str | None:
        """When the canonical URL last answered 404/410 (ISO 8601), or None if it did not or was archived since."""

    def previous_run_unfinished(self, spider: str, start_url: str) -> int | None:
        """The crawl id of this spider's previous run on this start URL if it did not finish, else None."""


class SqliteCrawlState:
    """CrawlState read from the archive file (read-only; a missing or new file knows nothing).

    It answers as the archive was when the run started: articles and failures this run stores (ids and rowids
    past the marks taken at start) are not "known", so a card seen twice in one run is decided the same way
    twice. Each look_up() opens the file read-only for a few indexed queries and closes it again: no connection
    stays open beside the archive's writer."""

    def __init__(self, db_path: str | Path | None) -> None:
        self.known: dict[str, KnownArticle] = {}
        self.missing: dict[str, str] = {}
        self.db_path = db_path
        self.marks: tuple[int, int] | None = None
        """(last article id, last missing_pages rowid) at the start of the run; None: nothing to look up."""
        if not db_path or not Path(db_path).exists():
            return
        with Archive(db_path, readonly=True) as archive:
            if "crawls" not in archive.db.table_names():
                return
            self.marks = archive.state_marks()

    def look_up(self, urls: Iterable[str]) -> None:
        urls = list(dict.fromkeys(urls))
        if self.marks is None or not urls:
            self.known, self.missing = {}, {}
            return
        assert self.db_path is not None
        with Archive(self.db_path, readonly=True) as archive:
            self.known = archive.known_for(urls, self.marks[0])
            self.missing = archive.missing_for(urls, self.marks[1])

    def known_article(self, url: str) -> KnownArticle | None:
        return self.known.get(url)

    def missing_since(self, url: str) -> str | None:
        return self.missing.get(url)

    def previous_run_unfinished(self, spider: str, start_url: str) -> int | None:
        if not self.db_path or not Path(self.db_path).exists():
            return None
        with Archive(self.db_path, readonly=True) as archive:
            if "crawls" not in archive.db.table_names():
                return None
            last = archive.last_crawl(spider, start_url)
        return int(last["id"]) if last is not None and last["status"] in UNFINISHED_STATUSES else None
