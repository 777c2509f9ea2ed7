//! Operations (and predicates) are remote-std's built-ins; a user crate declares pipelines and steps.

use remote_std::prelude::*;

#[remote::operation]
pub fn df(on: impl Into<On>) -> Run {
    exec(on, "df -h")
}

fn main() {}
