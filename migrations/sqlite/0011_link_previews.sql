-- Link previews (issue 16): what the server found at a message's first
-- link, fetched after the message was saved, through the SSRF guard
-- (src/outbound.rs, src/previews.rs).
--
-- One row per URL, shared by every message and every instance: a URL is
-- fetched once and the answer reused until it is a day old. A fetch that
-- failed or found nothing is kept too (title NULL), so that a dead link is
-- not fetched again for every message that repeats it.
CREATE TABLE link_previews (
    url         TEXT PRIMARY KEY,
    title       TEXT,
    description TEXT,
    site_name   TEXT,
    fetched_at  TEXT NOT NULL
);

-- The preview a message shows: set, with an `edited` entry in the room's
-- change log, when the fetch of its first link found one; cleared by an
-- edit (whose new text is previewed again).
ALTER TABLE messages ADD COLUMN preview_url TEXT;
