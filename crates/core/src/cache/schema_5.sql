-- Migration 5: the counter's accounts (sign-in and roles). The password is kept only as an
-- Argon2id PHC string; a lock is a time, so it ends by itself.

CREATE TABLE accounts (
    account          TEXT PRIMARY KEY,
    name             TEXT NOT NULL,
    role             TEXT NOT NULL CHECK (role IN ('clerk', 'supervisor')),
    password_hash    TEXT NOT NULL,
    disabled         INTEGER NOT NULL DEFAULT 0 CHECK (disabled IN (0, 1)),
    failed_attempts  INTEGER NOT NULL DEFAULT 0,
    locked_until     TEXT,
    last_sign_in_at  TEXT,
    created_at       TEXT NOT NULL
);
