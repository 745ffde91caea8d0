"""The baseline for bench/crawl.py: a bare Scrapy spider that walks the demo markup and does nothing else.

It follows the listing pagination (``a.pagination__next``) and every card's article link
(``a.news-card__title``) with plain CSS selectors; article responses are dropped on the floor
(no extraction, no items, no pipelines). Run it outside the repo root so no project settings load:

    python -m scrapy runspider bench/bare_spider.py -a start_url=http://127.0.0.1:PORT/kr/siyosat/
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import scrapy
from scrapy.http import Response


class BareSpider(scrapy.Spider):
    name = "bare"

    def __init__(self, start_url: str = "", **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.start_url = start_url

    async def start(self) -> AsyncIterator[scrapy.Request]:
        yield scrapy.Request(self.start_url, callback=self.parse_listing)

    def parse_listing(self, response: Response) -> Iterator[scrapy.Request]:
        for href in response.css("a.news-card__title::attr(href)").getall():
            yield response.follow(href, callback=self.parse_article)
        next_href = response.css("a.pagination__next::attr(href)").get()
        if next_href:
            yield response.follow(next_href, callback=self.parse_listing)

    def parse_article(self, response: Response) -> None:
        """Fetched is all the baseline does with an article."""
