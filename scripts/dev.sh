#!/usr/bin/env bash
# `make dev`: sets up, builds, applies the D1 migrations locally, starts `wrangler dev` on
# http://127.0.0.1:8787 (HALO_PORT to change it), seeds the demo workspace and prints its
# keys and the demo page's URL. Ctrl-C stops everything it started.
set -euo pipefail
. "$(dirname "$0")/env.sh"
cd "$HALO_ROOT"
port="${HALO_PORT:-8787}"

bash scripts/setup.sh
bash scripts/build-widget.sh
bash scripts/build-console.sh
bash scripts/build-worker.sh
wrangler d1 migrations apply DB --local >/dev/null
# wrangler serves the asset files that exist when it starts (re-reading their content), so the
# demo page must exist now; the seed below writes the real one with the workspace's keys.
if [ ! -f dist/demo/index.html ]; then
  mkdir -p dist/demo
  echo '<!doctype html><meta http-equiv="refresh" content="2"><p>Setting up the demo workspace…</p>' > dist/demo/index.html
fi

# Responses carry x-halo-d1-trips, the D1 round trips they waited on (edge/entry.mjs).
vars=(--var "HALO_DEBUG_D1:1")
embed_pid=""
if [ "${HALO_EMBEDDINGS:-}" = 1 ]; then
  # Semantic search with the offline MiniLM server (see README).
  bash scripts/setup.sh --embeddings
  embed_port="${HALO_EMBED_PORT:-8789}"
  setsid "$HALO_TOOLS_DIR/venv/bin/python" scripts/embed-server.py --port "$embed_port" &
  embed_pid=$!
  vars+=(--var "EMBEDDINGS_BASE_URL:http://127.0.0.1:$embed_port/v1")
fi
setsid wrangler dev --ip 127.0.0.1 --port "$port" --show-interactive-dev-session=false "${vars[@]}" &
pid=$!
trap 'kill -- -"$pid" 2>/dev/null || true; [ -z "$embed_pid" ] || kill -- -"$embed_pid" 2>/dev/null || true' EXIT INT TERM
for _ in $(seq 1 120); do
  curl -fsS "http://127.0.0.1:$port/health" >/dev/null 2>&1 && break
  kill -0 "$pid" 2>/dev/null || { echo "wrangler dev exited" >&2; exit 1; }
  sleep 0.5
done
node scripts/seed-demo.mjs "http://127.0.0.1:$port"
wait "$pid"
