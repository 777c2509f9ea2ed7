//! A first step without a host set is refused under its name.

use remote_std::prelude::*;

fn listing(_hs: &Hosts) -> Run {
    pipeline!(pretty)
}

fn main() {}
