//! A `|` with no step after it is refused under that `|`.

use remote_std::prelude::*;

fn listing(hs: &Hosts) -> Run {
    pipeline!(ls(hs, "/", "-la") | pretty |)
}

fn main() {}
