"""`scrapy crawl` with the archive lock and an exit code cron can act on (0 ok, 1 failed, 75 locked)."""

from __future__ import annotations

import argparse
import sys
from scrapy.commands.crawl import Command as ScrapyCrawl

from newscrawl.extensions import FINISHED_EXIT_CODES
from newscrawl.lock import EXIT_LOCKED, ArchiveLocked, acquire


class Command(ScrapyCrawl):
    def run(self, args: list[str], opts: argparse.Namespace) -> None:
        assert self.settings is not None
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
