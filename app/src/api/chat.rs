//! Chat server functions: rooms, the people picker and messages.

use hearth::model::{
    ConversationDetail, ConversationSummary, Message, MessagePage, NotificationSettings, OpenRoom, Person, Reaction,
    ReplyTo, RoomId, SearchResults,
};
use leptos::prelude::*;

#[cfg(feature = "ssr")]
use super::ssr;
use crate::error::UiError;

#[server(prefix = "/fn")]
pub async fn list_conversations() -> Result<Vec<ConversationSummary>, UiError> {
    // Signed-out pages (login, register) have no rooms rather than an error.
    let Some(me) = ssr::session().await?.user else {
        return Ok(Vec::new());
    };
    Ok(ssr::hearth()?.conversations(me.id).await?)
}

/// The most people `/people` lists for one search.
pub const PEOPLE_LISTED: u32 = 50;

#[server(prefix = "/fn")]
pub async fn search_people(query: String) -> Result<Vec<Person>, UiError> {
    let (hearth, _) = ssr::user().await?;
    Ok(hearth.directory(Some(&query), Some(PEOPLE_LISTED)).await?)
}

/// Opens the direct room with `user_id` (existing or new), or a group when
/// several people are picked. Without JavaScript, the form lands in the room.
#[server(prefix = "/fn")]
pub async fn start_conversation(user_ids: String, title: Option<String>) -> Result<RoomId, UiError> {
    use hearth::model::UserId;
    use hearth::rooms::NewConversation;
    let (hearth, me) = ssr::user().await?;
    let participant_ids = user_ids.split(',').filter_map(|id| id.trim().parse::<i64>().ok()).map(UserId).collect();
    let opened = hearth.create_conversation(me.id, NewConversation { participant_ids, title, kind: None }).await?;
    leptos_axum::redirect(&format!("/rooms/{}", opened.id));
    Ok(opened.id)
}

#[server(prefix = "/fn")]
pub async fn list_open_rooms() -> Result<Vec<OpenRoom>, UiError> {
    let (hearth, me) = ssr::user().await?;
    Ok(hearth.open_rooms(me.id).await?)
}

#[server(prefix = "/fn")]
pub async fn create_open_room(title: String) -> Result<RoomId, UiError> {
    use hearth::rooms::NewConversation;
    let (hearth, me) = ssr::user().await?;
    let input = NewConversation { participant_ids: Vec::new(), title: Some(title), kind: Some("open".into()) };
    let opened = hearth.create_conversation(me.id, input).await?;
    leptos_axum::redirect(&format!("/rooms/{}", opened.id));
    Ok(opened.id)
}

/// Joins an open room and opens it: at message `around` when given (a link
/// to a message in it, followed by someone not yet in it).
#[server(prefix = "/fn")]
pub async fn join_room(room_id: i64, around: Option<i64>) -> Result<RoomId, UiError> {
    let (hearth, me) = ssr::user().await?;
    hearth.join(me.id, RoomId(room_id)).await?;
    let at = around.map(|n| format!("?around={n}")).unwrap_or_default();
    leptos_axum::redirect(&format!("/rooms/{room_id}{at}"));
    Ok(RoomId(room_id))
}

#[server(prefix = "/fn")]
pub async fn leave_room(room_id: i64) -> Result<(), UiError> {
    let (hearth, me) = ssr::user().await?;
    hearth.leave(me.id, RoomId(room_id)).await?;
    leptos_axum::redirect("/");
    Ok(())
}

/// What the chat window opens with: the room, and how long its messages
/// stay editable (so Edit is offered only while the server would accept it).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct RoomView {
    pub detail: ConversationDetail,
    pub edit_window_secs: u64,
    /// Whether the viewer is an admin, who may delete anyone's message.
    #[serde(default)]
    pub admin: bool,
    /// The first message others wrote after my read marker: the "New
    /// messages" divider goes above it.
    #[serde(default)]
    pub first_unread: Option<i64>,
    /// The message the page is around (a search hit, or the first unread);
    /// `None`: the newest page.
    #[serde(default)]
    pub around: Option<i64>,
    /// My notification level for the room (the header's picker).
    pub notifications: NotificationSettings,
    /// The numbers of the messages I saved in the room.
    #[serde(default)]
    pub saved: Vec<i64>,
}

/// The room as its window opens (`at_unread`: at my first unread message,
/// [`hearth::Hearth::open_room`]), or its newest page (a resync), or the
/// page around message `around`.
#[server(prefix = "/fn")]
pub async fn room_detail(room_id: i64, around: Option<i64>, at_unread: bool) -> Result<RoomView, UiError> {
    let (hearth, me) = ssr::user().await?;
    let room = RoomId(room_id);
    let (detail, first_unread, around) = if at_unread {
        let opening = hearth.open_room(me.id, room, around).await?;
        (opening.detail, opening.first_unread, opening.around)
    } else {
        (hearth.conversation_around(me.id, room, around).await?, None, around)
    };
    let admin = hearth.is_admin(me.id).await?;
    let notifications = hearth.notification_settings(me.id, room).await?;
    let saved = hearth.saved_in_room(me.id, room).await?.numbers;
    let edit_window_secs = hearth.settings().edit_window_secs;
    Ok(RoomView { detail, edit_window_secs, admin, first_unread, around, notifications, saved })
}

/// How many hits the search page shows: the newest this many.
pub const SEARCH_PAGE: u32 = 50;

/// Messages containing `query` in any of my rooms (in room `room_id` alone
/// when given), newest first.
#[server(prefix = "/fn")]
pub async fn search_messages(query: String, room_id: Option<i64>) -> Result<SearchResults, UiError> {
    let (hearth, me) = ssr::user().await?;
    if query.trim().is_empty() {
        return Ok(SearchResults { results: Vec::new(), partial: false, ignored: Vec::new() });
    }
    Ok(hearth.search(me.id, &query, room_id.map(RoomId), Some(SEARCH_PAGE)).await?)
}

/// The page of history before message `before_number`, after `after_number`
/// (oldest first), or around `around`.
#[server(prefix = "/fn")]
pub async fn load_messages(
    room_id: i64,
    before_number: Option<i64>,
    after_number: Option<i64>,
    around: Option<i64>,
) -> Result<MessagePage, UiError> {
    use hearth::messages::HistoryParams;
    let (hearth, me) = ssr::user().await?;
    let params = HistoryParams { before_number, after_number, around, limit: Some(50), ..Default::default() };
    Ok(hearth.history(me.id, RoomId(room_id), &params).await?)
}

/// Sends a message; `reply_to` is the number of the message it answers,
/// `attachments` my uploads it carries, `author` the account it was written
/// as: a message written in a tab before its user signed out is not sent
/// as whoever signed in since in that browser (409).
#[server(prefix = "/fn")]
pub async fn send_message(
    room_id: i64,
    body: String,
    client_id: Option<String>,
    reply_to: Option<i64>,
    attachments: Option<Vec<i64>>,
    author: Option<i64>,
) -> Result<Message, UiError> {
    let (hearth, me) = ssr::user().await?;
    if author.is_some_and(|author| author != me.id.0) {
        return Err(hearth::AppError::Conflict(SOMEONE_ELSE.into()).into());
    }
    let files = attachments.unwrap_or_default();
    Ok(hearth.post_reply(me.id, RoomId(room_id), &body, client_id.as_deref(), reply_to, &files).await?.message)
}

/// Why a send written as another account than this browser's is refused.
pub const SOMEONE_ELSE: &str =
    "Someone else has signed in on this browser since this was written: reload the page to send as them";

/// Message `number`'s first 50 live replies, each as a quote (who, and how
/// it begins), for its "N replies" list.
#[server(prefix = "/fn")]
pub async fn message_replies(room_id: i64, number: i64) -> Result<Vec<ReplyTo>, UiError> {
    use hearth::messages::RepliesParams;
    let (hearth, me) = ssr::user().await?;
    let params = RepliesParams { after: None, limit: Some(REPLIES_LISTED) };
    let page = hearth.replies(me.id, RoomId(room_id), number, &params).await?;
    Ok(page
        .messages
        .into_iter()
        .map(|m| {
            let text = hearth::markdown::one_line(m.body.as_deref().unwrap_or(""), ReplyTo::SNIPPET_MAX);
            let snippet = if text.is_empty() && !m.attachments.is_empty() { "Sent a file".to_owned() } else { text };
            let edited = m.edited_at.is_some() && !m.deleted;
            ReplyTo { number: m.number, user: m.user, snippet: Some(snippet), reply_count: 0, edited }
        })
        .collect())
}

/// How many replies a message's "N replies" lists.
pub const REPLIES_LISTED: u32 = 50;

/// Toggles my reaction `emoji` on message `number`; the message's reactions after.
#[server(prefix = "/fn")]
pub async fn toggle_reaction(room_id: i64, number: i64, emoji: String) -> Result<Vec<Reaction>, UiError> {
    let (hearth, me) = ssr::user().await?;
    Ok(hearth.react(me.id, RoomId(room_id), number, &emoji, None).await?)
}

#[server(prefix = "/fn")]
pub async fn edit_message(room_id: i64, number: i64, body: String) -> Result<Message, UiError> {
    let (hearth, me) = ssr::user().await?;
    Ok(hearth.edit_message(me.id, RoomId(room_id), number, &body).await?)
}

#[server(prefix = "/fn")]
pub async fn delete_message(room_id: i64, number: i64) -> Result<(), UiError> {
    let (hearth, me) = ssr::user().await?;
    Ok(hearth.delete_message(me.id, RoomId(room_id), number).await?)
}

/// Pins message `number` to its room (`on`) or unpins it; the message now.
#[server(prefix = "/fn")]
pub async fn set_pin(room_id: i64, number: i64, on: bool) -> Result<Message, UiError> {
    let (hearth, me) = ssr::user().await?;
    Ok(hearth.pin(me.id, RoomId(room_id), number, on).await?)
}

/// The room's pinned messages, the most recently pinned first.
#[server(prefix = "/fn")]
pub async fn pinned_messages(room_id: i64) -> Result<Vec<Message>, UiError> {
    let (hearth, me) = ssr::user().await?;
    Ok(hearth.pinned_messages(me.id, RoomId(room_id)).await?.messages)
}

/// Puts message `number` on my saved list (`on`) or takes it off; when it
/// was saved, `None` once it is not.
#[server(prefix = "/fn")]
pub async fn set_saved(room_id: i64, number: i64, on: bool) -> Result<Option<String>, UiError> {
    let (hearth, me) = ssr::user().await?;
    Ok(hearth.save_message(me.id, RoomId(room_id), number, on).await?.saved_at)
}

/// A page of my saved messages, the most recently saved first (`before`:
/// after the entry with that id).
#[server(prefix = "/fn")]
pub async fn saved_messages(before: Option<i64>) -> Result<hearth::model::SavedMessages, UiError> {
    let (hearth, me) = ssr::user().await?;
    let params = hearth::saved::SavedParams { before, limit: None };
    Ok(hearth.saved_messages(me.id, &params).await?)
}

/// "Mark unread" from message `number` on; my read marker now.
#[server(prefix = "/fn")]
pub async fn mark_unread(room_id: i64, number: i64) -> Result<i64, UiError> {
    let (hearth, me) = ssr::user().await?;
    Ok(hearth.mark_unread(me.id, RoomId(room_id), number).await?)
}

/// The emoji a shortcode's start names (`tad` → 🎉), the likeliest first.
#[server(prefix = "/fn")]
pub async fn emoji_suggestions(query: String) -> Result<Vec<hearth::model::EmojiSuggestion>, UiError> {
    ssr::user().await?;
    Ok(hearth::emoji::suggestions(&query).map_err(hearth::AppError::from)?)
}

/// "Mark all as read": the rooms it read.
#[server(prefix = "/fn")]
pub async fn mark_all_read() -> Result<Vec<RoomId>, UiError> {
    let (hearth, me) = ssr::user().await?;
    Ok(hearth.mark_all_read(me.id).await?.rooms)
}

#[server(prefix = "/fn")]
pub async fn mark_read(room_id: i64, number: i64) -> Result<i64, UiError> {
    let (hearth, me) = ssr::user().await?;
    Ok(hearth.mark_read(me.id, RoomId(room_id), number).await?)
}

/// What message `number` said before its edits, the oldest first.
#[server(prefix = "/fn")]
pub async fn message_edits(room_id: i64, number: i64) -> Result<Vec<hearth::model::MessageVersion>, UiError> {
    let (hearth, me) = ssr::user().await?;
    Ok(hearth.message_versions(me.id, RoomId(room_id), number).await?.versions)
}
