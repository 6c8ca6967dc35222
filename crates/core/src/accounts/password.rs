//! Password hashing for the counter's accounts: Argon2id PHC strings (RustCrypto `argon2`).

use crate::error::{Error, ErrorCode, Result};
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};

/// OWASP's Argon2id baseline (19 MiB, 2 passes, 1 lane): tens of milliseconds on a hall PC, once
/// per sign-in, and costly for anyone who copied the database and guesses offline.
fn hasher() -> Argon2<'static> {
    let params = Params::new(19 * 1024, 2, 1, None).expect("the OWASP parameters are valid");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// The PHC string of a new password; `salt` is a fresh nonce from the injected randomness (22
/// characters of `A-Za-z0-9`: about 131 bits), used as the raw salt bytes.
pub(crate) fn hash(password: &str, salt: &str) -> Result<String> {
    let salt = SaltString::encode_b64(salt.as_bytes())
        .map_err(|e| Error::new(ErrorCode::StorageFailed).detail(e.to_string()))?;
    hasher()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| Error::new(ErrorCode::StorageFailed).detail(format!("argon2: {e}")))
}

/// Whether `password` is the one `phc` was made from. A stored string that is not a PHC string
/// matches nothing.
pub(crate) fn matches(password: &str, phc: &str) -> bool {
    match PasswordHash::new(phc) {
        Ok(parsed) => hasher().verify_password(password.as_bytes(), &parsed).is_ok(),
        Err(_) => false,
    }
}

/// Compared against when the account does not exist, so an unknown account costs the same time
/// as a wrong password and does not tell itself apart. (A hash of a random password.)
pub(crate) const UNKNOWN_ACCOUNT_PHC: &str =
    "$argon2id$v=19$m=19456,t=2,p=1$dW5rbm93bmFjY291bnRzYWx0$9m3b2hv4nqW8vPR2S2Cwz8p7Ww0o+Gxk0zJ9kqmWJfE";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hash_is_argon2id_and_matches_only_its_password() {
        let phc = hash("correct horse", "abcdefghijklmnopqrstuv").unwrap();
        assert!(phc.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{phc}");
        assert!(matches("correct horse", &phc));
        assert!(!matches("correct hors", &phc));
        assert!(!matches("correct horse", "not a phc string"));
    }

    #[test]
    fn the_unknown_account_hash_parses_and_matches_no_likely_password() {
        assert!(PasswordHash::new(UNKNOWN_ACCOUNT_PHC).is_ok());
        assert!(!matches("", UNKNOWN_ACCOUNT_PHC));
        assert!(!matches("12345678", UNKNOWN_ACCOUNT_PHC));
    }
}
