-- SQLite's search index moved out of each message's commit (its migration
-- 0017). Postgres has nothing to move: pg_trgm's GIN index (migration 0003)
-- takes new rows into its pending list, which is merged in bulk later, so
-- the commit does not rewrite the index's pages. Kept so that both
-- databases have the same migrations by version and name.
SELECT 1;
