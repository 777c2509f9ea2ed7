//! Everything a pipeline file needs: `use remote_core::prelude::*;`.

pub use crate::catalog::{Export, ExportKind};
pub use crate::hosts::Hosts;
pub use crate::operations::{exec, ls, mkdir, rm, uptime};
pub use crate::report::{HostError, HostResult, Output, Report};
pub use crate::run::{On, Run};
pub use crate::steps::{failed, pick, pretty, stdout_has, successful};
pub use crate::value::Predicate;
pub use remote_macros::pipeline;
