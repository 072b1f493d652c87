//! Security headers on every response: pages, REST, static files, errors.
//!
//! - `X-Content-Type-Options: nosniff`, `Referrer-Policy: same-origin` and
//!   `X-Frame-Options: DENY` are the same everywhere.
//! - `Content-Security-Policy` depends on the response. A page (HTML) may run
//!   only the scripts carrying this response's nonce, and the WASM they load,
//!   and may register the service worker and link the manifest at the site
//!   root; the service worker (`/sw.js`) may load only this site's images
//!   (its notifications' icons); anything else (JSON, files, redirects) may
//!   load nothing at all. All forbid framing.
//!
//! The nonce that ties the header to the page is made here, per request, and
//! put in the request's extensions as [`PageNonce`]; the leptos context
//! closure ([`provide_page_nonce`]) hands that same value to leptos, whose
//! `HydrationScripts` and resource `<script>`s print it. The header is
//! written after the response comes back, so it cannot disagree with the
//! page.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::header::{
    CONTENT_SECURITY_POLICY, CONTENT_TYPE, REFERRER_POLICY, X_CONTENT_TYPE_OPTIONS, X_FRAME_OPTIONS,
};
use axum::http::{HeaderValue, request::Parts};
use axum::middleware::Next;
use axum::response::Response;
use leptos::config::LeptosOptions;
use leptos::nonce::Nonce;
use leptos::prelude::{provide_context, use_context};

/// The policy of every response that is not a page: it may load, run or
/// embed nothing, and nothing may frame it.
const NOT_A_PAGE_POLICY: &str = "default-src 'none'; frame-ancestors 'none'";

/// The service worker's own policy (a worker runs under the policy of the
/// response that served its script): it fetches nothing and imports nothing;
/// the icon of the notifications it shows comes from this site.
const WORKER_POLICY: &str = "default-src 'none'; img-src 'self'; frame-ancestors 'none'";

/// Where the service worker is served: `public/sw.js`, scope `/`.
const WORKER_PATH: &str = "/sw.js";

/// The nonce of this request's page, as made by the CSP middleware.
#[derive(Clone, Debug)]
pub struct PageNonce(pub Nonce);

/// What [`security_headers`] needs: one per server, shared by requests.
/// Apply the middleware outside every layer that can answer on its own (the
/// cross-site guard, sessions), so their refusals get the headers too.
pub fn page_policy(leptos: &LeptosOptions) -> Arc<PagePolicy> {
    Arc::new(PagePolicy::new(leptos))
}

/// For the leptos context closures in `startup`: renders this request's page
/// with the nonce its header will name. Outside a request (the route list,
/// static files) there is none, and leptos keeps its own.
pub fn provide_page_nonce() {
    if let Some(PageNonce(nonce)) =
        use_context::<Parts>().and_then(|parts| parts.extensions.get::<PageNonce>().cloned())
    {
        provide_context(nonce);
    }
}

/// The page policy, less the per-response nonce.
pub struct PagePolicy {
    /// Extra `connect-src` sources: cargo-leptos' live-reload socket, which
    /// listens on its own port, under `cargo leptos watch` only.
    live_reload: String,
}

impl PagePolicy {
    fn new(leptos: &LeptosOptions) -> Self {
        // The condition `AutoReload` uses to print its script.
        let live_reload = if std::env::var_os("LEPTOS_WATCH").is_some() {
            let port = leptos.reload_external_port.unwrap_or(leptos.reload_port);
            format!(" ws://*:{port} wss://*:{port}")
        } else {
            String::new()
        };
        Self { live_reload }
    }

    /// - `script-src`: inline scripts only with this response's nonce (the
    ///   hydration loader and the resource data; leptos prints it on each).
    ///   The loader's `import()` of `/pkg/hearth.js` inherits the nonce;
    ///   `'self'` is for the `<link rel=modulepreload>` leptos prints before
    ///   it, which carries no nonce. Same-origin scripts are only
    ///   `/pkg/*` and `public/` (no uploads, and JSON cannot run as a script
    ///   under `nosniff`). `'wasm-unsafe-eval'` lets the WASM compile; there
    ///   is no `'unsafe-inline'` or `'unsafe-eval'`.
    /// - `style-src 'self'`: the one stylesheet, `/pkg/hearth.css`. The app
    ///   has no `<style>` element and no `style=` attribute (leptos' `style:`
    ///   sets properties through the CSSOM, which CSP does not govern).
    /// - `connect-src 'self'`: server functions, the WASM fetch, and the
    ///   WebSocket `/ws` (CSP3 matches `ws:`/`wss:` on this host to `'self'`).
    /// - `worker-src 'self'` and `manifest-src 'self'`: the service worker
    ///   `/sw.js` and `/manifest.webmanifest` (`public/`). Both would fall
    ///   back to `'self'` anyway; naming them keeps that true if the
    ///   defaults ever tighten.
    /// - `img-src`, fonts and the rest fall back to `default-src 'self'`.
    fn header(&self, nonce: &Nonce) -> Option<HeaderValue> {
        let policy = format!(
            "default-src 'self'; script-src 'self' 'nonce-{nonce}' 'wasm-unsafe-eval'; style-src 'self'; \
             connect-src 'self'{}; worker-src 'self'; manifest-src 'self'; object-src 'none'; base-uri 'none'; \
             form-action 'self'; frame-ancestors 'none'",
            self.live_reload
        );
        HeaderValue::try_from(policy).ok()
    }
}

/// Every response's security headers (one middleware for the four: each
/// layer around the router costs every request a clone of what is inside
/// it).
pub async fn security_headers(State(policy): State<Arc<PagePolicy>>, mut req: Request, next: Next) -> Response {
    let nonce = Nonce::new();
    req.extensions_mut().insert(PageNonce(nonce.clone()));
    let worker = req.uri().path() == WORKER_PATH;
    let mut response = next.run(req).await;
    let value = if worker {
        HeaderValue::from_static(WORKER_POLICY)
    } else {
        is_html(&response)
            .then(|| policy.header(&nonce))
            .flatten()
            .unwrap_or_else(|| HeaderValue::from_static(NOT_A_PAGE_POLICY))
    };
    let headers = response.headers_mut();
    headers.insert(CONTENT_SECURITY_POLICY, value);
    headers.insert(X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(REFERRER_POLICY, HeaderValue::from_static("same-origin"));
    headers.insert(X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    response
}

fn is_html(response: &Response) -> bool {
    response
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value.trim_start().to_ascii_lowercase().starts_with("text/html"))
}
