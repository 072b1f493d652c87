//! `/login`: a progressive form (it posts without JavaScript too), a live
//! password hint and, in demo mode, a picker that fills in a demo account.

use leptos::form::ActionForm;
use leptos::prelude::*;
use leptos_meta::Title;

use hearth::model::SignUpPolicy;

use super::query::use_query_value;
use crate::api::{demo_accounts, reset_by_mail, who_may_sign_up};
use crate::auth::use_auth;
use crate::components::form::{FormErrors, forget_earlier_result, keep_typed_text, last_error};

#[component]
pub fn LoginPage() -> impl IntoView {
    let auth = use_auth();
    let next = use_query_value("next");
    forget_earlier_result(auth.login.value());
    let error = last_error(auth.login.value());
    // A refused sign-in is about both fields: each says so to a screen
    // reader, with the message as its description.
    let refused = move || error.with(Option::is_some).then_some("true");
    let login = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    keep_typed_text(login, "login-login");
    keep_typed_text(password, "login-password");
    let demo = crate::codec::load(|| (), |_| demo_accounts());
    let by_mail = crate::codec::load(|| (), |_| reset_by_mail());
    let policy = crate::codec::load(|| (), |_| who_may_sign_up(None));

    view! {
        <Title text="Sign in" />
        <section class="card auth">
            <h1>"Sign in to Hearth"</h1>
            <ActionForm action=auth.login>
                <input type="hidden" name="next" prop:value=next value=next />
                <label>
                    "Email or username"
                    <input
                        id="login-login"
                        name="login"
                        autocomplete="username"
                        autofocus
                        required
                        aria-invalid=refused
                        aria-describedby="login-errors"
                        bind:value=login
                    />
                </label>
                <label>
                    "Password"
                    <input
                        id="login-password"
                        type="password"
                        name="password"
                        autocomplete="current-password"
                        required
                        aria-invalid=refused
                        aria-describedby="login-errors"
                        bind:value=password
                    />
                </label>
                <PasswordHint password />
                <div id="login-errors">
                    <FormErrors error />
                </div>
                <button type="submit">"Sign in"</button>
            </ActionForm>
            // Sign-up offered as this Hearth allows it: a link while it is
            // open, a pointer to an admin when it is by invitation, nothing
            // when it is closed.
            <Suspense fallback=|| ()>
                {move || Suspend::new(async move {
                    match policy.await.ok().map(|(policy, _)| policy) {
                        Some(SignUpPolicy::Open) => Some(view! {
                            <p class="sign-up-offer">"New here? " <a href="/register">"Create an account"</a></p>
                        }.into_any()),
                        Some(SignUpPolicy::Invite) => Some(view! {
                            <p class="sign-up-offer">"New here? Sign-up is by invitation: ask an admin of this Hearth for a link."</p>
                        }.into_any()),
                        _ => None,
                    }
                })}
            </Suspense>
            <Suspense fallback=|| ()>
                {move || Suspend::new(async move {
                    by_mail.await.unwrap_or(false).then(|| view! {
                        <p><a href="/forgot-password">"Forgot password?"</a></p>
                    })
                })}
            </Suspense>
            <Suspense fallback=|| ()>
                {move || Suspend::new(async move {
                    let accounts = demo.await.unwrap_or_default();
                    (!accounts.is_empty()).then(|| view! {
                        <div class="demo-picker">
                            <p>"Demo mode: sign in as"</p>
                            {accounts.into_iter().map(|account| {
                                let label = account.name.clone();
                                view! {
                                    <button type="button" class="demo-account" on:click=move |_| {
                                        login.set(account.email.clone());
                                        password.set(account.password.clone());
                                    }>{label}</button>
                                }
                            }).collect_view()}
                        </div>
                    })
                })}
            </Suspense>
        </section>
    }
}

/// Tells the user, as they type, that a password this short cannot be right.
#[component]
pub fn PasswordHint(password: RwSignal<String>) -> impl IntoView {
    let min = 8;
    let short = move || {
        let len = password.with(|p| p.chars().count());
        len > 0 && len < min
    };
    view! {
        <Show when=short>
            <p class="hint password-hint">{move || format!("Passwords have at least {min} characters ({} so far)", password.with(|p| p.chars().count()))}</p>
        </Show>
    }
}
