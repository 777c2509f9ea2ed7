//! An `async` function cannot be declared: pipelines and steps are synchronous.

use remote_std::prelude::*;

#[remote::step]
pub async fn later(run: Run) -> Run {
    run
}

fn main() {}
