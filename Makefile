# Hearth's two everyday commands:
#   make run    install what is missing, build, seed the demo accounts, serve on :3000
#   make test   fmt + clippy, every Rust test on SQLite and again on Postgres
#               (a throwaway Postgres beside them), then Playwright against the
#               server make run builds (on SQLite, then on Postgres as two
#               instances over NATS), then schemathesis against the OpenAPI
#               contract; each stage's time is printed at the end
#   make release  the optimised server (target/release/hearth) and the site:
#               what to deploy (docs/deploy.md) and what bench/ measures
#
# None needs cargo-leptos: scripts/build-site.sh builds the server (cargo's
# dev profile, or --release) and the site with cargo, tools/bindgen (the
# wasm-bindgen library), npm's wasm-opt and lightningcss.
# `make watch` (live reload while developing) installs cargo-leptos on first use.
#
# Binaries installed by cargo and the npm tools must be on PATH.
export PATH := $(HOME)/.cargo/bin:$(CURDIR)/end2end/node_modules/.bin:$(PATH)

E2E_PORT ?= 3100
E2E_PG_PORT ?= 3101
E2E_PG_PORT_B ?= 3102

.PHONY: run test bootstrap lint rust-test e2e schemathesis site release watch

run:
	@scripts/bootstrap.sh --build
	scripts/build-site.sh
	HEARTH_DEMO=true ./target/debug/hearth serve

bootstrap:
	@scripts/bootstrap.sh

site:
	scripts/build-site.sh

release:
	@scripts/bootstrap.sh --build
	scripts/build-site.sh --release

# Each stage in turn (stopping at the first that fails), with their times.
test:
	@scripts/timed-stages.sh lint rust-test e2e schemathesis

lint: bootstrap
	cargo fmt --all --check
	cargo clippy -p hearth -p server -p hearth-bindgen --all-targets -- -D warnings
	cargo clippy -p frontend --target wasm32-unknown-unknown -- -D warnings

# Every Rust test twice, on SQLite then on Postgres (HEARTH_TEST_BACKEND):
# the tests are built once, each pass runs to the end, and the last lines say
# how many passed, were skipped (SQLite-only), failed and were ignored on
# each; logs in target/test-logs/. A throwaway Postgres runs beside them: the
# script starts it, sets HEARTH_TEST_POSTGRES_URL, and stops it by PID at
# exit, whether the tests pass or fail. So does a throwaway S3 server (moto,
# scripts/s3-test-server.sh: HEARTH_TEST_S3_URL) for the object-storage
# tests. The tests of several instances start their own nats-server each and
# stop it by PID.
rust-test:
	scripts/s3-test-server.sh run scripts/test-postgres.sh run scripts/test-backends.sh -p hearth -p server -- --test-threads=4
	# The app's own unit tests (paging, timeline, mentions, alerts): no database.
	cargo test -p app --features ssr --lib

# The server and site as make run builds them, then Playwright against them: every spec on SQLite (the
# server started and stopped by PID by scripts/e2e-sqlite.sh, on a throwaway
# database with the demo accounts), then the Postgres specs against two
# instances on a throwaway Postgres with a nats-server between them
# (scripts/e2e-postgres.sh), on other ports.
e2e:
	@scripts/bootstrap.sh --e2e
	scripts/build-site.sh
	HEARTH_E2E_PORT=$(E2E_PORT) scripts/e2e-sqlite.sh
	@node scripts/e2e-summary.js end2end/.results/results.json
	HEARTH_E2E_PG_PORT=$(E2E_PG_PORT) HEARTH_E2E_PG_PORT_B=$(E2E_PG_PORT_B) \
		scripts/test-postgres.sh run scripts/e2e-postgres.sh

# Schemathesis against the server make run builds, with the demo data (every operation
# of the OpenAPI contract: anonymous, as a member, the admin routes as the
# admin; not_a_server_error, status_code_conformance and
# response_schema_conformance), after the e2e stage built it.
schemathesis:
	scripts/build-site.sh
	scripts/schemathesis.sh

watch: bootstrap
	@scripts/bootstrap.sh --leptos
	HEARTH_DEMO=true cargo leptos watch
