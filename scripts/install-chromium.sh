#!/bin/sh
# Install Debian's chromium for the report's headless-browser test (tests/test_report_browser.py).
# Idempotent: does nothing when /usr/bin/chromium is already there. Needs root for apt-get;
# without root it says what to run instead of failing half-way.
set -eu

CHROMIUM=/usr/bin/chromium

if [ -x "$CHROMIUM" ]; then
    echo "chromium: present ($("$CHROMIUM" --version 2>/dev/null || echo "$CHROMIUM"))"
    exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then
        exec sudo "$0" "$@"
    fi
    echo "chromium: $CHROMIUM is missing; as root run: apt-get update && apt-get install -y --no-install-recommends chromium" >&2
    exit 1
fi

if ! command -v apt-get >/dev/null 2>&1; then
    echo "chromium: $CHROMIUM is missing and this system has no apt-get; install Chromium another way" >&2
    exit 1
fi

export DEBIAN_FRONTEND=noninteractive
# The package lists may be stale or absent (slim images ship without them).
apt-get update -q
# fonts-noto-cjk: without a CJK font the report's Chinese renders as boxes in screenshots.
apt-get install -y -q --no-install-recommends chromium fonts-noto-cjk

"$CHROMIUM" --version
