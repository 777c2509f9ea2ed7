//! The hub's wire format (`GET /stream`, server-sent events), defined once for the hub that writes it and the
//! viewer that reads it: a `history` event, then a `batch` event per publish, and `dropped` when a viewer
//! fell behind.
//!
//! An event name a reader does not know is skipped by it, so the format can grow without breaking older
//! viewers.

use serde::{Deserialize, Serialize};

use crate::stocks::Sample;

/// The event with the hub's recent batches, oldest first (a JSON array of [`Batch`]): sent first on every
/// connection.
pub const HISTORY: &str = "history";
/// The event with one [`Batch`], as it is published.
pub const BATCH: &str = "batch";
/// The event that tells a viewer it fell behind: a [`Dropped`].
pub const DROPPED: &str = "dropped";

/// One `publish`: a chart's samples from one run. The unit of the wire format.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Batch {
    /// The chart's title.
    pub stock: String,
    /// Its points.
    pub samples: Vec<Sample>,
}

/// How many batches a viewer that fell behind was not sent.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Dropped {
    /// The batches left out.
    pub batches: u64,
}
