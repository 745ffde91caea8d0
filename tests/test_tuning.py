"""newscrawl.tuning: the crawl process's garbage-collector threshold is NEWSCRAWL_GC_THRESHOLD while the engine
runs (start-up objects frozen out of the scans, both undone when it stops), and the lean stats collector stores what
Scrapy's stores."""

from __future__ import annotations

import gc
import warnings

import pytest
from scrapy.exceptions import NotConfigured, ScrapyDeprecationWarning
from scrapy.statscollectors import MemoryStatsCollector
from scrapy.utils.test import get_crawler

from newscrawl.arguments import ArgumentProblem
from newscrawl.settings import EXTENSIONS, NEWSCRAWL_GC_THRESHOLD, STATS_CLASS
from newscrawl.tuning import CollectorTuning, LeanStatsCollector


def test_the_threshold_holds_while_the_engine_runs_and_is_restored_after() -> None:
    assert "newscrawl.tuning.CollectorTuning" in EXTENSIONS and NEWSCRAWL_GC_THRESHOLD > 700
    before = gc.get_threshold()
    tuning = CollectorTuning.from_crawler(get_crawler(settings_dict={"NEWSCRAWL_GC_THRESHOLD": NEWSCRAWL_GC_THRESHOLD}))
    tuning.engine_started()
    try:
        assert gc.get_threshold() == (NEWSCRAWL_GC_THRESHOLD, *before[1:])
        assert gc.get_freeze_count() > 1000, "start-up objects are not frozen"
    finally:
        tuning.engine_stopped()
    assert gc.get_threshold() == before
    assert gc.get_freeze_count() == 0


def test_zero_leaves_the_collector_alone_and_a_bad_value_is_refused() -> None:
    with pytest.raises(NotConfigured):
        CollectorTuning.from_crawler(get_crawler(settings_dict={"NEWSCRAWL_GC_THRESHOLD": 0}))
    with pytest.raises(ArgumentProblem, match="NEWSCRAWL_GC_THRESHOLD"):
        CollectorTuning.from_crawler(get_crawler(settings_dict={"NEWSCRAWL_GC_THRESHOLD": -5}))


def test_the_lean_stats_collector_stores_what_scrapys_stores() -> None:
    """The same calls, with and without the deprecated spider argument, give the same stats as Scrapy's own
    collector; and it is the project's STATS_CLASS."""
    assert STATS_CLASS == "newscrawl.tuning.LeanStatsCollector"
    results = []
    for kind in (MemoryStatsCollector, LeanStatsCollector):
        stats = kind(get_crawler(settings_dict={}))
        stats.inc_value("a")
        stats.inc_value("a", 2)
        stats.max_value("m", 3)
        stats.max_value("m", 1)
        stats.min_value("n", 4)
        stats.set_value("s", "x")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ScrapyDeprecationWarning)
            stats.inc_value("b", spider=None)
        results.append((stats.get_stats(), stats.get_value("a"), stats.get_value("missing", 7)))
    assert results[0] == results[1]
    assert results[1][0] == {"a": 3, "m": 3, "n": 4, "s": "x", "b": 1}
