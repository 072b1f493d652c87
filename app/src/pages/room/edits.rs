//! "(edited)" on a message opens what it said before: its earlier texts,
//! the oldest first, each with when it was written, read from the server
//! each time the list opens (`message_edits`), so it follows later edits.
//! Esc or a press elsewhere closes it.

use hearth::model::MessageVersion;
use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::api::message_edits;
use crate::components::stamp::Stamp;

#[component]
pub fn EditHistory(room_id: i64, number: i64) -> impl IntoView {
    let panel: NodeRef<leptos::html::Details> = NodeRef::new();
    let popover: NodeRef<leptos::html::Div> = NodeRef::new();
    // `None` while a read is on its way.
    let versions: RwSignal<Option<Result<Vec<MessageVersion>, String>>> = RwSignal::new(None);
    // By the time a `toggle` comes, the row may have been drawn again.
    let toggled = move |_| {
        let Some(panel) = panel.try_get_untracked().flatten() else { return };
        if !panel.open() {
            return;
        }
        let _ = versions.try_set(None);
        spawn_local(async move {
            let read = message_edits(room_id, number).await.map_err(|e| e.to_string());
            if versions.try_set(Some(read)).is_none() {
                // Shown whole: the history scrolls to it (the newest
                // message's list would open under the history's edge).
                #[cfg(feature = "hydrate")]
                request_animation_frame(move || {
                    if let Some(popover) = popover.try_get_untracked().flatten() {
                        crate::browser::reveal(&popover);
                    }
                });
            }
        });
    };
    let escape = move |ev: leptos::ev::KeyboardEvent| {
        if ev.key() == "Escape"
            && let Some(panel) = panel.try_get_untracked().flatten()
            && panel.open()
        {
            // Esc closes the list, not the room's editor or reply.
            ev.stop_propagation();
            panel.set_open(false);
        }
    };
    // A press anywhere else closes it, as a menu closes.
    #[cfg(feature = "hydrate")]
    crate::browser::on_each_press(move |pressed| {
        if let Some(panel) = panel.try_get_untracked().flatten()
            && panel.open()
            && !panel.contains(pressed.map(AsRef::as_ref))
        {
            panel.set_open(false);
        }
    });
    view! {
        <details class="edit-history" node_ref=panel on:toggle=toggled on:keydown=escape>
            <summary class="edited muted" title="Show what it said before">"(edited)"</summary>
            <div class="edits-popover" node_ref=popover>
                <h2>"Before its edits"</h2>
                {move || match versions.get() {
                    None => view! { <p class="muted">"Loading…"</p> }.into_any(),
                    Some(Err(error)) => view! { <p class="form-error" role="alert">{error}</p> }.into_any(),
                    // Edited before Hearth kept earlier texts.
                    Some(Ok(list)) if list.is_empty() => view! {
                        <p class="muted">"What it said before was not kept."</p>
                    }
                    .into_any(),
                    Some(Ok(list)) => view! {
                        <ol class="edits-list">
                            {list.into_iter().map(|version| view! {
                                <li>
                                    <Stamp stamp=version.written_at with_day=true />
                                    <div class="version-body markdown" dir="auto" inner_html=version.html></div>
                                </li>
                            }).collect_view()}
                        </ol>
                    }
                    .into_any(),
                }}
            </div>
        </details>
    }
}
