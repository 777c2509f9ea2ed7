//! The terminal's settings as the prompt found them, put back when a signal ends the process while the line
//! editor has the terminal in raw mode (no echo, no line editing), which a shell would otherwise inherit.

use std::sync::OnceLock;

/// Stdin's terminal settings, when stdin is a terminal.
static SAVED: OnceLock<libc::termios> = OnceLock::new();

/// Keeps stdin's terminal settings as they are now.
pub fn save() {
    // SAFETY: tcgetattr fills the zeroed struct it is given, and only when it returns 0 is it kept.
    unsafe {
        let mut termios: libc::termios = std::mem::zeroed();
        if libc::isatty(libc::STDIN_FILENO) == 1 && libc::tcgetattr(libc::STDIN_FILENO, &mut termios) == 0 {
            let _ = SAVED.set(termios);
        }
    }
}

/// Puts back the settings [`save`] kept, if any, and moves to a fresh line (the prompt's line was not ended).
pub fn restore() {
    if let Some(termios) = SAVED.get() {
        // SAFETY: tcsetattr reads the struct tcgetattr filled; a terminal that has gone away fails
        // harmlessly.
        unsafe {
            libc::tcsetattr(libc::STDIN_FILENO, libc::TCSADRAIN, termios);
        }
        eprintln!();
    }
}
