-- The open rooms every new account joins as it is created (an admin picks
-- them; the demo's General is one). A room archived since is skipped.
CREATE TABLE default_rooms (
    room_id INTEGER PRIMARY KEY REFERENCES rooms (id) ON DELETE CASCADE
);
