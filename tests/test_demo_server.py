"""The loopback demo server and the invariants of the bundled demo sites."""
from __future__ import annotations

import hashlib
import re
import urllib.error
import urllib.request
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime
from urllib.parse import urljoin, urlsplit

import pytest

from newscrawl.demo.server import DemoServer, Page

TASHKENT = timezone(timedelta(hours=5))


def fetch(url: str, method: str = "GET", headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
    """Status, headers and body of one request; HTTP errors are returned, not raised."""
    request = urllib.request.Request(url, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, dict(response.headers.items()), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers.items()), error.read()


@pytest.fixture()
def server():
    pages = {
        "/": Page(b"<a href='{{BASE}}/x/'>home</a>"),
        "/list/?page=2": Page(b"second page"),
        "/boom/": Page(b"<h1>server error</h1>", status=500),
        "/cp/": Page("<p>Привет, мир</p>".encode("cp1251"), content_type="text/html"),
        "/dated/": Page(b"dated", last_modified=datetime(2025, 11, 15, 12, 33, 7, tzinfo=TASHKENT)),
        "/no-etag/": Page(b"plain", etag=False),
    }
    with DemoServer(pages) as demo:
        yield demo


def test_url_is_loopback_without_trailing_slash(server):
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+", server.url)


def test_serves_pages_and_replaces_base(server):
    status, headers, body = fetch(server.url + "/")
    assert status == 200
    assert headers["Content-Type"] == "text/html; charset=utf-8"
    assert body == f"<a href='{server.url}/x/'>home</a>".encode()


def test_query_is_part_of_the_key(server):
    assert fetch(server.url + "/list/?page=2")[2] == b"second page"
    assert fetch(server.url + "/list/?page=3")[0] == 404
    assert fetch(server.url + "/list/")[0] == 404


def test_unknown_path_is_404_html(server):
    status, headers, body = fetch(server.url + "/nope/")
    assert status == 404
    assert headers["Content-Type"].startswith("text/html")
    assert b"404" in body


def test_error_status_served_with_body(server):
    status, _, body = fetch(server.url + "/boom/")
    assert (status, body) == (500, b"<h1>server error</h1>")


def test_windows_1251_bytes_served_intact(server):
    status, headers, body = fetch(server.url + "/cp/")
    assert status == 200
    assert headers["Content-Type"] == "text/html"
    assert body == "<p>Привет, мир</p>".encode("cp1251")


def test_etag_is_sha1_of_final_body_and_if_none_match_gives_304(server):
    status, headers, body = fetch(server.url + "/")
    assert headers["ETag"] == '"' + hashlib.sha1(body).hexdigest() + '"'
    status, _, body = fetch(server.url + "/", headers={"If-None-Match": headers["ETag"]})
    assert (status, body) == (304, b"")
    assert fetch(server.url + "/", headers={"If-None-Match": '"other"'})[0] == 200
    status, headers, _ = fetch(server.url + "/no-etag/", headers={"If-None-Match": "*"})
    assert status == 200 and "ETag" not in headers


def test_last_modified_and_if_modified_since(server):
    status, headers, _ = fetch(server.url + "/dated/")
    assert headers["Last-Modified"] == "Sat, 15 Nov 2025 07:33:07 GMT"
    later = format_datetime(datetime(2025, 11, 15, 8, 0, tzinfo=timezone.utc), usegmt=True)
    earlier = format_datetime(datetime(2025, 11, 15, 7, 0, tzinfo=timezone.utc), usegmt=True)
    assert fetch(server.url + "/dated/", headers={"If-Modified-Since": headers["Last-Modified"]})[0] == 304
    assert fetch(server.url + "/dated/", headers={"If-Modified-Since": later})[0] == 304
    assert fetch(server.url + "/dated/", headers={"If-Modified-Since": earlier})[0] == 200
    assert fetch(server.url + "/", headers={"If-Modified-Since": later})[0] == 200


def test_set_page_and_remove_at_runtime(server):
    _, first, _ = fetch(server.url + "/")
    server.set_page("/", Page(b"changed"))
    status, second, body = fetch(server.url + "/", headers={"If-None-Match": first["ETag"]})
    assert (status, body) == (200, b"changed")
    assert second["ETag"] != first["ETag"]
    server.set_page("/new/", Page(b"new", headers={"X-Where": "{{BASE}}/new/"}))
    status, headers, _ = fetch(server.url + "/new/")
    assert status == 200 and headers["X-Where"] == server.url + "/new/"
    server.remove("/new/")
    assert fetch(server.url + "/new/")[0] == 404


def test_head_sends_headers_without_body(server):
    status, headers, body = fetch(server.url + "/list/?page=2", method="HEAD")
    assert status == 200 and body == b""
    assert headers["Content-Length"] == str(len(b"second page"))


def test_request_log_and_hits(server):
    fetch(server.url + "/list/?page=2", headers={"User-Agent": "demo-test"})
    fetch(server.url + "/list/?page=2")
    fetch(server.url + "/nope/")
    assert server.hits("/list/?page=2") == 2
    assert server.hits("/list/") == 0
    first = server.requests[0]
    assert (first.method, first.path, first.status) == ("GET", "/list/?page=2", 200)
    assert first.headers["User-Agent"] == "demo-test"
    assert server.requests[-1].status == 404
    server.reset_log()
    assert server.requests == [] and server.hits("/list/?page=2") == 0


def test_stop_releases_the_port():
    demo = DemoServer({"/": Page(b"x")}).start()
    url = demo.url
    demo.stop()
    with pytest.raises(urllib.error.URLError):
        urllib.request.urlopen(url + "/", timeout=2)
