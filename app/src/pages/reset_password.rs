//! `/reset-password?token=…`: sets a new password through the one-time link
//! an admin made (valid for an hour), then goes to sign in.

use leptos::form::ActionForm;
use leptos::prelude::*;
use leptos_meta::Title;

use super::query::use_query_value;
use crate::api::ResetPassword;
use crate::components::form::{FieldErrors, FormErrors, aria_invalid, described_by, forget_earlier_result, last_error};

#[component]
pub fn ResetPasswordPage() -> impl IntoView {
    let action = ServerAction::<ResetPassword>::new();
    let token = use_query_value("token");
    forget_earlier_result(action.value());
    let error = last_error(action.value());

    view! {
        <Title text="Choose a new password" />
        <section class="card auth">
            <h1>"Choose a new password"</h1>
            <ActionForm action>
                <input type="hidden" name="token" value=token />
                <FieldErrors error field="token" />
                <label>
                    "New password"
                    <input type="password" name="password" aria-invalid=aria_invalid(error, "password") aria-describedby=described_by(error, "password") autocomplete="new-password" required minlength="8" maxlength="128" />
                </label>
                <FieldErrors error field="password" />
                <FormErrors error />
                <button type="submit">"Set password"</button>
            </ActionForm>
            <p><a href="/login">"Sign in"</a></p>
        </section>
    }
}
