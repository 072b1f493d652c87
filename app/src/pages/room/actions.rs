//! A message's actions: the toolbar that overlays the top-right corner of
//! its row (shown on hover and while focus is inside the row, so it never
//! moves the list; on a phone, where it would cover the row's time, it
//! opens under the row's text while the row has focus), and the inline
//! confirmation a delete waits for.
//!
//! The row decides what is offered and does the work; these components only
//! show the buttons and ask.

use leptos::prelude::*;

use hearth::model::Reaction;

use crate::components::rich::ReactionPicker;

/// The rest of a button's name, for screen readers only. A name from the
/// content rather than `aria-label`, so that "Edit message" names the
/// button without also labelling it like the editor's field.
#[component]
fn Unseen(text: &'static str) -> impl IntoView {
    view! { <span class="visually-hidden">{text}</span> }
}

/// What the toolbar's reaction picker works on.
#[derive(Clone, Copy)]
pub struct Reacting {
    pub room_id: i64,
    pub number: i64,
    /// Called with the message's reactions after my toggle.
    pub changed: Callback<Vec<Reaction>>,
    /// The message whose picker is open (see `RoomContext::picking`).
    pub open_for: RwSignal<Option<i64>>,
}

/// The toolbar. Each button names what it does to the message ("Edit
/// message"), for screen readers and as its hover text. Edit shows while
/// `editable` says so (the edit window); Pin (or Unpin), Mark unread and
/// Save (or Unsave) come after Delete, so the keys that reach Edit and
/// Delete stay as they were; a button left `None` is not offered.
#[component]
pub fn Toolbar(
    reply: Callback<()>,
    react: Option<Reacting>,
    edit: Option<(Signal<bool>, Callback<()>)>,
    delete: Option<Callback<()>>,
    /// Whether the message is pinned, and what pins or unpins it.
    pin: Option<(bool, Callback<()>)>,
    /// "Mark unread" from this message (someone else's).
    unread: Option<Callback<()>>,
    /// Whether I saved the message for later, and what saves or unsaves it.
    save: Option<(Signal<bool>, Callback<()>)>,
) -> impl IntoView {
    // Focus moving on out of the toolbar (Tab past it) closes its picker,
    // as a press elsewhere does.
    let picker = react.map(|r| (r.open_for, r.number));
    let left = move |ev: leptos::ev::FocusEvent| {
        #[cfg(feature = "hydrate")]
        if let Some((open_for, number)) = picker {
            use wasm_bindgen::JsCast;
            let to = ev.related_target().and_then(|t| t.dyn_into::<web_sys::Node>().ok());
            let toolbar = ev.current_target().and_then(|t| t.dyn_into::<web_sys::Node>().ok());
            if let (Some(to), Some(toolbar)) = (to, toolbar)
                && !toolbar.contains(Some(&to))
                && open_for.get_untracked() == Some(number)
            {
                open_for.set(None);
            }
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = (ev, picker);
    };
    view! {
        <div class="actions" role="group" aria-label="Message actions" on:focusout=left>
            <button type="button" class="reply" title="Reply to this message" on:click=move |_| reply.run(())>
                "Reply"<Unseen text=" to this message" />
            </button>
            {react.map(|Reacting { room_id, number, changed, open_for }| view! { <ReactionPicker room_id number changed open_for /> })}
            {edit.map(|(editable, start)| view! {
                <Show when=move || editable.get()>
                    <button type="button" title="Edit message" on:click=move |_| start.run(())>
                        "Edit"<Unseen text=" message" />
                    </button>
                </Show>
            })}
            {delete.map(|ask| view! {
                <button type="button" class="danger" title="Delete message" on:click=move |_| ask.run(())>
                    "Delete"<Unseen text=" message" />
                </button>
            })}
            // Named for what it does now ("Unpin message" once pinned), so
            // no pressed state besides.
            {pin.map(|(pinned, flip)| {
                let (label, hint) = if pinned {
                    ("Unpin", "Unpin this message from the conversation")
                } else {
                    ("Pin", "Pin this message to the conversation")
                };
                view! {
                    <button type="button" class="pin" title=hint on:click=move |_| flip.run(())>
                        {label}<Unseen text=" message" />
                    </button>
                }
            })}
            {unread.map(|mark| view! {
                <button type="button" class="mark-unread" title="Mark unread from this message on" on:click=move |_| mark.run(())>
                    "Mark unread"
                </button>
            })}
            // For me alone, and named for what it does now, as Pin is.
            {save.map(|(saved, flip)| view! {
                <button
                    type="button"
                    class="save"
                    title=move || if saved.get() { "Remove from your saved messages" } else { "Save this message for later" }
                    on:click=move |_| flip.run(())
                >
                    {move || if saved.get() { "Unsave" } else { "Save" }}<Unseen text=" message" />
                </button>
            })}
        </div>
    }
}

/// "Delete this message?" in the row, with Delete and Cancel. The confirm
/// button takes focus when it opens, so Enter deletes and Esc (anywhere in
/// it) or Cancel keeps the message.
#[component]
pub fn ConfirmDelete(number: i64, confirm: Callback<()>, cancel: Callback<()>) -> impl IntoView {
    let button: NodeRef<leptos::html::Button> = NodeRef::new();
    crate::browser::focus_when_shown(button, None);
    let (question_id, labelled_by) = (format!("confirm-delete-{number}"), format!("confirm-delete-{number}"));
    view! {
        <div
            class="confirm-delete"
            role="group"
            aria-labelledby=labelled_by
            on:keydown=move |ev| {
                if ev.key() == "Escape" {
                    ev.prevent_default();
                    ev.stop_propagation();
                    cancel.run(());
                }
            }
        >
            <p id=question_id>"Delete this message?"</p>
            <button type="button" class="danger" node_ref=button on:click=move |_| confirm.run(())>"Delete"</button>
            <button type="button" class="link" on:click=move |_| cancel.run(())>"Cancel"</button>
        </div>
    }
}
