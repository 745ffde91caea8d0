"""The benchmarks' site server: every page of a demo site rendered once, before the first round, and served as
stored bytes by one asyncio loop.

Why not DemoServer (newscrawl/demo/server.py) itself: it renders the realistic site's page on each request and
runs a thread per connection, about 0.7-0.8 ms of CPU per page. On this 2-core machine that CPU comes out of
the cores the crawl under test shares, and it hits the two sides unequally: the bare spider uses one core and
leaves the server the other, while the full crawl (crawl process, extraction worker, writer) needs both. A real
site's server is on another machine, so the benchmark should spend as little of the crawler's CPU as it can on
serving: here about 0.1-0.2 ms per page. `bench/crawl.py --demo-server` keeps the old server, to compare.

What it answers is what DemoServer answers for a GET of a page without validators: the page's status, its
Content-Type and headers (with `{{BASE}}` replaced), its body, and 404 for any other path. Like DemoServer
(HTTP/1.0) it closes the connection after each response, so Scrapy's per-page cost is the same under both.

Pages are rendered into one temporary file (about 4.5 GB at 100,000 realistic articles) and read from it per
request (the page cache holds it), so the server's memory stays small however big the site is.
"""

from __future__ import annotations

import asyncio
import os
import tempfile
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from http import HTTPStatus

from newscrawl.demo.page import Page
from newscrawl.demo.server import BASE_PLACEHOLDER, NOT_FOUND_BODY

MAX_REQUEST_HEAD = 16 * 1024
"""A request head longer than this is answered 400 and the connection closed (the crawlers send ~300 bytes)."""


@dataclass(frozen=True)
class _Stored:
    status: int
    head: bytes  # status line and headers, ending with the blank line
    offset: int
    length: int


def _head(status: int, headers: Mapping[str, str], length: int) -> bytes:
    lines = [f"HTTP/1.0 {status} {HTTPStatus(status).phrase}", *(f"{k}: {v}" for k, v in headers.items()),
             f"Content-Length: {length}", "Connection: close", "", ""]
    return "\r\n".join(lines).encode("latin-1")


class PageFile:
    """Every page of a site rendered for one base URL, in one unlinked temporary file."""

    def __init__(self, pages: Mapping[str, Page], base: str) -> None:
        self.index: dict[str, _Stored] = {}
        handle = tempfile.TemporaryFile(prefix="bench-pages-")  # noqa: SIM115 - open for the server's lifetime
        self.fd = handle.fileno()
        self._handle = handle  # keeps the file (already unlinked) open for the server's lifetime
        offset = 0
        for path in pages:
            page = pages[path]
            body = page.body.replace(BASE_PLACEHOLDER, base.encode("ascii"))
            headers = {"Content-Type": page.content_type,
                       **{k: v.replace("{{BASE}}", base) for k, v in page.headers.items()}}
            handle.write(body)
            self.index[path] = _Stored(page.status, _head(page.status, headers, len(body)), offset, len(body))
            offset += len(body)
        handle.flush()
        self.not_found = _head(404, {"Content-Type": "text/html; charset=utf-8"}, len(NOT_FOUND_BODY)) \
            + NOT_FOUND_BODY

    def response(self, path: str) -> tuple[int, bytes]:
        stored = self.index.get(path)
        if stored is None:
            return 404, self.not_found
        return stored.status, stored.head + os.pread(self.fd, stored.length, stored.offset)


class _Connection(asyncio.Protocol):
    def __init__(self, answer: Callable[[bytes], bytes]) -> None:
        self.answer = answer
        self.buffer = b""
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        assert self.transport is not None
        self.buffer += data
        end = self.buffer.find(b"\r\n\r\n")
        if end < 0:
            if len(self.buffer) > MAX_REQUEST_HEAD:
                self.transport.write(_head(400, {}, 0))
                self.transport.close()
            return
        self.transport.write(self.answer(self.buffer[:end]))
        self.transport.close()  # after the write is flushed


class StaticServer:
    """Serves a PageFile on 127.0.0.1 and logs (time.monotonic(), path, status) of every request."""

    def __init__(self, pages: Mapping[str, Page], host: str = "127.0.0.1") -> None:
        self.host = host
        self.pages = pages
        self.log: list[tuple[float, str, int]] = []
        self.url = ""
        self.store: PageFile | None = None

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        self.server = await loop.create_server(lambda: _Connection(self._answer), self.host, 0, backlog=256)
        port = self.server.sockets[0].getsockname()[1]
        self.url = f"http://{self.host}:{port}"
        self.store = PageFile(self.pages, self.url)  # rendered once the base URL (the port) is known

    def _answer(self, head: bytes) -> bytes:
        assert self.store is not None
        request_line = head.split(b"\r\n", 1)[0].split()
        path = request_line[1].decode("latin-1") if len(request_line) == 3 else ""
        status, response = self.store.response(path) if request_line[:1] == [b"GET"] else (405, _head(405, {}, 0))
        self.log.append((time.monotonic(), path, status))
        return response
