-- The session a push subscription was saved in: once that session ends
-- (signing out, ending it from the sessions list, a password change or
-- reset, a deactivation), its device is pushed nothing more. Rows saved
-- before this column existed have none and stay pushed while the account
-- is active.
ALTER TABLE push_subscriptions ADD COLUMN session_id TEXT;
