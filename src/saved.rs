//! Saved messages ("save for later"): each person keeps a private list of
//! messages to come back to, across the rooms they are in. No one else is
//! told or can read it; each of my tabs hears of a change at once
//! ([`ServerEvent::MessageSaved`]). The list shows live messages of rooms I
//! am still in, the most recently saved first; deleting a message takes it
//! off every list.

use std::collections::{BTreeMap, HashMap};

use crate::Hearth;
use crate::error::AppError;
use crate::model::{Message, RoomId, SavedMark, SavedMessage, SavedMessages, SavedNumbers, UserId};
use crate::protocol::ServerEvent;
use crate::store::SaveChange;

/// The most messages a person's list holds.
pub const SAVED_MAX: i64 = 1000;

/// Entries per page of the list when `limit` is absent, and the most.
const PAGE_DEFAULT: u32 = 50;
const PAGE_MAX: u32 = 100;

/// The paging parameters of my list (a query string).
#[derive(Debug, Default, Clone, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams), into_params(parameter_in = Query))]
pub struct SavedParams {
    /// The entries saved before this one (its `id`; none: from the newest).
    pub before: Option<i64>,
    /// Entries per page: 1 to 100 (more is cut to 100), 50 when absent.
    #[cfg_attr(feature = "openapi", param(minimum = 1))]
    #[serde(default, deserialize_with = "crate::error::any_limit")]
    pub limit: Option<u32>,
}

impl Hearth {
    /// Puts message `number` of `room` on my list (`on`) or takes it off,
    /// as a member of the room (archived rooms too: it is mine, not the
    /// room's); where it stands now. Each of my tabs is told of a change;
    /// saving a saved message keeps its time and tells no one; a deleted or
    /// missing message is a 404; past [`SAVED_MAX`], a 409.
    pub async fn save_message(&self, me: UserId, room: RoomId, number: i64, on: bool) -> Result<SavedMark, AppError> {
        self.member_room(me, room).await?;
        let (saved_at, changed) = match self.store.set_saved(me, room, number, on, SAVED_MAX).await? {
            None => return Err(AppError::NotFound("message")),
            Some(SaveChange::Full) => {
                return Err(AppError::Conflict(format!(
                    "You have saved {SAVED_MAX} messages, the most you can: remove one from your saved messages first"
                )));
            }
            Some(SaveChange::Saved { at, new }) => (Some(at), new),
            Some(SaveChange::NotSaved { removed }) => (None, removed),
        };
        if changed {
            self.hub.send_user(me, &ServerEvent::MessageSaved { room_id: room, number, saved_at: saved_at.clone() });
        }
        Ok(SavedMark { saved_at })
    }

    /// The numbers of the live messages I saved in `room` (404 unless I am
    /// a member), for its window to mark them.
    pub async fn saved_in_room(&self, me: UserId, room: RoomId) -> Result<SavedNumbers, AppError> {
        self.member_room(me, room).await?;
        Ok(SavedNumbers { numbers: self.store.saved_numbers(me, room).await? })
    }

    /// A page of my list, the most recently saved first, each message as it
    /// is now; `next_before` pages on.
    pub async fn saved_messages(&self, me: UserId, params: &SavedParams) -> Result<SavedMessages, AppError> {
        let limit = crate::error::page_limit(params.limit, PAGE_DEFAULT, PAGE_MAX)? as usize;
        let mut rows = self.store.saved_list(me, params.before, limit as i64 + 1).await?;
        let more = rows.len() > limit;
        rows.truncate(limit);
        // One read of messages per room on the page.
        let mut by_room: BTreeMap<RoomId, Vec<i64>> = BTreeMap::new();
        for row in &rows {
            by_room.entry(row.room_id).or_default().push(row.number);
        }
        let mut messages: HashMap<(RoomId, i64), Message> = HashMap::new();
        for (room, numbers) in by_room {
            for message in self.store.messages_numbered(room, &numbers).await? {
                messages.insert((room, message.number), message);
            }
        }
        let next_before = if more { rows.last().map(|row| row.id) } else { None };
        // One deleted since the list was read is left out.
        let saved = rows
            .into_iter()
            .filter_map(|row| {
                let message = messages.remove(&(row.room_id, row.number)).filter(|m| !m.deleted)?;
                Some(SavedMessage { id: row.id, saved_at: row.saved_at, message })
            })
            .collect();
        Ok(SavedMessages { saved, next_before })
    }
}
