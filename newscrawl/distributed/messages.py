"""What a worker puts on the stream and the archiver reads back: one entry per item, plus a start and a finish
message per run. Plain JSON (never pickle: the archiver must not run code a worker sends) and the raw page
gzip-compressed in its own field."""

from __future__ import annotations

import gzip
import json
from typing import Any

from newscrawl.items import Article, MissingPage, NotModified, Problem, ProblemCode, RawPage, RelatedLink, \
    SkippedPage
from newscrawl.pages.layers import Layer

START, FINISH, ARTICLE, NOT_MODIFIED, MISSING, SKIPPED = "start", "finish", "article", "not_modified", "missing", \
    "skipped"
ITEM_TYPES = {NotModified: NOT_MODIFIED, MissingPage: MISSING, SkippedPage: SKIPPED}
Item = Article | NotModified | MissingPage | SkippedPage


class BadMessage(ValueError):
    """A stream entry that is not a message this code wrote."""


def encode_item(item: Any, run: str, store_raw: bool = True) -> dict[str, bytes]:
    """The stream entry of an item the spider yields."""
    if isinstance(item, Article):
        page = item.raw_page
        meta = None
        fields = {"type": ARTICLE.encode(), "run": run.encode()}
        if page is not None:
            meta = {"url": page.url, "final_url": page.final_url, "status": page.status, "headers": page.headers,
                    "fetched_at": page.fetched_at, "stored": store_raw}
            fields["page"] = gzip.compress(page.body if store_raw else b"", compresslevel=6)
        fields["data"] = json.dumps({"article": item.as_dict(), "page": meta}, ensure_ascii=False).encode()
        return fields
    kind = ITEM_TYPES.get(type(item))
    if kind is None:
        raise TypeError(f"not an item newscrawl archives: {type(item).__name__}")
    return {"type": kind.encode(), "run": run.encode(), "data": json.dumps(vars(item), ensure_ascii=False).encode()}


def encode_control(kind: str, run: str, data: dict[str, Any]) -> dict[str, bytes]:
    """A run's start or finish message."""
    return {"type": kind.encode(), "run": run.encode(), "data": json.dumps(data, ensure_ascii=False).encode()}


def message_type(fields: dict[bytes, bytes]) -> tuple[str, str]:
    try:
        return fields[b"type"].decode(), fields[b"run"].decode()
    except (KeyError, UnicodeDecodeError) as exc:
        raise BadMessage(f"stream entry without type/run: {sorted(fields)[:5]}") from exc


def decode_data(fields: dict[bytes, bytes]) -> dict[str, Any]:
    try:
        data = json.loads(fields[b"data"])
    except (KeyError, ValueError) as exc:
        raise BadMessage(f"stream entry with unreadable data: {exc}") from exc
    if not isinstance(data, dict):
        raise BadMessage("stream entry data is not an object")
    return data


def decode_item(fields: dict[bytes, bytes]) -> tuple[Item, bool]:
    """The item of a stream entry, and whether its raw page is to be stored."""
    kind, _ = message_type(fields)
    data = decode_data(fields)
    try:
        if kind == NOT_MODIFIED:
            return NotModified(**data), False
        if kind == MISSING:
            return MissingPage(**data), False
        if kind == SKIPPED:
            return SkippedPage(**data), False
        if kind != ARTICLE:
            raise BadMessage(f"stream entry of unknown type {kind!r}")
        values = dict(data["article"])
        values["related"] = [RelatedLink(**link) for link in values.get("related") or []]
        values["extraction"] = {name: Layer(layer) for name, layer in (values.get("extraction") or {}).items()}
        values["problems"] = [Problem(ProblemCode(p["code"]), p.get("detail")) for p in values.get("problems") or []]
        article = Article(**values)
        meta = data.get("page")
        stored = False
        if meta is not None:
            stored = bool(meta.pop("stored", True))
            article.raw_page = RawPage(**meta, body=gzip.decompress(fields.get(b"page", b"")) if stored else b"")
        return article, stored
    except (TypeError, KeyError, ValueError, OSError) as exc:
        raise BadMessage(f"stream entry of type {kind!r} cannot be read: {exc}") from exc
