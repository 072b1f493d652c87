//! Rooms ("conversations"): creating direct, group and open rooms, listing
//! them, and membership. [`Hearth::member_room`] is the one membership check
//! every read, write and subscription goes through.

use crate::Hearth;
use crate::error::{AppError, FieldError};
use crate::hub::UserSignal;
use crate::model::{
    Conversation, ConversationDetail, ConversationSummary, NotificationSettings, NotifyLevel, OpenRoom, Person, RoomId,
    RoomKind, UserId,
};
use crate::protocol::{RoomChange, ServerEvent};
use crate::store::{HistoryQuery, ListedRoom, RoomRow};

pub use crate::model::DEFAULT_GROUP_TITLE;

const TITLE_MAX: usize = 100;
/// The most people one request may name (a room is created or grown in one
/// transaction, and each id is a bound SQL variable).
pub const PARTICIPANTS_MAX: usize = 1_000;

/// Refuses lists of user ids longer than `PARTICIPANTS_MAX`.
fn cap_ids(field: &str, label: &str, ids: &[UserId]) -> Result<(), AppError> {
    if ids.len() > PARTICIPANTS_MAX {
        return Err(AppError::invalid(field, format!("{label} can't name more than {PARTICIPANTS_MAX} people")));
    }
    Ok(())
}

/// `POST /conversations` as submitted.
#[derive(Debug, Default, Clone)]
pub struct NewConversation {
    pub participant_ids: Vec<UserId>,
    pub title: Option<String>,
    pub kind: Option<String>,
}

/// A room made or found by [`Hearth::create_conversation`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Opened {
    pub id: RoomId,
    /// False when an existing direct room was returned.
    pub created: bool,
}

fn parse_title(raw: Option<&str>) -> Result<Option<String>, FieldError> {
    FieldError::reject_nul("title", "Title", raw.unwrap_or(""))?;
    crate::text::reject_direction_controls("title", "Title", raw.unwrap_or(""))?;
    match raw.map(str::trim).filter(|t| !crate::text::is_blank(t)) {
        Some(t) if t.chars().count() > TITLE_MAX => {
            Err(FieldError::new("title", format!("Title is too long (maximum is {TITLE_MAX} characters)")))
        }
        other => Ok(other.map(str::to_owned)),
    }
}

/// How many unread messages the newest page may hold for a room to open on
/// it: of its 50, the rest show read ones above the "New messages" divider.
const UNREAD_ON_NEWEST_PAGE: i64 = 45;

/// A room as its window opens ([`Hearth::open_room`]).
#[derive(Debug, Clone)]
pub struct RoomOpening {
    pub detail: ConversationDetail,
    /// The first message after my read marker that someone else wrote (the
    /// "New messages" divider goes above it); `None`: nothing unread.
    pub first_unread: Option<i64>,
    /// The message the page is around; `None`: the newest page.
    pub around: Option<i64>,
}

impl Hearth {
    /// Passes if `me` is a member of `room`; otherwise the same 404 as a
    /// missing room. Answered from the membership cache when it can be
    /// (`cache.rs`): an ended membership is invalidated at once
    /// ([`Self::forget_membership`]), and only memberships that exist are
    /// cached, so a join is seen at once too.
    pub(crate) async fn member_room(&self, me: UserId, room: RoomId) -> Result<(), AppError> {
        let load = async { Ok::<_, AppError>(self.store.room_for_member(room, me).await?.map(drop)) };
        self.caches.members.get_or_load((me, room), load).await?.ok_or(AppError::NotFound("conversation"))
    }

    /// The room's row, if `me` is a member, read from the database (its
    /// counters and times change with every message, so it is never cached).
    pub(crate) async fn member_room_row(&self, me: UserId, room: RoomId) -> Result<RoomRow, AppError> {
        self.store.room_for_member(room, me).await?.ok_or(AppError::NotFound("conversation"))
    }

    /// `ids` (sorted or not), if each is an account that can be in a room:
    /// an unknown id or a deactivated account (who can never sign in to
    /// read it) is a 422 on `field`, naming the ids.
    async fn joinable_users(&self, field: &str, label: &str, ids: &[UserId]) -> Result<Vec<UserId>, AppError> {
        let known = self.store.existing_users(ids).await?;
        let listed = |ids: Vec<String>| ids.join(", ");
        let unknown: Vec<String> =
            ids.iter().filter(|id| !known.iter().any(|(k, _)| k == *id)).map(ToString::to_string).collect();
        if !unknown.is_empty() {
            return Err(AppError::invalid(field, format!("Unknown {label} ids: {}", listed(unknown))));
        }
        let deactivated: Vec<String> =
            known.iter().filter(|(_, deactivated)| *deactivated).map(|(id, _)| id.to_string()).collect();
        if !deactivated.is_empty() {
            let message =
                format!("Deactivated accounts can't be added to a conversation: {label} ids {}", listed(deactivated));
            return Err(AppError::invalid(field, message));
        }
        Ok(known.into_iter().map(|(id, _)| id).collect())
    }

    /// Called once `user`'s membership of `room` has ended in the database:
    /// their next request or socket event is checked against it, here and
    /// (through the bus) on every other instance.
    fn forget_membership(&self, user: UserId, room: RoomId) {
        self.caches.members.invalidate(&(user, room));
        // The others' room lists no longer show them in it.
        self.hub.list_changes().room(room);
        self.hub.bus().forget(crate::bus::Forget::Membership(user, room));
    }

    /// Two people in total make (or find) their direct room; three or more a
    /// group (without a title, the same people find their untitled group
    /// again); `kind: "open"` an open room anyone can join.
    #[tracing::instrument(skip(self, input), fields(me = %me))]
    pub async fn create_conversation(&self, me: UserId, input: NewConversation) -> Result<Opened, AppError> {
        let kind = match input.kind.as_deref().map(str::trim).filter(|k| !k.is_empty()) {
            None => None,
            Some(raw) => Some(
                RoomKind::parse(raw).ok_or_else(|| AppError::invalid("kind", "Kind must be direct, group or open"))?,
            ),
        };
        let title = parse_title(input.title.as_deref())?;
        cap_ids("participant_ids", "Participant ids", &input.participant_ids)?;
        let named_anyone = !input.participant_ids.is_empty();
        let mut others: Vec<UserId> = input.participant_ids.into_iter().filter(|id| *id != me).collect();
        others.sort();
        others.dedup();
        self.joinable_users("participant_ids", "participant", &others).await?;
        if kind == Some(RoomKind::Open) {
            let title = title.ok_or_else(|| AppError::invalid("title", "Title can't be blank"))?;
            let members: Vec<UserId> = std::iter::once(me).chain(others).collect();
            let id = self.store.create_room(RoomKind::Open, Some(&title), me, &members).await?;
            self.announce_added(id, &members);
            return Ok(Opened { id, created: true });
        }
        match (others.as_slice(), kind) {
            ([], _) if named_anyone => {
                Err(AppError::invalid("participant_ids", "Participant ids must name someone other than you"))
            }
            ([], _) => Err(AppError::invalid("participant_ids", "Participant ids can't be empty")),
            ([other], None | Some(RoomKind::Direct)) => {
                let (id, created) = self.store.find_or_create_direct(me, *other, title.as_deref()).await?;
                if created {
                    self.announce_added(id, &[me, *other]);
                } else {
                    // Had I closed it, starting it again opened it.
                    self.forget_room_list(me);
                }
                Ok(Opened { id, created })
            }
            (_, Some(RoomKind::Direct)) => {
                Err(AppError::invalid("participant_ids", "A direct conversation has exactly one other participant"))
            }
            _ => {
                let members: Vec<UserId> = std::iter::once(me).chain(others).collect();
                // The default title is no title: such a group is called by
                // its members' names too (`named_by_members`), so it is the
                // one an untitled request for the same people finds.
                let (id, created) = match title.filter(|t| !crate::model::named_by_members(RoomKind::Group, Some(t))) {
                    Some(title) => (self.store.create_room(RoomKind::Group, Some(&title), me, &members).await?, true),
                    None => self.store.find_or_create_group(DEFAULT_GROUP_TITLE, me, &members).await?,
                };
                if created {
                    self.announce_added(id, &members);
                }
                Ok(Opened { id, created })
            }
        }
    }

    /// My rooms, most recent activity first, each with its members, newest
    /// message and unread count: one query however many rooms. For the web
    /// app: with the ones I closed marked `closed` until there is activity
    /// in them (its list hides them, and follows them live).
    pub async fn conversations(&self, me: UserId) -> Result<Vec<ConversationSummary>, AppError> {
        let list = self.room_list(me).await?;
        Ok(list.iter().map(|room| ConversationSummary { closed: !room.is_listed(), ..room.clone() }).collect())
    }

    /// [`Self::conversations`], shared rather than copied: the list is kept
    /// in memory until something it shows changes ([`crate::room_lists`]).
    /// It holds the rooms I closed too, so that activity in one (a change
    /// to its entry) brings it back; its JSON leaves them out.
    /// While the bus is down, the other instances' changes go unheard, so
    /// the list is read afresh each time until it is back (which clears
    /// every kept list).
    pub async fn room_list(&self, me: UserId) -> Result<crate::room_lists::RoomList, AppError> {
        let load = self.conversations_listed(me, false);
        if !self.hub.bus().connected() {
            return Ok(load.await?.into());
        }
        let refresh = |rooms: Vec<RoomId>| async move {
            let listed = self.store.room_list_only(me, &rooms).await?;
            Ok(listed.into_iter().map(summary_of).collect())
        };
        self.caches.room_lists.get_or_load(me, load, refresh).await
    }

    /// My archived rooms, listed apart from the live ones.
    pub async fn archived_conversations(&self, me: UserId) -> Result<Vec<ConversationSummary>, AppError> {
        self.conversations_listed(me, true).await
    }

    async fn conversations_listed(&self, me: UserId, archived: bool) -> Result<Vec<ConversationSummary>, AppError> {
        let rooms = self.store.room_list(me, archived).await?;
        Ok(rooms.into_iter().map(summary_of).collect())
    }

    /// One room with its members and newest 50 messages.
    pub async fn conversation(&self, me: UserId, room: RoomId) -> Result<ConversationDetail, AppError> {
        self.conversation_around(me, room, None).await
    }

    /// One room with its members and 50 messages: the newest, or those
    /// around message `around` (to jump to a search hit).
    pub async fn conversation_around(
        &self,
        me: UserId,
        room: RoomId,
        around: Option<i64>,
    ) -> Result<ConversationDetail, AppError> {
        let row = self.member_room_row(me, room).await?;
        self.detail_of(row, around).await
    }

    /// Room `row`'s members, its 50 messages (newest, or around `around`)
    /// and read markers; the caller has checked membership.
    async fn detail_of(&self, row: RoomRow, around: Option<i64>) -> Result<ConversationDetail, AppError> {
        let room = row.id;
        let participants = self.store.members(room).await?;
        let query = around.map_or(HistoryQuery::Latest, HistoryQuery::Around);
        // The row was read first: a message sent since is newer than its
        // `last_number` and its seq newer than its `last_seq`, so a client
        // resuming from `last_seq` is sent it. Shown here too, it would
        // arrive twice: the page stops at the row's `last_number`.
        let messages = self.store.history_through(room, &query, 50, Some(row.last_number)).await?;
        let read_markers = self.store.read_markers(room).await?;
        Ok(ConversationDetail { conversation: row.to_conversation(), participants, messages, read_markers })
    }

    /// A room as its window opens for me: around `around` when given (a
    /// search hit); otherwise, when others wrote messages I have not read,
    /// at the first of them (the newest page if it holds it with a few read
    /// ones above, else the page around it); otherwise the newest page.
    pub async fn open_room(&self, me: UserId, room: RoomId, around: Option<i64>) -> Result<RoomOpening, AppError> {
        let row = self.member_room_row(me, room).await?;
        let first_unread = self.store.first_unread(room, me).await?;
        let around = around.or(first_unread.filter(|first| row.last_number - first >= UNREAD_ON_NEWEST_PAGE));
        let detail = self.detail_of(row, around).await?;
        Ok(RoomOpening { detail, first_unread, around })
    }

    pub async fn open_rooms(&self, me: UserId) -> Result<Vec<OpenRoom>, AppError> {
        self.store.open_rooms(me).await
    }

    /// Joins an open room, caught up with its history. Private rooms answer
    /// 404, as if missing.
    pub async fn join(&self, me: UserId, room: RoomId) -> Result<(), AppError> {
        self.join_with(me, room, crate::store::Backlog::Read).await
    }

    /// [`Hearth::join`], with as much of the history read as `backlog` says.
    pub(crate) async fn join_with(
        &self,
        me: UserId,
        room: RoomId,
        backlog: crate::store::Backlog,
    ) -> Result<(), AppError> {
        match self.store.room(room).await? {
            Some(row) if row.kind() == RoomKind::Open && row.archived_at.is_none() => {
                if self.store.add_members(room, &[me], backlog).await? == 0 {
                    // A member already: nothing changed, no one is told.
                    return Ok(());
                }
                self.forget_listed_room(room);
                self.announce_added(room, &[me]);
                self.announce_members_changed(room, &[me]).await;
                Ok(())
            }
            Some(_) if self.store.room_for_member(room, me).await?.is_some() => Ok(()),
            _ => Err(AppError::NotFound("conversation")),
        }
    }

    /// Closes a direct conversation of mine: it is read, and leaves my room
    /// list until someone writes in it or I start it again
    /// (`create_conversation` with the person); the other person sees no
    /// change. My tabs read the list again. (A group or open room is left,
    /// not closed.)
    pub async fn close_conversation(&self, me: UserId, room: RoomId) -> Result<(), AppError> {
        let row = self.member_room_row(me, room).await?;
        if row.kind() != RoomKind::Direct {
            return Err(AppError::invalid(
                "conversation",
                "Only a direct conversation can be closed: leave a group or open room instead",
            ));
        }
        self.mark_read(me, room, i64::MAX).await?;
        self.store.set_closed(room, me, true).await?;
        self.hub.send_user(me, &ServerEvent::room(room, RoomChange::Updated));
        Ok(())
    }

    /// Puts a conversation I closed back in my room list (fine when it was
    /// not closed).
    pub async fn reopen_conversation(&self, me: UserId, room: RoomId) -> Result<(), AppError> {
        self.member_room(me, room).await?;
        self.store.set_closed(room, me, false).await?;
        self.hub.send_user(me, &ServerEvent::room(room, RoomChange::Updated));
        Ok(())
    }

    pub async fn leave(&self, me: UserId, room: RoomId) -> Result<(), AppError> {
        let row = self.member_room_row(me, room).await?;
        if row.kind() == RoomKind::Direct {
            return Err(AppError::invalid("conversation", "You can't leave a direct conversation"));
        }
        if row.is_owners_chat(me) {
            return Err(AppError::invalid(
                "conversation",
                "You can't leave a chat of your own application: it would go on taking messages that no one could \
                 read. Mute or archive it instead",
            ));
        }
        self.store.remove_member(room, me, None).await?;
        self.forget_membership(me, room);
        self.announce_removed(room, me);
        self.announce_members_changed(room, &[]).await;
        Ok(())
    }

    /// Adds people to a group or open room; any member may.
    pub async fn add_participants(
        &self,
        me: UserId,
        room: RoomId,
        users: Vec<UserId>,
    ) -> Result<Vec<Person>, AppError> {
        let row = self.member_room_row(me, room).await?;
        if row.kind() == RoomKind::Direct {
            return Err(AppError::invalid("user_ids", "A direct conversation can't take more people; start a group"));
        }
        if row.archived_at.is_some() {
            return Err(AppError::Forbidden(crate::room_settings::ARCHIVED.into()));
        }
        if users.is_empty() {
            return Err(AppError::invalid("user_ids", "User ids can't be empty"));
        }
        cap_ids("user_ids", "User ids", &users)?;
        let known = self.joinable_users("user_ids", "user", &users).await?;
        self.store.add_members(room, &known, crate::store::Backlog::Read).await?;
        self.forget_listed_room(room);
        self.announce_added(room, &known);
        let members = self.store.members(room).await?;
        self.announce_changed_to(room, members.iter().map(|m| m.id).filter(|id| !known.contains(id)));
        Ok(members)
    }

    /// Removes a member: yourself (leaving), anyone if you created the room,
    /// or anyone from any group or open room if you are an admin (a member
    /// or not; written to the audit log). The removed user's tabs stop
    /// getting the room at once, on every instance.
    pub async fn remove_participant(&self, me: UserId, room: RoomId, user: UserId) -> Result<(), AppError> {
        if user == me {
            return self.leave(me, room).await;
        }
        let row = self.store.room(room).await?.ok_or(AppError::NotFound("conversation"))?;
        let member = self.member_room(me, room).await.is_ok();
        // An admin's removal is moderation, audited, in a room they made
        // too (the first admin made the rooms everyone starts in).
        let moderated = self.is_admin(me).await?;
        if !(moderated || member && row.created_by == Some(me)) {
            return Err(if member {
                AppError::Forbidden("Only the creator or an admin can remove other participants".into())
            } else {
                AppError::NotFound("conversation")
            });
        }
        if row.kind() == RoomKind::Direct {
            return Err(AppError::invalid("user_id", "You can't remove someone from a direct conversation"));
        }
        if row.is_owners_chat(user) {
            return Err(AppError::invalid(
                "user_id",
                "The owner of the application this chat belongs to can't be removed from it",
            ));
        }
        let audit = moderated.then(|| crate::store::Audit {
            actor: Some(me),
            action: "room.remove_member",
            target_user: Some(user),
            target_room: Some(room),
            ..crate::store::Audit::default()
        });
        if !self.store.remove_member(room, user, audit).await? {
            return Err(AppError::NotFound("participant"));
        }
        self.forget_membership(user, room);
        self.announce_removed(room, user);
        self.announce_members_changed(room, &[]).await;
        Ok(())
    }

    /// The live group and open rooms `user` is in, for an admin to pick
    /// one to remove them from (direct rooms can't be left).
    pub async fn admin_user_rooms(&self, me: UserId, user: UserId) -> Result<Vec<Conversation>, AppError> {
        self.require_admin(me).await?;
        self.store.admin_user(user).await?.ok_or(AppError::NotFound("user"))?;
        let rooms = self.store.rooms_of(user).await?;
        Ok(rooms
            .into_iter()
            .map(|row| row.room)
            .filter(|room| room.kind() != RoomKind::Direct)
            .map(|room| room.to_conversation())
            .collect())
    }
}

impl Hearth {
    /// My notification level for a room (404 unless I am a member).
    pub async fn notification_settings(&self, me: UserId, room: RoomId) -> Result<NotificationSettings, AppError> {
        let row = self.member_room_row(me, room).await?;
        let chosen = self.store.notify_level(room, me).await?.ok_or(AppError::NotFound("conversation"))?;
        Ok(settings_of(row.kind(), chosen.as_deref()))
    }

    /// Sets my level for a room: `everything`, `mentions`, `nothing`, or
    /// `default` (back to the room kind's default).
    pub async fn set_notification_level(
        &self,
        me: UserId,
        room: RoomId,
        level: &str,
    ) -> Result<NotificationSettings, AppError> {
        let row = self.member_room_row(me, room).await?;
        let chosen =
            match level.trim() {
                "default" => None,
                raw => Some(NotifyLevel::parse(raw).ok_or_else(|| {
                    AppError::invalid("level", "Level must be everything, mentions, nothing or default")
                })?),
            };
        if !self.store.set_notify_level(room, me, chosen.map(NotifyLevel::as_str)).await? {
            return Err(AppError::NotFound("conversation"));
        }
        self.forget_room_list(me);
        // My other tabs and devices: their room lists show the level, and
        // their notifications follow it from the next message on.
        self.announce_changed_to(room, std::iter::once(me));
        Ok(settings_of(row.kind(), chosen.map(NotifyLevel::as_str)))
    }
}

/// One entry of a room list, as the list's query read it.
fn summary_of(listed: ListedRoom) -> ConversationSummary {
    let row = listed.room;
    let c = row.room.to_conversation();
    ConversationSummary {
        id: c.id,
        title: c.title,
        topic: c.topic.filter(|t| !t.trim().is_empty()),
        group: c.group,
        kind: c.kind,
        updated_at: c.updated_at,
        archived_at: c.archived_at,
        users: listed.members,
        last_message: listed.last_message,
        unread_count: row.unread_count,
        unread_mentions: row.unread_mentions,
        notify_level: row
            .notify_level
            .as_deref()
            .and_then(NotifyLevel::parse)
            .unwrap_or(NotifyLevel::default_for(c.kind)),
        closed_at: row.closed_at,
        closed: false,
    }
}

/// A level as stored (`None`: not chosen) for a room of `kind`.
fn settings_of(kind: RoomKind, chosen: Option<&str>) -> NotificationSettings {
    match chosen.and_then(NotifyLevel::parse) {
        Some(level) => NotificationSettings { level, default: false },
        None => NotificationSettings { level: NotifyLevel::default_for(kind), default: true },
    }
}

impl Hearth {
    /// Tells each user's open tabs that they are now in `room`, and the
    /// room's open windows which of them are online: a window learns who is
    /// when it subscribes, and these were not members then.
    pub(crate) fn announce_added(&self, room: RoomId, users: &[UserId]) {
        let event = ServerEvent::room(room, RoomChange::Added);
        for user in users {
            self.hub.send_user(*user, &event);
            if self.hub.is_online(*user) {
                self.hub.publish_room(room, &ServerEvent::Presence { user_id: *user, online: true });
            }
        }
    }

    /// Tells the members of `room` (but those in `except`, told otherwise)
    /// that who is in it changed, so that their room lists and open
    /// headers show the members as they are now.
    ///
    /// The change has committed by then, so a failure to read the members
    /// is logged, not answered.
    async fn announce_members_changed(&self, room: RoomId, except: &[UserId]) {
        match self.store.members(room).await {
            Ok(members) => {
                self.announce_changed_to(room, members.iter().map(|m| m.id).filter(|id| !except.contains(id)))
            }
            Err(error) => tracing::warn!(%error, room = room.0, "the members were not told of a change"),
        }
    }

    fn announce_changed_to(&self, room: RoomId, users: impl Iterator<Item = UserId>) {
        let event = ServerEvent::room(room, RoomChange::Updated);
        for user in users {
            self.hub.send_user(user, &event);
        }
    }

    /// Stops delivery of `room` to `user`'s sockets at once, and tells them.
    fn announce_removed(&self, room: RoomId, user: UserId) {
        self.hub.signal_user(user, UserSignal::RoomRemoved(room));
        let event = ServerEvent::room(room, RoomChange::Removed);
        self.hub.send_user(user, &event);
    }
}
