"""`newscrawl archiver`: the only writer of the archive in a distributed crawl (docs/distributed.md)."""

from __future__ import annotations

import argparse
import logging

from newscrawl import settings as defaults
from newscrawl.arguments import redis_url_argument
from newscrawl.cli import add_db_argument, bounded_int, checked


def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(
        "archiver", help="store what distributed workers queue in Redis into the archive (the archive's only writer)",
        description="The one writer of a distributed crawl's archive: reads the items workers queue in a Redis "
                    "stream (consumer group), stores them in batches, acknowledges them only after the commit, "
                    "claims what a dead archiver left, writes the crawls rows and keeps the workers' state in Redis "
                    "up to date. Runs until stopped (or --idle-exit). See docs/distributed.md.")
    add_db_argument(parser)
    parser.add_argument("--redis", required=True, type=checked(lambda v: redis_url_argument(v, "--redis")),
                        help="Redis URL, e.g. redis://HOST:6379/0 (one database per archive)")
    parser.add_argument("--batch", type=bounded_int(1, 10_000), default=100, help="entries per batch (default 100)")
    parser.add_argument("--claim-idle", type=bounded_int(1, 86_400), default=60, metavar="SECONDS",
                        help="take over entries another archiver read this long ago without committing (default 60)")
    parser.add_argument("--idle-exit", type=bounded_int(0, 86_400), metavar="SECONDS",
                        help="exit once the stream has been empty this long (default: run until SIGTERM)")
    parser.add_argument("--max-body-chars", type=bounded_int(0, 2**31), default=defaults.NEWSCRAWL_MAX_BODY_CHARS,
                        help="NEWSCRAWL_MAX_BODY_CHARS for the stored articles")
    return parser


def run(args: argparse.Namespace) -> int:
    from newscrawl.distributed.archiver import Archiver, install_signal_handlers
    from newscrawl.cli.worker import redis_usable
    redis_usable(args.redis)  # before the archive is touched; at start, one line and exit 2 (systemd's Restart=
    # tries again); once running, an outage is waited out
    logging.basicConfig(level=logging.INFO, format="%(asctime)s [%(name)s] %(levelname)s: %(message)s")
    archiver = Archiver(args.db, args.redis, batch_size=args.batch, claim_idle=args.claim_idle,
                        max_body_chars=args.max_body_chars)
    install_signal_handlers(archiver)
    return archiver.run(idle_exit=args.idle_exit)
