//! Room membership from the room's own window: adding people.

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
