//! Two steps without `|` between them: refused under the second.

use remote_core::prelude::*;

fn listing(hs: &Hosts) -> Run {
    pipeline!(ls(hs, "/", "-la") pretty)
}

fn main() {}
