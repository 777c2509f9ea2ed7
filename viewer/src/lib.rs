//! The stock viewer: egui + egui_plot charts of the stocks `remote live` publishes, live from its hub or
//! offline from a history file, as a library UI ([`ui::stocks_ui`]) with a thin `main`.
//!
//! Architecture invariant: GUI dependencies live only in this crate, and it never links `ops`.

pub mod client;
pub mod decimate;
pub mod history;
pub mod store;
pub mod ui;
pub mod units;
pub mod wire;

pub use ui::{State, stocks_ui};

/// The eframe application: takes in the connection's updates, then draws [`stocks_ui`].
pub struct App {
    /// What is shown.
    pub state: State,
}

impl eframe::App for App {
    fn ui(&mut self, ui: &mut egui::Ui, _frame: &mut eframe::Frame) {
        self.state.poll();
        stocks_ui(ui, &mut self.state);
        // A followed hub moves with the clock even between samples.
        if self.state.following && matches!(self.state.source, ui::Source::Hub { .. }) {
            ui.ctx().request_repaint_after(std::time::Duration::from_millis(500));
        }
    }
}
