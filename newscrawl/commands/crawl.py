"""`scrapy crawl` with the archive lock and an exit code cron can act on (0 ok, 1 failed, 2 usage, 75 locked)."""

from __future__ import annotations

import argparse
import sys

from scrapy.commands.crawl import Command as ScrapyCrawl

from newscrawl.archive import ArchiveError, check_archive
from newscrawl.errors import READ_ONLY, exception_cause
from newscrawl.extensions import EXIT_FAILED, FINISHED_EXIT_CODES, SUMMARY_PREFIX, archive_write_problem
from newscrawl.arguments import ArgumentProblem, max_pages_argument, settings_problem, since_argument, \
    start_url_argument
from newscrawl.lock import EXIT_LOCKED, ArchiveLocked, acquire
from newscrawl.sites import ProfileError, load_profile

EXIT_USAGE = 2


class Command(ScrapyCrawl):
    def run(self, args: list[str], opts: argparse.Namespace) -> None:
        assert self.settings is not None
        problem = self.usage_problem(opts.spargs)
        if problem:
            print(f"newscrawl: {problem}", file=sys.stderr)
            self.exitcode = EXIT_USAGE
            return
        try:
            acquire(self.settings.get("NEWSCRAWL_DB"))
        except ArchiveLocked as exc:
            print(f"newscrawl: {exc}", file=sys.stderr)
            self.exitcode = EXIT_LOCKED
            return
        except OSError as exc:  # e.g. a read-only folder: the run cannot store anything, and fails
            print(f"{SUMMARY_PREFIX}status=failed reason=cannot lock the archive {self.settings.get('NEWSCRAWL_DB')} "
                  f"({exc.strerror or exc}): nothing fetched", file=sys.stderr)
            self.exitcode = EXIT_FAILED
            return
        try:  # under the lock (a locked run touches nothing), before any request
            check_archive(self.settings.get("NEWSCRAWL_DB"))
        except ArchiveError as exc:
            # a WAL archive in a read-only folder cannot even be read (no -shm): that is the write check's failure
            if exception_cause(exc.__cause__ or exc, self.settings.get("NEWSCRAWL_DB")) != READ_ONLY:
                print(f"newscrawl: {exc}", file=sys.stderr)
                self.exitcode = EXIT_USAGE
                return
        problem = archive_write_problem(self.settings.get("NEWSCRAWL_DB"))
        if problem:
            print(f"{SUMMARY_PREFIX}status=failed reason=archive {self.settings.get('NEWSCRAWL_DB')} cannot be "
                  f"written ({problem}): nothing fetched", file=sys.stderr)
            self.exitcode = EXIT_FAILED
            return
        super().run(args, opts)
        if self.exitcode:
            return
        if not FINISHED_EXIT_CODES:  # a second Ctrl-C forced Scrapy to stop before the crawl reached its verdict
            print(f"{SUMMARY_PREFIX}status=failed reason=stopped before the crawl could finish (forced shutdown); "
                  "its crawls row stays 'running' and the next run marks it 'killed'", file=sys.stderr)
            self.exitcode = EXIT_FAILED
            return
        self.exitcode = max(FINISHED_EXIT_CODES)

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
