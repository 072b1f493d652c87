#!/usr/bin/env bash
# Installs what a fresh machine lacks to build Hearth. Idempotent: each step
# is skipped when its tool is already there at the right version.
#   scripts/bootstrap.sh --build  the build tools only (wasm target, npm's wasm-opt and
#                                 lightningcss): make run, make release
#   scripts/bootstrap.sh          also Postgres's server binaries, nats-server, and the SMTP
#                                 tests' and S3 tests' Python servers, for the tests
#   scripts/bootstrap.sh --e2e    also Debian's chromium for Playwright
#   scripts/bootstrap.sh --leptos only cargo-leptos and wasm-bindgen-cli, for `make watch`
#                                 (about 15 minutes, once; nothing else needs them:
#                                 scripts/build-site.sh builds the site, and its tools/bindgen
#                                 is the wasm-bindgen library without the CLI's test runner)
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\033[1m==> %s\033[0m\n' "$*"; }

if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  step "adding the wasm32 target"
  rustup target add wasm32-unknown-unknown
fi

if [[ "${1:-}" == "--leptos" ]]; then
  if ! wasm-bindgen --version 2>/dev/null | grep -q '0\.2\.130'; then
    step "installing wasm-bindgen-cli 0.2.130 for cargo-leptos (must equal the wasm-bindgen crate)"
    cargo install wasm-bindgen-cli --version 0.2.130
  fi
  if ! cargo leptos --version 2>/dev/null | grep -q '0\.3\.11'; then
    step "installing cargo-leptos 0.3.11 for make watch (about 11 minutes, once)"
    # Plain --locked fails (a dependency wants a newer rustc); LTO off halves the build.
    CARGO_PROFILE_RELEASE_LTO=false CARGO_PROFILE_RELEASE_CODEGEN_UNITS=16 \
      cargo install cargo-leptos --version 0.3.11 --locked --ignore-rust-version
  fi
  exit 0
fi

# npm packages: binaryen's wasm-opt (Debian's breaks hydration), lightningcss
# (the CSS, as cargo-leptos would) and Playwright.
if [[ ! -x end2end/node_modules/.bin/wasm-opt || ! -x end2end/node_modules/.bin/playwright \
      || ! -x end2end/node_modules/.bin/lightningcss \
      || end2end/package-lock.json -nt end2end/node_modules/.package-lock.json ]]; then
  step "installing npm packages in end2end/"
  (cd end2end && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund)
fi

[[ "${1:-}" == "--build" ]] && exit 0

# The tests start a throwaway Postgres (scripts/test-postgres.sh); Debian's
# package keeps initdb in /usr/lib/postgresql/<version>/bin, off PATH.
if ! command -v initdb >/dev/null && ! compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null; then
  step "installing Debian's postgresql (server binaries for the tests)"
  sudo_cmd=""
  [[ $(id -u) -eq 0 ]] || sudo_cmd="sudo"
  $sudo_cmd apt-get update
  $sudo_cmd env DEBIAN_FRONTEND=noninteractive apt-get install -y postgresql
fi

# The tests of several instances start their own nats-server (Debian's, in
# /usr/sbin) on a free loopback port and stop it by PID.
if ! command -v nats-server >/dev/null && [[ ! -x /usr/sbin/nats-server ]]; then
  step "installing Debian's nats-server (the bus between instances, for the tests)"
  sudo_cmd=""
  [[ $(id -u) -eq 0 ]] || sudo_cmd="sudo"
  $sudo_cmd apt-get update
  $sudo_cmd env DEBIAN_FRONTEND=noninteractive apt-get install -y nats-server
fi

# The SMTP tests run a real mail server, Python's aiosmtpd from PyPI, in a
# venv under target/ (scripts/smtp-venv.sh makes it on first use): they need
# python3 with its venv module (Debian splits it out).
if ! command -v python3 >/dev/null || ! python3 -c 'import venv, ensurepip' 2>/dev/null; then
  step "installing Debian's python3 and python3-venv (the SMTP tests' mail server)"
  sudo_cmd=""
  [[ $(id -u) -eq 0 ]] || sudo_cmd="sudo"
  $sudo_cmd apt-get update
  $sudo_cmd env DEBIAN_FRONTEND=noninteractive apt-get install -y python3 python3-venv
fi
scripts/smtp-venv.sh >/dev/null
# The object-storage tests' S3 server, moto from PyPI, in a venv under
# target/ (made only when missing; scripts/s3-test-server.sh would on first use).
scripts/s3-test-server.sh install

if [[ "${1:-}" == "--e2e" && ! -x /usr/bin/chromium ]]; then
  step "installing Debian's chromium for Playwright"
  sudo_cmd=""
  [[ $(id -u) -eq 0 ]] || sudo_cmd="sudo"
  $sudo_cmd apt-get update
  $sudo_cmd env DEBIAN_FRONTEND=noninteractive apt-get install -y chromium
fi

# The sqlite3 command: a spec moves an invitation's expiry into the past in
# the test server's database (end2end/tests/admin-invitations.spec.ts).
if [[ "${1:-}" == "--e2e" ]] && ! command -v sqlite3 >/dev/null; then
  step "installing Debian's sqlite3 for the end-to-end tests"
  sudo_cmd=""
  [[ $(id -u) -eq 0 ]] || sudo_cmd="sudo"
  $sudo_cmd apt-get update
  $sudo_cmd env DEBIAN_FRONTEND=noninteractive apt-get install -y sqlite3
fi
