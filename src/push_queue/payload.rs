//! What a push carries, encrypted (docs/protocol.md, "Web Push payloads").

use serde::Serialize;

use crate::model::RoomId;

/// The longest `body` a message push carries, in characters.
pub const BODY_MAX: usize = 200;

/// What a push carries (encrypted), as `public/sw.js` reads it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Payload {
    Message { room_id: RoomId, number: i64, tag: String, title: String, body: String, url: String },
    Close { room_id: RoomId, number: i64, tag: String },
}

impl Payload {
    /// A new message: "Alice in Launch crew" (or "Alice" in a direct room),
    /// its text cut to [`BODY_MAX`] characters.
    pub fn message(room: RoomId, number: i64, author: &str, room_title: Option<&str>, body: &str) -> Self {
        let title = match room_title {
            Some(room_title) => format!("{author} in {room_title}"),
            None => author.to_owned(),
        };
        let url = format!("/rooms/{}", room.0);
        Self::Message {
            room_id: room,
            number,
            tag: tag(room),
            title,
            body: crate::markdown::listed_line(body, BODY_MAX),
            url,
        }
    }

    pub fn close(room: RoomId, number: i64) -> Self {
        Self::Close { room_id: room, number, tag: tag(room) }
    }
}

pub(super) fn tag(room: RoomId) -> String {
    format!("room-{}", room.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_message_payload_names_the_author_and_room_and_cuts_the_text() {
        let long = "word ".repeat(100);

        let group = Payload::message(RoomId(7), 42, "Alice", Some("Launch crew"), &long);
        let direct =
            Payload::message(RoomId(8), 1, "Alice", None, "**hi**\n  `there`\n\n- [a link](https://x.example)");

        let group = serde_json::to_value(&group).expect("json");
        assert_eq!(group["kind"], "message");
        assert_eq!(group["title"], "Alice in Launch crew");
        assert_eq!(group["tag"], "room-7");
        assert_eq!(group["url"], "/rooms/7");
        assert_eq!(group["body"].as_str().expect("text").chars().count(), BODY_MAX);
        assert!(group["body"].as_str().expect("text").ends_with('…'));
        let direct = serde_json::to_value(&direct).expect("json");
        assert_eq!(direct["title"], "Alice");
        assert_eq!(direct["body"], "hi there a link", "plain text, on one line");
        assert_eq!(
            serde_json::to_value(Payload::close(RoomId(7), 42)).expect("json"),
            serde_json::json!({ "kind": "close", "room_id": 7, "number": 42, "tag": "room-7" })
        );
    }
}
