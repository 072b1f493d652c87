#!/usr/bin/env bash
# The release server and site, without cargo-leptos (what `cargo leptos build
# --release` made, in the same layout, so nothing else changes):
#
#   scripts/build-site.sh        # make run and make test call it
#
#   target/release/hearth             the server (cargo build --release -p server)
#   target/site/pkg/hearth.js         the WASM's JS glue (wasm-bindgen --target web)
#   target/site/pkg/hearth.wasm       the hydrate build of `frontend`, profile wasm-release,
#                                     then npm binaryen's wasm-opt -Oz (Debian's breaks hydration)
#   target/site/pkg/hearth.css        style/main.css through lightningcss (browserslist
#                                     "defaults", minified), as cargo-leptos does
#   target/site/*                     public/ copied as is
#
# The cargo steps get the LEPTOS_* variables cargo-leptos gives them, with the
# same values, so the two tools share their build caches (the WASM builds in
# target/front, as cargo-leptos's does) and the server names the WASM
# `hearth.wasm` in its pages. Each step's time is printed at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/end2end/node_modules/.bin:$HOME/.cargo/bin:$PATH"

say() { printf 'build-site: %s\n' "$*" >&2; }
times=()
timed() { # NAME CMD...
  local name=$1 started=$SECONDS
  shift
  "$@"
  times+=("$(printf '%-22s %4ss' "$name" "$((SECONDS - started))")")
}

for tool in wasm-bindgen wasm-opt lightningcss; do
  command -v "$tool" >/dev/null || { say "$tool is missing: run scripts/bootstrap.sh"; exit 1; }
done

target=${CARGO_TARGET_DIR:-$PWD/target}
site=target/site
pkg=$site/pkg
export LEPTOS_OUTPUT_NAME=hearth LEPTOS_SITE_ROOT=target/site LEPTOS_SITE_PKG_DIR=pkg \
  LEPTOS_SITE_ADDR=127.0.0.1:3000 LEPTOS_RELOAD_PORT=3001 LEPTOS_LIB_DIR=frontend LEPTOS_BIN_DIR=server \
  LEPTOS_JS_MINIFY=true LEPTOS_HASH_FILES=false

timed "server (cargo)" cargo build --release --package=server --bin=hearth
# The variables are for the compiler only: the server reads Leptos.toml when
# none is set, and would read them instead if they leaked into its run.
timed "wasm (cargo)" cargo build --package=frontend --lib --target-dir=target/front \
  --target=wasm32-unknown-unknown --profile=wasm-release
unset LEPTOS_OUTPUT_NAME LEPTOS_SITE_ROOT LEPTOS_SITE_PKG_DIR LEPTOS_SITE_ADDR LEPTOS_RELOAD_PORT \
  LEPTOS_LIB_DIR LEPTOS_BIN_DIR LEPTOS_JS_MINIFY LEPTOS_HASH_FILES

mkdir -p "$pkg"
wasm=target/front/wasm32-unknown-unknown/wasm-release/frontend.wasm
# A fresh cargo build leaves its output untouched, so an unchanged WASM needs
# neither wasm-bindgen nor wasm-opt again (make test builds the site twice).
if [[ -f "$pkg/hearth.wasm" && -f "$pkg/hearth.js" && ! "$wasm" -nt "$pkg/hearth.wasm" ]]; then
  say "the WASM is unchanged since $pkg/hearth.wasm was made: wasm-bindgen and wasm-opt skipped"
else
  timed "wasm-bindgen" wasm-bindgen --target=web --out-name=hearth --out-dir="$pkg" "$wasm"
  mv -f "$pkg/hearth_bg.wasm" "$pkg/hearth.wasm"
  timed "wasm-opt" wasm-opt -Oz --enable-bulk-memory --enable-nontrapping-float-to-int \
    "$pkg/hearth.wasm" -o "$pkg/hearth.wasm"
fi
timed "css (lightningcss)" env BROWSERSLIST=defaults lightningcss --minify --browserslist \
  style/main.css -o "$pkg/hearth.css"
cp -R public/. "$site/"

say "built $target/release/hearth and $site ($(du -k "$pkg/hearth.wasm" | cut -f1) KiB of WASM, $(gzip -9c "$pkg/hearth.wasm" | wc -c | awk '{printf "%d", $1/1024}') KiB gzipped)"
printf 'build-site: %s\n' "${times[@]}" >&2
