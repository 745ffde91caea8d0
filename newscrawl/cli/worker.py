"""`newscrawl worker`: take crawl jobs from Redis and run them, one site per worker at a time
(docs/distributed.md)."""

from __future__ import annotations

import argparse
import logging

from newscrawl.arguments import redis_url_argument
from newscrawl.cli import CommandError, bounded_int, checked, setting_values


def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(
        "worker", help="run queued crawl jobs as a distributed worker",
        description="Take crawl jobs from Redis and run each as `scrapy crawl` in distributed mode (items go to "
                    "`newscrawl archiver`), holding a lease on the job's site host so that one site is crawled by "
                    "one worker at a time; a dead worker's job is reclaimed when its lease expires. See "
                    "docs/distributed.md.")
    parser.add_argument("--redis", required=True, type=checked(lambda v: redis_url_argument(v, "--redis")),
                        help="Redis URL, e.g. redis://HOST:6379/0")
    parser.add_argument("--lease-seconds", type=bounded_int(1, 3600), default=60,
                        help="a dead worker's job is reclaimed this long after its last renewal (default 60)")
    parser.add_argument("--poll", type=bounded_int(1, 600), default=1, metavar="SECONDS",
                        help="how often an idle worker looks for a job (default 1)")
    parser.add_argument("--idle-exit", type=bounded_int(0, 86_400), metavar="SECONDS",
                        help="exit after this long without a job (default: run until SIGTERM)")
    parser.add_argument("--max-jobs", type=bounded_int(1, 1_000_000), help="exit after this many jobs")
    parser.add_argument("-s", "--set", action="append", default=[], metavar="NAME=VALUE",
                        help="a setting for every crawl this worker runs, as with scrapy -s")
    return parser


def run(args: argparse.Namespace) -> int:
    from newscrawl.distributed.jobs import Worker, install_signal_handlers
    settings = setting_values(args.set)
    redis_usable(args.redis)  # at start, one line and exit 2 (systemd's Restart= tries again); once running, an
    # outage is waited out
    logging.basicConfig(level=logging.INFO, format="%(asctime)s [%(name)s] %(levelname)s: %(message)s")
    worker = Worker(args.redis, lease_seconds=args.lease_seconds, poll=args.poll, settings=settings)
    install_signal_handlers(worker)
    return worker.run(idle_exit=args.idle_exit, max_jobs=args.max_jobs)


def redis_usable(url: str) -> None:
    """Before a distributed command does anything: Redis unreachable, or refusing the password, is the command's
    one-line error (exit 2), with the URL shown without its password."""
    from newscrawl.distributed.connection import RedisRefused, check_reachable
    try:
        check_reachable(url)
    except RedisRefused as exc:
        raise CommandError(str(exc)) from None
