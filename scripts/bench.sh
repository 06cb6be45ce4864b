#!/usr/bin/env bash
# `make bench`: prints what the widget costs a customer's page on the wire (sizes, and a page
# load in headless Chromium), the Worker's size,
# the snippet's size, chat latency with the offline engine, retrieval quality on real FAQs (and
# search latency at BENCH_CHUNKS synthetic chunks), and the answer-from-context scenarios.
# Figures only; nothing fails.
set -euo pipefail
. "$(dirname "$0")/env.sh"
cd "$HALO_ROOT"

sizes() { # file -> raw gzip brotli
  printf '%8d %8d %8d' "$(stat -c %s "$1")" "$(gzip -9c "$1" | wc -c)" "$(brotli -c -q 11 "$1" | wc -c)"
}
bash scripts/setup.sh --corpora --embeddings

echo "Sizes in bytes                         raw     gzip   brotli"
wasm=$(ls dist/widget/b/*.wasm) app=$(ls dist/widget/b/app.*.js)
printf '%-32s %s\n' "widget loader (halo.js)" "$(sizes dist/widget/halo.js)"
printf '%-32s %s\n' "widget app wasm" "$(sizes "$wasm")"
printf '%-32s %s\n' "widget app js (entry + glue)" "$(sizes "$app")"
cat "$wasm" "$app" > "${TMPDIR:-/tmp}/halo-widget-total"
printf '%-32s %s\n' "widget app (wasm + js)" "$(sizes "${TMPDIR:-/tmp}/halo-widget-total")"
rm -f "${TMPDIR:-/tmp}/halo-widget-total"
printf '%-32s %s\n' "snippet (minified)" "$(sizes dist/widget/snippet.min.js)"
printf '%-32s %s\n' "worker wasm (edge)" "$(sizes edge/build/index_bg.wasm)"
printf '%-32s %s\n' "worker js (shim + glue)" "$(sizes edge/build/index.js)"
# The Worker's startup, as wrangler profiles it locally (`wrangler check startup`).
profile="${TMPDIR:-/tmp}/halo-worker-startup.cpuprofile"
if HALO_SKIP_BUILD=1 wrangler check startup --outfile "$profile" >/dev/null 2>&1; then
  python3 -c 'import json,sys; p=json.load(open(sys.argv[1])); print("worker startup (wrangler check startup, this machine): %.1f ms" % ((p["endTime"] - p["startTime"]) / 1000))' "$profile"
  rm -f "$profile"
fi
echo
cargo run --quiet --release -p halo-tests --bin bench -- "${BENCH_REQUESTS:-300}"

echo
cargo run --quiet --release -p halo-tests --bin retrieval -- --scale "${BENCH_CHUNKS:-10000}"

echo
cargo run --quiet --release -p halo-tests --bin scenarios

echo
echo "Worker code by crate (before wasm-opt, from the name section):"
python3 scripts/wasm-breakdown.py target/wasm32-unknown-unknown/release/halo_edge.wasm 10
