#!/usr/bin/env bash
# Builds the Rust Worker into edge/build (wrangler.toml's [build] command). Skips the build
# when nothing it depends on changed, since `wrangler dev` calls this twice at start.
set -euo pipefail
. "$(dirname "$0")/env.sh"
cd "$HALO_ROOT"
out=edge/build/index_bg.wasm
if [ "${HALO_SKIP_BUILD:-}" = 1 ] && [ -f "$out" ]; then exit 0; fi
if [ -f "$out" ] && [ -z "$(find edge/src edge/Cargo.toml shared/src shared/Cargo.toml Cargo.lock Cargo.toml -newer "$out" -print -quit)" ]; then
  exit 0
fi
cd edge
worker-build --release
# worker-build's wasm-opt keeps the `name` section (debug names, ~160 KB) and the profile
# cannot use `strip` (see Cargo.toml); drop them from the shipped file.
"$WASM_OPT_BIN" --strip-debug --strip-producers build/index_bg.wasm -o build/index_bg.wasm
touch build/index_bg.wasm
