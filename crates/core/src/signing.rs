//! TIF gateway signing (contract §1): the four headers every authenticated call carries.

use crate::clock::{Clock, NonceSource};
use crate::secret::Secret;
use sha2::{Digest, Sha256};
use std::sync::Arc;

/// How far the gateway lets a timestamp drift from its own clock.
pub const WINDOW_SECS: i64 = 180;
/// Nonce length: the contract asks for 16 or more.
pub const NONCE_LEN: usize = 24;

/// Upper-case hex SHA-256 of `timestamp + token + nonce + timestamp`.
pub fn signature(timestamp: i64, token: &str, nonce: &str) -> String {
    let mut hasher = Sha256::new();
    hasher.update(timestamp.to_string());
    hasher.update(token);
    hasher.update(nonce);
    hasher.update(timestamp.to_string());
    hex::encode_upper(hasher.finalize())
}

/// Whether `sig` is the right signature, compared case-insensitively as the gateway does.
pub fn signature_matches(timestamp: i64, token: &str, nonce: &str, sig: &str) -> bool {
    signature(timestamp, token, nonce).eq_ignore_ascii_case(sig.trim())
}

/// The headers of one signed call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TifHeaders {
    pub paasid: String,
    pub timestamp: i64,
    pub nonce: String,
    pub signature: String,
}

/// Signs calls with the PaaS ID and token, reading time and nonces from injected sources.
#[derive(Clone)]
pub struct Signer {
    paasid: String,
    token: Secret,
    clock: Arc<dyn Clock>,
    nonces: Arc<dyn NonceSource>,
}

impl std::fmt::Debug for Signer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Signer").field("paasid", &self.paasid).field("token", &self.token).finish()
    }
}

impl Signer {
    pub fn new(paasid: &str, token: Secret, clock: Arc<dyn Clock>, nonces: Arc<dyn NonceSource>) -> Self {
        Signer { paasid: paasid.to_owned(), token, clock, nonces }
    }

    pub fn headers(&self) -> TifHeaders {
        let timestamp = self.clock.now().timestamp();
        let nonce = self.nonces.nonce(NONCE_LEN);
        let signature = signature(timestamp, self.token.expose(), &nonce);
        TifHeaders { paasid: self.paasid.clone(), timestamp, nonce, signature }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::{FixedClock, SequenceNonces};

    // Computed independently (Python: hashlib.sha256(b"1764295200" + b"yst-sandbox-token" +
    // b"n00000000000000000000001" + b"1764295200").hexdigest().upper()).
    const VECTOR_TS: i64 = 1764295200;
    const VECTOR_TOKEN: &str = "yst-sandbox-token";
    const VECTOR_NONCE: &str = "n00000000000000000000001";
    const VECTOR_SIG: &str = "2B1F9FA178D560D605973CFE8E1617C2503BC9C8D9DCD6065BFA816E66488C36";

    #[test]
    fn signature_matches_the_hand_computed_vector() {
        assert_eq!(signature(VECTOR_TS, VECTOR_TOKEN, VECTOR_NONCE), VECTOR_SIG);
        assert!(signature_matches(VECTOR_TS, VECTOR_TOKEN, VECTOR_NONCE, &VECTOR_SIG.to_lowercase()));
        assert!(!signature_matches(VECTOR_TS + 1, VECTOR_TOKEN, VECTOR_NONCE, VECTOR_SIG));
        assert!(!signature_matches(VECTOR_TS, "other-token", VECTOR_NONCE, VECTOR_SIG));
    }

    #[test]
    fn signer_uses_the_injected_clock_and_nonces() {
        let clock = Arc::new(FixedClock::at(chrono::DateTime::from_timestamp(VECTOR_TS, 0).unwrap()));
        let signer = Signer::new("yst_counter", Secret::new(VECTOR_TOKEN), clock, Arc::new(SequenceNonces::new("n")));
        let h = signer.headers();
        assert_eq!(h.paasid, "yst_counter");
        assert_eq!(h.timestamp, VECTOR_TS);
        assert_eq!(h.nonce, VECTOR_NONCE);
        assert_eq!(h.signature, VECTOR_SIG);
        assert_ne!(signer.headers().nonce, h.nonce);
        assert!(!format!("{signer:?}").contains(VECTOR_TOKEN));
    }
}
