-- Rooms ("conversations" in the API), memberships and messages: one model for
-- direct messages, private groups and open rooms.

CREATE TABLE rooms (
    id              INTEGER PRIMARY KEY,
    -- direct: exactly two members; group: private, 3+; open: listed, joined at will.
    kind            TEXT NOT NULL CHECK (kind IN ('direct', 'group', 'open')),
    title           TEXT,
    created_by      INTEGER REFERENCES users (id) ON DELETE SET NULL,
    -- "<lower user id>:<higher user id>" for direct rooms, NULL otherwise. The
    -- unique index makes "at most one direct room per pair" a database fact,
    -- so two people opening a chat at once still share one room.
    direct_key      TEXT,
    -- The counter row for message numbers: bumped with UPDATE … RETURNING
    -- inside the insert transaction, never max()+1.
    last_number     INTEGER NOT NULL DEFAULT 0,
    -- Exact, updated in the same transaction as each insert.
    messages_count  INTEGER NOT NULL DEFAULT 0,
    -- The room's change sequence: every new message, edit and delete takes
    -- the next value, so a client that saw change N can ask for "after N".
    last_seq        INTEGER NOT NULL DEFAULT 0,
    -- Time of the newest message; each new one is stamped strictly later, so
    -- time cursors within a room never tie.
    last_message_at TEXT,
    created_at      TEXT NOT NULL,
    -- Last activity: what the room list is ordered by.
    updated_at      TEXT NOT NULL
);

CREATE UNIQUE INDEX rooms_direct_key ON rooms (direct_key) WHERE direct_key IS NOT NULL;
CREATE INDEX rooms_kind_updated ON rooms (kind, updated_at);

CREATE TABLE memberships (
    room_id          INTEGER NOT NULL REFERENCES rooms (id) ON DELETE CASCADE,
    user_id          INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    joined_at        TEXT NOT NULL,
    -- Read state: unread = messages after this number not written by the user.
    last_read_number INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (room_id, user_id)
);

-- "My rooms" starts from the user.
CREATE INDEX memberships_user ON memberships (user_id, room_id);

CREATE TABLE messages (
    id         INTEGER PRIMARY KEY,
    room_id    INTEGER NOT NULL REFERENCES rooms (id) ON DELETE CASCADE,
    -- 1, 2, 3… per room with no gaps; assigned from rooms.last_number.
    number     INTEGER NOT NULL,
    user_id    INTEGER REFERENCES users (id) ON DELETE SET NULL,
    -- Kept on soft delete for audit, but never returned once deleted_at is set.
    body       TEXT NOT NULL,
    -- The sender's idempotency key: a retried send returns the first message.
    client_id  TEXT,
    -- ISO 8601 UTC, fixed microsecond precision: text order is time order.
    created_at TEXT NOT NULL,
    edited_at  TEXT,
    deleted_at TEXT
);

-- Paging by number, and the uniqueness that makes numbering race-free.
CREATE UNIQUE INDEX messages_room_number ON messages (room_id, number);
-- Paging by time (ChatFlow's before/after cursors).
CREATE INDEX messages_room_created ON messages (room_id, created_at, number);
CREATE UNIQUE INDEX messages_client_id ON messages (room_id, user_id, client_id) WHERE client_id IS NOT NULL;

-- The ordered log of changes to a room, for gap-free resume: a reconnecting
-- client replays every change after the last seq it saw. The payload is read
-- from `messages` at replay time, so a replay ends at the current state.
CREATE TABLE room_events (
    room_id INTEGER NOT NULL REFERENCES rooms (id) ON DELETE CASCADE,
    seq     INTEGER NOT NULL,
    kind    TEXT NOT NULL CHECK (kind IN ('message', 'edited', 'deleted')),
    number  INTEGER NOT NULL,
    PRIMARY KEY (room_id, seq)
);
