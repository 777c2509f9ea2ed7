//! The stock steps: `collect` keeps every field of each host's typed data, `publish(stock(…))` sends one
//! chart.
//!
//! The samples leave the pipeline through the driver into the host process, so a reload of `ops` loses none
//! of them.

use remote_core::stocks::{Sample, Stock, all_samples, now_ms, samples_of};

use crate::remote;
use remote_core::Run;

/// Records each host's typed data as timestamped samples of every field, in the live host's history.
///
/// Hosts without typed data (an `exec`, a failure) add nothing. The run goes on unchanged.
#[remote::step]
pub fn collect(run: Run) -> Run {
    let at_ms = now_ms();
    let samples: Vec<Sample> = run
        .results()
        .iter()
        .filter(|r| r.ok())
        .filter_map(|r| Some(all_samples(&r.host, r.any_data()?, at_ms)))
        .flatten()
        .collect();
    run.hosts().driver().record(&samples);
    run
}

/// Sends one chart's samples (each host's value of each of the stock's fields) to the live host's hub.
///
/// E.g. `cpu(hs) | collect | publish(stock("Idle CPU", idle))`. Outside `remote live` there is no hub and
/// nothing is sent.
#[remote::step]
pub fn publish(run: Run, stock: Stock) -> Run {
    let at_ms = now_ms();
    let samples: Vec<Sample> =
        stock.fields.iter().flat_map(|field| samples_of(field, run.results(), at_ms)).collect();
    run.hosts().driver().publish(&stock.title, stock.shape, &samples);
    run
}
