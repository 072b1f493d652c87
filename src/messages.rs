//! Messages: sending (idempotent by `client_id`), history pages, edits and
//! soft deletes, and the first seed's `from_user`/`to_user` compatibility layer.

use crate::Hearth;
use crate::error::{AppError, FieldError};
use crate::ingest::Byline;
use crate::mentions::EVERYONE_MAX_MEMBERS;
use crate::model::{
    Author, MarkedRead, Message, MessagePage, MessageVersion, MessageVersions, PinnedMessages, Reaction, RoomId, UserId,
};
use crate::protocol::{RoomChange, ServerEvent};
use crate::rooms::NewConversation;
use crate::store::{HistoryQuery, InsertedMessage, MessageMeta, NewMessage, parse_time};

pub const BODY_MAX: usize = crate::model::MESSAGE_BODY_MAX;
/// The most distinct `@names` of one message that are looked up.
const MENTIONED_NAMES_MAX: usize = 500;
const CLIENT_ID_MAX: usize = 100;
pub const PAGE_DEFAULT: u32 = 50;
pub const PAGE_MAX: u32 = 200;
/// The most messages a room can have pinned at once.
pub const PINS_MAX: i64 = 100;

/// A message text: trimmed, 1 to 10,000 characters, in Unicode's composed
/// form (so a search for "Köln" finds it however its "ö" was typed).
#[derive(Debug, Clone)]
pub struct MessageBody(String);

impl MessageBody {
    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        FieldError::reject_nul("body", "Body", raw)?;
        let body = crate::text::composed(raw.trim());
        let body = body.as_ref();
        let len = body.chars().count();
        if crate::text::is_blank(body) {
            Err(FieldError::new("body", "Body can't be blank"))
        } else if len > BODY_MAX {
            Err(FieldError::new("body", format!("Body is too long (maximum is {BODY_MAX} characters)")))
        } else {
            Ok(Self(body.to_owned()))
        }
    }

    /// [`Self::parse`], but a message that carries files may have no text.
    pub fn parse_with_files(raw: &str, files: bool) -> Result<Self, FieldError> {
        if files && crate::text::is_blank(raw) {
            FieldError::reject_nul("body", "Body", raw)?;
            return Ok(Self(String::new()));
        }
        Self::parse(raw)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A reaction: one emoji of Unicode's list (with its skin tone, flag,
/// keycap or family sequence), kept as sent. Anything else, such as a word,
/// two emoji or a lone zero-width or direction mark, is refused. (Not
/// rewritten to the list's fully qualified form: reactions saved before
/// this check, "❤" among them, must still be taken off by what they are.)
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Emoji(String);

/// Longer than any emoji of the list (the longest, a kiss with two skin
/// tones, is 35 bytes): anything longer is not looked up.
const EMOJI_MAX_BYTES: usize = 64;

/// What a reaction could be before reactions had to be an emoji of the list.
const SAVED_REACTION_MAX_BYTES: usize = 32;

impl Emoji {
    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        let emoji = raw.trim();
        if emoji.len() > EMOJI_MAX_BYTES {
            return Err(FieldError::new("emoji", "Emoji must be one emoji"));
        }
        // Unicode's fully qualified form, whichever form was sent: "❤" and
        // "❤\u{fe0f}" look alike and must be one reaction, not two.
        match emojis::get(emoji) {
            Some(known) => Ok(Self(known.as_str().to_owned())),
            None => Err(FieldError::new("emoji", "Emoji must be one emoji")),
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// What reactions could be before they had to be one emoji of the list:
    /// up to 32 bytes, trimmed, not empty. Only ever matched against saved
    /// reactions, to take them off.
    fn saved_before_the_list(raw: &str) -> Option<&str> {
        let old = raw.trim();
        (!old.is_empty() && old.len() <= SAVED_REACTION_MAX_BYTES).then_some(old)
    }
}

/// A sent message, and whether this send created it (false when its
/// `client_id` matched an earlier send, which is returned instead).
#[derive(Debug, Clone)]
pub struct Sent {
    pub message: Message,
    pub created: bool,
}

/// Who writes a message: a member, or an application through the token API.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Writer {
    User(UserId),
    /// An application's id.
    Application(i64),
}

/// Who appends a message, with what its readers see of them: the signed-in
/// user (whose name comes from the users cache), or an application.
pub(crate) enum Poster<'a> {
    User(UserId),
    /// A message the demo seed writes in a member's name: as theirs, but
    /// spending none of their rate budget (the operator's seed is not them
    /// typing, and a small `HEARTH_MESSAGES_PER_MINUTE` must not stop the
    /// server starting).
    Seed(UserId),
    /// An application's message; `owner`, the account that made it, if any.
    Application {
        id: i64,
        name: &'a str,
        owner: Option<UserId>,
    },
}

fn parse_client_id(raw: Option<&str>) -> Result<Option<&str>, AppError> {
    FieldError::reject_nul("client_id", "Client id", raw.unwrap_or(""))?;
    match raw.map(str::trim).filter(|c| !c.is_empty()) {
        Some(c) if c.chars().count() > CLIENT_ID_MAX => Err(AppError::invalid(
            "client_id",
            format!("Client id is too long (maximum is {CLIENT_ID_MAX} characters)"),
        )),
        other => Ok(other),
    }
}

/// The raw paging parameters of a history request (a query string).
/// At most one cursor; none gives the newest page.
#[derive(Debug, Default, Clone, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams), into_params(parameter_in = Query))]
pub struct HistoryParams {
    /// The page before this point: an ISO 8601 time, or a message number.
    pub before: Option<String>,
    /// The page after this point: an ISO 8601 time, or a message number.
    pub after: Option<String>,
    /// The page before this message number.
    pub before_number: Option<i64>,
    /// The page after this message number.
    pub after_number: Option<i64>,
    /// The page centred on this message number.
    pub around: Option<i64>,
    /// Messages per page: 1 to 200 (more is cut to 200), 50 when absent.
    #[cfg_attr(feature = "openapi", param(minimum = 1))]
    #[serde(default, deserialize_with = "crate::error::any_limit")]
    pub limit: Option<u32>,
}

/// The paging parameters of a message's replies (a query string).
#[derive(Debug, Default, Clone, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams), into_params(parameter_in = Query))]
pub struct RepliesParams {
    /// The replies numbered after this one (none: from the first reply).
    pub after: Option<i64>,
    /// Replies per page: 1 to 200 (more is cut to 200), 50 when absent.
    #[cfg_attr(feature = "openapi", param(minimum = 1))]
    #[serde(default, deserialize_with = "crate::error::any_limit")]
    pub limit: Option<u32>,
}

/// A time cursor as clients write ISO 8601, in the stored form: RFC 3339
/// (`2026-12-06T19:03:11Z`, `…+01:00`), and what Rails' `Time.zone.parse`
/// and Python's `isoformat()` also send: an offset without its colon
/// (`+0000`), no seconds (`19:03Z`), no offset at all (read as UTC), or a
/// date alone (its midnight, UTC).
fn cursor_time(raw: &str) -> Option<String> {
    use time::format_description::well_known::Iso8601;
    use time::{Date, OffsetDateTime, PrimitiveDateTime, Time};
    let utc = |t: OffsetDateTime| parse_time(&t.format(&time::format_description::well_known::Rfc3339).ok()?);
    if let Some(stored) = parse_time(raw) {
        return Some(stored);
    }
    // With an offset, that offset is the answer (a year out of range stays
    // refused); only a time without one is read as UTC.
    if let Ok(t) = OffsetDateTime::parse(raw, &Iso8601::PARSING) {
        return utc(t);
    }
    if raw.ends_with(['Z', 'z']) || raw.rsplit_once('T').is_some_and(|(_, clock)| clock.contains(['+', '-'])) {
        return None;
    }
    PrimitiveDateTime::parse(raw, &Iso8601::PARSING).ok().and_then(|t| utc(t.assume_utc())).or_else(|| {
        let date = Date::parse(raw, &Iso8601::PARSING).ok()?;
        utc(PrimitiveDateTime::new(date, Time::MIDNIGHT).assume_utc())
    })
}

/// Whether a time as written has digits below the microsecond that are
/// not zero (`…:30.0442335Z`): stored times stop at the microsecond, so
/// such a `before` bound is the next microsecond, or it would leave out the
/// message stamped at its microsecond, which is before it.
fn below_micro(raw: &str) -> bool {
    let Some((_, clock)) = raw.split_once(['T', 't', ' ']) else { return false };
    let Some((_, fraction)) = clock.split_once(['.', ',']) else { return false };
    fraction.chars().take_while(char::is_ascii_digit).skip(6).any(|d| d != '0')
}

impl HistoryParams {
    /// Reads `before`/`after` as an ISO 8601 time or, if all digits, a number.
    pub fn parse(&self) -> Result<(HistoryQuery, u32), AppError> {
        let limit = crate::error::page_limit(self.limit, PAGE_DEFAULT, PAGE_MAX)?;
        let time_or_number = |field: &str, raw: &str| -> Result<Result<String, i64>, AppError> {
            if let Ok(n) = raw.trim().parse::<i64>() {
                return Ok(Err(n));
            }
            let raw = raw.trim();
            // An offset's `+` typed unencoded in a query string arrives as a
            // space ("…T10:00:00 01:00"): read it as the `+` it was.
            let with_plus = || raw.rsplit_once(' ').and_then(|(time, offset)| cursor_time(&format!("{time}+{offset}")));
            cursor_time(raw).or_else(with_plus).map(Ok).ok_or_else(|| {
                AppError::invalid(field, format!("{field} must be an ISO 8601 time or a message number"))
            })
        };
        let given: Vec<&str> = [
            ("before", self.before.is_some()),
            ("after", self.after.is_some()),
            ("before_number", self.before_number.is_some()),
            ("after_number", self.after_number.is_some()),
            ("around", self.around.is_some()),
        ]
        .into_iter()
        .filter_map(|(name, given)| given.then_some(name))
        .collect();
        if let Some((last, rest)) = given.split_last()
            && !rest.is_empty()
        {
            let message = format!("Give one cursor at a time, not {} and {last}", rest.join(", "));
            return Err(AppError::invalid("cursor", message));
        }
        let query = if let Some(raw) = &self.before {
            match time_or_number("before", raw)? {
                Ok(t) if below_micro(raw) => {
                    HistoryQuery::BeforeTime(crate::store::after_micro(&t).ok_or_else(|| {
                        AppError::invalid("before", "before must be an ISO 8601 time or a message number")
                    })?)
                }
                Ok(t) => HistoryQuery::BeforeTime(t),
                Err(n) => HistoryQuery::BeforeNumber(n),
            }
        } else if let Some(raw) = &self.after {
            match time_or_number("after", raw)? {
                Ok(t) => HistoryQuery::AfterTime(t),
                Err(n) => HistoryQuery::AfterNumber(n),
            }
        } else if let Some(n) = self.before_number {
            HistoryQuery::BeforeNumber(n)
        } else if let Some(n) = self.after_number {
            HistoryQuery::AfterNumber(n)
        } else if let Some(n) = self.around {
            HistoryQuery::Around(n)
        } else {
            HistoryQuery::Latest
        };
        Ok((query, limit))
    }
}

impl Hearth {
    /// Spends one of `who`'s messages for this minute
    /// (`HEARTH_MESSAGES_PER_MINUTE`): a message, or anything else every
    /// member is sent and the room's log keeps, such as a reaction.
    fn spend_message_budget(&self, who: crate::search::Searcher) -> Result<(), AppError> {
        match &self.messages {
            Some(limiter) => limiter.check(&who),
            None => Ok(()),
        }
    }

    /// `user` as others see them on what they send (a message, typing),
    /// as they are now: from the users cache, which a rename clears, and
    /// which the request's own sign-in check has filled already.
    pub(crate) async fn author(&self, user: UserId) -> Result<Option<Author>, AppError> {
        let found = self.caches.users.get_or_load(user, self.store.auth_user_by_id(user)).await?;
        Ok(found.map(|u| Author::new(u.id, u.username, u.name)))
    }

    #[tracing::instrument(skip(self, body, client_id), fields(me = %me, room = %room))]
    pub async fn post_message(
        &self,
        me: UserId,
        room: RoomId,
        body: &str,
        client_id: Option<&str>,
    ) -> Result<Sent, AppError> {
        self.post_reply(me, room, body, client_id, None, &[]).await
    }

    /// [`Self::post_message`] answering message `reply_to` of the same room,
    /// which must be there and not deleted, and carrying my uploads
    /// `attachments` (see [`crate::attachments`]); with files, the text may
    /// be empty.
    #[tracing::instrument(skip(self, body, client_id), fields(me = %me, room = %room))]
    pub async fn post_reply(
        &self,
        me: UserId,
        room: RoomId,
        body: &str,
        client_id: Option<&str>,
        reply_to: Option<i64>,
        attachments: &[i64],
    ) -> Result<Sent, AppError> {
        self.member_room(me, room).await?;
        let body = MessageBody::parse_with_files(body, !attachments.is_empty())?;
        let client_id = parse_client_id(client_id)?;
        let sent = async {
            let files = self.sendable_attachments(me, room, attachments).await?;
            if let Some(original) = reply_to {
                match self.store.message_meta(room, original).await? {
                    Some(meta) if meta.deleted => {
                        return Err(AppError::invalid("reply_to", "The message you are replying to was deleted"));
                    }
                    Some(_) => {}
                    None => {
                        return Err(AppError::invalid("reply_to", "reply_to must be a message of this conversation"));
                    }
                }
            }
            self.append_message(room, Poster::User(me), &body, client_id, reply_to, files).await
        }
        .await;
        match (sent, client_id) {
            (Ok(inserted), _) => Ok(Sent { message: inserted.message, created: inserted.created }),
            // A retry of a send that was saved is answered with the saved
            // message, although what it refers to has changed since: its
            // uploads are attached now, its original may be deleted, the
            // room archived, the rate budget spent. Looked up only once the
            // send is refused, so the usual send reads nothing more.
            (Err(refused), Some(key)) if !matches!(refused, AppError::Internal(_)) => {
                match self.store.earlier_send(room, me, key).await? {
                    Some(saved) => {
                        retry_matches(&saved, &body, reply_to, attachments)?;
                        Ok(Sent { message: saved, created: false })
                    }
                    None => Err(refused),
                }
            }
            (Err(err), _) => Err(err),
        }
    }

    /// Saves a message, then publishes it (unless `client_id` matched an
    /// earlier send); the order lock keeps publishes in seq order. The one
    /// way a message enters a room, whoever wrote it.
    pub(crate) async fn append_message(
        &self,
        room: RoomId,
        poster: Poster<'_>,
        body: &MessageBody,
        client_id: Option<&str>,
        reply_to: Option<i64>,
        files: Vec<crate::model::Attachment>,
    ) -> Result<InsertedMessage, AppError> {
        // An archived room takes no new messages, from anyone.
        self.writable_room(room).await?;
        // Checked before anything is written, so a refused send leaves
        // nothing behind and an accepted one is never undone.
        // An application someone made spends its maker's budget: making
        // more applications does not make more room for messages.
        let budget = match poster {
            Poster::User(user) | Poster::Application { owner: Some(user), .. } => {
                Some(crate::search::Searcher::User(user))
            }
            Poster::Application { id, owner: None, .. } => Some(crate::search::Searcher::Application(id)),
            Poster::Seed(_) => None,
        };
        if let Some(who) = budget {
            self.spend_message_budget(who)?;
        }
        let writer = match poster {
            Poster::User(user) | Poster::Seed(user) => Some(user),
            Poster::Application { .. } => None,
        };
        let mentions = self.resolve_mentions(room, writer, body.as_str()).await?;
        let (author, application, byline) = match poster {
            Poster::User(user) | Poster::Seed(user) => {
                let shown = self.author(user).await?;
                (Some(user), None, Byline { author: shown, application: None, html: String::new(), files: Vec::new() })
            }
            Poster::Application { id, name, .. } => (
                None,
                Some(id),
                Byline { author: None, application: Some(name.to_owned()), html: String::new(), files: Vec::new() },
            ),
        };
        // Rendered here, by the sender's task, not by the writer.
        let html = crate::markdown::render_message(body.as_str(), !mentions.is_empty());
        let attachments: Vec<i64> = files.iter().map(|file| file.id).collect();
        let byline = Byline { html, files, ..byline };
        let message = NewMessage {
            room,
            author,
            application,
            body: body.as_str().to_owned(),
            client_id: client_id.map(str::to_owned),
            reply_to,
            mentions,
            attachments: attachments.clone(),
            push_delay: Some(std::time::Duration::from_secs(self.settings.push_delay_secs)),
        };
        // Queued to the writer, which commits it with whatever else is queued
        // and publishes it before answering (`crate::ingest`).
        let inserted = self.ingest.append(message, byline).await?;
        if inserted.created {
            self.preview_later(room, inserted.message.number, body.as_str());
        } else {
            retry_matches(&inserted.message, body, reply_to, &attachments)?;
        }
        Ok(inserted)
    }

    /// The members of `room` that `text` mentions (see [`crate::mentions`]),
    /// never its writer, in id order: those named `@username`, or every
    /// member for `@everyone`/`@here` in a room of at most
    /// [`EVERYONE_MAX_MEMBERS`] (in a bigger one it is plain text).
    /// Names that are not members mention no one, nor does anything mention
    /// a deactivated account (nothing would reach it).
    pub(crate) async fn resolve_mentions(
        &self,
        room: RoomId,
        writer: Option<UserId>,
        text: &str,
    ) -> Result<Vec<UserId>, AppError> {
        let mut tokens = crate::mentions::tokens(text);
        if tokens.names.is_empty() && !tokens.everyone {
            return Ok(Vec::new());
        }
        let mut ids = Vec::new();
        if tokens.everyone {
            let members = self.store.active_member_ids(room).await?;
            if members.len() <= EVERYONE_MAX_MEMBERS {
                ids = members;
                tokens.names.clear();
            }
        }
        tokens.names.truncate(MENTIONED_NAMES_MAX);
        ids.extend(self.store.members_named(room, &tokens.names).await?);
        ids.retain(|id| Some(*id) != writer);
        ids.sort();
        ids.dedup();
        Ok(ids)
    }

    /// Saves a message's new text, then publishes the edit. The caller has
    /// checked who may edit it.
    pub(crate) async fn replace_message(
        &self,
        room: RoomId,
        number: i64,
        body: &MessageBody,
    ) -> Result<Message, AppError> {
        let writer = self.store.message_meta(room, number).await?.and_then(|m| m.user_id);
        let mentions = self.resolve_mentions(room, writer, body.as_str()).await?;
        let _order = self.hub.order_room(room).await;
        let (seq, message) = self
            .store
            .edit_message(room, number, body.as_str(), &mentions)
            .await?
            .ok_or(AppError::NotFound("message"))?;
        self.hub.publish_room(room, &ServerEvent::MessageEdited { room_id: room, seq, message: message.clone() });
        self.preview_later(room, number, body.as_str());
        Ok(message)
    }

    pub async fn history(&self, me: UserId, room: RoomId, params: &HistoryParams) -> Result<MessagePage, AppError> {
        self.member_room(me, room).await?;
        let (query, limit) = params.parse()?;
        Ok(MessagePage::new(self.store.history(room, &query, limit).await?))
    }

    /// Message `number`'s live replies, oldest first, a page at a time
    /// (`after` the last one seen). A deleted message's replies stay
    /// listed; a message that never existed is 404.
    pub async fn replies(
        &self,
        me: UserId,
        room: RoomId,
        number: i64,
        params: &RepliesParams,
    ) -> Result<MessagePage, AppError> {
        self.member_room(me, room).await?;
        let limit = crate::error::page_limit(params.limit, PAGE_DEFAULT, PAGE_MAX)?;
        self.store.message_meta(room, number).await?.ok_or(AppError::NotFound("message"))?;
        Ok(MessagePage::of_replies(self.store.replies(room, number, params.after.unwrap_or(0), limit).await?))
    }

    /// The author edits within the edit window.
    pub async fn edit_message(&self, me: UserId, room: RoomId, number: i64, body: &str) -> Result<Message, AppError> {
        self.member_room(me, room).await?;
        let body = MessageBody::parse(body)?;
        self.edit_as(Writer::User(me), room, number, &body).await
    }

    /// What a live message said before its edits, for a member of its
    /// room, the oldest first: each edit keeps the text it replaced (at
    /// most `store::EDITS_KEPT`); a deleted message has none (404).
    pub async fn message_versions(&self, me: UserId, room: RoomId, number: i64) -> Result<MessageVersions, AppError> {
        self.member_room(me, room).await?;
        let meta = self.store.message_meta(room, number).await?.ok_or(AppError::NotFound("message"))?;
        if meta.deleted {
            return Err(AppError::NotFound("message"));
        }
        let versions = self.store.message_edits(room, number).await?;
        let versions = versions
            .into_iter()
            .map(|(body, written_at)| MessageVersion {
                html: crate::markdown::render_message(&body, false),
                body,
                written_at,
            })
            .collect();
        Ok(MessageVersions { versions })
    }

    /// The one rule for edits, whoever asks: only the message's own writer (a
    /// person, or the application that posted it), only within the edit
    /// window, and never a deleted message.
    pub(crate) async fn edit_as(
        &self,
        writer: Writer,
        room: RoomId,
        number: i64,
        body: &MessageBody,
    ) -> Result<Message, AppError> {
        self.writable_room(room).await?;
        let meta = self.written_by(writer, room, number, "edit").await?;
        let window = time::Duration::seconds(self.settings.edit_window_secs as i64);
        let created = time::OffsetDateTime::parse(&meta.created_at, &time::format_description::well_known::Rfc3339)
            .map_err(AppError::internal)?;
        if time::OffsetDateTime::now_utc() - created > window {
            return Err(AppError::Forbidden("The edit window for this message has closed".into()));
        }
        self.replace_message(room, number, body).await
    }

    /// The live message `number`, if `writer` wrote it; 403 if someone else did.
    async fn written_by(&self, writer: Writer, room: RoomId, number: i64, verb: &str) -> Result<MessageMeta, AppError> {
        let meta = self.store.message_meta(room, number).await?.ok_or(AppError::NotFound("message"))?;
        if meta.deleted {
            return Err(AppError::NotFound("message"));
        }
        let own = match writer {
            Writer::User(me) => meta.user_id == Some(me) && meta.application_id.is_none(),
            Writer::Application(app) => meta.application_id == Some(app),
        };
        if !own {
            return Err(AppError::Forbidden(format!("You can only {verb} your own messages")));
        }
        Ok(meta)
    }

    /// The author deletes, or an admin (any message, in any room; written
    /// to the audit log); the number stays, the text goes. The same event
    /// either way, replayed on resume.
    pub async fn delete_message(&self, me: UserId, room: RoomId, number: i64) -> Result<(), AppError> {
        let own = match self.member_room(me, room).await {
            Ok(()) => match self.writable_room(room).await {
                Ok(()) => self.written_by(Writer::User(me), room, number, "delete").await,
                Err(err) => Err(err),
            },
            Err(err) => Err(err),
        };
        let (meta, moderated) = match own {
            Ok(meta) => (meta, false),
            Err(err @ (AppError::Forbidden(_) | AppError::NotFound(_))) => {
                if !self.is_admin(me).await? {
                    return Err(err);
                }
                if self.store.room(room).await?.is_none() {
                    return Err(AppError::NotFound("conversation"));
                }
                let meta = self.store.message_meta(room, number).await?.ok_or(AppError::NotFound("message"))?;
                if meta.deleted {
                    return Err(AppError::NotFound("message"));
                }
                (meta, true)
            }
            Err(err) => return Err(err),
        };
        self.remove_message(room, number, &meta).await?;
        if moderated {
            let audit = crate::store::Audit {
                actor: Some(me),
                action: "message.delete",
                target_user: meta.user_id,
                target_room: Some(room),
                target_number: Some(number),
                detail: None,
            };
            self.store.audit(audit).await?;
        }
        Ok(())
    }

    async fn remove_message(&self, room: RoomId, number: i64, meta: &MessageMeta) -> Result<(), AppError> {
        let _order = self.hub.order_room(room).await;
        let seq = self.store.delete_message(room, number).await?.ok_or(AppError::NotFound("message"))?;
        // A reply's original has one reply fewer: the event says how many now.
        let reply_to = match meta.reply_to {
            Some(original) => self.store.reply_refs(room, &[original]).await?.remove(&original),
            None => None,
        };
        let event = ServerEvent::MessageDeleted { room_id: room, seq, number, message_id: meta.id, reply_to };
        self.hub.publish_room(room, &event);
        Ok(())
    }

    /// Puts my `emoji` on message `number` (`want` true), takes it off
    /// (false) or toggles it (`None`), and publishes the message's reactions
    /// when they changed. Any member may react to any live message.
    pub async fn react(
        &self,
        me: UserId,
        room: RoomId,
        number: i64,
        emoji_sent: &str,
        want: Option<bool>,
    ) -> Result<Vec<Reaction>, AppError> {
        self.member_room(me, room).await?;
        // An archived room is read-only, its reactions too.
        self.writable_room(room).await?;
        // Each toggle is a change every member is sent and the room's event
        // log keeps: it counts against the same budget as a message.
        self.spend_message_budget(crate::search::Searcher::User(me))?;
        // A reaction saved before reactions had to be one emoji of Unicode's
        // list can still be taken off, never put on: asking for it is a
        // removal, refused as before when I have none to remove.
        let (emoji, want, refused) = match Emoji::parse(emoji_sent) {
            Ok(emoji) => (emoji.0, want, None),
            Err(refused) => match Emoji::saved_before_the_list(emoji_sent) {
                Some(old) if want != Some(true) => (old.to_owned(), Some(false), Some(refused)),
                _ => return Err(refused.into()),
            },
        };
        let _order = self.hub.order_room(room).await;
        // One saved before reactions were kept in Unicode's fully qualified
        // form ("❤" rather than "❤\u{fe0f}") is taken off as it was sent.
        let sent = emoji_sent.trim();
        let removed_as_sent = match want {
            Some(true) => None,
            _ if sent == emoji => None,
            _ => self.store.toggle_reaction(room, number, me, sent, Some(false)).await?.filter(|t| t.seq.is_some()),
        };
        let toggled = match removed_as_sent {
            Some(removed) => Some(removed),
            None => self.store.toggle_reaction(room, number, me, &emoji, want).await?,
        };
        let toggled = match (toggled, refused) {
            (Some(toggled), None) => toggled,
            (Some(toggled), Some(_)) if toggled.seq.is_some() => toggled,
            (_, Some(refused)) => return Err(refused.into()),
            (None, None) => return Err(AppError::NotFound("message")),
        };
        let reactions = self.store.reactions_for(room, &[number]).await?.remove(&number).unwrap_or_default();
        if let Some(seq) = toggled.seq {
            let event = ServerEvent::Reacted {
                room_id: room,
                seq,
                number,
                message_id: toggled.message_id,
                reactions: reactions.clone(),
            };
            self.hub.publish_room(room, &event);
        }
        Ok(reactions)
    }

    /// Pins message `number` to its room (`on`) or unpins it, as any member
    /// may; the message as it is now. The change reaches every member as an
    /// edit of the message (`message_edited`, with `pinned` set or gone),
    /// live and on resume. Pinning a pinned message, or unpinning one that
    /// is not, changes and sends nothing.
    pub async fn pin(&self, me: UserId, room: RoomId, number: i64, on: bool) -> Result<Message, AppError> {
        self.member_room(me, room).await?;
        // An archived room is read-only, its pins too.
        self.writable_room(room).await?;
        // Each pin or unpin is a change every member is sent and the room's
        // log keeps, as a reaction is.
        self.spend_message_budget(crate::search::Searcher::User(me))?;
        let _order = self.hub.order_room(room).await;
        let seq = match self.store.set_pin(room, number, me, on, PINS_MAX).await? {
            None => return Err(AppError::NotFound("message")),
            Some(crate::store::PinChange::Full) => {
                return Err(AppError::Conflict(format!(
                    "This conversation has {PINS_MAX} pinned messages, the most it can have: unpin one first"
                )));
            }
            Some(crate::store::PinChange::Unchanged) => None,
            Some(crate::store::PinChange::Changed(seq)) => Some(seq),
        };
        let message = self.store.message(room, number).await?.ok_or(AppError::NotFound("message"))?;
        if let Some(seq) = seq {
            self.hub.publish_room(room, &ServerEvent::MessageEdited { room_id: room, seq, message: message.clone() });
        }
        Ok(message)
    }

    /// The messages pinned to a room, the most recently pinned first (404
    /// unless I am a member).
    pub async fn pinned_messages(&self, me: UserId, room: RoomId) -> Result<PinnedMessages, AppError> {
        self.member_room(me, room).await?;
        Ok(PinnedMessages { messages: self.store.pins(room, PINS_MAX).await? })
    }

    /// Moves my read marker forward (never back); returns where it stands.
    pub async fn mark_read(&self, me: UserId, room: RoomId, number: i64) -> Result<i64, AppError> {
        self.member_room(me, room).await?;
        let (marker, moved) = self.store.mark_read(room, me, number).await?;
        // A marker that did not move tells no one anything new.
        if moved {
            self.hub.publish_room(room, &ServerEvent::Read { room_id: room, user_id: me, number: marker });
            tell_unread(&self.store, &self.hub, room, me).await?;
        }
        Ok(marker)
    }

    /// "Mark all as read": every live room of mine with unread messages is
    /// read up to its newest message, as [`Hearth::mark_read`] reads one
    /// (its members see "Seen", my tabs get the counts); the rooms it read.
    /// An archived room, listed apart, keeps its marker.
    pub async fn mark_all_read(&self, me: UserId) -> Result<MarkedRead, AppError> {
        let mut rooms = Vec::new();
        for listed in self.store.rooms_of(me).await? {
            if listed.unread_count > 0 || listed.unread_mentions > 0 {
                self.mark_read(me, listed.room.id, i64::MAX).await?;
                rooms.push(listed.room.id);
            }
        }
        Ok(MarkedRead { rooms })
    }

    /// "Mark unread": moves my read marker back to just before message
    /// `number` (live), so that it and the others' messages after it count
    /// as unread again, in the room list of each of my tabs at once; the
    /// marker now. Only back: from a message already unread, nothing
    /// changes. The room's other members are not told (their "Seen" stays
    /// until a page they load shows my marker where it is now).
    pub async fn mark_unread(&self, me: UserId, room: RoomId, number: i64) -> Result<i64, AppError> {
        self.member_room(me, room).await?;
        let (marker, moved) = self.store.mark_unread(room, me, number).await?.ok_or(AppError::NotFound("message"))?;
        if moved {
            tell_unread(&self.store, &self.hub, room, me).await?;
        }
        Ok(marker)
    }

    /// `GET /messages?from_user&to_user`: the history between two users, one
    /// of whom must be me.
    pub async fn direct_history(
        &self,
        me: UserId,
        from: UserId,
        to: UserId,
        params: &HistoryParams,
    ) -> Result<MessagePage, AppError> {
        if from != me && to != me {
            return Err(AppError::Forbidden("You can only read your own conversations".into()));
        }
        let other = if from == me { to } else { from };
        match self.store.direct_room(me, other).await? {
            Some(room) => self.history(me, room, params).await,
            None => {
                params.parse()?;
                Ok(MessagePage::default())
            }
        }
    }

    /// `POST /message`: posts into the direct room of `from` (me) and `to`,
    /// creating it if needed.
    pub async fn post_direct(&self, me: UserId, from: UserId, to: UserId, body: &str) -> Result<Message, AppError> {
        if from != me {
            return Err(AppError::Forbidden("from_user must be the signed-in user".into()));
        }
        if to == me {
            return Err(AppError::invalid("to_user", "to_user must be someone else"));
        }
        MessageBody::parse(body)?;
        let opened = self
            .create_conversation(me, NewConversation { participant_ids: vec![to], ..Default::default() })
            .await
            .map_err(|e| match e {
                AppError::Validation(_) => AppError::invalid("to_user", "to_user is not a known user"),
                other => other,
            })?;
        Ok(self.post_message(me, opened.id, body, None).await?.message)
    }
}

/// Tells every socket of `user` (on every instance) their unread count and
/// unread mentions in `room`, as the database has them now.
pub(crate) async fn tell_unread(
    store: &crate::store::Store,
    hub: &crate::hub::Hub,
    room: RoomId,
    user: UserId,
) -> Result<(), AppError> {
    let (unread, mentions) = store.unread_counts(room, user).await?;
    let event = ServerEvent::Room {
        room_id: room,
        change: RoomChange::Unread,
        unread_count: Some(unread),
        unread_mentions: Some(mentions),
    };
    hub.send_user(user, &event);
    Ok(())
}

/// A retry (an earlier send with the same `client_id`) gets its message back;
/// the same key on another text is a client's mistake, refused (422, as the
/// IETF Idempotency-Key draft says) so that the new text is not silently
/// lost. An edited or deleted original no longer shows what was first sent,
/// so a retry of it gets it back.
/// The same holds for what it answers and what it carries: a retry names
/// the same original and the same uploads.
fn retry_matches(saved: &Message, body: &MessageBody, reply_to: Option<i64>, files: &[i64]) -> Result<(), AppError> {
    if saved.deleted || saved.edited_at.is_some() {
        return Ok(());
    }
    let mut sent: Vec<i64> = saved.attachments.iter().map(|file| file.id).collect();
    let mut asked = files.to_vec();
    sent.sort_unstable();
    asked.sort_unstable();
    if saved.body.as_deref() != Some(body.as_str())
        || saved.reply_to.as_ref().map(|original| original.number) != reply_to
        || sent != asked
    {
        return Err(AppError::invalid("client_id", "client_id was already used for a different message"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_cursors_read_the_iso_8601_forms_clients_send_as_utc() {
        let same = "2026-12-06T19:03:11.000000Z";
        for form in [
            "2026-12-06T19:03:11Z",
            "2026-12-06T20:03:11+01:00",
            "2026-12-06T19:03:11+0000",
            "2026-12-06T19:03:11",
            "2026-12-06T19:03:11.000",
        ] {
            assert_eq!(cursor_time(form).as_deref(), Some(same), "{form}");
        }
        assert_eq!(cursor_time("2026-12-06T19:03:11.823030").as_deref(), Some("2026-12-06T19:03:11.823030Z"));
        assert_eq!(cursor_time("2026-12-06T19:03Z").as_deref(), Some("2026-12-06T19:03:00.000000Z"));
        assert_eq!(cursor_time("2026-12-06").as_deref(), Some("2026-12-06T00:00:00.000000Z"));
        for not_a_time in ["yesterday", "2026-13-01", "2026-12-06T25:00:00Z", "12/06/2026", ""] {
            assert_eq!(cursor_time(not_a_time), None, "{not_a_time}");
        }
    }

    #[test]
    fn bodies_are_trimmed_and_1_to_10000_characters() {
        assert_eq!(MessageBody::parse("  hi \n").expect("valid test input").as_str(), "hi");
        assert!(MessageBody::parse(" \n\t ").is_err());
        assert!(MessageBody::parse(&"é".repeat(10_000)).is_ok());
        assert!(MessageBody::parse(&"x".repeat(10_001)).is_err());
    }

    #[test]
    fn a_reaction_is_one_emoji_not_words_or_markup() {
        for ok in ["👍", " 🎉 ", "❤️", "👍🏽", "🇫🇷", "👨‍👩‍👧‍👦", "1️⃣", "#️⃣", "✅"]
        {
            assert!(Emoji::parse(ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "  ",
            "a",
            "+1",
            ":thumbsup:",
            "<b>",
            "👍 👍",
            "1",
            "é\u{0}",
            &"👍".repeat(9),
            "👍\t👍",
            "👍👍",
            "Привет",
            "\u{200b}",
            "\u{202e}",
            "👍\u{202e}",
            "🇫",
            "ü",
        ] {
            assert!(Emoji::parse(bad).is_err(), "{bad:?}");
        }
        // With or without the emoji selector, one emoji in its fully
        // qualified form; a skin tone stays the one chosen.
        assert_eq!(Emoji::parse(" ❤ ").expect("an emoji").as_str(), "❤\u{fe0f}");
        assert_eq!(Emoji::parse("❤\u{fe0f}").expect("an emoji").as_str(), "❤\u{fe0f}");
        assert_eq!(Emoji::parse("👍🏽").expect("an emoji").as_str(), "👍🏽");
        // Every emoji of the list is one, the longest sequences too.
        let kiss = "\u{1f469}\u{1f3fb}\u{200d}\u{2764}\u{fe0f}\u{200d}\u{1f48b}\u{200d}\u{1f468}\u{1f3ff}";
        assert_eq!(Emoji::parse(kiss).expect("a kiss with two skin tones").as_str(), kiss);
        for known in emojis::iter().flat_map(|e| std::iter::once(e).chain(e.skin_tones().into_iter().flatten())) {
            assert!(Emoji::parse(known.as_str()).is_ok(), "{known}");
        }
        assert_eq!(Emoji::parse("☺").expect("an emoji").as_str(), "☺\u{fe0f}");
    }

    #[test]
    fn history_params_read_times_numbers_and_limits() {
        let p = |before: Option<&str>, limit| HistoryParams {
            before: before.map(str::to_owned),
            limit,
            ..Default::default()
        };
        assert_eq!(p(None, None).parse().expect("valid test input"), (HistoryQuery::Latest, 50));
        assert_eq!(p(Some("42"), Some(500)).parse().expect("valid test input"), (HistoryQuery::BeforeNumber(42), 200));
        assert_eq!(
            p(Some("2024-01-01T00:00:00Z"), None).parse().expect("valid test input").0,
            HistoryQuery::BeforeTime("2024-01-01T00:00:00.000000Z".into())
        );
        assert!(p(Some("soon"), None).parse().is_err());
        // Below the microsecond, a `before` bound is the next microsecond
        // (the message stamped …30.044233 is before …30.0442335); an
        // `after` bound stays at its microsecond.
        assert_eq!(
            p(Some("2026-12-07T02:04:30.0442335Z"), None).parse().expect("valid test input").0,
            HistoryQuery::BeforeTime("2026-12-07T02:04:30.044234Z".into())
        );
        assert_eq!(
            p(Some("2026-12-07T02:04:30.044233000Z"), None).parse().expect("valid test input").0,
            HistoryQuery::BeforeTime("2026-12-07T02:04:30.044233Z".into())
        );
        let after = HistoryParams { after: Some("2026-12-07T02:04:30.0442335Z".into()), ..Default::default() };
        assert_eq!(
            after.parse().expect("valid test input").0,
            HistoryQuery::AfterTime("2026-12-07T02:04:30.044233Z".into())
        );
        assert!(p(Some("9999-12-31T23:59:59-01:00"), None).parse().is_err(), "a cursor past year 9999 in UTC");
        assert!(p(None, Some(0)).parse().is_err());
    }
}
