-- Migration 4: the audit trail becomes a hash chain (shared/docs/audit-format.md §2) with signed
-- checkpoints. The hook in cache/mod.rs chains the existing rows in `id` order, then restores the
-- append-only trigger this file drops (the hook's UPDATEs would be refused by it) and indexes `seq`.

ALTER TABLE audit_events ADD COLUMN seq INTEGER;
ALTER TABLE audit_events ADD COLUMN prev_hash TEXT;
ALTER TABLE audit_events ADD COLUMN hash TEXT;

DROP TRIGGER audit_events_no_update;

-- Every event is written chained: a row without its link can only come from outside the app.
CREATE TRIGGER audit_events_chained BEFORE INSERT ON audit_events
WHEN NEW.seq IS NULL OR NEW.prev_hash IS NULL OR NEW.hash IS NULL
BEGIN
    SELECT RAISE(ABORT, 'audit_events are written chained');
END;

-- Signed checkpoints (§3): the text exactly as signed, its DER signature and the public key.
CREATE TABLE audit_checkpoints (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    first_seq   INTEGER NOT NULL,
    last_seq    INTEGER NOT NULL,
    text        TEXT NOT NULL,
    signature   BLOB NOT NULL,
    public_pem  TEXT NOT NULL,
    signed_at   TEXT NOT NULL,
    CHECK (first_seq >= 1 AND last_seq >= first_seq)
);
CREATE INDEX audit_checkpoints_range ON audit_checkpoints(first_seq, last_seq);

CREATE TRIGGER audit_checkpoints_no_update BEFORE UPDATE ON audit_checkpoints
BEGIN
    SELECT RAISE(ABORT, 'audit_checkpoints is append-only');
END;

CREATE TRIGGER audit_checkpoints_no_delete BEFORE DELETE ON audit_checkpoints
BEGIN
    SELECT RAISE(ABORT, 'audit_checkpoints is append-only');
END;
