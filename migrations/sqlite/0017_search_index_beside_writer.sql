-- The search index (FTS5) is filled beside the message writer, a chunk of
-- new messages per transaction, instead of by a trigger in every message's
-- commit (src/store/search_index.rs): each commit wrote the index's pages
-- too, a quarter of a post's cost on the REST benchmark.
--
-- `through` is the highest message id indexed. Rows at or below it are in
-- the index unless deleted; rows above it wait, and every search indexes
-- them first. Not data of its own: copy-data leaves it out (`messages_fts%`).
CREATE TABLE messages_fts_progress (
    id      INTEGER PRIMARY KEY CHECK (id = 1),
    through INTEGER NOT NULL
);
-- Every message so far was indexed by the triggers dropped below.
INSERT INTO messages_fts_progress (id, through) SELECT 1, coalesce(max(id), 0) FROM messages;

DROP TRIGGER messages_fts_insert;
DROP TRIGGER messages_fts_update;
DROP TRIGGER messages_fts_delete;

-- SQLite gives a new row the highest id plus one, so after the newest rows
-- are deleted an id at or below the mark comes back: that row is indexed in
-- its own commit, as every row was before.
CREATE TRIGGER messages_fts_insert AFTER INSERT ON messages
WHEN new.id <= (SELECT through FROM messages_fts_progress) BEGIN
    INSERT INTO messages_fts (rowid, body) SELECT new.id, new.body WHERE new.deleted_at IS NULL;
END;

-- Edits and deletes keep the index in step for the rows it holds; a row
-- still waiting is indexed as it is when its turn comes.
CREATE TRIGGER messages_fts_update AFTER UPDATE OF body, deleted_at ON messages
WHEN old.id <= (SELECT through FROM messages_fts_progress) BEGIN
    INSERT INTO messages_fts (messages_fts, rowid, body) SELECT 'delete', old.id, old.body WHERE old.deleted_at IS NULL;
    INSERT INTO messages_fts (rowid, body) SELECT new.id, new.body WHERE new.deleted_at IS NULL;
END;

CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages
WHEN old.id <= (SELECT through FROM messages_fts_progress) BEGIN
    INSERT INTO messages_fts (messages_fts, rowid, body) SELECT 'delete', old.id, old.body WHERE old.deleted_at IS NULL;
END;
