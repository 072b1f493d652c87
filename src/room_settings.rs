//! Room management (issue 18): renaming a room, setting its topic, and
//! archiving it (`DELETE /conversations/:id`). The room's creator or an
//! admin may; direct rooms can't be changed by one side; an archived room
//! is read-only ([`Hearth::writable_room`]) and listed apart. Each change
//! reaches every member's tabs as a `room` event.

use crate::Hearth;
use crate::error::{AppError, FieldError};
use crate::model::{Conversation, RoomId, RoomKind, UserId};
use crate::protocol::{RoomChange, ServerEvent};
use crate::store::{Audit, RoomRow};

const TITLE_MAX: usize = 100;
const TOPIC_MAX: usize = 250;
pub const ARCHIVED: &str = "This conversation is archived and read-only";
const DIRECT: &str = "A direct conversation can't be renamed or archived";

/// Changes to a room; `None` keeps the current value, an empty topic clears it.
#[derive(Debug, Default, Clone)]
pub struct RoomChanges {
    pub title: Option<String>,
    pub topic: Option<String>,
}

/// How a caller may manage a room.
enum Manager {
    Creator,
    /// An admin who did not create it: the change is audited.
    Admin,
}

impl Hearth {
    /// Fails with 403 when `room` is archived (404 when there is none).
    /// Cached: every send asks, and only an archive changes the answer.
    pub(crate) async fn writable_room(&self, room: RoomId) -> Result<(), AppError> {
        let archived = self.archived_rooms.get_or_load(room, self.store.room_archived(room)).await?;
        match archived {
            Some(false) => Ok(()),
            Some(true) => Err(AppError::Forbidden(ARCHIVED.into())),
            None => Err(AppError::NotFound("conversation")),
        }
    }

    /// The room and how `me` may manage it: members who did not create it
    /// get 403, anyone else who is neither a member nor an admin 404 (as if
    /// missing), and nobody changes a direct room (422).
    async fn managed_room(&self, me: UserId, room: RoomId) -> Result<(RoomRow, Manager), AppError> {
        let row = self.store.room(room).await?.ok_or(AppError::NotFound("conversation"))?;
        let member = self.member_room(me, room).await.is_ok();
        let admin = self.is_admin(me).await?;
        if !member && !admin {
            return Err(AppError::NotFound("conversation"));
        }
        if row.kind() == RoomKind::Direct {
            return Err(AppError::invalid("conversation", DIRECT));
        }
        let manager = if member && row.created_by == Some(me) {
            Manager::Creator
        } else if admin {
            Manager::Admin
        } else {
            return Err(AppError::Forbidden("Only the room's creator or an admin can change it".into()));
        };
        Ok((row, manager))
    }

    /// Renames the room and/or sets its topic.
    pub async fn update_room(&self, me: UserId, room: RoomId, changes: RoomChanges) -> Result<Conversation, AppError> {
        let (row, manager) = self.managed_room(me, room).await?;
        if row.archived_at.is_some() {
            return Err(AppError::Forbidden(ARCHIVED.into()));
        }
        let mut errors = Vec::new();
        let title = match changes.title.as_deref() {
            None => row.title.clone(),
            Some(raw) => match parse_text("title", "Title", raw, TITLE_MAX) {
                Ok(Some(title)) => Some(title),
                Ok(None) => {
                    errors.push(FieldError::new("title", "Title can't be blank"));
                    None
                }
                Err(err) => {
                    errors.push(err);
                    None
                }
            },
        };
        let topic = match changes.topic.as_deref() {
            None => row.topic.clone(),
            Some(raw) => parse_text("topic", "Topic", raw, TOPIC_MAX).unwrap_or_else(|err| {
                errors.push(err);
                None
            }),
        };
        if !errors.is_empty() {
            return Err(AppError::Validation(errors));
        }
        self.store.set_room_details(room, title.as_deref(), topic.as_deref()).await?;
        if let Manager::Admin = manager {
            let detail =
                format!("title: {}; topic: {}", title.as_deref().unwrap_or(""), topic.as_deref().unwrap_or(""));
            self.audit_room(me, "room.update", room, detail).await?;
        }
        self.announce_room(room, RoomChange::Updated).await?;
        let row = self.store.room(room).await?.ok_or(AppError::NotFound("conversation"))?;
        Ok(row.to_conversation())
    }

    /// Archives the room: it stays, read-only, listed apart. Again is fine.
    pub async fn archive_room(&self, me: UserId, room: RoomId) -> Result<(), AppError> {
        let (row, manager) = self.managed_room(me, room).await?;
        if row.archived_at.is_some() {
            return Ok(());
        }
        self.store.archive_room(room).await?;
        self.forget_archived(room);
        if let Manager::Admin = manager {
            self.audit_room(me, "room.archive", room, String::new()).await?;
        }
        self.announce_room(room, RoomChange::Archived).await
    }

    async fn audit_room(&self, me: UserId, action: &str, room: RoomId, detail: String) -> Result<(), AppError> {
        let detail = (!detail.is_empty()).then_some(detail);
        self.store.audit(Audit { actor: Some(me), action, target_room: Some(room), detail, ..Audit::default() }).await
    }

    /// Tells every member's tabs (their sidebars and the room) of the change.
    pub(crate) async fn announce_room(&self, room: RoomId, change: RoomChange) -> Result<(), AppError> {
        let event = ServerEvent::room(room, change);
        for member in self.store.members(room).await? {
            self.hub.send_user(member.id, &event);
        }
        Ok(())
    }
}

/// Trimmed text of at most `max` characters, `None` when blank.
fn parse_text(field: &str, label: &str, raw: &str, max: usize) -> Result<Option<String>, FieldError> {
    FieldError::reject_nul(field, label, raw)?;
    if field == "title" {
        crate::text::reject_direction_controls(field, label, raw)?;
    }
    match raw.trim() {
        t if crate::text::is_blank(t) => Ok(None),
        t if t.chars().count() > max => {
            Err(FieldError::new(field, format!("{label} is too long (maximum is {max} characters)")))
        }
        t => Ok(Some(t.to_owned())),
    }
}
