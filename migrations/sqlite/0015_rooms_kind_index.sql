-- Open rooms are found by their kind alone; their activity order is sorted
-- from those few. An index on (kind, updated_at) changed with every message
-- (each batch moves its rooms' updated_at): an index entry rewritten per
-- room per batch, and on Postgres no heap-only update of the room's row.
DROP INDEX rooms_kind_updated;
CREATE INDEX rooms_kind ON rooms (kind);
