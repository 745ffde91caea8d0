"""Compression of stored raw pages: gzip vs zstd levels vs zstd with a dictionary trained per site, measured in one
run on the realistic site's article pages (41-50 KB, newscrawl.demo.realistic) and the demo site's.

The realistic site tells 26 stories over and over, so a dictionary trained on 64 of its pages would hold every
article text and flatter itself. So the words of every <p> of every page are shuffled with a seed of its own:
each page keeps its size, markup and vocabulary, but its text is its own, as on a real site (where a dictionary
can learn only the markup and the common words).

For each codec: compression ratio over pages the dictionary was not trained on, and CPU milliseconds per page to
compress and to decompress (process CPU time, which a busy machine does not inflate much). The dictionary codecs
go through newscrawl.codec.PageCodec, the code the archive uses; "train" is the one-off CPU cost per site.

Reads nothing outside the repository. Usage: python bench/raw_pages.py [--pages N] [--train N]
"""

from __future__ import annotations

import argparse
import gzip
import random
import re
import sys
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import zstandard

from newscrawl import codec
from newscrawl.demo.realistic import realistic_site
from newscrawl.demo.site import DEMO_NOW, demo_site

Codec = tuple[Callable[[bytes], bytes], Callable[[bytes], bytes]]


def plain_codecs() -> dict[str, Codec]:
    found: dict[str, Codec] = {f"gzip-{level}": (partial(gzip.compress, compresslevel=level), gzip.decompress)
                               for level in (1, 6)}
    for level in (1, 3, 6, 19):
        compressor = zstandard.ZstdCompressor(level=level)
        found[f"zstd-{level}"] = (compressor.compress, zstandard.ZstdDecompressor().decompress)
    return found


def dictionary_codecs(training: list[bytes]) -> tuple[dict[str, Codec], float]:
    """zstd with a dictionary trained on `training` at a few levels, and the CPU seconds training took."""
    started = time.process_time()
    dictionary = codec.train(training)
    spent = time.process_time() - started
    found: dict[str, Codec] = {}
    for level in (1, 3, 6):
        found[f"zstd-{level}+dict"] = _with_dictionary(level, dictionary)
    return found, spent


def _with_dictionary(level: int, dictionary: bytes) -> Codec:
    page_codec = codec.PageCodec(level)
    page_codec.add_dictionary(1, dictionary)

    def pack(body: bytes) -> bytes:
        return page_codec.compress(body, 1)[0]

    def unpack(blob: bytes) -> bytes:
        return page_codec.decompress(blob, "zstd:dict=1")

    return pack, unpack


def measure(name: str, pages: list[bytes], pack: Callable[[bytes], bytes], unpack: Callable[[bytes], bytes]) -> None:
    started = time.process_time()
    packed = [pack(p) for p in pages]
    packing = time.process_time() - started
    started = time.process_time()
    for blob, page in zip(packed, pages, strict=True):
        assert unpack(blob) == page
    unpacking = time.process_time() - started
    raw, size = sum(map(len, pages)), sum(map(len, packed))
    print(f"{name:14} {raw / size:7.2f} {size / len(pages):10.0f} {1000 * packing / len(pages):12.3f} "
          f"{1000 * unpacking / len(pages):14.3f}")


PARAGRAPH = re.compile(rb"(<p[^>]*>)(.*?)(</p>)", re.S)


def own_text(page: bytes, seed: int) -> bytes:
    """The page with the words of each paragraph shuffled (seeded): same bytes, text no other page has."""
    rng = random.Random(seed)

    def shuffle(match: re.Match[bytes]) -> bytes:
        words = match.group(2).split(b" ")
        rng.shuffle(words)
        return match.group(1) + b" ".join(words) + match.group(3)

    return PARAGRAPH.sub(shuffle, page)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pages", type=int, default=600, help="realistic article pages measured (default 600)")
    parser.add_argument("--train", type=int, default=codec.TRAIN_PAGES,
                        help=f"pages the dictionary is trained on (default codec.TRAIN_PAGES = {codec.TRAIN_PAGES})")
    args = parser.parse_args()
    site = realistic_site(args.pages + args.train)
    base = b"https://example.uz"
    pages = [own_text(site[site.article_path(i)].body.replace(b"{{BASE}}", base), i)
             for i in range(args.pages + args.train)]
    training, measured = pages[:args.train], pages[args.train:]
    demo = [p.body for p in demo_site(DEMO_NOW)[0].values() if p.body.startswith(b"<")]
    for label, sample, train in (("realistic site", measured, training), ("demo site", demo, demo[:args.train])):
        print(f"\n{label}: {len(sample)} pages, {sum(map(len, sample)) / len(sample) / 1000:.1f} KB each on average "
              f"(dictionary trained on {len(train)} others)" if sample is measured else
              f"\n{label}: {len(sample)} pages, {sum(map(len, sample)) / len(sample) / 1000:.1f} KB each on average "
              f"(dictionary trained on the first {len(train)} of them)")
        with_dictionary, spent = dictionary_codecs(train)
        print(f"training the dictionary: {spent:.2f} s CPU, once per site")
        print(f"{'codec':14} {'ratio':>7} {'bytes/page':>10} {'compress ms':>12} {'decompress ms':>14}")
        for name, (pack, unpack) in {**plain_codecs(), **with_dictionary}.items():
            measure(name, sample, pack, unpack)


if __name__ == "__main__":
    main()
