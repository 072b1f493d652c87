-- Who left or was removed from which room, kept a day. Every instance reads
-- what is new every two seconds and stops that person's sockets following
-- the room (`Hearth::follow_the_log`), so a removal reaches every instance
-- even while the bus (NATS) is away; with the bus up, its signal gets there
-- first. AUTOINCREMENT: an id is never given twice, even once old rows are
-- gone, so a reader's position stays meaningful.
CREATE TABLE room_exits (
    id      INTEGER PRIMARY KEY AUTOINCREMENT,
    room_id INTEGER NOT NULL,
    user_id INTEGER NOT NULL,
    at      TEXT NOT NULL
);
CREATE INDEX room_exits_at ON room_exits (at);
