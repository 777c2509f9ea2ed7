//! A later step that names the host set again is refused under it.

use remote_std::prelude::*;

fn listing(hs: &Hosts) -> Run {
    pipeline!(uptime(hs) | ls(hs, "/", "-la"))
}

fn main() {}
