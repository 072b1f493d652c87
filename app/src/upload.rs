//! Sending a file as a request's body, for the composer's attachments and
//! the profile picture: XHR rather than `fetch`, because only XHR reports
//! upload progress. The server answers refusals with `{"errors": [...]}`.

/// Why the server refused an upload: its first `errors` entry, or a
/// sentence for the status when the body has none (0 is a lost
/// connection).
pub fn refusal(status: u16, body: &str) -> String {
    serde_json::from_slice::<serde_json::Value>(body.as_bytes())
        .ok()
        .and_then(|v| v["errors"][0].as_str().map(str::to_owned))
        .unwrap_or_else(|| match status {
            0 => "The connection was lost; try again".to_owned(),
            413 => "The file is too large".to_owned(),
            _ => format!("The upload failed ({status})"),
        })
}

/// Sends `file` as the body of `method url`, with its own type (or
/// `application/octet-stream`) and `Accept: application/json`.
/// `progress` gets the fraction sent so far; `done` gets the status (0 when
/// the connection failed or the request was aborted), the body and the
/// seconds of any `Retry-After`, once. The request is returned, to abort;
/// errs, calling neither, when the browser cannot start it (its exception).
#[cfg(feature = "hydrate")]
pub fn send_file(
    method: &str,
    url: &str,
    file: &web_sys::File,
    progress: impl Fn(f64) + 'static,
    done: impl FnOnce(u16, String, Option<u32>) + 'static,
) -> Result<web_sys::XmlHttpRequest, wasm_bindgen::JsValue> {
    use std::cell::RefCell;
    use std::rc::Rc;
    use wasm_bindgen::JsCast;
    use wasm_bindgen::closure::Closure;

    let request = web_sys::XmlHttpRequest::new()?;
    request.open_with_async(method, url, true)?;
    let kind = file.type_();
    let _ =
        request.set_request_header("Content-Type", if kind.is_empty() { "application/octet-stream" } else { &kind });
    let _ = request.set_request_header("Accept", "application/json");

    type Handler = Closure<dyn FnMut(web_sys::ProgressEvent)>;
    // The handlers live until the request ends, then are dropped.
    let handlers: Rc<RefCell<Vec<Handler>>> = Rc::default();
    let on_progress = Handler::new(move |ev: web_sys::ProgressEvent| {
        if ev.length_computable() && ev.total() > 0.0 {
            progress((ev.loaded() / ev.total()).min(1.0));
        }
    });
    let on_end = {
        let (request, handlers) = (request.clone(), handlers.clone());
        let mut done = Some(done);
        Handler::new(move |_| {
            let status = request.status().unwrap_or(0);
            let body = request.response_text().ok().flatten().unwrap_or_default();
            let retry_after =
                request.get_response_header("Retry-After").ok().flatten().and_then(|s| s.trim().parse().ok());
            if let Some(done) = done.take() {
                done(status, body, retry_after);
            }
            // Dropped after this call returns (not during it).
            let handlers = handlers.clone();
            leptos::task::spawn_local(async move {
                handlers.borrow_mut().clear();
            });
        })
    };
    if let Ok(upload) = request.upload() {
        upload.set_onprogress(Some(on_progress.as_ref().unchecked_ref()));
    }
    request.set_onloadend(Some(on_end.as_ref().unchecked_ref()));
    handlers.borrow_mut().extend([on_progress, on_end]);
    let sent = request.send_with_opt_blob(Some(file));
    if sent.is_err() {
        handlers.borrow_mut().clear();
    }
    sent.map(|()| request)
}

#[cfg(test)]
mod tests {
    use super::refusal;

    #[test]
    fn a_refusal_is_the_servers_reason_or_a_sentence_for_the_status() {
        assert_eq!(
            refusal(413, r#"{"errors":["File is too large (maximum is 25 MB)"]}"#),
            "File is too large (maximum is 25 MB)"
        );
        assert_eq!(refusal(413, ""), "The file is too large");
        assert!(refusal(0, "").contains("connection"));
        assert!(refusal(500, "oops").contains("500"));
        assert!(refusal(422, r#"{"errors":[]}"#).contains("422"));
    }
}
