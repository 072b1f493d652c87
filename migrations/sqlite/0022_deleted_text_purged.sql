-- A deleted message's text leaves the database, not only every read: a
-- password pasted by mistake and deleted stayed in the file and in every
-- backup. Deleting now blanks `body`, its mentions and its preview's link
-- (Store::delete_message); this blanks those deleted before.
UPDATE messages SET body = '', mention_ids = NULL, preview_url = NULL WHERE deleted_at IS NOT NULL;
-- The preview cache kept the links of deleted messages too (a link can hold
-- a token). It is a cache: every entry no live message shows goes, and a
-- link posted again is fetched again.
DELETE FROM link_previews
WHERE url NOT IN (SELECT preview_url FROM messages WHERE preview_url IS NOT NULL AND deleted_at IS NULL);
-- A deleted message's preview entry is kept while another live message
-- shows it: found by this index, not a scan of every message.
CREATE INDEX messages_preview_url ON messages (preview_url) WHERE preview_url IS NOT NULL;
