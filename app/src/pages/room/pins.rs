//! The room header's "Pinned" panel: the room's pinned messages, the most
//! recently pinned first, each a link that scrolls to the message (or opens
//! the page around it when it is not loaded). Read from the server when the
//! panel opens, and again while it is open whenever a pin in the loaded
//! timeline changes (someone else's pin arrives as an edit of the message).

use hearth::model::Message;
use leptos::prelude::*;
use leptos::task::spawn_local;

use super::timeline::Timeline;
use crate::api::pinned_messages;
use crate::components::icons::PinIcon;
use crate::components::rich::PinnedLink;

#[component]
pub fn PinnedPanel(room_id: i64, timeline: Timeline) -> impl IntoView {
    let panel: NodeRef<leptos::html::Details> = NodeRef::new();
    let open = RwSignal::new(false);
    // `None` while the first read is on its way.
    let pins: RwSignal<Option<Result<Vec<Message>, String>>> = RwSignal::new(None);
    // The pins of the loaded messages, as one value that changes with any.
    let loaded_pins = Memo::new(move |_| {
        timeline.entries.with(|entries| {
            entries
                .iter()
                .filter_map(|x| x.message.pinned.as_ref().map(|p| format!("{}@{}", x.message.number, p.at)))
                .collect::<Vec<_>>()
                .join(",")
        })
    });
    Effect::new(move |_| {
        loaded_pins.track();
        if !open.get() {
            return;
        }
        spawn_local(async move {
            let read = pinned_messages(room_id).await.map_err(|e| e.to_string());
            let _ = pins.try_set(Some(read));
        });
    });
    // A chosen pin that is not loaded opens the room again around it: by
    // the time the panel's `toggle` comes, this window may be gone, so
    // nothing here assumes its signals still exist.
    let close = move || {
        if let Some(panel) = panel.try_get_untracked().flatten() {
            panel.set_open(false);
        }
    };
    view! {
        <details
            class="pins-menu"
            node_ref=panel
            on:toggle=move |_| {
                if let Some(panel) = panel.try_get_untracked().flatten() {
                    let _ = open.try_set(panel.open());
                }
            }
            on:keydown=move |ev| {
                if ev.key() == "Escape" {
                    close();
                }
            }
        >
            <summary title="Pinned messages"><PinIcon /><span class="pins-label">"Pinned"</span></summary>
            <div class="pins-popover">
                <h2>"Pinned messages"</h2>
                {move || match pins.get() {
                    None => view! { <p class="muted">"Loading…"</p> }.into_any(),
                    Some(Err(error)) => view! { <p class="form-error" role="alert">{error}</p> }.into_any(),
                    Some(Ok(list)) if list.is_empty() => view! {
                        <p class="muted">"Nothing is pinned yet. Pin a message from its actions to keep it here for everyone."</p>
                    }
                    .into_any(),
                    Some(Ok(list)) => view! {
                        // A chosen pin closes the panel, so the message is in view.
                        <ul class="pins-list" on:click=move |_| close()>
                            {list.into_iter().map(|message| {
                                let number = message.number;
                                view! { <li data-number=number><PinnedLink message room_id /></li> }
                            }).collect_view()}
                        </ul>
                    }
                    .into_any(),
                }}
            </div>
        </details>
    }
}
