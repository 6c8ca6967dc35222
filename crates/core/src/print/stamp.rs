//! Stamping a license file (PDF, JPEG, PNG) into a copy that serves one case.
