#!/usr/bin/env bash
# Fetch the Debian kernel the VM tests boot into tests/vm/.cache (unpacked
# there by the test itself, never installed), so that `go test` needs no
# network. The test does the same on its own when the .deb is missing; this
# only moves the download (and an apt-get update, if apt knows no kernel)
# out of the test run.
set -euo pipefail
cd "$(dirname "$0")"
mkdir -p .cache
if compgen -G ".cache/linux-image-*-amd64_*.deb" >/dev/null; then
	exit 0
fi
kernel() { apt-cache depends linux-image-amd64 2>/dev/null | awk '$1 == "Depends:" && $2 ~ /^linux-image-/ { print $2; exit }'; }
pkg=$(kernel)
if [ -z "$pkg" ]; then
	apt-get update -qq
	pkg=$(kernel)
fi
[ -n "$pkg" ] || { echo "tests/vm/setup.sh: apt knows no linux-image-amd64" >&2; exit 1; }
cd .cache && apt-get download -qq "$pkg" 2>&1 | grep -v "couldn't be accessed by user '_apt'" || true
compgen -G "linux-image-*-amd64_*.deb" >/dev/null || { echo "tests/vm/setup.sh: apt-get download $pkg failed" >&2; exit 1; }
