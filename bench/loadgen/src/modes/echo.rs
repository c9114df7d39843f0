//! `echo` and `latency`: keep `depth` messages in flight on each connection and time round trips.

use std::collections::VecDeque;
use std::io::{self, Read, Write};
use std::time::{Duration, Instant};

use mio::net::TcpStream;
use mio::{Events, Poll};

use crate::args::Args;
use crate::conn::{self, Errors, Rng};
use crate::frames::{self, Feed, Parser};
use crate::stats::{self, Histogram};

/// Pre-built frames per connection are capped at this many bytes (at least one frame).
const CHUNK_BYTES: usize = 64 * 1024;
const READ_BUF: usize = 256 * 1024;

/// Per-run state the connections share.
struct Ctx {
    rbuf: Vec<u8>,
    base: Instant,
    measuring: bool,
    messages: u64,
    hist: Histogram,
}

impl Ctx {
    #[inline]
    fn now_ns(&self) -> u64 {
        self.base.elapsed().as_nanos() as u64
    }
}

struct Conn {
    stream: TcpStream,
    parser: Parser,
    /// Send times (ns since `Ctx::base`) of the messages in flight, oldest first.
    sent: VecDeque<u64>,
    /// Messages owed to the server but not yet handed to the socket.
    due: usize,
    /// Bytes accepted by us but not yet by the socket.
    pending: Vec<u8>,
    pending_pos: usize,
    /// `per_chunk` copies of this connection's masked frame, back to back.
    chunk: Vec<u8>,
    frame_len: usize,
    per_chunk: usize,
}

impl Conn {
    fn new(stream: TcpStream, frame: &[u8], depth: usize, size: usize) -> Conn {
        let per_chunk = (CHUNK_BYTES / frame.len()).clamp(1, depth);
        Conn {
            stream,
            parser: Parser::new(Some(size)),
            sent: VecDeque::with_capacity(depth),
            due: depth,
            pending: Vec::new(),
            pending_pos: 0,
            chunk: frame.repeat(per_chunk),
            frame_len: frame.len(),
            per_chunk,
        }
    }

    fn service(&mut self, readable: bool, ctx: &mut Ctx) -> Result<(), String> {
        if readable {
            self.read_all(ctx)?;
        }
        self.flush(ctx)
    }

    fn on_bytes(&mut self, n: usize, ctx: &mut Ctx) -> Result<(), String> {
        let mut feed = Feed::default();
        self.parser.feed(&ctx.rbuf[..n], &mut feed)?;
        if feed.close {
            return Err("server sent a close frame".into());
        }
        if feed.messages > 0 {
            if feed.messages > self.sent.len() {
                return Err("more echoes than messages sent".into());
            }
            if ctx.measuring {
                let now = ctx.now_ns();
                for t in self.sent.drain(..feed.messages) {
                    ctx.hist.record(now.saturating_sub(t));
                }
                ctx.messages += feed.messages as u64;
            } else {
                self.sent.drain(..feed.messages);
            }
            self.due += feed.messages;
        }
        Ok(())
    }

    fn read_all(&mut self, ctx: &mut Ctx) -> Result<(), String> {
        loop {
            match self.stream.read(&mut ctx.rbuf) {
                Ok(0) => return Err("server closed the connection".into()),
                Ok(n) => {
                    self.on_bytes(n, ctx)?;
                    // A short read drained the socket; the next edge will tell us about more.
                    if n < ctx.rbuf.len() {
                        return Ok(());
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(()),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(format!("read: {e}")),
            }
        }
    }

    /// Writes leftover bytes, then every due message, batching up to `per_chunk` per write.
    fn flush(&mut self, ctx: &mut Ctx) -> Result<(), String> {
        let mut now = None;
        loop {
            if self.pending_pos < self.pending.len() {
                match self.stream.write(&self.pending[self.pending_pos..]) {
                    Ok(0) => return Err("write returned 0".into()),
                    Ok(n) => {
                        self.pending_pos += n;
                        if self.pending_pos == self.pending.len() {
                            self.pending.clear();
                            self.pending_pos = 0;
                        }
                    }
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(()),
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    Err(e) => return Err(format!("write: {e}")),
                }
                continue;
            }
            if self.due == 0 {
                return Ok(());
            }
            let k = self.due.min(self.per_chunk);
            let t = *now.get_or_insert_with(|| ctx.now_ns());
            self.sent.extend(std::iter::repeat_n(t, k));
            self.due -= k;
            let bytes = &self.chunk[..k * self.frame_len];
            match self.stream.write(bytes) {
                Ok(n) if n == bytes.len() => {}
                Ok(n) => self.pending.extend_from_slice(&bytes[n..]),
                Err(e)
                    if e.kind() == io::ErrorKind::WouldBlock
                        || e.kind() == io::ErrorKind::Interrupted =>
                {
                    self.pending.extend_from_slice(bytes);
                    if e.kind() == io::ErrorKind::WouldBlock {
                        return Ok(());
                    }
                }
                Err(e) => return Err(format!("write: {e}")),
            }
        }
    }
}

pub fn run(args: &Args, mode_name: &str) -> Result<String, String> {
    let mut poll = Poll::new().map_err(|e| format!("epoll: {e}"))?;
    let mut events = Events::with_capacity(1024);
    let mut rng = Rng::seeded();
    let mut errors = Errors::default();

    let opened = conn::open_all(
        &mut poll,
        &mut events,
        &args.target,
        args.raw,
        args.connections,
        &mut rng,
        &mut errors,
    );

    let opcode = if args.text {
        frames::OP_TEXT
    } else {
        frames::OP_BINARY
    };
    let payload = frames::ascii_payload(args.size);
    let mut ctx = Ctx {
        rbuf: vec![0; READ_BUF],
        base: Instant::now(),
        measuring: false,
        messages: 0,
        hist: Histogram::default(),
    };

    let mut conns: Vec<Option<Conn>> = Vec::with_capacity(opened.len());
    let mut live = 0usize;
    for o in opened {
        conns.push(o.map(|o| {
            live += 1;
            let frame = frames::build_masked(opcode, &payload, rng.mask());
            let mut c = Conn::new(o.stream, &frame, args.depth, args.size);
            if !o.leftover.is_empty() {
                // Data the server sent right behind the 101 (unusual): parse it so framing stays in sync.
                let mut feed = Feed::default();
                if let Err(e) = c.parser.feed(&o.leftover, &mut feed) {
                    errors.add(e);
                }
            }
            c
        }));
    }

    let start = Instant::now();
    let warm_end = start + args.warmup;
    let end = warm_end + args.duration;

    // Kick off: an initial read picks up anything whose readiness edge fired during setup.
    for slot in conns.iter_mut() {
        if let Some(c) = slot {
            if let Err(e) = c.service(true, &mut ctx) {
                errors.add(e);
                *slot = None;
                live -= 1;
            }
        }
    }

    let mut now = Instant::now();
    while now < end && live > 0 {
        if !ctx.measuring && now >= warm_end {
            ctx.measuring = true;
        }
        let wake = if ctx.measuring { end } else { warm_end };
        let timeout = wake
            .saturating_duration_since(now)
            .max(Duration::from_micros(100));
        if let Err(e) = poll.poll(&mut events, Some(timeout)) {
            if e.kind() != io::ErrorKind::Interrupted {
                return Err(format!("poll: {e}"));
            }
        }
        for ev in events.iter() {
            let Some(slot) = conns.get_mut(ev.token().0) else {
                continue;
            };
            let Some(c) = slot else { continue };
            let readable = ev.is_readable() || ev.is_read_closed() || ev.is_error();
            if let Err(e) = c.service(readable, &mut ctx) {
                errors.add(e);
                *slot = None;
                live -= 1;
            }
        }
        now = Instant::now();
    }

    let measured_end = now.min(end);
    let seconds = measured_end
        .saturating_duration_since(warm_end)
        .as_secs_f64();
    let rate = if seconds > 0.0 {
        ctx.messages as f64 / seconds
    } else {
        0.0
    };
    Ok(format!(
        "{{\"mode\":\"{}\",\"connections\":{},\"depth\":{},\"size\":{},\"messages\":{},\"seconds\":{:.3},\"msgs_per_sec\":{:.1},\"p50_us\":{},\"p99_us\":{},\"errors\":{}}}",
        mode_name,
        args.connections,
        args.depth,
        args.size,
        ctx.messages,
        seconds,
        rate,
        stats::us(ctx.hist.quantile(0.50)),
        stats::us(ctx.hist.quantile(0.99)),
        errors.count
    ))
}
