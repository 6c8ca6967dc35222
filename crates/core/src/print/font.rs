//! Finding the CJK font that stamped copies are written in.
