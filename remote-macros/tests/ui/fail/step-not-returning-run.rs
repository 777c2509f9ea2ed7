//! A step that does not return a `Run` is reported under the step.

use remote_std::prelude::*;

/// A step must return the run it passes on; this one returns text.
fn summary(run: Run) -> String {
    run.label().to_string()
}

fn listing(hs: &Hosts) -> Run {
    pipeline!(ls(hs, "/", "-la") | summary | pretty)
}

fn main() {}
