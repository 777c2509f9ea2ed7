//! Ctrl-C, SIGTERM and SIGHUP: the first cancels the commands that are running (they are killed on the hosts,
//! like a timeout, and the results say which signal it was); a second while they are still being stopped
//! leaves at once. SIGTERM and SIGHUP also mark the process as ending, which the live prompt treats as
//! `quit`.

use std::sync::{Arc, Condvar, Mutex};

use remote_core::CancelCause;
use tokio::signal::unix::{SignalKind, signal};
use tokio::sync::watch;

/// The switch a run's commands watch: `Some(cause)` cancels them.
pub type Switch = Arc<watch::Sender<Option<CancelCause>>>;

/// Listens for SIGINT, SIGTERM and SIGHUP on `runtime` and returns the switch they set; `subscribe()` gives
/// what `ExecOptions::cancel` wants, and [`rearm`] clears it (the live prompt does, per line).
pub fn cancel_on_signals(runtime: &tokio::runtime::Runtime) -> Switch {
    let (switch, _) = watch::channel(None);
    let switch = Arc::new(switch);
    for (kind, cause) in [
        (SignalKind::interrupt(), CancelCause::CtrlC),
        (SignalKind::terminate(), CancelCause::Terminate),
        (SignalKind::hangup(), CancelCause::HangUp),
    ] {
        let listener = switch.clone();
        // Registering fails only when signal handling cannot be set up at all; the run goes on without it.
        let Ok(mut stream) = runtime.block_on(async { signal(kind) }) else { continue };
        runtime.spawn(async move {
            while stream.recv().await.is_some() {
                cancel(&listener, cause);
            }
        });
    }
    switch
}

/// Cancels what `switch` governs because of `cause`. A second signal of the same kind while the first is
/// still being handled leaves at once: a Ctrl-C while a line's commands are being killed, a SIGTERM or SIGHUP
/// while the process is ending. A SIGTERM after a Ctrl-C is a first SIGTERM: it ends the prompt as `quit`
/// does.
pub fn cancel(switch: &Switch, cause: CancelCause) {
    let again = match cause {
        CancelCause::Terminate | CancelCause::HangUp => !begin_ending(cause),
        CancelCause::StdoutClosed => {
            begin_ending(cause);
            false
        }
        CancelCause::CtrlC | CancelCause::JobsHalted => switch.borrow().is_some(),
    };
    switch.send_replace(Some(cause));
    if again {
        crate::terminal::restore();
        eprintln!("\nremote: {cause} again; leaving without waiting for the hosts");
        std::process::exit(cause.exit_code().unwrap_or(1));
    }
    match cause {
        CancelCause::CtrlC => {
            eprintln!(
                "\nremote: cancelling; the running commands are being killed on the hosts (Ctrl-C again to leave now)"
            )
        }
        CancelCause::StdoutClosed | CancelCause::JobsHalted => {}
        _ => eprintln!("\nremote: {cause}: ending; commands still running are killed on the hosts first"),
    }
}

/// Clears `switch` for the next line, unless the process is ending; decided under the ending's lock, so that
/// a SIGTERM arriving meanwhile is never cleared.
pub fn rearm(switch: &Switch) {
    let ending = ENDING.0.lock().unwrap_or_else(|e| e.into_inner());
    if ending.is_none() {
        switch.send_replace(None);
    }
}

/// Why the process is ending (SIGTERM, SIGHUP, or its stdout closed), once it is.
static ENDING: (Mutex<Option<CancelCause>>, Condvar) = (Mutex::new(None), Condvar::new());

/// Marks the process as ending because of `cause` (the first cause is kept); whether this was the first.
pub fn begin_ending(cause: CancelCause) -> bool {
    let mut ending = ENDING.0.lock().unwrap_or_else(|e| e.into_inner());
    if ending.is_some() {
        return false;
    }
    *ending = Some(cause);
    ENDING.1.notify_all();
    true
}

/// Why the process is ending, if it is.
pub fn ending() -> Option<CancelCause> {
    *ENDING.0.lock().unwrap_or_else(|e| e.into_inner())
}

/// Blocks until the process is to end, and says why.
pub fn wait_ending() -> CancelCause {
    let mut ending = ENDING.0.lock().unwrap_or_else(|e| e.into_inner());
    loop {
        if let Some(cause) = *ending {
            return cause;
        }
        ending = ENDING.1.wait(ending).unwrap_or_else(|e| e.into_inner());
    }
}
