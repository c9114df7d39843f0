//! `handshake`: `concurrency` loops of connect → upgrade → close(1000) → server close/EOF.

use std::io::{self, Read, Write};
use std::time::{Duration, Instant};

use mio::net::TcpStream;
use mio::{Events, Interest, Poll, Token};

use crate::args::Args;
use crate::conn::{Errors, Opening, Rng};
use crate::frames::{self, Feed, Parser};

/// After the server's close frame, how long we wait for its EOF before dropping the socket.
const LINGER: Duration = Duration::from_secs(2);
/// How long the server gets to answer our close frame.
const CLOSE_TIMEOUT: Duration = Duration::from_secs(10);
const SWEEP: Duration = Duration::from_millis(50);
/// After a failed attempt a slot waits this long, so a dead server is not hammered.
const BACKOFF: Duration = Duration::from_millis(10);

enum State {
    Opening(Opening),
    Closing {
        parser: Parser,
        out: Vec<u8>,
        out_pos: usize,
    },
}

struct Slot {
    stream: TcpStream,
    state: State,
    /// The server answered our close (close frame or EOF): this iteration counts.
    counted: bool,
    /// Deadline once closing (the opening deadline lives in `Opening`).
    deadline: Instant,
}

impl Slot {
    fn start(args: &Args, rng: &mut Rng, poll: &Poll, token: Token) -> Result<Slot, String> {
        let (mut stream, o) =
            Opening::start(&args.target, false, rng).map_err(|e| format!("connect: {e}"))?;
        poll.registry()
            .register(&mut stream, token, Interest::READABLE | Interest::WRITABLE)
            .map_err(|e| format!("register: {e}"))?;
        let deadline = o.deadline;
        Ok(Slot {
            stream,
            state: State::Opening(o),
            counted: false,
            deadline,
        })
    }

    /// `Ok(true)` when this iteration is over (the socket can be dropped).
    fn drive(&mut self, rng: &mut Rng) -> Result<bool, String> {
        if let State::Opening(o) = &mut self.state {
            let Some(leftover) = o.drive(&mut self.stream)? else {
                return Ok(false);
            };
            let mut parser = Parser::new(None);
            let mut feed = Feed::default();
            parser.feed(&leftover, &mut feed)?;
            self.counted = feed.close;
            self.deadline = Instant::now() + if feed.close { LINGER } else { CLOSE_TIMEOUT };
            self.state = State::Closing {
                parser,
                out: frames::close_frame(1000, rng.mask()),
                out_pos: 0,
            };
        }
        let State::Closing {
            parser,
            out,
            out_pos,
        } = &mut self.state
        else {
            return Ok(false);
        };
        while *out_pos < out.len() {
            match self.stream.write(&out[*out_pos..]) {
                Ok(0) => return Err("close: write returned 0".into()),
                Ok(n) => *out_pos += n,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(format!("close: write: {e}")),
            }
        }
        let mut buf = [0u8; 1024];
        loop {
            match self.stream.read(&mut buf) {
                Ok(0) => {
                    self.counted = true;
                    return Ok(true);
                }
                Ok(n) => {
                    let mut feed = Feed::default();
                    parser.feed(&buf[..n], &mut feed)?;
                    if feed.close && !self.counted {
                        self.counted = true;
                        self.deadline = Instant::now() + LINGER;
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(false),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(format!("close: read: {e}")),
            }
        }
    }

    fn deadline(&self) -> Instant {
        match &self.state {
            State::Opening(o) => o.deadline,
            State::Closing { .. } => self.deadline,
        }
    }
}

pub fn run(args: &Args) -> Result<String, String> {
    let mut poll = Poll::new().map_err(|e| format!("epoll: {e}"))?;
    let mut events = Events::with_capacity(1024);
    let mut rng = Rng::seeded();
    let mut errors = Errors::default();
    let mut handshakes: u64 = 0;

    let start = Instant::now();
    let end = start + args.duration;
    let mut slots: Vec<Option<Slot>> = (0..args.concurrency).map(|_| None).collect();
    let mut retry_at: Vec<Instant> = vec![start; args.concurrency];
    let mut now = start;
    let mut last_sweep = start;

    while now < end {
        // (Re)start idle slots.
        let mut next_retry = end;
        for (i, slot) in slots.iter_mut().enumerate() {
            if slot.is_none() {
                if retry_at[i] > now {
                    next_retry = next_retry.min(retry_at[i]);
                    continue;
                }
                match Slot::start(args, &mut rng, &poll, Token(i)) {
                    Ok(s) => *slot = Some(s),
                    Err(e) => {
                        errors.add(e);
                        retry_at[i] = now + BACKOFF;
                        next_retry = next_retry.min(retry_at[i]);
                    }
                }
            }
        }
        let timeout = next_retry.min(now + SWEEP).saturating_duration_since(now);
        if let Err(e) = poll.poll(&mut events, Some(timeout)) {
            if e.kind() != io::ErrorKind::Interrupted {
                return Err(format!("poll: {e}"));
            }
        }
        now = Instant::now();
        for ev in events.iter() {
            let Some(slot) = slots.get_mut(ev.token().0) else {
                continue;
            };
            let Some(s) = slot else { continue };
            let was_counted = s.counted;
            let outcome = s.drive(&mut rng);
            if s.counted && !was_counted && now < end {
                handshakes += 1;
            }
            match outcome {
                Ok(false) => {}
                Ok(true) => *slot = None,
                Err(e) => {
                    if !s.counted {
                        errors.add(e);
                        retry_at[ev.token().0] = now + BACKOFF;
                    }
                    *slot = None;
                }
            }
        }
        if now.duration_since(last_sweep) >= SWEEP {
            last_sweep = now;
            for slot in slots.iter_mut() {
                if matches!(slot, Some(s) if s.deadline() <= now) {
                    if let Some(s) = slot.take() {
                        if !s.counted {
                            errors.add("handshake loop timed out");
                        }
                    }
                }
            }
        }
    }

    let seconds = now.min(end).duration_since(start).as_secs_f64();
    let rate = if seconds > 0.0 {
        handshakes as f64 / seconds
    } else {
        0.0
    };
    Ok(format!(
        "{{\"mode\":\"handshake\",\"handshakes\":{},\"seconds\":{:.3},\"per_sec\":{:.1},\"errors\":{}}}",
        handshakes, seconds, rate, errors.count
    ))
}
