//! 电子证照标识 (GB/T 36904): the structure of a license identifier and its ISO 7064 MOD 37,36 check.

/// The fixed OID arc every Chinese e-license identifier starts with.
pub const PREFIX: &str = "1.2.156.3005.2.";
const ALPHABET: &str = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";

/// Whether `id` is a well-formed identifier whose check character is right.
///
/// Structure: `1.2.156.3005.2.<21-char type code>.<issuer USCC>.<serial>.<3-digit version>.<check>`.
/// The check character is computed over everything after the prefix with the dots removed,
/// the reading that public identifiers bear out.
///
/// This is a validation helper: the flow does not refuse a license whose identifier fails it,
/// because what the gateway says is authoritative; it only flags it.
pub fn is_valid(id: &str) -> bool {
    let Some(rest) = id.strip_prefix(PREFIX) else { return false };
    let parts: Vec<&str> = rest.split('.').collect();
    let [type_code, issuer, serial, version, check] = parts.as_slice() else { return false };
    let well_formed = type_code.len() == 21
        && issuer.len() == 18
        && !serial.is_empty()
        && version.len() == 3
        && version.bytes().all(|b| b.is_ascii_digit())
        && check.len() == 1;
    if !well_formed {
        return false;
    }
    let body: String = [*type_code, *issuer, *serial, *version].concat();
    check_char(&body).is_some_and(|c| check.starts_with(c))
}

/// Builds an identifier with its check character (the simulator makes its sample licenses with it).
pub fn build(type_code: &str, issuer_uscc: &str, serial: &str, version: u16) -> Option<String> {
    let version = format!("{version:03}");
    let check = check_char(&[type_code, issuer_uscc, serial, &version].concat())?;
    Some(format!("{PREFIX}{type_code}.{issuer_uscc}.{serial}.{version}.{check}"))
}

/// ISO/IEC 7064 MOD 37,36 (hybrid system, GB/T 17710): the check character for `body`.
pub fn check_char(body: &str) -> Option<char> {
    const M: u32 = 36;
    let mut p = M;
    for c in body.chars() {
        let v = ALPHABET.find(c.to_ascii_uppercase())? as u32;
        let mut s = (p + v) % M;
        if s == 0 {
            s = M;
        }
        p = (s * 2) % (M + 1);
    }
    let check = (M + 1 - p) % M;
    ALPHABET.chars().nth(check as usize)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iso_7064_reference_example() {
        // The MOD 37,36 example of ISO/IEC 7064.
        assert_eq!(check_char("A12425GABC1234002"), Some('M'));
    }

    #[test]
    fn real_public_identifiers_validate() {
        for id in [
            "1.2.156.3005.2.11100000000013338W011.11430000006122244L.20230000403.002.S",
            "1.2.156.3005.2.11100000000013338W011.11430000006122244L.20230000403.001.U",
            "1.2.156.3005.2.11100000000013338W087.11370800MB28559184.37080001202411010001.001.3",
        ] {
            assert!(is_valid(id), "{id}");
        }
    }

    #[test]
    fn damaged_identifiers_fail() {
        for id in [
            "1.2.156.3005.2.11100000000013338W011.11430000006122244L.20230000403.002.T",
            "1.2.156.3005.2.11100000000013338W011.11430000006122244L.20230000404.002.S",
            "1.2.156.3005.2.11100000000013338W011.11430000006122244L.20230000403.02.S",
            "1.2.156.3005.3.11100000000013338W011.11430000006122244L.20230000403.002.S",
            "",
        ] {
            assert!(!is_valid(id), "{id}");
        }
    }

    #[test]
    fn built_identifiers_validate() {
        let id = build("11100000000013338W011", "11430000006122244L", "20230000403", 2).unwrap();
        assert_eq!(id, "1.2.156.3005.2.11100000000013338W011.11430000006122244L.20230000403.002.S");
    }
}
