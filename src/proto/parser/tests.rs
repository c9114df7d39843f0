use super::*;
use crate::proto::error::code;
use crate::proto::frame::{encode_frame, FrameSpec};

const KEY: Option<[u8; 4]> = Some([0x11, 0x22, 0x33, 0x44]);

fn frame(fin: bool, op: u8, payload: &[u8]) -> Vec<u8> {
    raw_frame(fin, false, op, payload, KEY)
}

fn raw_frame(fin: bool, rsv1: bool, op: u8, payload: &[u8], mask: Option<[u8; 4]>) -> Vec<u8> {
    let mut spec = FrameSpec { fin: true, rsv1, opcode: op, mask };
    spec.fin = fin;
    // Bypass encode checks for control-frame rules: build by hand when needed.
    match encode_frame(spec, payload) {
        Ok(bytes) => bytes,
        Err(_) => {
            let mut header = [0u8; MAX_HEADER_LEN];
            let n = crate::proto::frame::write_header(&mut header, fin, rsv1, op, payload.len(), mask);
            let mut out = header[..n].to_vec();
            let start = out.len();
            out.extend_from_slice(payload);
            if let Some(k) = mask {
                apply_mask(&mut out[start..], k, 0);
            }
            out
        }
    }
}

/// Events with payloads resolved to bytes, for comparing.
#[derive(Debug, PartialEq, Eq)]
enum Seen {
    Text(Vec<u8>),
    Binary(Vec<u8>),
    Ping(Vec<u8>),
    Pong(Vec<u8>),
    Close(u16, Vec<u8>),
}

fn resolve(chunk: &[u8], data: Payload) -> Vec<u8> {
    match data {
        Payload::InChunk { start, len } => chunk[start..start + len].to_vec(),
        Payload::Owned(v) | Payload::Lent(v) => v,
    }
}

/// Collects events, lending buffers or not (the parser then grows a `Vec`).
struct TestSink {
    events: Vec<Event>,
    lend: bool,
}

impl EventSink for TestSink {
    type Lent = Vec<u8>;
    fn push(&mut self, event: Event) {
        self.events.push(event)
    }
    fn lend(&mut self, len: usize) -> Option<Vec<u8>> {
        self.lend.then(|| vec![0; len])
    }
}

/// Feeds `wire` in pieces of `step` bytes; returns what was seen and the error if any.
fn run(config: ParserConfig, wire: &[u8], step: usize) -> (Vec<Seen>, Option<Violation>) {
    run_with(config, wire, step, true)
}

fn run_with(config: ParserConfig, wire: &[u8], step: usize, lend: bool) -> (Vec<Seen>, Option<Violation>) {
    let mut parser = StreamParser::new(config);
    let mut seen = Vec::new();
    for piece in wire.chunks(step.max(1)) {
        let mut chunk = piece.to_vec();
        let mut sink = TestSink { events: Vec::new(), lend };
        let result = parser.parse(&mut chunk, &mut sink);
        for e in sink.events {
            seen.push(match e {
                Event::Message { binary: false, data, .. } => Seen::Text(resolve(&chunk, data)),
                Event::Message { binary: true, data, .. } => Seen::Binary(resolve(&chunk, data)),
                Event::Ping(d) => Seen::Ping(resolve(&chunk, d)),
                Event::Pong(d) => Seen::Pong(resolve(&chunk, d)),
                Event::Close { code, reason } => Seen::Close(code, resolve(&chunk, reason)),
            });
        }
        if let Err(e) = result {
            return (seen, Some(e));
        }
    }
    (seen, None)
}

fn server() -> ParserConfig {
    ParserConfig::new(Role::Server, 100 * 1024 * 1024)
}

/// Runs at every chunking from 1 byte to whole and checks each gives the same result.
fn run_all_splits(wire: &[u8]) -> (Vec<Seen>, Option<Violation>) {
    let whole = run(server(), wire, wire.len());
    for step in [1, 2, 3, 5, 7, 13, 64] {
        assert_eq!(run(server(), wire, step), whole, "step {step}");
        assert_eq!(run_with(server(), wire, step, false), whole, "step {step}, nothing lent");
    }
    whole
}

#[test]
fn many_frames_in_one_chunk_and_any_split() {
    let mut wire = Vec::new();
    wire.extend(frame(true, opcode::TEXT, "孩子,地球太危险了".as_bytes()));
    wire.extend(frame(true, opcode::BINARY, &[0, 1, 2, 255]));
    wire.extend(frame(true, opcode::PING, b"hb"));
    wire.extend(frame(true, opcode::BINARY, &vec![7u8; 70_000]));
    wire.extend(frame(true, opcode::TEXT, b""));
    let (seen, err) = run_all_splits(&wire);
    assert_eq!(err, None);
    assert_eq!(
        seen,
        vec![
            Seen::Text("孩子,地球太危险了".as_bytes().to_vec()),
            Seen::Binary(vec![0, 1, 2, 255]),
            Seen::Ping(b"hb".to_vec()),
            Seen::Binary(vec![7u8; 70_000]),
            Seen::Text(vec![]),
        ]
    );
}

#[test]
fn in_chunk_payloads_are_borrowed_not_copied() {
    let mut chunk = frame(true, opcode::BINARY, b"abc");
    let mut events = Vec::new();
    StreamParser::new(server()).parse(&mut chunk, &mut events).unwrap();
    assert_eq!(events, vec![Event::Message { binary: true, compressed: false, data: Payload::InChunk { start: 6, len: 3 } }]);
    assert_eq!(&chunk[6..9], b"abc");
}

#[test]
fn fragmented_message_with_ping_between_fragments() {
    let mut wire = Vec::new();
    wire.extend(frame(false, opcode::TEXT, b"Hel"));
    wire.extend(frame(true, opcode::PING, b"p"));
    wire.extend(frame(false, opcode::CONTINUATION, b"lo, "));
    wire.extend(frame(true, opcode::CONTINUATION, "wörld".as_bytes()));
    let (seen, err) = run_all_splits(&wire);
    assert_eq!(err, None);
    assert_eq!(seen, vec![Seen::Ping(b"p".to_vec()), Seen::Text("Hello, wörld".as_bytes().to_vec())]);
}

#[test]
fn close_frame_stops_the_parser() {
    let reason = "孩子,地球太危险了,快回火星去吧!";
    let mut payload = 1000u16.to_be_bytes().to_vec();
    payload.extend_from_slice(reason.as_bytes());
    let mut wire = frame(true, opcode::CLOSE, &payload);
    wire.extend(frame(true, opcode::TEXT, b"after close"));
    let (seen, err) = run_all_splits(&wire);
    assert_eq!(err, None);
    assert_eq!(seen, vec![Seen::Close(1000, reason.as_bytes().to_vec())]);
    let (seen, _) = run_all_splits(&frame(true, opcode::CLOSE, b""));
    assert_eq!(seen, vec![Seen::Close(1005, vec![])]);
}

fn expect_error(wire: &[u8], code: u16) {
    let (_, err) = run_all_splits(wire);
    assert_eq!(err.map(|e| e.close_code()), Some(code), "wire {:02x?}", &wire[..wire.len().min(16)]);
}

#[test]
fn receive_rules() {
    // Unmasked client frame.
    expect_error(&raw_frame(true, false, opcode::TEXT, b"hi", None), 1002);
    // RSV bits without an extension.
    expect_error(&raw_frame(true, true, opcode::TEXT, b"hi", KEY), 1002);
    let mut rsv2 = frame(true, opcode::TEXT, b"hi");
    rsv2[0] |= 0x20;
    expect_error(&rsv2, 1002);
    let mut rsv3 = frame(true, opcode::TEXT, b"hi");
    rsv3[0] |= 0x10;
    expect_error(&rsv3, 1002);
    // Reserved opcodes.
    for op in [3, 4, 5, 6, 7, 11, 12, 13, 14, 15] {
        expect_error(&frame(true, op, b""), 1002);
    }
    // Control frames: too long, fragmented.
    expect_error(&raw_frame(true, false, opcode::PING, &[0; 126], KEY), 1002);
    expect_error(&raw_frame(false, false, opcode::PING, b"", KEY), 1002);
    // Continuation with nothing in progress; new message during one.
    expect_error(&frame(true, opcode::CONTINUATION, b"x"), 1002);
    let mut wire = frame(false, opcode::TEXT, b"a");
    wire.extend(frame(true, opcode::BINARY, b"b"));
    expect_error(&wire, 1002);
    // Invalid UTF-8, whole and fragmented.
    expect_error(&frame(true, opcode::TEXT, &[0xce, 0xba, 0xff]), 1007);
    let mut wire = frame(false, opcode::TEXT, &[0xce]);
    wire.extend(frame(true, opcode::CONTINUATION, &[0x41]));
    expect_error(&wire, 1007);
    // Truncated code point at message end.
    let mut wire = frame(false, opcode::TEXT, b"ok");
    wire.extend(frame(true, opcode::CONTINUATION, &[0xe2, 0x82]));
    expect_error(&wire, 1007);
    // Close payloads.
    expect_error(&frame(true, opcode::CLOSE, &[0x03]), 1002);
    expect_error(&frame(true, opcode::CLOSE, &1005u16.to_be_bytes()), 1002);
    expect_error(&frame(true, opcode::CLOSE, &[0x03, 0xe8, 0xff]), 1007);
}

#[test]
fn invalid_utf8_fails_before_the_rest_of_the_frame_arrives() {
    let mut payload = b"valid start ".to_vec();
    payload.push(0xff);
    payload.extend_from_slice(&[b'a'; 1000]);
    let wire = frame(true, opcode::TEXT, &payload);
    // Only the header and the first 20 payload bytes arrive.
    let (_, err) = run(server(), &wire[..8 + 20], 4);
    assert_eq!(err.map(|e| e.close_code()), Some(1007));
}

#[test]
fn max_payload_is_enforced_before_buffering() {
    let config = ParserConfig { max_payload: 100, ..server() };
    // A header announcing 101 bytes fails at once, with no payload sent.
    let wire = frame(true, opcode::BINARY, &[0; 101]);
    let (_, err) = run(config, &wire[..8], 8);
    assert_eq!(err.map(|e| e.close_code()), Some(1009));
    // Many small fragments adding up past the limit.
    let mut wire = Vec::new();
    wire.extend(frame(false, opcode::BINARY, &[0; 60]));
    wire.extend(frame(true, opcode::CONTINUATION, &[0; 60]));
    let (_, err) = run(config, &wire, 1000);
    assert_eq!(err.map(|e| e.close_code()), Some(1009));
    // Exactly at the limit passes.
    let (seen, err) = run(config, &frame(true, opcode::BINARY, &[0; 100]), 1000);
    assert_eq!((seen.len(), err), (1, None));
}

#[test]
fn client_role_rejects_masked_frames() {
    let config = ParserConfig { role: Role::Client, ..server() };
    let (seen, err) = run(config, &raw_frame(true, false, opcode::TEXT, b"hi", None), 100);
    assert_eq!((seen, err), (vec![Seen::Text(b"hi".to_vec())], None));
    let (_, err) = run(config, &frame(true, opcode::TEXT, b"hi"), 100);
    assert_eq!(err.map(|e| e.close_code()), Some(1002));
}

#[test]
fn nothing_after_an_error_is_processed() {
    let mut wire = raw_frame(true, false, opcode::TEXT, b"bad", None);
    wire.extend(frame(true, opcode::TEXT, b"later"));
    let mut parser = StreamParser::new(server());
    let mut events = Vec::new();
    assert!(parser.parse(&mut wire.clone(), &mut events).is_err());
    assert!(parser.is_stopped());
    assert!(parser.parse(&mut frame(true, opcode::TEXT, b"x"), &mut events).is_ok());
    assert!(events.is_empty());
}

#[test]
fn a_wrong_frame_start_fails_before_its_extended_length_and_key_arrive() {
    // Two bytes each: the rest of the header (extended length, masking key) never comes.
    let text_start = frame(false, opcode::TEXT, b"a");
    let cases: [(&str, &[u8], Vec<u8>); 7] = [
        ("reserved opcode", &[], vec![0x83, 0xff]),
        ("unmasked client frame", &[], vec![0x82, 0x7f]),
        ("RSV2", &[], vec![0xa2, 0xfe]),
        ("RSV1 without an extension", &[], vec![0xc2, 0xfe]),
        ("ping announcing an extended length", &[], vec![0x89, 0xfe]),
        ("continuation without a message", &[], vec![0x80, 0xff]),
        ("text frame inside a fragmented message", &text_start, vec![0x81, 0xfe]),
    ];
    for (what, before, lead) in cases {
        for split in [false, true] {
            let mut parser = StreamParser::new(server());
            let mut events = Vec::new();
            parser.parse(&mut before.to_vec(), &mut events).expect(what);
            let result = if split {
                // One byte per call: the check happens once the second byte is stashed.
                parser.parse(&mut lead[..1].to_vec(), &mut events).expect(what);
                parser.parse(&mut lead[1..].to_vec(), &mut events)
            } else {
                parser.parse(&mut lead.clone(), &mut events)
            };
            let err = result.expect_err(what);
            assert_eq!(err.close_code(), code::PROTOCOL_ERROR, "{what}");
            assert!(parser.is_stopped(), "{what}");
        }
    }
}

#[test]
fn each_rule_has_its_own_violation() {
    let mut rsv2 = frame(true, opcode::TEXT, b"hi");
    rsv2[0] |= 0x20;
    let mut interleaved = frame(false, opcode::TEXT, b"a");
    interleaved.extend(frame(true, opcode::BINARY, b"b"));
    let cases: Vec<(Vec<u8>, Violation)> = vec![
        (raw_frame(true, false, opcode::TEXT, b"hi", None), Violation::ExpectedMask),
        (raw_frame(true, true, opcode::TEXT, b"hi", KEY), Violation::UnexpectedRsv1),
        (rsv2, Violation::UnexpectedRsv23),
        (frame(true, 5, b""), Violation::InvalidOpcode(5)),
        (frame(true, opcode::CONTINUATION, b"x"), Violation::InvalidOpcode(0)),
        (interleaved, Violation::InvalidOpcode(2)),
        (raw_frame(false, false, opcode::PING, b"", KEY), Violation::ExpectedFin),
        (raw_frame(true, false, opcode::PING, &[0; 126], KEY), Violation::InvalidControlPayloadLength(126)),
        (frame(true, opcode::CLOSE, &[0x03]), Violation::InvalidControlPayloadLength(1)),
        (frame(true, opcode::CLOSE, &1005u16.to_be_bytes()), Violation::InvalidCloseCode(1005)),
        (frame(true, opcode::CLOSE, &[0x03, 0xe8, 0xff]), Violation::InvalidUtf8),
        (frame(true, opcode::TEXT, &[0xce, 0xba, 0xff]), Violation::InvalidUtf8),
    ];
    for (wire, expected) in cases {
        assert_eq!(run_all_splits(&wire).1, Some(expected), "wire {:02x?}", &wire[..wire.len().min(16)]);
    }
    let client = ParserConfig::new(Role::Client, 0);
    assert_eq!(run(client, &frame(true, opcode::TEXT, b"hi"), 100).1, Some(Violation::UnexpectedMask));
    let small = ParserConfig::new(Role::Server, 10);
    assert_eq!(run(small, &frame(true, opcode::BINARY, &[0; 11]), 100).1, Some(Violation::MessageTooBig));
}

#[test]
fn the_same_error_at_every_chunking_when_a_frame_breaks_several_rules() {
    // A ping with a 16-bit length saying 5 (not the minimal encoding), and a
    // reserved opcode with a 64-bit length whose top bit is set: one error,
    // the same whole and split anywhere.
    let mut ping = vec![0x89, 0xfe, 0x00, 0x05, 1, 2, 3, 4];
    ping.extend([0u8; 5]);
    let mut reserved = vec![0x83, 0xff, 0x80, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3, 4];
    reserved.extend([0u8; 4]);
    for (wire, expected) in [(ping, Violation::InvalidControlPayloadLength(126)), (reserved, Violation::InvalidOpcode(3))] {
        let (_, err) = run_all_splits(&wire);
        assert_eq!(err, Some(expected));
    }
}

#[test]
fn the_start_of_a_valid_frame_waits_for_the_rest_of_its_header() {
    for lead in [[0x82u8, 0xfe], [0x82, 0xff], [0x89, 0xfd], [0x02, 0x85]] {
        let mut parser = StreamParser::new(server());
        let mut events = Vec::new();
        let progress = parser.parse(&mut lead.to_vec(), &mut events).expect("a valid start");
        assert_eq!(progress.consumed, 2);
        assert!(events.is_empty() && !parser.is_stopped());
    }
}

/// A sink that holds one event at a time stops the parser at frame boundaries.
struct OneAtATime(Vec<Event>);
impl EventSink for OneAtATime {
    type Lent = Vec<u8>;
    fn push(&mut self, event: Event) {
        self.0.push(event)
    }
    fn lend(&mut self, _len: usize) -> Option<Vec<u8>> {
        None
    }
    fn is_full(&self) -> bool {
        !self.0.is_empty()
    }
}

#[test]
fn bounded_sink_resumes_where_it_stopped() {
    let mut wire = Vec::new();
    for i in 0..5u8 {
        wire.extend(frame(true, opcode::BINARY, &[i]));
    }
    let mut parser = StreamParser::new(server());
    let mut pos = 0;
    let mut got = Vec::new();
    while pos < wire.len() {
        let mut sink = OneAtATime(Vec::new());
        let progress = parser.parse(&mut wire[pos..], &mut sink).unwrap();
        assert_eq!(sink.0.len(), 1);
        if let Event::Message { data: Payload::InChunk { start, .. }, .. } = &sink.0[0] {
            got.push(wire[pos + start]);
        }
        pos += progress.consumed;
    }
    assert_eq!(got, vec![0, 1, 2, 3, 4]);
}

mod compressed {
    use super::*;
    use crate::deflate::codec::{Deflater, Inflater};

    fn deflate_parser(max_payload: u64) -> StreamParser {
        let mut parser = StreamParser::new(ParserConfig { max_payload, ..server() });
        parser.enable_inflate(Inflater::new(15, false).unwrap());
        parser
    }

    #[test]
    fn reset_drops_what_the_parser_held_and_keeps_its_limits() {
        let mut parser = deflate_parser(100);
        // A message in progress: its first fragment is held.
        let (seen, err) = feed(&mut parser, &raw_frame(false, false, opcode::TEXT, b"half", KEY), 1000);
        assert_eq!((seen.len(), err), (0, None));
        assert!(parser.buffered_bytes() > 0);
        parser.reset();
        assert_eq!(parser.buffered_bytes(), 0);
        // The inflater is gone: RSV1 is refused, as by a parser never offered deflate.
        let (_, err) = feed(&mut parser, &raw_frame(true, true, opcode::TEXT, b"hi", KEY), 1000);
        assert_eq!(err, Some(Violation::UnexpectedRsv1));
        // The limits stay: 101 bytes is over this parser's maxPayload of 100.
        parser.reset();
        let (_, err) = feed(&mut parser, &raw_frame(true, false, opcode::BINARY, &[0; 101], KEY), 1000);
        assert_eq!(err.map(|e| e.close_code()), Some(1009));
        // Stopped by a close frame, then reset: it reads a new stream from its start.
        parser.reset();
        let (_, err) = feed(&mut parser, &raw_frame(true, false, opcode::CLOSE, &[3, 232], KEY), 1000);
        assert_eq!(err, None);
        assert!(parser.is_stopped());
        parser.reset();
        assert!(!parser.is_stopped());
        let (seen, err) = feed(&mut parser, &raw_frame(true, false, opcode::TEXT, b"again", KEY), 1);
        assert_eq!((seen, err), (vec![Seen::Text(b"again".to_vec())], None));
    }

    fn compress(data: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        Deflater::new(6, 8, 15, false).unwrap().compress_message(data, &mut out).unwrap();
        out
    }

    fn feed(parser: &mut StreamParser, wire: &[u8], step: usize) -> (Vec<Seen>, Option<Violation>) {
        let mut seen = Vec::new();
        for piece in wire.chunks(step.max(1)) {
            let mut chunk = piece.to_vec();
            let mut events: Vec<Event> = Vec::new();
            let result = parser.parse(&mut chunk, &mut events);
            for e in events {
                if let Event::Message { binary, data, .. } = e {
                    let bytes = resolve(&chunk, data);
                    seen.push(if binary { Seen::Binary(bytes) } else { Seen::Text(bytes) });
                }
            }
            if let Err(e) = result {
                return (seen, Some(e));
            }
        }
        (seen, None)
    }

    #[test]
    fn inflates_whole_and_split_and_fragmented_messages() {
        let text = "{\"msg\":\"孩子,地球太危险了\"}".repeat(50);
        let packed = compress(text.as_bytes());
        let whole = raw_frame(true, true, opcode::TEXT, &packed, KEY);
        let half = packed.len() / 2;
        let mut fragmented = raw_frame(false, true, opcode::TEXT, &packed[..half], KEY);
        fragmented.extend(frame(true, opcode::PING, b"p"));
        fragmented.extend(raw_frame(true, false, opcode::CONTINUATION, &packed[half..], KEY));
        for wire in [&whole, &fragmented] {
            for step in [wire.len(), 1, 7, 100] {
                let (seen, err) = feed(&mut deflate_parser(0), wire, step);
                assert_eq!(err, None, "step {step}");
                assert_eq!(seen, vec![Seen::Text(text.as_bytes().to_vec())], "step {step}");
            }
        }
    }

    #[test]
    fn max_payload_bounds_the_inflated_size() {
        let zeros = vec![0u8; 1 << 20];
        let packed = compress(&zeros);
        assert!(packed.len() < 4096);
        let wire = raw_frame(true, true, opcode::BINARY, &packed, KEY);
        let (seen, err) = feed(&mut deflate_parser(64 * 1024), &wire, wire.len());
        assert!(seen.is_empty());
        assert_eq!(err.map(|e| e.close_code()), Some(1009));
        let (seen, err) = feed(&mut deflate_parser(1 << 20), &wire, 1000);
        assert_eq!((seen.len(), err), (1, None));
    }

    #[test]
    fn invalid_utf8_before_the_limit_wins_over_the_limit_at_any_chunking() {
        // Inflates to invalid UTF-8 at byte 10, then far past maxPayload.
        let mut text = vec![b'a'; 100_000];
        text[10] = 0xff;
        let packed = compress(&text);
        let wire = raw_frame(true, true, opcode::TEXT, &packed, KEY);
        for step in [wire.len(), 1, 3, 50] {
            let (seen, err) = feed(&mut deflate_parser(1000), &wire, step);
            assert!(seen.is_empty());
            assert_eq!(err.map(|e| e.close_code()), Some(1007), "step {step}");
        }
        // Valid text past the limit is still 1009.
        let packed = compress(&vec![b'a'; 100_000]);
        let wire = raw_frame(true, true, opcode::TEXT, &packed, KEY);
        for step in [wire.len(), 1, 3, 50] {
            let (_, err) = feed(&mut deflate_parser(1000), &wire, step);
            assert_eq!(err.map(|e| e.close_code()), Some(1009), "step {step}");
        }
    }

    #[test]
    fn corrupt_data_and_bad_rsv1_use() {
        // Block type 3 is reserved: corrupt deflate data.
        let (_, err) = feed(&mut deflate_parser(0), &raw_frame(true, true, opcode::BINARY, &[0xff, 0xff], KEY), 100);
        assert_eq!(err.map(|e| e.close_code()), Some(1007));
        let mut rsv1_continuation = raw_frame(false, false, opcode::TEXT, b"a", KEY);
        rsv1_continuation.extend(raw_frame(true, true, opcode::CONTINUATION, b"b", KEY));
        let (_, err) = feed(&mut deflate_parser(0), &rsv1_continuation, 100);
        assert_eq!(err.map(|e| e.close_code()), Some(1002));
        let (_, err) = feed(&mut deflate_parser(0), &raw_frame(true, true, opcode::PING, b"", KEY), 100);
        assert_eq!(err.map(|e| e.close_code()), Some(1002));
    }

    #[test]
    fn inflated_text_must_be_utf8() {
        let packed = compress(&[b'a', 0xff, b'b']);
        let (_, err) = feed(&mut deflate_parser(0), &raw_frame(true, true, opcode::TEXT, &packed, KEY), 100);
        assert_eq!(err.map(|e| e.close_code()), Some(1007));
    }

    #[test]
    fn context_takeover_across_messages() {
        let mut deflater = Deflater::new(6, 8, 15, false).unwrap();
        let mut parser = deflate_parser(0);
        let message = b"the same sentence, again and again".repeat(4);
        let mut sizes = Vec::new();
        for _ in 0..3 {
            let mut packed = Vec::new();
            deflater.compress_message(&message, &mut packed).unwrap();
            sizes.push(packed.len());
            let (seen, err) = feed(&mut parser, &raw_frame(true, true, opcode::BINARY, &packed, KEY), 5);
            assert_eq!((seen, err), (vec![Seen::Binary(message.clone())], None));
        }
        assert!(sizes[1] < sizes[0], "{sizes:?}");
    }
}

mod lending {
    use super::*;

    /// Feeds `wire` in two pieces split at `at`; returns the events of each call.
    fn two_calls(parser: &mut StreamParser, wire: &[u8], at: usize) -> (Vec<Event>, Vec<Event>) {
        let (mut first, mut second) = (wire[..at].to_vec(), wire[at..].to_vec());
        let (mut a, mut b) = (Vec::new(), Vec::new());
        parser.parse(&mut first, &mut a).unwrap();
        parser.parse(&mut second, &mut b).unwrap();
        (a, b)
    }

    #[test]
    fn a_single_frame_spanning_chunks_fills_a_lent_buffer() {
        let payload: Vec<u8> = (0..5000u32).map(|i| (i * 7) as u8).collect();
        let wire = frame(true, opcode::BINARY, &payload);
        let mut parser = StreamParser::new(server());
        let mut first = wire[..1000].to_vec();
        let mut events = Vec::new();
        parser.parse(&mut first, &mut events).unwrap();
        assert!(events.is_empty());
        assert_eq!(parser.buffered_bytes(), 1000 - 8, "the lent buffer's filled part is held (8-byte header)");
        let mut rest = wire[1000..].to_vec();
        parser.parse(&mut rest, &mut events).unwrap();
        assert_eq!(events, vec![Event::Message { binary: true, compressed: false, data: Payload::Lent(payload) }]);
        assert_eq!(parser.buffered_bytes(), 0);
    }

    #[test]
    fn fragmented_and_oversized_messages_are_not_lent() {
        let mut wire = frame(false, opcode::TEXT, b"frag");
        wire.extend(frame(true, opcode::CONTINUATION, b"ment"));
        let (_, events) = two_calls(&mut StreamParser::new(server()), &wire, 5);
        assert_eq!(events, vec![Event::Message { binary: false, compressed: false, data: Payload::Owned(b"fragment".to_vec()) }]);

        let big = vec![3u8; MAX_LENT as usize + 1];
        let wire = frame(true, opcode::BINARY, &big);
        let (_, events) = two_calls(&mut StreamParser::new(server()), &wire, 100);
        assert_eq!(events, vec![Event::Message { binary: true, compressed: false, data: Payload::Owned(big) }]);
    }

    #[test]
    fn invalid_utf8_in_a_lent_text_fails_before_the_frame_ends() {
        let mut payload = vec![b'a'; 3000];
        payload[10] = 0xff;
        let wire = frame(true, opcode::TEXT, &payload);
        let mut parser = StreamParser::new(server());
        let mut first = wire[..100].to_vec();
        let err = parser.parse(&mut first, &mut Vec::new()).unwrap_err();
        assert_eq!(err.close_code(), code::INVALID_PAYLOAD);
        assert_eq!(parser.buffered_bytes(), 0, "the lent buffer is dropped on the error");
    }

    /// A sink that lends a buffer of the wrong size (a bug in a binding) makes
    /// the parser fail with 1011 instead of writing out of bounds.
    struct ShortLender(Vec<Event>);
    impl EventSink for ShortLender {
        type Lent = Vec<u8>;
        fn push(&mut self, event: Event) {
            self.0.push(event)
        }
        fn lend(&mut self, len: usize) -> Option<Vec<u8>> {
            Some(vec![0; len / 2])
        }
    }

    #[test]
    fn a_short_lent_buffer_is_an_internal_error_not_a_panic() {
        let wire = frame(true, opcode::BINARY, &[1u8; 400]);
        let mut parser = StreamParser::new(server());
        let mut first = wire[..50].to_vec();
        parser.parse(&mut first, &mut ShortLender(Vec::new())).unwrap();
        let mut rest = wire[50..].to_vec();
        let err = parser.parse(&mut rest, &mut ShortLender(Vec::new())).unwrap_err();
        assert_eq!(err.close_code(), code::INTERNAL_ERROR);
    }
}

#[test]
fn receiver_options_skip_utf8_max_fragments_max_buffered_chunks() {
    // skipUTF8Validation: invalid text and close reasons pass through.
    let bad_text = frame(true, opcode::TEXT, &[0xce, 0xba, 0xff]);
    let bad_close = frame(true, opcode::CLOSE, &[0x03, 0xe8, 0xff]);
    let skip = ParserConfig { skip_utf8: true, ..server() };
    for wire in [&bad_text, &bad_close] {
        assert_eq!(run(server(), wire, 1).1, Some(Violation::InvalidUtf8));
        for step in [1, 2, 100] {
            let (seen, violation) = run(skip, wire, step);
            assert_eq!((seen.len(), violation), (1, None), "step {step}");
        }
    }
    // maxFragments: a message in 3 frames passes at 3 and fails at 2.
    let mut three = frame(false, opcode::TEXT, b"a");
    three.extend(frame(false, opcode::CONTINUATION, b"b"));
    three.extend(frame(true, opcode::CONTINUATION, b"c"));
    for step in [1, 3, 100] {
        assert_eq!(run(ParserConfig { max_fragments: 3, ..server() }, &three, step).1, None);
        assert_eq!(run(ParserConfig { max_fragments: 2, ..server() }, &three, step).1, Some(Violation::TooManyFragments));
    }
    // maxBufferedChunks: a 10-byte frame (16 on the wire) in 1-byte chunks
    // spans 16 chunks: allowed at 16, refused at 15; whole frames in a chunk never count.
    let ten = frame(true, opcode::BINARY, &[7; 10]);
    assert_eq!(ten.len(), 16);
    assert_eq!(run(ParserConfig { max_buffered_chunks: 16, ..server() }, &ten, 1).1, None);
    assert_eq!(run(ParserConfig { max_buffered_chunks: 15, ..server() }, &ten, 1).1, Some(Violation::TooManyBufferedChunks));
    let mut many = Vec::new();
    for _ in 0..50 {
        many.extend(frame(true, opcode::BINARY, &[1; 3]));
    }
    assert_eq!(run(ParserConfig { max_buffered_chunks: 1, ..server() }, &many, 9).1, None);
}
