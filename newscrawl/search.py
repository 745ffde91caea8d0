"""Cross-script full-text search over the archive's folded index (`articles_search`).

A query is folded with the same `fold()` as the indexed text, so Cyrillic, Latin and every apostrophe
variant meet; each word also matches the longer words it begins (Uzbek suffixes). User text never
reaches FTS5 as syntax: `build_match` rebuilds a MATCH expression from quoted word characters only.
"""

from __future__ import annotations

import re
import sqlite3
import unicodedata
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from newscrawl.archive import ArchiveError
from newscrawl.dates import time_bound
from newscrawl.translit import APOSTROPHE_SET, fold

MAX_WORDS = 32
SNIPPET_BEFORE = 5
SNIPPET_AFTER = 6
BRACKETS = ("[", "]")

QUERY_TOKEN_RE = re.compile(r'(-?)"([^"]*)"|([^\s"]+)|"')
WHITESPACE_RE = re.compile(r"\s+")


def _is_word_char(ch: str) -> bool:
    """Letters, digits, marks and private use (what FTS5's unicode61 may keep in a token), bar apostrophes."""
    category = unicodedata.category(ch)
    return ch not in APOSTROPHE_SET and (category[0] in "LNM" or category == "Co")


def words(text: str) -> list[str]:
    """The folded search words of `text`: `fold()`, then runs of word characters."""
    out: list[str] = []
    current: list[str] = []
    for ch in fold(text):
        if _is_word_char(ch):
            current.append(ch)
        elif current:
            out.append("".join(current))
            current = []
    if current:
        out.append("".join(current))
    return out


@dataclass
class ParsedQuery:
    """A query as groups of alternatives (AND of ORs) plus excluded phrases; a phrase is a list of words."""

    groups: list[list[list[str]]] = field(default_factory=list)
    excluded: list[list[str]] = field(default_factory=list)

    @property
    def terms(self) -> list[str]:
        """Every folded word that must or may match, for highlighting."""
        return [w for group in self.groups for phrase in group for w in phrase]


def parse_query(query: str) -> ParsedQuery:
    """Split user text into words, "phrases", OR and -exclusions; anything else is plain text."""
    items: list[tuple[str, list[str]]] = []  # ("or", []), ("+", phrase) or ("-", phrase)
    budget = MAX_WORDS
    for match in QUERY_TOKEN_RE.finditer(query):
        minus, quoted, bare = match.groups()
        if bare == "OR":
            items.append(("or", []))
            budget -= 1
        elif quoted is not None or bare is not None:
            excluded = bool(minus) or (bare is not None and bare.startswith("-"))
            phrase = words(quoted if quoted is not None else bare.lstrip("-"))[:budget]
            if phrase:
                items.append(("-" if excluded else "+", phrase))
                budget -= len(phrase)
        if budget <= 0:
            break
    return _group(items)


def _group(items: list[tuple[str, list[str]]]) -> ParsedQuery:
    """OR joins the positive phrases on either side; a dangling OR is the plain word "or"."""
    parsed = ParsedQuery()
    joining = False
    for index, (kind, phrase) in enumerate(items):
        if kind == "or":
            prev_ok = index > 0 and items[index - 1][0] == "+" and parsed.groups
            next_ok = index + 1 < len(items) and items[index + 1][0] == "+"
            if prev_ok and next_ok:
                joining = True
            else:
                parsed.groups.append([["or"]])
                joining = False
        elif kind == "-":
            parsed.excluded.append(phrase)
            joining = False
        elif joining:
            parsed.groups[-1].append(phrase)
            joining = False
        else:
            parsed.groups.append([phrase])
    return parsed


def _phrase_sql(phrase: list[str]) -> str:
    """Adjacent words, each a prefix: `"shavkat"* + "mirziyoyev"*`; quotes inside a word are doubled."""
    return " + ".join('"' + word.replace('"', '""') + '"*' for word in phrase)


def build_match(query: str) -> str | None:
    """A safe FTS5 MATCH expression for `articles_search`, or None when nothing searchable is left."""
    parsed = parse_query(query)
    if not parsed.groups:
        return None
    groups = []
    for group in parsed.groups:
        alternatives = [_phrase_sql(phrase) for phrase in group]
        groups.append(alternatives[0] if len(alternatives) == 1 else "(" + " OR ".join(alternatives) + ")")
    expression = " AND ".join(groups)
    if parsed.excluded:
        expression = (expression if len(groups) == 1 else f"({expression})") + "".join(
            f" NOT ({_phrase_sql(p)})" for p in parsed.excluded)
    return expression


@dataclass(frozen=True)
class SearchHit:
    published_at: str | None
    title: str | None
    url: str
    snippet: str


def search(db: Any, query: str, *, limit: int | None = 20, since: str | date | datetime | None = None,
           highlight: tuple[str, str] = BRACKETS) -> list[SearchHit]:
    """Articles matching `query`, newest first; `db` is a sqlite_utils.Database or sqlite3.Connection."""
    expression = build_match(query)
    if expression is None:
        return []
    conn: sqlite3.Connection = getattr(db, "conn", db)
    if not conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'articles_search'").fetchone():
        raise ArchiveError("this archive has no search index yet: open it once for writing "
                         "(e.g. run `newscrawl crawl`) to upgrade it")
    sql, params = search_sql(expression, limit=limit, since=since)
    terms = parse_query(query).terms
    return [SearchHit(published_at, title, url, snippet((lead, body, title), terms, highlight))
            for published_at, title, url, lead, body in conn.execute(sql, params)]


def search_sql(expression: str, *, limit: int | None = 20,
               since: str | date | datetime | None = None) -> tuple[str, list[Any]]:
    """The query behind search(): (published_at, title, url, lead, body) of the articles whose folded text matches
    the MATCH expression, newest first.

    Newest first is a walk of the published_at index with the matches as a filter: sorting every match of a
    frequent word by datetime(published_at) took 353 ms at 100k articles. published_at is stored in +05:00
    (archive.stored_time), so text order is time order, and NULLs come last in a DESC walk."""
    sql = ("SELECT a.published_at, a.title, a.url, a.lead, b.body FROM articles a INDEXED BY idx_articles_published_at "
           "LEFT JOIN article_bodies b ON b.article_id = a.id "
           "WHERE a.id IN (SELECT rowid FROM articles_search WHERE articles_search MATCH ?)")
    params: list[Any] = [expression]
    if since is not None:
        sql += " AND a.published_at >= ?"
        params.append(time_bound(since))
    sql += " ORDER BY a.published_at DESC, a.id DESC"
    if limit is not None and limit > 0:
        sql += " LIMIT ?"
        params.append(limit)
    return sql, params


def _matches(token: str, terms: list[str]) -> bool:
    return any(word.startswith(term) for word in words(token) for term in terms)


def _mark(token: str, highlight: tuple[str, str]) -> str:
    """Wrap the word part of a raw token, leaving punctuation around it outside: `«[Тоқаевни]»,`."""
    chars = [i for i, ch in enumerate(token) if _is_word_char(ch)]
    start, end = chars[0], chars[-1] + 1
    return token[:start] + highlight[0] + token[start:end] + highlight[1] + token[end:]


def snippet(texts: tuple[str | None, ...], terms: list[str], highlight: tuple[str, str] = BRACKETS) -> str:
    """About a dozen raw words around the first word (lead, then body, then title) that a term begins."""
    fallback = ""
    for text in texts:
        tokens = WHITESPACE_RE.split((text or "").strip())
        if not fallback and tokens[0]:
            fallback = " ".join(tokens[:SNIPPET_BEFORE + SNIPPET_AFTER + 1])
        hit = next((i for i, token in enumerate(tokens) if _matches(token, terms)), None)
        if hit is None:
            continue
        first, last = max(0, hit - SNIPPET_BEFORE), min(len(tokens), hit + SNIPPET_AFTER + 1)
        shown = [_mark(t, highlight) if _matches(t, terms) else t for t in tokens[first:last]]
        return ("… " if first else "") + " ".join(shown) + (" …" if last < len(tokens) else "")
    return fallback
