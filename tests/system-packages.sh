#!/usr/bin/env bash
# The system programs the test suite runs as real processes, installed from the distribution's packages when
# missing: Chromium (the Datasette browser tests, driven by Playwright) and redis-server (the distributed crawl's
# tests). Part of the README's test command, so a fresh machine needs nothing else; as root, or through sudo.
set -euo pipefail
missing=()
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
if [ ${#missing[@]} -gt 0 ]; then
    as_root=$([ "$(id -u)" = 0 ] || echo sudo)
    export DEBIAN_FRONTEND=noninteractive
    $as_root apt-get update -q >/dev/null
    $as_root apt-get install -y -q "${missing[@]}" >/dev/null
fi
