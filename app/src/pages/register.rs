//! `/register`: creates an account and signs it in.

use leptos::form::ActionForm;
use leptos::prelude::*;
use leptos_meta::Title;

use hearth::model::SignUpPolicy;

use super::query::use_query_value;
use crate::api::who_may_sign_up;
use crate::auth::use_auth;
use crate::components::form::{
    FieldErrors, FormErrors, aria_invalid, described_by, forget_earlier_result, has_errors, keep_typed_text, last_error,
};
use crate::pages::login::PasswordHint;

#[component]
pub fn RegisterPage() -> impl IntoView {
    let auth = use_auth();
    let next = use_query_value("next");
    // An invitation link (`/register?invitation=…`) carries its token here.
    let invitation = use_query_value("invitation");
    forget_earlier_result(auth.register.value());
    let error = last_error(auth.register.value());
    let password = RwSignal::new(String::new());
    keep_typed_text(password, "register-password");

    let policy = crate::codec::load(invitation, |token| who_may_sign_up(Some(token)));
    // Without a way in, the page says so at once instead of a form that can
    // only be refused: sign-up closed (an invitation does not open it), by
    // invitation without one, or with one that is no longer good.
    let closed_to_me = move |policy: Option<(SignUpPolicy, Option<bool>)>| match policy {
        Some((SignUpPolicy::Invite, _)) if invitation().trim().is_empty() => {
            Some("Sign-up here is by invitation only: ask an admin of this Hearth for an invitation link.")
        }
        Some((SignUpPolicy::Invite, Some(false))) => {
            Some("This invitation link is invalid, expired or used up: ask an admin of this Hearth for a new one.")
        }
        Some((SignUpPolicy::Closed, _)) => Some("Sign-up is closed on this Hearth."),
        _ => None,
    };
    view! {
        <Title text="Create an account" />
        <section class="card auth">
            <h1>"Create your Hearth account"</h1>
            // The notice hides the form (style/main.css), which stays outside
            // the suspense: one view of it in the bundle, not a second one
            // for an async branch.
            <Suspense fallback=|| ()>
                {move || Suspend::new(async move {
                    closed_to_me(policy.await.ok()).map(|text| view! { <p class="sign-up-notice" role="note">{text}</p> })
                })}
            </Suspense>
            <ActionForm action=auth.register>
                <input type="hidden" name="next" value=next />
                <input type="hidden" name="invitation" value=invitation />
                <FieldErrors error field="invitation" />
                <label>"Email" <input type="text" inputmode="email" autocapitalize="off" spellcheck="false" name="email" aria-invalid=aria_invalid(error, "email") aria-describedby=described_by(error, "email") autocomplete="email" required /></label>
                <FieldErrors error field="email" />
                <label>"Username" <input name="username" aria-invalid=aria_invalid(error, "username") aria-describedby=described_by(error, "username") autocomplete="username" required minlength="3" maxlength="30" /></label>
                <FieldErrors error field="username" />
                <label>"Name " <small>"(optional)"</small> <input name="name" aria-invalid=aria_invalid(error, "name") aria-describedby=described_by(error, "name") autocomplete="name" /></label>
                <FieldErrors error field="name" />
                <label>
                    "Password"
                    <input id="register-password" type="password" name="password" aria-invalid=aria_invalid(error, "password") aria-describedby=described_by(error, "password") autocomplete="new-password" required minlength="8" maxlength="128" bind:value=password />
                </label>
                // The server's word on the password, once it has one, says
                // what the hint would: one of them at a time.
                <Show when=move || !has_errors(error, "password")>
                    <PasswordHint password />
                </Show>
                <FieldErrors error field="password" />
                <FormErrors error />
                <button type="submit">"Create account"</button>
            </ActionForm>
            <p>"Already have an account? " <a href="/login">"Sign in"</a></p>
        </section>
    }
}
