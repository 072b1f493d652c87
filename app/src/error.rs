//! [`UiError`]: what a server function returns when it fails. It carries the
//! core's field errors so forms can show each one beside its input, with or
//! without JavaScript (without it, leptos puts the error in the redirect URL).

use hearth::FieldError;
use leptos::server_fn::codec::JsonEncoding;
use leptos::server_fn::error::{FromServerFnError, ServerFnErrorErr};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UiError {
    /// Messages not tied to one field ("Invalid email or password"). Named
    /// `errors` on the wire, like every other error body of the API.
    #[serde(rename = "errors")]
    pub messages: Vec<String>,
    /// Messages for one input each.
    pub fields: Vec<FieldError>,
    /// The HTTP status the server answered with; `None` when the browser
    /// made the error itself (the request failed, no answer came back).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
}

impl UiError {
    pub fn message(message: impl Into<String>) -> Self {
        Self { messages: vec![message.into()], fields: Vec::new(), status: None }
    }

    /// Whether the server said the thing is not there for this user (404,
    /// or 403: a room one is not in), rather than the request failing.
    pub fn is_missing(&self) -> bool {
        matches!(self.status, Some(403 | 404))
    }

    /// The same error with `from`'s field messages under `to`: for a form
    /// whose input has another name than the core's field (two fields of
    /// one name on a page would share their error list's id).
    pub fn with_field_renamed(mut self, from: &str, to: &str) -> Self {
        for error in self.fields.iter_mut().filter(|f| f.field == from) {
            error.field = to.to_owned();
        }
        self
    }

    /// The messages for `field`, if any.
    pub fn field(&self, field: &str) -> Vec<String> {
        self.fields.iter().filter(|f| f.field == field).map(|f| f.message.clone()).collect()
    }
}

impl std::fmt::Display for UiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let all: Vec<&str> =
            self.messages.iter().map(String::as_str).chain(self.fields.iter().map(|e| e.message.as_str())).collect();
        f.write_str(&all.join("; "))
    }
}

impl FromServerFnError for UiError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        // Bad arguments are the caller's fault: a 4xx, not the 500 that
        // server functions answer by default.
        #[cfg(feature = "ssr")]
        let status = {
            use axum::http::StatusCode;
            let status = match &value {
                ServerFnErrorErr::Args(_) | ServerFnErrorErr::MissingArg(_) | ServerFnErrorErr::Deserialization(_) => {
                    Some(StatusCode::BAD_REQUEST)
                }
                ServerFnErrorErr::UnsupportedRequestMethod(_) => Some(StatusCode::METHOD_NOT_ALLOWED),
                _ => None,
            };
            if let (Some(status), Some(response)) =
                (status, leptos::prelude::use_context::<leptos_axum::ResponseOptions>())
            {
                response.set_status(status);
            }
            status.map(|s| s.as_u16())
        };
        // In the browser this error is the browser's own: no answer came.
        #[cfg(not(feature = "ssr"))]
        let status = None;
        Self { status, ..Self::message(value.to_string()) }
    }
}

#[cfg(feature = "ssr")]
impl From<hearth::AppError> for UiError {
    fn from(err: hearth::AppError) -> Self {
        use axum::http::StatusCode;
        use hearth::AppError;
        // Server functions answer 500 on any error unless told otherwise.
        let status = StatusCode::from_u16(err.status_code()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        // A plain form post (no JavaScript) is answered with a redirect that
        // carries the error; only fetch calls get the status.
        let form_post = leptos::prelude::use_context::<axum::http::request::Parts>()
            .and_then(|parts| parts.headers.get(axum::http::header::ACCEPT).cloned())
            .is_some_and(|accept| accept.to_str().is_ok_and(|a| a.contains("text/html")));
        if !form_post && let Some(response) = leptos::prelude::use_context::<leptos_axum::ResponseOptions>() {
            response.set_status(status);
        }
        let error = match err {
            AppError::Validation(fields) => Self { messages: Vec::new(), fields, status: None },
            AppError::Internal(source) => {
                tracing::error!(error = %source, "server function failed");
                Self::message("Something went wrong on our side")
            }
            other => Self::message(other.to_string()),
        };
        Self { status: Some(status.as_u16()), ..error }
    }
}
