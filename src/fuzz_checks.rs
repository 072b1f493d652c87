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
use crate::redirect::{NEXT_MAX, safe_next};
use crate::search::{QUERY_MAX, SearchText, TERMS_MAX, contains_folded, find_ignoring_case, fold, split_terms};
use crate::store::{HistoryQuery, parse_time};
use crate::store::{fts_all, fts_phrase};

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
///   leading or trailing whitespace, never blank (nothing but invisible
///   characters, `text::is_blank`).
/// - A refusal is a `body` field error with a message.
/// - Any input whose trimmed text is 1 to `BODY_MAX` characters, not blank,
///   with no NUL is accepted (the validator refuses nothing else).
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
            assert!(!body.contains('\0'), "accepted a body with NUL");
            assert!(!crate::text::is_blank(body), "accepted a body that shows nothing");
        }
        Err(e) => {
            assert_eq!(e.field, "body", "a body error names the body field");
            assert!(!e.message.is_empty(), "a body error has a message");
            assert!(
                crate::text::is_blank(trimmed) || chars > BODY_MAX || trimmed.contains('\0'),
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

/// The sign-in `next` check (`redirect::safe_next`), on the input read as
/// UTF-8 (lossily).
///
/// - The answer is the input unchanged, or exactly `/`.
/// - It starts with `/`, never `//` or `/\`, holds no control character or
///   whitespace, and is at most `NEXT_MAX` bytes (so it is a valid
///   `Location` header value).
/// - Resolved against the site as a browser does (WHATWG URL, which drops
///   tabs and newlines and reads `\` as `/`), it stays on the site; and so it
///   does after one round of percent-decoding, for a proxy or client that
///   decodes before it resolves.
pub fn next_path(data: &[u8]) {
    let raw = String::from_utf8_lossy(data);
    let next = safe_next(Some(&raw));
    assert!(next == raw || next == "/", "{raw:?} became {next:?}");
    assert!(next.starts_with('/'), "{next:?} is not a path");
    assert!(!next.starts_with("//") && !next.starts_with("/\\"), "{next:?} names another host");
    assert!(
        !next.contains(|c: char| c.is_control() || c.is_whitespace()),
        "{next:?} has control characters or whitespace"
    );
    assert!(next.len() <= NEXT_MAX, "{} bytes kept", next.len());
    assert_on_site(&next, &next);
    assert_on_site(&next, &percent_decode(&next));
    assert_eq!(safe_next(None), "/");
}

/// `path`, resolved against the site, is on the site.
fn assert_on_site(kept: &str, path: &str) {
    let site = url::Url::parse("https://hearth.example:8443/rooms/1?x=1").expect("a valid base");
    if let Ok(to) = site.join(path) {
        assert!(to.origin() == site.origin(), "{kept:?} (resolved as {path:?}) leaves the site for {to}");
    }
}

/// One round of percent-decoding, lossy for bytes that are not UTF-8.
fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let hex = |c: u8| (c as char).to_digit(16);
        match (b[i], b.get(i + 1).copied().and_then(hex), b.get(i + 2).copied().and_then(hex)) {
            (b'%', Some(hi), Some(lo)) => {
                out.push((hi * 16 + lo) as u8);
                i += 3;
            }
            (c, _, _) => {
                out.push(c);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Search: the query check, the FTS5 quoting of long queries and the
/// case-insensitive matching of short ones and of hit marks. The first byte
/// splits the rest into a query and a message body (both read as UTF-8,
/// lossily).
///
/// - A query is accepted exactly when it has no NUL, is not blank, is at
///   most `QUERY_MAX` characters and has at most `TERMS_MAX` terms; a
///   refusal names the field.
/// - Its terms are not empty, hold no `"`, no two fold alike, and each is
///   a part of the query as typed.
/// - `fts_phrase` gives one FTS5 string literal: it starts and ends with
///   `"`, every `"` inside is doubled, and undoubling them gives the query;
///   `fts_all` joins such literals, one per term, with ` AND `.
/// - Matching ignores case consistently: a body that contains the query as
///   typed matches; a marked match lies inside the body and is the least
///   span of it whose folded form holds the (folded) query; a mark implies
///   a match, and a match a mark.
pub fn search(data: &[u8]) {
    let Some((&split, rest)) = data.split_first() else { return };
    let split = (split as usize).min(rest.len());
    let query = String::from_utf8_lossy(&rest[..split]);
    let body = String::from_utf8_lossy(&rest[split..]);

    let valid = !query.contains('\0')
        && !query.trim().is_empty()
        && query.chars().count() <= QUERY_MAX
        && split_terms(&query).len() <= TERMS_MAX;
    match SearchText::parse("q", &query) {
        Ok(text) => {
            assert!(valid, "accepted query {query:?}");
            assert_eq!(text.as_str(), query);
            let terms = text.terms();
            assert!(!terms.is_empty(), "{query:?} has no terms");
            for (i, term) in terms.iter().enumerate() {
                assert!(!term.is_empty() && query.contains(term.as_str()), "{term:?} is not a part of {query:?}");
                assert!(!term.contains('"') || terms.len() == 1, "{term:?} of {query:?} holds a quote");
                assert!(terms[..i].iter().all(|t| fold(t) != fold(term)), "{term:?} of {query:?} is there twice");
            }
            let refs: Vec<&str> = terms.iter().map(String::as_str).collect();
            for term in terms {
                assert_fts_string(&fts_phrase(term), term);
            }
            let each: Vec<String> = terms.iter().map(|t| fts_phrase(t)).collect();
            assert_eq!(fts_all(&refs), each.join(" AND "));
        }
        Err(e) => {
            assert!(!valid, "refused query {query:?}: {}", e.message);
            assert_eq!(e.field, "q");
        }
    }

    let phrase = fts_phrase(&query);
    assert_fts_string(&phrase, &query);

    let needle = fold(&query);
    let matches = contains_folded(&body, &needle);
    if body.contains(&*query) {
        assert!(matches, "{body:?} contains {query:?} but does not match it");
    }
    let body_chars: Vec<char> = body.chars().collect();
    match find_ignoring_case(&body, &query) {
        Some((start, end)) => {
            assert!(
                start < end && end <= body_chars.len(),
                "mark {start}..{end} outside {} characters",
                body_chars.len()
            );
            let marked = fold(&body_chars[start..end].iter().collect::<String>());
            assert!(marked.contains(&needle), "mark {start}..{end} ({marked:?}) does not hold {needle:?}");
            // No narrower mark would: it starts and ends on the match.
            let inner = |from: usize, to: usize| fold(&body_chars[from..to].iter().collect::<String>());
            assert!(end - start == 1 || !inner(start + 1, end).contains(&needle), "mark {start}..{end} starts early");
            assert!(end - start == 1 || !inner(start, end - 1).contains(&needle), "mark {start}..{end} ends late");
            assert!(matches, "marked {start}..{end} in {body:?} without a match for {query:?}");
        }
        None => {
            assert!(!matches || needle.is_empty(), "{body:?} matches {query:?} but no mark was found");
        }
    }
}

/// `phrase` is exactly one FTS5 string literal whose text is `query`.
fn assert_fts_string(phrase: &str, query: &str) {
    let inner = phrase
        .strip_prefix('"')
        .and_then(|p| p.strip_suffix('"'))
        .unwrap_or_else(|| panic!("{phrase:?} is not quoted"));
    let mut text = String::with_capacity(inner.len());
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        if c == '"' {
            assert_eq!(chars.next(), Some('"'), "{phrase:?} ends its string early (a lone quote inside)");
        }
        text.push(c);
    }
    assert_eq!(text, query, "{phrase:?} does not quote {query:?}");
}
