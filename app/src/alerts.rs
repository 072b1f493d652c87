//! The tab's own alerts, beside the title's count (every page): the
//! favicon has a dot while anything is unread (`public/favicon-unread.svg`
//! swapped on the `<link rel=icon>`), and while the tab is hidden a live
//! message in any of my rooms that my level there lets through (and that
//! is not mine) is a desktop `Notification`, once the user has allowed them.
//! Clicking it focuses the window and opens the room. Its tag is the one
//! Web Push uses (`room-R`), so a push for the same room replaces it rather
//! than adding a second one. With the tab closed, `public/sw.js` shows the
//! server's pushes instead ([`crate::components::desktop_notifications`]).
//! While my notifications are paused ([`crate::components::pause`]) no
//! desktop notification shows; the count and the dot still follow.

use leptos::prelude::*;

use crate::auth::use_auth;
use crate::chat::use_chat;

const FAVICON: &str = "/favicon.svg";
const FAVICON_UNREAD: &str = "/favicon-unread.svg";

/// The longest body a notification shows, in characters (as Web Push's).
const BODY_MAX: usize = 200;

/// What a screen reader is told of a message in another room than the one
/// open, while the tab is in front (where a hidden tab shows a desktop
/// notification): "Bob in Launch crew: hello". Read by `Frame`'s live region.
#[derive(Clone, Copy)]
pub struct Elsewhere(pub RwSignal<String>);

/// My unread messages across my rooms (muted ones left out), which every
/// page's title counts (`App`'s title formatter).
#[derive(Clone, Copy)]
pub struct UnreadTotal(pub RwSignal<i64>);

pub fn provide_alerts() {
    let elsewhere = RwSignal::new(String::new());
    provide_context(Elsewhere(elsewhere));
    let chat = use_chat();
    let total = use_context::<UnreadTotal>();
    let signed_in = use_auth();
    // The dot and the title's count follow the server's counts (the room
    // list refetches after each live event); a failed fetch leaves them as
    // they were, and signing out clears them.
    Effect::new(move |_| {
        if let Some(Ok(rooms)) = chat.rooms.get() {
            let unread: i64 = rooms.iter().map(hearth::model::ConversationSummary::counted_unread).sum();
            set_favicon(if unread > 0 { FAVICON_UNREAD } else { FAVICON });
            if let Some(total) = total {
                total.0.set(unread);
            }
        }
        if matches!(signed_in.me.get(), Some(Ok(None))) {
            set_favicon(FAVICON);
            if let Some(total) = total {
                total.0.set(0);
            }
        }
    });
    #[cfg(feature = "hydrate")]
    {
        let auth = use_auth();
        let live = crate::live::use_live();
        let navigate = leptos_router::hooks::use_navigate();
        let location = leptos_router::hooks::use_location();
        Effect::new(move |started: Option<()>| {
            if started.is_some() {
                return;
            }
            let navigate = navigate.clone();
            // A room that appears in my list with a message waiting (a
            // direct room or group just made with me in it) is new to the
            // socket too, which follows it only from then on: its first
            // message is said from the list.
            let known = StoredValue::new(None::<Vec<hearth::model::RoomId>>);
            let navigate_new = navigate.clone();
            Effect::new(move |_| {
                let Some(Ok(rooms)) = chat.rooms.get() else { return };
                let ids: Vec<_> = rooms.iter().map(|room| room.id).collect();
                let before = known.try_update_value(|known| known.replace(ids.clone())).flatten();
                let (Some(before), Some(Ok(Some(me)))) = (before, auth.me.get_untracked()) else { return };
                if crate::browser::tab_shown() || auth.paused_now() {
                    return;
                }
                for room in rooms.iter().filter(|room| !before.contains(&room.id)) {
                    if let Some(alert) = alert_for_new_room(room, me.id) {
                        browser::show(alert, None, navigate_new.clone());
                    }
                }
            });
            live.on_event(move |event| {
                use hearth::protocol::ServerEvent;
                let (room_id, message) = match event {
                    ServerEvent::Message { room_id, message, .. } => (room_id, message),
                    // Read elsewhere (another tab, the phone), or deleted:
                    // its notification is taken back, as Web Push's is.
                    ServerEvent::Room { room_id, unread_count: Some(0), .. } => {
                        return browser::withdraw(*room_id, None);
                    }
                    ServerEvent::MessageDeleted { room_id, message_id, .. } => {
                        return browser::withdraw(*room_id, Some(*message_id));
                    }
                    // Paused or resumed here or in another tab.
                    ServerEvent::NotificationsPaused { until } => {
                        let _ = auth.pause_changed.try_set(Some(until.clone()));
                        return;
                    }
                    _ => return,
                };
                // What a new socket replays is what happened while this tab
                // was away (asleep): shown in the room and counted, not one
                // notification for each.
                if live.replaying(*room_id) {
                    return;
                }
                let Some(Ok(Some(me))) = auth.me.get_untracked() else { return };
                let Some(Ok(rooms)) = chat.rooms.get_untracked() else { return };
                let Some(room) = rooms.iter().find(|room| room.id == *room_id) else { return };
                let Some(alert) = alert_for(room, message, me.id) else { return };
                if !crate::browser::tab_shown() {
                    if auth.paused_now() {
                        return;
                    }
                    return browser::show(alert, Some(message.id), navigate.clone());
                }
                // The open room reads its own messages out.
                if location.pathname.get_untracked() != alert.url {
                    let said = format!("{}: {}", alert.title, alert.body);
                    elsewhere.update(|now| *now = crate::browser::next_announcement(now, said));
                }
            });
        });
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = use_auth;
}

/// A desktop notification to show.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Alert {
    pub title: String,
    pub body: String,
    pub tag: String,
    pub url: String,
    pub room: hearth::model::RoomId,
}

/// The notification a new message in `room` is worth to `me`, if any: not
/// for my own, and only as my level for the room says. Titled as Web Push
/// titles it: "Alice in Launch crew", or "Alice" in a direct room.
pub fn alert_for(
    room: &hearth::model::ConversationSummary,
    message: &hearth::model::Message,
    me: hearth::model::UserId,
) -> Option<Alert> {
    if message.user_id == Some(me) || message.deleted {
        return None;
    }
    if !room.notify_level.notifies(message.mentions.contains(&me)) {
        return None;
    }
    let author = message.user.as_ref().map(|u| u.display_name().to_owned());
    // What it shows, as Web Push says it: "Attachment" for files alone.
    let body = crate::browser::listed_text(message, BODY_MAX)?;
    Some(Alert::new(room, author, body, me))
}

impl Alert {
    /// Titled as Web Push titles it: "Alice in Launch crew", or "Alice" in
    /// a direct room.
    fn new(
        room: &hearth::model::ConversationSummary,
        author: Option<String>,
        body: String,
        me: hearth::model::UserId,
    ) -> Self {
        let author = author.unwrap_or_else(|| "Someone".into());
        let title = match room.kind {
            hearth::model::RoomKind::Direct => author,
            _ => format!("{author} in {}", room.display_title(me)),
        };
        Self { title, body, tag: format!("room-{}", room.id), url: format!("/rooms/{}", room.id), room: room.id }
    }
}

/// The notification a room new in my list is worth: its newest message,
/// when that is unread and not mine, as my level there says (a mention
/// counted as unread mentions say).
pub fn alert_for_new_room(room: &hearth::model::ConversationSummary, me: hearth::model::UserId) -> Option<Alert> {
    let last = room.last_message.as_ref()?;
    if room.unread_count == 0 || last.user_id == Some(me) || !room.notify_level.notifies(room.unread_mentions > 0) {
        return None;
    }
    let author =
        last.user_id.and_then(|id| room.users.iter().find(|p| p.id == id)).map(|p| p.display_name().to_owned());
    let body: String = last.text.clone()?.chars().take(BODY_MAX).collect();
    Some(Alert::new(room, author, body, me))
}

fn set_favicon(href: &str) {
    #[cfg(feature = "hydrate")]
    if let Ok(Some(link)) = document().query_selector("link[rel=icon]")
        && link.get_attribute("href").as_deref() != Some(href)
    {
        let _ = link.set_attribute("href", href);
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = href;
}

#[cfg(feature = "hydrate")]
mod browser {
    use leptos::prelude::*;
    use wasm_bindgen::closure::Closure;
    use wasm_bindgen::{JsCast, JsValue};
    use web_sys::{Notification, NotificationOptions, NotificationPermission};

    use super::Alert;

    /// Whether this browser has the `Notification` API, the user allowed it,
    /// and did not turn desktop notifications off here since.
    pub fn allowed() -> bool {
        js_sys::Reflect::has(&window(), &"Notification".into()).unwrap_or(false)
            && Notification::permission() == NotificationPermission::Granted
            && !crate::components::desktop_notifications::silenced()
    }

    thread_local! {
        /// The notification this tab shows for each room, with the message
        /// it is for (`None`: a new room's newest).
        static SHOWN: std::cell::RefCell<std::collections::HashMap<hearth::model::RoomId, (Option<i64>, Notification)>> =
            Default::default();
    }

    /// How long a tab that notified of a message holds its claim on it
    /// (the same message reaches every tab within moments).
    const CLAIM_MS: i32 = 30_000;

    /// Shows `alert` (about `message`, if one) if the tab is hidden and
    /// notifications are allowed, and no other tab of this browser shows
    /// it: the tabs that hear of a message at once race for a Web Lock
    /// named after it, and only the one that gets it says it (without Web
    /// Locks, every hidden tab does, under the room's one tag).
    pub fn show(alert: Alert, message: Option<i64>, navigate: impl Fn(&str, leptos_router::NavigateOptions) + 'static) {
        if crate::browser::tab_shown() || !allowed() {
            return;
        }
        let locks = js_sys::Reflect::get(&window().navigator(), &"locks".into()).ok().filter(JsValue::is_object);
        let request = locks
            .as_ref()
            .and_then(|locks| js_sys::Reflect::get(locks, &"request".into()).ok()?.dyn_into::<js_sys::Function>().ok());
        let (Some(message), Some(locks), Some(request)) = (message, locks, request) else {
            return say(alert, message, navigate);
        };
        let options = js_sys::Object::new();
        let _ = js_sys::Reflect::set(&options, &"ifAvailable".into(), &true.into());
        let claimed = Closure::once_into_js(move |lock: JsValue| -> js_sys::Promise {
            if lock.is_null() {
                // Another tab has it.
                return js_sys::Promise::resolve(&JsValue::UNDEFINED);
            }
            say(alert, Some(message), navigate);
            js_sys::Promise::new(&mut |resolve, _| {
                let _ = window().set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, CLAIM_MS);
            })
        });
        let name = format!("hearth.notified.{message}");
        let _ = request.call3(&locks, &name.into(), &options, &claimed);
    }

    fn say(alert: Alert, message: Option<i64>, navigate: impl Fn(&str, leptos_router::NavigateOptions) + 'static) {
        let options = NotificationOptions::new();
        options.set_body(&alert.body);
        options.set_tag(&alert.tag);
        options.set_icon("/icon-192.png");
        let Ok(notification) = Notification::new_with_options(&alert.title, &options) else { return };
        let room = alert.room;
        SHOWN.with_borrow_mut(|shown| shown.insert(room, (message, notification.clone())));
        let shown = notification.clone();
        let url = alert.url;
        let open = Closure::once_into_js(move || {
            let _ = window().focus();
            navigate(&url, Default::default());
            shown.close();
        });
        notification.set_onclick(Some(open.unchecked_ref()));
    }

    /// Closes the notification this tab shows for `room`: any (the room
    /// was read), or only the one about `message` (it was deleted).
    pub fn withdraw(room: hearth::model::RoomId, message: Option<i64>) {
        SHOWN.with_borrow_mut(|shown| {
            if shown.get(&room).is_some_and(|(about, _)| message.is_none() || *about == message)
                && let Some((_, notification)) = shown.remove(&room)
            {
                notification.close();
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hearth::model::{Author, ConversationSummary, Message, NotifyLevel, Person, RoomId, RoomKind, UserId};

    const ME: UserId = UserId(1);
    const ALICE: UserId = UserId(2);

    fn room(kind: RoomKind, level: NotifyLevel) -> ConversationSummary {
        let person = |id: UserId, username: &str| Person {
            id,
            username: username.into(),
            name: Some(username.to_uppercase()),
            avatar_url: None,
            deactivated: false,
        };
        ConversationSummary {
            id: RoomId(7),
            title: Some("Launch crew".into()),
            topic: None,
            group: kind != RoomKind::Direct,
            kind,
            updated_at: String::new(),
            archived_at: None,
            users: vec![person(ME, "me"), person(ALICE, "alice")],
            last_message: None,
            unread_count: 0,
            unread_mentions: 0,
            notify_level: level,
            closed_at: None,
            closed: false,
        }
    }

    fn message(from: UserId, body: &str, mentions: Vec<UserId>) -> Message {
        Message {
            id: 1,
            conversation_id: RoomId(7),
            number: 3,
            user_id: Some(from),
            user: Some(Author::new(from, "alice".into(), Some("Alice".into()))),
            body: Some(body.into()),
            client_id: None,
            mentions,
            application: None,
            created_at: String::new(),
            edited_at: None,
            deleted: false,
            html: None,
            reply_to: None,
            reply_count: 0,
            reactions: Vec::new(),
            pinned: None,
            preview: None,
            attachments: Vec::new(),
        }
    }

    #[test]
    fn a_message_alerts_as_my_level_for_the_room_says_and_never_for_my_own() {
        let plain = message(ALICE, "hello", vec![]);
        let mention = message(ALICE, "hi @me", vec![ME]);
        let mine = message(ME, "hi @me", vec![ME]);
        let everything = room(RoomKind::Group, NotifyLevel::Everything);
        let mentions = room(RoomKind::Group, NotifyLevel::Mentions);
        let nothing = room(RoomKind::Group, NotifyLevel::Nothing);
        assert!(alert_for(&everything, &plain, ME).is_some());
        assert!(alert_for(&mentions, &plain, ME).is_none());
        assert!(alert_for(&mentions, &mention, ME).is_some());
        assert!(alert_for(&nothing, &mention, ME).is_none());
        assert!(alert_for(&everything, &mine, ME).is_none());
    }

    #[test]
    fn files_alone_alert_as_an_attachment() {
        let alert = alert_for(&room(RoomKind::Group, NotifyLevel::Everything), &message(ALICE, "", vec![]), ME);
        assert_eq!(alert.map(|a| a.body), Some("Attachment".to_owned()));
    }

    #[test]
    fn an_alert_is_titled_by_author_and_room_as_web_push_titles_it() {
        let alert = alert_for(&room(RoomKind::Group, NotifyLevel::Everything), &message(ALICE, "a\n b", vec![]), ME);
        assert_eq!(
            alert,
            Some(Alert {
                title: "Alice in Launch crew".into(),
                body: "a b".into(),
                tag: "room-7".into(),
                url: "/rooms/7".into(),
                room: RoomId(7),
            })
        );
        let direct = alert_for(&room(RoomKind::Direct, NotifyLevel::Everything), &message(ALICE, "yo", vec![]), ME);
        assert_eq!(direct.map(|a| a.title), Some("Alice".into()));
        let long = "x".repeat(300);
        let cut = alert_for(&room(RoomKind::Group, NotifyLevel::Everything), &message(ALICE, &long, vec![]), ME);
        assert_eq!(cut.map(|a| a.body.chars().count()), Some(BODY_MAX));
    }

    #[test]
    fn a_new_room_alerts_its_newest_message_when_unread_not_mine_and_let_through() {
        let with_last = |kind, level, from: UserId, unread: i64, mentions: i64| ConversationSummary {
            last_message: Some(hearth::model::LastMessage {
                number: 1,
                body: Some("**hey**".into()),
                text: Some("hey".into()),
                user_id: Some(from),
                created_at: String::new(),
            }),
            unread_count: unread,
            unread_mentions: mentions,
            ..room(kind, level)
        };
        let direct = alert_for_new_room(&with_last(RoomKind::Direct, NotifyLevel::Everything, ALICE, 1, 0), ME);
        assert_eq!(direct.map(|a| (a.title, a.body)), Some(("ALICE".to_owned(), "hey".to_owned())));
        assert!(alert_for_new_room(&with_last(RoomKind::Direct, NotifyLevel::Everything, ME, 1, 0), ME).is_none());
        assert!(alert_for_new_room(&with_last(RoomKind::Direct, NotifyLevel::Everything, ALICE, 0, 0), ME).is_none());
        assert!(alert_for_new_room(&with_last(RoomKind::Group, NotifyLevel::Mentions, ALICE, 1, 0), ME).is_none());
        let mentioned = alert_for_new_room(&with_last(RoomKind::Group, NotifyLevel::Mentions, ALICE, 1, 1), ME);
        assert_eq!(mentioned.map(|a| a.title), Some("ALICE in Launch crew".to_owned()));
        assert!(alert_for_new_room(&room(RoomKind::Direct, NotifyLevel::Everything), ME).is_none(), "no message");
    }
}
