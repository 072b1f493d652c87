-- What a person's name is searched by: composed (NFC) and lower-cased by
-- Unicode's rules, which SQLite's lower() does not know ("Élodie" and
-- "Łukasz" stayed as typed, so "élodie" found nobody). Hearth writes it
-- with the name, and fills it for names written before (Store::migrate).
ALTER TABLE users ADD COLUMN name_key TEXT;
