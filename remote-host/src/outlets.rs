//! Where pipelines' results leave the model in this process: the terminal (`pretty`, `table`), the hub and
//! the history (`collect`, `publish`), and mail and webhooks (`email`, `webhook`).
//!
//! The transport never sees any of them: a [`remote_core::Driver`] pairs the SSH world with these outlets.

use std::sync::{Arc, OnceLock};

use crate::hub::Hub;
use remote_core::pretty::View;
use remote_core::stocks::{Sample, Shape};
use remote_core::{Message, Outlets, Report, SendError};

use crate::outbox::Outbox;

/// What `pretty` and `table` do with a report in this process.
type Show = dyn Fn(&Report, View) + Send + Sync;

/// The outlets of one kind of line: the prompt's (shown) or the jobs' (nothing printed).
pub struct HostOutlets {
    show: Box<Show>,
    /// Where `collect` and `publish` send samples: set once, when the live host starts its hub.
    hub: OnceLock<Arc<Hub>>,
    /// Where `email` and `webhook` send runs.
    outbox: Arc<Outbox>,
}

impl HostOutlets {
    /// Reports go to `show`, email and webhook posts to `outbox`; samples nowhere until [`Self::use_hub`].
    pub fn new(show: impl Fn(&Report, View) + Send + Sync + 'static, outbox: Arc<Outbox>) -> Self {
        HostOutlets { show: Box::new(show), hub: OnceLock::new(), outbox }
    }

    /// Sends the samples of `collect` and `publish` to `hub` from now on (once; later calls are ignored).
    pub fn use_hub(&self, hub: Arc<Hub>) {
        let _ = self.hub.set(hub);
    }
}

impl Outlets for HostOutlets {
    fn show(&self, report: &Report, view: View) {
        (self.show)(report, view);
    }

    fn record(&self, samples: &[Sample]) {
        if let Some(hub) = self.hub.get() {
            hub.record(samples);
        }
    }

    fn publish(&self, stock: &str, shape: Shape, samples: &[Sample]) {
        if let Some(hub) = self.hub.get() {
            hub.publish(stock, shape, samples);
        }
    }

    fn notify(&self, report: &Report, message: &Message<'_>, dry_run: bool) -> Result<String, SendError> {
        Ok(self.outbox.notify(report, message, dry_run)?)
    }
}
