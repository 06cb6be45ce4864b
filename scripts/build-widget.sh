#!/usr/bin/env bash
# Builds the widget into dist/widget: the wasm (wasm-bindgen, then wasm-opt -Oz), the JS entry
# and glue bundled and minified by esbuild, and the minified snippet. Also writes dist/_headers
# (CORS and caching for the widget files; the console may not be framed) and dist/index.html.
set -euo pipefail
. "$(dirname "$0")/env.sh"
cd "$HALO_ROOT"
out=dist/widget
if [ -f "$out/halo.js" ] && [ -z "$(find widget snippet/halo-snippet.js Cargo.lock Cargo.toml scripts/build-widget.sh -newer "$out/halo.js" -print -quit)" ]; then
  exit 0
fi
cargo build --release --target wasm32-unknown-unknown -p halo-widget
wasm-bindgen --target web --no-typescript --out-dir target/widget-bindgen \
  target/wasm32-unknown-unknown/release/halo_widget.wasm
mkdir -p "$out"
wasm-opt -Oz target/widget-bindgen/halo_widget_bg.wasm -o "$out/halo_widget_bg.wasm"
esbuild widget/entry.js --bundle --format=esm --minify --target=es2020 --log-level=warning --outfile="$out/halo.js"
esbuild snippet/halo-snippet.js --minify --target=es2015 --log-level=warning --legal-comments=none --outfile="$out/snippet.min.js"
cat > dist/_headers <<'HEADERS'
/widget/*
  Access-Control-Allow-Origin: *
  Timing-Allow-Origin: *
  Cache-Control: public, max-age=300
/app/*
  X-Frame-Options: DENY
  Content-Security-Policy: frame-ancestors 'none'
  Referrer-Policy: same-origin
HEADERS
cat > dist/index.html <<'HTML'
<!doctype html><meta charset="utf-8"><title>Halo</title><meta http-equiv="refresh" content="0; url=/demo/">
<p>Halo is running. The demo page is at <a href="/demo/">/demo/</a>.</p>
HTML
echo "widget: $(stat -c %s "$out/halo_widget_bg.wasm") bytes wasm, $(stat -c %s "$out/halo.js") bytes js, $(stat -c %s "$out/snippet.min.js") bytes snippet"
