//! The stock viewer: egui + egui_plot charts of published metrics, as a library UI with a thin `main`.
//!
//! The UI arrives with the stocks issue. Architecture invariant: GUI dependencies live only in this crate,
//! and it never links `ops`.
