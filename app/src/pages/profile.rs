//! `/profile`: edit your username, name and avatar URL.

use leptos::form::ActionForm;
use leptos::prelude::*;
use leptos_meta::Title;

use super::signed_in;
use crate::auth::use_auth;
use crate::components::form::{FieldErrors, FormErrors, last_error};

#[component]
pub fn ProfilePage() -> impl IntoView {
    let auth = use_auth();
    let error = last_error(auth.update_profile.value());
    let saved = move || matches!(auth.update_profile.value().get(), Some(Ok(_)));
    let page = signed_in(move |me| {
        view! {
            <section class="card">
                <h1>"Your profile"</h1>
                <p class="muted">"Signed in with " {me.email.clone()}</p>
                <ActionForm action=auth.update_profile>
                    <label>"Username" <input name="username" value=me.username.clone() required /></label>
                    <FieldErrors error field="username" />
                    <label>"Name" <input name="name" value=me.name.clone().unwrap_or_default() /></label>
                    <FieldErrors error field="name" />
                    <label>"Avatar URL" <input name="avatar_url" type="url" value=me.avatar_url.clone().unwrap_or_default() /></label>
                    <FieldErrors error field="avatar_url" />
                    <FormErrors error />
                    <button type="submit">"Save"</button>
                    <Show when=saved><p class="saved" role="status">"Profile saved"</p></Show>
                </ActionForm>
            </section>
        }
    });
    view! {
        <Title text="Your profile" />
        {page}
    }
}
