//! Two steps without `|` between them: refused under the second.

use remote_std::prelude::*;

fn listing(hs: &Hosts) -> Run {
    pipeline!(ls(hs, "/", "-la") pretty)
}

fn main() {}
