//! A pipeline takes the host set and nothing else.

use remote_std::prelude::*;

#[remote::pipeline]
pub fn listing(hs: &Hosts, folder: &str) -> Run {
    ls(hs, folder, "-la")
}

fn main() {}
