#!/usr/bin/env bash
# Formatting and clippy with warnings as errors, for the native crates and the three wasm crates.
set -euo pipefail
. "$(dirname "$0")/env.sh"
cd "$HALO_ROOT"
cargo fmt --all --check
cargo clippy -p halo-shared -p halo-tests --all-targets -- -D warnings
cargo clippy -p halo-edge -p halo-widget -p halo-console --target wasm32-unknown-unknown -- -D warnings
