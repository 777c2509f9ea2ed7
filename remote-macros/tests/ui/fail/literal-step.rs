//! A literal where a step belongs is refused under the literal.

use remote_core::prelude::*;

fn listing(hs: &Hosts) -> Run {
    pipeline!(ls(hs, "/", "-la") | "pretty")
}

fn main() {}
