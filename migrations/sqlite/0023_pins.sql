-- Pinned messages: a room's members pin the messages worth keeping at hand
-- (a decision, a link everyone needs). Pinning is a change to the message,
-- logged and replayed as an edit is, so a resuming client ends with the
-- message as it is now. Deleting a message unpins it.
ALTER TABLE messages ADD COLUMN pinned_at TEXT;
ALTER TABLE messages ADD COLUMN pinned_by INTEGER REFERENCES users (id) ON DELETE SET NULL;
-- A room's pins, newest first, without a scan of its history.
CREATE INDEX messages_pinned ON messages (room_id, pinned_at) WHERE pinned_at IS NOT NULL;
