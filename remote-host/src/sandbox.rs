//! `remote sandbox up [N] | down`: real sshd hosts on loopback, recorded in the inventory as group `sandbox`.

use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};

use remote_config::Inventory;
use remote_config::local::current_user;
use remote_sandbox::{self as sandbox, Sandbox, SandboxConfig};
use remote_ssh::pool::{ExecOptions, PoolConfig, SessionPool};

use crate::cli::{GlobalArgs, SandboxAction, SandboxArgs};
use crate::{EXIT_HOST_FAILED, EXIT_OK};

/// The group name `sandbox up` writes.
pub const GROUP: &str = "sandbox";

/// Starts or stops the sandbox; returns the exit code.
pub fn run(global: &GlobalArgs, args: &SandboxArgs) -> Result<u8, Box<dyn std::error::Error>> {
    let inventory = global.inventory_path();
    let dir = state_dir(&inventory);
    match &args.action {
        SandboxAction::Up { count, user, first } => {
            up(&inventory, &dir, *count, *first, user.clone().unwrap_or_else(current_user))
        }
        SandboxAction::Down => {
            let stopped = sandbox::stop_daemons(&dir);
            outln!("sandbox: stopped {stopped} sshd host(s) from {}", dir.display());
            Ok(EXIT_OK)
        }
    }
}

/// The sandbox's keys, configs and logs live beside the inventory, in `.remote/sandbox`.
fn state_dir(inventory: &Path) -> PathBuf {
    let base = inventory.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    base.join(".remote").join("sandbox")
}

fn up(
    inventory: &Path,
    dir: &Path,
    count: usize,
    first: Ipv4Addr,
    user: String,
) -> Result<u8, Box<dyn std::error::Error>> {
    if count == 0 || count > 1000 {
        return Err(format!("sandbox size {count} is out of range; ask for 1 to 1000 hosts").into());
    }
    let last = sandbox::loopback_addresses(count, first, 22).last().map(|a| a.ip());
    if !first.is_loopback() || !last.is_some_and(|ip| ip.is_loopback()) {
        return Err(format!(
            "--first {first} with {count} hosts leaves 127.0.0.0/8; the sandbox only uses loopback addresses"
        )
        .into());
    }
    // `up` again replaces the running sandbox, so its size can change.
    sandbox::stop_daemons(dir);
    let addresses = {
        // As root the hosts look like real ones on port 22, unless something (a system sshd on 0.0.0.0:22)
        // holds it.
        let on_22 = sandbox::loopback_addresses(count, first, 22);
        if sandbox::is_root() && on_22.iter().all(|a| sandbox::address_is_free(*a)) {
            on_22
        } else {
            sandbox::loopback_addresses(count, first, 2222)
        }
    };
    let config = SandboxConfig {
        dir: dir.to_path_buf(),
        addresses,
        addresses_per_server: 1,
        login_user: user,
        detach: true,
    };
    let sandbox = Sandbox::start(&config)?;
    sandbox.write_group(inventory, GROUP)?;
    let entries = sandbox.host_entries();
    let span = match entries.as_slice() {
        [only] => only.clone(),
        [first, .., last] => format!("{first} … {last}"),
        [] => String::new(),
    };
    outln!(
        "sandbox: {count} sshd host(s) up ({span}), login user `{}`, state in {}",
        sandbox.login_user(),
        sandbox.dir().display()
    );
    outln!("sandbox: group `{GROUP}` written to {}", inventory.display());
    if !logins_work(inventory, &sandbox)? {
        return Ok(EXIT_HOST_FAILED);
    }
    outln!(
        "sandbox: every host lets `{}` in; try `remote run listing {GROUP}` or `remote live`",
        sandbox.login_user()
    );
    Ok(EXIT_OK)
}

/// Logs in to every host once, so a sandbox that sshd would refuse is reported now, with the reason
/// from sshd's own log, instead of at the user's first command.
fn logins_work(inventory: &Path, sandbox: &Sandbox) -> Result<bool, Box<dyn std::error::Error>> {
    let hosts = Inventory::load(inventory)?.group(GROUP)?.hosts.clone();
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    let pool = SessionPool::new(PoolConfig::default());
    let results = runtime.block_on(pool.exec(&hosts, "true", &ExecOptions::default()));
    for (result, server) in results.iter().zip(sandbox.servers()).filter(|(r, _)| !r.ok()) {
        eprintln!("sandbox: cannot log in to {}: {}", result.host, result.error_text().unwrap_or_default());
        let log = server.log();
        if log.contains("account is locked") {
            eprintln!(
                "sandbox: sshd refuses `{0}` because its password is locked (`!` in /etc/shadow), which sshd without PAM \
                 treats as a locked account; unlock it without setting a password: `sudo usermod -p '*' {0}`",
                sandbox.login_user()
            );
        } else if !log.trim().is_empty() {
            eprintln!("sandbox: sshd log of {}:\n{}", result.host, log.trim_end());
        }
    }
    Ok(results.iter().all(|r| r.ok()))
}
