-- Migration 8: shipping to the hall service. The audit table is the outbox: the hall's
-- acknowledged seq is kept here, with the hall's countersignatures (witnesses) of the checkpoints
-- shipped, and which state of each handling record the hall has. Released migrations are never edited.

CREATE TABLE hall_shipping (
    id          INTEGER PRIMARY KEY CHECK (id = 1),
    -- The highest seq the hall holds with every event before it.
    acked_seq   INTEGER NOT NULL CHECK (acked_seq >= 0),
    acked_at    TEXT NOT NULL,
    -- The SM3 fingerprint of the hall's witness key, pinned at first contact: a hall service that
    -- answers with another key is refused (a different server, or a key replaced behind IT's back).
    hall_key    TEXT NOT NULL
);

CREATE TABLE hall_witnesses (
    first_seq       INTEGER NOT NULL,
    last_seq        INTEGER NOT NULL,
    checkpoint_text TEXT NOT NULL,
    -- DER SM2 signature of the hall's key over checkpoint_text.
    hall_signature  BLOB NOT NULL,
    hall_public_pem TEXT NOT NULL,
    received_at     TEXT NOT NULL,
    PRIMARY KEY (first_seq, last_seq)
);

CREATE TABLE hall_records_shipped (
    biz_num TEXT PRIMARY KEY,
    -- The outbox state (queued, sent, refused) the hall last received.
    state   TEXT NOT NULL
);
