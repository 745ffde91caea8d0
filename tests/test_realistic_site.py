"""The realistic synthetic site (bench/scale.py's): real-sized pages, a Latin share, and pages the demo profile
extracts to the generator's ground truth; served lazily by DemoServer."""

from __future__ import annotations

import re
import urllib.request
from datetime import datetime

import pytest

from newscrawl.demo.realistic import PAGE_BYTES, realistic_site
from newscrawl.demo.server import DemoServer
from newscrawl.pages.article import extract_page
from newscrawl.sites import load_profile

CARD_LINK = re.compile(r'class="news-card__title" href="([^"]+)"')


def test_article_pages_are_40_to_51_kb_with_the_parts_of_a_real_page():
    site = realistic_site(2000)
    sizes = []
    for index in range(0, 2000, 37):
        body = site[site.article_path(index)].body
        sizes.append(len(body))
        html = body.decode()
        assert html.count('<script src="') >= 5 and html.count("<script>") >= 2
        assert html.count('type="application/ld+json"') == 1
        assert len(re.findall(r'<section class="other-news">.*?</section>', html, re.S)) == 1
        assert html.count('class="share__link') == 6
        sidebar = html.split('<section class="sidebar-news">')[1].split("</section>")[0]
        assert sidebar.count('class="news-card"') == 12
    assert PAGE_BYTES[0] <= min(sizes) and max(sizes) <= 51_000 and min(sizes) >= 40_000
    assert 44_000 <= sum(sizes) / len(sizes) <= 47_000  # about 45 KB on average, like the target site


def test_one_article_in_five_is_latin():
    site = realistic_site(500)
    scripts = [site.expected(i).script for i in range(500)]
    assert scripts.count("latn") == 100 and scripts.count("cyrl") == 400
    latin = site[site.article_path(2)].body.decode()
    assert 'lang="uz-Latn"' in latin and "Siyosat" in latin


def test_lazy_and_deterministic():
    site = realistic_site(100_000)
    assert len(site) == 100_000 + 5_000
    path = site.article_path(99_999)
    assert site[path].body == realistic_site(100_000)[path].body
    assert path in site and path.replace("-100000/", "-100001/") not in site
    assert "/kr/siyosat/?page=5000" in site and "/kr/siyosat/?page=5001" not in site
    with pytest.raises(KeyError):
        site["/nowhere/"]


def test_listings_link_every_article_once_and_chain_to_the_end():
    site = realistic_site(95, per_page=20)
    paths, number = [], 1
    while True:
        html = site[site.listing_path(number)].body.decode()
        paths += CARD_LINK.findall(html.split('<div class="news-list">')[1].split("</div>\n<nav")[0])
        if "pagination__next" not in html:
            break
        number += 1
    assert number == 5 and paths == [site.article_path(i) for i in range(95)]


@pytest.mark.parametrize("index", [0, 2, 7, 12, 41])
def test_demo_profile_extracts_the_ground_truth(index):
    site = realistic_site(60)
    truth = site.expected(index)
    base = "http://127.0.0.1:8000"
    html = site[truth.path].body.decode().replace("{{BASE}}", base)
    article = extract_page(html, base + truth.path, datetime.now().astimezone(), load_profile("demo"))
    assert article.title == truth.title
    assert article.lead == truth.lead
    assert article.body == "\n\n".join(truth.body)
    assert article.published_at == truth.published_at.isoformat()
    assert article.script == truth.script
    assert article.author == truth.author and article.tags == truth.tags and article.category == truth.category
    assert [(r.url, r.title) for r in article.related] == [(base + p, t) for p, t in truth.related]


def test_demo_server_serves_a_lazy_site_with_validators():
    site = realistic_site(100_000)
    path = site.article_path(12_345)
    with DemoServer(site) as server:
        with urllib.request.urlopen(server.url + path) as response:
            body = response.read()
            etag, modified = response.headers["ETag"], response.headers["Last-Modified"]
        assert body == site[path].body.replace(b"{{BASE}}", server.url.encode())
        assert etag and modified
        request = urllib.request.Request(server.url + path, headers={"If-None-Match": etag})
        with pytest.raises(urllib.error.HTTPError) as answer:
            urllib.request.urlopen(request)
        assert answer.value.code == 304
        server.remove(path)
        with pytest.raises(urllib.error.HTTPError) as answer:
            urllib.request.urlopen(server.url + path)
        assert answer.value.code == 404
        assert path not in server.pages and site.article_path(1) in server.pages
