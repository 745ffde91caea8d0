"""`scrapy crawl` with the archive lock, the demo site when no real site is configured, and an exit code cron can
act on (0 ok, 1 failed, 2 usage, 75 locked)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from scrapy.commands.crawl import Command as ScrapyCrawl
from scrapy.exceptions import UsageError
from scrapy.utils.misc import load_object

from newscrawl import statkeys
from newscrawl.archive import ArchiveError, check_archive
from newscrawl.arguments import (
    ArgumentProblem,
    demo_now_setting,
    max_pages_argument,
    settings_problem,
    since_argument,
    start_url_argument,
)
from newscrawl.demo.startup import demo_ports, needs_demo_site, start_demo_site
from newscrawl.errors import READ_ONLY, exception_cause
from newscrawl.extensions import EXIT_FAILED, SUMMARY_PREFIX, archive_write_problem
from newscrawl.items import Article, article_feed_fields
from newscrawl.lock import EXIT_LOCKED, ArchiveLock, ArchiveLocked
from newscrawl.sites import ProfileError, load_profile

EXIT_USAGE = 2
ARTICLE_ITEM = "newscrawl.items.Article"
"""Feeds given with -o/-O export articles: the other items (304s, 404s, skipped pages) are for the archive."""


def only_articles(item_classes: Any) -> bool:
    """Whether a feed's `item_classes` (names or classes) takes Article items and nothing else."""
    if not item_classes:
        return False
    return all((load_object(c) if isinstance(c, str) else c) is Article for c in item_classes)


class Command(ScrapyCrawl):
    def process_options(self, args: list[str], opts: argparse.Namespace) -> None:
        super().process_options(args, opts)
        assert self.settings is not None
        # Scrapy opens LOG_FILE right after this (configuring logging) and crashes on a folder that does not
        # exist, as `logs/` does not in a fresh checkout: create it, or stop with one line saying why not.
        log_file = self.settings.get("LOG_FILE")
        if log_file:
            try:
                Path(log_file).parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise UsageError(f"cannot create the folder of LOG_FILE {log_file}: {exc.strerror or exc}",
                                 print_help=False) from None
        feeds = self.settings.getdict("FEEDS")
        for options in feeds.values():
            if opts.output or opts.overwrite_output:
                options.setdefault("item_classes", [ARTICLE_ITEM])
            # a feed of articles names related links `related_links`, as the tables and `newscrawl export` do (the
            # Article field stays `related`); a feed that sets its own fields, or takes every item, is left alone
            if options.get("fields") is None and not self.settings.get("FEED_EXPORT_FIELDS") \
                    and only_articles(options.get("item_classes")):
                options["fields"] = article_feed_fields()
        if feeds:
            self.settings.set("FEEDS", feeds, priority="cmdline")

    def run(self, args: list[str], opts: argparse.Namespace) -> None:
        assert self.settings is not None
        if len(args) != 1:
            super().run(args, opts)  # Scrapy's usage error
            return
        problem = self.usage_problem(opts.spargs)
        if problem:
            print(f"newscrawl: {problem}", file=sys.stderr)
            self.exitcode = EXIT_USAGE
            return
        if self.settings.get("NEWSCRAWL_REDIS_URL"):  # a distributed worker never opens the archive: the archiver does
            self.exitcode = self.start_crawl(args, opts)
            return
        db = self.settings.get("NEWSCRAWL_DB")
        lock = ArchiveLock(db)
        try:  # held from here to the end of the crawl: a locked run touches nothing and makes no request
            lock.acquire()
        except ArchiveLocked as exc:
            print(f"newscrawl: {exc}", file=sys.stderr)
            self.exitcode = EXIT_LOCKED
            return
        except OSError as exc:  # e.g. a read-only folder: the run cannot store anything, and fails
            print(f"{SUMMARY_PREFIX}status=failed reason=cannot lock the archive {db} "
                  f"({exc.strerror or exc}): nothing fetched", file=sys.stderr)
            self.exitcode = EXIT_FAILED
            return
        try:
            self.exitcode = self.checked_crawl(args, opts, db)
        finally:
            lock.release()

    def checked_crawl(self, args: list[str], opts: argparse.Namespace, db: str) -> int:
        assert self.settings is not None and self.crawler_process is not None
        try:  # under the lock, before any request
            check_archive(db)
        except ArchiveError as exc:
            # a WAL archive in a read-only folder cannot even be read (no -shm): that is the write check's failure
            if exception_cause(exc.__cause__ or exc, db) != READ_ONLY:
                print(f"newscrawl: {exc}", file=sys.stderr)
                return EXIT_USAGE
        problem = archive_write_problem(db)
        if problem:
            print(f"{SUMMARY_PREFIX}status=failed reason=archive {db} cannot be written ({problem}): nothing "
                  "fetched", file=sys.stderr)
            return EXIT_FAILED
        return self.start_crawl(args, opts)

    def start_crawl(self, args: list[str], opts: argparse.Namespace) -> int:
        assert self.settings is not None and self.crawler_process is not None
        spidercls: Any = self.crawler_process.spider_loader.load(args[0])
        demo = None
        site = opts.spargs.get("site")
        if needs_demo_site(opts.spargs.get("start_url"), self.settings, site):
            # a distributed worker has no archive here: the archiver's host has it
            db = None if self.settings.get("NEWSCRAWL_REDIS_URL") else self.settings.get("NEWSCRAWL_DB")
            demo, opts.spargs["start_url"] = start_demo_site(
                demo_ports(self.settings.getint("NEWSCRAWL_DEMO_PORT"), db),
                opts.spargs.get("category") or getattr(spidercls, "default_category", None), site,
                demo_now_setting(self.settings.get("NEWSCRAWL_DEMO_NOW")))
        try:
            crawler = self._create_crawler(spidercls)
            self.crawler_process.crawl(crawler, **opts.spargs)
            self.crawler_process.start()
        finally:
            if demo is not None:
                demo.stop()
        if self.crawler_process.bootstrap_failed:
            return EXIT_FAILED
        exit_code = crawler.stats.get_value(statkeys.EXIT_CODE)
        if exit_code is None:  # a second Ctrl-C forced Scrapy to stop before the crawl reached its verdict
            print(f"{SUMMARY_PREFIX}status=failed reason=stopped before the crawl could finish (forced shutdown); "
                  "its crawls row stays 'running' and the next run marks it 'killed'", file=sys.stderr)
            return EXIT_FAILED
        return int(exit_code)

    def usage_problem(self, spargs: dict[str, str]) -> str | None:
        """Check the NEWSCRAWL_* settings, the spider arguments and the site profile before anything starts."""
        assert self.settings is not None
        problem = settings_problem(self.settings)
        if problem:
            return problem
        site = spargs.get("site") or self.settings.get("NEWSCRAWL_SITE")
        try:
            if site and site not in ("auto", "none"):
                load_profile(site)
            max_pages_argument(spargs.get("max_pages"))
            since_argument(spargs.get("since"))
            start_url_argument(spargs.get("start_url"))
        except (ProfileError, ArgumentProblem) as exc:
            return str(exc)
        return None
