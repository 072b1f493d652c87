-- Unread counts without counting rows: a member's unread count is
--   rooms.messages_count - own_count - read_others
-- where messages_count is the room's live messages, own_count the member's
-- own live messages in the room, and read_others the live messages of
-- others numbered at or below the member's read marker. The write
-- transactions keep them exact: a new message moves its author's own_count,
-- a delete moves its author's own_count and the read_others of those who
-- had read past it, and a read marker recounts read_others from the room's
-- side of the marker (src/store/rooms.rs, src/store/messages.rs).
ALTER TABLE memberships ADD COLUMN own_count BIGINT NOT NULL DEFAULT 0;
ALTER TABLE memberships ADD COLUMN read_others BIGINT NOT NULL DEFAULT 0;

UPDATE memberships SET
    own_count = (SELECT count(*) FROM messages m
                 WHERE m.room_id = memberships.room_id AND m.user_id = memberships.user_id
                   AND m.deleted_at IS NULL),
    read_others = (SELECT count(*) FROM messages m
                   WHERE m.room_id = memberships.room_id AND m.number <= memberships.last_read_number
                     AND m.deleted_at IS NULL AND m.user_id IS DISTINCT FROM memberships.user_id);

-- messages_count is the room's live messages; recounted here so that the
-- sum above starts exact.
UPDATE rooms SET messages_count = (SELECT count(*) FROM messages m
                                   WHERE m.room_id = rooms.id AND m.deleted_at IS NULL);
