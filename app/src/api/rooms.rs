//! Room membership from the room's own window: adding and removing people.

use hearth::model::Person;
use leptos::prelude::*;

#[cfg(feature = "ssr")]
use super::ssr;
use crate::error::UiError;

/// Adds people (`user_ids`, comma-separated) to a group or open room I am
/// in (the core decides who may); answers the room's members after.
#[server(prefix = "/fn")]
pub async fn add_people(room_id: i64, user_ids: String) -> Result<Vec<Person>, UiError> {
    use hearth::model::{RoomId, UserId};
    let (hearth, me) = ssr::user().await?;
    let users = user_ids.split(',').filter_map(|id| id.trim().parse::<i64>().ok()).map(UserId).collect();
    Ok(hearth.add_participants(me.id, RoomId(room_id), users).await?)
}

/// Removes someone from a group or open room (its creator or an admin
/// may).
#[server(prefix = "/fn")]
pub async fn remove_person(room_id: i64, user_id: i64) -> Result<(), UiError> {
    use hearth::model::{RoomId, UserId};
    let (hearth, me) = ssr::user().await?;
    Ok(hearth.remove_participant(me.id, RoomId(room_id), UserId(user_id)).await?)
}

/// Renames a group or open room and sets its topic (an empty topic clears
/// it); the core lets its creator or an admin, and answers the room after.
#[server(prefix = "/fn")]
pub async fn change_room(room_id: i64, title: String, topic: String) -> Result<hearth::model::Conversation, UiError> {
    use hearth::model::RoomId;
    use hearth::room_settings::RoomChanges;
    let (hearth, me) = ssr::user().await?;
    let changes = RoomChanges { title: Some(title), topic: Some(topic) };
    Ok(hearth.update_room(me.id, RoomId(room_id), changes).await?)
}

/// Archives a group or open room: read-only from now on, for everyone in it
/// (its creator or an admin may).
#[server(prefix = "/fn")]
pub async fn archive_room(room_id: i64) -> Result<(), UiError> {
    let (hearth, me) = ssr::user().await?;
    Ok(hearth.archive_room(me.id, hearth::model::RoomId(room_id)).await?)
}

/// The rooms I am in that were archived: read-only, and kept out of the
/// sidebar, so listed on the browse page.
#[server(prefix = "/fn")]
pub async fn archived_rooms() -> Result<Vec<hearth::model::ConversationSummary>, UiError> {
    let (hearth, me) = ssr::user().await?;
    Ok(hearth.archived_conversations(me.id).await?)
}

/// Closes a direct conversation: read, and out of my room list until
/// someone writes in it.
#[server(prefix = "/fn")]
pub async fn close_conversation(room_id: i64) -> Result<(), UiError> {
    let (hearth, me) = ssr::user().await?;
    Ok(hearth.close_conversation(me.id, hearth::model::RoomId(room_id)).await?)
}

/// Puts a conversation I closed back in my room list.
#[server(prefix = "/fn")]
pub async fn reopen_conversation(room_id: i64) -> Result<(), UiError> {
    let (hearth, me) = ssr::user().await?;
    Ok(hearth.reopen_conversation(me.id, hearth::model::RoomId(room_id)).await?)
}
