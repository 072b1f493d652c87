//! `/rooms/:id`: the chat window. The newest 50 messages render on the
//! server (or those around `?around=N`, a search hit); scrolling to the top
//! loads older pages without the view jumping, and after a jump scrolling to
//! the bottom loads newer ones up to the live edge; sends show at once and
//! are reconciled by `client_id` when confirmed.
//!
//! One concern per module; [`ChatWindow`] only wires them together:
//!
//! - [`timeline`]: the list of messages and the pure functions that change
//!   it (merge a page, apply a live event, mark a delete), with unit tests;
//!   [`timeline::Timeline`] is the list in a signal.
//! - [`layout`]: grouping, day separators (Today, Yesterday, a date), full
//!   timestamps: pure, with unit tests.
//! - [`paging`]: older and newer pages, the gap after a jump, scrolling.
//! - [`signals`]: the subscription and its events, typing, presence, "Seen".
//! - [`reading`]: marking the room read while it is shown.
//! - [`sending`]: optimistic sends and retry; [`outbox`]: the room's
//!   unconfirmed sends, kept beyond the window and resent on reconnect.
//! - [`composer`]: the form, per-room drafts, focus on open, the `@`
//!   autocomplete ([`mentioning`]: its pure part, with unit tests).
//! - [`message_row`]: one message; [`actions`]: its toolbar and the
//!   confirmation a delete asks for.
//! - [`pins`]: the header's "Pinned" panel, the room's pinned messages.
//! - [`edits`]: a message's "(edited)", which lists what it said before.
//! - [`room_menu`]: the header's notification level, Room details (with
//!   the name, topic and Archive for the room's creator or an admin), Add
//!   people and Leave.
//! - [`uploads`]: files for the next message (button, drop, paste), each
//!   uploaded at once with its progress.
//! - [`browser`]: the web-sys/js-sys helpers (clock, zone, focus, storage).

mod actions;
pub(crate) mod browser;
mod composer;
mod edits;
pub mod layout;
mod mentioning;
mod message_row;
pub mod outbox;
mod paging;
mod pins;
mod reading;
mod room_menu;
mod sending;
mod signals;
pub mod timeline;
pub mod uploads;

pub use browser::{forget_kept_sends, forget_unsent, rooms_with_kept_sends};

use std::collections::HashMap;

use hearth::model::{
    Author, ConversationDetail, ConversationSummary, NotificationSettings, Person, Profile, ReplyTo, RoomKind, UserId,
    room_title,
};
use leptos::either::EitherOf3;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_params_map, use_query_map};

use super::signed_in_with;
use crate::api::room_detail;
use crate::browser::day_and_time;
use crate::chat::{use_chat, use_clock};
use crate::components::avatar::Avatar;
use crate::live::{LinkStatus, use_live};
use composer::Composer;
use layout::lay_out;
use message_row::MessageRow;
use paging::{Paging, Start};
use sending::Sender;
use signals::RoomSignals;
use timeline::Timeline;

/// Under "Conversation not found": an open room I am not in (a link to it,
/// or to a message in it, shared by a member) offers to join it, then opens
/// where the link pointed; anything else says where open rooms are.
#[component]
fn JoinIfOpen(room_id: i64, around: Option<i64>, join: ServerAction<crate::api::JoinRoom>) -> impl IntoView {
    let open = crate::codec::load(|| (), |_| crate::api::list_open_rooms());
    let failed = crate::components::form::last_error(join.value());
    view! {
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                let room = open.await.ok().and_then(|rooms| rooms.into_iter().find(|r| r.id.0 == room_id && !r.is_member));
                match room {
                    Some(room) => {
                        let title = room.title.unwrap_or_else(|| "Untitled room".into());
                        view! {
                            <p>{format!("{title} is an open room you are not in. Join it to read it and write in it.")}</p>
                            <ActionForm action=join>
                                <input type="hidden" name="room_id" value=room_id />
                                {around.map(|n| view! { <input type="hidden" name="around" value=n /> })}
                                <button type="submit">{format!("Join {title}")}</button>
                            </ActionForm>
                            <crate::components::form::FieldErrors error=failed field="room_id" />
                        }
                        .into_any()
                    }
                    None => view! {
                        <p>"It does not exist, or you are not in it. Open rooms can be joined from " <a href="/browse">"Open rooms"</a> "."</p>
                    }
                    .into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
pub fn RoomPage() -> impl IntoView {
    let params = use_params_map();
    let query = use_query_map();
    let room_id = move || params.read().get("id").and_then(|id| id.parse::<i64>().ok()).unwrap_or(0);
    let around = move || query.read().get("around").and_then(|n| n.parse::<i64>().ok());
    // Joined from here (a link into an open room I was not in): loaded again.
    let join = ServerAction::<crate::api::JoinRoom>::new();
    let detail = crate::codec::load(
        move || (room_id(), around(), join.version().get()),
        |(room, around, _)| room_detail(room, around, true),
    );
    // A load that failed (offline, say) is tried again when the link returns.
    let live = use_live();
    Effect::new(move |was: Option<LinkStatus>| {
        let now = live.status.get();
        if now == LinkStatus::Online
            && was.is_some_and(|was| was != LinkStatus::Online)
            && detail.with_untracked(|d| matches!(d, Some(Err(e)) if !e.is_missing()))
        {
            detail.refetch();
        }
        now
    });
    // The title stays outside the Suspense boundary: leptos_meta inside one
    // can break hydration. It says "Conversation" until the browser knows
    // the room's name (`App`'s formatter puts the unread count before it).
    // Effects run only in the browser, so server and hydration agree on the
    // first title.
    // Reference-counted, not an arena signal: the server reads it for the
    // <title> outside the request's arena (see `App`'s formatter).
    let tab_title = ArcRwSignal::new(None::<String>);
    let chat = use_chat();
    let auth = crate::auth::use_auth();
    // The room's entry in my room list, which follows renames and topics
    // live: the tab title here, the header in `ChatWindow`.
    let listed = Memo::new(move |_| {
        let id = room_id();
        chat.rooms.with(|rooms| rooms.as_ref()?.as_ref().ok()?.iter().find(|room| room.id.0 == id).cloned())
    });
    // A room I closed, opened again (from a link, a search hit, Saved
    // messages): back in my list. Once per room shown, when the list first
    // has it, so that closing it from this page stays closed.
    let looked_at = StoredValue::new(None::<i64>);
    Effect::new(move |_| {
        let Some(room) = listed.get() else { return };
        if looked_at.get_value() == Some(room.id.0) {
            return;
        }
        looked_at.set_value(Some(room.id.0));
        if room.closed {
            leptos::task::spawn_local(async move {
                if crate::api::reopen_conversation(room.id.0).await.is_ok() {
                    chat.refresh_rooms();
                }
            });
        }
    });
    Effect::new({
        let tab_title = tab_title.clone();
        move |_| {
            let me = auth.me.get().and_then(Result::ok).flatten();
            match (me, listed.get()) {
                (Some(me), Some(room)) => tab_title.set(Some(room.display_title(me.id))),
                // A room not in my list (gone, or never mine): not the
                // name of the one shown before it.
                (Some(_), None) if chat.rooms.with(|rooms| matches!(rooms, Some(Ok(_)))) => tab_title.set(None),
                _ => {}
            }
        }
    });
    let page = signed_in_with(
        move || async move { detail.await },
        move |me, loaded| match loaded {
            Ok(view) => EitherOf3::A(view! {
                <ChatWindow
                    detail=view.detail
                    listed
                    me
                    focus=around()
                    first_unread=view.first_unread
                    jumped=view.around.is_some()
                    edit_window_secs=view.edit_window_secs
                    admin=view.admin
                    notifications=view.notifications
                    saved=view.saved
                />
            }),
            Err(error) if error.is_missing() => EitherOf3::B(view! {
                <section class="card">
                    <h1>"Conversation not found"</h1>
                    <JoinIfOpen room_id=room_id() around=around() join />
                </section>
            }),
            Err(_) => EitherOf3::C(view! {
                <section class="card load-error" role="alert">
                    <h1>"Could not load this conversation"</h1>
                    <p>"The connection may be down. This page tries again by itself when it is back."</p>
                    <button type="button" on:click=move |_| detail.refetch()>"Retry"</button>
                </section>
            }),
        },
    );
    view! {
        <Title text=move || tab_title.get().unwrap_or_else(|| "Conversation".to_owned()) />
        {page}
    }
}

/// What the window's parts share, provided as a context by [`ChatWindow`].
#[derive(Clone, Copy)]
pub struct RoomContext {
    pub room_id: i64,
    pub me_id: UserId,
    /// An admin may delete anyone's message (the core audits it).
    pub admin: bool,
    pub timeline: Timeline,
    /// Scrolling the history: the composer keeps it at the bottom as it
    /// grows ([`Paging::stay_at_bottom`]).
    pub paging: Paging,
    pub signals: RoomSignals,
    pub sender: Sender,
    /// The message being edited.
    pub editing: RwSignal<Option<i64>>,
    /// What its open editor holds, kept here so that a redraw of its row
    /// (someone reacts or replies meanwhile) does not put the original back.
    pub edit_text: StoredValue<Option<(i64, String)>>,
    /// The message the composer's next send answers.
    pub replying: RwSignal<Option<ReplyTo>>,
    /// Text to put back in the composer (a refused message taken back).
    pub refill: RwSignal<Option<String>>,
    /// The message a search jumped to.
    pub focus: Option<i64>,
    /// The message focus was last in (set as focus enters a row).
    pub roving: RwSignal<Option<i64>>,
    /// The messages whose "N replies" list is open: kept here, so a row
    /// drawn again (its count changed by a new reply) keeps it open.
    pub open_replies: RwSignal<std::collections::HashSet<i64>>,
    /// The message whose reaction picker is open: kept here, so that a row
    /// drawn again (someone else reacted meanwhile) keeps it open.
    pub picking: RwSignal<Option<i64>>,
    /// The message whose "Delete this message?" is open: kept here, so that
    /// a row drawn again (someone reacted meanwhile) keeps asking.
    pub deleting: RwSignal<Option<i64>>,
    /// The one message in the history that Tab stops at: the one focus was
    /// last in while it is listed, else the newest. The arrows walk the rest
    /// (`browser::step_through_messages`), so a long room is not hundreds
    /// of Tabs to cross.
    pub tab_stop: Memo<Option<i64>>,
    /// The first unread message when the window opened: the "New messages"
    /// divider stays above it while the window is open.
    pub first_unread: Option<i64>,
    /// Set by "Mark unread": reading marks nothing more until the room is
    /// opened again (what is on screen would otherwise be read at once).
    pub hold_read: RwSignal<bool>,
    /// The browser's time, ticking, for the edit window: unknown (Edit shown
    /// to the author) while rendering on the server and hydrating, so both
    /// renders agree.
    pub now: RwSignal<Option<f64>>,
    pub edit_window_ms: f64,
    /// Who is in the room now, as my room list says: a member's name and
    /// picture on their messages follow it (a rename shows live).
    pub members: RwSignal<Vec<Person>>,
    /// The members' pictures, by id (`None`: initials).
    pub people: StoredValue<HashMap<UserId, Option<String>>>,
    /// Files for the next message.
    pub uploads: uploads::Uploads,
}

impl RoomContext {
    /// Whether a message sent at `created_at` may still be edited, by the
    /// browser's clock (tracked; while that is unknown, yes: the server has
    /// the last word).
    pub fn in_edit_window(&self, created_at: &str) -> bool {
        match (self.now.get(), crate::browser::stamp_ms(created_at)) {
            (Some(now), Some(sent)) => now < sent + self.edit_window_ms,
            _ => true,
        }
    }
}

pub fn use_room() -> RoomContext {
    expect_context::<RoomContext>()
}

#[component]
fn ChatWindow(
    detail: ConversationDetail,
    /// The room's entry in my room list, as it changes.
    listed: Memo<Option<ConversationSummary>>,
    me: Profile,
    focus: Option<i64>,
    /// The first message others wrote after my read marker.
    first_unread: Option<i64>,
    /// The page is not the newest (around `focus` or `first_unread`).
    jumped: bool,
    edit_window_secs: u64,
    /// An admin may delete anyone's message (the core audits it).
    admin: bool,
    /// My notification level for the room.
    notifications: NotificationSettings,
    /// The messages I saved in the room.
    saved: Vec<i64>,
) -> impl IntoView {
    let room = detail.conversation.id;
    let room_id = room.0;
    let other = (detail.conversation.kind == RoomKind::Direct)
        .then(|| detail.participants.iter().find(|p| p.id != me.id))
        .flatten();
    let kind = detail.conversation.kind;
    let me_id = me.id;
    // Who is in the room: as loaded, then as my room list says (it hears
    // of everyone added or leaving).
    let members = RwSignal::new(detail.participants.clone());
    // A group made without a title is called by its members' names.
    let named = move |title: &str, people: &[Person]| {
        room_title(kind, Some(title), people.iter().filter(|p| p.id != me_id).map(Person::display_name))
    };
    // A direct room is called by the other person (by their name as the
    // members have it now: a rename shows live).
    let direct_title = other.map(|p| p.display_name().to_owned()).unwrap_or_else(|| "Direct message".into());
    // A direct room with a deactivated account: written to, never read.
    let gone_note = other
        .filter(|p| p.deactivated)
        .map(|p| format!("{}'s account is deactivated: they will not see what you send here.", p.display_name()));
    let other = other.map(|p| p.id);
    let direct_title = move || {
        other
            .and_then(|id| {
                members.with(|people| people.iter().find(|p| p.id == id).map(|p| p.display_name().to_owned()))
            })
            .unwrap_or_else(|| direct_title.clone())
    };
    let topic = detail.conversation.topic.clone().filter(|t| !t.trim().is_empty());

    let timeline = Timeline::new(detail.messages);
    let start = match (focus, first_unread) {
        (Some(number), _) => Start::Message(number),
        (None, Some(number)) => Start::Unread(number),
        (None, None) => Start::Newest,
    };
    let paging = Paging::new(room_id, timeline, start, jumped, detail.conversation.last_number);
    // "Mark unread" holds the marker where it was put until the room is
    // opened again.
    let hold_read = RwSignal::new(false);
    reading::mark_read_while_shown(room_id, first_unread, timeline, paging, hold_read);
    // The window resized (a phone's keyboard opening, the phone turned on
    // its side): a reader at the newest message stays at it.
    #[cfg(feature = "hydrate")]
    {
        let resized = window_event_listener(leptos::ev::resize, move |_| paging.stay_at_bottom());
        on_cleanup(move || resized.remove());
    }
    let signals = RoomSignals::follow(
        room,
        detail.conversation.last_seq,
        detail.read_markers,
        saved,
        me.id,
        other,
        timeline,
        paging,
    );
    signals.archived.set(detail.conversation.archived_at.is_some());
    let sender = Sender::new(room, Author::new(me.id, me.username.clone(), me.name.clone()), timeline, paging);

    let now = RwSignal::new(None::<f64>);
    Effect::new(move |_| {
        now.set(Some(crate::browser::now_ms()));
        if let Ok(handle) =
            set_interval_with_handle(move || now.set(Some(crate::browser::now_ms())), std::time::Duration::from_secs(5))
        {
            on_cleanup(move || handle.clear());
        }
    });
    let people = detail.participants.iter().map(|p| (p.id, p.avatar_url.clone())).collect();
    let roving = RwSignal::new(None::<i64>);
    let tab_stop = Memo::new(move |_| {
        timeline.entries.with(|list| {
            let listed = |number: i64| list.iter().any(|e| e.message.number == number);
            roving.get().filter(|n| listed(*n)).or_else(|| list.iter().rev().map(|e| e.message.number).find(|n| *n > 0))
        })
    });
    // Focus on a message stays there when the list changes under it.
    Effect::new(move |_| {
        timeline.entries.track();
        if let Some(number) = roving.get_untracked() {
            browser::refocus_message(number);
        }
    });
    // And the history stays one Tab stop, whatever its messages hold (and
    // as focus moves: the handlers on the list).
    Effect::new(move |_| {
        timeline.entries.track();
        browser::fence_tab_order_soon(paging.list);
    });
    provide_context(RoomContext {
        room_id,
        me_id: me.id,
        admin,
        timeline,
        paging,
        signals,
        sender,
        editing: RwSignal::new(None),
        edit_text: StoredValue::new(None),
        replying: RwSignal::new(None),
        refill: RwSignal::new(None),
        focus,
        roving,
        open_replies: RwSignal::new(Default::default()),
        picking: RwSignal::new(None),
        deleting: RwSignal::new(None),
        tab_stop,
        first_unread,
        hold_read,
        now,
        edit_window_ms: edit_window_secs as f64 * 1000.0,
        people: StoredValue::new(people),
        members,
        uploads: crate::chat::use_chat().uploads(room_id),
    });
    let uploads = use_room().uploads;

    let clock = use_clock();
    let rows = move || {
        let local = clock.local.get();
        let today = crate::browser::today(local);
        timeline.entries.with(|list| {
            let layout = lay_out(list, |stamp| day_and_time(stamp, local).0, today, first_unread);
            list.iter().cloned().zip(layout).collect::<Vec<_>>()
        })
    };
    // The header's name (the title as saved; `header_title` is what it is
    // called) and topic: the creator or an admin changes them in Room
    // details, and sees the change at once.
    let (shown_title, shown_topic) =
        (RwSignal::new(detail.conversation.title.clone().unwrap_or_default()), RwSignal::new(topic));
    let header_title = Signal::derive(move || match kind {
        RoomKind::Direct => direct_title(),
        _ => members.with(|people| named(&shown_title.get(), people)),
    });
    let avatars = use_room().people;
    // Renamed, its topic changed, someone added or gone, or a member's name
    // or picture changed, by someone else: the room list hears of it live,
    // and so does the header (and the bylines, which follow the members).
    Effect::new(move |_| {
        let Some((renamed, topic, users)) = listed
            .with(|r| r.as_ref().filter(|r| r.id == room).map(|r| (r.title.clone(), r.topic.clone(), r.users.clone())))
        else {
            return;
        };
        if kind != RoomKind::Direct {
            if let Some(renamed) = renamed.filter(|t| *t != shown_title.get_untracked()) {
                shown_title.set(renamed);
            }
            if topic != shown_topic.get_untracked() {
                shown_topic.set(topic);
            }
        }
        if !users.is_empty() && members.with_untracked(|now| *now != users) {
            avatars.update_value(|people| {
                people.extend(users.iter().map(|p| (p.id, p.avatar_url.clone())));
            });
            members.set(users);
        }
    });
    let manage = (admin || detail.conversation.created_by == Some(me.id)).then_some((shown_title, shown_topic));
    let close = (detail.conversation.kind == RoomKind::Direct).then(|| {
        view! {
            <Show when=move || !signals.left.get()>
                <room_menu::CloseConversation room_id />
            </Show>
        }
    });
    let menu = (detail.conversation.kind != RoomKind::Direct).then(|| {
        let kind = detail.conversation.kind;
        // A room I am no longer in has nothing left for me to manage.
        view! {
            <Show when=move || !signals.left.get()>
                <room_menu::RoomMenu room_id kind members me_id=me.id archived=signals.archived topic=shown_topic manage />
            </Show>
        }
    });
    let kind = detail.conversation.kind;
    // Nobody deactivated: a mention of them would reach no one.
    let mentionable = Signal::derive(move || {
        members.with(|people| people.iter().filter(|p| p.id != me_id && !p.deactivated).cloned().collect())
    });
    view! {
        <section
            class="chat"
            data-room-id=room_id
            data-live=move || signals.is_live().to_string()
            // Files dropped anywhere on the window go with the next message.
            on:dragover=move |ev| ev.prevent_default()
            on:drop=move |ev| {
                ev.prevent_default();
                #[cfg(feature = "hydrate")]
                uploads.start(uploads::files_of(ev.data_transfer()));
                #[cfg(not(feature = "hydrate"))]
                let _ = (ev, uploads);
            }
        >
            <header class="chat-header">
                // On a phone the room list is a screen of its own: this leads
                // back to it (hidden on wider screens, where the list is beside).
                // Named by its hidden text, so that what is seen ("‹") and
                // what is read out do not disagree.
                <a class="back-to-rooms" href="/">
                    <span aria-hidden="true">"‹"</span>
                    <span class="visually-hidden">"Conversations"</span>
                </a>
                <h1 title=header_title>{header_title}</h1>
                {move || shown_topic.get().map(|topic| {
                    let whole = topic.clone();
                    view! { <p class="topic" title=whole>{topic}</p> }
                })}
                <room_menu::NotifyLevelPicker room_id kind settings=notifications />
                <pins::PinnedPanel room_id timeline />
                <a class="room-search" href=format!("/find?room_id={room_id}")>
                    <svg viewBox="0 0 16 16" width="14" height="14" aria-hidden="true">
                        <circle cx="6.5" cy="6.5" r="4.5" fill="none" stroke="currentColor" stroke-width="2" />
                        <line x1="10" y1="10" x2="14.5" y2="14.5" stroke="currentColor" stroke-width="2" stroke-linecap="round" />
                    </svg>
                    <span class="room-search-label">"Search this room"</span>
                </a>
                {menu}
                {close}
                <Show when=move || signals.is_live()>
                    <span class="live-badge" title="Receiving messages live"><span aria-hidden="true">"● "</span>"Live"</span>
                </Show>
                <p class="muted members">
                    <For
                        each=move || members.get()
                        key=|p| (p.id, p.display_name().to_owned(), p.avatar_url.clone())
                        let:p
                    >
                        {
                        let id = p.id;
                        // Named as everywhere else in the room; the username on hover.
                        let name = p.display_name().to_owned();
                        let deactivated = p.deactivated;
                        view! {
                            <span class="member" class:online=move || signals.is_online(id) class:deactivated=deactivated data-user-id=id.0 title=format!("@{}", p.username)>
                                <Avatar id name=name.clone() url=p.avatar_url.unwrap_or_default() />
                                // Isolated: two right-to-left names side by side
                                // would otherwise swap places across avatars.
                                <bdi>{name}</bdi>
                                // In a direct room, whose @username it is, in
                                // view: a name can be anyone's to take.
                                {(kind == RoomKind::Direct).then(|| view! { <span class="handle">" @"{p.username.clone()}</span> })}
                                {deactivated.then(|| view! { <span class="deactivated-mark">" (deactivated)"</span> })}
                                // Presence in words too, not only the dot's colour.
                                <span class="visually-hidden presence">
                                    {move || if signals.is_online(id) { " (online)" } else { " (offline)" }}
                                </span>
                            </span>
                        }
                    }
                    </For>
                </p>
            </header>
            <div class="messages-frame">
                <div
                    class="messages"
                    node_ref=paging.list
                    on:scroll=move |_| paging.on_scroll()
                    on:keydown=|ev| browser::step_through_messages(&ev)
                    on:focusin=move |_| {
                        if let Some(list) = paging.list.try_get_untracked().flatten() {
                            browser::fence_tab_order(&list);
                        }
                    }
                    on:focusout=move |_| browser::fence_tab_order_soon(paging.list)
                >
                    <Show
                        when=move || paging.at_start()
                        // Busy, not `disabled`: a disabled button loses
                        // focus (to the page), and the keyboard with it.
                        // Pressed again while it loads, it does nothing.
                        fallback=move || view! {
                            <button type="button" class="load-older" on:click=move |_| paging.load_older() aria-disabled=move || paging.loading_older.get().then_some("true")>
                                {move || if paging.loading_older.get() { "Loading…" } else { "Load older messages" }}
                            </button>
                        }
                    >
                        <p class="start-of-history muted">"This is the start of the conversation."</p>
                    </Show>
                    <For each=rows key=|(entry, layout)| (entry.key(), layout.clone()) let:row>
                        <MessageRow entry=row.0 layout=row.1 />
                    </For>
                    <Show when=move || paging.gap_below()>
                        <button type="button" class="load-newer" on:click=move |_| paging.load_newer() aria-disabled=move || paging.loading_newer.get().then_some("true")>
                            {move || if paging.loading_newer.get() { "Loading…" } else { "Load newer messages" }}
                        </button>
                    </Show>
                </div>
                <Show when=move || paging.scrolled_up.get()>
                    // It goes once the newest is on screen, and focus would
                    // go with it to the page: it moves on to the composer,
                    // where the newest invites an answer (not on a touch
                    // screen, where that opens the keyboard).
                    // It floats over the list, not in it: the wheel over it
                    // scrolls the list as it would anywhere else on it.
                    <button type="button" class="jump-latest" on:wheel=move |ev| paging.scroll_by_wheel(&ev) on:click=move |_| {
                        let had_focus = browser::focus_is_on(".jump-latest") && !browser::touch_first();
                        paging.jump_to_newest();
                        if had_focus {
                            browser::focus_composer();
                        }
                    }>
                        {move || paging.jump_label()}
                    </button>
                </Show>
            </div>
            <p class="typing muted" aria-live="polite">{move || signals.typing_line()}</p>
            // New messages from others, read out politely one at a time (the
            // list itself is not a live region, so loading history is quiet).
            <p class="visually-hidden announcer" role="status" aria-live="polite" aria-atomic="true">
                {move || signals.announcement.get()}
            </p>
            // An archived room is read-only, and a room I am no longer in
            // takes nothing from me: no composer, and a note why.
            <Show
                when=move || !signals.archived.get() && !signals.left.get()
                fallback=move || view! {
                    <p class="archived-note muted" role="status">
                        {move || if signals.left.get() {
                            "You are no longer a member of this room: it takes no messages from you."
                        } else {
                            "This room is archived: it can be read, not written to."
                        }}
                        // An open room can be joined again.
                        {move || (signals.left.get() && kind == RoomKind::Open).then(|| view! {
                            " " <a href="/browse">"Join it again from Open rooms"</a>
                        })}
                    </p>
                }
            >
                {gone_note.clone().map(|note| view! { <p class="deactivated-note muted" role="note">{note}</p> })}
                <Composer members=mentionable title=header_title />
            </Show>
        </section>
    }
}
