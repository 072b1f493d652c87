//! The Chat System API (the multi-tenant seeds): applications with a secret
//! token, chats numbered 1.. per application and messages 1.. per chat, race
//! free and with exact counters, and substring search. A chat is an ordinary
//! room: its owner sees it in the web UI, and its messages are published
//! like any other.

use serde::Serialize;

use crate::Hearth;
use crate::error::{AppError, FieldError};
use crate::messages::{HistoryParams, MessageBody, Poster, Writer};
use crate::model::{Message, UserId};
use crate::protocol::{RoomChange, ServerEvent};
use crate::search::{SearchText, Searcher, search_limit};
use crate::store::{AppRow, ChatRow, SearchScope};

const NAME_MAX: usize = 100;

/// The answer to a token whose application's owner is deactivated.
pub const OWNER_DEACTIVATED: &str = "This application's owner has been deactivated";

/// What `GET /api/applications` says to a caller without a session: the list
/// is the signed-in owner's, and a token shows only its own application.
pub const LIST_NEEDS_OWNER: &str = "Listing applications needs a signed-in owner: sign in to list the \
     applications you created, or GET /api/applications/:token to see one application by its token";

/// How an update treats the writable fields it is not given. `PUT` replaces
/// the record, so every writable field is required (a missing one is a 422
/// naming it); `PATCH` merges, so a missing field keeps its value and an
/// empty patch changes nothing. Each record has one writable field:
/// `application_name`, `chat_name`, `message_content`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Update {
    /// `PUT`: the body is the whole record.
    Replace,
    /// `PATCH`: the body is the fields to change.
    Merge,
}

impl Update {
    /// The value to write, or `None` to keep the stored one.
    fn field<'a>(self, field: &str, label: &str, given: Option<&'a str>) -> Result<Option<&'a str>, AppError> {
        match (given, self) {
            (Some(value), _) => Ok(Some(value)),
            (None, Update::Merge) => Ok(None),
            (None, Update::Replace) => Err(AppError::invalid(
                field,
                format!(
                    "{label} is missing: PUT replaces the record, so send {field} (PATCH changes only the fields it is given)"
                ),
            )),
        }
    }
}

/// `{"type":"application", …}` as the seed's API shows it.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ApplicationView {
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub application_token: String,
    pub application_name: String,
    pub chats_count: i64,
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ChatView {
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub application_token: String,
    pub chat_number: i64,
    pub chat_name: String,
    pub messages_count: i64,
    /// True once archived in the web UI: it is read-only (a post is 403).
    /// Absent otherwise.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub archived: bool,
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AppMessageView {
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub application_token: String,
    pub chat_number: i64,
    pub message_number: i64,
    /// `None` once deleted in the web UI.
    pub message_content: Option<String>,
    pub created_at: String,
    pub edited_at: Option<String>,
    /// Who wrote it, when a person did (in the web UI or over REST); absent
    /// for the application's own messages.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user: Option<crate::model::Author>,
    /// True once deleted in the web UI. Absent otherwise.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub deleted: bool,
}

/// A chat search hit, in the seed's shape.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ChatHit {
    pub number: i64,
    pub content: String,
}

/// A chat search's hits, newest first, and whether a short query stopped
/// scanning early (see `search::SHORT_SCAN_BYTES`).
#[derive(Debug, Clone)]
pub struct ChatHits {
    pub hits: Vec<ChatHit>,
    pub partial: bool,
}

fn parse_name(field: &str, label: &str, raw: Option<&str>) -> Result<String, AppError> {
    let name = raw.map(str::trim).unwrap_or("");
    FieldError::reject_nul(field, label, name)?;
    crate::text::reject_direction_controls(field, label, name)?;
    if crate::text::is_blank(name) {
        Err(AppError::invalid(field, format!("{label} can't be blank")))
    } else if name.chars().count() > NAME_MAX {
        Err(AppError::invalid(field, format!("{label} is too long (maximum is {NAME_MAX} characters)")))
    } else {
        Ok(name.to_owned())
    }
}

/// 192 random bits as 48 hex characters: URL-safe and unguessable.
fn new_token() -> String {
    use argon2::password_hash::rand_core::{OsRng, RngCore};
    let mut bytes = [0u8; 24];
    OsRng.fill_bytes(&mut bytes);
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

impl AppRow {
    fn view(&self) -> ApplicationView {
        ApplicationView {
            kind: "application",
            application_token: self.token.clone(),
            application_name: self.name.clone(),
            chats_count: self.chats_count,
        }
    }
}

impl ChatRow {
    fn view(&self, token: &str) -> ChatView {
        ChatView {
            kind: "chat",
            application_token: token.to_owned(),
            chat_number: self.chat_number,
            chat_name: self.title.clone().unwrap_or_default(),
            messages_count: self.messages_count,
            archived: self.archived,
        }
    }
}

/// A message body from the token API, its errors named as the API names it.
fn app_body(content: Option<&str>) -> Result<MessageBody, AppError> {
    MessageBody::parse(content.unwrap_or(""))
        .map_err(|e| AppError::invalid("message_content", e.message.replace("Body", "Message content")))
}

fn message_view(token: &str, chat: i64, m: Message) -> AppMessageView {
    AppMessageView {
        kind: "message",
        application_token: token.to_owned(),
        chat_number: chat,
        message_number: m.number,
        message_content: m.body,
        created_at: m.created_at,
        edited_at: m.edited_at,
        user: m.user,
        deleted: m.deleted,
    }
}

impl Hearth {
    /// The application a token names. An application owned by a
    /// deactivated account is refused (403) like its owner's sessions: the
    /// token is the owner's credential too. Anonymous applications (no
    /// owner) belong to whoever holds the token. The owner comes through the
    /// users cache, which deactivation invalidates at once.
    async fn app(&self, token: &str) -> Result<AppRow, AppError> {
        let app = self.store.application_by_token(token).await?.ok_or(AppError::NotFound("application"))?;
        if let Some(owner) = app.owner_id {
            let active = self.caches.users.get_or_load(owner, self.store.auth_user_by_id(owner)).await?;
            if active.is_none() {
                return Err(AppError::Forbidden(OWNER_DEACTIVATED.into()));
            }
        }
        Ok(app)
    }

    async fn app_chat(&self, token: &str, number: i64) -> Result<(AppRow, ChatRow), AppError> {
        let app = self.app(token).await?;
        let chat = self.store.chat(app.id, number).await?.ok_or(AppError::NotFound("chat"))?;
        Ok((app, chat))
    }

    /// Creates an application owned by `owner`, or an anonymous one, which
    /// spends the client's budget for those.
    pub async fn create_application(
        &self,
        owner: Option<UserId>,
        client: std::net::IpAddr,
        name: Option<&str>,
    ) -> Result<ApplicationView, AppError> {
        let name = parse_name("application_name", "Application name", name)?;
        // A refused name spends nothing of the anonymous budget.
        if owner.is_none() {
            self.anonymous_apps.check(&client)?;
        }
        Ok(self.store.insert_application(&new_token(), &name, owner).await?.view())
    }

    /// A request that carries a session cookie that no longer signs anyone
    /// in (signed out, expired) is refused instead of making an application
    /// without an owner, which its sender could then never see in the web UI
    /// nor claim.
    pub const SESSION_ENDED: &'static str =
        "Your session has ended: sign in again, or send no session cookie to create an application without an owner";

    /// The applications `owner` created. Without a signed-in owner there is
    /// no list: tokens are credentials, and one caller never sees another's.
    pub async fn applications(&self, owner: Option<UserId>) -> Result<Vec<ApplicationView>, AppError> {
        let owner = owner.ok_or_else(|| AppError::Unauthorized(LIST_NEEDS_OWNER.into()))?;
        Ok(self.store.applications_of(owner).await?.iter().map(AppRow::view).collect())
    }

    pub async fn application(&self, token: &str) -> Result<ApplicationView, AppError> {
        Ok(self.app(token).await?.view())
    }

    /// `PUT`/`PATCH`: `name` is `None` when the body does not have it.
    pub async fn update_application(
        &self,
        token: &str,
        how: Update,
        name: Option<&str>,
    ) -> Result<ApplicationView, AppError> {
        let app = self.app(token).await?;
        let Some(name) = how.field("application_name", "Application name", name)? else {
            return Ok(app.view());
        };
        let name = parse_name("application_name", "Application name", Some(name))?;
        Ok(self.store.rename_application(app.id, &name).await?.view())
    }

    pub async fn create_chat(&self, token: &str, name: Option<&str>) -> Result<ChatView, AppError> {
        let app = self.app(token).await?;
        // Without a name, it is called after its application; a name given
        // blank is refused, as a blank rename is.
        let name = match name {
            Some(_) => parse_name("chat_name", "Chat name", name)?,
            None => format!("{} chat", app.name),
        };
        let chat = self.store.insert_chat(&app, &name).await?;
        if let Some(owner) = app.owner_id {
            let event = ServerEvent::room(chat.room_id, RoomChange::Added);
            self.hub.send_user(owner, &event);
        }
        Ok(chat.view(&app.token))
    }

    pub async fn chats(&self, token: &str) -> Result<Vec<ChatView>, AppError> {
        let app = self.app(token).await?;
        Ok(self.store.chats_of(app.id).await?.iter().map(|c| c.view(&app.token)).collect())
    }

    pub async fn chat(&self, token: &str, number: i64) -> Result<ChatView, AppError> {
        let (app, chat) = self.app_chat(token, number).await?;
        Ok(chat.view(&app.token))
    }

    /// `PUT`/`PATCH`: `name` is `None` when the body does not have it.
    pub async fn update_chat(
        &self,
        token: &str,
        number: i64,
        how: Update,
        name: Option<&str>,
    ) -> Result<ChatView, AppError> {
        let (app, chat) = self.app_chat(token, number).await?;
        let Some(name) = how.field("chat_name", "Chat name", name)? else {
            return Ok(chat.view(&app.token));
        };
        let name = parse_name("chat_name", "Chat name", Some(name))?;
        // An archived chat is read-only, as its room is in the web UI.
        self.writable_room(chat.room_id).await?;
        self.store.rename_room(chat.room_id, &name).await?;
        self.forget_listed_room(chat.room_id);
        // A chat is an ordinary room: its members' tabs hear of the new name.
        self.announce_room(chat.room_id, crate::protocol::RoomChange::Updated).await?;
        Ok(ChatRow { title: Some(name), ..chat }.view(&app.token))
    }

    /// Posts as the application; published live to the room like any message.
    pub async fn post_app_message(
        &self,
        token: &str,
        number: i64,
        content: Option<&str>,
    ) -> Result<AppMessageView, AppError> {
        let (app, chat) = self.app_chat(token, number).await?;
        let body = app_body(content)?;
        let inserted = self
            .append_message(
                chat.room_id,
                Poster::Application { id: app.id, name: &app.name, owner: app.owner_id },
                &body,
                None,
                None,
                Vec::new(),
            )
            .await?;
        Ok(message_view(&app.token, number, inserted.message))
    }

    /// A chat's messages by number, ascending (`after_number`/`before_number`, `limit`).
    pub async fn app_messages(
        &self,
        token: &str,
        number: i64,
        params: &HistoryParams,
    ) -> Result<Vec<AppMessageView>, AppError> {
        let (app, chat) = self.app_chat(token, number).await?;
        let (query, limit) = params.parse()?;
        let query = match query {
            crate::store::HistoryQuery::Latest if params.after_number.is_none() => {
                crate::store::HistoryQuery::AfterNumber(0)
            }
            other => other,
        };
        let messages = self.store.history(chat.room_id, &query, limit).await?;
        Ok(messages.into_iter().map(|m| message_view(&app.token, number, m)).collect())
    }

    pub async fn app_message(&self, token: &str, number: i64, message: i64) -> Result<AppMessageView, AppError> {
        let (app, chat) = self.app_chat(token, number).await?;
        let m = self.store.message(chat.room_id, message).await?.ok_or(AppError::NotFound("message"))?;
        Ok(message_view(&app.token, number, m))
    }

    /// `PUT`/`PATCH`: `content` is `None` when the body does not have it. An
    /// edit is the application's own message's, within the edit window; a
    /// `PATCH` without content edits nothing and shows the message.
    pub async fn update_app_message(
        &self,
        token: &str,
        number: i64,
        message: i64,
        how: Update,
        content: Option<&str>,
    ) -> Result<AppMessageView, AppError> {
        let (app, chat) = self.app_chat(token, number).await?;
        let given = how.field("message_content", "Message content", content);
        if let Ok(Some(content)) = given {
            let body = app_body(Some(content))?;
            let m = self.edit_as(Writer::Application(app.id), chat.room_id, message, &body).await?;
            return Ok(message_view(&app.token, number, m));
        }
        // Nothing to write, or a PUT without it: an unknown message is a 404
        // first, as an unknown application or chat is.
        let m = self.store.message(chat.room_id, message).await?.ok_or(AppError::NotFound("message"))?;
        given?;
        Ok(message_view(&app.token, number, m))
    }

    /// The seed's chat search: `[{number, content}]`, newest first.
    pub async fn search_chat(
        &self,
        token: &str,
        number: i64,
        query: Option<&str>,
        limit: Option<u32>,
    ) -> Result<ChatHits, AppError> {
        let (app, chat) = self.app_chat(token, number).await?;
        let text = SearchText::literal("query", query.unwrap_or(""))?;
        let found = self
            .find(Searcher::Application(app.id), SearchScope::Room(chat.room_id), &text, search_limit(limit)?)
            .await?;
        let hits = found.hits.into_iter().map(|h| ChatHit { number: h.number, content: h.body }).collect();
        Ok(ChatHits { hits, partial: found.partial })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_192_bit_hex_and_distinct() {
        let (a, b) = (new_token(), new_token());
        assert_eq!(a.len(), 48);
        assert!(a.chars().all(|c| c.is_ascii_hexdigit()));
        assert_ne!(a, b);
    }

    #[test]
    fn a_replace_requires_the_field_and_names_it_and_a_merge_keeps_what_it_lacks() {
        assert_eq!(
            Update::Replace.field("chat_name", "Chat name", Some("x")).expect("a field given or merged"),
            Some("x")
        );
        assert_eq!(Update::Merge.field("chat_name", "Chat name", Some("")).expect("a field given or merged"), Some(""));
        assert_eq!(Update::Merge.field("chat_name", "Chat name", None).expect("a field given or merged"), None);
        let Err(AppError::Validation(errors)) = Update::Replace.field("chat_name", "Chat name", None) else {
            panic!("a PUT without the field is a validation error");
        };
        assert_eq!(errors[0].field, "chat_name");
        assert!(errors[0].message.starts_with("Chat name is missing"), "{}", errors[0].message);
        assert!(errors[0].message.contains("send chat_name"), "{}", errors[0].message);
    }
}
