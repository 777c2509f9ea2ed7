use remote_core::prelude::*;

#[remote::operation]
pub fn df(on: impl Into<On>) -> Run {
    exec(on, "df -h")
}

fn main() {}
