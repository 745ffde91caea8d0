"""NEWSCRAWL_EXTRACT_PROCESSES: a number, or "auto" (one extraction process per core but one, at least one)."""

from __future__ import annotations

import os

import pytest
from scrapy.settings import Settings

import newscrawl.settings
from newscrawl.arguments import settings_problem
from newscrawl.processing import extract_processes


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
