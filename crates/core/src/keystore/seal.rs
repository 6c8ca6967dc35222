//! SM4-GCM sealing of values at rest: the one place the cache's cipher, nonce and layout are named.

use aes_gcm::AesGcm;
use aes_gcm::aead::consts::U12;
use aes_gcm::aead::{Aead, KeyInit, Payload};
use rand::RngCore;
use sm4::Sm4;
use zeroize::Zeroizing;

/// SM4 with GCM: a 96-bit nonce and a 128-bit tag, as RFC 8998 uses it in TLS.
type Sm4Gcm = AesGcm<Sm4, U12>;

/// Bytes of an SM4 key.
pub const KEY_LEN: usize = 16;
const NONCE_LEN: usize = 12;
const TAG_LEN: usize = 16;
/// The first byte of every sealed value: its layout (`1`: nonce ‖ ciphertext ‖ tag), so a later
/// layout can be told apart from this one.
const LAYOUT: u8 = 1;

/// An SM4 key: the counter's master key, or one customer's data key. Zeroized when dropped, and its
/// `Debug` shows nothing.
#[derive(Clone)]
pub struct SealKey(Zeroizing<[u8; KEY_LEN]>);

impl std::fmt::Debug for SealKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SealKey(***)")
    }
}

impl SealKey {
    /// A fresh key from the operating system's generator (seeded through `rand`'s thread RNG, a
    /// CSPRNG). Keys are not drawn from the injected nonce source: tests need no predictable keys,
    /// and a predictable key in production would be a hole.
    pub fn random() -> SealKey {
        let mut key = Zeroizing::new([0u8; KEY_LEN]);
        rand::rng().fill_bytes(key.as_mut());
        SealKey(key)
    }

    /// A key from its bytes; `None` unless exactly [`KEY_LEN`] of them.
    pub fn from_bytes(bytes: &[u8]) -> Option<SealKey> {
        let array: [u8; KEY_LEN] = bytes.try_into().ok()?;
        Some(SealKey(Zeroizing::new(array)))
    }

    pub fn as_bytes(&self) -> &[u8; KEY_LEN] {
        &self.0
    }

    fn cipher(&self) -> Sm4Gcm {
        Sm4Gcm::new_from_slice(self.0.as_ref()).expect("an SM4 key is 16 bytes")
    }

    /// Seals `plain`, bound to `aad` (what the value is and whose: a sealed value moved to another
    /// row or column no longer opens). A fresh random nonce each time.
    pub fn seal(&self, aad: &[u8], plain: &[u8]) -> Vec<u8> {
        let mut nonce = [0u8; NONCE_LEN];
        rand::rng().fill_bytes(&mut nonce);
        self.seal_with_nonce(&nonce, aad, plain)
    }

    fn seal_with_nonce(&self, nonce: &[u8; NONCE_LEN], aad: &[u8], plain: &[u8]) -> Vec<u8> {
        let sealed = self
            .cipher()
            .encrypt(nonce.into(), Payload { msg: plain, aad })
            .expect("GCM encrypts any length this cache stores");
        let mut out = Vec::with_capacity(1 + NONCE_LEN + sealed.len());
        out.push(LAYOUT);
        out.extend_from_slice(nonce);
        out.extend_from_slice(&sealed);
        out
    }

    /// Opens a value sealed with this key and `aad`; `None` when it was sealed with another key, for
    /// another place, or changed since (the tag does not verify).
    pub fn open(&self, aad: &[u8], sealed: &[u8]) -> Option<Zeroizing<Vec<u8>>> {
        let (&layout, rest) = sealed.split_first()?;
        if layout != LAYOUT || rest.len() < NONCE_LEN + TAG_LEN {
            return None;
        }
        let (nonce, body) = rest.split_at(NONCE_LEN);
        let nonce: &[u8; NONCE_LEN] = nonce.try_into().ok()?;
        self.cipher().decrypt(nonce.into(), Payload { msg: body, aad }).ok().map(Zeroizing::new)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unhex(text: &str) -> Vec<u8> {
        hex::decode(text.split_whitespace().collect::<String>()).unwrap()
    }

    /// RFC 8998, appendix A.1: SM4-GCM with this key, IV and AAD gives exactly this ciphertext and tag.
    #[test]
    fn reproduces_rfc_8998_sm4_gcm_vector() {
        let key = SealKey::from_bytes(&unhex("0123456789ABCDEFFEDCBA9876543210")).unwrap();
        let nonce: [u8; 12] = unhex("00001234567800000000ABCD").try_into().unwrap();
        let aad = unhex("FEEDFACEDEADBEEFFEEDFACEDEADBEEFABADDAD2");
        let plain = unhex(
            "AAAAAAAAAAAAAAAABBBBBBBBBBBBBBBBCCCCCCCCCCCCCCCCDDDDDDDDDDDDDDDD
             EEEEEEEEEEEEEEEEFFFFFFFFFFFFFFFFEEEEEEEEEEEEEEEEAAAAAAAAAAAAAAAA",
        );
        let ciphertext = unhex(
            "17F399F08C67D5EE19D0DC9969C4BB7D5FD46FD3756489069157B282BB200735
             D82710CA5C22F0CCFA7CBF93D496AC15A56834CBCF98C397B4024A2691233B8D",
        );
        let tag = unhex("83DE3541E4C2B58177E065A9BF7B62EC");

        let sealed = key.seal_with_nonce(&nonce, &aad, &plain);
        assert_eq!(sealed[0], LAYOUT);
        assert_eq!(&sealed[1..13], &nonce);
        assert_eq!(&sealed[13..13 + ciphertext.len()], ciphertext.as_slice());
        assert_eq!(&sealed[13 + ciphertext.len()..], tag.as_slice());
        assert_eq!(key.open(&aad, &sealed).unwrap().as_slice(), plain.as_slice());
    }

    #[test]
    fn a_changed_byte_another_place_or_another_key_does_not_open() {
        let key = SealKey::random();
        let sealed = key.seal(b"files|A1|L1", "法定代表人 李四".as_bytes());
        assert_eq!(key.open(b"files|A1|L1", &sealed).unwrap().as_slice(), "法定代表人 李四".as_bytes());
        for i in [0, 5, sealed.len() / 2, sealed.len() - 1] {
            let mut changed = sealed.clone();
            changed[i] ^= 0x01;
            assert!(key.open(b"files|A1|L1", &changed).is_none(), "byte {i} changed");
        }
        assert!(key.open(b"files|A2|L1", &sealed).is_none());
        assert!(SealKey::random().open(b"files|A1|L1", &sealed).is_none());
        assert!(key.open(b"files|A1|L1", &sealed[..20]).is_none());
        assert_ne!(key.seal(b"x", b"same"), key.seal(b"x", b"same"), "a fresh nonce each time");
        assert_eq!(format!("{key:?}"), "SealKey(***)");
    }
}
