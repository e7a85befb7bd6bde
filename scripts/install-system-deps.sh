#!/bin/sh
# Install the Debian packages the tests and the production profile start, when missing:
#   browser  chromium + fonts-noto-cjk, for the report's headless-browser test
#            (tests/test_report_browser.py);
#   cluster  postgresql + redis-server, for the production profile (scripts/cluster-up.sh) and the
#            tests that start them (tests/test_cluster.py).
# Usage: install-system-deps.sh [browser] [cluster]   (no argument: both). Idempotent: installs
# only what is missing. Needs root for apt-get; without root it says what to run instead.
set -eu

[ $# -gt 0 ] || set -- browser cluster
packages=""
for group in "$@"; do
    case "$group" in
    browser)
        [ -x /usr/bin/chromium ] || packages="$packages chromium"
        # Without a CJK font the report's Chinese renders as boxes in screenshots.
        [ -d /usr/share/fonts/opentype/noto ] || packages="$packages fonts-noto-cjk"
        ;;
    cluster)
        ls -d /usr/lib/postgresql/*/bin >/dev/null 2>&1 || packages="$packages postgresql"
        command -v redis-server >/dev/null 2>&1 || packages="$packages redis-server"
        ;;
    *)
        echo "install-system-deps: unknown group '$group' (browser, cluster)" >&2
        exit 2
        ;;
    esac
done

if [ -z "$packages" ]; then
    echo "system packages ($*): present"
    exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then
        exec sudo "$0" "$@"
    fi
    echo "install-system-deps: missing:$packages; as root run: apt-get update && apt-get install -y --no-install-recommends$packages" >&2
    exit 1
fi
if ! command -v apt-get >/dev/null 2>&1; then
    echo "install-system-deps: missing:$packages, and this system has no apt-get; install them another way" >&2
    exit 1
fi

echo "install-system-deps: installing$packages (Debian packages)"
export DEBIAN_FRONTEND=noninteractive
# The package lists may be stale or absent (slim images ship without them).
apt-get update -q
# shellcheck disable=SC2086 # a list of package names
apt-get install -y -q --no-install-recommends $packages
