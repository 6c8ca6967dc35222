-- Migration 3: the outbox of handling records (申办). A record is written here, with its audit
-- event in the same transaction, before it is sent; it stays until the gateway accepted it or
-- refused it for good. Released migrations are never edited.

CREATE TABLE outbox (
    biz_num            TEXT PRIMARY KEY,
    auth_id            TEXT NOT NULL,
    uscc               TEXT NOT NULL,
    enterprise_name    TEXT NOT NULL,
    service_item_code  TEXT NOT NULL,
    service_item_name  TEXT NOT NULL,
    status             TEXT NOT NULL CHECK (status IN ('RECEIVED', 'ACCEPTED', 'DONE', 'REJECTED')),
    reason             TEXT,
    used_license_codes TEXT NOT NULL,
    operator_json      TEXT NOT NULL,
    submitted_at       TEXT NOT NULL,
    -- queued: waits to be sent; sent: accepted by the gateway; refused: needs a person (需处理).
    state              TEXT NOT NULL CHECK (state IN ('queued', 'sent', 'refused')),
    attempts           INTEGER NOT NULL DEFAULT 0,
    next_attempt_at    TEXT NOT NULL,
    last_error_code    TEXT,
    last_error_message TEXT,
    record_id          TEXT,
    duplicate          INTEGER,
    sent_at            TEXT
);
CREATE INDEX outbox_state ON outbox(state, next_attempt_at);
