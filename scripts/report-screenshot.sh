#!/usr/bin/env bash
# Regenerates docs/images/report.png: the auditor report of fixtures/report/chain (with its
# keyproof.toml), written by the real binary and rendered by Debian's headless chromium, top of
# the page at 1280x2000. Needs `chromium` on PATH (apt-get install chromium).
set -euo pipefail
cd "$(dirname "$0")/.."
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
cargo run --quiet -- report fixtures/report/chain --config fixtures/report/chain.keyproof.toml \
  --output "$tmp/report.html"
chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
  --disable-background-networking --disable-component-update --disable-sync --hide-scrollbars \
  "--host-resolver-rules=MAP * ~NOTFOUND" --user-data-dir="$tmp/profile" \
  --window-size=1280,2000 --screenshot="$tmp/report.png" "file://$tmp/report.html" 2>/dev/null
mkdir -p docs/images
cp "$tmp/report.png" docs/images/report.png
echo "wrote docs/images/report.png ($(wc -c < docs/images/report.png) bytes)"
