//! Test harness: real sshd hosts on loopback for the integration tests, cleaned up even when a test panics.
