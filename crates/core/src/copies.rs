//! Stamped copies (用证副本) of a case: serials, the status re-check before use, the audit trail of each copy.
