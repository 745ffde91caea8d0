"""CollectorTuning: the crawl process's garbage-collector threshold is NEWSCRAWL_GC_THRESHOLD while the engine
runs, start-up objects are frozen out of the scans, and both are undone when the engine stops."""

from __future__ import annotations

import gc

import pytest
from scrapy.exceptions import NotConfigured
from scrapy.utils.test import get_crawler

from newscrawl.arguments import ArgumentProblem
from newscrawl.collector import CollectorTuning
from newscrawl.settings import EXTENSIONS, NEWSCRAWL_GC_THRESHOLD


def test_the_threshold_holds_while_the_engine_runs_and_is_restored_after() -> None:
    assert "newscrawl.collector.CollectorTuning" in EXTENSIONS and NEWSCRAWL_GC_THRESHOLD > 700
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
