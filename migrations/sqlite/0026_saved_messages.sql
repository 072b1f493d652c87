-- Saved messages ("save for later"): each person keeps a private list of
-- messages to come back to, across their rooms; no one else sees it. The
-- list shows only rooms its owner is still in, and deleting a message takes
-- it off every list (in the deletion's own transaction).
CREATE TABLE saved_messages (
    id       INTEGER PRIMARY KEY,
    user_id  INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    room_id  INTEGER NOT NULL REFERENCES rooms (id) ON DELETE CASCADE,
    number   INTEGER NOT NULL,
    saved_at TEXT NOT NULL
);
-- A message is on my list once; my saves in one room, for its window.
CREATE UNIQUE INDEX saved_messages_mine ON saved_messages (user_id, room_id, number);
-- My list, the most recently saved first, paged by id.
CREATE INDEX saved_messages_list ON saved_messages (user_id, id);
-- A deleted message's saves, found without a scan.
CREATE INDEX saved_messages_message ON saved_messages (room_id, number);
