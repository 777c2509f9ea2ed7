//! One integration-test binary; each module covers one area of `remote` against real sshd servers on loopback.

mod r#become;
mod check;
mod ci;
mod cli;
mod exec;
mod file_safety;
mod files;
mod host_keys;
mod host_keys_openssh;
mod hostile;
mod hot_reload;
mod hub;
mod jobs;
mod live;
mod metrics;
mod notify;
mod packages;
mod pipelines;
mod resolve_openssh;
mod scale;
mod services;
mod sessions;
mod shell_steps;
mod ssh_config;
mod stream;
mod tidy;
