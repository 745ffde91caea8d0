"""Scrapy settings for newscrawl; our own settings are NEWSCRAWL_* (override with -s NAME=value)."""

BOT_NAME = "newscrawl"
SPIDER_MODULES = ["newscrawl.spiders"]
NEWSPIDER_MODULE = "newscrawl.spiders"
COMMANDS_MODULE = "newscrawl.commands"

USER_AGENT = "newscrawl/0.1 (+https://github.com/newscrawl/newscrawl; news archive crawler)"
ROBOTSTXT_OBEY = True

CONCURRENT_REQUESTS = 16
# Items processed in parallel per response. An article response yields one item, and Scrapy starts this many
# asyncio workers for every response's output, so the default of 100 costs ~1 ms of CPU per article for nothing.
CONCURRENT_ITEMS = 8
# Scrapy checks every generator callback for a `return value` by reading its source and parsing it with ast; its
# cache is keyed by weak reference, so a bound method (a new object per request) is parsed again for every
# listing page: ~5 ms each, 0.4 s of a 1,500-article crawl (py-spy). ruff and the tests cover what it warns of.
WARN_ON_GENERATOR_RETURN_VALUE = False
CONCURRENT_REQUESTS_PER_DOMAIN = 4
DOWNLOAD_DELAY = 0.25
AUTOTHROTTLE_ENABLED = True
AUTOTHROTTLE_START_DELAY = 0.5
AUTOTHROTTLE_MAX_DELAY = 30.0
AUTOTHROTTLE_TARGET_CONCURRENCY = 2.0
DOWNLOAD_TIMEOUT = 30
RETRY_ENABLED = True
RETRY_TIMES = 2
RETRY_HTTP_CODES = [500, 502, 503, 504, 522, 524, 408, 429]
HTTPERROR_ALLOWED_CODES = [404, 410]
REDIRECT_ENABLED = True
COOKIES_ENABLED = False
# Least exposure: an unattended crawl opens no control server and leaves no job file in the user's profile
# (docs/operations.md says how to turn them on for debugging).
TELNETCONSOLE_ENABLED = False
REMOTE_CONTROL_ENABLED = False
LOG_LEVEL = "INFO"
LOGSTATS_INTERVAL = 60.0

DOWNLOADER_MIDDLEWARES = {
    # RetryAfterMiddleware is Scrapy's RetryMiddleware plus Retry-After; it takes its place.
    "scrapy.downloadermiddlewares.retry.RetryMiddleware": None,
    "newscrawl.middlewares.RetryAfterMiddleware": 550,
    # Scrapy's HttpCompressionMiddleware (590) with its over-size refusal made recognisable; it takes its place.
    "scrapy.downloadermiddlewares.httpcompression.HttpCompressionMiddleware": None,
    "newscrawl.middlewares.BoundedCompressionMiddleware": 590,
    # Scrapy's MetaRefreshMiddleware without decoding pages that cannot hold a meta refresh; it takes its place.
    "scrapy.downloadermiddlewares.redirect.MetaRefreshMiddleware": None,
    "newscrawl.middlewares.LeanMetaRefreshMiddleware": 580,
}

ITEM_PIPELINES = {
    "newscrawl.pipelines.ArchivePipeline": 800,
}
TWISTED_REACTOR = "twisted.internet.asyncioreactor.AsyncioSelectorReactor"
# Scrapy's MemoryStatsCollector without the deprecation shim that costs ~1.5 us on every stats call.
STATS_CLASS = "newscrawl.tuning.LeanStatsCollector"
EXTENSIONS = {
    "newscrawl.extensions.CrawlReport": 500,
    "newscrawl.tuning.CollectorTuning": 0,
}
# Off unless NEWSCRAWL_REDIS_URL is set: then a distributed worker (newscrawl/distributed/addon.py)
ADDONS = {
    "newscrawl.distributed.addon.Distributed": 0,
}

REQUEST_FINGERPRINTER_IMPLEMENTATION = "2.7"
FEED_EXPORT_ENCODING = "utf-8"

NEWSCRAWL_DB = "data/news.db"
NEWSCRAWL_START_URL = ""
NEWSCRAWL_SITE = ""
NEWSCRAWL_MAX_PAGES = 5
NEWSCRAWL_REFRESH_HOURS = 48
NEWSCRAWL_STORE_RAW = True
NEWSCRAWL_MAX_ERROR_SHARE = 0.5
NEWSCRAWL_DRIFT_SHARE = 0.5
NEWSCRAWL_PROGRESS_EVERY = 100
NEWSCRAWL_MISSING_RETRY_HOURS = 24
# "auto": one extraction process per core but one (the crawl process needs one); at least 1
NEWSCRAWL_EXTRACT_PROCESSES = "auto"
NEWSCRAWL_DEMO_PORT = 8765
NEWSCRAWL_DEMO_NOW = ""
# Limits (docs/operations.md, "Limits"). NEWSCRAWL_MAX_PAGE_BYTES becomes Scrapy's DOWNLOAD_MAXSIZE, which
# Scrapy enforces while receiving and while decompressing; 2 MiB keeps the extraction of one page at the limit
# to about a second for ordinary markup and 25 s for the worst shape measured (a page of bare links).
NEWSCRAWL_MAX_PAGE_BYTES = 2 * 1024 * 1024
NEWSCRAWL_MAX_BODY_CHARS = 500_000
NEWSCRAWL_MAX_LISTING_LINKS = 500
NEWSCRAWL_MAX_LISTING_PAGES = 1000
NEWSCRAWL_MAX_RETRY_AFTER = 120
# The next listing page waits while more requests than this are scheduled or downloading, so the queue (and the
# crawl's memory) stays bounded however long the listing walk is.
NEWSCRAWL_MAX_PENDING = 100
# The crawl process's young-generation garbage-collection threshold (Python's default: 700; 0 leaves it alone):
# ~0.6 ms of CPU less per article for ~3 MB (newscrawl/tuning.py has the measurements).
NEWSCRAWL_GC_THRESHOLD = 20_000
# The distributed crawl (docs/distributed.md); empty URL = off, the crawl stores into NEWSCRAWL_DB itself.
NEWSCRAWL_REDIS_URL = ""
NEWSCRAWL_REDIS_RUN = ""
NEWSCRAWL_REDIS_BACKLOG = 2000
NEWSCRAWL_REDIS_OUTAGE_SECONDS = 600
