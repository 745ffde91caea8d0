"""Every `newscrawl/...` stats key, named once: the spider, the pipeline and the extensions write them and
CrawlReport reads them, so a key spelled differently in two places cannot exist. Keys that take a suffix are
prefixes ending in "/" or "_" and are completed with a reason, cause, outcome kind or layer."""

from __future__ import annotations

# errors (newscrawl.errors.count_error writes these)
ERRORS = "newscrawl/errors"
"""Every counted error; ERRORS + "/" + cause per cause."""
ITEM_ERRORS = "newscrawl/item_errors"
"""Fetched articles that could not be stored (or were stored from the listing card only): a subset of ERRORS."""
WORKER_RESTARTS = "newscrawl/worker_restarts"
ARCHIVE_FAILED = "newscrawl/archive_failed"
"""Why the crawls row could not be written at all (a string), when it could not."""

# the crawl and its verdict
CRAWL_ID = "newscrawl/crawl_id"
EXIT_CODE = "newscrawl/exit_code"
"""The exit code CrawlReport decided for the run; the crawl command exits with it."""
ERROR_SHARE = "newscrawl/error_share"
START_FAILED = "newscrawl/start_failed"
"""Why the start page was unusable (a string)."""

# listing pages and discovery
LISTING_PAGES = "newscrawl/listing_pages"
EMPTY_LISTINGS = "newscrawl/empty_listings"
LISTING_SOURCE_PREFIX = "newscrawl/listing_source/"
"""+ the listing's source ("profile", "generic")."""
PAGINATION_REPEATED = "newscrawl/pagination_repeated"
"""Set when pagination stopped because a listing page brought no card unseen in this run."""
LISTING_CEILING = "newscrawl/listing_ceiling_hit"
"""The listing page at which NEWSCRAWL_MAX_LISTING_PAGES stopped pagination."""
FEEDS = "newscrawl/feeds"
MAX_PENDING = "newscrawl/max_pending"
"""The most requests seen scheduled or downloading at once (sampled as article responses arrive)."""
LISTINGS_HELD = "newscrawl/listings_held"
"""Listing pages held back because more than NEWSCRAWL_MAX_PENDING requests were pending."""
RETRY_AFTER_WAITS = "newscrawl/retry_after_waits"

# article requests and their outcomes
ARTICLES_FETCHED = "newscrawl/articles_fetched"
NOT_MODIFIED = "newscrawl/not_modified"
SKIPPED_PREFIX = "newscrawl/skipped_"
"""+ a reason: a SKIP_* reason of newscrawl.items, or one of the SKIPPED_* below."""
SKIPPED_ARCHIVED = SKIPPED_PREFIX + "archived"
SKIPPED_MISSING = SKIPPED_PREFIX + "missing"
SKIPPED_IGNORED = SKIPPED_PREFIX + "ignored"
ITEMS_PREFIX = "newscrawl/items_"
"""+ an OutcomeKind of a stored article: new, updated, unchanged."""
ITEMS_INCOMPLETE = "newscrawl/items_incomplete"
DROPPED = "newscrawl/dropped"
"""Articles not archived on purpose; DROPPED + "/" + reason per reason."""
LAYER_PREFIX = "newscrawl/layer/"
"""+ field + "/" + the extraction layer that filled it."""


def skipped(reason: str) -> str:
    return SKIPPED_PREFIX + reason


def items(kind: str) -> str:
    return ITEMS_PREFIX + kind


def dropped(reason: str) -> str:
    return f"{DROPPED}/{reason}"


def layer(field: str, name: str) -> str:
    return f"{LAYER_PREFIX}{field}/{name}"


def listing_source(source: str) -> str:
    return LISTING_SOURCE_PREFIX + source

# the distributed crawl (newscrawl/distributed, docs/distributed.md)
ITEMS_QUEUED = "newscrawl/items_queued"
"""Items a distributed worker put on the Redis stream for the archiver (stored/new/updated are the archiver's)."""
REDIS_OUTAGES = "newscrawl/redis_outages"
"""Times a distributed worker found Redis unreachable and backed off."""
BACKLOG_WAITS = "newscrawl/backlog_waits"
"""Times a distributed worker paused because the archiver's backlog was over NEWSCRAWL_REDIS_BACKLOG."""
REDIS_UNAVAILABLE_REASON = "redis_unavailable"
"""The close reason of a worker that gave up after NEWSCRAWL_REDIS_OUTAGE_SECONDS without Redis."""
