"""Every Redis key the distributed crawl uses, named once. One Redis database serves one archive."""

from __future__ import annotations

import json
import os

PREFIX = "newscrawl:"
STREAM = PREFIX + "items"
"""Stream of worker messages (start, article, not_modified, missing, skipped, finish); entries are deleted once
the archiver has committed them, so its length is the backlog not yet archived."""
GROUP = "archiver"
"""The stream's consumer group."""
KNOWN = PREFIX + "known"
"""Hash: an archived article's URL and each of its aliases -> JSON [url, published_at, etag, last_modified];
readers also try the slash variant (newscrawl.urls.url_forms), which is not stored."""
MISSING = PREFIX + "missing"
"""Hash: URL -> when it last answered 404/410 (not archived since)."""
LAST_RUNS = PREFIX + "last_runs"
"""Hash: spider + TAB + start_url -> JSON [crawl id, status] of the latest crawls row."""
RUNS = PREFIX + "runs"
"""Hash: run id -> crawls row id, while the run is open."""
JOBS = PREFIX + "jobs"
"""List of queued job ids (enqueue pushes on the left, workers take from the right)."""
RUNNING = PREFIX + "jobs:running"
"""Hash: job id -> lease key of the job being run."""


def run_counts(run: str) -> str:
    """Hash: outcome kind -> count, for one run, kept by the archiver until the run's finish message."""
    return f"{PREFIX}run:{run}:counts"


def run_requests(run: str) -> str:
    return f"{PREFIX}run:{run}:requests"


def run_dupefilter(run: str) -> str:
    return f"{PREFIX}run:{run}:dupefilter"


def job(job_id: str) -> str:
    return f"{PREFIX}job:{job_id}"


def queued(spec_key: str) -> str:
    """String: the job id queued for this job spec (so cron does not pile up identical jobs)."""
    return f"{PREFIX}queued:{spec_key}"


def lease(host: str) -> str:
    return f"{PREFIX}lease:{host}"


def last_run_field(spider: str, start_url: str | None) -> str:
    return f"{spider}\t{start_url or ''}"


LEASE_ENV = "NEWSCRAWL_LEASE"
"""Environment variable the worker sets for its crawl: JSON [lease key, holder]. The crawl writes to the stream only
while the lease is still that holder's (fencing): a worker that stalled past its lease and lost the job to another
worker cannot add items or a finish to the run the other worker has closed."""


def crawl_lease() -> tuple[str, str] | None:
    """The lease this crawl runs under ([key, holder] from the worker), or None for a crawl no worker started."""
    value = os.environ.get(LEASE_ENV)
    if not value:
        return None
    key, holder = json.loads(value)
    return str(key), str(holder)
