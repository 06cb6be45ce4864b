#!/usr/bin/env bash
# Builds the console into dist/app: the wasm (wasm-bindgen, then wasm-opt -Oz), the JS entry
# and glue bundled and minified by esbuild, and its page (console/index.html). The Worker
# serves dist/app/index.html for every console path (see edge/src/routes.rs).
set -euo pipefail
. "$(dirname "$0")/env.sh"
cd "$HALO_ROOT"
out=dist/app
if [ -f "$out/console.js" ] && [ -f "$out/index.html" ] && [ -z "$(find console shared/src Cargo.lock Cargo.toml scripts/build-console.sh -newer "$out/console.js" -print -quit)" ]; then
  exit 0
fi
cargo build --release --target wasm32-unknown-unknown -p halo-console
wasm-bindgen --target web --no-typescript --out-dir target/console-bindgen \
  target/wasm32-unknown-unknown/release/halo_console.wasm
mkdir -p "$out"
wasm-opt -Oz target/console-bindgen/halo_console_bg.wasm -o "$out/halo_console_bg.wasm"
esbuild console/entry.js --bundle --format=esm --minify --target=es2020 --log-level=warning --outfile="$out/console.js"
cp console/index.html "$out/index.html"
echo "console: $(stat -c %s "$out/halo_console_bg.wasm") bytes wasm, $(stat -c %s "$out/console.js") bytes js"
