-- Pausing notifications ("do not disturb"): until this time (stored as every
-- other time is, so it compares as text), no push is sent for the account
-- and its tabs show no desktop notification. NULL, or a time gone by: not
-- paused.
ALTER TABLE users ADD COLUMN notifications_paused_until TEXT COLLATE "C";
