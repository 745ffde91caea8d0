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
TELNETCONSOLE_ENABLED = False
LOG_LEVEL = "INFO"
LOGSTATS_INTERVAL = 60.0

ITEM_PIPELINES = {
    "newscrawl.pipelines.ArchivePipeline": 800,
}
TWISTED_REACTOR = "twisted.internet.asyncioreactor.AsyncioSelectorReactor"
EXTENSIONS = {
    "newscrawl.extensions.CrawlReport": 500,
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
NEWSCRAWL_EXTRACT_PROCESSES = 1
NEWSCRAWL_DEMO_PORT = 8765
