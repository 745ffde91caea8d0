"""Crawl jobs through Redis: cron on any machine enqueues (`newscrawl enqueue`), any idle worker
(`newscrawl worker`) takes the oldest job whose site is free and runs it as a `scrapy crawl` subprocess.

One site, one worker: taking a job takes the lease of its site host (SET NX PX, in the same Lua script that
removes the job from the queue), and the worker renews it while the crawl runs. A worker that dies stops renewing:
its lease expires, and the next idle worker puts the job back at the head of the queue (reclaim) and runs it
again as a new run, after telling the archiver that the dead run was killed. The new run re-reads the listings;
what the dead run had archived is known by then and skipped, what it had in flight is fetched again (harmless:
upserts are idempotent). So a killed worker's job is reclaimed, and that re-run repairs the gap.

Stopped (SIGTERM/SIGINT), a worker stops its crawl gracefully and puts the job back in the queue. While Redis is
unreachable it cannot: it does not wait for Redis (systemctl stop would hang), but kills its crawl after
STOP_GRACE_SECONDS (the crawl could neither queue its items nor report) and exits, leaving the job to be reclaimed
when its lease expires, as a killed worker's is.
"""

from __future__ import annotations

import contextlib
import ctypes
import hashlib
import itertools
import json
import logging
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import redis

from newscrawl.archive import utc_now
from newscrawl.distributed import keys
from newscrawl.distributed.connection import StopRequested, connect, retrying
from newscrawl.distributed.messages import FINISH, encode_control

logger = logging.getLogger("newscrawl.worker")
FOREVER = float("inf")
MAX_ATTEMPTS = 3
"""A job whose crawl process is killed this many times is dropped (logged): the next enqueue tries again."""
TAKE_SCAN = 1000
"""How deep into the queue a worker looks for a job whose site is free."""
DONE_JOB_TTL = 24 * 3600
MODES = ("incremental", "full")
WAIT_SLICE = 0.5
"""How often a worker looks up from its crawl: to renew the lease when due, and to act on a stop."""
STOP_GRACE_SECONDS = 3.0
"""A stopped worker whose Redis is unreachable gives its crawl this long to end, then kills it."""

TAKE = f"""
local ids = redis.call('LRANGE', KEYS[1], -{TAKE_SCAN}, -1)
for i = #ids, 1, -1 do
  local id = ids[i]
  local job = '{keys.PREFIX}job:' .. id
  local host = redis.call('HGET', job, 'host')
  if not host then
    redis.call('LREM', KEYS[1], -1, id)
  else
    local lease = '{keys.PREFIX}lease:' .. host
    if redis.call('SET', lease, ARGV[1] .. ' ' .. id, 'NX', 'PX', ARGV[2]) then
      redis.call('LREM', KEYS[1], -1, id)
      redis.call('HSET', KEYS[2], id, lease)
      local queued = '{keys.PREFIX}queued:' .. redis.call('HGET', job, 'spec_key')
      if redis.call('GET', queued) == id then redis.call('DEL', queued) end
      redis.call('HSET', job, 'worker', ARGV[1], 'state', 'running')
      redis.call('HINCRBY', job, 'attempts', 1)
      return id
    end
  end
end
return false
"""
OURS = """
local function ours()
  local holder = redis.call('GET', KEYS[1])
  if holder then return holder == ARGV[1] end
  -- expired (the worker stalled, or Redis was down past it) but no other worker has taken the job since
  return redis.call('HGET', KEYS[2], ARGV[3]) == KEYS[1] and redis.call('HGET', KEYS[3], 'run') == ARGV[4]
end
"""
"""Fencing: is the job still this worker's run? KEYS: lease, running jobs, job; ARGV: holder, _, job id, run. The
lease holder names the worker and the job, the job record names the run: once another worker has taken the job
(its lease, or a new run in the record), the old run is fenced off for good."""
RENEW = OURS + """
if not ours() then return 0 end
return redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2]) and 1 or 0
"""
FINISH_JOB = OURS + """
if not ours() then return 0 end
redis.call('DEL', KEYS[1])
redis.call('HDEL', KEYS[2], ARGV[3])
if ARGV[5] == '1' then
  redis.call('HSET', KEYS[3], 'state', 'queued', 'run', '')
  redis.call('RPUSH', KEYS[4], ARGV[3])
else
  redis.call('HSET', KEYS[3], 'state', 'done', 'exit_code', ARGV[6])
  redis.call('EXPIRE', KEYS[3], ARGV[7])
end
return 1
"""
"""Release the lease and record the job's end (queued again, or done) only while the job is still this run's."""
FENCED_FINISH = OURS + """
if not ours() then return 0 end
return redis.call('XADD', KEYS[4], '*', unpack(ARGV, 5))
"""
"""A finish message for the run, sent by the worker for its crawl, only while the job is still this run's."""
RECLAIM = f"""
local running = redis.call('HGETALL', KEYS[1])
local reclaimed = {{}}
for i = 1, #running, 2 do
  local id, lease = running[i], running[i + 1]
  local holder = redis.call('GET', lease)
  if not holder or string.sub(holder, -(#id + 1)) ~= ' ' .. id then
    redis.call('HDEL', KEYS[1], id)
    redis.call('HSET', '{keys.PREFIX}job:' .. id, 'state', 'reclaimed')
    redis.call('RPUSH', KEYS[2], id)
    table.insert(reclaimed, id)
  end
end
return reclaimed
"""


@dataclass(frozen=True)
class JobSpec:
    spider: str
    args: dict[str, str] = field(default_factory=dict)
    settings: dict[str, str] = field(default_factory=dict)

    @property
    def key(self) -> str:
        """Identical jobs share this key, so cron does not queue a job that is already waiting."""
        text = json.dumps([self.spider, sorted(self.args.items()), sorted(self.settings.items())])
        return hashlib.sha256(text.encode()).hexdigest()[:32]

    @property
    def host(self) -> str:
        """The site host the job crawls: its lease keeps the site to one worker at a time."""
        start_url = self.args.get("start_url") or self.settings.get("NEWSCRAWL_START_URL")
        if start_url:
            return urlsplit(start_url).hostname or start_url
        site = self.args.get("site") or self.settings.get("NEWSCRAWL_SITE")
        if site and site not in ("auto", "none"):
            from newscrawl.sites import load_profile
            profile = load_profile(site)
            if profile.base_url:
                return urlsplit(profile.base_url).hostname or profile.name
        return f"spider:{self.spider}"  # the bundled demo site: each worker serves its own

    def command(self, url: str, run: str) -> list[str]:
        command = [sys.executable, "-m", "scrapy", "crawl", self.spider]
        for name, value in self.args.items():
            command += ["-a", f"{name}={value}"]
        for name, value in self.settings.items():
            command += ["-s", f"{name}={value}"]
        return [*command, "-s", f"NEWSCRAWL_REDIS_URL={url}", "-s", f"NEWSCRAWL_REDIS_RUN={run}"]


def job_spec(spider: str, *, mode: str = "incremental", category: str | None = None, site: str | None = None,
             start_url: str | None = None, since: str | None = None, max_pages: int | None = None,
             settings: dict[str, str] | None = None) -> JobSpec:
    args = {"category": category, "site": site, "start_url": start_url, "since": since,
            "max_pages": str(max_pages) if max_pages is not None else ("0" if mode == "full" else None)}
    return JobSpec(spider, {k: v for k, v in args.items() if v is not None}, dict(settings or {}))


def enqueue(client: redis.Redis, spec: JobSpec) -> tuple[str, bool]:
    """Queue a job; (job id, True), or (the id of the identical job already waiting, False)."""
    job_id = uuid.uuid4().hex
    if not client.set(keys.queued(spec.key), job_id, nx=True):
        existing = client.get(keys.queued(spec.key))
        return (existing.decode() if isinstance(existing, bytes) else str(existing)), False
    with client.pipeline(transaction=True) as pipe:
        pipe.hset(keys.job(job_id), mapping={
            "spec": json.dumps({"spider": spec.spider, "args": spec.args, "settings": spec.settings}),
            "spec_key": spec.key, "host": spec.host, "state": "queued", "attempts": 0, "enqueued_at": utc_now()})
        pipe.lpush(keys.JOBS, job_id)
        pipe.execute()
    return job_id, True


def _die_with_parent() -> None:
    """In the crawl subprocess: killed when the worker dies (Linux), so a dead worker's crawl cannot go on
    without its lease while another worker runs the reclaimed job."""
    with contextlib.suppress(OSError):  # not Linux: the worker's own death is then only noticed by its lease
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


class Worker:
    def __init__(self, url: str, *, lease_seconds: float = 60.0, poll: float = 1.0, worker_id: str | None = None,
                 settings: dict[str, str] | None = None) -> None:
        self.url = url
        self.lease_ms = int(lease_seconds * 1000)
        self.poll = poll
        self.worker_id = worker_id or f"{socket.gethostname()}-{os.getpid()}"
        self.settings = dict(settings or {})
        self.client = connect(url)
        self.take_script = self.client.register_script(TAKE)
        self.renew_script = self.client.register_script(RENEW)
        self.finish_script = self.client.register_script(FINISH_JOB)
        self.fenced_finish_script = self.client.register_script(FENCED_FINISH)
        self.reclaim_script = self.client.register_script(RECLAIM)
        self.stopping = False
        self.stop_signal = "stop"
        self.stopped_at: float | None = None
        self.proc: subprocess.Popen[bytes] | None = None
        self.job_id: str | None = None
        """The job being run (taken, and not yet released)."""
        self.jobs_run = 0

    def _redis(self, call: Any, what: str) -> Any:
        """Waits out any Redis outage, but not a stop: StopRequested once stopping (run() ends there)."""
        return retrying(call, FOREVER, what, stopping=lambda: self.stopping)

    def stop(self, signum: int | None = None, *_: Any) -> None:
        self.stopping = True
        if self.stopped_at is None:
            self.stopped_at = time.monotonic()
        if signum is not None:
            self.stop_signal = signal.Signals(signum).name
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)  # Scrapy stops gracefully and reports 'interrupted'

    def run(self, *, idle_exit: float | None = None, max_jobs: int | None = None) -> int:
        logger.info("Worker %s waiting for jobs", self.worker_id)
        try:
            self._take_jobs(idle_exit, max_jobs)
        except StopRequested as exc:
            job = (f"job {self.job_id} is left to be reclaimed by another worker once its lease expires"
                   if self.job_id is not None else "it held no job")
            logger.warning("Worker %s: %s while Redis was unavailable (%s): exiting without waiting for it; %s",
                           self.worker_id, self.stop_signal, exc.what, job)
        finally:
            self.client.close()
        return 0

    def _take_jobs(self, idle_exit: float | None, max_jobs: int | None) -> None:
        idle_since = time.monotonic()
        while not self.stopping and (max_jobs is None or self.jobs_run < max_jobs):
            self.reclaim()
            job_id = self._redis(lambda: self.take_script(keys=[keys.JOBS, keys.RUNNING],
                                                          args=[self.worker_id, self.lease_ms]), "taking a job")
            if job_id is None:
                if idle_exit is not None and time.monotonic() - idle_since > idle_exit:
                    break
                time.sleep(self.poll)
                continue
            self.job_id = job_id.decode() if isinstance(job_id, bytes) else str(job_id)
            self.run_job(self.job_id)
            self.job_id = None
            self.jobs_run += 1
            idle_since = time.monotonic()

    def reclaim(self) -> list[str]:
        """Put back the jobs of dead workers (their lease expired), at the head of the queue."""
        reclaimed = [i.decode() for i in self._redis(lambda: self.reclaim_script(keys=[keys.RUNNING, keys.JOBS]),
                                                     "reclaiming jobs")]
        for job_id in reclaimed:
            logger.warning("Job %s: its worker stopped renewing the lease (died): reclaimed", job_id)
        return reclaimed

    def _killed(self, run: str, why: str) -> None:
        """Tell the archiver that a run ended without its own finish message."""
        self._redis(lambda: self.client.xadd(keys.STREAM, encode_control(FINISH, run, {  # type: ignore[arg-type]
            "status": "killed", "exit_code": 1, "reason": why, "finished_at": utc_now()})), "reporting a killed run")

    def run_job(self, job_id: str) -> int | None:
        record = {k.decode(): v.decode() for k, v in self._redis(lambda: self.client.hgetall(keys.job(job_id)),
                                                                 "reading a job").items()}
        spec_data = json.loads(record["spec"])
        spec = JobSpec(spec_data["spider"], spec_data["args"], {**spec_data["settings"], **self.settings})
        lease_key, holder = keys.lease(record["host"]), f"{self.worker_id} {job_id}"
        if record.get("run"):
            self._killed(record["run"], f"worker {record.get('worker', '?')} stopped renewing its lease mid-crawl "
                                        f"(died, or stalled past --lease-seconds); job {job_id} reclaimed by "
                                        f"{self.worker_id}")
        run = uuid.uuid4().hex
        self._redis(lambda: self.client.hset(keys.job(job_id), "run", run), "recording the run")
        logger.info("Job %s (attempt %s): %s on %s, run %s", job_id, record.get("attempts"), spec.spider,
                    record["host"], run)
        fence_keys = [lease_key, keys.RUNNING, keys.job(job_id)]
        fence_args: list[Any] = [holder, self.lease_ms, job_id, run]
        env = {**os.environ, "SCRAPY_SETTINGS_MODULE": "newscrawl.settings",
               keys.LEASE_ENV: json.dumps([lease_key, holder])}  # the crawl's writes are fenced by the lease
        self.proc = subprocess.Popen(spec.command(self.url, run), env=env, preexec_fn=_die_with_parent)
        lost = killed = unreachable = False
        renewal = time.monotonic() + self.lease_ms / 3000
        while self.proc.poll() is None:
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.proc.wait(timeout=max(0.0, min(WAIT_SLICE, renewal - time.monotonic())))
                break
            stuck = self.stopping and unreachable  # stopped, and the crawl cannot stop gracefully without Redis
            if stuck and not killed and time.monotonic() - (self.stopped_at or 0.0) >= STOP_GRACE_SECONDS:
                killed = True
                logger.error("Job %s: %s while Redis is unavailable: the crawl cannot queue its items or report, "
                             "killing it", job_id, self.stop_signal)
                self.proc.kill()
                continue
            if time.monotonic() < renewal and not self.stopping:
                continue
            renewal = time.monotonic() + self.lease_ms / 3000  # stopping: once per WAIT_SLICE (is Redis there?)
            try:
                renewed = self.renew_script(keys=fence_keys, args=fence_args)
            except (redis.ConnectionError, redis.TimeoutError):
                unreachable = True  # Redis is down for everyone: the crawl waits it out, the lease is renewed after
                continue
            unreachable = False
            if not renewed and not lost:
                lost = True
                logger.error("Job %s: lease of %s lost (another worker took the job: this one stalled past "
                             "the lease): stopping the crawl", job_id, record["host"])
                self.proc.send_signal(signal.SIGTERM)
        code = self.proc.returncode
        self.proc = None
        logger.info("Job %s: crawl exited with %s", job_id, code)

        def fenced_finish(values: dict[str, Any]) -> bool:
            fields = encode_control(FINISH, run, {**values, "finished_at": utc_now()})
            args: list[Any] = [*fence_args, *itertools.chain.from_iterable(fields.items())]
            return bool(self._redis(lambda: self.fenced_finish_script(keys=[*fence_keys, keys.STREAM], args=args),
                                    "reporting the run's exit"))
        requeue = False
        if not lost and code > 0:  # its own finish message normally came first (then the archiver ignores this
            # one); a crawl that could not send it (Redis gone past the outage limit) still gets its row closed
            lost = not fenced_finish({"status": "failed", "exit_code": code, "reason": f"crawl exited with {code} "
                                      "without reporting its verdict", "fallback": True})
        if not lost and code < 0 and (killed or not self.stopping):  # the crawl process was killed: report it, run
            # the job again (killed by this worker, stopped in a Redis outage: Redis is most likely still down, so
            # this raises StopRequested and the job is reclaimed once its lease expires)
            why = f"killed by signal {-code}" if not killed else \
                f"killed by its worker, stopped ({self.stop_signal}) while Redis was unavailable"
            lost = not fenced_finish({"status": "killed", "exit_code": 1,
                                      "reason": f"crawl process {why}; job {job_id} queued again"})
            requeue = int(record.get("attempts") or 1) < MAX_ATTEMPTS
        requeue = requeue or (self.stopping and not lost)
        if lost or not self._redis(lambda: self.finish_script(
                keys=[*fence_keys, keys.JOBS],
                args=[*fence_args, "1" if requeue else "0", str(code), DONE_JOB_TTL]), "releasing the job"):
            # fenced off: the job, its lease and this run's crawls row are the other worker's now; nothing written
            logger.error("Job %s: another worker took it over while this one stalled; this run (%s) writes no "
                         "state: its crawls row was closed by the worker that reclaimed the job", job_id, run)
        return code


def install_signal_handlers(worker: Worker) -> None:
    signal.signal(signal.SIGTERM, worker.stop)
    signal.signal(signal.SIGINT, worker.stop)
