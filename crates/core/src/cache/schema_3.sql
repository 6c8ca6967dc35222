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
    -- Required for REJECTED (refused locally before anything is written; checked here again).
    reason             TEXT,
    -- A JSON array of license codes, each of the handling's authorization.
    used_license_codes TEXT NOT NULL,
    -- The clerk when it was queued, as sent (wire OperatorRef JSON): a resend after a restart or a
    -- change of clerk still names who handled the case.
    operator_json      TEXT NOT NULL,
    -- When the clerk submitted it (sent as submitted_at, whenever the send happens).
    submitted_at       TEXT NOT NULL,
    -- queued: waits to be sent; sent: accepted by the gateway; refused: needs a person (需处理).
    state              TEXT NOT NULL CHECK (state IN ('queued', 'sent', 'refused')),
    -- Sends tried since it was queued (or given another try); the backoff grows with it.
    attempts           INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    next_attempt_at    TEXT NOT NULL,
    last_error_code    TEXT,
    last_error_message TEXT,
    record_id          TEXT,
    duplicate          INTEGER CHECK (duplicate IN (0, 1)),
    sent_at            TEXT,
    CHECK (status != 'REJECTED' OR length(trim(COALESCE(reason, ''))) > 0),
    CHECK (state != 'sent' OR (record_id IS NOT NULL AND sent_at IS NOT NULL))
);
CREATE INDEX outbox_state ON outbox(state, next_attempt_at);
