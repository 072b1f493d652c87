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
            let Ok(request) = web_sys::XmlHttpRequest::new() else { return };
            if request.open_with_async("PUT", "/users/me/avatar", true).is_err() {
                outcome.set(Some(Outcome::Refused("The upload could not start".into())));
                return;
            }
            let _ = request.set_request_header("Accept", "application/json");
            let answered = request.clone();
            let ended = wasm_bindgen::closure::Closure::once_into_js(move || {
                let status = answered.status().unwrap_or(0);
                let text = answered.response_text().ok().flatten().unwrap_or_default();
                if status == 200 {
                    outcome.set(Some(Outcome::Saved));
                    auth.me.refetch();
                } else {
                    let reason = serde_json::from_str::<serde_json::Value>(&text)
                        .ok()
                        .and_then(|v| v["errors"][0].as_str().map(str::to_owned))
                        .unwrap_or_else(|| format!("The upload failed ({status})"));
                    outcome.set(Some(Outcome::Refused(reason)));
                }
            });
            request.set_onloadend(Some(ended.unchecked_ref()));
            if request.send_with_opt_blob(Some(&file)).is_err() {
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
