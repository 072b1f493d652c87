# Hearth's two everyday commands:
#   make run    install what is missing, build, seed the demo accounts, serve on :3000
#   make test   fmt + clippy, every Rust test on SQLite and again on Postgres
#               (a throwaway Postgres beside them), then Playwright against a
#               release build (on SQLite, plus a smoke spec on Postgres)
#
# Binaries installed by cargo and wasm-opt from npm must be on PATH.
export PATH := $(HOME)/.cargo/bin:$(CURDIR)/end2end/node_modules/.bin:$(PATH)

E2E_PORT ?= 3100
E2E_PG_PORT ?= 3101
E2E_DATA := $(CURDIR)/target/e2e-data

.PHONY: run test bootstrap lint rust-test e2e watch

run: bootstrap
	cargo leptos build --release
	HEARTH_DEMO=true ./target/release/hearth serve

bootstrap:
	@scripts/bootstrap.sh

test: lint rust-test e2e

lint: bootstrap
	cargo fmt --all --check
	cargo clippy -p hearth -p server --all-targets -- -D warnings
	cargo clippy -p frontend --target wasm32-unknown-unknown -- -D warnings

# Every Rust test twice, on SQLite then on Postgres (HEARTH_TEST_BACKEND):
# the tests are built once, each pass runs to the end, and the last lines say
# how many passed, were skipped (SQLite-only), failed and were ignored on
# each; logs in target/test-logs/. A throwaway Postgres runs beside them: the
# script starts it, sets HEARTH_TEST_POSTGRES_URL, and stops it by PID at
# exit, whether the tests pass or fail.
rust-test:
	scripts/test-postgres.sh run scripts/test-backends.sh -p hearth -p server -- --test-threads=4

# cargo-leptos builds the site, starts the server (with the HEARTH_* settings
# below: a throwaway database, demo accounts) and runs Playwright on SQLite;
# then the smoke spec runs against the same release binary serving from a
# throwaway Postgres (scripts/e2e-postgres.sh), on another port.
e2e:
	@scripts/bootstrap.sh --e2e
	rm -rf $(E2E_DATA) end2end/.results
	HEARTH_DATA_DIR=$(E2E_DATA) HEARTH_LISTEN=127.0.0.1:$(E2E_PORT) HEARTH_DEMO=true \
	HEARTH_SIGN_INS_PER_IP=1000 HEARTH_E2E_URL=http://127.0.0.1:$(E2E_PORT) \
		cargo leptos end-to-end --release
	@node scripts/e2e-summary.js end2end/.results/results.json
	HEARTH_E2E_PG_PORT=$(E2E_PG_PORT) scripts/test-postgres.sh run scripts/e2e-postgres.sh

watch: bootstrap
	HEARTH_DEMO=true cargo leptos watch
