"""The reusable category spider: walks a category's listing pages and fetches the articles they link to."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from datetime import datetime, timedelta, timezone
from typing import Any, cast
from urllib.parse import urljoin, urlsplit

import scrapy
from scrapy import signals
from scrapy.exceptions import DontCloseSpider, IgnoreRequest
from scrapy.http import HtmlResponse, Response, TextResponse
from scrapy.responsetypes import responsetypes
from scrapy.spidermiddlewares.httperror import HttpError
from scrapy.utils.sitemap import sitemap_urls_from_robots
from twisted.internet import defer
from twisted.internet.error import ConnectionRefusedError, DNSLookupError, TCPTimedOutError, TimeoutError
from twisted.python.failure import Failure

from newscrawl import statkeys
from newscrawl.archive import KnownArticle, utc_now
from newscrawl.arguments import ArgumentProblem, max_pages_argument, setting_value, settings_problem, since_argument
from newscrawl.errors import (
    CONNECTION_REFUSED,
    DNS_ERROR,
    EXTRACTION_FAILED,
    PROCESSING_FAILED,
    REDIRECT_LOOP,
    REQUEST_FAILED,
    SCRAPY_MAX_REDIRECTS,
    TIMEOUT,
    count_error,
    http_cause,
)
from newscrawl.feeds import feed_entries
from newscrawl.items import (
    SKIP_EMPTY,
    SKIP_NOT_HTML,
    SKIP_TOO_LARGE,
    SKIP_TOO_MANY_LINKS,
    Article,
    FetchedArticle,
    MissingPage,
    NotModified,
    RawPage,
    SkippedPage,
)
from newscrawl.middlewares import PageTooLarge
from newscrawl.pages.article import ListingHint
from newscrawl.pages.listing import ListingPage, parse_listing
from newscrawl.processing import ExtractionPool, extract_processes
from newscrawl.pages.sitedates import card_date
from newscrawl.sites import Profile, load_profile, resolve_profile
from newscrawl.state import CrawlState, SqliteCrawlState
from newscrawl.urls import canonical_url

LISTING_PRIORITY = 10
"""A listing page goes before the queued articles once it is let go: it refills the queue (see hold_listing)."""

NO_START_URL = ("no start URL configured: pass -a start_url=URL or -s NEWSCRAWL_START_URL=URL (the scrapy crawl "
                "and newscrawl crawl commands serve the bundled demo site when neither is given)")


class CategorySpider(scrapy.Spider):
    """`scrapy crawl category -a site=NAME -a category=SLUG` or `-a start_url=URL`; see the README for arguments."""

    name = "category"
    default_category: str | None = None
    handle_httpstatus_list = [304, 404, 410]  # noqa: RUF012 (Scrapy reads this attribute; nothing changes it)

    def __init__(self, start_url: str | None = None, site: str | None = None, category: str | None = None,
                 max_pages: str | int | None = None, since: str | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.start_url_arg = start_url
        self.site_arg = site
        self.category = category or self.default_category
        self.max_pages_arg = max_pages_argument(max_pages)
        self.since = since_argument(since)
        # set from the crawler's settings in from_crawler
        self.max_pages = 0
        self.backfill = False
        self.refresh = timedelta(0)
        self.missing_retry = timedelta(0)
        self.max_listing_pages = 0
        self.max_listing_links = 0
        self.seen_cards: set[int] = set()
        """hash() of every card URL seen in this run, for cycle detection: an int per card instead of its URL
        string (a collision among 64-bit hashes of one run's URLs is not to be expected)."""
        self.start_url = ""
        self.profile: Profile | None = None
        self.crawl_state: CrawlState | None = None
        self.extractor: ExtractionPool | None = None
        self.allowed_domains: list[str] = []
        self.closing: asyncio.Future[None] | None = None
        """The task closing the spider after stop_crawl(), kept so it is not garbage-collected."""
        self.max_pending = 0
        self.held_listing: scrapy.Request | None = None
        """The next listing page, held back while more than max_pending requests are pending."""

    @classmethod
    def update_settings(cls, settings: Any) -> None:
        """Refuse unusable NEWSCRAWL_* values, and make NEWSCRAWL_MAX_PAGE_BYTES Scrapy's own size limit, which
        its download handler enforces while receiving and HttpCompressionMiddleware while decompressing."""
        super().update_settings(settings)
        problem = settings_problem(settings)
        if problem:
            raise ArgumentProblem(problem)
        limit = setting_value(settings, "NEWSCRAWL_MAX_PAGE_BYTES")
        settings.set("DOWNLOAD_MAXSIZE", limit, priority="spider")
        settings.set("DOWNLOAD_WARNSIZE", limit // 2, priority="spider")

    @classmethod
    def from_crawler(cls, crawler: Any, *args: Any, **kwargs: Any) -> CategorySpider:
        spider = super().from_crawler(crawler, *args, **kwargs)
        settings = crawler.settings
        spider.max_pages = spider.max_pages_arg if spider.max_pages_arg is not None else settings.getint(
            "NEWSCRAWL_MAX_PAGES")
        spider.backfill = spider.max_pages_arg is not None or spider.since is not None
        spider.refresh = timedelta(hours=settings.getfloat("NEWSCRAWL_REFRESH_HOURS"))
        spider.max_listing_pages = settings.getint("NEWSCRAWL_MAX_LISTING_PAGES")
        spider.max_listing_links = settings.getint("NEWSCRAWL_MAX_LISTING_LINKS")
        site = spider.site_arg or settings.get("NEWSCRAWL_SITE") or "auto"
        spider.start_url = spider._resolve_start_url(settings, site)
        spider.profile = resolve_profile(site, spider.start_url)
        spider.missing_retry = timedelta(hours=settings.getfloat("NEWSCRAWL_MISSING_RETRY_HOURS"))
        spider.crawl_state = spider.open_state(settings)
        unfinished = spider.crawl_state.previous_run_unfinished(spider.name, spider.start_url)
        if unfinished is not None:
            spider.logger.info("The previous run (crawl #%s) did not finish: following every listing page this "
                               "time", unfinished)
            spider.backfill = True
        # the host as requests carry it (an IDN host in punycode), or the offsite filter drops every article
        spider.allowed_domains = [urlsplit(canonical_url(spider.start_url)).hostname or ""]
        spider.extractor = ExtractionPool(extract_processes(settings), spider.profile,
                                          lambda: crawler.stats, give_up=spider.stop_crawl)
        crawler.signals.connect(spider.extractor.start, signal=signals.spider_opened)
        spider.max_pending = settings.getint("NEWSCRAWL_MAX_PENDING")
        crawler.signals.connect(spider.release_listing, signal=signals.request_left_downloader)
        crawler.signals.connect(spider.idle, signal=signals.spider_idle)
        return spider

    def open_state(self, settings: Any) -> CrawlState:
        """What earlier runs left: read from the archive here, or from Redis for a distributed worker."""
        if settings.get("NEWSCRAWL_REDIS_URL"):
            from newscrawl.distributed.state import RedisCrawlState
            return RedisCrawlState.from_settings(settings)
        return SqliteCrawlState(settings.get("NEWSCRAWL_DB"))

    def stop_crawl(self, reason: str) -> None:
        # kept, so the task cannot be garbage-collected before the engine has closed the spider
        self.closing = asyncio.ensure_future(self.crawler.engine.close_spider_async(reason=reason))

    def _resolve_start_url(self, settings: Any, site: str) -> str:
        """-a start_url, else NEWSCRAWL_START_URL, else the profile's base_url + category."""
        if self.start_url_arg or settings.get("NEWSCRAWL_START_URL"):
            return str(self.start_url_arg or settings.get("NEWSCRAWL_START_URL"))
        profile: Profile | None = load_profile(site) if site not in ("auto", "none") else None
        if profile is not None and profile.name != "demo":
            if profile.base_url and self.category in profile.categories:
                return urljoin(profile.base_url, profile.categories[self.category])
            raise ValueError(f"site profile {profile.path} has no base_url or no category "
                             f"{self.category!r}: pass -a start_url=URL")
        raise ValueError(NO_START_URL)

    def closed(self, reason: str) -> None:
        if self.extractor is not None:
            self.extractor.close()

    async def start(self) -> AsyncIterator[scrapy.Request]:
        yield scrapy.Request(self.start_url, callback=self.parse_listing, errback=self.start_failed,
                             meta={"page": 1}, dont_filter=True)

    def start_failed(self, failure: Failure) -> list[SkippedPage] | None:
        self.crawler.stats.set_value(statkeys.START_FAILED, _failure_reason(failure))
        self.logger.error("Start page %s failed: %s", self.start_url, _failure_reason(failure))
        if failure.check(PageTooLarge):
            return self.page_too_large(failure)
        return None

    def parse_listing(self, response: Response) -> Iterator[scrapy.Request | SkippedPage]:
        stats = self.crawler.stats
        if response.status >= 400:
            self.start_failed_status(response)
            return
        page_number = response.meta.get("page", 1)
        stats.inc_value(statkeys.LISTING_PAGES)
        fetched_at = datetime.now(timezone.utc)
        skipped = self.not_an_html_page(response, fetched_at.isoformat(timespec="seconds"))
        if skipped is not None:
            if page_number == 1:
                stats.set_value(statkeys.START_FAILED, skipped.detail)
            yield skipped
            return
        listing = parse_listing(response.text, response.url, self.profile, max_cards=self.max_listing_links)
        if listing.more_cards:
            yield self.too_many_links(response, listing)
        if not listing.cards:
            self.logger.warning("Listing page %s has no article links", response.url)
            stats.inc_value(statkeys.EMPTY_LISTINGS)
            if page_number == 1:
                stats.set_value(statkeys.START_FAILED, "no article links on the start page")
        stats.inc_value(statkeys.listing_source(listing.source))
        fresh = older = 0
        unseen = {hash(card.url) for card in listing.cards} - self.seen_cards
        self.seen_cards |= unseen
        assert self.crawl_state is not None
        self.crawl_state.look_up(canonical_url(card.url) for card in listing.cards)
        requests = []  # decided before the first yield: another callback's look_up() may run at a yield
        for card in listing.cards:
            hint = ListingHint(time_text=card.time_text, fetched_at=fetched_at, title=card.title, lead=card.lead,
                               category=card.category)
            if self.before_since(hint):
                older += 1
                continue
            request = self.article_request(card.url, hint)
            if request is not None:
                fresh += request.meta.get("is_new", False)
                requests.append(request)
        yield from requests
        if page_number == 1:
            yield from self.discovery_requests(response.url, listing.feeds)
        if self.follow_pagination(response, listing, page_number, fresh=fresh, older=older, unseen=len(unseen)):
            assert listing.next_url is not None
            request = scrapy.Request(listing.next_url, callback=self.parse_listing, errback=self.request_failed,
                                     meta={"page": page_number + 1}, priority=LISTING_PRIORITY)
            if self.pending_requests() + len(requests) <= self.max_pending:
                yield request
            else:
                self.hold_listing(request)

    # --- a bounded queue: the listing walk waits for the articles it found ---------------------------------------
    # Scrapy schedules whatever a callback yields, so a listing walk that runs ahead of the article fetches fills
    # the scheduler with article requests (24,000 at 100k articles: the crawl grew ~0.85 KB per article). The next
    # listing page is therefore held while more than NEWSCRAWL_MAX_PENDING requests are scheduled or downloading,
    # and let go (ahead of the queued articles) as soon as they are down to that: the queue stays under about
    # NEWSCRAWL_MAX_PENDING + one listing page's cards, whatever the length of the walk.

    def pending_requests(self) -> int:
        """Requests scheduled or downloading now; the most seen is the stat newscrawl/max_pending."""
        engine = self.crawler.engine
        scheduler = engine.scheduler if engine is not None else None
        pending = (len(scheduler) if hasattr(scheduler, "__len__") else 0) + (  # type: ignore[arg-type]
            len(engine.downloader.active) if engine is not None else 0)
        self.crawler.stats.max_value(statkeys.MAX_PENDING, pending)
        return pending

    def hold_listing(self, request: scrapy.Request) -> None:
        self.held_listing = request
        self.crawler.stats.inc_value(statkeys.LISTINGS_HELD)

    def release_listing(self, *args: Any, **kwargs: Any) -> None:
        """Schedule the held listing page once the pending requests are down to NEWSCRAWL_MAX_PENDING (called as
        each request leaves the downloader, and when the crawl would otherwise go idle)."""
        if self.pending_requests() <= self.max_pending and self.held_listing is not None:
            request, self.held_listing = self.held_listing, None
            self.crawler.engine.crawl(request)

    def idle(self) -> None:
        if self.held_listing is not None:
            self.release_listing()
            raise DontCloseSpider

    def follow_pagination(self, response: Response, listing: ListingPage, page_number: int, *, fresh: int,
                          older: int, unseen: int) -> bool:
        """Whether to fetch the next listing page. Every crawl ends by itself: a page that repeats only cards seen
        earlier in this run (an endless or cycling pagination) ends it even in a backfill, and so does the hard
        ceiling NEWSCRAWL_MAX_LISTING_PAGES, which no argument or interrupted run can lift."""
        if listing.next_url is None or (self.max_pages and page_number >= self.max_pages):
            return False
        if self.since and listing.cards and older == len(listing.cards):
            return False
        if not fresh and not self.backfill:
            self.logger.info("Listing page %s brought nothing new: stopping pagination", response.url)
            return False
        if not unseen:
            self.logger.info("Listing page %s repeats only cards already seen in this run: stopping pagination",
                             response.url)
            self.crawler.stats.inc_value(statkeys.PAGINATION_REPEATED)
            return False
        if page_number >= self.max_listing_pages:
            self.logger.warning("Stopped at listing page %s (%s), the ceiling NEWSCRAWL_MAX_LISTING_PAGES=%s: raise "
                                "it to walk further", page_number, response.url, self.max_listing_pages)
            self.crawler.stats.set_value(statkeys.LISTING_CEILING, page_number)
            return False
        return True

    def too_many_links(self, response: Response, listing: ListingPage) -> SkippedPage:
        """A listing over NEWSCRAWL_MAX_LISTING_LINKS: its first links are taken, the rest recorded as left out."""
        detail = f"more article links than NEWSCRAWL_MAX_LISTING_LINKS={self.max_listing_links}: the first " \
                 f"{len(listing.cards)} were taken"
        self.logger.warning("Listing page %s: %s", response.url, detail)
        self.crawler.stats.inc_value(statkeys.skipped(SKIP_TOO_MANY_LINKS))
        return SkippedPage(url=response.url, reason=SKIP_TOO_MANY_LINKS, detail=detail, status=response.status,
                           content_type=_header(response, "Content-Type"), fetched_at=utc_now())

    def page_too_large(self, failure: Failure) -> list[SkippedPage]:
        """A response cut off at NEWSCRAWL_MAX_PAGE_BYTES: recorded as skipped; an article one is also an error."""
        exc = cast(PageTooLarge, failure.value)
        request = getattr(failure, "request", None)
        stats = self.crawler.stats
        if request is not None and request.callback == self.parse_article:
            count_error(stats, SKIP_TOO_LARGE)
        else:
            stats.inc_value(statkeys.skipped(SKIP_TOO_LARGE))
        self.logger.warning("Skipped %s: %s", exc.url, exc.detail)
        return [SkippedPage(url=exc.url, reason=SKIP_TOO_LARGE, detail=exc.detail, fetched_at=utc_now())]

    def not_an_html_page(self, response: Response, stamp: str) -> SkippedPage | None:
        """A page that answered 200 with an image, a PDF, a feed or nothing: recorded, not archived or parsed.
        A declared Content-Type must be one Scrapy reads as HTML; without one, Scrapy's guess from the body must
        be HTML or text (Scrapy guesses text for any short body it can decode, so it cannot judge a declared one)."""
        content_type = _header(response, "Content-Type")
        mime = (content_type or "").split(";")[0].strip().lower()
        if not response.body.strip():
            reason = SKIP_EMPTY
        elif issubclass(responsetypes.from_mimetype(mime), HtmlResponse) if mime else (
                isinstance(response, HtmlResponse) or type(response) is TextResponse):
            return None
        else:
            reason = SKIP_NOT_HTML
        self.crawler.stats.inc_value(statkeys.skipped(reason))
        detail = f"HTTP {response.status} with Content-Type {content_type or '(none)'}, {len(response.body)} bytes"
        self.logger.warning("Skipped %s: %s", response.url, detail)
        return SkippedPage(url=response.url, reason=reason, detail=detail, status=response.status,
                           content_type=content_type, fetched_at=stamp)

    def start_failed_status(self, response: Response) -> None:
        if response.meta.get("page", 1) == 1:
            self.crawler.stats.set_value(statkeys.START_FAILED, f"HTTP {response.status}")
            self.logger.error("Start page %s answered HTTP %s", response.url, response.status)

    def discovery_requests(self, listing_url: str, feeds: list[str]) -> Iterator[scrapy.Request]:
        """The listing's feeds (<link rel=alternate> or the profile's), else news sitemaps named in robots.txt."""
        feeds = feeds or [urljoin(listing_url, path) for path in (self.profile.feeds if self.profile else ())]
        for feed in feeds:
            yield scrapy.Request(feed, callback=self.parse_feed, errback=self.discovery_failed)
        if not feeds:
            yield scrapy.Request(urljoin(listing_url, "/robots.txt"), callback=self.parse_robots,
                                 errback=self.discovery_failed)

    def parse_robots(self, response: Response) -> Iterator[scrapy.Request]:
        for url in sitemap_urls_from_robots(response.text, base_url=response.url):
            if "news" in url.lower():
                yield scrapy.Request(url, callback=self.parse_feed, errback=self.discovery_failed)

    def discovery_failed(self, failure: Failure) -> None:
        """Feeds and sitemaps are optional: their failure is logged, not counted against the crawl."""
        self.logger.info("Discovery request failed (ignored): %s", _failure_reason(failure))

    def parse_feed(self, response: Response) -> Iterator[scrapy.Request]:
        """Between listing crawls, a feed names new articles cheaply; the listing stays the source of truth."""
        self.crawler.stats.inc_value(statkeys.FEEDS)
        entries = [entry for entry in feed_entries(response.body, response.url) if self.allowed(entry.url)]
        assert self.crawl_state is not None
        self.crawl_state.look_up(canonical_url(entry.url) for entry in entries)
        requests = []  # decided before the first yield: another callback's look_up() may run at a yield
        for entry in entries:
            hint = ListingHint(time_text=entry.published_text, fetched_at=datetime.now(timezone.utc),
                               title=entry.title)
            if self.before_since(hint):
                continue
            request = self.article_request(entry.url, hint)
            if request is not None:
                requests.append(request)
        yield from requests

    def before_since(self, hint: ListingHint) -> bool:
        """True when a backfill has a start date and the card's time is before it."""
        if not self.since or not hint.time_text:
            return False
        moment = card_date(hint.time_text, hint.fetched_at, self.profile)
        return moment is not None and moment.value.date() < self.since

    def allowed(self, url: str) -> bool:
        if self.profile is not None and self.profile.article_url_pattern is not None:
            return bool(self.profile.article_url_pattern.search(url))
        return True

    def article_request(self, url: str, hint: ListingHint) -> scrapy.Request | None:
        """A request for an article, or None when it is archived and outside the refresh window. An archived
        article is looked up under any of its URLs (aliases, slash variant) and re-fetched at its stored URL."""
        url = canonical_url(url)
        assert self.crawl_state is not None
        known = self.crawl_state.known_article(url)
        headers: dict[str, str] = {}
        failed_at = self.crawl_state.missing_since(url)
        if failed_at and datetime.now(timezone.utc) - datetime.fromisoformat(failed_at) < self.missing_retry:
            self.crawler.stats.inc_value(statkeys.SKIPPED_MISSING)
            return None
        if known is not None:
            if not self._in_refresh_window(known):
                self.crawler.stats.inc_value(statkeys.SKIPPED_ARCHIVED)
                return None
            if known.etag:
                headers["If-None-Match"] = known.etag
            if known.last_modified:
                headers["If-Modified-Since"] = known.last_modified
            url = known.url
        return scrapy.Request(url, callback=self.parse_article, errback=self.request_failed, headers=headers,
                              meta={"hint": hint, "is_new": known is None})

    def _in_refresh_window(self, known: KnownArticle) -> bool:
        if not self.refresh or not known.published_at:
            return False
        try:
            published = datetime.fromisoformat(known.published_at)
        except ValueError:
            return False
        return datetime.now(timezone.utc) - published <= self.refresh

    async def parse_article(self, response: Response) -> AsyncIterator[
            Article | NotModified | MissingPage | SkippedPage]:
        """The article of a response, extracted by the extraction pool, with its raw page attached for the
        archive; or what the response says instead (304, 404/410, not an HTML page)."""
        stats = self.crawler.stats
        fetched_at = datetime.now(timezone.utc)
        stamp = fetched_at.isoformat(timespec="seconds")
        # the URL the card linked to (where a redirect started) and the URL that answered
        linked = canonical_url(response.meta.get("redirect_urls", [response.url])[0])
        final = canonical_url(response.url)
        if response.status == 304:
            stats.inc_value(statkeys.NOT_MODIFIED)
            yield NotModified(url=final, fetched_at=stamp)
            return
        if response.status >= 400:
            count_error(stats, http_cause(response.status))
            self.logger.warning("Article %s answered HTTP %s: not archived", response.url, response.status)
            yield MissingPage(url=linked, status=response.status, fetched_at=stamp)
            return
        skipped = self.not_an_html_page(response, stamp)
        if skipped is not None:
            yield skipped
            return
        stats.inc_value(statkeys.ARTICLES_FETCHED)
        page = RawPage(url=linked, final_url=final, status=response.status, body=response.body, fetched_at=stamp,
                       headers={k.decode("latin-1"): b", ".join(v).decode("latin-1")
                                for k, v in response.headers.items()})
        assert self.extractor is not None
        extracted = await self.extractor.extract(FetchedArticle(
            page=page, hint=response.meta.get("hint") or ListingHint(),
            etag=_header(response, "ETag"), last_modified=_header(response, "Last-Modified")))
        if extracted.article is None:
            cause = extracted.cause or PROCESSING_FAILED
            count_error(stats, cause, item=True)
            self.logger.error("Article %s not stored (%s): %s", final, cause, extracted.error)
            return
        if extracted.extraction_error:
            self.logger.error("Extraction failed for %s: %s", final, extracted.extraction_error)
            count_error(stats, EXTRACTION_FAILED, item=True)
        article = extracted.article
        article.raw_page = page
        yield article

    def request_failed(self, failure: Failure) -> list[SkippedPage] | None:
        if failure.check(PageTooLarge):
            return self.page_too_large(failure)
        stats = self.crawler.stats
        cause = _failure_cause(failure)
        request = getattr(failure, "request", None)
        if cause is None:
            stats.inc_value(statkeys.SKIPPED_IGNORED)
            self.logger.info("Not fetched: %s", failure.getErrorMessage())
            return None
        count_error(stats, cause)
        self.logger.warning("Request %s failed (%s): %s", getattr(request, "url", "?")[:300], cause,
                            _failure_reason(failure))
        return None


def _header(response: Response, name: str) -> str | None:
    value = response.headers.get(name)
    return value.decode("latin-1") if value else None


def _failure_cause(failure: Failure) -> str | None:
    """The error cause of a failed request, or None for a request deliberately not made (robots.txt)."""
    if failure.check(HttpError):
        return http_cause(cast(HttpError, failure.value).response.status)
    if failure.check(IgnoreRequest):
        return REDIRECT_LOOP if failure.getErrorMessage() == SCRAPY_MAX_REDIRECTS else None
    if failure.check(TimeoutError, defer.TimeoutError, TCPTimedOutError):
        return TIMEOUT
    if failure.check(ConnectionRefusedError):
        return CONNECTION_REFUSED
    if failure.check(DNSLookupError):
        return DNS_ERROR
    return REQUEST_FAILED


def _failure_reason(failure: Failure) -> str:
    response = getattr(failure.value, "response", None)
    if response is not None:
        return f"HTTP {response.status}"
    return f"{type(failure.value).__name__}: {failure.getErrorMessage()}"
