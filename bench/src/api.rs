//! The REST calls the benchmark needs: register a pool of accounts, open a
//! room, join it, and post messages. Sessions are carried by hand as the
//! `hearth_session` cookie (no cookie jar: one client serves every account).

use reqwest::StatusCode;
use reqwest::header::{COOKIE, SET_COOKIE};
use serde_json::json;

const SESSION_COOKIE: &str = "hearth_session";
const PASSWORD: &str = "bench-password-1";

#[derive(Clone)]
pub struct Api {
    http: reqwest::Client,
    base: String,
}

/// A signed-in account: its `hearth_session=...` cookie pair.
#[derive(Clone, Debug)]
pub struct Account {
    pub cookie: String,
}

impl Api {
    pub fn new(base: &str) -> Result<Self, String> {
        let http = reqwest::Client::builder()
            .no_proxy()
            .tcp_nodelay(true)
            .pool_max_idle_per_host(256)
            .build()
            .map_err(|e| format!("building the HTTP client: {e}"))?;
        Ok(Self { http, base: base.trim_end_matches('/').to_owned() })
    }

    /// Registers `username` (argon2 on the server: ~50 ms of its CPU) and
    /// keeps the session it starts; signs in if registration set no cookie.
    pub async fn register(&self, username: &str) -> Result<Account, String> {
        let email = format!("{username}@bench.test");
        let body = json!({ "user": { "email": email, "username": username, "password": PASSWORD, "name": username } });
        let resp =
            self.http.post(format!("{}/users", self.base)).json(&body).send().await.map_err(err("POST /users"))?;
        let status = resp.status();
        let cookie = session_cookie(&resp);
        if status != StatusCode::CREATED {
            let text = resp.text().await.unwrap_or_default();
            return Err(format!("POST /users: {status}: {text}"));
        }
        let cookie = match cookie {
            Some(c) => c,
            None => self.sign_in(&email).await?,
        };
        Ok(Account { cookie })
    }

    async fn sign_in(&self, email: &str) -> Result<String, String> {
        let body = json!({ "user": { "email": email, "password": PASSWORD } });
        let resp = self
            .http
            .post(format!("{}/users/sign_in", self.base))
            .json(&body)
            .send()
            .await
            .map_err(err("POST /users/sign_in"))?;
        let status = resp.status();
        match session_cookie(&resp) {
            Some(c) if status.is_success() => Ok(c),
            _ => Err(format!("POST /users/sign_in: {status}: {}", resp.text().await.unwrap_or_default())),
        }
    }

    /// `GET path` as `account`; the body, or an error for any status but 200.
    pub async fn get_bytes(&self, account: &Account, path: &str) -> Result<Vec<u8>, String> {
        let resp = self
            .http
            .get(format!("{}{path}", self.base))
            .header(COOKIE, &account.cookie)
            .send()
            .await
            .map_err(err("GET"))?;
        let status = resp.status();
        let body = resp.bytes().await.map_err(err("GET (body)"))?;
        if status != StatusCode::OK {
            return Err(format!("GET {path}: {status}: {}", String::from_utf8_lossy(&body)));
        }
        Ok(body.to_vec())
    }

    /// `GET path` as `account`, read as JSON.
    pub async fn get_json(&self, account: &Account, path: &str) -> Result<serde_json::Value, String> {
        let body = self.get_bytes(account, path).await?;
        serde_json::from_slice(&body).map_err(|e| format!("GET {path}: {e}"))
    }

    /// Creates an open room as `owner`; returns its id.
    pub async fn create_room(&self, owner: &Account, title: &str) -> Result<i64, String> {
        let resp = self
            .http
            .post(format!("{}/conversations", self.base))
            .header(COOKIE, &owner.cookie)
            .json(&json!({ "kind": "open", "title": title }))
            .send()
            .await
            .map_err(err("POST /conversations"))?;
        let status = resp.status();
        let value: serde_json::Value = resp.json().await.map_err(err("POST /conversations (body)"))?;
        if !status.is_success() {
            return Err(format!("POST /conversations: {status}: {value}"));
        }
        value["id"].as_i64().ok_or_else(|| format!("POST /conversations: no id in {value}"))
    }

    pub async fn join(&self, account: &Account, room: i64) -> Result<(), String> {
        let resp = self
            .http
            .post(format!("{}/conversations/{room}/join", self.base))
            .header(COOKIE, &account.cookie)
            .send()
            .await
            .map_err(err("POST /conversations/:id/join"))?;
        let status = resp.status();
        if !status.is_success() {
            return Err(format!(
                "POST /conversations/{room}/join: {status}: {}",
                resp.text().await.unwrap_or_default()
            ));
        }
        Ok(())
    }

    /// Posts one message; Ok only for 201 Created.
    pub async fn post(&self, account: &Account, room: i64, body: &str, client_id: &str) -> Result<(), String> {
        let resp = self
            .http
            .post(format!("{}/conversations/{room}/messages", self.base))
            .header(COOKIE, &account.cookie)
            .json(&json!({ "body": body, "client_id": client_id }))
            .send()
            .await
            .map_err(err("POST /conversations/:id/messages"))?;
        let status = resp.status();
        // Read the body so the connection goes back to the pool.
        let text = resp.bytes().await.map_err(err("POST /conversations/:id/messages (body)"))?;
        if status != StatusCode::CREATED {
            return Err(format!("POST /conversations/{room}/messages: {status}: {}", String::from_utf8_lossy(&text)));
        }
        Ok(())
    }
}

/// The `hearth_session=...` pair from the response's `Set-Cookie` headers.
fn session_cookie(resp: &reqwest::Response) -> Option<String> {
    resp.headers().get_all(SET_COOKIE).iter().filter_map(|v| v.to_str().ok()).find_map(|v| {
        let pair = v.split(';').next()?.trim();
        pair.starts_with(&format!("{SESSION_COOKIE}=")).then(|| pair.to_owned())
    })
}

/// The error with its causes ("error sending request" alone says little).
fn err(what: &'static str) -> impl Fn(reqwest::Error) -> String {
    move |e| {
        let mut text = format!("{what}: {e}");
        let mut source = std::error::Error::source(&e);
        while let Some(cause) = source {
            text.push_str(&format!(": {cause}"));
            source = cause.source();
        }
        text
    }
}
