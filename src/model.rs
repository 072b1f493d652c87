//! Types that cross the wire: returned by the REST API, server functions and
//! (later) the WebSocket. They hold no secrets and compile to WASM.

use serde::{Deserialize, Serialize};

/// A user's database id. A newtype so a room id can never be passed for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(transparent)]
pub struct UserId(pub i64);

impl std::fmt::Display for UserId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

/// The signed-in user's own view of their account (`GET /users/me`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "server", derive(sqlx::FromRow))]
pub struct Profile {
    pub id: UserId,
    pub email: String,
    pub username: String,
    pub name: Option<String>,
    pub avatar_url: Option<String>,
    /// Notifications are paused until this time (no push, no desktop
    /// notification); `null` when they are not.
    #[serde(default)]
    pub notifications_paused_until: Option<String>,
}

impl Profile {
    /// The name to show: the display name when set, else the username.
    pub fn display_name(&self) -> &str {
        shown_name(&self.name, &self.username)
    }

    /// How the home page greets this user, given their rooms: someone who
    /// has read or written nothing in any room yet (in none, or with every
    /// room unread, as the rooms a new account joins by itself are) has not
    /// started using Hearth and is welcomed; anyone else is welcomed back.
    pub fn greeting(&self, rooms: &[ConversationSummary]) -> &'static str {
        if rooms.iter().all(|r| r.unread_count > 0) { "Welcome, " } else { "Welcome back, " }
    }
}

/// Another person as the directory shows them: never their email.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "server", derive(sqlx::FromRow))]
pub struct Person {
    pub id: UserId,
    pub username: String,
    pub name: Option<String>,
    pub avatar_url: Option<String>,
    /// A room's member whose account an admin deactivated (only said when
    /// true, and only in a room's participants: the directory lists no
    /// deactivated accounts).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    #[cfg_attr(feature = "server", sqlx(default))]
    pub deactivated: bool,
}

impl Person {
    /// The name to show: the display name when set, else the username.
    pub fn display_name(&self) -> &str {
        shown_name(&self.name, &self.username)
    }
}

/// A demo account offered on the login page when demo mode is on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DemoAccount {
    pub email: String,
    pub name: String,
    pub password: String,
}

/// A room's database id ("conversation id" in the API).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(transparent)]
pub struct RoomId(pub i64);

impl std::fmt::Display for RoomId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
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
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
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
    /// What the room is about, when someone set it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub topic: Option<String>,
    /// When the room was archived (read-only from then on); absent while live.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub archived_at: Option<String>,
}

/// The preview of a room's newest message in the room list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LastMessage {
    pub number: i64,
    /// `None` once deleted.
    pub body: Option<String>,
    /// What `body` shows, without its Markdown's markup, on one line and
    /// cut to 200 characters, or "Attachment" for files alone
    /// (`markdown::listed_line`): what a room list previews. Absent once
    /// deleted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    pub user_id: Option<UserId>,
    pub created_at: String,
}

/// One entry of `GET /conversations`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ConversationSummary {
    pub id: RoomId,
    pub title: Option<String>,
    /// What the room is about, shown under its name (none: not set).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub topic: Option<String>,
    pub group: bool,
    pub kind: RoomKind,
    pub updated_at: String,
    /// When the room was archived (`?archived=true` lists only such rooms);
    /// absent while it is live.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub archived_at: Option<String>,
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
    /// When I closed it (a direct room): the server's list leaves it out
    /// until `updated_at` passes this ([`Self::is_listed`]). Never sent.
    #[serde(skip)]
    pub closed_at: Option<String>,
    /// In the web app's own list alone: I closed it and nothing happened in
    /// it since, so its room list hides it (and follows it, to show it
    /// again when something does). `GET /conversations` leaves such rooms
    /// out, so it never says so.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub closed: bool,
}

/// What a member is told about in a room: every message, only those that
/// mention them, or nothing. Unset, it follows the room's kind: direct
/// rooms everything, groups and open rooms mentions
/// ([`NotifyLevel::default_for`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
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
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NotificationSettings {
    pub level: NotifyLevel,
    /// True when I have not chosen, and `level` is the room kind's default.
    pub default: bool,
}

/// `PUT`/`DELETE /users/me/notifications/pause`: whether my notifications
/// are paused, and until when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NotificationPause {
    /// The pause's end (RFC 3339, UTC); `null`: notifications are on.
    pub notifications_paused_until: Option<String>,
}

/// Whether a pause that lasts `until` (a stored time, or none) still holds
/// at `now` (a time in the same form, or any RFC 3339 UTC time to the
/// millisecond: both compare as text).
pub fn paused_at(until: Option<&str>, now: &str) -> bool {
    until.is_some_and(|until| until > now)
}

impl ConversationSummary {
    /// Whether my room list shows it: not closed, or active since.
    pub fn is_listed(&self) -> bool {
        self.closed_at.as_ref().is_none_or(|closed| self.updated_at > *closed)
    }

    /// The unread messages the tab's title and icon count for this room:
    /// none for a room I set to notify me of nothing (muted), else all.
    pub fn counted_unread(&self) -> i64 {
        if self.notify_level == NotifyLevel::Nothing { 0 } else { self.unread_count }
    }

    /// What the room list shows: the other person for a direct room, else
    /// the title.
    pub fn display_title(&self, me: UserId) -> String {
        if self.kind == RoomKind::Direct
            && let Some(other) = self.users.iter().find(|u| u.id != me)
        {
            return other.display_name().to_owned();
        }
        let others = self.users.iter().filter(|u| u.id != me).map(Person::display_name);
        room_title(self.kind, self.title.as_deref(), others)
    }
}

/// Whether a room of `kind` saved with `title` is called by its members'
/// names ([`room_title`]): a group made without a title, or with the
/// default one.
pub fn named_by_members(kind: RoomKind, title: Option<&str>) -> bool {
    kind == RoomKind::Group && title.map(str::trim).filter(|t| !t.is_empty()).is_none_or(|t| t == DEFAULT_GROUP_TITLE)
}

/// The title a group gets when it is made without one.
pub const DEFAULT_GROUP_TITLE: &str = "Group Chat";

/// What a group or open room is called: its title, except that a group
/// made without one is called by the names of its `others` ("Bob and
/// Carol", "Bob, Carol, Dave and 2 others"), so that two of them can be
/// told apart.
pub fn room_title<'a>(kind: RoomKind, title: Option<&str>, others: impl IntoIterator<Item = &'a str>) -> String {
    if !named_by_members(kind, title) {
        return title.map(str::trim).filter(|t| !t.is_empty()).unwrap_or("Untitled room").to_owned();
    }
    const NAMED: usize = 3;
    let others: Vec<&str> = others.into_iter().collect();
    match others.as_slice() {
        [] => DEFAULT_GROUP_TITLE.to_owned(),
        [one] => (*one).to_owned(),
        [first @ .., last] if others.len() <= NAMED => format!("{} and {last}", first.join(", ")),
        _ => {
            let rest = others.len() - NAMED;
            let noun = if rest == 1 { "other" } else { "others" };
            format!("{} and {rest} {noun}", others[..NAMED].join(", "))
        }
    }
}

/// An open room in the `GET /rooms` directory.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "server", derive(sqlx::FromRow))]
pub struct OpenRoom {
    pub id: RoomId,
    pub title: Option<String>,
    /// What the room is for, as its creator or an admin set it.
    pub topic: Option<String>,
    pub member_count: i64,
    pub is_member: bool,
    pub updated_at: String,
}

/// An open room that every new account joins as it is created.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "server", derive(sqlx::FromRow))]
pub struct DefaultRoom {
    pub id: RoomId,
    pub title: Option<String>,
    pub member_count: i64,
}

/// A message's author, as messages carry it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Author {
    pub id: UserId,
    pub username: String,
    pub name: Option<String>,
    /// True once an admin deactivated the account: its messages stay, shown
    /// as by a deactivated user. Absent while it is active.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub deactivated: bool,
}

impl Author {
    /// An active account's author line.
    pub fn new(id: UserId, username: String, name: Option<String>) -> Self {
        Self { id, username, name, deactivated: false }
    }

    /// The name to show: the display name when set, else the username.
    pub fn display_name(&self) -> &str {
        shown_name(&self.name, &self.username)
    }
}

/// The name a message's sender goes by: its author's display name, else the
/// name of the application that sent it, else "Unknown".
pub fn sender_name(user: Option<&Author>, application: Option<&str>) -> String {
    user.map(Author::display_name).or(application).unwrap_or("Unknown").to_owned()
}

/// The most characters a message's text may have (trimmed), on the server
/// and in the browser's composer alike.
pub const MESSAGE_BODY_MAX: usize = 10_000;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
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
    /// `body` (Markdown) rendered and sanitised by the server: the only HTML
    /// a page shows for a message. `None` once deleted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub html: Option<String>,
    /// The message this one answers, as it is now.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reply_to: Option<ReplyTo>,
    /// How many live messages answer this one.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub reply_count: i64,
    /// Each emoji on this message with who chose it, in the order each was
    /// first used.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub reactions: Vec<Reaction>,
    /// The OpenGraph preview of the message's first link, once the server
    /// has fetched it (it arrives later, as a `message_edited` event).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub preview: Option<LinkPreview>,
    /// The files sent with it, in upload order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attachments: Vec<Attachment>,
    /// Who pinned it to the room, and when; absent when it is not pinned.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pinned: Option<Pin>,
}

/// A message pinned to its room (`PUT /conversations/:id/messages/:number/pin`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Pin {
    /// Who pinned it; `None` once their account is gone.
    pub by: Option<Author>,
    pub at: String,
}

/// A file uploaded to a room (`POST /conversations/:id/attachments`), then
/// sent with a message. Only the room's members can download it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Attachment {
    pub id: i64,
    /// The file's name as uploaded (no directories), at most 255 characters.
    pub name: String,
    /// What it is served as: `image/png`, `image/jpeg`, `image/gif`,
    /// `image/webp`, `application/pdf`, `text/plain; charset=utf-8`, or
    /// `application/octet-stream` for anything else.
    pub content_type: String,
    /// Bytes.
    pub size: i64,
    /// An image's size as shown, in pixels.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub width: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub height: Option<i64>,
    /// `/attachments/:id/:name`.
    pub url: String,
    /// `/attachments/thumbnails/:id`, for images.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thumbnail_url: Option<String>,
}

impl Attachment {
    /// Shown inline as a picture.
    pub fn is_image(&self) -> bool {
        self.thumbnail_url.is_some()
    }

    /// "2.4 MB", "830 KB", "12 bytes".
    /// In the units the upload limit is said in (1 MB = 1,048,576 bytes),
    /// so a file the limit took is never shown bigger than it.
    pub fn size_label(&self) -> String {
        let size = self.size as f64;
        if self.size >= 1 << 20 {
            format!("{:.1} MB", size / f64::from(1u32 << 20))
        } else if self.size >= 1 << 10 {
            format!("{:.0} KB", size / 1024.0)
        } else {
            format!("{} bytes", self.size)
        }
    }
}

/// What a link's page says of itself (OpenGraph, or its `<title>` and
/// description), as plain text: the page shows it escaped. No image: the
/// preview never makes a reader's browser fetch from the linked site.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LinkPreview {
    pub url: String,
    pub title: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub site_name: Option<String>,
}

fn is_zero(n: &i64) -> bool {
    *n == 0
}

/// A reply's quote of the message it answers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ReplyTo {
    /// The original's number in the same room (jump with `?around=`).
    pub number: i64,
    pub user: Option<Author>,
    /// The start of the original's text; `None` once it is deleted.
    pub snippet: Option<String>,
    /// The original's count of live replies as of this event (as of now on
    /// a page load or a replay): a client sets it on the original.
    pub reply_count: i64,
    /// The original was edited since it was sent (and is not deleted): the
    /// quote says "(edited)", as the original does.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub edited: bool,
}

impl ReplyTo {
    /// The most characters of the original a quote shows.
    pub const SNIPPET_MAX: usize = 140;

    /// The quote of a message that shows `text` (its Markdown's markup
    /// taken out: `markdown::plain_text` on the server, the rendered HTML's
    /// text in the browser): its first `SNIPPET_MAX` characters, with `…`
    /// when cut, whitespace runs made one space.
    pub fn snippet_of(text: &str) -> String {
        cut_line(text, Self::SNIPPET_MAX)
    }
}

/// `text` on one line (each run of white space one space), at most `max`
/// characters, an ellipsis marking a cut. The cut never parts what shows as
/// one character: an accent from its letter, a Hindi vowel sign from its
/// consonant, an emoji from its skin tone or the rest of its family.
pub fn cut_line(text: &str, max: usize) -> String {
    let flat = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if flat.chars().count() <= max {
        return flat;
    }
    let chars: Vec<char> = flat.chars().collect();
    let mut end = max.saturating_sub(1);
    // Back to the start of the cluster the cut falls in.
    while end > 0 && (continues_cluster(chars[end]) || joins_next(chars[end - 1])) {
        end -= 1;
    }
    // A flag is two regional indicators: keep them paired.
    let indicators = chars[..end].iter().rev().take_while(|c| is_regional_indicator(**c)).count();
    if indicators % 2 == 1 && chars.get(end).copied().is_some_and(is_regional_indicator) {
        end -= 1;
    }
    let mut cut: String = chars[..end].iter().collect();
    cut.push('…');
    cut
}

/// A zero-width joiner, or an Indic virama (which joins the consonant after
/// it into one conjunct).
fn joins_next(c: char) -> bool {
    c == '\u{200D}' || (('\u{0900}'..='\u{0DFF}').contains(&c) && c as u32 & 0x7F == 0x4D)
}

fn is_regional_indicator(c: char) -> bool {
    ('\u{1F1E6}'..='\u{1F1FF}').contains(&c)
}

/// Whether `c` belongs to the character before it on screen. Not all of
/// Unicode's rules (those tables would weigh on the browser's bundle), but
/// the marks chat text has: combining accents, Hebrew and Arabic points,
/// the dependent signs of the Indic scripts and Thai, joiners, variation
/// selectors, skin tones and the tags of subdivision flags.
fn continues_cluster(c: char) -> bool {
    let indic = ('\u{0900}'..='\u{0DFF}').contains(&c)
        && matches!(c as u32 & 0x7F, 0x00..=0x03 | 0x3A..=0x3C | 0x3E..=0x4F | 0x51..=0x57 | 0x62..=0x63);
    indic
        || matches!(c,
            '\u{0300}'..='\u{036F}'
            | '\u{0483}'..='\u{0489}'
            | '\u{0591}'..='\u{05BD}'
            | '\u{05BF}' | '\u{05C1}' | '\u{05C2}' | '\u{05C4}' | '\u{05C5}' | '\u{05C7}'
            | '\u{0610}'..='\u{061A}'
            | '\u{064B}'..='\u{065F}'
            | '\u{0670}'
            | '\u{06D6}'..='\u{06DC}'
            | '\u{06DF}'..='\u{06E4}'
            | '\u{06E7}' | '\u{06E8}'
            | '\u{06EA}'..='\u{06ED}'
            | '\u{0E31}' | '\u{0E34}'..='\u{0E3A}' | '\u{0E47}'..='\u{0E4E}'
            | '\u{1AB0}'..='\u{1AFF}'
            | '\u{1DC0}'..='\u{1DFF}'
            | '\u{200C}' | '\u{200D}'
            | '\u{20D0}'..='\u{20FF}'
            | '\u{FE00}'..='\u{FE0F}'
            | '\u{FE20}'..='\u{FE2F}'
            | '\u{1F3FB}'..='\u{1F3FF}'
            | '\u{E0020}'..='\u{E007F}'
            | '\u{E0100}'..='\u{E01EF}')
}

/// One emoji on a message and the people who chose it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Reaction {
    pub emoji: String,
    pub count: i64,
    pub users: Vec<Author>,
}

impl Reaction {
    /// "alice, bob reacted with 👍": the hover text and the screen-reader label.
    pub fn label(&self) -> String {
        let names: Vec<&str> = self.users.iter().map(Author::display_name).collect();
        format!("{} reacted with {}", names.join(", "), self.emoji)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Cursor {
    /// Pass as `before` for the page before this one (an ISO 8601 time).
    pub before: Option<String>,
    /// Pass as `after` for the page after this one (a time; on a page of
    /// replies, the last reply's number).
    pub after: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PageInfo {
    pub count: usize,
    /// The oldest and newest message numbers on the page.
    pub oldest: Option<i64>,
    pub newest: Option<i64>,
    pub cursor: Cursor,
}

/// A room's pinned messages, the most recently pinned first
/// (`GET /conversations/:id/pins`).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PinnedMessages {
    pub messages: Vec<Message>,
}

/// What an edited message said before an edit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MessageVersion {
    /// The text as written (Markdown source).
    pub body: String,
    /// It rendered and sanitised, as a message's `html`.
    pub html: String,
    /// When it was written: the message's `created_at`, or the time of the
    /// edit that last saved it.
    pub written_at: String,
}

/// `GET /conversations/:id/messages/:number/edits`: a message's earlier
/// texts, the oldest first (empty when it was never edited).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MessageVersions {
    pub versions: Vec<MessageVersion>,
}

/// An emoji and the shortcode it was found by (`GET /emoji?query=`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct EmojiSuggestion {
    pub emoji: String,
    /// Without its colons: `tada`.
    pub shortcode: String,
}

/// `GET /emoji?query=`: the emoji a shortcode's start names, the likeliest
/// first.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct EmojiSuggestions {
    pub emoji: Vec<EmojiSuggestion>,
}

/// `PUT /conversations/read` ("Mark all as read"): the rooms it read.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MarkedRead {
    pub rooms: Vec<RoomId>,
}

/// `PUT`/`DELETE /conversations/:id/messages/:number/save`: whether the
/// message is on my saved list now.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SavedMark {
    /// When I saved it; `null` when it is not saved.
    pub saved_at: Option<String>,
}

/// `GET /conversations/:id/saved`: the numbers of the messages I saved in
/// a room, ascending.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SavedNumbers {
    pub numbers: Vec<i64>,
}

/// A message on my saved list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SavedMessage {
    /// The entry's id: pass the last one's as `before` for the next page.
    pub id: i64,
    pub saved_at: String,
    /// The message as it is now (its room is `conversation_id`).
    pub message: Message,
}

/// `GET /users/me/saved`: my saved messages, the most recently saved first.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SavedMessages {
    pub saved: Vec<SavedMessage>,
    /// Pass as `before` for the next page; `null` on the last.
    pub next_before: Option<i64>,
}

/// A page of history, ascending.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
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

    /// A page of a message's replies: they page on by number (`after` the
    /// last reply's), not by time, so the cursor says that, and there is
    /// no page before.
    pub fn of_replies(messages: Vec<Message>) -> Self {
        let mut page = Self::new(messages);
        page.page_info.cursor = Cursor { before: None, after: page.page_info.newest.map(|n| n.to_string()) };
        page
    }
}

/// `GET /conversations/:id`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ConversationDetail {
    pub conversation: Conversation,
    pub participants: Vec<Person>,
    pub messages: Vec<Message>,
    /// How far each participant has read (for "Seen").
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(value_type = Vec<Vec<i64>>))]
    pub read_markers: Vec<(UserId, i64)>,
}

/// A web-UI search hit: the message, its room, who sent it and when, and
/// where the match is (character offsets into `body`), so the client can
/// mark it safely.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SearchHit {
    pub room_id: RoomId,
    pub number: i64,
    /// The message's source, Markdown and all, as `Message::body`.
    pub body: String,
    /// What the message shows, without its Markdown's markup
    /// (`markdown::plain_text`): the text a result lists.
    pub text: String,
    /// Where the query is in `text`, in characters; `None` when it matched
    /// only the markup (a link's target, say).
    pub match_start: Option<usize>,
    pub match_end: Option<usize>,
    /// The sender; absent for an application's message (`application`).
    pub user: Option<Author>,
    /// The token-API application that sent it, if one did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub application: Option<String>,
    /// The sender's picture, as their profile's `avatar_url`; absent when
    /// they have none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub avatar_url: Option<String>,
    /// When it was sent (RFC 3339, UTC), as `Message::created_at`.
    pub created_at: String,
}

/// Search hits, newest first. `partial` is set when a short query (one or two
/// characters, which the index cannot answer) stopped scanning at its budget
/// before reaching the oldest message: older matches may exist.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SearchResults {
    pub results: Vec<SearchHit>,
    pub partial: bool,
    /// The query's words that were not searched for: those under three
    /// characters beside a longer one (the index matches three or more; a
    /// query of short words alone is matched by a scan instead). Absent
    /// when every word counted.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ignored: Vec<String>,
}

/// An account's role on the instance.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Admin,
    Member,
}

impl Role {
    pub fn parse(raw: &str) -> Option<Self> {
        match raw.trim().to_ascii_lowercase().as_str() {
            "admin" => Some(Self::Admin),
            "member" => Some(Self::Member),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Admin => "admin",
            Self::Member => "member",
        }
    }
}

/// Who may create an account: anyone, holders of an invitation, or no one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum SignUpPolicy {
    Open,
    Invite,
    Closed,
}

impl SignUpPolicy {
    pub fn parse(raw: &str) -> Option<Self> {
        match raw.trim().to_ascii_lowercase().as_str() {
            "open" => Some(Self::Open),
            "invite" => Some(Self::Invite),
            "closed" => Some(Self::Closed),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Open => "open",
            Self::Invite => "invite",
            Self::Closed => "closed",
        }
    }
}

impl std::str::FromStr for SignUpPolicy {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Self::parse(s).ok_or_else(|| format!("{s:?} is not a sign-up policy (open, invite or closed)"))
    }
}

impl std::str::FromStr for Role {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Self::parse(s).ok_or_else(|| format!("{s:?} is not a role (admin or member)"))
    }
}

/// An account as the admin page lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "server", derive(sqlx::FromRow))]
pub struct AdminUser {
    pub id: UserId,
    pub username: String,
    pub email: String,
    pub name: Option<String>,
    /// Their picture, as their profile's `avatar_url`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub avatar_url: Option<String>,
    pub role: String,
    /// When the account was deactivated; `None` while it is active.
    pub deactivated_at: Option<String>,
    pub created_at: String,
    /// How many sessions (signed-in browsers and clients) it has now.
    #[serde(default)]
    pub sessions: i64,
}

impl AdminUser {
    /// The name to show: the display name when set, else the username.
    pub fn display_name(&self) -> &str {
        shown_name(&self.name, &self.username)
    }
}

/// A person's display name when set (and not empty), else their username.
fn shown_name<'a>(name: &'a Option<String>, username: &'a str) -> &'a str {
    name.as_deref().filter(|n| !n.is_empty()).unwrap_or(username)
}

/// An invitation link as admins see it (never its token, which only its
/// maker sees, once).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "server", derive(sqlx::FromRow))]
pub struct Invitation {
    pub id: i64,
    pub created_by: Option<UserId>,
    pub created_at: String,
    pub expires_at: String,
    pub max_uses: i64,
    pub uses: i64,
    pub revoked_at: Option<String>,
}

/// A new invitation, with the token of its link (shown once).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NewInvitation {
    #[serde(flatten)]
    pub invitation: Invitation,
    pub token: String,
    /// The path of the sign-up page with the token: `/register?invitation=…`.
    pub path: String,
}

/// One admin action in the audit log. No actor: the command line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "server", derive(sqlx::FromRow))]
pub struct AuditEntry {
    pub id: i64,
    pub actor_id: Option<UserId>,
    /// The actor's username, when the actor is an account that still exists.
    pub actor: Option<String>,
    pub action: String,
    pub target_user: Option<UserId>,
    /// The target account's username, when it still exists.
    #[serde(default)]
    pub target: Option<String>,
    pub target_room: Option<RoomId>,
    /// The target room's title, when it has one and still exists.
    #[serde(default)]
    pub target_room_title: Option<String>,
    pub target_number: Option<i64>,
    pub detail: Option<String>,
    pub created_at: String,
}

#[cfg(test)]
mod tests {
    #[test]
    fn file_sizes_are_said_in_the_units_of_the_upload_limit() {
        let of = |size: i64| {
            let file: super::Attachment = serde_json::from_value(serde_json::json!({
                "id": 1, "name": "f", "content_type": "application/octet-stream", "size": size, "url": "/f"
            }))
            .expect("an attachment");
            file.size_label()
        };
        // The default limit, 25 MB, exactly: not "26.2 MB".
        assert_eq!(of(25 * 1024 * 1024), "25.0 MB");
        assert_eq!(of(1536 * 1024), "1.5 MB");
        assert_eq!(of(2048), "2 KB");
        assert_eq!(of(12), "12 bytes");
    }

    #[test]
    fn a_cut_line_never_parts_what_shows_as_one_character() {
        use super::cut_line;
        assert_eq!(cut_line("hello world", 20), "hello world");
        assert_eq!(cut_line("hello   big\nworld", 20), "hello big world");
        assert_eq!(cut_line("abcdef", 4), "abc…");
        // "e" and a combining acute at the cut: both go.
        assert_eq!(cut_line("abce\u{301}fg", 5), "abc…");
        // A family of four, then more: the family goes whole.
        let family = "\u{1F468}\u{200D}\u{1F469}\u{200D}\u{1F467}\u{200D}\u{1F466}";
        assert_eq!(cut_line(&format!("ab{family}{family}"), 6), "ab…");
        assert_eq!(cut_line(&format!("{family}{family}"), 9), format!("{family}…"));
        // A skin tone stays with its hand; a flag's two halves together.
        assert_eq!(cut_line("ab\u{1F44D}\u{1F3FD}cd", 4), "ab…");
        assert_eq!(cut_line("a\u{1F1EF}\u{1F1F5}\u{1F1E9}\u{1F1EA}", 3), "a…");
        assert_eq!(cut_line("a\u{1F1EF}\u{1F1F5}\u{1F1E9}\u{1F1EA}", 4), "a\u{1F1EF}\u{1F1F5}…");
        // Hindi: "नमस्ते" cut inside "स्ते" keeps whole syllables.
        assert_eq!(cut_line("नमस्ते दुनिया", 4), "नम…");
        assert_eq!(cut_line("नमस्ते दुनिया", 6), "नम…");
        assert_eq!(cut_line("नमस्ते दुनिया", 8), "नमस्ते …");
    }

    use super::*;

    #[test]
    fn a_sender_is_named_by_display_name_then_username_then_application() {
        let named = Author::new(UserId(1), "ann".into(), Some("Ann Lee".into()));
        let unnamed = Author::new(UserId(2), "bob".into(), Some(String::new()));
        assert_eq!(sender_name(Some(&named), None), "Ann Lee");
        assert_eq!(sender_name(Some(&unnamed), None), "bob");
        assert_eq!(sender_name(None, Some("Support bot")), "Support bot");
        assert_eq!(sender_name(None, None), "Unknown");
    }

    fn profile() -> Profile {
        Profile {
            id: UserId(1),
            email: "a@example.com".into(),
            username: "ann".into(),
            name: None,
            avatar_url: None,
            notifications_paused_until: None,
        }
    }

    fn room() -> ConversationSummary {
        ConversationSummary {
            id: RoomId(7),
            title: Some("Launch".into()),
            topic: None,
            group: true,
            kind: RoomKind::Open,
            updated_at: "2026-12-01T09:00:00.000000Z".into(),
            archived_at: None,
            users: Vec::new(),
            last_message: None,
            unread_count: 0,
            unread_mentions: 0,
            notify_level: NotifyLevel::Mentions,
            closed_at: None,
            closed: false,
        }
    }

    #[test]
    fn a_group_made_without_a_title_is_called_by_its_other_members() {
        let called = |title: Option<&str>, others: &[&str]| room_title(RoomKind::Group, title, others.iter().copied());
        assert_eq!(called(Some(DEFAULT_GROUP_TITLE), &["Bob"]), "Bob");
        assert_eq!(called(Some(DEFAULT_GROUP_TITLE), &["Bob", "Carol"]), "Bob and Carol");
        assert_eq!(called(None, &["Bob", "Carol", "Dave"]), "Bob, Carol and Dave");
        assert_eq!(called(Some(DEFAULT_GROUP_TITLE), &["Bob", "Carol", "Dave", "Eve"]), "Bob, Carol, Dave and 1 other");
        assert_eq!(called(Some(DEFAULT_GROUP_TITLE), &["B", "C", "D", "E", "F"]), "B, C, D and 2 others");
        assert_eq!(called(Some(DEFAULT_GROUP_TITLE), &[]), DEFAULT_GROUP_TITLE, "everyone else left");
        assert_eq!(called(Some("Book club"), &["Bob"]), "Book club", "a title is its name");
        assert_eq!(room_title(RoomKind::Open, Some(DEFAULT_GROUP_TITLE), ["Bob"]), DEFAULT_GROUP_TITLE);
        assert_eq!(room_title(RoomKind::Open, None, ["Bob"]), "Untitled room");
    }

    #[test]
    fn a_user_who_has_read_nothing_yet_is_welcomed_and_anyone_else_welcomed_back() {
        assert_eq!(profile().greeting(&[]), "Welcome, ");
        assert_eq!(profile().greeting(&[room()]), "Welcome back, ");
        // Joined to rooms by the instance, none of them read yet.
        let unread = ConversationSummary { unread_count: 3, ..room() };
        assert_eq!(profile().greeting(&[unread.clone(), unread.clone()]), "Welcome, ");
        assert_eq!(profile().greeting(&[unread, room()]), "Welcome back, ");
    }
}
