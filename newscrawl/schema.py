"""What the archive holds, column by column: the one list every reader and writer derives its columns from.

The migrations in `newscrawl/archive.py` build these tables (they are frozen in time and spell their own
columns); `datasette/metadata.yml` and docs/schema.md describe them. tests/test_schema.py checks that a freshly
migrated archive, this module, metadata.yml and docs/schema.md name exactly the same tables and columns.
"""

from __future__ import annotations

# Article columns an extraction fills (Article.as_dict() keys), written by every upsert.
EXTRACTED_COLUMNS = ("url", "canonical_url", "title", "lead", "body", "published_at", "published_precision",
                     "published_text", "modified_at", "modified_text", "fetched_at", "category", "author",
                     "image_url", "language", "script", "tags", "extraction", "problems")
# Article columns holding JSON text (lists and objects in an Article).
JSON_COLUMNS = ("tags", "extraction", "problems")
# The fields whose change makes a new version (content_hash covers exactly these).
CONTENT_FIELDS = ("title", "lead", "body", "published_at", "modified_at", "author")
# Article columns the archive computes from the extracted ones on every write.
COMPUTED_COLUMNS = ("content_hash", "category_key")
# Article columns about fetching and history, not about the page's content.
BOOKKEEPING_COLUMNS = ("id", "first_seen_at", "last_seen_at", "last_changed_at", "etag", "last_modified")
# Article columns the archive computes on every write from other articles: the story key the Cyrillic and Latin
# versions of one story share (newscrawl/stories.py, migration 0011).
STORY_COLUMNS = ("story_key",)

# A card of an article's related block, in the order of RelatedLink's fields; `article_id` ties it to its article.
RELATED_FIELDS = ("position", "url", "title", "category", "published_at", "published_precision", "published_text",
                  "lead", "image_url")

# Extracted columns stored outside the `articles` row (in `article_bodies`), so scans of the hot row never read them.
BODY_COLUMNS = ("body",)
# The full article as the view `articles_full` shows it, one row per article.
ARTICLE_COLUMNS = (*BOOKKEEPING_COLUMNS[:1], *EXTRACTED_COLUMNS, *COMPUTED_COLUMNS, *BOOKKEEPING_COLUMNS[1:])

TABLES: dict[str, tuple[str, ...]] = {
    "articles": (*(c for c in ARTICLE_COLUMNS if c not in BODY_COLUMNS), *STORY_COLUMNS),
    "article_bodies": ("article_id", *BODY_COLUMNS),
    "related_links": ("article_id", *RELATED_FIELDS),
    "pages": ("id", "url", "final_url", "status", "headers", "fetched_at", "last_fetched_at", "sha256", "size",
              "compression", "body"),
    "page_dictionaries": ("id", "site", "created_at", "samples", "size", "dictionary"),
    "article_versions": ("id", "article_url", "seen_from", "seen_until", "content_hash", *CONTENT_FIELDS),
    "crawls": ("id", "spider", "site", "start_url", "started_at", "finished_at", "status", "exit_code", "reason",
               "requests", "pages_fetched", "not_modified", "items_new", "items_updated", "items_unchanged",
               "items_dropped", "drop_reasons", "errors", "error_causes", "error_share", "drift", "duration_s"),
    "missing_pages": ("url", "status", "first_failed_at", "last_failed_at", "attempts"),
    "url_aliases": ("alias", "url", "first_seen_at"),
    "skipped_pages": ("url", "reason", "detail", "status", "content_type", "first_skipped_at", "last_skipped_at",
                      "attempts"),
}
"""Every ordinary table and its columns (the FTS indexes are FTS_TABLES, the views VIEWS)."""

VIEWS: dict[str, tuple[str, ...]] = {
    "articles_full": ARTICLE_COLUMNS,
}
"""Read-only views: `articles_full` is every article column, body included (articles JOIN article_bodies)."""

FTS_TABLES: dict[str, tuple[str, ...]] = {
    "articles_fts": ("title", "lead", "body"),
    "articles_search": ("title", "lead", "body"),
}
"""The full-text indexes over articles (rowid = articles.id): raw text, and script-folded text."""

# Everything `newscrawl reparse` derives again from a stored page and reports when it changed: every extracted
# article column but the page's identity and fetch time, category_key (content_hash is a function of the content
# fields, so it would count every content change twice), and the related block as a whole (RELATED).
DERIVED_COLUMNS = tuple(c for c in (*EXTRACTED_COLUMNS, "category_key") if c not in ("url", "fetched_at"))
RELATED = "related"
