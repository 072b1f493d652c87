-- The Chat System API: applications own numbered chats, which are ordinary
-- rooms, so an application's chats show up in its owner's web UI.

CREATE TABLE applications (
    id          INTEGER PRIMARY KEY,
    -- The only credential of the token API: 192 random bits, hex (URL-safe).
    token       TEXT NOT NULL UNIQUE,
    name        TEXT NOT NULL,
    -- The signed-in user who created it; NULL for anonymous applications.
    owner_id    INTEGER REFERENCES users (id) ON DELETE SET NULL,
    -- Exact, and also the counter row for chat numbers: bumped with
    -- UPDATE … RETURNING in the chat's insert transaction.
    chats_count INTEGER NOT NULL DEFAULT 0,
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL
);

CREATE INDEX applications_owner ON applications (owner_id);

-- A chat is a room with an application and a number (1, 2, 3… per
-- application); its messages are numbered by the room's own counter.
ALTER TABLE rooms ADD COLUMN application_id INTEGER REFERENCES applications (id) ON DELETE CASCADE;
ALTER TABLE rooms ADD COLUMN chat_number INTEGER;
CREATE UNIQUE INDEX rooms_application_chat ON rooms (application_id, chat_number) WHERE application_id IS NOT NULL;

-- Messages posted through the token API are by the application, not a user.
ALTER TABLE messages ADD COLUMN application_id INTEGER REFERENCES applications (id) ON DELETE SET NULL;

-- Substring search ("ello wor" finds "Hello world!") in any script: FTS5's
-- trigram tokenizer, case-insensitive. External content: the text lives
-- once, in messages; triggers keep the index in step, and a soft-deleted
-- message leaves the index.
CREATE VIRTUAL TABLE messages_fts USING fts5 (body, content = 'messages', content_rowid = 'id', tokenize = 'trigram');

INSERT INTO messages_fts (rowid, body) SELECT id, body FROM messages WHERE deleted_at IS NULL;

CREATE TRIGGER messages_fts_insert AFTER INSERT ON messages BEGIN
    INSERT INTO messages_fts (rowid, body) VALUES (new.id, new.body);
END;

CREATE TRIGGER messages_fts_update AFTER UPDATE OF body, deleted_at ON messages BEGIN
    INSERT INTO messages_fts (messages_fts, rowid, body) SELECT 'delete', old.id, old.body WHERE old.deleted_at IS NULL;
    INSERT INTO messages_fts (rowid, body) SELECT new.id, new.body WHERE new.deleted_at IS NULL;
END;

CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages BEGIN
    INSERT INTO messages_fts (messages_fts, rowid, body) SELECT 'delete', old.id, old.body WHERE old.deleted_at IS NULL;
END;
