//! `remote history`: the past runs of the history store printed as the command line asks, on the binary's
//! side because it reads the `cli` arguments.

use std::io::Write as _;

use crate::history::{Filter, History, default_path};
use remote_core::stocks::now_ms;

use crate::EXIT_OK;
use crate::cli::{GlobalArgs, HistoryArgs};

/// Runs `remote history` prints without `--last`: about a screenful.
const LAST_DEFAULT: usize = 10;

/// `remote history`: the past runs the filters ask for, newest first (the `--last` N of them), as text or
/// (`--json`) one document; or, with `--stats`, what the history holds.
pub fn print(global: &GlobalArgs, args: &HistoryArgs) -> Result<u8, Box<dyn std::error::Error>> {
    let path = default_path(&global.inventory_path());
    let history = if path.is_file() {
        Some(History::open_to_read(&path)?)
    } else {
        eprintln!("remote history: no history at {} yet; `remote live` keeps one there", path.display());
        None
    };
    // Written, not printed: a reader that leaves early (`remote history | head`) ends it quietly.
    let mut stdout = crate::out::Stdout;
    if args.stats {
        let stats = history.as_ref().map(History::stats).transpose()?;
        if global.json {
            let document = serde_json::json!({ "history": path, "stats": stats });
            let _ = remote_core::pretty::write_json(&mut stdout, &document)
                .and_then(|()| stdout.write_all(b"\n"));
        } else if let Some(stats) = stats {
            let oldest = stats.oldest_ms.map_or("none".to_string(), local_time);
            let _ = write!(
                stdout,
                "history {}\n  size    {}\n  runs    {} ({} host outcomes)\n  samples {}\n  oldest  {oldest}\n",
                sanitize(&path.display().to_string()),
                remote_core::pretty::bytes(stats.bytes),
                stats.runs,
                stats.outcomes,
                stats.samples,
            );
        }
        return Ok(EXIT_OK);
    }
    let mut runs = match &history {
        Some(history) => {
            let since_ms = args.since.map(|d| now_ms() - d.as_millis() as i64);
            history.runs(&Filter { pipeline: args.pipeline.clone(), host: args.host.clone(), since_ms })?
        }
        None => Vec::new(),
    };
    // The JSON document keeps every run, oldest first, unless --last is given; the text is for a screen.
    let last = match (args.last, global.json) {
        (Some(0), _) | (None, true) => runs.len(),
        (Some(n), _) => n,
        (None, false) => LAST_DEFAULT,
    };
    let older = runs.len().saturating_sub(last);
    runs.drain(..older);
    if global.json {
        let document = serde_json::json!({ "history": path, "runs": runs });
        let _ =
            remote_core::pretty::write_json(&mut stdout, &document).and_then(|()| stdout.write_all(b"\n"));
        return Ok(EXIT_OK);
    }
    let mut out = String::new();
    for run in runs.iter().rev() {
        let ok = run.results.iter().filter(|r| r.ok).count();
        out.push_str(&format!(
            "{}  {}  ({} on {}: {} ok, {} failed, {:.2}s)\n",
            local_time(run.at_ms),
            sanitize(&run.line),
            sanitize(&run.label),
            sanitize(&run.group),
            ok,
            run.results.len() - ok,
            run.elapsed_ms as f64 / 1000.0
        ));
        let width = run.results.iter().map(|r| r.host.chars().count()).max().unwrap_or(0);
        for result in &run.results {
            let mark = if result.ok { "✔" } else { "✖" };
            let why = result.error.as_deref().map(sanitize).unwrap_or_default();
            out.push_str(&format!(
                "    {mark} {:width$}  {:.2}s  {why}\n",
                sanitize(&result.host),
                result.elapsed_ms as f64 / 1000.0
            ));
            if args.output {
                for line in result.output.lines().filter(|l| !l.trim().is_empty()) {
                    out.push_str(&format!("        {}\n", sanitize(line)));
                }
            }
        }
    }
    if older > 0 {
        out.push_str(&format!("({older} older run(s) not shown: --last N shows more, --last 0 all)\n"));
    }
    let _ = stdout.write_all(out.as_bytes());
    Ok(EXIT_OK)
}

fn sanitize(text: &str) -> String {
    remote_core::pretty::sanitize(text)
}

/// `at_ms` as local date and time, to the second.
fn local_time(at_ms: i64) -> String {
    jiff::Timestamp::from_millisecond(at_ms)
        .map(|t| t.to_zoned_datetime(jiff::tz::TimeZone::system()).strftime("%Y-%m-%d %H:%M:%S").to_string())
        .unwrap_or_else(|_| at_ms.to_string())
}
