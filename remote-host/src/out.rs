//! Standard output that its reader may close (`remote hosts | head`): every print goes through [`Stdout`],
//! which takes a closed pipe as "nobody reads any more" instead of panicking as `println!` does. From then on
//! output is discarded, and the run in progress is cancelled as a shell's `yes | head` would end `yes`.

use std::io::{self, Write};
use std::sync::OnceLock;

use remote_core::CancelCause;

use crate::interrupt::Switch;

/// The run to cancel when stdout closes: the session's, once it has one.
static CANCEL: OnceLock<Switch> = OnceLock::new();

/// Cancels the commands `switch` governs when stdout closes.
pub fn cancel_on_close(switch: &Switch) {
    let _ = CANCEL.set(switch.clone());
}

/// `eprintln!` that never panics: stderr may be a terminal that hung up (SIGHUP: writes fail with EIO) or a
/// pipe whose reader left, and a panic there would cut short the very ending that is to kill the hosts'
/// commands and flush the history. Defined here, first of the crate's modules, it takes the place of std's in
/// all of them.
macro_rules! eprintln {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stderr(), $($arg)*);
    }};
}

/// `print!` for stdout as [`Stdout`] writes it.
macro_rules! out {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = write!(crate::out::Stdout, $($arg)*);
    }};
}

/// `println!` for stdout as [`Stdout`] writes it.
macro_rules! outln {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(crate::out::Stdout, $($arg)*);
    }};
}

/// Writes to the process's stdout; a closed pipe reads as written, once [`closed`] has dealt with it.
pub struct Stdout;

impl Write for Stdout {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match io::stdout().lock().write(buf) {
            Err(err) if err.kind() == io::ErrorKind::BrokenPipe => {
                closed();
                Ok(buf.len())
            }
            other => other,
        }
    }

    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        match io::stdout().lock().write_all(buf) {
            Err(err) if err.kind() == io::ErrorKind::BrokenPipe => {
                closed();
                Ok(())
            }
            other => other,
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match io::stdout().lock().flush() {
            Err(err) if err.kind() == io::ErrorKind::BrokenPipe => {
                closed();
                Ok(())
            }
            other => other,
        }
    }
}

/// Stdout's reader is gone: /dev/null takes its place (on stderr too, when stderr is the same pipe, so that
/// no `eprintln!` panics either), and the run in progress is cancelled.
fn closed() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let same_pipe = same_file(libc::STDOUT_FILENO, libc::STDERR_FILENO);
        // SAFETY: open and dup2 on descriptors this process owns; /dev/null is opened write-only, and a
        // failure leaves the descriptors as they were.
        unsafe {
            let null = libc::open(c"/dev/null".as_ptr(), libc::O_WRONLY | libc::O_CLOEXEC);
            if null >= 0 {
                libc::dup2(null, libc::STDOUT_FILENO);
                if same_pipe {
                    libc::dup2(null, libc::STDERR_FILENO);
                }
                libc::close(null);
            }
        }
        match CANCEL.get() {
            Some(switch) => crate::interrupt::cancel(switch, CancelCause::StdoutClosed),
            None => {
                crate::interrupt::begin_ending(CancelCause::StdoutClosed);
            }
        }
    });
}

/// Notices a reader that leaves while nothing is being written (a quiet command, the prompt between lines):
/// when stdout is a pipe or a socket, a thread waits for it to report an error or hang-up, and then stdout is
/// closed as a failed write would close it. Without this, a closed pipe would be seen only at the next write.
pub fn watch_reader() {
    // SAFETY: fstat writes into the zeroed struct it is given.
    let kind = unsafe {
        let mut stat: libc::stat = std::mem::zeroed();
        if libc::fstat(libc::STDOUT_FILENO, &mut stat) != 0 {
            return;
        }
        stat.st_mode & libc::S_IFMT
    };
    if kind != libc::S_IFIFO && kind != libc::S_IFSOCK {
        return;
    }
    let _ = std::thread::Builder::new().name("stdout-reader".into()).spawn(|| {
        loop {
            // No events asked for: poll still reports an error (the pipe's reader is gone) or a hang-up.
            let mut watched = libc::pollfd { fd: libc::STDOUT_FILENO, events: 0, revents: 0 };
            // SAFETY: one pollfd, owned here, for the whole call.
            let ready = unsafe { libc::poll(&mut watched, 1, -1) };
            if ready > 0 && watched.revents & (libc::POLLERR | libc::POLLHUP) != 0 {
                closed();
                return;
            }
            if ready < 0 && std::io::Error::last_os_error().kind() != io::ErrorKind::Interrupted {
                return;
            }
        }
    });
}

/// Whether descriptors `a` and `b` are the same open file (the same pipe, for `2>&1 | head`).
fn same_file(a: libc::c_int, b: libc::c_int) -> bool {
    // SAFETY: fstat writes into the zeroed structs it is given and reads nothing else.
    unsafe {
        let (mut first, mut second): (libc::stat, libc::stat) = (std::mem::zeroed(), std::mem::zeroed());
        libc::fstat(a, &mut first) == 0
            && libc::fstat(b, &mut second) == 0
            && (first.st_dev, first.st_ino) == (second.st_dev, second.st_ino)
    }
}
