//! Fan-out benchmark: N real sshd hosts on loopback, `uptime` on all of them, cold and warm.
fn main() {}
