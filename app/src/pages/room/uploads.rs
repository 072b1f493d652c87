//! Files for the next message: chosen with the button, dropped on the chat
//! window or pasted into the composer. Each is uploaded on its own
//! (`POST /conversations/:id/attachments`, the file as the body), two at a
//! time (the server receives no more of one person's at once), with a
//! progress bar; the message is sent with those that finished. A file the
//! server refuses (too large, an image it cannot read) stays in the list
//! with the server's reason until it is removed.
//!
//! The upload uses `XMLHttpRequest`, the one browser API that reports upload
//! progress (`fetch` does not). The server's render shows the (empty) list;
//! the uploading itself is the browser's, so some items are unused there.
#![cfg_attr(not(feature = "hydrate"), allow(dead_code))]

use hearth::model::Attachment;
use leptos::prelude::*;

#[cfg(feature = "hydrate")]
thread_local! {
    /// The files waiting for their turn to upload, by room and key: a
    /// `File` is the browser's and stays on its one thread, out of the
    /// reactive store (which the server's render shares between threads).
    static WAITING_FILES: std::cell::RefCell<std::collections::HashMap<(i64, u64), web_sys::File>> =
        std::cell::RefCell::default();
    /// The requests of the files on their way, to abort when one is removed.
    static SENDING_REQUESTS: std::cell::RefCell<std::collections::HashMap<(i64, u64), web_sys::XmlHttpRequest>> =
        std::cell::RefCell::default();
}

/// How long a file refused for too many uploads at once (429, the server's
/// limit is per person, across rooms and tabs) waits before it is sent
/// again, when the server does not say: seconds, and the most it waits.
const RETRY_DEFAULT_S: u32 = 2;
const RETRY_MAX_S: u32 = 30;

/// Files a message may carry (the server's limit too).
pub const MAX_FILES: usize = 10;
/// Files on their way at once; the others wait their turn. The server
/// receives at most two bodies of one person at a time
/// (`hearth::attachments::RECEIVING_PER_USER`) and refuses a third.
pub const AT_ONCE: usize = 2;

#[derive(Clone, Debug, PartialEq)]
pub enum UploadState {
    /// Sent so far, 0 to 1.
    Uploading(f64),
    Done(Attachment),
    Failed(String),
}

impl UploadState {
    /// Changes whenever the row shows something else (not `Debug`: the WASM
    /// is built without its formatting code).
    pub fn key(&self) -> String {
        match self {
            Self::Uploading(done) => format!("u{done}"),
            Self::Done(file) => format!("d{}", file.id),
            Self::Failed(why) => format!("f{why}"),
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Upload {
    pub key: u64,
    pub name: String,
    pub state: UploadState,
}

/// The files of the message being written.
#[derive(Clone, Copy)]
pub struct Uploads {
    room_id: i64,
    pub list: RwSignal<Vec<Upload>>,
    next: StoredValue<u64>,
    /// Files waiting for their turn, in the order they were chosen: their
    /// keys and names (the files themselves are in [`WAITING_FILES`]).
    waiting: StoredValue<Vec<(u64, String)>>,
    /// The keys of the files on their way.
    sending: StoredValue<Vec<u64>>,
}

impl Uploads {
    pub fn new(room_id: i64) -> Self {
        Self {
            room_id,
            list: RwSignal::new(Vec::new()),
            next: StoredValue::new(0),
            waiting: StoredValue::new(Vec::new()),
            sending: StoredValue::new(Vec::new()),
        }
    }

    /// Whether any file is still on its way (the message waits for it).
    pub fn busy(&self) -> bool {
        self.list.with(|list| list.iter().any(|u| matches!(u.state, UploadState::Uploading(_))))
    }

    /// [`Self::busy`], untracked.
    pub fn busy_untracked(&self) -> bool {
        self.list.with_untracked(|list| list.iter().any(|u| matches!(u.state, UploadState::Uploading(_))))
    }

    /// Whether some file could not be uploaded (untracked).
    pub fn any_failed(&self) -> bool {
        self.list.with_untracked(|list| list.iter().any(|u| matches!(u.state, UploadState::Failed(_))))
    }

    /// Whether some file is ready to go.
    pub fn any_done(&self) -> bool {
        self.list.with_untracked(|list| list.iter().any(|u| matches!(u.state, UploadState::Done(_))))
    }

    /// The uploaded files, taken out of the list (for a send).
    pub fn take_done(&self) -> Vec<Attachment> {
        let mut done = Vec::new();
        self.list.update(|list| {
            list.retain(|upload| match &upload.state {
                UploadState::Done(file) => {
                    done.push(file.clone());
                    false
                }
                _ => true,
            })
        });
        done
    }

    /// Takes a file out of the message; one on its way is stopped (its
    /// request aborted), which frees its turn for the next.
    pub fn remove(&self, key: u64) {
        self.list.update(|list| list.retain(|upload| upload.key != key));
        self.waiting.update_value(|waiting| waiting.retain(|(k, _)| *k != key));
        #[cfg(feature = "hydrate")]
        {
            WAITING_FILES.with_borrow_mut(|files| files.remove(&(self.room_id, key)));
            let sending = SENDING_REQUESTS.with_borrow_mut(|requests| requests.remove(&(self.room_id, key)));
            if let Some(request) = sending {
                // Its end (status 0) frees the turn.
                let _ = request.abort();
            }
        }
    }

    fn set(&self, key: u64, state: UploadState) {
        // Progress may come after the page is gone (signed out, say): the
        // list with it, and this is nobody's to show.
        let _ = self.list.try_update(|list| {
            if let Some(upload) = list.iter_mut().find(|upload| upload.key == key) {
                upload.state = state;
            }
        });
    }

    /// Starts uploading `files` (beyond [`MAX_FILES`] in the list, the rest
    /// are refused at once).
    #[cfg(feature = "hydrate")]
    pub fn start(&self, files: Vec<web_sys::File>) {
        for file in files {
            let key = self.next.get_value();
            self.next.set_value(key + 1);
            let name = match file.name() {
                name if name.is_empty() => "pasted".to_owned(),
                name => name,
            };
            let full = self.list.with_untracked(Vec::len) >= MAX_FILES;
            let state = if full {
                UploadState::Failed(format!("A message can carry at most {MAX_FILES} files"))
            } else {
                UploadState::Uploading(0.0)
            };
            self.list.update(|list| list.push(Upload { key, name: name.clone(), state }));
            if !full {
                WAITING_FILES.with_borrow_mut(|files| files.insert((self.room_id, key), file));
                self.waiting.update_value(|waiting| waiting.push((key, name)));
            }
        }
        self.next_turn();
    }

    /// Starts waiting files while fewer than [`AT_ONCE`] are on their way.
    #[cfg(feature = "hydrate")]
    fn next_turn(&self) {
        loop {
            // Gone with its room's page: nothing more to start.
            let Some(busy) = self.sending.try_with_value(Vec::len) else { return };
            if busy >= AT_ONCE {
                return;
            }
            let next = self.waiting.try_update_value(|waiting| (!waiting.is_empty()).then(|| waiting.remove(0)));
            let Some(Some((key, name))) = next else { return };
            let Some(file) = WAITING_FILES.with_borrow_mut(|files| files.remove(&(self.room_id, key))) else {
                continue;
            };
            self.sending.update_value(|sending| sending.push(key));
            self.send(key, &name, file);
        }
    }

    #[cfg(feature = "hydrate")]
    fn send(&self, key: u64, name: &str, file: web_sys::File) {
        let this = *self;
        let url = format!("/conversations/{}/attachments?name={}", self.room_id, js_sys::encode_uri_component(name));
        let (again, again_name) = (file.clone(), name.to_owned());
        let sent = crate::upload::send_file(
            "POST",
            &url,
            &file,
            move |done| this.set(key, UploadState::Uploading(done)),
            move |status, body, retry_after| {
                SENDING_REQUESTS.with_borrow_mut(|requests| requests.remove(&(this.room_id, key)));
                if status == 429 {
                    this.retry_later(key, again_name, again, retry_after);
                } else {
                    this.finish(key, outcome(status, &body));
                }
            },
        );
        match sent {
            Ok(request) => {
                SENDING_REQUESTS.with_borrow_mut(|requests| requests.insert((self.room_id, key), request));
            }
            Err(_) => this.finish(key, UploadState::Failed("The upload could not start".into())),
        }
    }

    /// An upload ended with `state`: the next waiting file's turn.
    #[cfg(feature = "hydrate")]
    fn finish(&self, key: u64, state: UploadState) {
        self.set(key, state);
        if self.sending.try_update_value(|sending| sending.retain(|k| *k != key)).is_some() {
            self.next_turn();
        }
    }

    /// Refused for now (429: my other uploads, in another room or tab, hold
    /// the server's turns): its turn is given up, and after the server's
    /// `Retry-After` it goes first in line again, unless removed meanwhile.
    #[cfg(feature = "hydrate")]
    fn retry_later(&self, key: u64, name: String, file: web_sys::File, retry_after: Option<u32>) {
        self.set(key, UploadState::Uploading(0.0));
        if self.sending.try_update_value(|sending| sending.retain(|k| *k != key)).is_none() {
            return;
        }
        let this = *self;
        let wait = retry_after.unwrap_or(RETRY_DEFAULT_S).clamp(1, RETRY_MAX_S);
        set_timeout(
            move || {
                let listed = this.list.try_with_untracked(|list| list.iter().any(|u| u.key == key)).unwrap_or(false);
                if !listed {
                    return;
                }
                WAITING_FILES.with_borrow_mut(|files| files.insert((this.room_id, key), file));
                this.waiting.update_value(|waiting| waiting.insert(0, (key, name)));
                this.next_turn();
            },
            std::time::Duration::from_secs(u64::from(wait)),
        );
    }
}

/// What the server's answer to an upload means.
pub fn outcome(status: u16, body: &str) -> UploadState {
    if status == 201
        && let Ok(file) = serde_json::from_slice::<Attachment>(body.as_bytes())
    {
        return UploadState::Done(file);
    }
    UploadState::Failed(crate::upload::refusal(status, body))
}

/// The files of a paste or a drop.
#[cfg(feature = "hydrate")]
pub fn files_of(transfer: Option<web_sys::DataTransfer>) -> Vec<web_sys::File> {
    let Some(list) = transfer.and_then(|t| t.files()) else { return Vec::new() };
    (0..list.length()).filter_map(|i| list.get(i)).collect()
}

/// The list under the composer: each file with its progress, or why it
/// failed, and a button that removes it.
#[component]
pub fn UploadList(uploads: Uploads) -> impl IntoView {
    view! {
        <ul class="uploads" aria-label="Files to send" hidden=move || uploads.list.with(Vec::is_empty)>
            <For each=move || uploads.list.get() key=|u| (u.key, u.state.key()) let:upload>
                <li class="upload" class:failed=matches!(upload.state, UploadState::Failed(_))>
                    <span class="upload-name">{upload.name.clone()}</span>
                    {match upload.state.clone() {
                        UploadState::Uploading(done) => view! {
                            <progress max="1" value=done aria-label=format!("Uploading {}", upload.name)></progress>
                        }.into_any(),
                        UploadState::Done(file) => view! { <span class="muted">{file.size_label()}</span> }.into_any(),
                        UploadState::Failed(reason) => view! { <span class="error" role="alert">{reason}</span> }.into_any(),
                    }}
                    <button
                        type="button"
                        class="link"
                        aria-label=format!("Remove {}", upload.name)
                        on:click=move |_| {
                            uploads.remove(upload.key);
                            // The button goes with its file: focus goes back
                            // to the text, not to the page's start.
                            super::browser::focus_composer();
                        }
                    >"×"</button>
                </li>
            </For>
        </ul>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_servers_answer_becomes_a_file_or_its_reason() {
        let file = r#"{"id":3,"name":"a.png","content_type":"image/png","size":10,"url":"/attachments/3/a.png"}"#;
        assert!(matches!(outcome(201, file), UploadState::Done(f) if f.id == 3));
        assert_eq!(
            outcome(413, r#"{"errors":["File is too large (maximum is 25 MB)"]}"#),
            UploadState::Failed("File is too large (maximum is 25 MB)".into())
        );
        assert_eq!(outcome(413, ""), UploadState::Failed("The file is too large".into()));
        assert!(matches!(outcome(0, ""), UploadState::Failed(reason) if reason.contains("connection")));
        assert!(matches!(outcome(500, "oops"), UploadState::Failed(reason) if reason.contains("500")));
    }
}
