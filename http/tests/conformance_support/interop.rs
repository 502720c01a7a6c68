//! Helpers for the interop tests: temporary directories, a test PKI made
//! at run time, and running client programs with a deadline.
