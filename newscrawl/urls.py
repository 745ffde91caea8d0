"""One identity per URL: the form every URL is compared and stored in (cards, feeds, lookups, every URL column).

Pure functions on strings, built on w3lib (what Scrapy itself uses for request fingerprints).
The identity rules are documented in docs/schema.md ("URL identity").
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import lru_cache
from urllib.parse import parse_qsl, urljoin, urlsplit, urlunsplit

from w3lib.url import canonicalize_url, safe_url_string, url_query_cleaner

TRACKING_PARAMETERS = frozenset({"fbclid", "gclid", "yclid", "dclid", "msclkid", "mc_cid", "mc_eid", "igshid",
                                 "ref", "from"})
"""Query parameters that say how a link was shared, never which article it is (compared case-insensitively)."""
TRACKING_PREFIXES = ("utm_",)
"""Every utm_* parameter (utm_source, utm_medium, ... and the non-standard ones sites invent)."""
DEFAULT_PORTS = {"http": 80, "https": 443}
CACHED_URLS = 2048
"""A page's links repeat (listing cards, related blocks, the generic card search walking up the tree):
remembering recent answers makes canonicalisation cost nothing measurable per page. A page has a few hundred
links at most; three caches of 8,192 held ~6 MB more in each crawl process once a long crawl had filled them."""
WEB_SCHEMES = ("http", "https")


def is_tracking(name: str) -> bool:
    name = name.lower()
    return name in TRACKING_PARAMETERS or name.startswith(TRACKING_PREFIXES)


def _normal(url: str) -> str:
    """Lowercase scheme and host, IDN host as punycode, no default port, path percent-encoded as UTF-8."""
    parts = urlsplit(safe_url_string(url.strip()))
    scheme = parts.scheme.lower()
    netloc = parts.netloc.lower()
    port = DEFAULT_PORTS.get(scheme)
    if port is not None and netloc.endswith(f":{port}"):
        netloc = netloc.removesuffix(f":{port}")
    return urlunsplit((scheme, netloc, parts.path or "/", parts.query, parts.fragment))


@lru_cache(maxsize=CACHED_URLS)
def safe_url(url: str) -> str:
    """A fetchable form of any URL: percent-encoded (UTF-8, as browsers do), lowercase scheme and host, no default
    port, no fragment. The query is left exactly as given (image and pagination URLs may depend on it)."""
    parts = urlsplit(_normal(url))
    return urlunsplit((parts.scheme, parts.netloc, parts.path, parts.query, ""))


@lru_cache(maxsize=CACHED_URLS)
def canonical_url(url: str) -> str:
    """The identity of a page's URL: safe_url, then w3lib's canonicalize_url (percent-escapes in upper case and
    only where needed, so encoded and raw input give one form; query arguments sorted, as in Scrapy's request
    fingerprints; blank values kept), without tracking parameters. The trailing slash is kept as given: the stored
    form is the one the site serves (see `slash_variant`). Idempotent; raises ValueError for an unparseable URL."""
    if is_plain_canonical(url):
        return url
    return _canonicalize(url)


PLAIN_URL_RE = re.compile(
    r"(https?)://(?:((?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?\.)*[a-z](?:[a-z0-9-]*[a-z0-9])?)|((?:\d{1,3}\.){3}\d{1,3}))"
    r"(?::([1-9]\d{0,4}))?(/|(?:/[A-Za-z0-9_~-][A-Za-z0-9._~-]*)+/?)", re.ASCII)  # \d: 0-9 only
"""A URL every step of canonical_url leaves as it is: lowercase http(s), a plain host name or dotted IPv4 address,
an optional port, and a path of unreserved characters only (no empty, dot or dot-dot segment, no escape), without
query or fragment. The links of most news sites are such URLs, already canonical when the archive stores them."""


def is_plain_canonical(url: str) -> bool:
    """Whether url is a PLAIN_URL_RE URL with none of what the URL standard would still rewrite in it (a default or
    out-of-range port, an IPv4 part over 255 or with a leading zero, an IDNA label): then canonical_url(url) is url,
    with no parsing (a canonicalisation the cache misses cost 13 us in a loop, several times that in the archive's
    writer, where it runs cold between SQLite statements; tests/test_urls.py checks the two agree)."""
    return _plain_path(url) is not None


def _plain_path(url: str) -> str | None:
    """The path of url when is_plain_canonical(url), else None."""
    match = PLAIN_URL_RE.fullmatch(url)
    if match is None:
        return None
    scheme, name, address, port, path = match.groups()
    if port is not None and (int(port) > 65535 or int(port) == DEFAULT_PORTS[scheme]):
        return None
    if address is not None:
        plain = all(part == "0" or (not part.startswith("0") and int(part) <= 255) for part in address.split("."))
    else:
        plain = "--" not in name
    return path if plain else None


def _canonicalize(url: str) -> str:
    """canonical_url() by w3lib, for any URL."""
    url = canonicalize_url(_normal(url))
    query = urlsplit(url).query
    if query:  # after canonicalize_url, so that an escaped name (utm%5Fsource) is matched too
        drop = sorted({name for name, _ in parse_qsl(query, keep_blank_values=True) if is_tracking(name)})
        if drop:
            url = url_query_cleaner(url, drop, remove=True, unique=False)
    return url


def absolute_url(base_url: str, href: str | None) -> str | None:
    """safe_url of href relative to base_url; None for mailto:, javascript:, data: and unparseable links."""
    return _web_url(base_url, href, safe_url)


def article_url(base_url: str, href: str | None) -> str | None:
    """canonical_url of href relative to base_url: one URL per article, however it was linked or shared."""
    return _web_url(base_url, href, canonical_url)


def _web_url(base_url: str, href: str | None, form: Callable[[str], str]) -> str | None:
    if not href or not href.strip():
        return None
    href = href.strip()
    # A site-relative link ("/news/...") joins the same way from any page of the site: keyed by the site, the
    # links every page repeats (its related cards, its menu) are joined once, not once per page.
    return _joined(_origin(base_url) if _joins_from_site(href) else base_url, href, form)


def _joins_from_site(href: str) -> bool:
    """Whether urljoin reads only the base's scheme and host for href: a path-absolute or protocol-relative link
    ("/news/a", "//cdn.site/x.jpg"); not "//" or "//?q" (no host and no path: the base's path is kept), nor a
    link with a tab or newline (urljoin drops them: "/\t/" is "//")."""
    if href[:1] != "/" or "\t" in href or "\n" in href or "\r" in href:
        return False
    return not href.startswith("//") or href[2:3] not in ("", "?", "#")


@lru_cache(maxsize=CACHED_URLS)  # the join repeats with the link: a page's cards are joined once per field
def _joined(base_url: str, href: str, form: Callable[[str], str]) -> str | None:
    try:
        url = urljoin(base_url, href)
        return form(url) if urlsplit(url).scheme in WEB_SCHEMES else None
    except ValueError:  # e.g. "http://[broken"
        return None


@lru_cache(maxsize=256)  # one entry per page URL asked about; the page's links ask it again and again
def _origin(base_url: str) -> str:
    """scheme://host/ of a web URL, which urljoin reads nothing else of for a path-absolute link (it takes
    the base's scheme and host, and the link's path, query and fragment); any other URL as it is."""
    try:
        parts = urlsplit(base_url)
    except ValueError:
        return base_url
    if parts.scheme not in WEB_SCHEMES or not parts.netloc:
        return base_url
    return urlunsplit((parts.scheme, parts.netloc, "/", "", ""))


def slash_variant(url: str) -> str | None:
    """The same canonical URL with the trailing slash of its path toggled (None for the site root).

    A site that answers both `/x` and `/x/` (or redirects one to the other) shows one article under two URLs;
    the archive stores the form it fetched and treats this variant as the same article."""
    plain = _plain_path(url)
    if plain is not None:  # toggling the slash of a plain URL's path leaves it plain (so canonical): no parsing
        return None if plain == "/" else url[:-1] if plain.endswith("/") else url + "/"
    return _parsed_slash_variant(url)


def _parsed_slash_variant(url: str) -> str | None:
    """slash_variant() of any canonical URL, by parsing it."""
    parts = urlsplit(url)
    if parts.path in ("", "/"):
        return None
    path = parts.path[:-1] if parts.path.endswith("/") else parts.path + "/"
    variant = urlunsplit(parts._replace(path=path))
    # "/;/" -> "/;" would canonicalise to "/", another page: such a path has no slash variant
    return variant if canonical_url(variant) == variant else None


@lru_cache(maxsize=CACHED_URLS)  # the archive looks up each related link's forms on every article linking it
def url_forms(url: str) -> tuple[str, ...]:
    """The URL and its slash variant: every form under which an archived article is looked up."""
    variant = slash_variant(url)
    return (url, variant) if variant else (url,)
