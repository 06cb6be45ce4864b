# Halo's two commands: `make dev` runs the product locally, `make test` runs every test.
.PHONY: dev test setup build bench load lint fmt deploy

dev:        ## set up, build, and serve the API, widget and demo page on http://127.0.0.1:8787
	bash scripts/dev.sh

test:       ## set up, build, and run every test (unit, integration in wrangler dev, browser)
	bash scripts/test.sh

setup:      ## install the build tools (once per machine) and npm tools
	bash scripts/setup.sh

build: setup
	bash scripts/build-widget.sh
	bash scripts/build-console.sh
	bash scripts/build-worker.sh

bench: build ## print widget/worker sizes, the widget's page-load cost in Chromium, chat vs health latency, D1 round trips, retrieval quality
	bash scripts/bench.sh

load: build ## 50 visitors x 20 messages, then 200 widget sockets, against a wrangler dev of its own on loopback; audits D1
	. scripts/env.sh && cargo run --release -q -p halo-tests --bin load

lint:
	bash scripts/lint.sh

fmt:
	cargo fmt --all

deploy: build ## deploy to Cloudflare (see README: create the D1 database first)
	. scripts/env.sh && wrangler d1 migrations apply DB --remote && wrangler deploy
