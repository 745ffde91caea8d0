"""NEWSCRAWL_EXTRACT_PROCESSES: a number, or "auto" (one extraction process per core but one, at least one); the
extraction pool's batches."""

from __future__ import annotations

import asyncio
import os
import threading
from typing import Any

import pytest
from scrapy.settings import Settings

import newscrawl.settings
from newscrawl.arguments import settings_problem
from newscrawl.items import FetchedArticle, RawPage
from newscrawl.pages.article import ListingHint
from newscrawl.processing import ExtractionPool, Extracted, extract_processes
from newscrawl.sites import load_profile


def project(**values: str) -> Settings:
    settings = Settings()
    settings.setmodule(newscrawl.settings)
    settings.update(values)
    return settings


def test_auto_is_the_default_and_leaves_the_crawl_process_a_core(monkeypatch: pytest.MonkeyPatch) -> None:
    assert settings_problem(project()) is None
    for cores, expected in ((1, 1), (2, 1), (8, 7), (None, 1), (64, 32)):
        monkeypatch.setattr(os, "cpu_count", lambda cores=cores: cores)
        assert extract_processes(project()) == expected, cores
    assert extract_processes(project(NEWSCRAWL_EXTRACT_PROCESSES=" AUTO ")) == 32


@pytest.mark.parametrize("value, expected", [("0", 0), ("3", 3)])
def test_a_number_is_taken_as_given(value: str, expected: int) -> None:
    assert extract_processes(project(NEWSCRAWL_EXTRACT_PROCESSES=value)) == expected


@pytest.mark.parametrize("value", ["many", "-1", "33", ""])
def test_anything_else_is_refused_with_one_line(value: str) -> None:
    problem = settings_problem(project(NEWSCRAWL_EXTRACT_PROCESSES=value))
    assert problem is not None and problem.startswith("bad setting NEWSCRAWL_EXTRACT_PROCESSES=")
    assert "auto or a whole number from 0 to 32" in problem


def _fetched(number: int, headers: dict[str, Any] | None = None) -> FetchedArticle:
    url = f"http://127.0.0.1:8765/kr/news/2025/11/15/story-{number}/"
    body = (f"<html><body><article><h1 class='news-single__title'>Сарлавҳа {number}</h1>"
            "<div class='news-single__body'><p>Матн.</p></div></article></body></html>").encode()
    return FetchedArticle(page=RawPage(url=url, final_url=url, status=200, body=body,
                                       fetched_at="2025-11-15T12:00:00+00:00",
                                       headers=headers or {"Content-Type": "text/html; charset=utf-8"}),
                          hint=ListingHint())


def test_pages_arriving_together_go_to_the_worker_in_batches_and_a_bad_page_fails_alone() -> None:
    """A real worker process: 40 pages at once go in far fewer hand-offs than pages, every page gets its own
    article back, and a page that cannot be pickled fails with its own cause while its batch-mates are extracted."""
    unpicklable = 17
    pool = ExtractionPool(1, load_profile("demo"), stats=lambda: None, give_up=lambda cause: None)
    pool.start()

    async def crawl() -> list[Extracted]:
        items = [_fetched(n, {"X-Bad": threading.Lock()} if n == unpicklable else None) for n in range(40)]
        return await asyncio.gather(*(pool.extract(item) for item in items))

    try:
        results = asyncio.run(crawl())
    finally:
        pool.close()
    assert pool.batches < 20, pool.batches
    for number, extracted in enumerate(results):
        if number == unpicklable:
            assert extracted.article is None and extracted.cause and "pickle" in (extracted.error or ""), extracted
        else:
            assert extracted.article is not None and extracted.article.title == f"Сарлавҳа {number}", number
