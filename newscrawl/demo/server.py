"""A small loopback HTTP server that serves an in-memory site (standard library only)."""
from __future__ import annotations

import argparse
import hashlib
import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from email.utils import format_datetime, parsedate_to_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import NamedTuple

from newscrawl.demo.page import Page

__all__ = ["DemoServer", "Page", "RequestRecord"]

BASE_PLACEHOLDER = b"{{BASE}}"

NOT_FOUND_BODY = (
    "<!DOCTYPE html>\n<html lang=\"uz-Cyrl\"><head><meta charset=\"utf-8\">"
    "<title>404 — Саҳифа топилмади</title></head><body><main class=\"content\">"
    "<h1>404</h1><p>Саҳифа топилмади. <a href=\"/kr/\">Асосий саҳифа</a></p>"
    "</main></body></html>\n"
).encode()


class RequestRecord(NamedTuple):
    """One request the server answered."""

    method: str
    path: str
    status: int
    headers: dict[str, str]


@dataclass
class _Rendered:
    """A page with `{{BASE}}` replaced, cached per server."""

    source: Page
    body: bytes
    headers: dict[str, str]
    etag: str | None


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    wbufsize = 1 << 16  # headers and body leave in one write; handle_one_request flushes

    def do_GET(self) -> None:
        self._serve(send_body=True)

    def do_HEAD(self) -> None:
        self._serve(send_body=False)

    def log_message(self, format: str, *args: object) -> None:
        """Silence the default stderr access log."""

    def _serve(self, send_body: bool) -> None:
        demo = self.server.demo
        rendered = demo._rendered(self.path)
        if rendered is None:
            status, body, headers = 404, NOT_FOUND_BODY, {"Content-Type": "text/html; charset=utf-8"}
        else:
            status, body, headers = rendered.source.status, rendered.body, dict(rendered.headers)
            if status == 200 and self._not_modified(rendered):
                status, body = 304, b""
        demo._log(RequestRecord(self.command, self.path, status, dict(self.headers.items())))
        self.send_response(status)
        for name, value in headers.items():
            if status == 304 and name.lower() == "content-type":
                continue
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if send_body and body:
            self.wfile.write(body)

    def _not_modified(self, rendered: _Rendered) -> bool:
        """Evaluate If-None-Match (preferred) or If-Modified-Since against the page."""
        inm = self.headers.get("If-None-Match")
        if inm is not None:
            if rendered.etag is None:
                return False
            tags = {t.strip().removeprefix("W/") for t in inm.split(",")}
            return "*" in tags or rendered.etag in tags
        ims = self.headers.get("If-Modified-Since")
        last_modified = rendered.source.last_modified
        if ims is None or last_modified is None:
            return False
        try:
            since = parsedate_to_datetime(ims)
        except (TypeError, ValueError):
            return False
        if since.tzinfo is None:
            since = since.replace(tzinfo=timezone.utc)
        return _whole_seconds(last_modified) <= since


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    demo: DemoServer

    def handle_error(self, request: object, client_address: object) -> None:
        """Clients dropping connections are normal in tests; say nothing."""


def _whole_seconds(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.replace(microsecond=0)


class _Layered(Mapping[str, Page]):
    """Runtime changes (set_page/remove) over a lazy site: what DemoServer.pages shows for one."""

    def __init__(self, changed: dict[str, Page], removed: set[str], base: Mapping[str, Page]) -> None:
        self._changed, self._removed, self._base = changed, removed, base

    def __getitem__(self, path: str) -> Page:
        if path in self._changed:
            return self._changed[path]
        if path in self._removed:
            raise KeyError(path)
        return self._base[path]

    def __iter__(self) -> Iterator[str]:
        yield from self._changed
        yield from (p for p in self._base if p not in self._changed and p not in self._removed)

    def __len__(self) -> int:
        return sum(1 for _ in self)


class DemoServer:
    """A real HTTP server on 127.0.0.1 serving an in-memory site; usable as a context manager.

    `pages` is a dict (copied) or any other Mapping, kept as is and read per request: a lazy site such as
    newscrawl.demo.realistic renders each page on lookup, and its pages are neither copied nor cached here
    (they must render the same bytes on every lookup, so ETags stay stable).
    """

    def __init__(self, pages: Mapping[str, Page], host: str = "127.0.0.1", port: int = 0) -> None:
        self.host = host
        self.port = port
        self.url = ""
        self.requests: list[RequestRecord] = []
        lazy = not isinstance(pages, dict)
        self._pages: dict[str, Page] = {} if lazy else dict(pages)
        self._base: Mapping[str, Page] | None = pages if lazy else None
        self._removed: set[str] = set()
        self._cache: dict[str, _Rendered] = {}
        self._lock = threading.Lock()
        self._httpd: _Server | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> DemoServer:
        """Bind, start serving in a daemon thread and set `url`."""
        if self._httpd is not None:
            return self
        httpd = _Server((self.host, self.port), _Handler)
        httpd.demo = self
        self._httpd = httpd
        self.port = httpd.server_address[1]
        self.url = f"http://{self.host}:{self.port}"
        self._thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05},
                                        name=f"DemoServer:{self.port}", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and release the port."""
        httpd, self._httpd = self._httpd, None
        if httpd is None:
            return
        httpd.shutdown()
        httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> DemoServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def hits(self, path: str) -> int:
        """How many requests were made for exactly this path (with query)."""
        with self._lock:
            return sum(1 for r in self.requests if r.path == path)

    def set_page(self, path: str, page: Page) -> None:
        """Add or replace a page at runtime."""
        with self._lock:
            self._pages[path] = page
            self._removed.discard(path)
            self._cache.pop(path, None)

    def remove(self, path: str) -> None:
        """Remove a page; it answers 404 from now on."""
        with self._lock:
            self._pages.pop(path, None)
            self._removed.add(path)
            self._cache.pop(path, None)

    def reset_log(self) -> None:
        """Forget all recorded requests."""
        with self._lock:
            self.requests.clear()

    @property
    def pages(self) -> Mapping[str, Page]:
        """A snapshot of the pages being served (for a lazy site: a live view over it)."""
        with self._lock:
            if self._base is None:
                return dict(self._pages)
            return _Layered(dict(self._pages), set(self._removed), self._base)

    def _log(self, record: RequestRecord) -> None:
        with self._lock:
            self.requests.append(record)

    def _rendered(self, path: str) -> _Rendered | None:
        with self._lock:
            page = self._pages.get(path)
            lazy = page is None and self._base is not None and path not in self._removed
        if lazy:
            assert self._base is not None
            page = self._base.get(path)  # rendered outside the lock, not cached: a big site stays out of memory
            return None if page is None else self._render(page)
        with self._lock:
            page = self._pages.get(path)
            if page is None:
                return None
            cached = self._cache.get(path)
            if cached is not None and cached.source is page:
                return cached
            rendered = self._render(page)
            self._cache[path] = rendered
            return rendered

    def _render(self, page: Page) -> _Rendered:
        base = self.url.encode("ascii")
        body = page.body.replace(BASE_PLACEHOLDER, base) if BASE_PLACEHOLDER in page.body else page.body
        headers = {"Content-Type": page.content_type}
        headers.update({k: v.replace("{{BASE}}", self.url) for k, v in page.headers.items()})
        etag = None
        if page.etag:
            etag = '"' + hashlib.sha1(body).hexdigest() + '"'
            headers["ETag"] = etag
        if page.last_modified is not None:
            last_modified = _whole_seconds(page.last_modified).astimezone(timezone.utc)
            headers["Last-Modified"] = format_datetime(last_modified, usegmt=True)
        return _Rendered(page, body, headers, etag)


def main(argv: list[str] | None = None) -> None:
    """Serve the demo (or generic) site on 127.0.0.1 until Ctrl-C."""
    from newscrawl.demo import site

    parser = argparse.ArgumentParser(prog="python -m newscrawl.demo.server", description=main.__doc__)
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--site", choices=("demo", "generic"), default="demo")
    args = parser.parse_args(argv)
    if args.site == "demo":
        pages, _ = site.demo_site()
        start = site.DEMO_START_PATH
    else:
        pages, _ = site.generic_site()
        start = site.GENERIC_START_PATH
    server = DemoServer(pages, port=args.port).start()
    print(f"Serving the {args.site} site at {server.url}{start} (Ctrl-C to stop)", flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()


if __name__ == "__main__":
    main()
