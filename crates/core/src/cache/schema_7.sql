-- Migration 7: the sealed cache (privacy at rest). Every value that carries an enterprise's content
-- or a person's data is stored sealed with SM4-GCM under its customer's data key; the identifiers
-- the public register prints anyway and lookups need stay plain. Plain content cached before this
-- migration is erased here (the cache is a cache: the next scan fetches it again); authorizations
-- made before it have no data key and are removed by the next purge. Released migrations are never
-- edited.

-- The storage key (master key) this database is sealed with: the backend that keeps it (never
-- switched silently), its id there, and a value sealed under it, so a wrong or missing key is told
-- at open.
CREATE TABLE storage_key (
    id           INTEGER PRIMARY KEY CHECK (id = 1),
    backend      TEXT NOT NULL,
    key_id       TEXT NOT NULL,
    check_value  BLOB NOT NULL,
    created_at   TEXT NOT NULL
);

-- One data key per authorization (one customer's handling), wrapped by the storage key. Deleting
-- the row makes everything of that customer unreadable at once (crypto-shredding).
CREATE TABLE data_keys (
    auth_id     TEXT PRIMARY KEY,
    wrapped     BLOB NOT NULL,
    created_at  TEXT NOT NULL
);

-- The counter's own secrets (gateway credentials, the audit signing key), sealed by the storage key.
CREATE TABLE sealed_secrets (
    name        TEXT PRIMARY KEY,
    sealed      BLOB NOT NULL,
    updated_at  TEXT NOT NULL
);

DROP TABLE files;
DROP TABLE licenses;
DROP TABLE authorized_licenses;

-- What the enterprise ticked; the auth code (a bearer credential for 30 minutes) and the summary sealed.
CREATE TABLE authorized_licenses (
    auth_id           TEXT NOT NULL REFERENCES authorizations(auth_id),
    position          INTEGER NOT NULL,
    license_code      TEXT NOT NULL,
    name              TEXT NOT NULL,
    auth_code_sealed  BLOB NOT NULL,
    summary_sealed    BLOB NOT NULL,
    PRIMARY KEY (auth_id, position)
);

-- One row per license per authorization; the face fields sealed.
CREATE TABLE licenses (
    license_code        TEXT NOT NULL,
    auth_id             TEXT NOT NULL REFERENCES authorizations(auth_id),
    uscc                TEXT NOT NULL,
    name                TEXT NOT NULL,
    license_type        TEXT NOT NULL,
    id_code             TEXT NOT NULL,
    issue_org_name      TEXT NOT NULL,
    begin_date          TEXT,
    expiry_date         TEXT,
    license_status      TEXT NOT NULL,
    abolish_reason      TEXT,
    status_at_fetch     TEXT NOT NULL CHECK (status_at_fetch IN ('valid', 'expired', 'revoked')),
    face_fields_sealed  BLOB NOT NULL,
    source              TEXT NOT NULL CHECK (source IN ('code2auth', 'license_auth')),
    fetched_at          TEXT NOT NULL,
    checked_at          TEXT,
    PRIMARY KEY (license_code, auth_id)
);

-- The annotated copy: its bytes sealed; name, type, size and hash plain (they list it, and say
-- nothing of its content).
CREATE TABLE files (
    license_code    TEXT NOT NULL,
    auth_id         TEXT NOT NULL,
    file_name       TEXT NOT NULL,
    mime            TEXT NOT NULL,
    size            INTEGER NOT NULL,
    sha256          TEXT NOT NULL,
    use_cause       TEXT NOT NULL,
    content_sealed  BLOB NOT NULL,
    fetched_at      TEXT NOT NULL,
    PRIMARY KEY (license_code, auth_id),
    FOREIGN KEY (license_code, auth_id) REFERENCES licenses(license_code, auth_id) ON DELETE CASCADE
);

-- The legal representative's name belongs to one customer's handling, sealed with its data key.
ALTER TABLE enterprises DROP COLUMN legal_rep_name;
ALTER TABLE authorizations ADD COLUMN legal_rep_sealed BLOB;
CREATE INDEX authorizations_created_at ON authorizations(created_at);
