//! Ctrl-C: the first press cancels the commands that are running (they are killed on the hosts, like a
//! timeout), a second press while they are still being stopped leaves at once.

use std::sync::Arc;

use tokio::sync::watch;

/// Exit code after a second Ctrl-C, as shells report a process ended by SIGINT.
const EXIT_INTERRUPTED: i32 = 130;

/// Listens for Ctrl-C on `runtime` and returns the switch it sets; `subscribe()` gives what
/// `ExecOptions::cancel` wants, and `send_replace(false)` re-arms it (the live prompt does, per line).
pub fn cancel_on_ctrl_c(runtime: &tokio::runtime::Runtime) -> Arc<watch::Sender<bool>> {
    let (switch, _) = watch::channel(false);
    let switch = Arc::new(switch);
    let listener = switch.clone();
    runtime.spawn(async move {
        while tokio::signal::ctrl_c().await.is_ok() {
            if listener.send_replace(true) {
                eprintln!("\nremote: interrupted twice; leaving without waiting for the hosts");
                std::process::exit(EXIT_INTERRUPTED);
            }
            eprintln!("\nremote: cancelling; the running commands are being killed on the hosts (Ctrl-C again to leave now)");
        }
    });
    switch
}
