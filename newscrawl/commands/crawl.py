"""`scrapy crawl` with the archive lock and an exit code cron can act on (0 ok, 1 failed, 2 usage, 75 locked)."""

from __future__ import annotations

import argparse
import sys

from scrapy.commands.crawl import Command as ScrapyCrawl

from newscrawl.arguments import ArgumentProblem, max_pages_argument, settings_problem, since_argument, \
    start_url_argument
from newscrawl.extensions import FINISHED_EXIT_CODES
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
        super().run(args, opts)
        if self.exitcode:
            return
        self.exitcode = max(FINISHED_EXIT_CODES, default=0)

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
