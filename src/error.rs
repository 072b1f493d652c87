//! [`AppError`]: the one error type of the core. The server maps it to HTTP
//! statuses in one `IntoResponse`; the app maps it to server-function errors
//! in one `From` impl.

/// A message about one input field, e.g. `email` → "Email has already been taken".
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

impl FieldError {
    pub fn new(field: &str, message: impl Into<String>) -> Self {
        Self { field: field.to_owned(), message: message.into() }
    }

    /// Text inputs never hold NUL: nobody types one, and SQLite's C APIs
    /// (FTS5's query parser among them) end a string there. `label` names the
    /// field for people ("Body", "Query").
    pub fn reject_nul(field: &str, label: &str, value: &str) -> Result<(), Self> {
        if value.contains('\0') {
            Err(Self::new(field, format!("{label} can't contain NUL characters")))
        } else {
            Ok(())
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// No valid session or credentials (HTTP 401).
    #[error("{0}")]
    Unauthorized(String),
    /// Signed in, but not allowed (HTTP 403).
    #[error("{0}")]
    Forbidden(String),
    /// Missing, or not visible to this user: the two look the same (HTTP 404).
    #[error("{0} not found")]
    NotFound(&'static str),
    /// Input that fails validation, field by field (HTTP 422).
    #[error("validation failed")]
    Validation(Vec<FieldError>),
    /// A state conflict, such as a duplicate (HTTP 409).
    #[error("{0}")]
    Conflict(String),
    /// A body over a limit, such as an upload over the size setting (HTTP 413).
    #[error("{0}")]
    TooLarge(String),
    /// Too many attempts; retry after this many seconds (HTTP 429).
    #[error("Too many attempts: try again in {retry_after_secs} s")]
    RateLimited { retry_after_secs: u64 },
    /// Anything else. Its cause is logged, never shown to the client.
    #[error("internal error")]
    Internal(#[source] Box<dyn std::error::Error + Send + Sync>),
}

impl From<FieldError> for AppError {
    fn from(err: FieldError) -> Self {
        Self::Validation(vec![err])
    }
}

/// A list's `limit` parameter: `default` when absent, at most `max` (more
/// is served as the most, as the ChatFlow API does), and 0 refused with a
/// message that says both.
/// Reads a `limit` query parameter as any whole number: one under 1 becomes
/// 0, which [`page_limit`] refuses with its 422 ("must be at least 1"), as
/// `limit=0` is; a number too big for any page is the most there is. Text
/// that is no number stays a 400 like any parameter that does not parse.
/// For `#[serde(default, deserialize_with = "…")]`.
pub fn any_limit<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<Option<u32>, D::Error> {
    deserializer.deserialize_option(AnyLimit)
}

/// [`any_limit`]'s reader: a number (JSON) or digits (a query string), of
/// any size: `99999999999999999999` is the most there is, as `500` is.
struct AnyLimit;

impl<'de> serde::de::Visitor<'de> for AnyLimit {
    type Value = Option<u32>;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a whole number")
    }

    fn visit_none<E: serde::de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_unit<E: serde::de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_some<D: serde::Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_any(self)
    }

    fn visit_i64<E: serde::de::Error>(self, n: i64) -> Result<Self::Value, E> {
        Ok(Some(u32::try_from(n.max(0)).unwrap_or(u32::MAX)))
    }

    fn visit_u64<E: serde::de::Error>(self, n: u64) -> Result<Self::Value, E> {
        Ok(Some(u32::try_from(n).unwrap_or(u32::MAX)))
    }

    fn visit_str<E: serde::de::Error>(self, text: &str) -> Result<Self::Value, E> {
        let text = text.trim();
        let (negative, digits) = match text.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, text.strip_prefix('+').unwrap_or(text)),
        };
        if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(E::invalid_value(serde::de::Unexpected::Str(text), &self));
        }
        if negative {
            return Ok(Some(0));
        }
        Ok(Some(digits.parse::<u32>().unwrap_or(u32::MAX)))
    }
}

pub fn page_limit(limit: Option<u32>, default: u32, max: u32) -> Result<u32, AppError> {
    match limit {
        Some(0) => Err(AppError::invalid("limit", format!("Limit must be at least 1 (at most {max} are returned)"))),
        Some(n) => Ok(n.min(max)),
        None => Ok(default),
    }
}

impl AppError {
    /// Shorthand for a single-field validation error.
    pub fn invalid(field: &str, message: impl Into<String>) -> Self {
        Self::Validation(vec![FieldError::new(field, message)])
    }

    pub fn internal(err: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> Self {
        Self::Internal(err.into())
    }

    /// The HTTP status this error means, for both adapters (REST and server
    /// functions) to share one mapping.
    pub fn status_code(&self) -> u16 {
        match self {
            Self::Unauthorized(_) => 401,
            Self::Forbidden(_) => 403,
            Self::NotFound(_) => 404,
            Self::Validation(_) => 422,
            Self::Conflict(_) => 409,
            Self::TooLarge(_) => 413,
            Self::RateLimited { .. } => 429,
            Self::Internal(_) => 500,
        }
    }

    /// The human-readable messages a client sees, one per problem.
    pub fn messages(&self) -> Vec<String> {
        match self {
            Self::Validation(fields) => fields.iter().map(|f| f.message.clone()).collect(),
            Self::Internal(_) => vec!["Something went wrong on our side".to_owned()],
            other => vec![other.to_string()],
        }
    }
}

#[cfg(feature = "server")]
impl From<sqlx::Error> for AppError {
    fn from(err: sqlx::Error) -> Self {
        Self::Internal(Box::new(err))
    }
}

/// Turns a unique-constraint violation into field errors, as realworld's
/// `on_constraint` does; any other database error stays internal. Each pair is
/// (a fragment of the constraint's name or SQLite's message, the field error).
#[cfg(feature = "server")]
pub trait ResultExt<T> {
    fn on_unique(self, fields: &[(&str, &str, &str)]) -> Result<T, AppError>;
}

#[cfg(feature = "server")]
impl<T> ResultExt<T> for Result<T, sqlx::Error> {
    fn on_unique(self, fields: &[(&str, &str, &str)]) -> Result<T, AppError> {
        self.map_err(|err| {
            if let sqlx::Error::Database(db) = &err
                && db.is_unique_violation()
            {
                let what = db.constraint().unwrap_or(db.message());
                if let Some((_, field, message)) = fields.iter().find(|(needle, _, _)| what.contains(needle)) {
                    return AppError::invalid(field, *message);
                }
            }
            AppError::from(err)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_limit_is_the_default_when_absent_at_most_the_most_and_never_zero() {
        assert_eq!(page_limit(None, 20, 100).expect("absent"), 20);
        assert_eq!(page_limit(Some(7), 20, 100).expect("within"), 7);
        assert_eq!(page_limit(Some(100_000), 20, 100).expect("clamped"), 100);
        match page_limit(Some(0), 20, 100) {
            Err(AppError::Validation(fields)) => {
                assert_eq!(fields[0].field, "limit");
                assert_eq!(fields[0].message, "Limit must be at least 1 (at most 100 are returned)");
            }
            other => panic!("zero is refused: {other:?}"),
        }
    }
}
