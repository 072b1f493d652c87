-- Closing a direct conversation: it leaves my room list (read, as closing
-- marks it) until someone writes in it again (`rooms.updated_at` passes
-- `closed_at`) or I start it again (`POST /conversations` with the person).
ALTER TABLE memberships ADD COLUMN closed_at TEXT COLLATE "C";
