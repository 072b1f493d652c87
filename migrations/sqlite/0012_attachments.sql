-- Attachments and uploaded avatars (issue 16): files kept in the blob store
-- (src/blobs.rs), named by the SHA-256 of their bytes, so the same file
-- uploaded twice is stored once.
--
-- `blobs` is what the store holds: a row is written (or its time refreshed)
-- before the file is put, and deleted, with its file, only when nothing
-- refers to it any more and it is older than the collector's grace period
-- (`Hearth::collect_blobs`), so an upload in flight is never collected.
CREATE TABLE blobs (
    hash       TEXT PRIMARY KEY,
    size       INTEGER NOT NULL,
    created_at TEXT NOT NULL
);

-- A file uploaded to a room. `number` is NULL until a message takes it
-- (the message's insert sets it, in the same transaction); an upload no
-- message took is removed after a day. Deleting the message deletes its
-- rows, and the collector then deletes blobs nothing refers to.
CREATE TABLE attachments (
    id          INTEGER PRIMARY KEY,
    room_id     INTEGER NOT NULL REFERENCES rooms (id) ON DELETE CASCADE,
    number      INTEGER,
    uploader_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name        TEXT NOT NULL,
    -- The type it is served with: a safe image, PDF or text type, or
    -- application/octet-stream.
    content_type TEXT NOT NULL,
    size        INTEGER NOT NULL,
    blob_hash   TEXT NOT NULL,
    -- Images: their size as shown (EXIF orientation applied) and the
    -- thumbnail's blob.
    width       INTEGER,
    height      INTEGER,
    thumb_hash  TEXT,
    created_at  TEXT NOT NULL
);
CREATE INDEX attachments_message ON attachments (room_id, number);
CREATE INDEX attachments_blob ON attachments (blob_hash);
CREATE INDEX attachments_thumb ON attachments (thumb_hash);
CREATE INDEX attachments_unsent ON attachments (created_at) WHERE number IS NULL;

-- An uploaded avatar (a 256-pixel square, re-encoded): its blob. The
-- user's `avatar_url` then points at Hearth's own `/users/:id/avatar`.
ALTER TABLE users ADD COLUMN avatar_hash TEXT;
CREATE INDEX users_avatar_hash ON users (avatar_hash) WHERE avatar_hash IS NOT NULL;
