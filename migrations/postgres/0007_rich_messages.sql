-- Rich messages (issue 16): replies and reactions, as in
-- migrations/sqlite/0007_rich_messages.sql. Markdown needs no column: `body`
-- stays the source, rendered when read (src/markdown.rs).

-- A reply names the message it answers by its number in the same room;
-- `reply_count` is the message's live replies, a counter.
ALTER TABLE messages ADD COLUMN reply_to BIGINT;
ALTER TABLE messages ADD COLUMN reply_count BIGINT NOT NULL DEFAULT 0;

-- One row per (message, emoji, person), toggled with its room event.
CREATE TABLE reactions (
    room_id    BIGINT NOT NULL REFERENCES rooms (id) ON DELETE CASCADE,
    number     BIGINT NOT NULL,
    emoji      TEXT COLLATE "C" NOT NULL,
    user_id    BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (room_id, number, emoji, user_id)
);

-- A reaction is a room change with a seq: the change log takes a fourth kind.
ALTER TABLE room_events DROP CONSTRAINT room_events_kind_check;
ALTER TABLE room_events ADD CONSTRAINT room_events_kind_check
    CHECK (kind IN ('message', 'edited', 'deleted', 'reaction'));
