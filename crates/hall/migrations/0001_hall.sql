-- Migration 1 of the hall's store: the enrolled counters, their audit chains as shipped (verbatim,
-- append-only), the counters' checkpoints with the hall's countersignature, the handling records,
-- and the alarms (forks, bad signatures, unknown keys). Released migrations are never edited.
-- A counter is named "<hall>/<counter>" everywhere (counter_ref): unique in the province, so a city
-- database can subscribe to many halls' tables without their rows colliding.

CREATE TABLE counters (
    counter_ref      text PRIMARY KEY,
    hall             text NOT NULL,
    counter          text NOT NULL,
    -- SM3 of the counter's public key DER (the `key:` line of its checkpoints).
    key_fingerprint  text NOT NULL UNIQUE,
    public_pem       text NOT NULL,
    enrolled_at      timestamptz NOT NULL DEFAULT now(),
    -- The highest seq stored with every event before it, and that event's hash.
    acked_seq        bigint NOT NULL DEFAULT 0 CHECK (acked_seq >= 0),
    head             text NOT NULL DEFAULT '0000000000000000000000000000000000000000000000000000000000000000',
    last_contact_at  timestamptz,
    UNIQUE (hall, counter)
);

CREATE TABLE events (
    counter_ref       text NOT NULL REFERENCES counters (counter_ref),
    seq               bigint NOT NULL,
    -- The China date of `at` (its first ten characters), for the day's reports and exports.
    day               date NOT NULL,
    -- The v1 recorded fields, verbatim as chained (NULL = absent); `seq` is the column above.
    at                text NOT NULL,
    kind              text,
    outcome           text,
    error_code        text,
    operator_account  text,
    hall_code         text,
    counter           text,
    service_item_code text,
    biz_num           text,
    uscc              text,
    auth_id           text,
    license_code      text,
    detail            text,
    -- A scan's milliseconds (from a scan_done's detail), for the day's median without parsing.
    scan_ms           integer,
    prev_hash         text NOT NULL,
    hash              text NOT NULL,
    PRIMARY KEY (counter_ref, seq)
);
CREATE INDEX events_day ON events (day, counter_ref);
-- The day's distinct customers and its scan times, read without touching the day's other rows.
CREATE INDEX events_customers ON events (day, biz_num) WHERE kind = 'exchange' AND outcome = 'ok';
CREATE INDEX events_scan_ms ON events (day, scan_ms) INCLUDE (biz_num) WHERE kind = 'scan_done' AND scan_ms IS NOT NULL;

-- The day at a glance, counted as events are stored (in the same transaction): a hall's day of
-- 180 000 events is summed from a few thousand rows instead of read again.
CREATE TABLE day_counts (
    day               date NOT NULL,
    counter_ref       text NOT NULL REFERENCES counters (counter_ref),
    hour              smallint NOT NULL,
    kind              text NOT NULL,
    outcome           text NOT NULL,
    error_code        text NOT NULL,
    service_item_code text NOT NULL,
    operator_account  text NOT NULL,
    events            bigint NOT NULL,
    PRIMARY KEY (day, counter_ref, hour, kind, outcome, error_code, service_item_code, operator_account)
);

-- Each counter's part of a day: how many events, its lowest and highest seq that day, its last `at`.
CREATE TABLE counter_days (
    day          date NOT NULL,
    counter_ref  text NOT NULL REFERENCES counters (counter_ref),
    events       bigint NOT NULL,
    first_seq    bigint NOT NULL,
    last_seq     bigint NOT NULL,
    last_at      text NOT NULL,
    PRIMARY KEY (day, counter_ref)
);

-- Append-only: a row once stored is evidence. (IT may drop the trigger for a deliberate purge.)
CREATE FUNCTION events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'events is append-only';
END;
$$;
CREATE TRIGGER events_no_change BEFORE UPDATE OR DELETE ON events
    FOR EACH ROW EXECUTE FUNCTION events_append_only();

-- The hall's own witness keys (a key replaced keeps its countersignatures verifiable).
CREATE TABLE witness_keys (
    fingerprint   text PRIMARY KEY,
    public_pem    text NOT NULL,
    first_used_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE checkpoints (
    counter_ref        text NOT NULL REFERENCES counters (counter_ref),
    first_seq          bigint NOT NULL,
    last_seq           bigint NOT NULL,
    -- The China date of the event at first_seq: a checkpoint covers one day so far.
    day                date NOT NULL,
    text               text NOT NULL,
    signature          bytea NOT NULL,
    witness_key        text NOT NULL REFERENCES witness_keys (fingerprint),
    witness_signature  bytea NOT NULL,
    witnessed_at       timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (counter_ref, first_seq, last_seq)
);
CREATE INDEX checkpoints_day ON checkpoints (day, counter_ref);

CREATE TABLE records (
    counter_ref        text NOT NULL REFERENCES counters (counter_ref),
    biz_num            text NOT NULL,
    auth_id            text NOT NULL,
    uscc               text NOT NULL,
    service_item_code  text NOT NULL,
    service_item_name  text NOT NULL,
    status             text NOT NULL,
    reason             text,
    used_license_codes text[] NOT NULL,
    operator_account   text NOT NULL,
    submitted_at       text NOT NULL,
    state              text NOT NULL,
    record_id          text,
    sent_at            text,
    received_at        timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (counter_ref, biz_num)
);

-- What the hall refused and why, for the hall supervisor: one row per distinct finding, its
-- attempts counted (a counter retries every round).
CREATE TABLE alarms (
    id               bigserial PRIMARY KEY,
    kind             text NOT NULL CHECK (kind IN ('fork', 'bad_signature', 'unenrolled')),
    counter_ref      text REFERENCES counters (counter_ref),
    key_fingerprint  text,
    seq              bigint,
    stored_hash      text,
    offered_hash     text,
    first_at         timestamptz NOT NULL DEFAULT now(),
    last_at          timestamptz NOT NULL DEFAULT now(),
    attempts         integer NOT NULL DEFAULT 1,
    UNIQUE NULLS NOT DISTINCT (kind, counter_ref, key_fingerprint, seq, offered_hash)
);
