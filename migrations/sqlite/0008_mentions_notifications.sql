-- Mentions and notification levels (issue 17).
--
-- A mention is stored when the message is written, as user ids resolved
-- from its @username tokens against the room's members at that moment
-- (src/mentions.rs): renaming a user never breaks it, and it is never
-- parsed again from the text. room_id and number are the message's, kept
-- here so that a member's unread mentions are one range of the index
-- below: (user, room, number > read marker).
CREATE TABLE mentions (
    message_id INTEGER NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
    user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    room_id    INTEGER NOT NULL,
    number     INTEGER NOT NULL,
    PRIMARY KEY (message_id, user_id)
) WITHOUT ROWID;

CREATE INDEX mentions_unread ON mentions (user_id, room_id, number);

-- The same ids on the message itself, comma-separated in ascending order
-- (NULL for none): what every history page, event and replay carries as
-- `mentions`, read with the row at no extra cost per message. Written with
-- the mentions rows, in the same transaction (insert and edit).
ALTER TABLE messages ADD COLUMN mention_ids TEXT;

-- A member's notification level for the room: 'everything', 'mentions' or
-- 'nothing'; NULL follows the room kind's default (direct: everything;
-- group and open: mentions).
ALTER TABLE memberships ADD COLUMN notify_level TEXT
    CHECK (notify_level IN ('everything', 'mentions', 'nothing'));

-- Web Push. The server's VAPID key pair (ECDSA P-256, PKCS#8, base64url),
-- made on first use and kept here so that every instance signs with the
-- same key (one row: whoever inserts first wins).
CREATE TABLE push_keys (
    id            INTEGER PRIMARY KEY CHECK (id = 1),
    private_pkcs8 TEXT NOT NULL,
    public_key    TEXT NOT NULL,
    created_at    TEXT NOT NULL
);

-- One subscription per device: the push service's endpoint names it, so a
-- browser that subscribes again (or for another user) replaces its row.
CREATE TABLE push_subscriptions (
    id         INTEGER PRIMARY KEY,
    user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    endpoint   TEXT NOT NULL,
    -- The browser's P-256 public key and auth secret, base64url.
    p256dh     TEXT NOT NULL,
    auth       TEXT NOT NULL,
    created_at TEXT NOT NULL
);

CREATE UNIQUE INDEX push_subscriptions_endpoint ON push_subscriptions (endpoint);
CREATE INDEX push_subscriptions_user ON push_subscriptions (user_id);
