//! The handling record outbox: written before it is sent, resent until the gateway accepts it.
