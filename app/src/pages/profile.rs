//! `/profile`: edit your username, name and avatar (a URL, or a picture
//! uploaded); change your email
//! (with your password); turn desktop notifications on or off; see your
//! signed-in sessions and sign any of them out.

use leptos::form::ActionForm;
use leptos::prelude::*;
use leptos_meta::Title;

use super::signed_in;
use crate::api::{ChangeEmail, ChangePassword, EndSession, my_sessions};
use crate::auth::use_auth;
use crate::components::avatar_upload::AvatarUpload;
use crate::components::desktop_notifications::DesktopNotifications;
use crate::components::form::{FieldErrors, FormErrors, aria_invalid, described_by, last_error};
use crate::components::stamp::Stamp;

#[component]
pub fn ProfilePage() -> impl IntoView {
    let auth = use_auth();
    let error = last_error(auth.update_profile.value());
    let saved = move || matches!(auth.update_profile.value().get(), Some(Ok(_)));
    let change_email = ServerAction::<ChangeEmail>::new();
    let email_error = last_error(change_email.value());
    let email_saved = move || matches!(change_email.value().get(), Some(Ok(_)));
    let avatar_outcome = RwSignal::new(None);
    // A changed email shows at once ("Signed in with …"); the fields are
    // drawn again from the profile, each showing what is saved (`prop:value`:
    // an upload's picture replaces a URL typed before it, which a later Save
    // would otherwise send back).
    Effect::new(move |_| {
        if matches!(change_email.value().get(), Some(Ok(_))) {
            auth.me.refetch();
        }
    });
    // One answer at a time at the top of the page: an upload that starts
    // hides the form's last "Profile saved" (or its errors), and saving the
    // form hides the upload's last word.
    Effect::new(move |_| {
        if matches!(avatar_outcome.get(), Some(crate::components::avatar_upload::Outcome::Sending)) {
            auth.update_profile.value().set(None);
        }
    });
    Effect::new(move |_| {
        if auth.update_profile.pending().get() {
            avatar_outcome.set(None);
        }
    });
    let page = signed_in(move |me| {
        view! {
            <section class="card">
                <h1>"Your profile"</h1>
                <p class="muted">"Signed in with " {me.email.clone()}</p>
                <AvatarUpload me=me.clone() outcome=avatar_outcome />
                <ActionForm action=auth.update_profile>
                    <label>"Username" <input name="username" aria-invalid=aria_invalid(error, "username") aria-describedby=described_by(error, "username") value=me.username.clone() prop:value=me.username.clone() required /></label>
                    <FieldErrors error field="username" />
                    <label>"Name" <input name="name" aria-invalid=aria_invalid(error, "name") aria-describedby=described_by(error, "name") value=me.name.clone().unwrap_or_default() prop:value=me.name.clone().unwrap_or_default() /></label>
                    <FieldErrors error field="name" />
                    <label>"Avatar URL" <input name="avatar_url" aria-invalid=aria_invalid(error, "avatar_url") aria-describedby=described_by(error, "avatar_url") type="text" inputmode="url" value=me.avatar_url.clone().unwrap_or_default() prop:value=me.avatar_url.clone().unwrap_or_default() /></label>
                    <FieldErrors error field="avatar_url" />
                    <FormErrors error />
                    <button type="submit">"Save"</button>
                    <Show when=saved><p class="saved" role="status">"Profile saved"</p></Show>
                </ActionForm>
            </section>
            <section class="card" id="email">
                <h2>"Email"</h2>
                <ActionForm action=change_email>
                    <label>"New email" <input name="email" aria-invalid=aria_invalid(email_error, "email") aria-describedby=described_by(email_error, "email") type="text" inputmode="email" autocapitalize="off" spellcheck="false" autocomplete="email" value=me.email.clone() prop:value=me.email.clone() required /></label>
                    <FieldErrors error=email_error field="email" />
                    <label>"Password" <input name="password" aria-invalid=aria_invalid(email_error, "password") aria-describedby=described_by(email_error, "password") type="password" autocomplete="current-password" required /></label>
                    <FieldErrors error=email_error field="password" />
                    <FormErrors error=email_error />
                    <button type="submit">"Change email"</button>
                    <Show when=email_saved><p class="saved" role="status">"Email changed"</p></Show>
                </ActionForm>
            </section>
            <Password />
            <DesktopNotifications />
            <Sessions />
        }
    });
    view! {
        <Title text="Your profile" />
        {page}
    }
}

/// A new password, the current one first; the account's other sessions end.
#[component]
fn Password() -> impl IntoView {
    let change = ServerAction::<ChangePassword>::new();
    let error = last_error(change.value());
    let changed = move || matches!(change.value().get(), Some(Ok(())));
    // Once changed, neither password stays in the page.
    let (current, fresh): (NodeRef<leptos::html::Input>, NodeRef<leptos::html::Input>) =
        (NodeRef::new(), NodeRef::new());
    Effect::new(move |_| {
        if changed() {
            for field in [current, fresh] {
                if let Some(field) = field.get_untracked() {
                    field.set_value("");
                }
            }
        }
    });
    view! {
        <section class="card" id="password">
            <h2>"Password"</h2>
            <ActionForm action=change>
                <label>"Current password" <input node_ref=current name="current_password" aria-invalid=aria_invalid(error, "current_password") aria-describedby=described_by(error, "current_password") type="password" autocomplete="current-password" required /></label>
                <FieldErrors error field="current_password" />
                <label>"New password" <input node_ref=fresh name="new_password" aria-invalid=aria_invalid(error, "new_password") aria-describedby=described_by(error, "new_password") type="password" autocomplete="new-password" required minlength="8" maxlength="128" /></label>
                <FieldErrors error field="new_password" />
                <FormErrors error />
                <button type="submit">"Change password"</button>
                <Show when=changed><p class="saved" role="status">"Password changed. You are still signed in here; everywhere else you were signed out."</p></Show>
            </ActionForm>
        </section>
    }
}

/// Where you are signed in, each with a button that signs it out.
#[component]
fn Sessions() -> impl IntoView {
    let end = ServerAction::<EndSession>::new();
    let sessions = crate::codec::load(move || end.version().get(), |_| my_sessions());
    view! {
        <section class="card" id="sessions">
            <h2>"Where you are signed in"</h2>
            <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    let list = sessions.await.unwrap_or_default();
                    view! {
                        <ul class="sessions">
                            {list.into_iter().enumerate().map(|(n, session)| {
                                let id = session.id.clone();
                                // Sessions of one kind of device are told
                                // apart by when each was last seen.
                                let seen_id = format!("session-seen-{n}");
                                // Its own name, apart from the header's "Sign out".
                                let label = format!("End session: {}", session.device);
                                view! {
                                    <li class="session">
                                        <div class="session-info">
                                            <strong>{session.device.clone()}</strong>
                                            {session.current.then(|| view! { <span class="badge">" (this device)"</span> })}
                                            <span class="muted session-seen" id=seen_id.clone()>"Last seen " <Stamp stamp=session.last_seen_at.clone() with_day=true /></span>
                                        </div>
                                        <ActionForm action=end>
                                            <input type="hidden" name="id" value=id />
                                            <button type="submit" aria-label=label aria-describedby=seen_id>"End session"</button>
                                        </ActionForm>
                                    </li>
                                }
                            }).collect_view()}
                        </ul>
                    }
                })}
            </Suspense>
        </section>
    }
}
