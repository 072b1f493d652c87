//! `spawn_app()` and request helpers that read like the spec.

use std::path::PathBuf;

use hearth::Hearth;
use hearth_server::config::Config;
use hearth_server::startup::Application;
use leptos::config::LeptosOptions;
use reqwest::header::{HeaderMap, SET_COOKIE};
use reqwest::{Client, Response, redirect};
use serde_json::{Value, json};

pub const PASSWORD: &str = "secret123";

pub struct TestApp {
    pub address: String,
    /// A client that keeps cookies, like a browser or `curl -b -c`.
    pub client: Client,
    pub hearth: Hearth,
    _dir: tempfile::TempDir,
}

pub fn test_config(dir: PathBuf) -> Config {
    Config {
        listen: "127.0.0.1:0".parse().expect("valid address"),
        database_url: None,
        data_dir: dir,
        log: "warn".into(),
        demo: false,
        secure_cookies: false,
        site_config: None,
        sign_ins_per_ip_per_minute: 1000,
        sign_ins_per_account_per_minute: 1000,
    }
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

pub async fn spawn_app_with(configure: impl FnOnce(&mut Config)) -> TestApp {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut config = test_config(dir.path().to_path_buf());
    configure(&mut config);
    hearth_server::telemetry::init(&config.log);
    let leptos = LeptosOptions::builder().output_name("hearth").site_root("target/site").build();
    let app = Application::build(config, leptos).await.expect("app builds");
    let address = format!("http://127.0.0.1:{}", app.port());
    let hearth = app.hearth().clone();
    tokio::spawn(app.run_until_stopped());
    TestApp { address, client: new_client(), hearth, _dir: dir }
}

/// A fresh "browser": its own cookie jar, and redirects not followed so tests
/// can see them.
pub fn new_client() -> Client {
    Client::builder().cookie_store(true).redirect(redirect::Policy::none()).build().expect("client")
}

/// A client with no cookie jar, for sending a chosen `Cookie` header.
pub fn bare_client() -> Client {
    Client::builder().redirect(redirect::Policy::none()).build().expect("client")
}

/// The `hearth_session` value a response set, if any.
pub fn session_cookie(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|c| c.starts_with("hearth_session="))
        .map(|c| c.split(';').next().unwrap_or_default().to_owned())
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.address, path)
    }

    pub async fn register_with(&self, client: &Client, username: &str) -> Response {
        client
            .post(self.url("/users"))
            .json(&json!({ "user": {
                "email": format!("{username}@example.com"),
                "username": username,
                "password": PASSWORD,
                "name": format!("{username} Example"),
            }}))
            .send()
            .await
            .expect("request sent")
    }

    /// Registers `username` (email `<username>@example.com`) on the app's client.
    pub async fn register(&self, username: &str) -> Value {
        let response = self.register_with(&self.client, username).await;
        assert_eq!(response.status(), 201, "registering {username}");
        response.json().await.expect("json")
    }

    pub async fn sign_in_with(&self, client: &Client, login: &str, password: &str) -> Response {
        client
            .post(self.url("/users/sign_in"))
            .json(&json!({ "user": { "email": login, "password": password } }))
            .send()
            .await
            .expect("request sent")
    }

    pub async fn me(&self, client: &Client) -> Response {
        client.get(self.url("/users/me")).header("Accept", "application/json").send().await.expect("request sent")
    }
}
