"""canonical_url and friends: one form per URL, whatever spelling a page, feed or redirect uses."""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import parse_qsl, urlsplit

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from newscrawl.urls import (PLAIN_URL_RE, _canonicalize, _parsed_slash_variant, absolute_url, article_url,
                            canonical_url, is_plain_canonical, is_tracking, safe_url, slash_variant, url_forms)

SLUG = "%D0%A1%D0%B5%D0%BD%D0%B0%D1%82-%D0%BC%D0%B0%D0%B6%D0%BB%D0%B8%D1%81%D0%B8"  # "Сенат-мажлиси" in UTF-8

CASES = [
    # (input, canonical form, why)
    ("https://kun.uz/kr/news/Сенат-мажлиси/", f"https://kun.uz/kr/news/{SLUG}/", "Cyrillic slug: UTF-8 escapes"),
    (f"https://kun.uz/kr/news/{SLUG}/", f"https://kun.uz/kr/news/{SLUG}/", "already encoded: not encoded again"),
    (f"https://kun.uz/kr/news/{SLUG.lower()}/", f"https://kun.uz/kr/news/{SLUG}/", "%d0%b0 and %D0%B0 are one"),
    ("https://kun.uz/news/senat-majlisi", "https://kun.uz/news/senat-majlisi", "Latin slug unchanged"),
    ("https://kun.uz/news/o%CA%BBzbekiston", "https://kun.uz/news/o%CA%BBzbekiston", "oʻ escaped stays"),
    ("https://kun.uz/news/oʻzbekiston", "https://kun.uz/news/o%CA%BBzbekiston", "oʻ raw gets escaped"),
    ("https://kun.uz/a%7Eb", "https://kun.uz/a~b", "unreserved characters unescaped"),
    ("https://kun.uz/a%2Fb", "https://kun.uz/a%2Fb", "an escaped slash stays escaped"),
    ("HTTPS://KUN.UZ/News/X", "https://kun.uz/News/X", "scheme and host lowercased, path case kept"),
    ("https://пример.рф/новости", "https://xn--e1afmkfd.xn--p1ai/%D0%BD%D0%BE%D0%B2%D0%BE%D1%81%D1%82%D0%B8",
     "IDN host as punycode, the form on the wire"),
    ("https://xn--e1afmkfd.xn--p1ai/a", "https://xn--e1afmkfd.xn--p1ai/a", "punycode host unchanged"),
    ("https://kun.uz:443/a", "https://kun.uz/a", "default https port dropped"),
    ("http://kun.uz:80/a", "http://kun.uz/a", "default http port dropped"),
    ("http://kun.uz:8080/a", "http://kun.uz:8080/a", "other ports kept"),
    ("https://kun.uz:80/a", "https://kun.uz:80/a", "80 is not https' default"),
    ("https://kun.uz/a#comments", "https://kun.uz/a", "fragment dropped"),
    ("https://kun.uz/a?id=5&utm_source=tg&utm_medium=social&utm_x=1", "https://kun.uz/a?id=5", "utm_* dropped"),
    ("https://kun.uz/a?UTM_Source=tg&fbclid=1&gclid=2&yclid=3", "https://kun.uz/a", "other trackers dropped"),
    ("https://kun.uz/a?utm%5Fsource=tg", "https://kun.uz/a", "escaped tracker name dropped"),
    ("https://kun.uz/a?b=2&a=1", "https://kun.uz/a?a=1&b=2", "query sorted, as Scrapy's fingerprints do"),
    ("https://kun.uz/a?a=2&a=1", "https://kun.uz/a?a=1&a=2", "repeated names all kept"),
    ("https://kun.uz/a?q=а", "https://kun.uz/a?q=%D0%B0", "query values UTF-8 escaped"),
    ("https://kun.uz/a?", "https://kun.uz/a", "empty query dropped"),
    ("https://kun.uz", "https://kun.uz/", "empty path is /"),
    ("https://kun.uz/x/", "https://kun.uz/x/", "trailing slash kept: the form the site serves"),
    ("https://kun.uz/x", "https://kun.uz/x", "no trailing slash kept too"),
    (" https://kun.uz/x ", "https://kun.uz/x", "surrounding blanks dropped"),
]


@pytest.mark.parametrize("url, expected, why", CASES, ids=[c[2] for c in CASES])
def test_canonical_url(url: str, expected: str, why: str) -> None:
    assert canonical_url(url) == expected, why


def test_safe_url_keeps_the_query_as_given_but_escapes_it() -> None:
    assert safe_url("HTTPS://Kun.uz:443/rasm/Ў.jpg?w=300&from=2#x") == "https://kun.uz/rasm/%D0%8E.jpg?w=300&from=2"


@pytest.mark.parametrize("href, expected", [
    ("/kr/news/Сенат/?utm_source=tg#top", "https://kun.uz/kr/news/%D0%A1%D0%B5%D0%BD%D0%B0%D1%82/"),
    ("../b/", "https://kun.uz/kr/b/"),
    ("//cdn.kun.uz/a", "https://cdn.kun.uz/a"),
    ("mailto:x@kun.uz", None), ("javascript:void(0)", None), ("", None), ("   ", None), (None, None),
    ("http://[broken", None),
])
def test_article_url_joins_and_canonicalises(href: str | None, expected: str | None) -> None:
    assert article_url("https://kun.uz/kr/siyosat/", href) == expected


def test_absolute_url_keeps_tracking_like_parameters_pagination_may_need() -> None:
    assert absolute_url("https://kun.uz/kr/siyosat/", "?from=20") == "https://kun.uz/kr/siyosat/?from=20"


@pytest.mark.parametrize("url, variant", [
    ("https://kun.uz/x/", "https://kun.uz/x"), ("https://kun.uz/x", "https://kun.uz/x/"),
    ("https://kun.uz/x?id=1", "https://kun.uz/x/?id=1"), ("https://kun.uz/", None),
    ("https://kun.uz/;/", None),
])
def test_slash_variant(url: str, variant: str | None) -> None:
    assert slash_variant(url) == variant
    assert url_forms(url) == ((url, variant) if variant else (url,))


@settings(max_examples=3000, deadline=None)
@given(st.from_regex(PLAIN_URL_RE, fullmatch=True))
def test_a_plain_url_is_canonical_as_it_is(url: str) -> None:
    """canonical_url's shortcut (is_plain_canonical: the URL is returned unparsed) gives what w3lib gives."""
    if is_plain_canonical(url):
        assert _canonicalize(url) == url


@settings(max_examples=2000, deadline=None)
@given(st.from_regex(PLAIN_URL_RE, fullmatch=True))
def test_a_plain_urls_slash_variant_is_the_parsed_one(url: str) -> None:
    """slash_variant's shortcut for a plain canonical URL (toggle the last character) gives what parsing gives."""
    if is_plain_canonical(url):
        assert slash_variant(url) == _parsed_slash_variant(url)


@pytest.mark.parametrize("url", [
    "http://127.0.0.1:8765/kr/news/2025/11/11/a-1/", "https://kun.uz/", "https://kun.uz/x~y/A_b.c", "http://localhost/a",
    "http://127.0.0.01/", "http://127.1/", "http://256.0.0.1/", "http://0x7f.0.0.1/", "http://1.2.3.4.5/",
    "http://a.123/", "http://kun.uz:80/", "https://kun.uz:443/x", "http://kun.uz:0/", "http://kun.uz:65536/",
    "http://kun.uz:08080/", "http://xn--e1afmkfd.xn--p1ai/", "http://a--b.uz/", "http://a-.uz/", "http://-a.uz/",
    "http://kun.uz/./x", "http://kun.uz/a/../b", "http://kun.uz//b", "http://kun.uz/.x", "http://kun.uz/%41",
    "http://KUN.uz/", "HTTP://kun.uz/", "http://kun.uz", "http://kun.uz/a?", "http://kun.uz/a#", "http://kun.uz./a",
])
def test_canonical_url_shortcut_agrees_with_w3lib(url: str) -> None:
    def answer(canonicalise: Callable[[str], str]) -> str:
        try:
            return canonicalise(url)
        except ValueError as exc:  # an invalid port or address: the shortcut must not accept it either
            return f"ValueError: {exc}"

    assert answer(canonical_url) == answer(_canonicalize)


SEGMENT = st.text(st.sampled_from("abcxyz-_.~%20ÐAžсиёатўқғҳ Ўʻ'!$&()*+,;=:@%/?#"), max_size=12)
URLS = st.builds(
    lambda scheme, host, port, path, query, fragment: f"{scheme}://{host}{port}/{path}{query}{fragment}",
    st.sampled_from(["http", "https", "HTTP", "HttpS"]),
    st.sampled_from(["kun.uz", "KUN.uz", "пример.рф", "xn--e1afmkfd.xn--p1ai", "127.0.0.1"]),
    st.sampled_from(["", ":80", ":443", ":8080"]),
    SEGMENT,
    st.one_of(st.just(""), SEGMENT.map(lambda s: "?" + s),
              st.lists(st.tuples(st.sampled_from(["a", "B", "utm_source", "id", "q", "fbclid"]), SEGMENT),
                       max_size=4).map(lambda pairs: "?" + "&".join(f"{k}={v}" for k, v in pairs))),
    st.one_of(st.just(""), SEGMENT.map(lambda s: "#" + s)),
)


@settings(max_examples=1000, deadline=None)
@given(URLS)
def test_canonical_url_is_idempotent(url: str) -> None:
    once = canonical_url(url)
    assert canonical_url(once) == once
    assert once.isascii() and "#" not in once
    assert not [name for name, _ in parse_qsl(urlsplit(once).query, keep_blank_values=True) if is_tracking(name)]


@settings(max_examples=200, deadline=None)
@given(URLS)
def test_a_stored_url_and_its_slash_variant_canonicalise_to_themselves(url: str) -> None:
    for form in url_forms(canonical_url(url)):
        assert canonical_url(form) == form


JOIN_BASES = ["https://kun.uz/kr/news/2025/11/15/a/?page=2#top", "HTTP://User@Kun.UZ:8080/a/b;p?q", "http://[::1]/x/y",
              "https://kun.uz", "https://kun.uz/a/../b/./c", "ftp://kun.uz/a/", "mailto:x@kun.uz", "kun.uz/a/",
              "http://[broken/a", "", "https://kun.uz/\tnews/"]


@settings(max_examples=300)
@given(st.sampled_from(JOIN_BASES), st.text(alphabet="/.:;?#@%[]\t\n ab-", max_size=12))
def test_a_path_absolute_link_joins_as_from_the_page_itself(base: str, tail: str) -> None:
    """Links starting with "/" are joined against the page's scheme and host (cached per site): the same URL as
    urljoin with the whole page URL gives."""
    from urllib.parse import urljoin, urlsplit

    def expected(form):  # type: ignore[no-untyped-def]
        try:
            url = urljoin(base, href.strip())
            return form(url) if urlsplit(url).scheme in ("http", "https") else None
        except ValueError:
            return None

    for href in ("/" + tail, " /" + tail, "//" + tail, "/\t/" + tail, "\n//" + tail):
        assert absolute_url(base, href) == expected(safe_url), href
        assert article_url(base, href) == expected(canonical_url), href
