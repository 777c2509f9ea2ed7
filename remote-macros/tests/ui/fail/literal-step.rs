//! A literal where a step belongs is refused under the literal.

use remote_std::prelude::*;

fn listing(hs: &Hosts) -> Run {
    pipeline!(ls(hs, "/", "-la") | "pretty")
}

fn main() {}
