-- Running an instance (issue 18): roles, deactivation, the sign-up policy,
-- invitations, the audit log, and room names, topics and archiving.

-- admin or member. The first account of an instance is its admin (the core
-- inserts it so); an instance upgraded from before roles makes its oldest
-- account the admin, so that every instance with users has one.
ALTER TABLE users ADD COLUMN role TEXT NOT NULL DEFAULT 'member' CHECK (role IN ('admin', 'member'));
-- Set while the account is deactivated: no sign-in, no session, no socket.
ALTER TABLE users ADD COLUMN deactivated_at TEXT;
-- Bumped to end every session of the account at once: axum-login compares
-- each session against a hash of the password hash and this number.
ALTER TABLE users ADD COLUMN session_epoch INTEGER NOT NULL DEFAULT 0;
UPDATE users SET role = 'admin' WHERE id = (SELECT min(id) FROM users);

-- Instance-wide settings an admin changes at run time (the sign-up policy);
-- a missing key means the server's configured default.
CREATE TABLE instance_settings (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

-- Invitation links. Only the SHA-256 of the token is kept (hex): the link
-- itself is shown once, to the admin who made it.
CREATE TABLE invitations (
    id         INTEGER PRIMARY KEY,
    token_hash TEXT NOT NULL,
    created_by INTEGER REFERENCES users (id) ON DELETE SET NULL,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    max_uses   INTEGER NOT NULL,
    uses       INTEGER NOT NULL DEFAULT 0,
    revoked_at TEXT
);

CREATE UNIQUE INDEX invitations_token_hash ON invitations (token_hash);

-- Every admin action: who (NULL actor: the command line), what, when, and
-- which user, room or invitation it was done to.
CREATE TABLE audit_log (
    id            INTEGER PRIMARY KEY,
    actor_id      INTEGER REFERENCES users (id) ON DELETE SET NULL,
    action        TEXT NOT NULL,
    target_user   INTEGER,
    target_room   INTEGER,
    target_number INTEGER,
    detail        TEXT,
    created_at    TEXT NOT NULL
);

CREATE INDEX audit_log_created ON audit_log (created_at, id);

-- A room's topic, and when it was archived (read-only, listed apart).
ALTER TABLE rooms ADD COLUMN topic TEXT;
ALTER TABLE rooms ADD COLUMN archived_at TEXT;

-- One-time password reset links an admin makes (valid one hour, once).
-- Only the SHA-256 of the token is kept, as for invitations.
CREATE TABLE password_resets (
    id         INTEGER PRIMARY KEY,
    user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    token_hash TEXT NOT NULL,
    created_by INTEGER REFERENCES users (id) ON DELETE SET NULL,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    used_at    TEXT
);

CREATE UNIQUE INDEX password_resets_token_hash ON password_resets (token_hash);
