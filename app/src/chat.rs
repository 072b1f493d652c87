//! Chat state shared by the sidebar and the chat window: the room list as a
//! resource that refetches on navigation and whenever a page asks.

use std::collections::{HashMap, HashSet};

use hearth::model::{Author, ConversationSummary, Profile, RoomId, UserId};
use leptos::prelude::*;
use leptos_router::hooks::use_location;

use crate::api::list_conversations;
use crate::codec::{Loaded, load};
use crate::error::UiError;
use crate::live::{LinkStatus, use_live};
use crate::pages::room::outbox::Outbox;
use hearth::protocol::{RoomChange, ServerEvent};

#[derive(Clone, Copy)]
pub struct Chat {
    pub rooms: Loaded<Result<Vec<ConversationSummary>, UiError>>,
    refresh: RwSignal<u32>,
    /// The last list that loaded, shown while a refetch fails (offline).
    known: StoredValue<Option<Vec<ConversationSummary>>>,
    /// Who is online among the members of my rooms, as the live link says:
    /// each room I follow tells who is online when it is subscribed, then
    /// every change. Emptied while the link is down (the resubscriptions
    /// tell it afresh), so nobody is shown online from stale news.
    online: RwSignal<HashSet<UserId>>,
    /// Each room's files for the message being written, made under the
    /// frame (not the room page): they stay attached while I look at
    /// another room, and an upload still running when I leave one finishes
    /// into a list that is still there.
    uploads: StoredValue<HashMap<i64, crate::pages::room::uploads::Uploads>>,
    /// Each room's sends the server has not confirmed yet, made under the
    /// frame too: a message written offline still goes when the link
    /// returns after I left its room, and shows again when I come back.
    outboxes: StoredValue<HashMap<RoomId, Outbox>>,
    /// The frame's owner, for what outlives a page (see `uploads`).
    frame: StoredValue<Option<Owner>>,
    /// A refetch is due shortly ([`Chat::refresh_soon`]).
    refresh_due: StoredValue<bool>,
    /// What the room list is narrowed to (the sidebar's "Jump to…" field):
    /// kept here, as the sidebar is made again with each list it shows.
    /// Emptied when a room is opened from the list. (Not on every move to
    /// another page: set while signing out, the list's bindings ran once
    /// more after the list was gone and read a disposed signal, a panic.)
    pub filter: RwSignal<String>,
}

impl Chat {
    /// The list as loaded, or the last one that loaded (with the error)
    /// when this fetch failed.
    pub fn rooms_or_known(
        &self,
        rooms: Result<Vec<ConversationSummary>, UiError>,
    ) -> (Option<Vec<ConversationSummary>>, Option<UiError>) {
        match rooms {
            Ok(rooms) => {
                self.known.set_value(Some(rooms.clone()));
                (Some(rooms), None)
            }
            Err(error) => (self.known.get_value(), Some(error)),
        }
    }

    /// Whether `user` is online, as far as the live link has said (tracked).
    pub fn is_online(&self, user: UserId) -> bool {
        self.online.with(|online| online.contains(&user))
    }

    /// Room `room_id`'s files for the message being written (made once).
    pub fn uploads(&self, room_id: i64) -> crate::pages::room::uploads::Uploads {
        if let Some(kept) = self.uploads.with_value(|kept| kept.get(&room_id).copied()) {
            return kept;
        }
        let made = self.under_frame(|| crate::pages::room::uploads::Uploads::new(room_id));
        self.uploads.update_value(|kept| {
            kept.insert(room_id, made);
        });
        made
    }

    /// Room `room`'s unconfirmed sends (made once).
    pub fn outbox(&self, room: RoomId) -> Outbox {
        if let Some(kept) = self.outboxes.with_value(|kept| kept.get(&room).copied()) {
            return kept;
        }
        let chat = *self;
        let made = self.under_frame(|| Outbox::new(room, chat));
        self.outboxes.update_value(|kept| {
            kept.insert(room, made);
        });
        made
    }

    /// Drops every room's unconfirmed sends, and those kept in storage:
    /// what one person queued is never sent as, nor shown to, whoever signs
    /// in here next.
    fn forget_outboxes(&self) {
        self.outboxes.with_value(|kept| kept.values().for_each(Outbox::forget));
        crate::pages::room::forget_kept_sends();
    }

    /// Brings back the unconfirmed sends `me` left in this browser (a
    /// reload before the link returned), each room's in its outbox, which
    /// sends them again.
    fn restore_outboxes(&self, me: &Profile) {
        let author = Author::new(me.id, me.username.clone(), me.name.clone());
        for room in crate::pages::room::rooms_with_kept_sends(me.id.0) {
            self.outbox(RoomId(room)).restore(&author);
        }
    }

    /// Runs `make` under the frame's owner, so what it makes outlives the page.
    fn under_frame<T>(&self, make: impl FnOnce() -> T) -> T {
        match self.frame.get_value() {
            Some(frame) => frame.with(make),
            None => make(),
        }
    }

    /// Refetches the room list (after a send, a read, a join…).
    pub fn refresh_rooms(&self) {
        self.refresh.update(|n| *n += 1);
    }

    /// Refetches the room list shortly: a burst of changes is one fetch.
    pub fn refresh_soon(self) {
        soon(self.refresh_due, move || self.refresh_rooms());
    }
}

/// Runs `then` 250 ms after the first of a burst of calls, once; `due`
/// says one is waiting.
fn soon(due: StoredValue<bool>, then: impl Fn() + 'static) {
    if !due.get_value() {
        due.set_value(true);
        set_timeout(
            move || {
                due.set_value(false);
                then();
            },
            std::time::Duration::from_millis(250),
        );
    }
}

pub fn provide_chat() {
    let refresh = RwSignal::new(0u32);
    let location = use_location();
    let rooms = load(move || (refresh.get(), location.pathname.get()), |_| list_conversations());
    let online = RwSignal::new(HashSet::new());
    let chat = Chat {
        rooms,
        refresh,
        known: StoredValue::new(None),
        online,
        uploads: StoredValue::new(HashMap::new()),
        outboxes: StoredValue::new(HashMap::new()),
        frame: StoredValue::new(Owner::current()),
        refresh_due: StoredValue::new(false),
        filter: RwSignal::new(String::new()),
    };
    provide_context(chat);

    // Live badges: follow every room of mine, and refetch the list (which
    // carries the server's unread counts) shortly after anything changes.
    let live = use_live();
    Effect::new(move |_| {
        if let Some(Ok(rooms)) = rooms.get() {
            live.follow(rooms.iter().map(|r| r.id));
        }
    });
    let refresh_soon = move || chat.refresh_soon();
    // Whatever happened while the link was down (or before it first came
    // up) is caught up by one refetch when it comes up.
    Effect::new(move |was: Option<LinkStatus>| {
        let now = live.status.get();
        if now == LinkStatus::Online && was != Some(LinkStatus::Online) && was.is_some() {
            refresh_soon();
        }
        if now != LinkStatus::Online && online.with_untracked(|o| !o.is_empty()) {
            online.set(HashSet::new());
        }
        now
    });
    // My own name may have changed in another tab: each room I share gets
    // one `updated` for it, so a burst is checked once.
    let auth = crate::auth::use_auth();
    // Signed out, or someone else signed in (the frame stays): the sends
    // still queued were the last person's. Signed in (the page loaded, or
    // a sign-in): mine kept from before a reload are brought back.
    Effect::new(move |was: Option<Option<UserId>>| {
        let was = was.flatten();
        let Some(Ok(me)) = auth.me.get() else { return was };
        let now = me.as_ref().map(|me| me.id);
        if was.is_some_and(|was| Some(was) != now) {
            chat.forget_outboxes();
        }
        if let Some(me) = me.filter(|_| was != now) {
            chat.restore_outboxes(&me);
        }
        now
    });
    let name_check = StoredValue::new(false);
    let check_name_soon = move || soon(name_check, move || auth.check_name());
    Effect::new(move |started: Option<()>| {
        if started.is_none() {
            live.on_event(move |event| match event {
                // The open room marks itself read and refreshes the list
                // then; but not while the tab is in the background, where
                // its title and icon are what tell me of it.
                ServerEvent::Message { room_id, .. }
                    if location.pathname.get_untracked() != format!("/rooms/{room_id}")
                        || !crate::browser::tab_shown() =>
                {
                    refresh_soon()
                }
                ServerEvent::Room { change: RoomChange::Updated, .. } => {
                    refresh_soon();
                    check_name_soon();
                }
                // An edit may change a room's preview or add a mention,
                // in the open room too.
                ServerEvent::MessageEdited { .. } | ServerEvent::MessageDeleted { .. } | ServerEvent::Room { .. } => {
                    refresh_soon()
                }
                // Said once per shared room: only a change is written.
                ServerEvent::Presence { user_id, online: now }
                    if online.with_untracked(|o| o.contains(user_id)) != *now =>
                {
                    online.update(|o| {
                        if *now {
                            o.insert(*user_id);
                        } else {
                            o.remove(user_id);
                        }
                    });
                }
                _ => {}
            });
        }
    });
}

pub fn use_chat() -> Chat {
    expect_context::<Chat>()
}

/// Which clock times are shown in: UTC in the server's render and while the
/// page hydrates (the two must match), the browser's own zone right after.
#[derive(Clone, Copy)]
pub struct Clock {
    pub local: RwSignal<bool>,
}

pub fn provide_clock() {
    let local = RwSignal::new(false);
    // Effects run only in the browser, once hydration is done.
    Effect::new(move |_| local.set(true));
    provide_context(Clock { local });
}

pub fn use_clock() -> Clock {
    expect_context::<Clock>()
}
