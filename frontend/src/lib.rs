//! The WASM entry point. All UI lives in the `app` crate; this crate only
//! starts hydration of the server-rendered page.

#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    app::hydrate();
}
