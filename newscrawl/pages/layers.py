"""The layers an article field can come from, in the order they are tried."""

from __future__ import annotations

from enum import Enum


class Layer(str, Enum):
    """Where a field's value came from; the values are what `articles.extraction` stores."""

    PROFILE = "profile"
    JSON_LD = "json-ld"
    OPENGRAPH = "opengraph"
    META = "meta"
    GENERIC = "generic"
    LISTING = "listing"

    def __str__(self) -> str:
        # stats keys and log lines format layers into text: they must read "profile", not "Layer.PROFILE"
        return self.value


STRUCTURED = frozenset((Layer.JSON_LD, Layer.OPENGRAPH, Layer.META))
"""Layers that read machine-readable metadata rather than what the page prints."""
