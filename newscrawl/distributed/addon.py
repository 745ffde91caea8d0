"""The switch: a Scrapy add-on (settings.ADDONS) that does nothing unless NEWSCRAWL_REDIS_URL is set, and then
turns `scrapy crawl` into a distributed worker: scrapy-redis's scheduler and duplicate filter with keys of this
run, the stream pipeline instead of the archive pipeline, and the report that leaves the crawls row to the
archiver. Add-ons are applied after the command line, so `-s NEWSCRAWL_REDIS_URL=...` is seen here."""

from __future__ import annotations

import uuid
from typing import Any

from newscrawl.distributed import enabled, keys


class Distributed:
    def update_settings(self, settings: Any) -> None:
        if not enabled(settings):
            return
        from newscrawl.distributed.pipeline import StreamPipeline
        from newscrawl.distributed.report import RedisCrawlReport
        from newscrawl.extensions import CrawlReport
        from newscrawl.pipelines import ArchivePipeline

        run = settings.get("NEWSCRAWL_REDIS_RUN") or uuid.uuid4().hex
        if "%" in run:  # scrapy-redis formats its keys with %
            raise ValueError(f"bad setting NEWSCRAWL_REDIS_RUN={run!r}: must not contain %")
        values = {
            "NEWSCRAWL_REDIS_RUN": run,
            "SCHEDULER": "newscrawl.distributed.scheduler.RunScheduler",
            "DUPEFILTER_CLASS": "newscrawl.distributed.scheduler.RunDupeFilter",
            # last in, first out, like Scrapy's own memory queue (no request here has a priority): the crawl order,
            # and so which of two links to one article (listing card or feed entry) is followed, matches a
            # single-process crawl; one LPOP per request, nothing to lose half-way in a Redis restart
            "SCHEDULER_QUEUE_CLASS": "newscrawl.distributed.scheduler.RunQueue",
            "SCHEDULER_QUEUE_KEY": keys.run_requests(run),
            "SCHEDULER_DUPEFILTER_KEY": keys.run_dupefilter(run),
            "SCHEDULER_PERSIST": False,  # a finished run deletes its frontier; a killed one's expires
            "REDIS_URL": settings.get("NEWSCRAWL_REDIS_URL"),
            # scrapy-redis pickles requests into its queue; Scrapy's JOBDIR queues are not used by a worker
            "JOBDIR": None,
        }
        for name, value in values.items():
            settings.set(name, value, priority="cmdline")
        settings.replace_in_component_priority_dict("ITEM_PIPELINES", ArchivePipeline, StreamPipeline)
        settings.replace_in_component_priority_dict("EXTENSIONS", CrawlReport, RedisCrawlReport)
