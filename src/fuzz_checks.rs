//! Property checks for the fuzz targets in `fuzz/` (see `docs/fuzzing.md`).
//!
//! Each function takes the fuzzer's raw bytes, feeds them to one parser or
//! validator the way a request would, and panics when a property is broken.
//! The libFuzzer targets are one-line calls into this module, and
//! `tests/fuzz_corpus.rs` replays the committed corpus through it, so CI
//! checks every input the fuzzer kept without needing libFuzzer or nightly.

use crate::error::AppError;
use crate::messages::{BODY_MAX, HistoryParams, MessageBody, PAGE_DEFAULT, PAGE_MAX};
use crate::protocol::ClientEvent;
use crate::store::{HistoryQuery, parse_time};

/// The WebSocket event parser (`server/src/ws.rs` reads each text frame with
/// `serde_json::from_str::<ClientEvent>`).
///
/// - Reading bytes and reading the same text agree.
/// - An event that parses serialises, and reads back as the same event.
pub fn client_event(data: &[u8]) {
    let parsed = serde_json::from_slice::<ClientEvent>(data);
    if let Ok(text) = std::str::from_utf8(data) {
        let from_text = serde_json::from_str::<ClientEvent>(text);
        assert_eq!(parsed.as_ref().ok(), from_text.as_ref().ok(), "from_slice and from_str disagree");
    }
    let Ok(event) = parsed else { return };
    let json = serde_json::to_string(&event).expect("a ClientEvent serialises");
    let back: ClientEvent = serde_json::from_str(&json).unwrap_or_else(|e| panic!("{json} does not read back: {e}"));
    assert_eq!(back, event, "{json} reads back as a different event");
}

/// Message body validation (`MessageBody::parse`), on the input read as
/// UTF-8 (lossily, so every input reaches the validator).
///
/// - An accepted body is the input trimmed: 1 to `BODY_MAX` characters, no
///   leading or trailing whitespace, so never blank.
/// - A refusal is a `body` field error with a message.
/// - Any input whose trimmed text is 1 to `BODY_MAX` characters with no NUL
///   is accepted (the validator refuses nothing else).
pub fn message_body(data: &[u8]) {
    let raw = String::from_utf8_lossy(data);
    let trimmed = raw.trim();
    let chars = trimmed.chars().count();
    match MessageBody::parse(&raw) {
        Ok(body) => {
            let body = body.as_str();
            assert_eq!(body, trimmed, "an accepted body is the input, trimmed");
            let n = body.chars().count();
            assert!((1..=BODY_MAX).contains(&n), "accepted a body of {n} characters");
            assert!(body.len() <= 4 * BODY_MAX, "accepted a body of {} bytes", body.len());
            assert!(!body.starts_with(char::is_whitespace) && !body.ends_with(char::is_whitespace));
        }
        Err(e) => {
            assert_eq!(e.field, "body", "a body error names the body field");
            assert!(!e.message.is_empty(), "a body error has a message");
            assert!(
                chars == 0 || chars > BODY_MAX || trimmed.contains('\0'),
                "refused a valid body of {chars} characters: {}",
                e.message
            );
        }
    }
}

/// The history paging parameters: a query string read as axum's `Query`
/// does (`serde_urlencoded`), then `HistoryParams::parse`.
///
/// - Never panics; a refusal is a 422 naming the offending parameter.
/// - An accepted limit is 1 to `PAGE_MAX` (the store adds 1 to it), the
///   requested one capped, or `PAGE_DEFAULT` when absent.
/// - At most one cursor is accepted, and the query is the one given.
/// - A time cursor is in the stored form (fixed-width UTC, four-digit year),
///   so that comparing it with stored times as text compares instants.
pub fn paging_cursor(data: &[u8]) {
    let Ok(params) = serde_urlencoded::from_bytes::<HistoryParams>(data) else { return };
    let given = [
        params.before.is_some(),
        params.after.is_some(),
        params.before_number.is_some(),
        params.after_number.is_some(),
        params.around.is_some(),
    ]
    .into_iter()
    .filter(|g| *g)
    .count();
    let (query, limit) = match params.parse() {
        Ok(ok) => ok,
        Err(AppError::Validation(fields)) => {
            assert!(!fields.is_empty(), "a refusal names a problem");
            for f in &fields {
                assert!(
                    ["limit", "cursor", "before", "after"].contains(&f.field.as_str()),
                    "a refusal names an unexpected field: {f:?}"
                );
            }
            return;
        }
        Err(other) => panic!("paging parameters refused with a non-422 error: {other:?}"),
    };
    assert!((1..=PAGE_MAX).contains(&limit), "accepted limit {limit}");
    assert_eq!(limit, params.limit.map_or(PAGE_DEFAULT, |n| n.min(PAGE_MAX)));
    assert!(given <= 1, "accepted {given} cursors at once");
    let number_or_time = |raw: &Option<String>, number: fn(i64) -> HistoryQuery, time: fn(String) -> HistoryQuery| {
        let raw = raw.as_deref().expect("the cursor was given").trim();
        match raw.parse::<i64>() {
            Ok(n) => assert_eq!(query, number(n), "{raw:?} read as a number"),
            Err(_) => {
                let stored = match &query {
                    HistoryQuery::BeforeTime(t) | HistoryQuery::AfterTime(t) => t.clone(),
                    other => panic!("{raw:?} read as {other:?}"),
                };
                assert_eq!(query, time(stored.clone()));
                assert_stored_time(&stored);
            }
        }
    };
    if params.before.is_some() {
        number_or_time(&params.before, HistoryQuery::BeforeNumber, HistoryQuery::BeforeTime);
    } else if params.after.is_some() {
        number_or_time(&params.after, HistoryQuery::AfterNumber, HistoryQuery::AfterTime);
    } else if let Some(n) = params.before_number {
        assert_eq!(query, HistoryQuery::BeforeNumber(n));
    } else if let Some(n) = params.after_number {
        assert_eq!(query, HistoryQuery::AfterNumber(n));
    } else if let Some(n) = params.around {
        assert_eq!(query, HistoryQuery::Around(n));
    } else {
        assert_eq!(query, HistoryQuery::Latest);
    }
}

/// `YYYY-MM-DDTHH:MM:SS.ffffffZ`, all digits where digits go, and a fixed
/// point of `parse_time`.
fn assert_stored_time(t: &str) {
    const SHAPE: &[u8; 27] = b"0000-00-00T00:00:00.000000Z";
    let ok = t.len() == SHAPE.len()
        && t.bytes().zip(SHAPE).all(|(c, s)| if *s == b'0' { c.is_ascii_digit() } else { c == *s });
    assert!(ok, "time cursor {t:?} is not in the stored form");
    assert_eq!(parse_time(t).as_deref(), Some(t), "a stored time reads back as itself");
}
