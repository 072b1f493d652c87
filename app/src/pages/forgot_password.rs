//! `/forgot-password`: asks for an address and mails it a one-time reset
//! link (when the server has SMTP). The answer is the same whether or not an
//! account has the address.

use leptos::form::ActionForm;
use leptos::prelude::*;
use leptos_meta::Title;

use crate::api::{ForgotPassword, reset_by_mail};
use crate::components::form::{FieldErrors, FormErrors, aria_invalid, described_by, forget_earlier_result, last_error};

#[component]
pub fn ForgotPasswordPage() -> impl IntoView {
    let action = ServerAction::<ForgotPassword>::new();
    forget_earlier_result(action.value());
    let error = last_error(action.value());
    let sent = move || matches!(action.value().get(), Some(Ok(())));
    // A Hearth with no SMTP mails nothing: the page says whom to ask, and
    // its form goes (style/main.css).
    let by_mail = crate::codec::load(|| (), |_| reset_by_mail());

    view! {
        <Title text="Forgot password" />
        <section class="card auth">
            <h1>"Forgot your password?"</h1>
            <p class="muted">"Type your account's email address: we mail it a link to choose a new password."</p>
            <Suspense fallback=|| ()>
                {move || Suspend::new(async move {
                    (!by_mail.await.unwrap_or(true)).then(|| view! {
                        <p class="no-mail-notice" role="status">
                            "This Hearth sends no email, so it cannot mail you a link. Ask one of its admins for a password reset link."
                        </p>
                    })
                })}
            </Suspense>
            <ActionForm action>
                <label>"Email" <input type="text" inputmode="email" autocapitalize="off" spellcheck="false" name="email" aria-invalid=aria_invalid(error, "email") aria-describedby=described_by(error, "email") autocomplete="email" required /></label>
                <FieldErrors error field="email" />
                <FormErrors error />
                <button type="submit">"Send the link"</button>
                <Show when=sent>
                    <p class="saved" role="status">
                        "If an account has this address, a link to reset its password is on its way. It works once, within an hour."
                    </p>
                </Show>
            </ActionForm>
            <p><a href="/login">"Sign in"</a></p>
        </section>
    }
}
