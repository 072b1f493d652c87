#!/usr/bin/env bash
# The server and the site, without cargo-leptos (what `cargo leptos build`
# made, in the same layout, so nothing else changes):
#
#   scripts/build-site.sh            # make run and make test: the server in cargo's dev profile
#   scripts/build-site.sh --release  # make release: the optimised server, for deploying and benchmarks
#
#   target/debug/hearth               the server (cargo build -p server); target/release/hearth with --release
#   target/site/pkg/hearth.js         the WASM's JS glue (tools/bindgen: wasm-bindgen --target web)
#   target/site/pkg/hearth.wasm       the hydrate build of `frontend`, profile wasm-release (either way),
#                                     then npm binaryen's wasm-opt -Oz (Debian's breaks hydration)
#   target/site/pkg/hearth.css        style/main.css through lightningcss (browserslist
#                                     "defaults", minified), as cargo-leptos does
#   target/site/pkg/*.br, *.gz        brotli and gzip copies of the three, served as they are
#   target/site/*                     public/ copied as is
#
# Why the dev profile for make run and make test: on a fresh machine of this
# kind (2 cores) the optimised server took 12 minutes to build, most of it
# LLVM optimising the Leptos views monomorphised in our own crates; the dev
# build takes about 5, serves a page in ~10 ms, and make test's Rust tests
# have built most of it already. The browser gets the same optimised WASM
# either way. Deploy the --release build (docs/deploy.md).
#
# The WASM builds in the background while the server builds (their own target
# dirs), so the two cores stay busy through each build's serial tail.
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

profile=dev out=debug
case "${1:-}" in
  "") ;;
  --release) profile=release out=release ;;
  *) say "usage: scripts/build-site.sh [--release]"; exit 2 ;;
esac

for tool in wasm-opt lightningcss; do
  command -v "$tool" >/dev/null || { say "$tool is missing: run scripts/bootstrap.sh"; exit 1; }
done

target=${CARGO_TARGET_DIR:-$PWD/target}
site=target/site
pkg=$site/pkg
mkdir -p "$pkg" "$target"
export LEPTOS_OUTPUT_NAME=hearth LEPTOS_SITE_ROOT=target/site LEPTOS_SITE_PKG_DIR=pkg \
  LEPTOS_SITE_ADDR=127.0.0.1:3000 LEPTOS_RELOAD_PORT=3001 LEPTOS_LIB_DIR=frontend LEPTOS_BIN_DIR=server \
  LEPTOS_JS_MINIFY=true LEPTOS_HASH_FILES=false

# The WASM, in the background; its output goes to a log, shown if it fails.
wasm_log=$target/build-site-wasm.log
wasm_time=$target/build-site-wasm.time
(
  started=$SECONDS
  cargo build --package=frontend --lib --target-dir=target/front \
    --target=wasm32-unknown-unknown --profile=wasm-release
  echo $((SECONDS - started)) >"$wasm_time"
) >"$wasm_log" 2>&1 &
wasm_pid=$!
# Stopped with the script, whatever ends it.
trap 'kill "$wasm_pid" 2>/dev/null || true' EXIT

timed "server (cargo)" cargo build --profile="$profile" --package=server --bin=hearth
timed "bindgen tool (cargo)" cargo build --profile="$profile" --package=hearth-bindgen
# The variables are for the compiler only: the server reads Leptos.toml when
# none is set, and would read them instead if they leaked into its run.
unset LEPTOS_OUTPUT_NAME LEPTOS_SITE_ROOT LEPTOS_SITE_PKG_DIR LEPTOS_SITE_ADDR LEPTOS_RELOAD_PORT \
  LEPTOS_LIB_DIR LEPTOS_BIN_DIR LEPTOS_JS_MINIFY LEPTOS_HASH_FILES

started=$SECONDS
if ! wait "$wasm_pid"; then
  tail -n 40 "$wasm_log" >&2
  say "the WASM build failed (whole log: $wasm_log)"
  exit 1
fi
trap - EXIT
times+=("$(printf '%-22s %4ss' "wasm (cargo)" "$(cat "$wasm_time")")")
times+=("$(printf '%-22s %4ss' "  waited for after" "$((SECONDS - started))")")

wasm=target/front/wasm32-unknown-unknown/wasm-release/frontend.wasm
# A fresh cargo build leaves its output untouched, so an unchanged WASM needs
# neither bindgen nor wasm-opt again (make test builds the site twice).
if [[ -f "$pkg/hearth.wasm" && -f "$pkg/hearth.js" && ! "$wasm" -nt "$pkg/hearth.wasm" ]]; then
  say "the WASM is unchanged since $pkg/hearth.wasm was made: bindgen and wasm-opt skipped"
else
  timed "bindgen" "$target/$out/hearth-bindgen" "$wasm" "$pkg" hearth
  mv -f "$pkg/hearth_bg.wasm" "$pkg/hearth.wasm"
  timed "wasm-opt" wasm-opt -Oz --enable-bulk-memory --enable-nontrapping-float-to-int \
    "$pkg/hearth.wasm" -o "$pkg/hearth.wasm"
fi
timed "css (lightningcss)" env BROWSERSLIST=defaults lightningcss --minify --browserslist \
  style/main.css -o "$pkg/hearth.css"

# Brotli (node's zlib, quality 11) and gzip (-9) copies beside each bundle
# file, made when the file is newer than them: the server sends these as
# they are (leptos_axum's static files are tower-http's ServeDir with
# precompressed copies on) instead of compressing 2 MB of WASM on every
# request, which took a dev-profile server half a second.
precompress() {
  local file stale=()
  for file in "$@"; do
    [[ "$file.gz" -nt "$file" && "$file.br" -nt "$file" ]] || stale+=("$file")
  done
  ((${#stale[@]})) || return 0
  for file in "${stale[@]}"; do gzip -9 -k -f "$file"; done
  node -e '
    const zlib = require("zlib"), fs = require("fs");
    for (const file of process.argv.slice(1)) {
      const data = fs.readFileSync(file);
      fs.writeFileSync(file + ".br", zlib.brotliCompressSync(data, { params: {
        [zlib.constants.BROTLI_PARAM_QUALITY]: 11, [zlib.constants.BROTLI_PARAM_SIZE_HINT]: data.length } }));
    }' "${stale[@]}"
}
timed "precompress (br, gz)" precompress "$pkg/hearth.wasm" "$pkg/hearth.js" "$pkg/hearth.css"
cp -R public/. "$site/"

say "built $target/$out/hearth and $site ($(du -k "$pkg/hearth.wasm" | cut -f1) KiB of WASM, $(($(wc -c <"$pkg/hearth.wasm.gz") / 1024)) KiB gzipped, $(($(wc -c <"$pkg/hearth.wasm.br") / 1024)) KiB brotli)"
printf 'build-site: %s\n' "${times[@]}" >&2
