//! One-line notices from background work (rebuilds, reloads, jobs), printed above the line being typed at the
//! prompt rather than through it, or to stderr when there is no prompt.

use std::sync::{Arc, Mutex, PoisonError};

/// Prints one notice, e.g. above the line being typed.
pub type Printer = Box<dyn FnMut(String) + Send>;

/// Where notices go: to the prompt's printer once it is set, to stderr before that and without a terminal.
#[derive(Clone, Default)]
pub struct Notices {
    printer: Arc<Mutex<Option<Printer>>>,
}

impl Notices {
    /// Sends notices to `printer` from now on.
    pub fn set_printer(&self, printer: Printer) {
        *self.printer.lock().unwrap_or_else(PoisonError::into_inner) = Some(printer);
    }

    /// Shows `text` (one or more lines).
    pub fn say(&self, text: impl Into<String>) {
        let text = text.into();
        match self.printer.lock().unwrap_or_else(PoisonError::into_inner).as_mut() {
            Some(printer) => printer(text),
            None => eprintln!("{text}"),
        }
    }
}
