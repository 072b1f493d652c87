//! `hearth-bindgen INPUT.wasm OUT_DIR NAME`: writes `OUT_DIR/NAME.js` and
//! `OUT_DIR/NAME_bg.wasm`, as `wasm-bindgen --target web --out-name NAME
//! --out-dir OUT_DIR --no-typescript INPUT.wasm` does.
//!
//! `scripts/build-site.sh` builds it beside the server, in the same cargo
//! run: installing `wasm-bindgen-cli` took a fresh machine about four minutes,
//! most of them in the CLI's test runner and HTTP client, which the site
//! never uses.

use std::path::PathBuf;
use std::process::ExitCode;

use wasm_bindgen_cli_support::Bindgen;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [input, out_dir, name] = args.as_slice() else {
        eprintln!("usage: hearth-bindgen INPUT.wasm OUT_DIR NAME");
        return ExitCode::from(2);
    };
    let mut bindgen = Bindgen::new();
    let generated = bindgen.web(true).and_then(|bindgen| {
        bindgen
            .input_path(PathBuf::from(input))
            .out_name(name)
            // As the CLI: the JS names `NAME_bg.wasm` as its default
            // module path (the pages pass theirs explicitly anyway).
            .omit_default_module_path(false)
            .generate(out_dir)
    });
    match generated {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("hearth-bindgen: {err:#}");
            ExitCode::FAILURE
        }
    }
}
