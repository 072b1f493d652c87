//! "Upload a picture" on the profile page: the chosen image goes to
//! `PUT /users/me/avatar` (the server crops it to a square and serves it to
//! signed-in users), then the profile is read again so every avatar on the
//! page shows it. A URL can still be typed in the profile form instead.

use hearth::model::Profile;
use leptos::prelude::*;

/// What the last upload came to (set in the browser only). The page keeps
/// it, since the profile read again after an upload draws the form anew.
#[derive(Clone, Debug, PartialEq)]
#[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
pub enum Outcome {
    Sending,
    Saved,
    Refused(String),
}

#[component]
pub fn AvatarUpload(me: Profile, outcome: RwSignal<Option<Outcome>>) -> impl IntoView {
    let auth = crate::auth::use_auth();
    let on_change = move |ev: leptos::ev::Event| {
        #[cfg(feature = "hydrate")]
        {
            use wasm_bindgen::JsCast;
            let Some(input) = ev.target().and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok()) else {
                return;
            };
            let Some(file) = input.files().and_then(|list| list.get(0)) else { return };
            input.set_value("");
            outcome.set(Some(Outcome::Sending));
            let sent = crate::upload::send_file(
                "PUT",
                "/users/me/avatar",
                &file,
                |_| (),
                move |status, body, _| {
                    if status == 200 {
                        outcome.set(Some(Outcome::Saved));
                        auth.me.refetch();
                    } else {
                        outcome.set(Some(Outcome::Refused(crate::upload::refusal(status, &body))));
                    }
                },
            );
            if sent.is_err() {
                outcome.set(Some(Outcome::Refused("The upload could not start".into())));
            }
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = (ev, auth);
    };
    let name = me.name.clone().unwrap_or_else(|| me.username.clone());
    view! {
        <div class="avatar-upload">
            <super::avatar::Avatar id=me.id name url=me.avatar_url.clone().unwrap_or_default() />
            <label class="button-like">
                "Upload a picture"
                <input
                    type="file"
                    accept="image/png,image/jpeg,image/gif,image/webp"
                    class="visually-hidden"
                    on:change=on_change
                />
            </label>
            <span role="status">
                {move || match outcome.get() {
                    Some(Outcome::Sending) => view! { <span class="muted">"Uploading…"</span> }.into_any(),
                    Some(Outcome::Saved) => view! { <span class="saved">"Picture saved"</span> }.into_any(),
                    Some(Outcome::Refused(reason)) => view! { <span class="field-error">{reason}</span> }.into_any(),
                    None => ().into_any(),
                }}
            </span>
        </div>
    }
}
