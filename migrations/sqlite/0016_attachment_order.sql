-- A message's files in the order its sender listed them (they are numbered
-- by when each finished uploading, which is not the order chosen).
ALTER TABLE attachments ADD COLUMN position INTEGER NOT NULL DEFAULT 0;
