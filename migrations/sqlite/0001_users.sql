-- Accounts. One table serves the browser and the curl/JSON API alike.
CREATE TABLE users (
    -- INTEGER PRIMARY KEY is SQLite's rowid alias: compact, and ids stay stable.
    id            INTEGER PRIMARY KEY,
    -- Kept as typed so "Alice" displays as "Alice"; uniqueness ignores case
    -- through the expression index below (portable to Postgres, unlike NOCASE).
    username      TEXT NOT NULL,
    -- Stored lower-cased by the core, so a plain unique index is case-insensitive.
    email         TEXT NOT NULL,
    -- A PHC string: "$argon2id$v=19$m=19456,t=2,p=1$…". Never leaves the core.
    password_hash TEXT NOT NULL,
    name          TEXT,
    avatar_url    TEXT,
    -- ISO 8601 UTC with fixed millisecond precision, so text order is time order.
    created_at    TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    updated_at    TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);

CREATE UNIQUE INDEX users_username_key ON users (lower(username));
CREATE UNIQUE INDEX users_email_key ON users (email);
