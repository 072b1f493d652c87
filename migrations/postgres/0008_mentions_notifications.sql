-- Mentions and notification levels (issue 17): the Postgres form of
-- migrations/sqlite/0008_mentions_notifications.sql.
--
-- A mention is stored when the message is written, as user ids resolved
-- from its @username tokens against the room's members at that moment
-- (src/mentions.rs): renaming a user never breaks it, and it is never
-- parsed again from the text. room_id and number are the message's, kept
-- here so that a member's unread mentions are one range of the index
-- below: (user, room, number > read marker).
CREATE TABLE mentions (
    message_id BIGINT NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
    user_id    BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    room_id    BIGINT NOT NULL,
    number     BIGINT NOT NULL,
    PRIMARY KEY (message_id, user_id)
);

CREATE INDEX mentions_unread ON mentions (user_id, room_id, number);

-- The same ids on the message itself, comma-separated in ascending order
-- (NULL for none): what every history page, event and replay carries as
-- `mentions`, read with the row at no extra cost per message. Written with
-- the mentions rows, in the same transaction (insert and edit).
ALTER TABLE messages ADD COLUMN mention_ids TEXT;

-- A member's notification level for the room: 'everything', 'mentions' or
-- 'nothing'; NULL follows the room kind's default (direct: everything;
-- group and open: mentions).
ALTER TABLE memberships ADD COLUMN notify_level TEXT COLLATE "C"
    CHECK (notify_level IN ('everything', 'mentions', 'nothing'));
