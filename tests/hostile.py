"""A hostile HTTP server on 127.0.0.1 for fault-injection tests, plus process-tree memory measurement.

The demo server (newscrawl.demo.server) serves a fixed in-memory site. A hostile server must answer
differently per request: endless pagination, redirect loops, 429 then 200, streamed bombs. Each test gives
its own routes, so test files never share state:

    def page(req: Request) -> Reply: ...
    with HostileServer([(r"^/kr/siyosat/$", page), (r"^/a/(\\d+)/$", article)]) as srv:
        run_crawl(db, "-a", f"start_url={srv.url}/kr/siyosat/")

A route is (regex matched against the path with query, handler); the first match wins, no match is 404.
A Reply's body may be bytes or an iterable of byte chunks (streamed with chunked transfer encoding when no
Content-Length is given), so a multi-gigabyte bomb never exists in the server's memory either.
"""

from __future__ import annotations

import gzip
import os
import re
import threading
import time
import zlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import NamedTuple
from urllib.parse import parse_qs, urlsplit


@dataclass
class Request:
    """One request as the handler sees it."""

    method: str
    path: str
    """Path with query string, as sent."""
    headers: dict[str, str]
    match: re.Match[str]
    hits: int
    """How many requests this exact path had before this one (0 on the first)."""
    server: HostileServer

    @property
    def query(self) -> dict[str, list[str]]:
        return parse_qs(urlsplit(self.path).query)


@dataclass
class Reply:
    status: int = 200
    body: bytes | Iterable[bytes] = b""
    headers: dict[str, str] = field(default_factory=lambda: {"Content-Type": "text/html; charset=utf-8"})
    delay: float = 0.0
    """Seconds to wait before answering."""


Handler = Callable[[Request], Reply]


class Record(NamedTuple):
    method: str
    path: str
    status: int
    headers: dict[str, str]
    at: float
    """time.monotonic() when the request arrived."""


def html(body: str, status: int = 200, **headers: str) -> Reply:
    return Reply(status, body.encode("utf-8"), {"Content-Type": "text/html; charset=utf-8", **headers})


def redirect(location: str, status: int = 301) -> Reply:
    return Reply(status, b"", {"Location": location, "Content-Type": "text/html"})


def gzip_bomb_chunks(expanded_bytes: int, chunk: bytes = b"<p>" + b"a" * 1021) -> Iterator[bytes]:
    """A gzip stream (Content-Encoding: gzip) that expands to about expanded_bytes, generated lazily."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, 31)  # wbits 31: gzip container
    repeats = max(1, expanded_bytes // len(chunk))
    block = chunk * 64
    for _ in range(repeats // 64):
        out = compressor.compress(block)
        if out:
            yield out
    yield compressor.flush()


def gzip_bomb(expanded_bytes: int) -> bytes:
    """The whole bomb as bytes (small bombs: 100 MB expands from about 100 KB)."""
    return b"".join(gzip_bomb_chunks(expanded_bytes))


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        self._serve(True)

    def do_HEAD(self) -> None:
        self._serve(False)

    def log_message(self, format: str, *args: object) -> None:
        """Quiet."""

    def _serve(self, send_body: bool) -> None:
        owner = self.server.owner
        reply, _record = owner._dispatch(self.command, self.path, dict(self.headers.items()))
        if reply.delay:
            time.sleep(reply.delay)
        self.send_response(reply.status)
        headers = dict(reply.headers)
        streamed = not isinstance(reply.body, (bytes, bytearray))
        for name, value in headers.items():
            self.send_header(name, value)
        if not streamed:
            if not any(k.lower() == "content-length" for k in headers):
                self.send_header("Content-Length", str(len(reply.body)))  # type: ignore[arg-type]
            self.end_headers()
            if send_body and reply.body:
                self.wfile.write(reply.body)  # type: ignore[arg-type]
            return
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        if not send_body:
            return
        try:
            for chunk in reply.body:  # type: ignore[union-attr]
                if chunk:
                    self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
            self.wfile.write(b"0\r\n\r\n")
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True  # the client gave up on a bomb: that is the point


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    owner: HostileServer

    def handle_error(self, request: object, client_address: object) -> None:
        """Dropped connections are expected."""


class HostileServer:
    """A real HTTP server on 127.0.0.1 answering each request through the first matching route."""

    def __init__(self, routes: list[tuple[str, Handler]], host: str = "127.0.0.1", port: int = 0) -> None:
        self.routes = [(re.compile(pattern), handler) for pattern, handler in routes]
        self.host, self.port = host, port
        self.url = ""
        self.requests: list[Record] = []
        self._lock = threading.Lock()
        self._counts: dict[str, int] = {}
        self._httpd: _Server | None = None
        self._thread: threading.Thread | None = None

    def add(self, pattern: str, handler: Handler) -> None:
        """Add a route in front of the others."""
        self.routes.insert(0, (re.compile(pattern), handler))

    def _dispatch(self, method: str, path: str, headers: dict[str, str]) -> tuple[Reply, Record]:
        with self._lock:
            hits = self._counts.get(path, 0)
            self._counts[path] = hits + 1
        for pattern, handler in self.routes:
            found = pattern.search(path)
            if found:
                reply = handler(Request(method, path, headers, found, hits, self))
                break
        else:
            reply = html("<h1>404</h1>", 404)
        record = Record(method, path, reply.status, headers, time.monotonic())
        with self._lock:
            self.requests.append(record)
        return reply, record

    def hits(self, path: str) -> int:
        with self._lock:
            return self._counts.get(path, 0)

    def paths(self) -> list[str]:
        with self._lock:
            return [r.path for r in self.requests]

    def start(self) -> HostileServer:
        httpd = _Server((self.host, self.port), _Handler)
        httpd.owner = self
        self._httpd = httpd
        self.port = httpd.server_address[1]
        self.url = f"http://{self.host}:{self.port}"
        self._thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        httpd, self._httpd = self._httpd, None
        if httpd is not None:
            httpd.shutdown()
            httpd.server_close()

    def __enter__(self) -> HostileServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


# --- memory of a process tree, read from /proc (Linux) ---------------------------------------------------

def _children(pid: int) -> list[int]:
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            found += [int(c) for c in (task / "children").read_text().split()]
        except OSError:
            continue
    return found


def tree_rss(pid: int) -> int:
    """Resident bytes of pid and all its descendants now (0 for processes already gone)."""
    total, stack = 0, [pid]
    page = os.sysconf("SC_PAGE_SIZE")
    while stack:
        current = stack.pop()
        try:
            total += int(Path(f"/proc/{current}/statm").read_text().split()[1]) * page
        except (OSError, IndexError, ValueError):
            continue
        stack += _children(current)
    return total


class PeakMemory:
    """Samples tree_rss(pid) every `every` seconds in a thread; `peak` is the highest sum seen."""

    def __init__(self, pid: int, every: float = 0.05) -> None:
        self.pid, self.every, self.peak = pid, every, 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, tree_rss(self.pid))
            self._stop.wait(self.every)

    def __enter__(self) -> PeakMemory:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def gzipped(body: bytes) -> bytes:
    return gzip.compress(body)
