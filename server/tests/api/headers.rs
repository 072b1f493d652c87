//! Security headers on every kind of response, and the page's
//! Content-Security-Policy nonce matching the scripts it prints.

use reqwest::Response;
use reqwest::header::HeaderMap;
use serde_json::json;

use crate::helpers::{new_client, spawn_app, spawn_app_serving};

/// The policy of anything that is not a page.
const NOT_A_PAGE: &str = "default-src 'none'; frame-ancestors 'none'";

fn header<'a>(headers: &'a HeaderMap, name: &str) -> &'a str {
    headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or_else(|| panic!("no {name} header"))
}

fn assert_security_headers(what: &str, response: &Response) {
    let headers = response.headers();
    assert_eq!(header(headers, "x-content-type-options"), "nosniff", "{what}");
    assert_eq!(header(headers, "referrer-policy"), "same-origin", "{what}");
    assert_eq!(header(headers, "x-frame-options"), "DENY", "{what}");
    let csp = header(headers, "content-security-policy");
    assert!(csp.contains("frame-ancestors 'none'"), "{what}: {csp}");
    assert!(!csp.contains("unsafe-inline") && !csp.contains("'unsafe-eval'"), "{what}: {csp}");
}

/// The nonce a page's `script-src` names.
fn policy_nonce(csp: &str) -> &str {
    let script_src = csp.split(';').map(str::trim).find(|d| d.starts_with("script-src ")).expect("a script-src");
    script_src
        .split_whitespace()
        .find_map(|source| source.strip_prefix("'nonce-")?.strip_suffix('\''))
        .unwrap_or_else(|| panic!("no nonce in {script_src}"))
}

/// Every `nonce="…"` the HTML prints.
fn printed_nonces(html: &str) -> Vec<&str> {
    html.split("nonce=\"").skip(1).filter_map(|rest| rest.split('"').next()).collect()
}

#[tokio::test]
async fn pages_json_static_files_errors_and_refusals_all_carry_the_security_headers() {
    let site = tempfile::tempdir().unwrap();
    std::fs::write(site.path().join("favicon.svg"), "<svg xmlns=\"http://www.w3.org/2000/svg\"/>").unwrap();
    let app = spawn_app_serving(site.path().to_str().unwrap(), |_| {}).await;
    let client = new_client();

    let page = client.get(app.url("/login")).send().await.unwrap();
    let json = client.get(app.url("/healthz")).send().await.unwrap();
    let unauthorized = app.me(&client).await;
    let file = client.get(app.url("/favicon.svg")).send().await.unwrap();
    let not_found = client.get(app.url("/no/such/page")).send().await.unwrap();
    let redirect = client.get(app.url("/people")).send().await.unwrap();
    let refused =
        client.post(app.url("/users")).header("Origin", "https://evil.example").json(&json!({})).send().await.unwrap();

    assert_eq!(
        [&page, &json, &unauthorized, &file, &not_found, &redirect, &refused].map(|r| r.status().as_u16()),
        [200, 200, 401, 200, 404, 303, 403]
    );
    for (what, response) in [
        ("a page", &page),
        ("a JSON route", &json),
        ("a JSON error", &unauthorized),
        ("a static file", &file),
        ("a 404", &not_found),
        ("a redirect", &redirect),
        ("a cross-site refusal", &refused),
    ] {
        assert_security_headers(what, response);
    }
    for (what, response) in
        [("a JSON route", &json), ("a JSON error", &unauthorized), ("a static file", &file), ("a refusal", &refused)]
    {
        assert_eq!(header(response.headers(), "content-security-policy"), NOT_A_PAGE, "{what}");
    }
}

#[tokio::test]
async fn a_page_policy_names_the_nonce_on_every_script_the_page_prints() {
    let app = spawn_app().await;

    for path in ["/login", "/register", "/no/such/page"] {
        let response = new_client().get(app.url(path)).send().await.unwrap();
        let csp = header(response.headers(), "content-security-policy").to_owned();
        let html = response.text().await.unwrap();

        let nonce = policy_nonce(&csp);
        let printed = printed_nonces(&html);
        assert!(nonce.len() >= 16, "{path}: a nonce of at least 96 bits: {nonce}");
        assert!(!printed.is_empty(), "{path}: the hydration script carries a nonce");
        assert!(printed.iter().all(|n| *n == nonce), "{path}: {printed:?} vs the header's {nonce}");
        let unmarked: Vec<&str> = html
            .split("<script")
            .skip(1)
            .filter_map(|rest| rest.split('>').next())
            .filter(|tag| !tag.contains("nonce=\""))
            .collect();
        assert!(unmarked.is_empty(), "{path}: scripts without a nonce: {unmarked:?}");
        for directive in [
            "default-src 'self'",
            "'wasm-unsafe-eval'",
            "connect-src 'self'",
            "object-src 'none'",
            "base-uri 'none'",
            "form-action 'self'",
        ] {
            assert!(csp.contains(directive), "{path}: {directive} in {csp}");
        }
    }
}

#[tokio::test]
async fn each_page_load_gets_a_fresh_nonce() {
    let app = spawn_app().await;

    let first = new_client().get(app.url("/login")).send().await.unwrap();
    let second = new_client().get(app.url("/login")).send().await.unwrap();

    assert_ne!(
        policy_nonce(header(first.headers(), "content-security-policy")),
        policy_nonce(header(second.headers(), "content-security-policy"))
    );
}

/// The service worker's own policy: it loads nothing but this site's images.
const WORKER: &str = "default-src 'none'; img-src 'self'; frame-ancestors 'none'";

#[tokio::test]
async fn the_service_worker_and_the_manifest_are_served_at_the_root_with_their_types_and_policies() {
    // The real public/ directory, which the site root holds as it is.
    let public = concat!(env!("CARGO_MANIFEST_DIR"), "/../public");
    let app = spawn_app_serving(public, |_| {}).await;
    let client = new_client();

    let worker = client.get(app.url("/sw.js")).send().await.unwrap();
    let manifest = client.get(app.url("/manifest.webmanifest")).send().await.unwrap();
    let page = client.get(app.url("/login")).send().await.unwrap();

    assert_eq!([&worker, &manifest, &page].map(|r| r.status().as_u16()), [200, 200, 200]);
    assert_security_headers("the service worker", &worker);
    assert_security_headers("the manifest", &manifest);
    assert_eq!(header(worker.headers(), "content-type"), "text/javascript");
    assert_eq!(header(worker.headers(), "content-security-policy"), WORKER);
    assert_eq!(header(manifest.headers(), "content-type"), "application/manifest+json");
    assert_eq!(header(manifest.headers(), "content-security-policy"), NOT_A_PAGE);
    let csp = header(page.headers(), "content-security-policy").to_owned();
    for directive in ["worker-src 'self'", "manifest-src 'self'"] {
        assert!(csp.contains(directive), "{directive} in {csp}");
    }
    let html = page.text().await.unwrap();
    assert!(html.contains(r#"<link rel="manifest" href="/manifest.webmanifest""#), "the page links the manifest");
    let script = worker.text().await.unwrap();
    for event in ["\"push\"", "\"notificationclick\""] {
        assert!(script.contains(&format!("addEventListener({event}")), "the worker handles {event}");
    }

    // The manifest has what an installable app needs, and its icons load.
    let manifest: serde_json::Value = manifest.json().await.unwrap();
    for field in ["name", "short_name", "start_url", "display", "theme_color", "background_color"] {
        assert!(manifest[field].as_str().is_some_and(|v| !v.is_empty()), "manifest {field}: {manifest}");
    }
    let icons = manifest["icons"].as_array().expect("icons");
    assert!(icons.iter().any(|icon| icon["sizes"] == "192x192") && icons.iter().any(|icon| icon["sizes"] == "512x512"));
    for icon in icons {
        let src = icon["src"].as_str().expect("an icon's src");
        let response = client.get(app.url(src)).send().await.unwrap();
        assert_eq!(response.status().as_u16(), 200, "{src}");
        assert_eq!(header(response.headers(), "content-type"), icon["type"].as_str().unwrap(), "{src}");
    }
    let unread = client.get(app.url("/favicon-unread.svg")).send().await.unwrap();
    assert_eq!(unread.status().as_u16(), 200);
    assert_eq!(header(unread.headers(), "content-type"), "image/svg+xml");
}
