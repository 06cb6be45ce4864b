#!/usr/bin/env bash
# `make test`: sets up (tools, npm, Chromium), checks formatting and lints, builds the widget
# and the Worker, then runs every test: unit tests, the snippet's test, and the integration and
# browser tests against real `wrangler dev` instances.
set -euo pipefail
. "$(dirname "$0")/env.sh"
cd "$HALO_ROOT"

bash scripts/setup.sh --browser --embeddings --llm
bash scripts/lint.sh
bash scripts/build-widget.sh
bash scripts/build-console.sh
bash scripts/build-worker.sh
node --test snippet/
# Unit tests (shared) and black-box tests (tests/): one cargo run, one summary.
cargo test -p halo-shared -p halo-widget -p halo-console -p halo-tests -- --test-threads "${HALO_TEST_THREADS:-4}"
