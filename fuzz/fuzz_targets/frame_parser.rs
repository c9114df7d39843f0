//! StreamParser (server role, small maxPayload) on fuzzer input.
//!
//! The first byte picks a mode:
//! - even: RAW. The rest is a few config bytes, fuzzer-chosen split points
//!   and arbitrary wire bytes. The bytes are parsed whole, in the fuzzer's
//!   chunks and (when short) one byte at a time. Invariants: no panic; every
//!   chunk fully consumed; events are complete (a message never exceeds
//!   maxPayload, a control payload never exceeds 125 bytes, close codes are
//!   sendable ones or 1005, text is valid UTF-8); nothing after a close or an
//!   error; every chunking yields the same events and the same close code;
//!   and a parser reset after the input reads it again as a new one does.
//! - odd: RE-ENCODE. The rest drives a generator of *valid* traffic (text and
//!   binary messages, fragmented or not, optionally compressed with the
//!   crate's Deflater, pings and pongs between fragments, an optional final
//!   close or over-limit message) encoded with `frame::encode_frame`, masked.
//!   The parser must reproduce exactly the generated messages and control
//!   frames, whatever the chunking.
#![no_main]

use libfuzzer_sys::arbitrary::{Result as ArbResult, Unstructured};
use libfuzzer_sys::fuzz_target;
use native_ws::proto::close::{encode_close, is_valid_code};
use native_ws::deflate::codec::{Deflater, Inflater};
use native_ws::proto::frame::{encode_frame, opcode, FrameSpec};
use native_ws::proto::parser::{Event, StreamParser, ParserConfig, Payload, Role};

/// An event with its payload resolved to bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Seen {
    Message {
        binary: bool,
        compressed: bool,
        data: Vec<u8>,
    },
    Ping(Vec<u8>),
    Pong(Vec<u8>),
    Close(u16, Vec<u8>),
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Outcome {
    events: Vec<Seen>,
    /// Close code of the protocol error that stopped the parser, if any.
    error: Option<u16>,
}

#[derive(Clone, Copy)]
struct Setup {
    max_payload: u64,
    /// `Some((window_bits, no_context_takeover))`: permessage-deflate negotiated.
    inflate: Option<(u8, bool)>,
}

fn resolve(chunk: &[u8], payload: Payload) -> Vec<u8> {
    match payload {
        Payload::InChunk { start, len } => {
            let end = start.checked_add(len).expect("InChunk range overflows");
            assert!(
                end <= chunk.len(),
                "InChunk range {start}+{len} outside a chunk of {}",
                chunk.len()
            );
            chunk[start..end].to_vec()
        }
        Payload::Owned(v) => v,
        Payload::Lent(v) => {
            assert!(v.len() as u64 <= native_ws::proto::parser::MAX_LENT, "lent buffer over MAX_LENT");
            v
        }
    }
}

/// Parses `wire` cut into pieces of the given lengths (the last piece takes the rest).
fn new_parser(setup: Setup) -> StreamParser {
    let mut parser = StreamParser::new(ParserConfig::new(Role::Server, setup.max_payload));
    if let Some((bits, nct)) = setup.inflate {
        parser.enable_inflate(Inflater::new(bits, nct).expect("window bits 8..=15"));
    }
    parser
}

fn run(setup: Setup, wire: &[u8], cuts: &[usize]) -> Outcome {
    run_with(new_parser(setup), setup, wire, cuts)
}

fn run_with(mut parser: StreamParser, setup: Setup, wire: &[u8], cuts: &[usize]) -> Outcome {
    let mut events = Vec::new();
    let mut error = None;
    let mut pos = 0;
    let mut cut_iter = cuts.iter();
    let mut stopped_at: Option<usize> = None;
    while pos < wire.len() {
        let len = cut_iter
            .next()
            .copied()
            .unwrap_or(wire.len() - pos)
            .clamp(1, wire.len() - pos);
        let mut chunk = wire[pos..pos + len].to_vec();
        pos += len;
        let mut out: Vec<Event> = Vec::new();
        let was_stopped = parser.is_stopped();
        let result = parser.parse(&mut chunk, &mut out);
        if was_stopped {
            assert!(out.is_empty(), "events after the parser stopped");
        }
        for event in out {
            assert!(stopped_at.is_none(), "event after a close frame: {event:?}");
            let seen = match event {
                Event::Message {
                    binary,
                    compressed,
                    data,
                } => {
                    assert!(
                        compressed == false || setup.inflate.is_some(),
                        "compressed message without inflate"
                    );
                    let data = resolve(&chunk, data);
                    assert!(
                        data.len() as u64 <= setup.max_payload,
                        "message of {} bytes over maxPayload {}",
                        data.len(),
                        setup.max_payload
                    );
                    if !binary {
                        assert!(
                            std::str::from_utf8(&data).is_ok(),
                            "text message is not UTF-8"
                        );
                    }
                    Seen::Message {
                        binary,
                        compressed,
                        data,
                    }
                }
                Event::Ping(d) => Seen::Ping(control(resolve(&chunk, d))),
                Event::Pong(d) => Seen::Pong(control(resolve(&chunk, d))),
                Event::Close { code, reason } => {
                    assert!(
                        code == 1005 || is_valid_code(code),
                        "close code {code} reported"
                    );
                    let reason = resolve(&chunk, reason);
                    assert!(
                        reason.len() <= 123,
                        "close reason of {} bytes",
                        reason.len()
                    );
                    assert!(
                        std::str::from_utf8(&reason).is_ok(),
                        "close reason is not UTF-8"
                    );
                    if code == 1005 {
                        assert!(reason.is_empty(), "1005 with a reason");
                    }
                    stopped_at = Some(events.len());
                    Seen::Close(code, reason)
                }
            };
            events.push(seen);
        }
        match result {
            Ok(progress) => assert_eq!(progress.consumed, chunk.len(), "a Vec sink never fills"),
            Err(e) => {
                assert!(
                    matches!(e.close_code(), 1002 | 1007 | 1009),
                    "unexpected close code {}",
                    e.close_code()
                );
                assert!(parser.is_stopped(), "parser goes on after an error");
                assert!(error.is_none(), "second error after the first");
                error = Some(e.close_code());
            }
        }
        if parser.is_stopped() {
            assert!(
                error.is_some() || stopped_at.is_some(),
                "stopped without close or error"
            );
            assert_eq!(
                parser.buffered_bytes(),
                0,
                "stopped parser still holds bytes"
            );
        }
        // A partial header is at most 13 bytes; a partial control payload at most 125.
        assert!(
            parser.buffered_bytes() as u64 <= setup.max_payload + 125 + 14,
            "buffer beyond the limits"
        );
    }
    Outcome { events, error }
}

fn control(data: Vec<u8>) -> Vec<u8> {
    assert!(data.len() <= 125, "control payload of {} bytes", data.len());
    data
}

/// Fuzzer-chosen piece lengths (1..=256 each).
fn cuts_from(u: &mut Unstructured) -> ArbResult<Vec<usize>> {
    let n: u8 = u.int_in_range(0..=12)?;
    (0..n)
        .map(|_| Ok(u.int_in_range(1..=256u16)? as usize))
        .collect()
}

fn setup_from(u: &mut Unstructured, allow_inflate: bool) -> ArbResult<Setup> {
    let max_payload = u.int_in_range(1..=2048u16)? as u64;
    let inflate = if allow_inflate && u.ratio(1, 3)? {
        Some((u.int_in_range(8..=15)?, u.arbitrary()?))
    } else {
        None
    };
    Ok(Setup {
        max_payload,
        inflate,
    })
}

/// Same events and same error whole, in the fuzzer's pieces and byte by byte.
fn check_chunkings(setup: Setup, wire: &[u8], cuts: &[usize]) -> Outcome {
    let whole = run(setup, wire, &[]);
    let pieces = run(setup, wire, cuts);
    assert_eq!(whole, pieces, "whole vs fuzzer-chosen chunks {cuts:?}");
    if wire.len() <= 1024 {
        let ones = vec![1; wire.len()];
        assert_eq!(
            whole,
            run(setup, wire, &ones),
            "whole vs one byte at a time"
        );
    }
    whole
}

fn raw(data: &[u8]) {
    let mut u = Unstructured::new(data);
    let Ok(setup) = setup_from(&mut u, true) else {
        return;
    };
    let Ok(cuts) = cuts_from(&mut u) else { return };
    let wire = u.take_rest();
    check_chunkings(setup, wire, &cuts);
    // A parser reset after any input (mid-message, stopped, failed) reads the
    // next stream as a new parser does; without the inflater, which reset
    // drops (lib/connection/receiver.js reuses released parsers this way).
    let mut used = new_parser(setup);
    let mut scratch = wire.to_vec();
    let _ = used.parse(&mut scratch, &mut Vec::<Event>::new());
    used.reset();
    assert_eq!(used.buffered_bytes(), 0, "a reset parser holds bytes");
    let plain = Setup { inflate: None, ..setup };
    assert_eq!(run_with(used, plain, wire, &cuts), run(plain, wire, &cuts), "reset parser vs new parser");
}

// ---------------------------------------------------------------------------
// RE-ENCODE
// ---------------------------------------------------------------------------

struct Generated {
    wire: Vec<u8>,
    expected: Outcome,
}

fn masked(
    u: &mut Unstructured,
    fin: bool,
    rsv1: bool,
    op: u8,
    payload: &[u8],
) -> ArbResult<Vec<u8>> {
    let key: [u8; 4] = u.arbitrary()?;
    Ok(encode_frame(
        FrameSpec {
            fin,
            rsv1,
            opcode: op,
            mask: Some(key),
        },
        payload,
    )
    .expect("valid frame spec"))
}

fn control_payload(u: &mut Unstructured) -> ArbResult<Vec<u8>> {
    let len = u.int_in_range(0..=125)?;
    Ok(u.bytes(len.min(u.len()))?.to_vec())
}

/// Valid UTF-8 of at most `max` bytes made from fuzzer bytes.
fn utf8_text(bytes: &[u8], max: usize) -> Vec<u8> {
    let s = String::from_utf8_lossy(bytes);
    let mut end = s.len().min(max);
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    s.as_bytes()[..end].to_vec()
}

fn generate(u: &mut Unstructured) -> ArbResult<(Setup, Generated)> {
    let setup = setup_from(u, true)?;
    let max = setup.max_payload as usize;
    let mut deflater = match setup.inflate {
        Some((bits, nct)) => Some(
            Deflater::new(u.int_in_range(0..=9)?, u.int_in_range(1..=9)?, bits, nct)
                .expect("valid deflate params"),
        ),
        None => None,
    };
    let mut wire = Vec::new();
    let mut events = Vec::new();
    let items: u8 = u.int_in_range(0..=8)?;
    for _ in 0..items {
        match u.int_in_range(0..=3u8)? {
            0 => {
                let p = control_payload(u)?;
                wire.extend(masked(u, true, false, opcode::PING, &p)?);
                events.push(Seen::Ping(p));
            }
            1 => {
                let p = control_payload(u)?;
                wire.extend(masked(u, true, false, opcode::PONG, &p)?);
                events.push(Seen::Pong(p));
            }
            _ => {
                let binary: bool = u.arbitrary()?;
                let len = u.int_in_range(0..=max.min(4096))?;
                let raw = u.bytes(len.min(u.len()))?;
                // Sometimes a long compressible message from a short input.
                let repeat = if u.ratio(1, 8)? {
                    u.int_in_range(1..=64usize)?
                } else {
                    1
                };
                let mut body: Vec<u8> = raw.repeat(repeat);
                body.truncate(max);
                let body = if binary { body } else { utf8_text(&body, max) };
                let compressed = deflater.is_some() && u.arbitrary()?;
                let on_wire = if compressed {
                    let mut out = Vec::new();
                    deflater
                        .as_mut()
                        .unwrap()
                        .compress_message(&body, &mut out)
                        .expect("deflate");
                    if out.len() > max {
                        // Incompressible data grew past maxPayload on the wire:
                        // maxPayload bounds wire bytes too, so this is a 1009.
                        push_fragmented(u, &mut wire, &mut events, binary, true, &out, false)?;
                        return Ok((
                            setup,
                            Generated {
                                wire,
                                expected: Outcome {
                                    events,
                                    error: Some(1009),
                                },
                            },
                        ));
                    }
                    out
                } else {
                    body.clone()
                };
                push_fragmented(
                    u,
                    &mut wire,
                    &mut events,
                    binary,
                    compressed,
                    &on_wire,
                    true,
                )?;
                events.push(Seen::Message {
                    binary,
                    compressed,
                    data: body,
                });
            }
        }
    }
    let mut error = None;
    match u.int_in_range(0..=3u8)? {
        0 => {}
        1 => {
            // A close frame, then bytes the parser must ignore.
            let (code, reason) = if u.ratio(1, 4)? {
                (None, Vec::new())
            } else {
                let code = *u.choose(&[
                    1000u16, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014,
                    3000, 4000, 4999,
                ])?;
                let len = u.int_in_range(0..=123)?;
                let bytes = u.bytes(len.min(u.len()))?;
                (Some(code), utf8_text(bytes, 123))
            };
            let payload = encode_close(code, &reason).expect("sendable close");
            wire.extend(masked(u, true, false, opcode::CLOSE, &payload)?);
            events.push(Seen::Close(code.unwrap_or(1005), reason));
            wire.extend_from_slice(u.bytes(u.len().min(64))?);
        }
        2 => {
            // One byte over maxPayload: 1009, and nothing of it delivered.
            let body = vec![b'x'; max + 1];
            let binary: bool = u.arbitrary()?;
            push_fragmented(u, &mut wire, &mut events, binary, false, &body, false)?;
            error = Some(1009);
        }
        _ => {
            // An unmasked frame: 1002.
            let p = control_payload(u)?;
            wire.extend(
                encode_frame(
                    FrameSpec {
                        fin: true,
                        rsv1: false,
                        opcode: opcode::PING,
                        mask: None,
                    },
                    &p,
                )
                .unwrap(),
            );
            error = Some(1002);
        }
    }
    Ok((
        setup,
        Generated {
            wire,
            expected: Outcome { events, error },
        },
    ))
}

/// Appends a data message as 1..=4 frames, with pings between them if `interleave`.
fn push_fragmented(
    u: &mut Unstructured,
    wire: &mut Vec<u8>,
    events: &mut Vec<Seen>,
    binary: bool,
    compressed: bool,
    payload: &[u8],
    interleave: bool,
) -> ArbResult<()> {
    let fragments: usize = u.int_in_range(1..=4)?;
    let mut rest = payload;
    for i in 0..fragments {
        let last = i + 1 == fragments;
        let take = if last {
            rest.len()
        } else {
            u.int_in_range(0..=rest.len())?
        };
        let (piece, tail) = rest.split_at(take);
        rest = tail;
        let op = if i == 0 {
            if binary {
                opcode::BINARY
            } else {
                opcode::TEXT
            }
        } else {
            opcode::CONTINUATION
        };
        wire.extend(masked(u, last, compressed && i == 0, op, piece)?);
        if interleave && !last && u.ratio(1, 3)? {
            let p = control_payload(u)?;
            wire.extend(masked(u, true, false, opcode::PING, &p)?);
            events.push(Seen::Ping(p));
        }
    }
    Ok(())
}

fn reencode(data: &[u8]) {
    let mut u = Unstructured::new(data);
    let Ok(cuts) = cuts_from(&mut u) else { return };
    let Ok((setup, generated)) = generate(&mut u) else {
        return;
    };
    let got = check_chunkings(setup, &generated.wire, &cuts);
    assert_eq!(
        got, generated.expected,
        "parser output differs from the encoded traffic"
    );
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    if mode & 1 == 0 {
        raw(rest);
    } else {
        reencode(rest);
    }
});
