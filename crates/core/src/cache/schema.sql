-- Migration 1: the cache of enterprises, authorizations, licenses and files, the handling-number
-- sequence, and the append-only audit trail. Released migrations are never edited.

CREATE TABLE enterprises (
    uscc            TEXT PRIMARY KEY,
    name            TEXT NOT NULL,
    legal_rep_name  TEXT NOT NULL,
    updated_at      TEXT NOT NULL
);

CREATE TABLE authorizations (
    auth_id            TEXT PRIMARY KEY,
    uscc               TEXT NOT NULL REFERENCES enterprises(uscc),
    service_item_code  TEXT NOT NULL,
    service_item_name  TEXT NOT NULL,
    biz_num            TEXT NOT NULL,
    expires_at         TEXT NOT NULL,
    created_at         TEXT NOT NULL
);

-- What the enterprise ticked, in the gateway's order, with the code to fetch each license.
CREATE TABLE authorized_licenses (
    auth_id       TEXT NOT NULL REFERENCES authorizations(auth_id),
    position      INTEGER NOT NULL,
    license_code  TEXT NOT NULL,
    auth_code     TEXT NOT NULL,
    name          TEXT NOT NULL,
    summary_json  TEXT NOT NULL,
    PRIMARY KEY (auth_id, position)
);

-- One row per license per authorization: each handling gets its own copy, stamped for its use.
CREATE TABLE licenses (
    license_code     TEXT NOT NULL,
    auth_id          TEXT NOT NULL REFERENCES authorizations(auth_id),
    uscc             TEXT NOT NULL,
    name             TEXT NOT NULL,
    license_type     TEXT NOT NULL,
    id_code          TEXT NOT NULL,
    issue_org_name   TEXT NOT NULL,
    begin_date       TEXT,
    expiry_date      TEXT,
    license_status   TEXT NOT NULL,
    abolish_reason   TEXT,
    status_at_fetch  TEXT NOT NULL CHECK (status_at_fetch IN ('valid', 'expired', 'revoked')),
    face_fields      TEXT NOT NULL,
    source           TEXT NOT NULL CHECK (source IN ('code2auth', 'license_auth')),
    fetched_at       TEXT NOT NULL,
    PRIMARY KEY (license_code, auth_id)
);

CREATE TABLE files (
    license_code  TEXT NOT NULL,
    auth_id       TEXT NOT NULL,
    file_name     TEXT NOT NULL,
    mime          TEXT NOT NULL,
    size          INTEGER NOT NULL,
    sha256        TEXT NOT NULL,
    use_cause     TEXT NOT NULL,
    content       BLOB NOT NULL,
    fetched_at    TEXT NOT NULL,
    PRIMARY KEY (license_code, auth_id),
    FOREIGN KEY (license_code, auth_id) REFERENCES licenses(license_code, auth_id) ON DELETE CASCADE
);

CREATE TABLE biz_num_sequence (
    counter_key  TEXT NOT NULL,
    day          TEXT NOT NULL,
    last_seq     INTEGER NOT NULL,
    PRIMARY KEY (counter_key, day)
);

-- Every step of every handling. Append-only: rows are never updated or deleted (a later
-- migration adds the hash chain and the retention rule).
CREATE TABLE audit_events (
    id                 INTEGER PRIMARY KEY AUTOINCREMENT,
    at                 TEXT NOT NULL,
    kind               TEXT NOT NULL,
    outcome            TEXT NOT NULL CHECK (outcome IN ('ok', 'failed', 'info')),
    error_code         TEXT,
    operator_account   TEXT NOT NULL,
    hall_code          TEXT NOT NULL,
    counter            TEXT NOT NULL,
    service_item_code  TEXT,
    biz_num            TEXT,
    uscc               TEXT,
    auth_id            TEXT,
    license_code       TEXT,
    detail             TEXT
);
CREATE INDEX audit_events_at ON audit_events(at);

CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events
BEGIN
    SELECT RAISE(ABORT, 'audit_events is append-only');
END;

CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events
BEGIN
    SELECT RAISE(ABORT, 'audit_events is append-only');
END;
