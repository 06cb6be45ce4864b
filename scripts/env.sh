# Sourced by the other scripts: where the per-machine tools live, and the environment that
# keeps builds and wrangler offline. Build tools are installed once per machine, outside the
# clone, so a fresh clone reuses them.
HALO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export HALO_TOOLS_DIR="${HALO_TOOLS_DIR:-$HOME/.local/share/halo-tools}"
export PATH="$HALO_TOOLS_DIR/bin:$HALO_ROOT/node_modules/.bin:$HOME/.cargo/bin:$PATH"
# worker-build would download wasm-bindgen and wasm-opt; point it at ours instead.
export WASM_BINDGEN_BIN="$HALO_TOOLS_DIR/bin/wasm-bindgen"
export WASM_OPT_BIN="$HALO_ROOT/node_modules/binaryen/bin/wasm-opt"
export ESBUILD_BIN="$HALO_ROOT/node_modules/.bin/esbuild"
# Nothing phones home or writes config into the home directory.
export WRANGLER_SEND_METRICS=false
export XDG_CONFIG_HOME="${XDG_CONFIG_HOME:-$HALO_ROOT/.halo/config}"
export WORKER_BUILD_VERSION=0.8.7
# The shipped wasm names the files of its panic locations: from the workspace and the
# registry, not from this machine's paths (which are longer, and nobody else's business).
# (Cargo splits these flags on spaces: a path with a space in it is left as it is.)
remaps=""
for d in "$HALO_ROOT=." "${CARGO_HOME:-$HOME/.cargo}"/registry/src/*/; do
  case "$d" in *" "*|*"*"*) continue ;; esac
  case "$d" in *=.) remaps+=" --remap-path-prefix=$d" ;; *) remaps+=" --remap-path-prefix=${d%/}=crates" ;; esac
done
export CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUSTFLAGS="${remaps# }"
unset remaps d
