"""`newscrawl enqueue`: queue a crawl job for the distributed workers (docs/distributed.md); cron runs it."""

from __future__ import annotations

import argparse

from newscrawl.arguments import max_pages_argument, redis_url_argument, since_argument, start_url_argument
from newscrawl.cli import CommandError, checked, setting_values


def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(
        "enqueue", help="queue a crawl job for the distributed workers",
        description="Queue a crawl job (spider, category, mode) in Redis for any idle `newscrawl worker`, e.g. from "
                    "cron on one machine; a job identical to one already waiting is not queued twice. See "
                    "docs/distributed.md.")
    parser.add_argument("spider", help="siyosat or category")
    parser.add_argument("--redis", required=True, type=checked(lambda v: redis_url_argument(v, "--redis")),
                        help="Redis URL, e.g. redis://HOST:6379/0")
    parser.add_argument("--category", help="category slug (the category spider)")
    parser.add_argument("--site", help="site profile name")
    parser.add_argument("--start-url", type=checked(start_url_argument), help="category URL")
    parser.add_argument("--mode", choices=("incremental", "full"), default="incremental",
                        help="incremental: NEWSCRAWL_MAX_PAGES listing pages, new articles and the refresh window; "
                        "full: every listing page (default incremental)")
    parser.add_argument("--since", type=checked(since_argument), help="backfill from YYYY-MM-DD")
    parser.add_argument("--max-pages", type=checked(max_pages_argument), help="listing pages (0 = no limit)")
    parser.add_argument("-s", "--set", action="append", default=[], metavar="NAME=VALUE",
                        help="a setting for the crawl, as with scrapy -s")
    return parser


def run(args: argparse.Namespace) -> int:
    import redis

    from newscrawl.cli.worker import redis_usable
    from newscrawl.distributed.connection import connect, describe
    from newscrawl.distributed.jobs import enqueue, job_spec
    settings = setting_values(args.set)
    spec = job_spec(args.spider, mode=args.mode, category=args.category, site=args.site, start_url=args.start_url,
                    since=args.since.isoformat() if args.since else None, max_pages=args.max_pages,
                    settings=settings)
    redis_usable(args.redis)  # unreachable, or a refused password: one line, exit 2; cron mails it
    client = connect(args.redis)
    try:
        job_id, queued = enqueue(client, spec)
    except redis.RedisError as exc:  # Redis went away between the check and the enqueue
        raise CommandError(f"Redis at {describe(args.redis)}: the job was not queued ({exc})") from None
    finally:
        client.close()
    print(f"queued job {job_id} ({spec.spider} on {spec.host})" if queued else
          f"an identical job is already queued: {job_id}")
    return 0
