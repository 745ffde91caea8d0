"""Item pipelines: validate (drop with a counted reason) and archive (one transaction per item)."""

from __future__ import annotations

from typing import Any

from scrapy.exceptions import DropItem

from newscrawl.archive import Archive
from newscrawl.items import Article, MissingPage, NotModified
from newscrawl.lock import acquire


class ValidatePipeline:
    """An article needs a URL and a title to be archived; anything else missing is stored with its reason."""

    def __init__(self, crawler: Any) -> None:
        self.stats = crawler.stats

    @classmethod
    def from_crawler(cls, crawler: Any) -> ValidatePipeline:
        return cls(crawler)

    def process_item(self, item: Any) -> Any:
        if isinstance(item, (NotModified, MissingPage)):
            return item
        for name in ("url", "title"):
            if not getattr(item, name, None):
                reason = f"no_{name}"
                self.stats.inc_value("newscrawl/dropped")
                self.stats.inc_value(f"newscrawl/dropped/{reason}")
                raise DropItem(f"{reason}: {getattr(item, 'url', None) or '(no url)'} not archived")
        return item


class ArchivePipeline:
    """Writes each article (and its raw page) to the SQLite archive as soon as it arrives."""

    def __init__(self, crawler: Any) -> None:
        settings = crawler.settings
        self.stats = crawler.stats
        self.db_path = settings.get("NEWSCRAWL_DB")
        self.store_raw = settings.getbool("NEWSCRAWL_STORE_RAW")
        self.archive: Archive | None = None

    @classmethod
    def from_crawler(cls, crawler: Any) -> ArchivePipeline:
        return cls(crawler)

    def open_spider(self, spider: Any = None) -> None:
        acquire(self.db_path)
        self.archive = Archive(self.db_path)

    def close_spider(self, spider: Any = None) -> None:
        if self.archive is not None:
            self.archive.close()

    def process_item(self, item: Any) -> Any:
        assert self.archive is not None
        if isinstance(item, NotModified):
            self.archive.touch_article(item.url, item.fetched_at)
            return item
        if isinstance(item, MissingPage):
            self.archive.record_missing(item.url, item.status, item.fetched_at)
            return item
        raw = item.raw_page if self.store_raw and isinstance(item, Article) else None
        data = item.as_dict() if isinstance(item, Article) else dict(item)
        outcome = self.archive.upsert_article(data, raw_page=vars(raw) if raw is not None else None)
        self.stats.inc_value(f"newscrawl/items_{outcome}")
        for name, layer in data.get("extraction", {}).items():
            self.stats.inc_value(f"newscrawl/layer/{name}/{layer}")
        if data.get("problems"):
            self.stats.inc_value("newscrawl/items_incomplete")
        return item
