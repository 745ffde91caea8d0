"""How raw pages are compressed in the archive: zstd, with a dictionary trained per site once it has pages.

News pages of one site share most of their markup (menus, sidebars, scripts, footers), so a dictionary
trained on a site's first pages lets each page be compressed as little more than its own text. The codec
and the dictionary a page was written with are named in `pages.compression`:

    gzip            gzip (what the archive wrote before schema version 10; still read)
    zstd            zstd without a dictionary (a site's first pages, before its dictionary exists)
    zstd:dict=7     zstd with the dictionary page_dictionaries.id = 7

This module is pure (bytes in, bytes out); the archive stores the dictionaries and hands them in.
Choice of level, dictionary size and sample count: docs/schema.md ("pages"), measured by bench/raw_pages.py.
"""

from __future__ import annotations

import gzip
import zlib
from collections.abc import Sequence

import zstandard

GZIP = "gzip"
ZSTD = "zstd"
DICT_MARK = ":dict="
LEVEL = 3
"""zstd level: with a dictionary, higher levels gain little ratio for several times the CPU (bench/raw_pages.py)."""
DICTIONARY_BYTES = 64 * 1024
TRAIN_PAGES = 64
"""Pages of a site stored before its dictionary is trained from them (they are then recompressed with it)."""
MAX_TRAIN_BYTES = 8 * 1024 * 1024
"""At most this much sample text goes into training, whatever the page sizes."""


class CodecError(ValueError):
    """A stored page names a compression this code does not know, or its data does not decompress."""


def compression_name(dictionary_id: int | None) -> str:
    """The `pages.compression` value for zstd with dictionary_id (None: no dictionary)."""
    return ZSTD if dictionary_id is None else f"{ZSTD}{DICT_MARK}{dictionary_id}"


def dictionary_id(compression: str | None) -> int | None:
    """The page_dictionaries.id a `pages.compression` value names, or None."""
    if compression and compression.startswith(ZSTD + DICT_MARK):
        try:
            return int(compression[len(ZSTD + DICT_MARK):])
        except ValueError:
            raise CodecError(f"unknown page compression {compression!r}") from None
    return None


class PageCodec:
    """zstd compressors and decompressors, one per dictionary, made once (loading a dictionary costs more than
    compressing a page with it)."""

    def __init__(self, level: int = LEVEL) -> None:
        self.level = level
        self._dictionaries: dict[int, zstandard.ZstdCompressionDict] = {}
        self._compressors: dict[int | None, zstandard.ZstdCompressor] = {}
        self._decompressors: dict[int | None, zstandard.ZstdDecompressor] = {}

    def add_dictionary(self, dictionary_id: int, data: bytes) -> None:
        self._dictionaries[dictionary_id] = zstandard.ZstdCompressionDict(data)

    def has_dictionary(self, dictionary_id: int) -> bool:
        return dictionary_id in self._dictionaries

    def compress(self, body: bytes, dictionary_id: int | None = None) -> tuple[bytes, str]:
        """(compressed body, its `pages.compression` value); dictionary_id must have been added."""
        compressor = self._compressors.get(dictionary_id)
        if compressor is None:
            dictionary = None if dictionary_id is None else self._dictionaries[dictionary_id]
            compressor = zstandard.ZstdCompressor(level=self.level, dict_data=dictionary, write_checksum=True)
            self._compressors[dictionary_id] = compressor
        return compressor.compress(body), compression_name(dictionary_id)

    def decompress(self, blob: bytes, compression: str | None) -> bytes:
        """The page body from its stored bytes; the dictionary it names must have been added."""
        try:
            if compression == GZIP:
                return gzip.decompress(blob)
            if compression in (None, "", "none"):
                return blob
            if compression == ZSTD or (compression or "").startswith(ZSTD + DICT_MARK):
                return self._decompressor(dictionary_id(compression)).decompress(blob)
        except (OSError, EOFError, zlib.error, zstandard.ZstdError) as exc:
            raise CodecError(f"stored page does not decompress as {compression}: {exc}") from exc
        raise CodecError(f"unknown page compression {compression!r}")

    def _decompressor(self, dictionary_id: int | None) -> zstandard.ZstdDecompressor:
        decompressor = self._decompressors.get(dictionary_id)
        if decompressor is None:
            if dictionary_id is not None and dictionary_id not in self._dictionaries:
                raise CodecError(f"page dictionary {dictionary_id} is not in the archive")
            dictionary = None if dictionary_id is None else self._dictionaries[dictionary_id]
            decompressor = zstandard.ZstdDecompressor(dict_data=dictionary)
            self._decompressors[dictionary_id] = decompressor
        return decompressor


def train(samples: Sequence[bytes], size: int = DICTIONARY_BYTES) -> bytes:
    """A zstd dictionary from a site's pages (zstd's own trainer; raises CodecError when they are too few or alike
    for one)."""
    picked: list[bytes | bytearray | memoryview] = []
    total = 0
    for sample in samples:
        if total + len(sample) > MAX_TRAIN_BYTES:
            break
        picked.append(sample)
        total += len(sample)
    try:
        return zstandard.train_dictionary(size, picked).as_bytes()
    except zstandard.ZstdError as exc:
        raise CodecError(f"no dictionary from {len(picked)} pages: {exc}") from exc
