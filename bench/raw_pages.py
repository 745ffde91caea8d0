"""Compression of stored raw pages: gzip vs zstd (size and speed) on the demo site's pages, measured in one run.

Reads nothing outside the repository. Usage: python bench/raw_pages.py [--synthetic N]
"""

from __future__ import annotations

import argparse
import gzip
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from newscrawl.demo.site import DEMO_NOW, demo_site, generic_site, synthetic_site


def codecs() -> dict[str, tuple]:
    found = {f"gzip-{level}": (lambda b, lv=level: gzip.compress(b, compresslevel=lv), gzip.decompress)
             for level in (1, 6, 9)}
    try:
        import zstandard
    except ImportError:
        print("zstandard not installed: only gzip measured")
        return found
    for level in (3, 10, 19):
        compressor = zstandard.ZstdCompressor(level=level)
        found[f"zstd-{level}"] = (compressor.compress, zstandard.ZstdDecompressor().decompress)
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--synthetic", type=int, default=300, help="synthetic article pages added (default 300)")
    args = parser.parse_args()
    pages = [p.body for p in demo_site(DEMO_NOW)[0].values()] + [p.body for p in generic_site(DEMO_NOW)[0].values()]
    pages += [p.body for path, p in synthetic_site(args.synthetic).items() if "/news/" in path]
    raw = sum(len(p) for p in pages)
    print(f"{len(pages)} pages, {raw / 1e6:.2f} MB raw")
    print(f"{'codec':10} {'ratio':>7} {'compress MB/s':>14} {'decompress MB/s':>16}")
    for name, (compress, decompress) in codecs().items():
        start = time.perf_counter()
        packed = [compress(p) for p in pages]
        packing = time.perf_counter() - start
        start = time.perf_counter()
        for blob in packed:
            decompress(blob)
        unpacking = time.perf_counter() - start
        size = sum(len(b) for b in packed)
        print(f"{name:10} {raw / size:7.2f} {raw / 1e6 / packing:14.1f} {raw / 1e6 / unpacking:16.1f}")


if __name__ == "__main__":
    main()
