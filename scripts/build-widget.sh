#!/usr/bin/env bash
# Builds the widget into dist/widget:
# - the app: the wasm (wasm-bindgen, then wasm-opt -Oz) and its JS entry and glue (bundled and
#   minified by esbuild), both named by a hash of their content, under dist/widget/b/ (cached
#   for a year: a new build is new names);
# - the loader, dist/widget/halo.js (what the snippet loads; a short cache), which draws the
#   launcher at once and loads the app when the page is idle or the launcher is touched;
# - the minified snippet.
# Also writes dist/_headers (CORS and caching for the widget files; the console may not be
# framed) and dist/index.html.
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
rm -rf "$out" target/widget-dist && mkdir -p "$out/b" target/widget-dist
wasm-opt -Oz target/widget-bindgen/halo_widget_bg.wasm -o target/widget-dist/app.wasm
hash() { sha256sum "$1" | cut -c1-16; }
wasm="$(hash target/widget-dist/app.wasm).wasm"
cp target/widget-dist/app.wasm "$out/b/$wasm"
esbuild widget/entry.js --bundle --format=esm --minify --target=es2020 --log-level=warning \
  --define:__HALO_WASM__="\"./$wasm\"" --outfile=target/widget-dist/app.js
app="app.$(hash target/widget-dist/app.js).js"
cp target/widget-dist/app.js "$out/b/$app"
esbuild widget/loader.js --bundle --format=esm --minify --target=es2020 --log-level=warning \
  --loader:.css=text --loader:.txt=text --define:__HALO_APP__="\"./b/$app\"" --outfile="$out/halo.js"
esbuild snippet/halo-snippet.js --minify --target=es2015 --log-level=warning --legal-comments=none --outfile="$out/snippet.min.js"
cat > dist/_headers <<'HEADERS'
/widget/*
  Access-Control-Allow-Origin: *
  Timing-Allow-Origin: *
/widget/halo.js
  Cache-Control: public, max-age=300
/widget/snippet.min.js
  Cache-Control: public, max-age=300
/widget/b/*
  Cache-Control: public, max-age=31536000, immutable
/app/*
  X-Frame-Options: DENY
  Content-Security-Policy: frame-ancestors 'none'
  Referrer-Policy: same-origin
HEADERS
cat > dist/index.html <<'HTML'
<!doctype html><meta charset="utf-8"><title>Halo</title><meta http-equiv="refresh" content="0; url=/demo/">
<p>Halo is running. The demo page is at <a href="/demo/">/demo/</a>.</p>
HTML
echo "widget: loader $(stat -c %s "$out/halo.js") bytes, app $(stat -c %s "$out/b/$wasm") bytes wasm + $(stat -c %s "$out/b/$app") bytes js, snippet $(stat -c %s "$out/snippet.min.js") bytes"
