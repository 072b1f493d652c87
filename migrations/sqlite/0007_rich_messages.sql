-- Rich messages (issue 16): replies and reactions. Markdown needs no column:
-- `body` stays the source, rendered when read (src/markdown.rs).

-- A reply names the message it answers by its number in the same room (a
-- reply never crosses rooms). `reply_count` is the message's live replies,
-- a counter kept by the writes that change it (a new reply, a deleted
-- reply: src/store/messages.rs), so a page reads it rather than counting.
ALTER TABLE messages ADD COLUMN reply_to INTEGER;
ALTER TABLE messages ADD COLUMN reply_count INTEGER NOT NULL DEFAULT 0;

-- One row per (message, emoji, person): a reaction is toggled by inserting
-- or deleting its row, in the same transaction as the room event that
-- announces it. The primary key reads a page's reactions by (room, number).
CREATE TABLE reactions (
    room_id    INTEGER NOT NULL REFERENCES rooms (id) ON DELETE CASCADE,
    number     INTEGER NOT NULL,
    emoji      TEXT NOT NULL,
    user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at TEXT NOT NULL,
    PRIMARY KEY (room_id, number, emoji, user_id)
);

-- A reaction is a room change with a seq, replayed on resume: the change
-- log takes a fourth kind. SQLite cannot alter a CHECK, so the table is
-- rebuilt with the same columns and rows.
CREATE TABLE room_events_rebuilt (
    room_id INTEGER NOT NULL REFERENCES rooms (id) ON DELETE CASCADE,
    seq     INTEGER NOT NULL,
    kind    TEXT NOT NULL CHECK (kind IN ('message', 'edited', 'deleted', 'reaction')),
    number  INTEGER NOT NULL,
    PRIMARY KEY (room_id, seq)
);
INSERT INTO room_events_rebuilt (room_id, seq, kind, number) SELECT room_id, seq, kind, number FROM room_events;
DROP TABLE room_events;
ALTER TABLE room_events_rebuilt RENAME TO room_events;
