-- Migration 2: finishing a case. Stamped copies (用证副本) with their per-counter, per-day serial,
-- the time each license's status was last checked, and small counter preferences (last printer,
-- save folder). Released migrations are never edited.

-- The last time the gateway confirmed this license's status (the fetch, or a later re-check).
ALTER TABLE licenses ADD COLUMN checked_at TEXT;

CREATE TABLE copy_serial_sequence (
    counter_key  TEXT NOT NULL,
    day          TEXT NOT NULL,
    last_seq     INTEGER NOT NULL,
    PRIMARY KEY (counter_key, day)
);

-- One row per stamped copy: which license, case, clerk and time it belongs to. Holds no content.
CREATE TABLE copies (
    serial            TEXT PRIMARY KEY,
    license_code      TEXT NOT NULL,
    license_name      TEXT NOT NULL,
    auth_id           TEXT NOT NULL,
    biz_num           TEXT NOT NULL,
    uscc              TEXT NOT NULL,
    service_item_code TEXT NOT NULL,
    service_item_name TEXT NOT NULL,
    operator_account  TEXT NOT NULL,
    operator_name     TEXT NOT NULL,
    made_at           TEXT NOT NULL,
    checked_at        TEXT NOT NULL,
    check_fresh       INTEGER NOT NULL CHECK (check_fresh IN (0, 1)),
    pages             INTEGER NOT NULL,
    source_sha256     TEXT NOT NULL,
    source_sm3        TEXT NOT NULL,
    output_sha256     TEXT NOT NULL,
    output_sm3        TEXT NOT NULL
);
CREATE INDEX copies_biz_num ON copies(biz_num);

CREATE TABLE preferences (
    key    TEXT PRIMARY KEY,
    value  TEXT NOT NULL
);
