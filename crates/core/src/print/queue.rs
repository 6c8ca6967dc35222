//! The print systems: CUPS over IPP on Linux, the Windows spooler; one small interface.
