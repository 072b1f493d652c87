//! `/admin`: running the instance (issue 18), for admins: accounts (search,
//! deactivate and reactivate, sign out everywhere, role, removal from a
//! room, a password reset link), invitations, the sign-up policy, the rooms
//! new accounts join and the audit log. Every rule is in the core
//! (`hearth::admin`); a member sees "Admins only" (403).

use hearth::model::{AdminUser, AuditEntry, DefaultRoom, Invitation, OpenRoom, SignUpPolicy, UserId};
use leptos::either::EitherOf3;
use leptos::form::ActionForm;
use leptos::prelude::*;
use leptos_meta::Title;

use super::query::use_query_value;
use super::signed_in_with;
use crate::api::{
    AdminContents, AdminDeactivate, AdminInvite, AdminReactivate, AdminRemoveFromRoom, AdminResetLink,
    AdminRevokeInvitation, AdminSetDefaultRoom, AdminSetRole, AdminSetSignUpPolicy, AdminSignOut, admin_audit_before,
    admin_overview, admin_user_rooms,
};
use crate::components::avatar::Avatar;
use crate::components::form::{FieldErrors, FormErrors, aria_invalid, described_by, last_error};
use crate::error::UiError;

/// The page's actions; each one done reloads what the page shows.
#[derive(Clone, Copy)]
struct Actions {
    set_role: ServerAction<AdminSetRole>,
    deactivate: ServerAction<AdminDeactivate>,
    reactivate: ServerAction<AdminReactivate>,
    sign_out: ServerAction<AdminSignOut>,
    reset_link: ServerAction<AdminResetLink>,
    /// Whose reset link was asked for last (the page's lists are made
    /// again when an action completes; this outlives them).
    reset_for: RwSignal<String>,
    remove: ServerAction<AdminRemoveFromRoom>,
    invite: ServerAction<AdminInvite>,
    revoke: ServerAction<AdminRevokeInvitation>,
    policy: ServerAction<AdminSetSignUpPolicy>,
    default_room: ServerAction<AdminSetDefaultRoom>,
}

impl Actions {
    fn new() -> Self {
        Self {
            set_role: ServerAction::new(),
            deactivate: ServerAction::new(),
            reactivate: ServerAction::new(),
            sign_out: ServerAction::new(),
            reset_link: ServerAction::new(),
            reset_for: RwSignal::new(String::new()),
            remove: ServerAction::new(),
            invite: ServerAction::new(),
            revoke: ServerAction::new(),
            policy: ServerAction::new(),
            default_room: ServerAction::new(),
        }
    }

    /// Moves whenever any action completes.
    fn version(self) -> usize {
        self.set_role.version().get()
            + self.deactivate.version().get()
            + self.reactivate.version().get()
            + self.sign_out.version().get()
            + self.reset_link.version().get()
            + self.remove.version().get()
            + self.invite.version().get()
            + self.revoke.version().get()
            + self.policy.version().get()
            + self.default_room.version().get()
    }
}

/// A link to show for copying: absolute in the browser, the path otherwise.
fn absolute(path: &str) -> String {
    #[cfg(feature = "hydrate")]
    if let Ok(origin) = window().location().origin() {
        return format!("{origin}{path}");
    }
    path.to_owned()
}

#[component]
pub fn AdminPage() -> impl IntoView {
    let actions = Actions::new();
    let search = use_query_value("q");
    let overview = crate::codec::load(move || (search(), actions.version()), |(q, _)| admin_overview(q));
    // Whose rooms the removal form offers; loaded in the browser on demand.
    let picked = RwSignal::new(None::<(UserId, String)>);
    let rooms = LocalResource::new(move || {
        let picked = picked.get();
        actions.remove.version().get();
        async move {
            match picked {
                Some((id, _)) => admin_user_rooms(id.0).await,
                None => Ok(Vec::new()),
            }
        }
    });
    let page = signed_in_with(
        move || async move { overview.await },
        move |_me, loaded: Result<AdminContents, UiError>| match loaded {
            Err(error) if error.is_missing() => EitherOf3::A(view! { <AdminsOnly /> }),
            Ok(AdminContents {
                users,
                invitations,
                policy,
                default_rooms,
                open_rooms,
                audit,
                audit_more,
                users_cut,
                now,
            }) => EitherOf3::B(view! {
                <h1>"Admin"</h1>
                <Users users users_cut search=search() actions picked rooms />
                <Invitations invitations now actions />
                <Policy policy actions />
                <DefaultRooms default_rooms open_rooms actions />
                <Audit audit more=audit_more />
            }),
            Err(_) => EitherOf3::C(view! {
                <section class="card load-error" role="alert">
                    <h1>"Could not load the admin page"</h1>
                    <p>"The connection may be down."</p>
                    <button type="button" on:click=move |_| overview.refetch()>"Retry"</button>
                </section>
            }),
        },
    );
    view! {
        <Title text="Admin" />
        <div class="admin">{page}</div>
    }
}

/// What a member sees: the page exists, but not for them.
#[component]
fn AdminsOnly() -> impl IntoView {
    #[cfg(feature = "ssr")]
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.set_status(axum::http::StatusCode::FORBIDDEN);
    }
    view! {
        <section class="card admins-only">
            <h1>"Admins only"</h1>
            <p>"This page is for the instance's admins. " <a href="/">"Go home"</a></p>
        </section>
    }
}

#[component]
fn Users(
    users: Vec<AdminUser>,
    /// The search listed as many as it lists: there may be others.
    users_cut: bool,
    search: String,
    actions: Actions,
    picked: RwSignal<Option<(UserId, String)>>,
    rooms: LocalResource<Result<Vec<hearth::model::Conversation>, UiError>>,
) -> impl IntoView {
    let errors = [
        last_error(actions.set_role.value()),
        last_error(actions.deactivate.value()),
        last_error(actions.reactivate.value()),
        last_error(actions.sign_out.value()),
        last_error(actions.reset_link.value()),
        last_error(actions.remove.value()),
    ];
    // Whose link it is: the row whose button was pressed last.
    let reset_for = actions.reset_for;
    let reset_link = move || {
        actions.reset_link.value().get().and_then(Result::ok).map(|path| {
            let label = format!("Password reset link for {} (valid for an hour, once)", reset_for.get_untracked());
            view! { <LinkToCopy label class="reset-link" link=absolute(&path) /> }
        })
    };
    // Said once done: the row's count of sessions is 0 too.
    let signed_out = move || {
        actions.sign_out.value().get().and_then(Result::ok).map(|user| {
            view! { <p class="saved signed-out" role="status">{format!("@{} is signed out everywhere.", user.username)}</p> }
        })
    };
    let empty = users.is_empty();
    view! {
        <section class="panel admin-section admin-users" aria-labelledby="admin-users-heading">
            <h2 id="admin-users-heading">"Users"</h2>
            <form class="search" method="get" action="/admin" role="search">
                <label>"Search users" <input type="search" name="q" value=search placeholder="Name, username or email" /></label>
                <button type="submit">"Search"</button>
            </form>
            {errors.into_iter().map(|error| view! { <FormErrors error /> }).collect_view()}
            {reset_link}
            {signed_out}
            <Show when=move || empty>
                <p class="muted">"Nobody matches."</p>
            </Show>
            <ul class="admin-user-list">
                {users.into_iter().map(|user| view! { <UserRow user actions picked /> }).collect_view()}
            </ul>
            {users_cut.then(|| view! {
                <p class="muted users-cut">"Only the first accounts in alphabetical order are listed: search to find the others."</p>
            })}
            {move || picked.get().map(|(id, username)| view! { <RemoveFromRoom id username actions rooms /> })}
        </section>
    }
}

#[component]
fn UserRow(user: AdminUser, actions: Actions, picked: RwSignal<Option<(UserId, String)>>) -> impl IntoView {
    let id = user.id.0;
    let username = user.username.clone();
    let shown = match &user.name {
        Some(name) if !name.is_empty() => format!("{name} (@{})", user.username),
        _ => format!("@{}", user.username),
    };
    let shown_for_question = shown.clone();
    let shown_for_link = shown.clone();
    let active = user.deactivated_at.is_none();
    let admin = user.role == "admin";
    let for_pick = (user.id, user.username.clone());
    let sessions = match user.sessions {
        0 => "Not signed in".to_owned(),
        1 => "Signed in on 1 device".to_owned(),
        n => format!("Signed in on {n} devices"),
    };
    let signed_in = active && user.sessions > 0;
    view! {
        <li class="admin-user" data-username=username.clone()>
            <div class="who">
                <Avatar id=user.id name=user.display_name().to_owned() url=user.avatar_url.clone().unwrap_or_default() />
                <div class="who-text">
                    <strong>{shown}</strong>
                    <span class="muted">{user.email.clone()}</span>
                    <span class="role-badge">{if admin { "Admin" } else { "Member" }}</span>
                    {(!active).then(|| view! { <span class="deactivated-badge">"Deactivated"</span> })}
                    {active.then(|| view! { <span class="muted sessions-count">{sessions}</span> })}
                </div>
            </div>
            <div class="admin-actions">
                <ActionForm action=actions.set_role>
                    <input type="hidden" name="user_id" value=id />
                    <label for=format!("role-{id}")>"Role"</label>
                    <select id=format!("role-{id}") name="role">
                            <option value="member" selected=!admin>"Member"</option>
                            <option value="admin" selected=admin>"Admin"</option>
                    </select>
                    <button type="submit">"Change role"</button>
                </ActionForm>
                {if active {
                    // Deactivating signs them out everywhere: asked first,
                    // in the row, as a message's delete is.
                    let asking = RwSignal::new(false);
                    let confirm: NodeRef<leptos::html::Button> = NodeRef::new();
                    let opener: NodeRef<leptos::html::Button> = NodeRef::new();
                    let back = StoredValue::new(false);
                    crate::browser::focus_when_shown(confirm, None);
                    crate::browser::focus_when_shown(opener, Some(back));
                    let question = format!("Deactivate {}? They are signed out everywhere.", shown_for_question);
                    view! {
                        <ActionForm action=actions.deactivate>
                            <input type="hidden" name="user_id" value=id />
                            <Show
                                when=move || asking.get()
                                fallback=move || view! {
                                    <button type="button" class="danger" node_ref=opener on:click=move |_| asking.set(true)>"Deactivate"</button>
                                }
                            >
                                <span class="confirm-question" role="alert">{question.clone()}</span>
                                <button type="submit" class="danger" node_ref=confirm>"Yes, deactivate"</button>
                                <button type="button" on:click=move |_| { back.set_value(true); asking.set(false); }>"Cancel"</button>
                            </Show>
                        </ActionForm>
                    }
                    .into_any()
                } else {
                    view! {
                        <ActionForm action=actions.reactivate>
                            <input type="hidden" name="user_id" value=id />
                            <button type="submit">"Reactivate"</button>
                        </ActionForm>
                    }
                    .into_any()
                }}
                // A lost phone, a shared computer left signed in: every
                // session ends; the account may sign in again.
                {signed_in.then(|| view! {
                    <ActionForm action=actions.sign_out>
                        <input type="hidden" name="user_id" value=id />
                        <button type="submit">"Sign out everywhere"</button>
                    </ActionForm>
                })}
                // A deactivated account's link could never be used: none is
                // offered (the server refuses to make one).
                {active.then(|| view! {
                    <ActionForm action=actions.reset_link>
                        <input type="hidden" name="user_id" value=id />
                        <button type="submit" on:click=move |_| actions.reset_for.set(shown_for_link.clone())>"Reset link"</button>
                    </ActionForm>
                })}
                <button type="button" class="rooms-button" on:click=move |_| picked.set(Some(for_pick.clone()))>
                    "Rooms…"
                </button>
            </div>
        </li>
    }
}

/// Removes the picked user from one of their group or open rooms.
#[component]
fn RemoveFromRoom(
    id: UserId,
    username: String,
    actions: Actions,
    rooms: LocalResource<Result<Vec<hearth::model::Conversation>, UiError>>,
) -> impl IntoView {
    let heading = format!("Remove @{username} from a room");
    let label = heading.clone();
    // Opened from a row far up or down the list: shown where it is, by
    // taking the focus (its heading).
    let title: NodeRef<leptos::html::H3> = NodeRef::new();
    crate::browser::focus_when_shown(title, None);
    let list = move || match rooms.get() {
        None => view! { <p class="loading">"Loading…"</p> }.into_any(),
        Some(Err(error)) => view! { <p class="form-error" role="alert">{error.to_string()}</p> }.into_any(),
        Some(Ok(rooms)) if rooms.is_empty() => {
            view! { <p class="muted">"Not in any group or open room."</p> }.into_any()
        }
        Some(Ok(rooms)) => view! {
            <ActionForm action=actions.remove>
                <input type="hidden" name="user_id" value=id.0 />
                <label for=format!("remove-room-{}", id.0)>"Room"</label>
                <select id=format!("remove-room-{}", id.0) name="room_id">
                        {rooms
                            .into_iter()
                            .map(|room| {
                                let title = room.title.clone().unwrap_or_else(|| format!("Room {}", room.id));
                                view! { <option value=room.id.0>{title}</option> }
                            })
                            .collect_view()}
                </select>
                <button type="submit" class="danger">"Remove from room"</button>
            </ActionForm>
        }
        .into_any(),
    };
    view! {
        <div class="remove-from-room" role="group" aria-label=label>
            <h3 tabindex="-1" node_ref=title>{heading}</h3>
            {list}
        </div>
    }
}

/// A link made for someone else and shown once: the whole of it, selected
/// when focused, with a Copy button.
#[component]
fn LinkToCopy(#[prop(into)] label: String, class: &'static str, link: String) -> impl IntoView {
    let copied = RwSignal::new(None::<&'static str>);
    let field_id = format!("{class}-field");
    // Just made, from a button that may be far down the page: the link takes
    // the focus (and is selected, to copy), so it is in view.
    let field: NodeRef<leptos::html::Input> = NodeRef::new();
    crate::browser::focus_when_shown(field, None);
    let copy = {
        let link = link.clone();
        move |_| {
            #[cfg(feature = "hydrate")]
            {
                let done = window().navigator().clipboard().write_text(&link);
                leptos::task::spawn_local(async move {
                    let ok = wasm_bindgen_futures::JsFuture::from(done).await.is_ok();
                    let _ = copied.try_set(Some(if ok {
                        "Copied."
                    } else {
                        "Could not copy: select the link and copy it."
                    }));
                });
            }
            #[cfg(not(feature = "hydrate"))]
            let _ = (&link, copied);
        }
    };
    view! {
        <div class="made-link" role="status">
            <label for=field_id.clone()>{label}</label>
            <div class="made-link-row">
                <input id=field_id class=class readonly value=link node_ref=field on:focus=|ev| {
                    use wasm_bindgen::JsCast;
                    if let Some(input) = ev.target().and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok()) {
                        input.select();
                    }
                } />
                <button type="button" class="copy-link" on:click=copy>"Copy"</button>
            </div>
            <p class="muted copied">{move || copied.get()}</p>
        </div>
    }
}

#[component]
fn Invitations(invitations: Vec<Invitation>, now: String, actions: Actions) -> impl IntoView {
    let error = last_error(actions.invite.value());
    let revoke_error = last_error(actions.revoke.value());
    // The link just made is shown until that invitation is revoked.
    let revoked: Vec<i64> = invitations.iter().filter(|i| i.revoked_at.is_some()).map(|i| i.id).collect();
    let made = move || {
        actions.invite.value().get().and_then(Result::ok).filter(|made| !revoked.contains(&made.invitation.id)).map(|made| {
            view! {
                <LinkToCopy label="Invitation link (shown once)" class="invitation-link" link=absolute(&made.path) />
            }
        })
    };
    view! {
        <section class="panel admin-section admin-invitations" aria-labelledby="admin-invitations-heading">
            <h2 id="admin-invitations-heading">"Invitations"</h2>
            <ActionForm action=actions.invite>
                <label>"Expires in hours" <input type="number" name="expires_in_hours" aria-invalid=aria_invalid(error, "expires_in_hours") aria-describedby=described_by(error, "expires_in_hours") value="168" min="1" max="2160" required /></label>
                <FieldErrors error field="expires_in_hours" />
                <label>"Max uses" <input type="number" name="max_uses" aria-invalid=aria_invalid(error, "max_uses") aria-describedby=described_by(error, "max_uses") value="1" min="1" max="1000" required /></label>
                <FieldErrors error field="max_uses" />
                <FormErrors error />
                <button type="submit">"Create invitation"</button>
            </ActionForm>
            {made}
            <FormErrors error=revoke_error />
            {if invitations.is_empty() {
                view! { <p class="muted">"No invitations yet."</p> }.into_any()
            } else {
                view! {
                    // Wider than a phone: it scrolls sideways in its own box
                    // (focusable, so the keyboard can scroll it too).
                    <div class="table-scroll" tabindex="0" role="region" aria-label="Invitation table">
                    <table class="admin-table">
                        <thead>
                            <tr>
                                <th scope="col">"Made"</th>
                                <th scope="col">"Expires"</th>
                                <th scope="col">"Used"</th>
                                <th scope="col">"State"</th>
                                <th scope="col">"Action"</th>
                            </tr>
                        </thead>
                        <tbody>
                            {invitations.into_iter().map(|invitation| {
                                let state = invitation_state(&invitation, &now);
                                view! { <InvitationRow invitation state actions /> }
                            }).collect_view()}
                        </tbody>
                    </table>
                    </div>
                }
                .into_any()
            }}
        </section>
    }
}

/// An invitation's state at `now` (stored times: text order is time order).
/// Expired as the core has it: when `expires_at` is not after now.
fn invitation_state(invitation: &Invitation, now: &str) -> &'static str {
    if invitation.revoked_at.is_some() {
        "Revoked"
    } else if invitation.uses >= invitation.max_uses {
        "Used up"
    } else if invitation.expires_at.as_str() <= now {
        "Expired"
    } else {
        "Open"
    }
}

#[component]
fn InvitationRow(invitation: Invitation, state: &'static str, actions: Actions) -> impl IntoView {
    // A used-up or expired link cannot be used again: nothing is left to revoke.
    let open = state == "Open";
    view! {
        <tr class="invitation" data-id=invitation.id>
            <td>{short_time(&invitation.created_at)}</td>
            <td>{short_time(&invitation.expires_at)}</td>
            <td>{format!("{} of {}", invitation.uses, invitation.max_uses)}</td>
            <td>{state}</td>
            <td>
                {open.then(|| view! {
                    <ActionForm action=actions.revoke>
                        <input type="hidden" name="id" value=invitation.id />
                        <button type="submit" class="danger">"Revoke"</button>
                    </ActionForm>
                })}
            </td>
        </tr>
    }
}

#[component]
fn Policy(policy: SignUpPolicy, actions: Actions) -> impl IntoView {
    let error = last_error(actions.policy.value());
    let saved = move || matches!(actions.policy.value().get(), Some(Ok(_)));
    let choices = [
        (SignUpPolicy::Open, "Open: anyone may sign up"),
        (SignUpPolicy::Invite, "By invitation only"),
        (SignUpPolicy::Closed, "Closed: nobody may sign up"),
    ];
    view! {
        <section class="panel admin-section admin-policy" aria-labelledby="admin-policy-heading">
            <h2 id="admin-policy-heading">"Sign-up policy"</h2>
            <ActionForm action=actions.policy>
                <label for="sign-up-policy">"Who may sign up"</label>
                <select id="sign-up-policy" name="policy" aria-invalid=aria_invalid(error, "policy") aria-describedby=described_by(error, "policy")>
                        {choices
                            .into_iter()
                            .map(|(choice, label)| view! { <option value=choice.as_str() selected=choice == policy>{label}</option> })
                            .collect_view()}
                </select>
                <FieldErrors error field="policy" />
                <FormErrors error />
                <button type="submit">"Save policy"</button>
                <Show when=saved><p class="saved" role="status">"Policy saved"</p></Show>
            </ActionForm>
        </section>
    }
}

/// The open rooms every new account joins: each with Remove, and a pick of
/// the other open rooms to add.
#[component]
fn DefaultRooms(default_rooms: Vec<DefaultRoom>, open_rooms: Vec<OpenRoom>, actions: Actions) -> impl IntoView {
    let error = last_error(actions.default_room.value());
    let title = |title: &Option<String>| title.clone().unwrap_or_else(|| "Untitled room".to_owned());
    let others: Vec<OpenRoom> =
        open_rooms.into_iter().filter(|room| !default_rooms.iter().any(|d| d.id == room.id)).collect();
    let listed = if default_rooms.is_empty() {
        view! { <p class="muted">"None: a new account starts in no room."</p> }.into_any()
    } else {
        view! {
            <ul class="default-rooms">
                {default_rooms.into_iter().map(|room| {
                    let name = title(&room.title);
                    let members = match room.member_count {
                        1 => "1 member".to_owned(),
                        n => format!("{n} members"),
                    };
                    view! {
                        <li>
                            <a href=format!("/rooms/{}", room.id)>{name.clone()}</a>
                            " " <span class="muted">{members}</span>
                            <ActionForm action=actions.default_room>
                                <input type="hidden" name="room_id" value=room.id.to_string() />
                                <input type="hidden" name="on" value="false" />
                                <button type="submit" class="link" aria-label=format!("Stop adding new accounts to {name}")>"Remove"</button>
                            </ActionForm>
                        </li>
                    }
                }).collect_view()}
            </ul>
        }
        .into_any()
    };
    let add = (!others.is_empty()).then(|| view! {
        <ActionForm action=actions.default_room>
            <label for="default-room-add">"Add an open room"</label>
            <select id="default-room-add" name="room_id">
                {others.into_iter().map(|room| view! { <option value=room.id.to_string()>{title(&room.title)}</option> }).collect_view()}
            </select>
            <input type="hidden" name="on" value="true" />
            <button type="submit">"Add room"</button>
        </ActionForm>
    });
    view! {
        <section class="panel admin-section admin-default-rooms" aria-labelledby="admin-default-rooms-heading">
            <h2 id="admin-default-rooms-heading">"Rooms new accounts join"</h2>
            <p class="hint">"Every account made from now on is a member of these open rooms; existing accounts are not added."</p>
            {listed}
            {add}
            <FormErrors error />
        </section>
    }
}

#[component]
fn Audit(audit: Vec<AuditEntry>, more: bool) -> impl IntoView {
    // Older entries, a page at a time, below the newest.
    let older = RwSignal::new(Vec::<AuditEntry>::new());
    let more = RwSignal::new(more);
    // The next page starts below the oldest entry shown.
    let newest_page_end = audit.last().map(|entry| entry.id);
    let oldest = move || older.with_untracked(|older| older.last().map(|entry| entry.id)).or(newest_page_end);
    let failed = RwSignal::new(false);
    let load_older = Action::new_local(move |before: &i64| {
        let before = *before;
        async move {
            match admin_audit_before(before).await {
                Ok((page, again)) => {
                    _ = older.try_update(|older| older.extend(page));
                    _ = more.try_set(again);
                    _ = failed.try_set(false);
                }
                Err(_) => _ = failed.try_set(true),
            }
        }
    });
    view! {
        <section class="panel admin-section admin-audit" aria-labelledby="admin-audit-heading">
            <h2 id="admin-audit-heading">"Audit log"</h2>
            {if audit.is_empty() {
                view! { <p class="muted">"Nothing yet."</p> }.into_any()
            } else {
                view! {
                    <div class="table-scroll" tabindex="0" role="region" aria-label="Audit log table">
                    <table class="admin-table audit-log">
                        <thead>
                            <tr>
                                <th scope="col">"When"</th>
                                <th scope="col">"Who"</th>
                                <th scope="col">"Action"</th>
                                <th scope="col">"Target"</th>
                                <th scope="col">"Detail"</th>
                            </tr>
                        </thead>
                        <tbody>
                            {audit.into_iter().map(audit_row).collect_view()}
                            {move || older.get().into_iter().map(audit_row).collect_view()}
                        </tbody>
                    </table>
                    </div>
                    <Show when=move || more.get()>
                        <button
                            type="button"
                            class="audit-older"
                            disabled=move || load_older.pending().get()
                            on:click=move |_| {
                                if let Some(before) = oldest() {
                                    load_older.dispatch(before);
                                }
                            }
                        >"Show older entries"</button>
                    </Show>
                    <Show when=move || failed.get()>
                        <p class="form-error" role="alert">"Could not load older entries. Try again."</p>
                    </Show>
                }
                .into_any()
            }}
        </section>
    }
}

fn audit_row(entry: AuditEntry) -> impl IntoView {
    let who = match (&entry.actor, entry.actor_id) {
        (Some(name), _) => format!("@{name}"),
        (None, Some(id)) => format!("user {id}"),
        (None, None) => "command line".to_owned(),
    };
    view! {
        <tr class="audit-entry">
            <td>{short_time(&entry.created_at)}</td>
            <td>{who}</td>
            <td class="audit-action">{entry.action.clone()}</td>
            <td>{target(&entry)}</td>
            <td>{entry.detail.clone().unwrap_or_default()}</td>
        </tr>
    }
}

/// "@bob, “Launch” (room 2), message 7": what an audit entry acted on.
fn target(entry: &AuditEntry) -> String {
    let mut parts = Vec::new();
    match (&entry.target, entry.target_user) {
        (Some(name), _) => parts.push(format!("@{name}")),
        (None, Some(user)) => parts.push(format!("user {user}")),
        (None, None) => {}
    }
    match (entry.target_room, entry.target_room_title.as_deref().filter(|t| !t.is_empty())) {
        (Some(room), Some(title)) => parts.push(format!("“{title}” (room {room})")),
        (Some(room), None) => parts.push(format!("room {room}")),
        (None, _) => {}
    }
    if let Some(number) = entry.target_number {
        parts.push(format!("message {number}"));
    }
    parts.join(", ")
}

/// A stored time (`2026-12-01T04:35:12.123Z`) to the minute, in UTC.
fn short_time(at: &str) -> String {
    match (at.get(..10), at.get(11..16)) {
        (Some(day), Some(minute)) => format!("{day} {minute} UTC"),
        _ => at.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::invitation_state;
    use hearth::model::Invitation;

    fn invitation(expires_at: &str, uses: i64, revoked_at: Option<&str>) -> Invitation {
        Invitation {
            id: 1,
            created_by: None,
            created_at: "2026-01-01T00:00:00.000000Z".to_owned(),
            expires_at: expires_at.to_owned(),
            max_uses: 2,
            uses,
            revoked_at: revoked_at.map(str::to_owned),
        }
    }

    #[test]
    fn an_invitation_past_its_time_has_expired() {
        let now = "2026-06-01T12:00:00.000000Z";
        assert_eq!(invitation_state(&invitation("2026-06-02T00:00:00.000000Z", 0, None), now), "Open");
        assert_eq!(invitation_state(&invitation("2026-06-01T11:59:59.999999Z", 0, None), now), "Expired");
        assert_eq!(invitation_state(&invitation(now, 1, None), now), "Expired");
        // Revoked and used up say so, expired or not.
        assert_eq!(invitation_state(&invitation("2026-05-01T00:00:00.000000Z", 2, None), now), "Used up");
        assert_eq!(invitation_state(&invitation("2026-05-01T00:00:00.000000Z", 0, Some(now)), now), "Revoked");
        assert_eq!(invitation_state(&invitation("2026-07-01T00:00:00.000000Z", 2, None), now), "Used up");
    }
}
