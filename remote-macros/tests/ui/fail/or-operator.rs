//! `||` (two pipes as one token) is refused like a doubled pipe.

use remote_std::prelude::*;

fn listing(hs: &Hosts) -> Run {
    pipeline!(ls(hs, "/", "-la") || pretty)
}

fn main() {}
