//! `idle`: open N connections, report, then hold them for `--hold` seconds or until stdin closes.

use std::io::{self, Write};
use std::time::{Duration, Instant};

use mio::unix::SourceFd;
use mio::{Events, Interest, Poll, Token};

use crate::args::Args;
use crate::conn::{self, Errors, Rng};

const STDIN: Token = Token(usize::MAX - 1);

/// Registers stdin if it is something whose closing means "stop" (pipe, socket, terminal).
/// Regular files and /dev/null are ignored, so `</dev/null` does not end the hold at once.
fn watch_stdin(poll: &Poll) -> bool {
    // SAFETY: fstat on fd 0 into a zeroed stat struct.
    let mode = unsafe {
        let mut st: libc::stat = std::mem::zeroed();
        if libc::fstat(0, &mut st) != 0 {
            return false;
        }
        st.st_mode & libc::S_IFMT
    };
    // SAFETY: isatty only inspects fd 0.
    let tty = unsafe { libc::isatty(0) } == 1;
    if !(mode == libc::S_IFIFO || mode == libc::S_IFSOCK || tty) {
        return false;
    }
    poll.registry()
        .register(&mut SourceFd(&0), STDIN, Interest::READABLE)
        .is_ok()
}

/// Drains what stdin has without blocking; true once it reports EOF (or fails).
fn stdin_closed() -> bool {
    let mut buf = [0u8; 4096];
    loop {
        let mut pfd = libc::pollfd {
            fd: 0,
            events: libc::POLLIN,
            revents: 0,
        };
        // SAFETY: one pollfd, zero timeout.
        let r = unsafe { libc::poll(&mut pfd, 1, 0) };
        if r <= 0 {
            return false;
        }
        // SAFETY: reads into a stack buffer of the given length; poll said it won't block.
        let n = unsafe { libc::read(0, buf.as_mut_ptr().cast(), buf.len()) };
        if n == 0 {
            return true;
        }
        if n < 0 {
            return io::Error::last_os_error().kind() != io::ErrorKind::Interrupted;
        }
    }
}

pub fn run(args: &Args) -> Result<String, String> {
    let mut poll = Poll::new().map_err(|e| format!("epoll: {e}"))?;
    let mut events = Events::with_capacity(1024);
    let mut rng = Rng::seeded();
    let mut errors = Errors::default();

    let conns = conn::open_all(
        &mut poll,
        &mut events,
        &args.target,
        args.raw,
        args.connections,
        &mut rng,
        &mut errors,
    );
    let opened = conns.iter().filter(|c| c.is_some()).count();

    let line = format!(
        "{{\"mode\":\"idle\",\"connections\":{},\"opened\":{},\"errors\":{}}}",
        args.connections, opened, errors.count
    );
    let mut out = io::stdout().lock();
    // If nobody reads our stdout any more there is nothing left to report to.
    if writeln!(out, "{line}").and_then(|_| out.flush()).is_err() {
        return Ok(String::new());
    }
    drop(out);

    let watching = watch_stdin(&poll);
    let deadline = args.hold.map(|h| Instant::now() + h);
    if deadline.is_none() && !watching {
        eprintln!("loadgen: --hold 0 but stdin is not a pipe/terminal: holding until killed");
    }
    loop {
        let timeout = deadline.map(|d| d.saturating_duration_since(Instant::now()));
        if timeout == Some(Duration::ZERO) {
            break;
        }
        if let Err(e) = poll.poll(&mut events, timeout) {
            if e.kind() != io::ErrorKind::Interrupted {
                return Err(format!("poll: {e}"));
            }
        }
        // Connection events are ignored: we only hold the sockets.
        if watching && events.iter().any(|ev| ev.token() == STDIN) && stdin_closed() {
            break;
        }
    }
    drop(conns);
    Ok(String::new())
}
