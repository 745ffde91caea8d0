"""`newscrawl show ID|URL`: one article to read in the terminal, with its related links and earlier versions."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
import textwrap
from typing import Any

from newscrawl.cli import CommandError, add_db_argument, add_json_argument, open_archive, print_json
from newscrawl.cli.latest import when
from newscrawl.reading import RELATED_KEY, TWINS_KEY, VERSIONS_KEY, find_article, related_links, twins, versions
from newscrawl.schema import CONTENT_FIELDS

WIDTH = 88


def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(
        "show", help="read one article: text, related links, earlier versions",
        description="Print one archived article found by its id (from `newscrawl latest` or `search --json`) or "
                    "any form of its URL: title, dates, category, author, lead and body as paragraphs, then its "
                    "related links (with the id of each one that is archived too) and its earlier versions "
                    "(article_versions) with the fields that changed. Times: publication as printed by the site; "
                    "first seen / changed / versions in UTC.")
    parser.add_argument("article", metavar="ID|URL", help="the article's id or URL")
    add_json_argument(parser)
    add_db_argument(parser)
    return parser


def utc(timestamp: str | None) -> str:
    return f"{timestamp[:16].replace('T', ' ')} UTC" if timestamp else "-"


def changed_fields(version: dict[str, Any], after: dict[str, Any]) -> list[str]:
    """The content fields in which `version` differs from the state that followed it."""
    return [field for field in CONTENT_FIELDS if version.get(field) != after.get(field)]


def render(article: dict[str, Any], links: list[dict[str, Any]], earlier: list[dict[str, Any]],
           other_scripts: Sequence[dict[str, Any]] = ()) -> str:
    wrap = textwrap.TextWrapper(width=WIDTH)
    published = when(article["published_at"])
    if article.get("published_precision") == "day":
        published = published[:10] + " (day only)"
    lines = [article["title"] or "(untitled)", "=" * min(WIDTH, len(article["title"] or "(untitled)")),
             f"#{article['id']}  {article['url']}",
             f"Published: {published}" + (f"  (printed: {article['published_text']})"
                                          if article.get("published_text") else ""),
             *( [f"Modified:  {when(article['modified_at'])}"] if article.get("modified_at") else []),
             f"Category:  {article['category'] or '-'}    Author: {article['author'] or '-'}    "
             f"Script: {article['script'] or '-'}",
             f"Archived:  first seen {utc(article['first_seen_at'])}, last changed {utc(article['last_changed_at'])}",
             ""]
    if article.get("lead"):
        lines += [*wrap.wrap(article["lead"]), ""]
    for paragraph in (article.get("body") or "").split("\n\n"):
        if paragraph.strip():
            lines += [*wrap.wrap(paragraph), ""]
    for twin in other_scripts:
        lines += [f"Also published in {twin['script'] or '?'}: #{twin['id']} {twin['title'] or '(untitled)'}",
                  f"     {twin['url']}", ""]
    if links:
        lines.append(f"Related links ({len(links)}):")
        for link in links:
            archived = f"  -> #{link['archived_id']}" if link["archived_id"] is not None else ""
            lines.append(f"  {link['position'] + 1}. {link['title'] or '(untitled)'}{archived}")
            lines.append(f"     {link['url']}" + (f"  ({link['published_text']})" if link["published_text"] else ""))
        lines.append("")
    if earlier:
        lines.append(f"Earlier versions ({len(earlier)}, oldest first):")
        states = [*earlier, article]
        for version, after in zip(earlier, states[1:], strict=True):
            fields = ", ".join(changed_fields(version, after)) or "no content field"
            lines.append(f"  seen {utc(version['seen_from'])} to {utc(version['seen_until'])}: "
                         f"{fields} changed after it")
            if version.get("title") != after.get("title"):
                lines.append(f"     title was: {version['title']}")
    else:
        lines.append("No earlier versions: unchanged since first archived.")
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    with open_archive(args.db) as archive:
        article = find_article(archive, args.article)
        if article is None:
            raise CommandError(f"no archived article with id or URL {args.article!r} (see `newscrawl latest`)")
        links = related_links(archive.db, article)
        earlier = versions(archive.db, article)
        other_scripts = twins(archive.db, article)
    if args.json:
        print_json({**article, RELATED_KEY: links, VERSIONS_KEY: earlier, TWINS_KEY: other_scripts})
    else:
        print(render(article, links, earlier, other_scripts))
    return 0
