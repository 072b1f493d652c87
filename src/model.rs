//! Types that cross the wire: returned by the REST API, server functions and
//! (later) the WebSocket. They hold no secrets and compile to WASM.

use serde::{Deserialize, Serialize};

/// A user's database id. A newtype so a room id can never be passed for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct UserId(pub i64);

impl std::fmt::Display for UserId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

/// The signed-in user's own view of their account (`GET /users/me`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(sqlx::FromRow))]
pub struct Profile {
    pub id: UserId,
    pub email: String,
    pub username: String,
    pub name: Option<String>,
    pub avatar_url: Option<String>,
}

impl Profile {
    /// The name to show: the display name when set, else the username.
    pub fn display_name(&self) -> &str {
        self.name.as_deref().filter(|n| !n.is_empty()).unwrap_or(&self.username)
    }
}

/// Another person as the directory shows them: never their email.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(sqlx::FromRow))]
pub struct Person {
    pub id: UserId,
    pub username: String,
    pub name: Option<String>,
    pub avatar_url: Option<String>,
}

/// A demo account offered on the login page when demo mode is on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DemoAccount {
    pub email: String,
    pub name: String,
    pub password: String,
}

/// A room's database id ("conversation id" in the API).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct RoomId(pub i64);

impl std::fmt::Display for RoomId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RoomKind {
    /// Exactly two members; at most one such room per pair.
    Direct,
    /// Three or more members, private.
    Group,
    /// Listed for everyone, joined at will.
    Open,
}

impl RoomKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Direct => "direct",
            Self::Group => "group",
            Self::Open => "open",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "direct" => Some(Self::Direct),
            "group" => Some(Self::Group),
            "open" => Some(Self::Open),
            _ => None,
        }
    }
}

/// A room as `GET /conversations/:id` shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Conversation {
    pub id: RoomId,
    pub title: Option<String>,
    /// ChatFlow's flag: true for group and open rooms.
    pub group: bool,
    pub kind: RoomKind,
    pub created_by: Option<UserId>,
    pub updated_at: String,
    /// The newest message's number (0 when empty).
    pub last_number: i64,
    /// The room's change sequence: subscribe with `after: last_seq`.
    pub last_seq: i64,
}

/// The preview of a room's newest message in the room list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LastMessage {
    pub number: i64,
    /// `None` once deleted.
    pub body: Option<String>,
    pub user_id: Option<UserId>,
    pub created_at: String,
}

/// One entry of `GET /conversations`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConversationSummary {
    pub id: RoomId,
    pub title: Option<String>,
    pub group: bool,
    pub kind: RoomKind,
    pub updated_at: String,
    pub users: Vec<Person>,
    pub last_message: Option<LastMessage>,
    /// Messages after my read marker that I did not write.
    pub unread_count: i64,
    /// Of those, the ones that mention me.
    #[serde(default)]
    pub unread_mentions: i64,
    /// My notification level for the room (its kind's default unless set).
    #[serde(default)]
    pub notify_level: NotifyLevel,
}

/// What a member is told about in a room: every message, only those that
/// mention them, or nothing. Unset, it follows the room's kind: direct
/// rooms everything, groups and open rooms mentions
/// ([`NotifyLevel::default_for`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum NotifyLevel {
    Everything,
    #[default]
    Mentions,
    Nothing,
}

impl NotifyLevel {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Everything => "everything",
            Self::Mentions => "mentions",
            Self::Nothing => "nothing",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        [Self::Everything, Self::Mentions, Self::Nothing].into_iter().find(|l| l.as_str() == raw)
    }
}

/// `GET`/`PUT /conversations/:id/notifications`: my level for a room.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct NotificationSettings {
    pub level: NotifyLevel,
    /// True when I have not chosen, and `level` is the room kind's default.
    pub default: bool,
}

impl ConversationSummary {
    /// What the room list shows: the other person for a direct room, else
    /// the title.
    pub fn display_title(&self, me: UserId) -> String {
        if self.kind == RoomKind::Direct
            && let Some(other) = self.users.iter().find(|u| u.id != me)
        {
            return other.name.clone().filter(|n| !n.is_empty()).unwrap_or_else(|| other.username.clone());
        }
        self.title.clone().filter(|t| !t.is_empty()).unwrap_or_else(|| "Untitled room".to_owned())
    }
}

/// An open room in the `GET /rooms` directory.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(sqlx::FromRow))]
pub struct OpenRoom {
    pub id: RoomId,
    pub title: Option<String>,
    pub member_count: i64,
    pub is_member: bool,
    pub updated_at: String,
}

/// A message's author, as messages carry it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Author {
    pub id: UserId,
    pub username: String,
    pub name: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Message {
    pub id: i64,
    pub conversation_id: RoomId,
    /// 1, 2, 3… within the room, with no gaps.
    pub number: i64,
    pub user_id: Option<UserId>,
    pub user: Option<Author>,
    /// `None` once deleted: the row stays, the text does not.
    pub body: Option<String>,
    pub client_id: Option<String>,
    /// The users this message mentions, resolved when it was sent (members
    /// of the room named `@username`, or all of them for `@everyone`).
    #[serde(default)]
    pub mentions: Vec<UserId>,
    /// The application's name, for messages posted through the token API.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub application: Option<String>,
    pub created_at: String,
    pub edited_at: Option<String>,
    pub deleted: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Cursor {
    /// Pass as `before` for the page before this one (an ISO 8601 time).
    pub before: Option<String>,
    /// Pass as `after` for the page after this one.
    pub after: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct PageInfo {
    pub count: usize,
    /// The oldest and newest message numbers on the page.
    pub oldest: Option<i64>,
    pub newest: Option<i64>,
    pub cursor: Cursor,
}

/// A page of history, ascending.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct MessagePage {
    pub messages: Vec<Message>,
    pub page_info: PageInfo,
}

impl MessagePage {
    pub fn new(messages: Vec<Message>) -> Self {
        let page_info = PageInfo {
            count: messages.len(),
            oldest: messages.first().map(|m| m.number),
            newest: messages.last().map(|m| m.number),
            cursor: Cursor {
                before: messages.first().map(|m| m.created_at.clone()),
                after: messages.last().map(|m| m.created_at.clone()),
            },
        };
        Self { messages, page_info }
    }
}

/// `GET /conversations/:id`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConversationDetail {
    pub conversation: Conversation,
    pub participants: Vec<Person>,
    pub messages: Vec<Message>,
    /// How far each participant has read (for "Seen").
    #[serde(default)]
    pub read_markers: Vec<(UserId, i64)>,
}

/// A web-UI search hit: the message, its room, and where the match is
/// (character offsets into `body`), so the client can mark it safely.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SearchHit {
    pub room_id: RoomId,
    pub number: i64,
    pub body: String,
    pub match_start: Option<usize>,
    pub match_end: Option<usize>,
}

/// Search hits, newest first. `partial` is set when a short query (one or two
/// characters, which the index cannot answer) stopped scanning at its budget
/// before reaching the oldest message: older matches may exist.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct SearchResults {
    pub results: Vec<SearchHit>,
    pub partial: bool,
}
