//! Paper and PDF for a case: stamping a license file into a copy for one case (`stamp`), the
//! CJK font it is stamped with (`font`), and the print systems that put it on paper (`queue`).

pub mod font;
pub mod queue;
pub mod stamp;
