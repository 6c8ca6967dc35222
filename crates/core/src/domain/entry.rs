//! What a clerk typed or a scanner read: a one-time 粤商码, or an enterprise's USCC for a lookup by holder.

use crate::domain::uscc::typed_candidate;
use crate::domain::{EnterpriseCode, Uscc};
use crate::error::Error;

/// The two ways to a customer's licenses from a line of input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Entry {
    /// A 粤商码 the enterprise showed in its app: exchanged for the licenses it authorized.
    Code(EnterpriseCode),
    /// The enterprise's USCC: its licenses looked up by holder (依职能用证), which needs a legal ground.
    Holder(Uscc),
}

impl Entry {
    /// Reads the input as a USCC when it is shaped like one (a mistake in it is `USCC_INVALID`,
    /// naming the position), otherwise as a 粤商码 (`CODE_INVALID` when it is not one).
    pub fn read(input: &str) -> Result<Self, Error> {
        match typed_candidate(input) {
            Some(candidate) => Uscc::parse_entered(&candidate).map(Entry::Holder),
            None => EnterpriseCode::parse(input).map(Entry::Code),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorCode;

    #[test]
    fn a_code_and_a_uscc_are_told_apart() {
        assert!(matches!(Entry::read("https://yst.example/ysm/Yx3kP9qLm2Rt8Vw4Zs6A"), Ok(Entry::Code(_))));
        assert!(matches!(Entry::read("Yx3kP9qLm2Rt8Vw4Zs6A\r\n"), Ok(Entry::Code(_))));
        match Entry::read(" 91440300708461136t ") {
            Ok(Entry::Holder(uscc)) => assert_eq!(uscc.as_str(), "91440300708461136T"),
            other => panic!("expected a USCC, got {other:?}"),
        }
        assert_eq!(Entry::read("91440300708461136A").unwrap_err().code, ErrorCode::UsccInvalid);
        assert_eq!(Entry::read("not a code!").unwrap_err().code, ErrorCode::CodeInvalid);
    }
}
