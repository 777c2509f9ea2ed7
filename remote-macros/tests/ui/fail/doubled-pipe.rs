//! Two pipes with no step between them are refused under the second.

use remote_std::prelude::*;

fn listing(hs: &Hosts) -> Run {
    pipeline!(ls(hs, "/", "-la") | | pretty)
}

fn main() {}
