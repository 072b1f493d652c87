-- A message's replies, listed from its "N replies" (GET
-- /conversations/:id/messages/:number/replies): one range of this index,
-- oldest first. Partial, so only replies pay for it on write.
CREATE INDEX messages_replies ON messages (room_id, reply_to, number) WHERE reply_to IS NOT NULL;
