-- The Web Push pipeline (issue 17, part 5).
--
-- The durable queue. A committed message queues one 'message' job, in the
-- same transaction as the message itself (one multi-row insert per group
-- commit, never a row per recipient), due after HEARTH_PUSH_DELAY_SECS: the
-- recipients are worked out only when it is due. A read marker that reaches
-- a message pushed to its member queues one 'close' job (due at once) in
-- the marker's transaction. A job is done when its row is deleted.
CREATE TABLE push_jobs (
    id           INTEGER PRIMARY KEY,
    kind         TEXT NOT NULL CHECK (kind IN ('message', 'close')),
    room_id      INTEGER NOT NULL,
    number       INTEGER NOT NULL,
    -- 'message': the author (NULL for an application), who is never pushed;
    -- 'close': the member whose devices are told.
    user_id      INTEGER,
    due_at       TEXT NOT NULL,
    -- A claim is a lease, not a lock held across the sending: the instance
    -- that claims a job writes a fresh token and a time; another instance
    -- takes the job only once that time has passed (the claimer died), and
    -- only the token's holder may delete it.
    lease_token  TEXT,
    leased_until TEXT
);

-- The claim's scan: the due jobs, oldest first.
CREATE INDEX push_jobs_due ON push_jobs (due_at);

-- The newest message pushed to each member in each room: what a later read
-- withdraws. Deleted when the withdrawal is queued, so it is sent once.
CREATE TABLE push_sent (
    user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    room_id INTEGER NOT NULL REFERENCES rooms (id) ON DELETE CASCADE,
    number  INTEGER NOT NULL,
    PRIMARY KEY (user_id, room_id)
) WITHOUT ROWID;

-- Which room each open tab shows (the `viewing` WebSocket event), one row
-- per socket that shows one. Kept in the database because the instance that
-- decides a push is any instance, and the socket may be on another. The
-- owning instance deletes a socket's row when it closes, and pushes
-- `expires_at` forward for all of its rows at once every few seconds; the
-- rows of an instance that died stop counting when they expire.
CREATE TABLE push_viewing (
    instance   TEXT NOT NULL,
    socket     INTEGER NOT NULL,
    user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    room_id    INTEGER NOT NULL REFERENCES rooms (id) ON DELETE CASCADE,
    expires_at TEXT NOT NULL,
    PRIMARY KEY (instance, socket)
);

-- "Does a tab of this user show this room?", asked per recipient.
CREATE INDEX push_viewing_user ON push_viewing (user_id, room_id);
