//! [`ApiError`]: core errors and request problems, mapped to HTTP in one
//! place. Every body is JSON `{"errors": [...]}`; an internal error's cause
//! is logged and never sent.

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use hearth::AppError;
use serde_json::json;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error(transparent)]
    Core(#[from] AppError),
    /// The body is not `Content-Type: application/json`.
    #[error("Content-Type must be application/json")]
    UnsupportedMediaType,
    /// The body is not valid JSON, or not of the expected shape.
    #[error("{0}")]
    BadRequest(String),
    /// The body is over the server's limit.
    #[error("Request body is too large")]
    PayloadTooLarge,
}

impl ApiError {
    pub fn status(&self) -> StatusCode {
        match self {
            Self::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::BadRequest(_) => StatusCode::BAD_REQUEST,
            Self::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Self::Core(core) => StatusCode::from_u16(core.status_code()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
        }
    }

    pub fn messages(&self) -> Vec<String> {
        match self {
            Self::Core(core) => core.messages(),
            other => vec![other.to_string()],
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if let Self::Core(AppError::Internal(source)) = &self {
            tracing::error!(error = ?source, "request failed");
        }
        let mut response = (self.status(), Json(json!({ "errors": self.messages() }))).into_response();
        if let Self::Core(AppError::RateLimited { retry_after_secs }) = self {
            response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(retry_after_secs));
        }
        response
    }
}

pub type ApiResult<T> = Result<T, ApiError>;
