"""bench/static_server.py, the benchmarks' pre-rendered server, answers what DemoServer answers for the same site:
the crawl benchmarks compare crawlers, so swapping the server must not change a byte the crawlers receive."""

from __future__ import annotations

import asyncio
import sys
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from email.message import Message

import pytest

from conftest import ROOT
from newscrawl.demo.page import Page
from newscrawl.demo.realistic import realistic_site
from newscrawl.demo.server import DemoServer

sys.path.insert(0, str(ROOT / "bench"))
from static_server import StaticServer  # bench/ is not a package: on the path above

REDIRECTED = "/kr/old-address/"


def _site() -> dict[str, Page]:
    site = realistic_site(45, 20)
    pages = {path: site[path] for path in site}
    pages[REDIRECTED] = Page(b"", status=301, headers={"Location": "{{BASE}}/kr/siyosat/"})
    return pages


@pytest.fixture(scope="module")
def static() -> Iterator[StaticServer]:
    server = StaticServer(_site())
    loop = asyncio.new_event_loop()
    loop.run_until_complete(server.start())
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    yield server
    loop.call_soon_threadsafe(loop.stop)
    thread.join(timeout=5)


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


def _get(url: str) -> tuple[int, Message, bytes]:
    opener = urllib.request.build_opener(_NoRedirect)
    try:
        with opener.open(url, timeout=10) as response:
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read()


def test_every_page_is_served_as_the_demo_server_serves_it(static: StaticServer) -> None:
    pages = _site()
    with DemoServer(pages) as demo:
        for path in pages:
            status, headers, body = _get(static.url + path)
            demo_status, demo_headers, demo_body = _get(demo.url + path)
            assert status == demo_status, path
            # each server's own base URL is in its links: the same bytes once the base is swapped
            own = body.replace(static.url.encode(), b"{{BASE}}")
            assert own == demo_body.replace(demo.url.encode(), b"{{BASE}}"), path
            assert headers["Content-Type"] == demo_headers["Content-Type"], path
            assert int(headers["Content-Length"]) == len(body)
    status, headers, _ = _get(static.url + REDIRECTED)
    assert (status, headers["Location"]) == (301, static.url + "/kr/siyosat/")


def test_unknown_paths_are_404_and_every_request_is_logged(static: StaticServer) -> None:
    static.log.clear()
    status, _, body = _get(static.url + "/kr/no-such-page/")
    assert status == 404 and "Саҳифа топилмади".encode() in body
    _get(static.url + "/kr/siyosat/")
    assert [(path, code) for _, path, code in static.log] == [("/kr/no-such-page/", 404), ("/kr/siyosat/", 200)]
