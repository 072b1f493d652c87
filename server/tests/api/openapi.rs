//! The OpenAPI contract (issue 19): the served spec is the one kept in the
//! repository, and it names every route of the JSON API with its methods.

use std::collections::BTreeSet;
use std::path::PathBuf;

use serde_json::Value;

use crate::helpers::{new_client, spawn_app};

fn repository() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

async fn served_spec() -> Value {
    let app = spawn_app().await;
    let response = app.get(&new_client(), "/api/openapi.json").await;
    assert_eq!(response.status(), 200, "GET /api/openapi.json");
    response.json().await.expect("the spec is JSON")
}

/// `HEARTH_UPDATE_OPENAPI=1 cargo test -p server --test api openapi` rewrites
/// `docs/openapi.json` from the served spec; otherwise any difference fails.
#[tokio::test]
async fn the_served_contract_is_the_one_kept_in_docs_openapi_json() {
    let served = served_spec().await;
    assert_eq!(served["openapi"], "3.1.0");
    let file = repository().join("docs/openapi.json");
    if std::env::var_os("HEARTH_UPDATE_OPENAPI").is_some() {
        let mut text = serde_json::to_string_pretty(&served).expect("spec serialises");
        text.push('\n');
        std::fs::write(&file, text).expect("docs/openapi.json written");
        return;
    }
    let kept: Value = serde_json::from_str(&std::fs::read_to_string(&file).expect("docs/openapi.json exists"))
        .expect("docs/openapi.json is JSON");
    assert!(
        kept == served,
        "docs/openapi.json differs from the served spec: after changing the API, run \
         `HEARTH_UPDATE_OPENAPI=1 cargo test -p server --test api openapi` and review the diff"
    );
}

/// Every `.route("…", get(…).post(…))` in `server/src/rest/`, as
/// (path in OpenAPI's `{name}` form, method) pairs.
fn routes_in_source() -> BTreeSet<(String, String)> {
    let mut routes = BTreeSet::new();
    let dir = repository().join("server/src/rest");
    for entry in std::fs::read_dir(&dir).expect("server/src/rest") {
        let source = std::fs::read_to_string(entry.expect("entry").path()).expect("source");
        let mut rest = source.as_str();
        while let Some(start) = rest.find(".route(") {
            rest = &rest[start + ".route(".len()..];
            // The call's arguments, up to its closing parenthesis.
            let (mut depth, mut end) = (1, 0);
            for (i, c) in rest.char_indices() {
                match c {
                    '(' => depth += 1,
                    ')' => depth -= 1,
                    _ => {}
                }
                if depth == 0 {
                    end = i;
                    break;
                }
            }
            let call = &rest[..end];
            let Some(path) = call.split('"').nth(1) else { continue };
            let handlers = &call[call.find(',').map_or(0, |i| i + 1)..];
            for method in ["get", "post", "put", "patch", "delete"] {
                let mut search = handlers;
                while let Some(at) = search.find(&format!("{method}(")) {
                    let before = search[..at].chars().next_back();
                    if before.is_none_or(|c| !c.is_alphanumeric() && c != '_') {
                        routes.insert((path.to_owned(), method.to_owned()));
                        break;
                    }
                    search = &search[at + 1..];
                }
            }
        }
    }
    routes
}

#[tokio::test]
async fn the_contract_names_every_route_of_the_json_api_and_no_other() {
    let served = served_spec().await;
    let mut in_spec = BTreeSet::new();
    for (path, item) in served["paths"].as_object().expect("paths") {
        for method in item.as_object().expect("path item").keys() {
            in_spec.insert((path.clone(), method.clone()));
        }
    }
    let mut in_source = routes_in_source();
    // The spec itself is not part of the contract.
    in_source.remove(&("/api/openapi.json".to_owned(), "get".to_owned()));
    assert!(in_source.len() > 50, "the route scan found too few routes: {in_source:?}");
    let missing: Vec<_> = in_source.difference(&in_spec).collect();
    let extra: Vec<_> = in_spec.difference(&in_source).collect();
    assert!(missing.is_empty(), "routes with no #[utoipa::path] in the contract: {missing:?}");
    assert!(extra.is_empty(), "operations in the contract that no route serves: {extra:?}");
}

#[tokio::test]
async fn every_operation_documents_its_errors_with_the_errors_body() {
    let served = served_spec().await;
    for (path, item) in served["paths"].as_object().expect("paths") {
        for (method, operation) in item.as_object().expect("path item") {
            let responses = operation["responses"].as_object().expect("responses");
            assert!(responses.keys().any(|status| status.starts_with('2')), "{method} {path} documents no success");
            for (status, response) in responses {
                if status.starts_with('4') {
                    // A shared response (`#/components/responses/…`) or its own.
                    let response = match response["$ref"].as_str() {
                        Some(shared) => {
                            let name = shared.trim_start_matches("#/components/responses/");
                            &served["components"]["responses"][name]
                        }
                        None => response,
                    };
                    assert_eq!(
                        response["content"]["application/json"]["schema"]["$ref"], "#/components/schemas/Errors",
                        "{method} {path} {status}"
                    );
                }
            }
        }
    }
}
