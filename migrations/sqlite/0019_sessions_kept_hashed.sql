-- Sessions are now stored under a hash of their cookie's id (`auth::stored_id`),
-- so the database no longer holds anything a browser could present. The rows
-- written before were keyed by the cookie itself: they can no longer be found
-- by any cookie, and are dropped with their records (everyone signs in once
-- more after this upgrade). The table is the session store's own; it is
-- created here, as the store would create it, when this database has none yet.
CREATE TABLE IF NOT EXISTS sessions (
    id text primary key not null,
    data blob not null,
    expiry_date integer not null
);
DELETE FROM sessions;
DELETE FROM user_sessions;
