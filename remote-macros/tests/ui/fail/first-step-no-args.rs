//! A first step with empty parentheses is refused under them.

use remote_std::prelude::*;

fn listing(_hs: &Hosts) -> Run {
    pipeline!(uptime() | pretty)
}

fn main() {}
