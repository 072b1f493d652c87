-- The sessions a user sees on their profile (issue 18, account security):
-- one row per signed-in session, written at sign-in and refreshed (at most
-- once a minute) by its requests. `session_id` is the session store's id,
-- never shown; `public_id` (a hash of it) names the session in the API.
-- A row whose session is gone from `sessions` is not listed.
CREATE TABLE user_sessions (
    session_id   TEXT COLLATE "C" PRIMARY KEY,
    public_id    TEXT COLLATE "C" NOT NULL,
    user_id      BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    user_agent   TEXT,
    created_at   TEXT COLLATE "C" NOT NULL,
    last_seen_at TEXT COLLATE "C" NOT NULL
);

CREATE UNIQUE INDEX user_sessions_public_id ON user_sessions (public_id);
CREATE INDEX user_sessions_user ON user_sessions (user_id);
