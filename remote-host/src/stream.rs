//! `remote exec --stream` and `stream LINE` at the prompt: every host's output printed line by line as it
//! arrives, prefixed with the host (aligned, and coloured per host on a terminal). Lines a host writes to
//! stdout go to stdout and its stderr lines to stderr, so redirections keep their meaning.

use std::collections::HashMap;
use std::io::{IsTerminal, Write};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, mpsc};

use console::{Color, Style};
use remote_ssh::exec::{OnOutput, Stream};

/// A line longer than this is printed in pieces, so a host that never ends its line cannot grow memory.
const MAX_LINE: usize = 64 << 10;

/// Bytes of lines waiting for a terminal that reads slower than the hosts write; past this, lines are dropped
/// (and counted) rather than memory grown or the hosts' connections held up.
const MAX_QUEUED: usize = 16 << 20;

/// Colours hosts cycle through; red is left out, since it reads as an error.
const PALETTE: [Color; 5] = [Color::Cyan, Color::Magenta, Color::Yellow, Color::Blue, Color::Green];

/// Assembles each host's pieces of output into lines and prints them.
pub struct Streamer {
    /// Width of the host column: the longest name of the hosts the line runs on.
    width: usize,
    /// Each host's colour, by its place in the group.
    colours: HashMap<String, Color>,
    /// With `--json`, standard output carries only the JSON document, so stdout lines go to stderr too.
    json: bool,
    colour_out: bool,
    colour_err: bool,
    /// What each host has sent of a line not yet ended, per stream. Why a std Mutex: held while a piece is
    /// split and its lines queued (never while writing to a terminal, never across an await), so each host's
    /// lines keep their order.
    partial: Mutex<HashMap<(String, Stream), Vec<u8>>>,
    /// Lines go to a thread of their own that writes them: a terminal that stops reading (a paused pager,
    /// Ctrl-S) then stalls only that thread, never the runtime that reads the hosts and handles Ctrl-C and
    /// the deadline. Why a std Mutex: held only to send, which never blocks.
    printer: Mutex<mpsc::Sender<Printed>>,
    /// Bytes queued for the printer and not yet written.
    queued: Arc<AtomicUsize>,
    /// Lines dropped because too many were queued.
    dropped: Arc<AtomicUsize>,
}

/// What the printer thread is sent.
enum Printed {
    /// A whole line, for stdout or for stderr.
    Line { to_stdout: bool, text: String },
    /// Everything before this is written: say so.
    Flush(mpsc::SyncSender<()>),
}

/// The printer thread: writes lines in the order they came, and answers flushes.
fn print_lines(lines: mpsc::Receiver<Printed>, queued: Arc<AtomicUsize>, dropped: Arc<AtomicUsize>) {
    for printed in lines {
        match printed {
            Printed::Line { to_stdout, text } => {
                // A reader that went away (`| head`) cancels the run (`out::Stdout` sees to it), not the
                // printer.
                let _ = if to_stdout {
                    crate::out::Stdout.write_all(text.as_bytes())
                } else {
                    std::io::stderr().lock().write_all(text.as_bytes())
                };
                queued.fetch_sub(text.len(), Ordering::Relaxed);
            }
            Printed::Flush(done) => {
                let lost = dropped.swap(0, Ordering::Relaxed);
                if lost > 0 {
                    eprintln!(
                        "remote: {lost} streamed line(s) not shown: the terminal read more slowly than the hosts wrote"
                    );
                }
                let _ = crate::out::Stdout.flush();
                let _ = done.send(());
            }
        }
    }
}

impl Streamer {
    /// A streamer for `hosts` (names as the inventory writes them).
    pub fn new<'a>(hosts: impl IntoIterator<Item = &'a str>, json: bool) -> Arc<Self> {
        let hosts: Vec<&str> = hosts.into_iter().collect();
        let no_colour = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
        let (printer, lines) = mpsc::channel();
        let (queued, dropped) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
        let (queued_there, dropped_there) = (queued.clone(), dropped.clone());
        // Ends when the streamer is dropped, which drops the only sender.
        std::thread::spawn(move || print_lines(lines, queued_there, dropped_there));
        Arc::new(Streamer {
            width: hosts.iter().map(|h| h.chars().count()).max().unwrap_or(0),
            colours: hosts
                .iter()
                .enumerate()
                .map(|(n, h)| (h.to_string(), PALETTE[n % PALETTE.len()]))
                .collect(),
            json,
            colour_out: !no_colour && !json && std::io::stdout().is_terminal(),
            colour_err: !no_colour && std::io::stderr().is_terminal(),
            partial: Mutex::new(HashMap::new()),
            printer: Mutex::new(printer),
            queued,
            dropped,
        })
    }

    /// What the pool calls with each piece of output.
    pub fn sink(self: &Arc<Self>) -> OnOutput {
        let streamer = self.clone();
        Arc::new(move |host: &str, stream: Stream, data: &[u8]| streamer.take(host, stream, data))
    }

    fn take(&self, host: &str, stream: Stream, data: &[u8]) {
        let mut partial = self.partial.lock().unwrap_or_else(|e| e.into_inner());
        let buffer = partial.entry((host.to_string(), stream)).or_default();
        buffer.extend_from_slice(data);
        let mut start = 0;
        while let Some(end) = memchr::memchr(b'\n', &buffer[start..]).map(|at| start + at) {
            self.print(host, stream, &buffer[start..end]);
            start = end + 1;
        }
        while buffer.len() - start > MAX_LINE {
            self.print(host, stream, &buffer[start..start + MAX_LINE]);
            start += MAX_LINE;
        }
        buffer.drain(..start);
    }

    /// Prints what `host` has sent of unfinished lines (it is done).
    pub fn flush_host(&self, host: &str) {
        let mut partial = self.partial.lock().unwrap_or_else(|e| e.into_inner());
        for stream in [Stream::Stdout, Stream::Stderr] {
            if let Some(rest) = partial.remove(&(host.to_string(), stream))
                && !rest.is_empty()
            {
                self.print(host, stream, &rest);
            }
        }
    }

    /// Prints every host's unfinished lines and waits until every line is written (the run is over, and what
    /// follows, the summary, must come after them).
    pub fn flush(&self) {
        let hosts: Vec<String> = {
            let partial = self.partial.lock().unwrap_or_else(|e| e.into_inner());
            partial.keys().map(|(host, _)| host.clone()).collect()
        };
        for host in hosts {
            self.flush_host(&host);
        }
        let (done, written) = mpsc::sync_channel(1);
        if self.printer.lock().unwrap_or_else(|e| e.into_inner()).send(Printed::Flush(done)).is_ok() {
            let _ = written.recv();
        }
    }

    fn print(&self, host: &str, stream: Stream, line: &[u8]) {
        let text = String::from_utf8_lossy(line);
        // What a host writes must not drive the terminal (escape sequences, carriage returns).
        let text = remote_core::pretty::sanitize(text.strip_suffix('\r').unwrap_or(&text));
        let to_stdout = stream == Stream::Stdout && !self.json;
        let colour = if to_stdout { self.colour_out } else { self.colour_err };
        let style = match self.colours.get(host) {
            Some(colour) => Style::new().fg(*colour),
            None => Style::new(),
        };
        let name = format!("{host:width$}", width = self.width);
        let text = format!(
            "{} │ {text}\n",
            style.force_styling(colour).apply_to(remote_core::pretty::sanitize(&name))
        );
        if self.queued.fetch_add(text.len(), Ordering::Relaxed) + text.len() > MAX_QUEUED {
            self.queued.fetch_sub(text.len(), Ordering::Relaxed);
            self.dropped.fetch_add(1, Ordering::Relaxed);
            return;
        }
        let length = text.len();
        if self
            .printer
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .send(Printed::Line { to_stdout, text })
            .is_err()
        {
            self.queued.fetch_sub(length, Ordering::Relaxed);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pieces_are_held_until_their_line_ends_or_grows_too_long() {
        let streamer = Streamer::new(["web-1", "web-22"], false);
        assert_eq!(streamer.width, 6);
        streamer.take("web-1", Stream::Stdout, b"half");
        assert_eq!(streamer.partial.lock().unwrap()[&("web-1".to_string(), Stream::Stdout)], b"half");
        streamer.take("web-1", Stream::Stdout, b" a line\nand more");
        assert_eq!(streamer.partial.lock().unwrap()[&("web-1".to_string(), Stream::Stdout)], b"and more");
        streamer.take("web-1", Stream::Stdout, &vec![b'x'; MAX_LINE * 2 + 5]);
        assert_eq!(streamer.partial.lock().unwrap()[&("web-1".to_string(), Stream::Stdout)].len(), 8 + 5);
        streamer.flush();
        assert!(streamer.partial.lock().unwrap().is_empty());
    }
}
