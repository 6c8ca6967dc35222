-- Migration 6: retention of the audit trail (audit events are kept at least 180 days, then may
-- be removed). The unconditional no-delete trigger of migration 1 becomes one that lets an event
-- go only when a signed checkpoint covers it, so even a careless DELETE cannot punch a hole that
-- no checkpoint anchors. `verify_chain` still checks what remains: it must start right after a
-- checkpoint whose signature verifies and link to its head. Checkpoints themselves are kept.

DROP TRIGGER audit_events_no_delete;

CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events
WHEN NOT EXISTS (
    SELECT 1 FROM audit_checkpoints WHERE first_seq <= OLD.seq AND OLD.seq <= last_seq
)
BEGIN
    SELECT RAISE(ABORT, 'audit_events: only events covered by a signed checkpoint may be removed');
END;
