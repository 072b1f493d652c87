//! Extractors whose rejections are JSON `{"errors": [...]}` like every other
//! error, instead of axum's plain-text bodies.

use std::net::{IpAddr, SocketAddr};

use axum::extract::{ConnectInfo, FromRequest, FromRequestParts, Request, rejection::JsonRejection};
use axum::http::request::Parts;
use axum_client_ip::ClientIp;
use hearth::AppError;
use hearth::auth::{AuthSession, AuthUser};
use serde::de::DeserializeOwned;

use crate::error::ApiError;

/// `axum::Json`, but a missing content type is a JSON 415 and a bad body a
/// JSON 400 (syntax) or 422 (shape). Every body is an object: serde fills a
/// struct from an array too, by position (`["hi", "cid-1"]` was a message
/// with a `client_id`), which no endpoint documents, so an array is a 422.
pub struct Json<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for Json<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        if !json_content_type(req.headers()) {
            return Err(ApiError::UnsupportedMediaType);
        }
        let bytes = body_bytes(req, state).await?;
        from_json(&bytes).map(Self)
    }
}

/// What a Rails client wraps a model's fields in (`params.require(:message)`).
pub trait RailsModel {
    const KEY: &'static str;
}

/// [`Json`], read bare or wrapped in its model's key as a Rails client sends
/// it: `{"body":"hi"}` and `{"message":{"body":"hi"}}` are one message, with
/// the same errors (a field's path, and its place in the text). (The
/// OpenAPI contract documents the bare form.)
pub struct RailsJson<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned + RailsModel> FromRequest<S> for RailsJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        if !json_content_type(req.headers()) {
            return Err(ApiError::UnsupportedMediaType);
        }
        let bytes = body_bytes(req, state).await?;
        // Only a body that names the key at all is looked into: the bare
        // form, every message a client sends, is read once, as by `Json`.
        let quoted = format!("\"{}\"", T::KEY);
        if bytes.windows(quoted.len()).any(|w| w == quoted.as_bytes())
            && let Ok(body) = serde_json::from_slice::<serde_json::Value>(&bytes)
            && let (fields, true) = unwrap_model(body, T::KEY)
            && fields.is_object()
        {
            let inner = serde_json::to_vec(&fields).map_err(AppError::internal)?;
            return from_json(&inner).map(Self);
        }
        from_json(&bytes).map(Self)
    }
}

/// A Rails client's body, `{"<key>": {...}}`, as the fields inside, with
/// any field beside the key that they do not name themselves; or the body
/// itself when it has no such key. True when it was wrapped.
pub fn unwrap_model(mut body: serde_json::Value, key: &str) -> (serde_json::Value, bool) {
    match body.as_object_mut().and_then(|fields| fields.remove(key)) {
        Some(mut inner) => {
            if let (Some(fields), Some(beside)) = (inner.as_object_mut(), body.as_object_mut()) {
                for (name, value) in std::mem::take(beside) {
                    fields.entry(name).or_insert(value);
                }
            }
            (inner, true)
        }
        None => (body, false),
    }
}

/// The whole body, within the body limit (413 beyond it).
async fn body_bytes<S: Send + Sync>(req: Request, state: &S) -> Result<axum::body::Bytes, ApiError> {
    match axum::body::Bytes::from_request(req, state).await {
        Ok(bytes) => Ok(bytes),
        Err(e) if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE => Err(ApiError::PayloadTooLarge),
        Err(e) => Err(ApiError::BadRequest(format!("Invalid JSON: {}", e.body_text()))),
    }
}

/// A JSON object read from `bytes`, with [`Json`]'s errors.
fn from_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    if bytes.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'[') {
        return Err(AppError::invalid("body", "Invalid request body: expected a JSON object, not an array").into());
    }
    match axum::Json::<T>::from_bytes(bytes) {
        Ok(axum::Json(value)) => Ok(value),
        Err(JsonRejection::MissingJsonContentType(_)) => Err(ApiError::UnsupportedMediaType),
        Err(JsonRejection::JsonDataError(e)) => {
            Err(AppError::invalid("body", format!("Invalid request body: {}", serde_part(&e))).into())
        }
        Err(other) if other.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE => Err(ApiError::PayloadTooLarge),
        Err(JsonRejection::JsonSyntaxError(e)) => {
            Err(ApiError::BadRequest(format!("Invalid JSON: {}", serde_part(&e))))
        }
        Err(other) => Err(ApiError::BadRequest(format!("Invalid JSON: {}", other.body_text()))),
    }
}

/// `application/json`, or a `+json` type (as `axum::Json` accepts).
fn json_content_type(headers: &axum::http::HeaderMap) -> bool {
    let Some(mime) = headers.get(axum::http::header::CONTENT_TYPE).and_then(|v| v.to_str().ok()) else {
        return false;
    };
    let essence = mime.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
    let Some((kind, sub)) = essence.split_once('/') else { return false };
    kind == "application" && (sub == "json" || sub.ends_with("+json"))
}

/// What the JSON reader said (the field's path, what was wrong, where),
/// without axum's "Failed to deserialize the JSON body into the target
/// type" before it.
fn serde_part(rejection: &(dyn std::error::Error + 'static)) -> String {
    let mut inner = rejection;
    while let Some(source) = inner.source() {
        inner = source;
    }
    inner.to_string()
}

/// The signed-in user, or a 401 in Devise's words.
pub struct CurrentUser(pub AuthUser);

pub const SIGN_IN_FIRST: &str = "You need to sign in or sign up before continuing.";

impl<S: Send + Sync> FromRequestParts<S> for CurrentUser {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let session =
            AuthSession::from_request_parts(parts, state).await.map_err(|(_, msg)| AppError::internal(msg))?;
        session.user.map(CurrentUser).ok_or_else(|| AppError::Unauthorized(SIGN_IN_FIRST.into()).into())
    }
}

/// A JSON body that may be left out: a request without one (no body, or an
/// empty one, whatever its content type, chunked too) reads as
/// `T::default()`; any other body is read as [`Json`] reads it.
pub struct OptionalJson<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned + Default> FromRequest<S> for OptionalJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        let headers = req.headers();
        let empty = match headers.get(axum::http::header::CONTENT_LENGTH) {
            Some(length) => length.as_bytes() == b"0",
            None => !headers.contains_key(axum::http::header::TRANSFER_ENCODING),
        };
        if empty {
            return Ok(Self(T::default()));
        }
        let json = json_content_type(headers);
        let bytes = body_bytes(req, state).await?;
        // A chunked body says how long it is only at its end.
        if bytes.is_empty() {
            return Ok(Self(T::default()));
        }
        if !json {
            return Err(ApiError::UnsupportedMediaType);
        }
        from_json(&bytes).map(Self)
    }
}

/// `axum::extract::Query`, with a JSON 400 for a malformed query string. A
/// parameter given blank (`?before=&limit=`) is absent, as Rails reads
/// one: ChatFlow's clients send their unset cursors that way.
pub struct Query<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for Query<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, ApiError> {
        let given = without_blanks(&parts.uri);
        axum::extract::Query::<T>::try_from_uri(given.as_ref().unwrap_or(&parts.uri))
            .map(|axum::extract::Query(q)| Self(q))
            .map_err(|e| ApiError::BadRequest(e.body_text()))
    }
}

/// `uri` with only its query's parameters that have a value (in their
/// order), or `None` when every one has.
fn without_blanks(uri: &axum::http::Uri) -> Option<axum::http::Uri> {
    let query = uri.query()?;
    let valued = |pair: &&str| pair.split_once('=').is_some_and(|(_, value)| !value.is_empty());
    if query.split('&').all(|pair| valued(&pair)) {
        return None;
    }
    let kept: Vec<&str> = query.split('&').filter(valued).collect();
    // A part of a query that parsed is a query that parses.
    format!("/?{}", kept.join("&")).parse().ok()
}

/// `axum::extract::Path`, with a JSON 404 when a segment does not parse (an
/// id that is not a number names nothing).
pub struct Path<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned + Send> FromRequestParts<S> for Path<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        axum::extract::Path::<T>::from_request_parts(parts, state)
            .await
            .map(|axum::extract::Path(p)| Self(p))
            .map_err(|_| AppError::NotFound("resource").into())
    }
}

/// The client's address for rate limits: from the header the operator's
/// proxy sets (`HEARTH_CLIENT_IP_SOURCE`), or the TCP peer's when there is no
/// proxy or the header is missing.
pub struct ClientAddr(pub IpAddr);

impl<S: Send + Sync> FromRequestParts<S> for ClientAddr {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        if let Ok(ClientIp(ip)) = ClientIp::from_request_parts(parts, state).await {
            return Ok(Self(ip));
        }
        let peer = parts.extensions.get::<ConnectInfo<SocketAddr>>().map(|ConnectInfo(addr)| addr.ip());
        Ok(Self(peer.unwrap_or(IpAddr::from([0, 0, 0, 0]))))
    }
}
