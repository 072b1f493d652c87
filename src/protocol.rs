//! The WebSocket wire protocol: two serde-tagged enums, documented with an
//! example of each event in `docs/protocol.md`. Shared with the browser.

use serde::{Deserialize, Serialize};

use crate::model::{Author, Message, Reaction, ReplyTo, RoomId, UserId};

/// Client → server.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ClientEvent {
    /// Start receiving a room's changes. With `after`, first replay every
    /// change with a greater `seq`, then switch to live with no gap.
    Subscribe {
        room_id: RoomId,
        after: Option<i64>,
    },
    Unsubscribe {
        room_id: RoomId,
    },
    /// Post a message; `client_id` makes retries safe.
    Send {
        room_id: RoomId,
        body: String,
        client_id: String,
        /// The number of the message this one answers, in the same room.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reply_to: Option<i64>,
        /// My uploads to the room that it carries
        /// (`POST /conversations/:id/attachments`); with files, `body` may
        /// be empty.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        attachments: Vec<i64>,
    },
    /// Toggle my reaction `emoji` on message `number`.
    React {
        room_id: RoomId,
        number: i64,
        emoji: String,
    },
    Typing {
        room_id: RoomId,
    },
    /// I have read up to `number`.
    Read {
        room_id: RoomId,
        number: i64,
    },
    /// This tab shows `room_id` while the page is visible; `null` when it is
    /// hidden or shows no room. Sent on every change and after each
    /// reconnect; no Web Push goes out for a room a tab shows.
    Viewing {
        room_id: Option<RoomId>,
    },
    /// Are you there? Answered with `pong` at once. A browser cannot see the
    /// protocol's own pings, so this is how it learns that a socket which
    /// still looks open (a network switched under it) carries nothing.
    Ping,
}

/// Server → client.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ServerEvent {
    /// The subscription is live; replay (if any) ended at `seq`.
    Subscribed {
        room_id: RoomId,
        seq: i64,
    },
    Message {
        room_id: RoomId,
        seq: i64,
        message: Message,
    },
    MessageEdited {
        room_id: RoomId,
        seq: i64,
        message: Message,
    },
    MessageDeleted {
        room_id: RoomId,
        seq: i64,
        number: i64,
        /// The deleted message's `id` (0 from servers older than this field).
        #[serde(default)]
        message_id: i64,
        /// When the deleted message was a reply: the original's quote, with
        /// its reply count as it is now.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reply_to: Option<ReplyTo>,
    },
    /// Message `number`'s reactions changed; `reactions` is all of them now.
    Reacted {
        room_id: RoomId,
        seq: i64,
        number: i64,
        message_id: i64,
        reactions: Vec<Reaction>,
    },
    /// Someone is typing; shown for about five seconds.
    Typing {
        room_id: RoomId,
        user: Author,
    },
    /// A user came online (first socket) or went offline (last socket closed,
    /// after a grace period).
    Presence {
        user_id: UserId,
        online: bool,
    },
    /// `user_id` has read `room_id` up to `number`.
    Read {
        room_id: RoomId,
        user_id: UserId,
        number: i64,
    },
    /// Something about one of my rooms changed: I joined or left it, or my
    /// unread count moved (`unread`: with the unread mentions beside it).
    Room {
        room_id: RoomId,
        change: RoomChange,
        unread_count: Option<i64>,
        /// My unread messages that mention me (with `unread`).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        unread_mentions: Option<i64>,
    },
    /// You fell too far behind: reload this room's history and subscribe again.
    Resync {
        room_id: RoomId,
    },
    Error {
        code: String,
        message: String,
        client_id: Option<String>,
        /// The room the refused request named, so a client with several
        /// subscriptions knows which one failed.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        room_id: Option<RoomId>,
    },
    /// I paused my notifications until `until`, or resumed them (`None`):
    /// sent to each of my sockets, so every tab stops (or starts) showing
    /// desktop notifications at once.
    NotificationsPaused {
        until: Option<String>,
    },
    /// I saved message `number` of `room_id` (`saved_at`), or took it off
    /// my list (`None`): sent to each of my sockets alone, so every tab
    /// marks it at once.
    MessageSaved {
        room_id: RoomId,
        number: i64,
        saved_at: Option<String>,
    },
    /// The answer to the client's `ping`.
    Pong,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RoomChange {
    Added,
    Removed,
    Unread,
    /// Renamed, its topic changed, someone joined or left, or (to me
    /// alone) my notification level for it changed or I closed or reopened
    /// it: read the room again.
    Updated,
    /// Archived: read-only from now on, and listed apart.
    Archived,
}

impl ServerEvent {
    /// `room` was added, changed or removed for the one told (no counts).
    pub fn room(room_id: RoomId, change: RoomChange) -> Self {
        Self::Room { room_id, change, unread_count: None, unread_mentions: None }
    }

    /// The room-sequence position of a change event.
    pub fn seq(&self) -> Option<i64> {
        match self {
            Self::Message { seq, .. }
            | Self::MessageEdited { seq, .. }
            | Self::MessageDeleted { seq, .. }
            | Self::Reacted { seq, .. } => Some(*seq),
            _ => None,
        }
    }
}
