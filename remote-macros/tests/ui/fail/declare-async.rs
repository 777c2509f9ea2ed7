use remote_core::prelude::*;

#[remote::step]
pub async fn later(run: Run) -> Run {
    run
}

fn main() {}
