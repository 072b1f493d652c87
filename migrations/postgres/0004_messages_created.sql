-- Every room's messages newest first, whatever the room: the Postgres form
-- of migrations/sqlite/0004_messages_created.sql. A search across the rooms
-- I belong to first reads the instance's newest messages through this index
-- (a fixed number of them, however many rooms I am in), and answers from
-- them when enough match (src/store/search.rs). `id` breaks ties in the same
-- order search uses, newest first by (created_at, id).
CREATE INDEX messages_created ON messages (created_at, id);
