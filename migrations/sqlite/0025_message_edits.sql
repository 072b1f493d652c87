-- Edit history: each edit keeps the text it replaced, so that "(edited)"
-- can show what a message said before (at most 20 versions a message; the
-- oldest goes first). Deleting a message deletes its history with its text.
CREATE TABLE message_edits (
    id         INTEGER PRIMARY KEY,
    room_id    INTEGER NOT NULL REFERENCES rooms (id) ON DELETE CASCADE,
    number     INTEGER NOT NULL,
    -- The text before the edit, and when it was written (the message's
    -- created_at, or the edit before this one).
    body       TEXT NOT NULL,
    written_at TEXT NOT NULL
);
CREATE INDEX message_edits_message ON message_edits (room_id, number, id);
