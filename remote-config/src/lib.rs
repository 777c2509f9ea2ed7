//! The configuration of `remote`: what the user wrote, read into the host specs the model runs on.
//!
//! Layout:
//! - [`inventory`] reads `remote.toml` into groups of [`remote_core::HostSpec`]s;
//! - [`ssh_config`] reads OpenSSH client configuration files (`~/.ssh/config`) with OpenSSH 9.2's semantics;
//! - [`settings`] resolves one host: the inventory over `ssh_config` over OpenSSH's defaults;
//! - [`narrow`] cuts every group to `--limit` and `--exclude` (node sets such as `web-[01-40]`, and `@group`s);
//! - [`shard`] cuts a group to `--shard K/N`;
//! - [`local`] is this machine's user, whose name and home the defaults start from.
//!
//! Architecture invariant: this crate reads files and the password database but never connects anywhere, and
//! nothing here crosses the hot-reload boundary: `ops` does not link it.

pub mod inventory;
pub mod local;
pub mod narrow;
pub mod settings;
pub mod shard;
pub mod ssh_config;

#[cfg(test)]
mod fuzz;

pub use inventory::{INVENTORY_ENV, Inventory, InventoryError, Notify, SmtpTls};
pub use narrow::NarrowError;
pub use shard::Shard;
