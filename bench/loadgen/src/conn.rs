//! Shared connection plumbing: connecting non-blocking sockets, driving them through the
//! handshake, error accounting, a small RNG and the fd limit.

use std::io;
use std::time::{Duration, Instant};

use mio::net::TcpStream;
use mio::{Events, Interest, Poll, Token};

use crate::args::Target;
use crate::handshake::ClientHandshake;

/// How long one connection may take to connect and upgrade.
pub const OPEN_TIMEOUT: Duration = Duration::from_secs(10);
/// Connections being opened at once (keeps the server's accept backlog from overflowing).
pub const MAX_OPENING: usize = 256;

/// splitmix64: plenty for handshake keys and masking keys.
pub struct Rng(u64);

impl Rng {
    pub fn seeded() -> Rng {
        let mut seed = [0u8; 8];
        // SAFETY: writes at most 8 bytes into `seed`.
        let got = unsafe { libc::getrandom(seed.as_mut_ptr().cast(), seed.len(), 0) };
        let mut s = u64::from_ne_bytes(seed);
        if got != 8 {
            let t = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap_or_default();
            s ^= t.as_nanos() as u64;
        }
        Rng(s ^ ((std::process::id() as u64) << 32))
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    pub fn fill(&mut self, buf: &mut [u8]) {
        for chunk in buf.chunks_mut(8) {
            let v = self.next_u64().to_ne_bytes();
            chunk.copy_from_slice(&v[..chunk.len()]);
        }
    }

    /// A random, nonzero masking key.
    pub fn mask(&mut self) -> [u8; 4] {
        loop {
            let m = self.next_u64() as u32;
            if m != 0 {
                return m.to_ne_bytes();
            }
        }
    }
}

/// Raises RLIMIT_NOFILE's soft limit to the hard limit.
pub fn raise_nofile() {
    // SAFETY: plain libc calls on a stack struct.
    unsafe {
        let mut r: libc::rlimit = std::mem::zeroed();
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut r) == 0 && r.rlim_cur < r.rlim_max {
            r.rlim_cur = r.rlim_max;
            if libc::setrlimit(libc::RLIMIT_NOFILE, &r) != 0 {
                eprintln!(
                    "loadgen: setrlimit(RLIMIT_NOFILE) failed: {}",
                    io::Error::last_os_error()
                );
            }
        }
    }
}

/// Counts errors; prints the first few to stderr so a failing run says why.
#[derive(Default)]
pub struct Errors {
    pub count: u64,
}

impl Errors {
    const PRINT: u64 = 5;

    pub fn add(&mut self, what: impl std::fmt::Display) {
        self.count += 1;
        if self.count <= Self::PRINT {
            eprintln!("loadgen: error: {what}");
        } else if self.count == Self::PRINT + 1 {
            eprintln!("loadgen: (further errors are counted, not printed)");
        }
    }
}

enum Stage {
    Connecting,
    Upgrading(ClientHandshake),
}

/// One connection on its way from `connect()` to an open WebSocket (or plain TCP with `--raw`).
pub struct Opening {
    stage: Stage,
    handshake: Option<ClientHandshake>,
    pub deadline: Instant,
}

impl Opening {
    /// Starts a non-blocking connect.
    pub fn start(target: &Target, raw: bool, rng: &mut Rng) -> io::Result<(TcpStream, Opening)> {
        let stream = TcpStream::connect(target.addr)?;
        let handshake = if raw {
            None
        } else {
            Some(ClientHandshake::new(target, rng))
        };
        Ok((
            stream,
            Opening {
                stage: Stage::Connecting,
                handshake,
                deadline: Instant::now() + OPEN_TIMEOUT,
            },
        ))
    }

    /// Call on every event for the socket. `Ok(Some(leftover))` once open.
    pub fn drive(&mut self, s: &mut TcpStream) -> Result<Option<Vec<u8>>, String> {
        if let Stage::Connecting = self.stage {
            if let Some(e) = s.take_error().map_err(|e| format!("connect: {e}"))? {
                return Err(format!("connect: {e}"));
            }
            match s.peer_addr() {
                Ok(_) => {}
                Err(e) if e.kind() == io::ErrorKind::NotConnected => return Ok(None),
                Err(e) => return Err(format!("connect: {e}")),
            }
            s.set_nodelay(true)
                .map_err(|e| format!("set_nodelay: {e}"))?;
            match self.handshake.take() {
                None => return Ok(Some(Vec::new())),
                Some(h) => self.stage = Stage::Upgrading(h),
            }
        }
        match &mut self.stage {
            Stage::Upgrading(h) => h.drive(s),
            Stage::Connecting => Ok(None),
        }
    }
}

pub struct Opened {
    pub stream: TcpStream,
    pub leftover: Vec<u8>,
}

/// Opens `n` connections, at most `MAX_OPENING` at a time. Connection `i` is registered with
/// `Token(i)` for reading and writing; failed ones are `None` and counted in `errors`.
pub fn open_all(
    poll: &mut Poll,
    events: &mut Events,
    target: &Target,
    raw: bool,
    n: usize,
    rng: &mut Rng,
    errors: &mut Errors,
) -> Vec<Option<Opened>> {
    let mut pending: Vec<Option<(TcpStream, Opening)>> = (0..n).map(|_| None).collect();
    let mut result: Vec<Option<Opened>> = (0..n).map(|_| None).collect();
    let (mut next, mut active, mut done) = (0usize, 0usize, 0usize);
    let mut last_sweep = Instant::now();

    while done < n {
        while active < MAX_OPENING && next < n {
            let i = next;
            next += 1;
            match Opening::start(target, raw, rng) {
                Ok((mut s, o)) => match poll.registry().register(
                    &mut s,
                    Token(i),
                    Interest::READABLE | Interest::WRITABLE,
                ) {
                    Ok(()) => {
                        pending[i] = Some((s, o));
                        active += 1;
                    }
                    Err(e) => {
                        errors.add(format!("register: {e}"));
                        done += 1;
                    }
                },
                Err(e) => {
                    errors.add(format!("connect: {e}"));
                    done += 1;
                }
            }
        }
        if done >= n {
            break;
        }
        if let Err(e) = poll.poll(events, Some(Duration::from_millis(100))) {
            if e.kind() != io::ErrorKind::Interrupted {
                errors.add(format!("poll: {e}"));
                break;
            }
        }
        for ev in events.iter() {
            let i = ev.token().0;
            let Some((s, o)) = pending.get_mut(i).and_then(Option::as_mut) else {
                continue;
            };
            let outcome = o.drive(s);
            match outcome {
                Ok(None) => continue,
                Ok(Some(leftover)) => {
                    if let Some((stream, _)) = pending[i].take() {
                        result[i] = Some(Opened { stream, leftover });
                    }
                }
                Err(e) => {
                    errors.add(e);
                    pending[i] = None;
                }
            }
            active -= 1;
            done += 1;
        }
        let now = Instant::now();
        if now.duration_since(last_sweep) >= Duration::from_millis(100) {
            last_sweep = now;
            for slot in pending.iter_mut() {
                if matches!(slot, Some((_, o)) if o.deadline <= now) {
                    *slot = None;
                    errors.add("timed out opening connection");
                    active -= 1;
                    done += 1;
                }
            }
        }
    }
    // Only reached with work left over if poll itself failed.
    for _ in done..n {
        errors.add("connection not opened (poll failed)");
    }
    result
}
