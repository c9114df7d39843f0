use super::*;

const LOREM: &str = "Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor \
                     incididunt ut labore et dolore magna aliqua. Ut enim ad minim veniam, quis nostrud \
                     exercitation ullamco laboris nisi ut aliquip ex ea commodo consequat. ";

/// Deterministic pseudo-random bytes (xorshift), compressible when `alphabet` is small.
fn noise(len: usize, seed: u64, alphabet: u8) -> Vec<u8> {
    let mut x = seed | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            b'a'.wrapping_add((x % u64::from(alphabet)) as u8)
        })
        .collect()
}

/// A JSON-ish message: repetitive structure, varying values.
fn json_message(i: usize) -> Vec<u8> {
    let mut s = String::from("[");
    for j in 0..40 {
        s.push_str(&format!(
            "{{\"id\":{},\"user\":\"user{}\",\"score\":{},\"tags\":[\"alpha\",\"beta\"],\"ok\":{}}},",
            i * 100 + j,
            (i * 7 + j) % 13,
            (i * 31 + j * 17) % 1000,
            j % 2 == 0
        ));
    }
    s.push(']');
    s.into_bytes()
}

fn deflater(window_bits: u8, no_context_takeover: bool) -> Deflater {
    Deflater::new(6, 8, window_bits, no_context_takeover).unwrap()
}

fn compress(d: &mut Deflater, data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    d.compress_message(data, &mut out).unwrap();
    out
}

fn inflate(i: &mut Inflater, payload: &[u8], max_total: u64) -> Result<Vec<u8>, InflateError> {
    let mut out = Vec::new();
    i.inflate_piece(payload, &mut out, max_total)?;
    i.finish_message(&mut out, max_total)?;
    Ok(out)
}

/// Decodes the payloads (each with its tail restored) as one raw DEFLATE
/// stream with the independent decoder below, refusing any reference more
/// than `1 << window_bits` bytes back: what a peer limited to the
/// negotiated window could read. zlib-rs' own inflater cannot serve here,
/// as it always keeps 32 KiB and never refuses such references.
fn strict_inflate(payloads: &[Vec<u8>], window_bits: u8) -> Result<Vec<Vec<u8>>, String> {
    let mut decoder = reference::Decoder::new(1 << window_bits);
    payloads.iter().map(|p| decoder.message(&[&p[..], &TAIL[..]].concat())).collect()
}

/// A small DEFLATE decoder (RFC 1951, after zlib's puff.c) for tests only.
mod reference {
    const LEN_BASE: [u16; 29] = [
        3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195,
        227, 258,
    ];
    const LEN_EXTRA: [u8; 29] =
        [0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0];
    const DIST_BASE: [u16; 30] = [
        1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537, 2049, 3073,
        4097, 6145, 8193, 12289, 16385, 24577,
    ];
    const DIST_EXTRA: [u8; 30] =
        [0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13];
    const CODE_LENGTH_ORDER: [usize; 19] = [16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15];

    /// Canonical Huffman code: codes per length, symbols in code order.
    struct Huffman {
        count: [u16; 16],
        symbol: Vec<u16>,
    }

    impl Huffman {
        fn new(lengths: &[u8]) -> Self {
            let mut count = [0u16; 16];
            lengths.iter().for_each(|&l| count[usize::from(l)] += 1);
            let mut offset = [0u16; 16];
            for len in 1..15 {
                offset[len + 1] = offset[len] + count[len];
            }
            let mut symbol = vec![0; lengths.len()];
            for (sym, &len) in lengths.iter().enumerate().filter(|(_, l)| **l != 0) {
                symbol[usize::from(offset[usize::from(len)])] = sym as u16;
                offset[usize::from(len)] += 1;
            }
            count[0] = 0;
            Self { count, symbol }
        }
    }

    pub struct Decoder {
        window: usize,
        history: Vec<u8>,
    }

    struct Bits<'a> {
        data: &'a [u8],
        pos: usize,
    }

    impl Bits<'_> {
        fn bits(&mut self, n: u8) -> Result<usize, String> {
            let mut value = 0;
            for i in 0..n {
                let byte = self.data.get(self.pos / 8).ok_or("unexpected end of data")?;
                value |= usize::from((byte >> (self.pos % 8)) & 1) << i;
                self.pos += 1;
            }
            Ok(value)
        }

        fn decode(&mut self, h: &Huffman) -> Result<usize, String> {
            let (mut code, mut first, mut index) = (0i32, 0i32, 0i32);
            for len in 1..16 {
                code |= self.bits(1)? as i32;
                let count = i32::from(h.count[len]);
                if code - first < count {
                    return Ok(usize::from(h.symbol[(index + code - first) as usize]));
                }
                index += count;
                first = (first + count) << 1;
                code <<= 1;
            }
            Err("invalid Huffman code".into())
        }
    }

    impl Decoder {
        pub fn new(window: usize) -> Self {
            Self { window, history: Vec::new() }
        }

        /// Decodes whole blocks until the data ends; returns their output.
        pub fn message(&mut self, data: &[u8]) -> Result<Vec<u8>, String> {
            let start = self.history.len();
            let mut bits = Bits { data, pos: 0 };
            while bits.pos < data.len() * 8 {
                let last = bits.bits(1)? == 1;
                match bits.bits(2)? {
                    0 => self.stored(&mut bits)?,
                    1 => self.fixed(&mut bits)?,
                    2 => self.dynamic(&mut bits)?,
                    _ => return Err("reserved block type".into()),
                }
                if last {
                    return Err("unexpected BFINAL block".into());
                }
            }
            Ok(self.history[start..].to_vec())
        }

        fn stored(&mut self, bits: &mut Bits) -> Result<(), String> {
            bits.pos = bits.pos.div_ceil(8) * 8;
            let (len, nlen) = (bits.bits(16)?, bits.bits(16)?);
            if len != !nlen & 0xffff {
                return Err("stored block length mismatch".into());
            }
            let at = bits.pos / 8;
            let block = bits.data.get(at..at + len).ok_or("stored block truncated")?;
            self.history.extend_from_slice(block);
            bits.pos += len * 8;
            Ok(())
        }

        fn fixed(&mut self, bits: &mut Bits) -> Result<(), String> {
            let mut lengths = [0u8; 288];
            lengths[..144].fill(8);
            lengths[144..256].fill(9);
            lengths[256..280].fill(7);
            lengths[280..].fill(8);
            self.codes(bits, &Huffman::new(&lengths), &Huffman::new(&[5; 30]))
        }

        fn dynamic(&mut self, bits: &mut Bits) -> Result<(), String> {
            let (nlen, ndist, ncode) = (bits.bits(5)? + 257, bits.bits(5)? + 1, bits.bits(4)? + 4);
            let mut code_lengths = [0u8; 19];
            for &i in &CODE_LENGTH_ORDER[..ncode] {
                code_lengths[i] = bits.bits(3)? as u8;
            }
            let code_huffman = Huffman::new(&code_lengths);
            let mut lengths = Vec::with_capacity(nlen + ndist);
            while lengths.len() < nlen + ndist {
                let (value, repeat) = match bits.decode(&code_huffman)? {
                    sym @ 0..=15 => (sym as u8, 1),
                    16 => (*lengths.last().ok_or("repeat with no previous length")?, 3 + bits.bits(2)?),
                    17 => (0, 3 + bits.bits(3)?),
                    _ => (0, 11 + bits.bits(7)?),
                };
                lengths.extend(std::iter::repeat_n(value, repeat));
            }
            if lengths.len() != nlen + ndist {
                return Err("too many code lengths".into());
            }
            self.codes(bits, &Huffman::new(&lengths[..nlen]), &Huffman::new(&lengths[nlen..]))
        }

        fn codes(&mut self, bits: &mut Bits, lit: &Huffman, dist: &Huffman) -> Result<(), String> {
            loop {
                let sym = bits.decode(lit)?;
                if sym < 256 {
                    self.history.push(sym as u8);
                    continue;
                }
                if sym == 256 {
                    return Ok(());
                }
                let i = sym - 257;
                let len = usize::from(*LEN_BASE.get(i).ok_or("bad length symbol")?) + bits.bits(LEN_EXTRA[i])?;
                let d = bits.decode(dist)?;
                let distance =
                    usize::from(*DIST_BASE.get(d).ok_or("bad distance symbol")?) + bits.bits(DIST_EXTRA[d])?;
                if distance > self.window {
                    return Err(format!("distance {distance} beyond the {}-byte window", self.window));
                }
                if distance > self.history.len() {
                    return Err("distance before the start of the data".into());
                }
                for _ in 0..len {
                    self.history.push(self.history[self.history.len() - distance]);
                }
            }
        }
    }
}

#[test]
fn round_trip_text_and_binary() {
    let mut d = deflater(15, false);
    let mut i = Inflater::new(15, false).unwrap();
    let binary: Vec<u8> = (0..=255u8).cycle().take(5000).collect();
    for message in [LOREM.as_bytes().to_vec(), binary, noise(3000, 7, 255), b"x".to_vec()] {
        let payload = compress(&mut d, &message);
        assert_eq!(inflate(&mut i, &payload, 0).unwrap(), message);
    }
}

#[test]
fn empty_message_is_one_zero_byte_and_round_trips() {
    for no_context_takeover in [false, true] {
        let mut d = deflater(15, no_context_takeover);
        let mut i = Inflater::new(15, no_context_takeover).unwrap();
        for message in [&b""[..], LOREM.as_bytes(), b"", b"", LOREM.as_bytes()] {
            let payload = compress(&mut d, message);
            if message.is_empty() {
                assert_eq!(payload, [0x00]);
            }
            assert_eq!(inflate(&mut i, &payload, 0).unwrap(), message);
        }
    }
}

#[test]
fn empty_payload_inflates_to_nothing_and_keeps_the_context() {
    let mut d = deflater(15, false);
    let mut i = Inflater::new(15, false).unwrap();
    let first = compress(&mut d, LOREM.as_bytes());
    assert_eq!(inflate(&mut i, &first, 0).unwrap(), LOREM.as_bytes());
    assert_eq!(inflate(&mut i, &[], 0).unwrap(), b"");
    let second = compress(&mut d, LOREM.as_bytes());
    assert_eq!(inflate(&mut i, &second, 0).unwrap(), LOREM.as_bytes());
}

#[test]
fn context_takeover_shrinks_repeated_messages_only_when_on() {
    let message = json_message(1);
    let mut on = deflater(15, false);
    let mut off = deflater(15, true);
    let (on1, on2) = (compress(&mut on, &message), compress(&mut on, &message));
    let (off1, off2) = (compress(&mut off, &message), compress(&mut off, &message));
    assert!(on2.len() * 4 < on1.len(), "takeover: {} then {}", on1.len(), on2.len());
    assert_eq!(off1, off2);
    assert_eq!(on1, off1);
}

#[test]
fn many_messages_with_and_without_takeover() {
    for (deflate_nct, inflate_nct) in [(false, false), (true, true), (true, false)] {
        let mut d = deflater(15, deflate_nct);
        let mut i = Inflater::new(15, inflate_nct).unwrap();
        for n in 0..200 {
            let message = json_message(n % 17);
            let payload = compress(&mut d, &message);
            assert_eq!(inflate(&mut i, &payload, 0).unwrap(), message, "message {n}");
            assert_eq!(d.holds_context(), !deflate_nct);
            assert_eq!(i.holds_context(), !inflate_nct);
        }
    }
}

#[test]
fn release_is_safe_between_messages_with_takeover() {
    let mut d = deflater(15, false);
    let mut i = Inflater::new(15, false).unwrap();
    for n in 0..10 {
        let message = json_message(n);
        let payload = compress(&mut d, &message);
        if n % 3 == 0 {
            d.release();
            assert!(!d.holds_context());
        }
        assert_eq!(inflate(&mut i, &payload, 0).unwrap(), message);
    }
}

#[test]
fn no_context_takeover_holds_nothing_when_idle() {
    let mut d = deflater(15, true);
    let mut i = Inflater::new(15, true).unwrap();
    assert!(!d.holds_context() && !i.holds_context());
    let payload = compress(&mut d, LOREM.as_bytes());
    assert!(!d.holds_context());
    let mut out = Vec::new();
    i.inflate_piece(&payload, &mut out, 0).unwrap();
    assert!(i.holds_context(), "mid-message");
    i.finish_message(&mut out, 0).unwrap();
    assert!(!i.holds_context());
}

#[test]
fn every_window_size_and_level_round_trips() {
    let messages: Vec<Vec<u8>> =
        (0..6).map(|n| if n % 2 == 0 { json_message(n) } else { noise(4000, n as u64, 6) }).collect();
    for bits in 8..=15u8 {
        for level in [0, 1, 6, 9] {
            let mut d = Deflater::new(level, 8, bits, false).unwrap();
            let mut i = Inflater::new(bits, false).unwrap();
            let payloads: Vec<Vec<u8>> = messages.iter().map(|m| compress(&mut d, m)).collect();
            for (payload, message) in payloads.iter().zip(&messages) {
                assert_eq!(&inflate(&mut i, payload, 0).unwrap(), message, "bits {bits} level {level}");
            }
            // A fresh inflater limited to the negotiated window also reads it.
            assert_eq!(strict_inflate(&payloads, bits).unwrap(), messages, "bits {bits} level {level}");
        }
    }
}

#[test]
fn window_8_output_fits_a_256_byte_window() {
    // Repeats at distances 257..511 tempt a 512-byte window to reach back
    // too far; data made for a 15-bit window must fail the strict check.
    let mut message = Vec::new();
    for period in [300usize, 400, 500, 260] {
        let unit = noise(period, period as u64, 255);
        for _ in 0..8 {
            message.extend_from_slice(&unit);
        }
    }
    let messages = vec![message.clone(), message];
    for level in 0..=9 {
        for mem_level in [1, 8, 9] {
            let mut d = Deflater::new(level, mem_level, 8, false).unwrap();
            let payloads: Vec<Vec<u8>> = messages.iter().map(|m| compress(&mut d, m)).collect();
            assert_eq!(strict_inflate(&payloads, 8).unwrap(), messages, "level {level} mem_level {mem_level}");
        }
    }
    let mut wide = deflater(15, false);
    let payloads: Vec<Vec<u8>> = messages.iter().map(|m| compress(&mut wide, m)).collect();
    let err = strict_inflate(&payloads, 8).unwrap_err();
    assert!(err.contains("beyond the 256-byte window"), "the strict check must catch far references: {err}");
}

#[test]
fn rfc_7692_hello_examples() {
    // §7.2.3.1: one message, "Hello".
    let mut i = Inflater::new(15, false).unwrap();
    assert_eq!(inflate(&mut i, &[0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00], 0).unwrap(), b"Hello");
    // §7.2.3.2: the second "Hello" refers back into the first message.
    assert_eq!(inflate(&mut i, &[0xf2, 0x00, 0x11, 0x00, 0x00], 0).unwrap(), b"Hello");
    // §7.2.3.1, the same payload split over two fragments.
    let mut i = Inflater::new(15, true).unwrap();
    let mut out = Vec::new();
    i.inflate_piece(&[0xf2, 0x48, 0xcd], &mut out, 0).unwrap();
    i.inflate_piece(&[0xc9, 0xc9, 0x07, 0x00], &mut out, 0).unwrap();
    i.finish_message(&mut out, 0).unwrap();
    assert_eq!(out, b"Hello");
    // §7.2.3.3: no compression (stored block).
    let mut i = Inflater::new(15, false).unwrap();
    assert_eq!(
        inflate(&mut i, &[0x00, 0x05, 0x00, 0xfa, 0xff, 0x48, 0x65, 0x6c, 0x6c, 0x6f, 0x00], 0).unwrap(),
        b"Hello"
    );
}

#[test]
fn bfinal_block_then_more_messages() {
    // §7.2.3.4: "Hello" in a block with BFINAL set, then an extra 0x00.
    let mut i = Inflater::new(15, false).unwrap();
    let payload = [0xf3, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00, 0x00];
    assert_eq!(inflate(&mut i, &payload, 0).unwrap(), b"Hello");
    assert_eq!(inflate(&mut i, &payload, 0).unwrap(), b"Hello");
    // Without the extra 0x00 byte, too.
    assert_eq!(inflate(&mut i, &payload[..7], 0).unwrap(), b"Hello");
    let mut d = deflater(15, true);
    assert_eq!(inflate(&mut i, &compress(&mut d, LOREM.as_bytes()), 0).unwrap(), LOREM.as_bytes());
}

#[test]
fn split_pieces_equal_one_shot() {
    let messages: Vec<Vec<u8>> = (0..5).map(json_message).collect();
    let mut d = deflater(15, false);
    let payloads: Vec<Vec<u8>> = messages.iter().map(|m| compress(&mut d, m)).collect();
    for piece in [1, 2, 3, 7, 100, 1000] {
        let mut i = Inflater::new(15, false).unwrap();
        for (payload, message) in payloads.iter().zip(&messages) {
            let mut out = Vec::new();
            for chunk in payload.chunks(piece) {
                i.inflate_piece(chunk, &mut out, 0).unwrap();
                i.inflate_piece(&[], &mut out, 0).unwrap();
            }
            i.finish_message(&mut out, 0).unwrap();
            assert_eq!(&out, message, "piece size {piece}");
        }
    }
}

#[test]
fn large_message_round_trips_through_several_steps() {
    let message = noise(3 * INFLATE_STEP + 123, 99, 4);
    let mut d = deflater(15, false);
    let mut i = Inflater::new(15, false).unwrap();
    let payload = compress(&mut d, &message);
    assert_eq!(inflate(&mut i, &payload, message.len() as u64).unwrap(), message);
    let payload = compress(&mut d, &message);
    assert_eq!(inflate(&mut i, &payload, message.len() as u64 - 1), Err(InflateError::TooBig));
}

#[test]
fn bomb_is_stopped_without_inflating_it_all() {
    let zeros = vec![0u8; 10 * 1024 * 1024];
    let payload = compress(&mut deflater(15, true), &zeros);
    assert!(payload.len() < 16 * 1024, "bomb is {} bytes", payload.len());
    let limit = 1024 * 1024;
    let mut i = Inflater::new(15, true).unwrap();
    let mut out = Vec::new();
    assert_eq!(i.inflate_piece(&payload, &mut out, limit), Err(InflateError::TooBig));
    assert!(out.capacity() as u64 <= limit + 1, "allocated {}", out.capacity());
    assert!(!i.holds_context());
    // In small pieces, and with the limit reached only by the tail.
    let mut i = Inflater::new(15, true).unwrap();
    let mut out = Vec::new();
    let result = payload.chunks(100).try_for_each(|chunk| i.inflate_piece(chunk, &mut out, limit));
    assert_eq!(result, Err(InflateError::TooBig));
    let exact = compress(&mut deflater(15, true), &zeros[..1000]);
    let mut i = Inflater::new(15, true).unwrap();
    assert_eq!(inflate(&mut i, &exact, 1000).unwrap().len(), 1000);
    assert_eq!(inflate(&mut i, &exact, 999), Err(InflateError::TooBig));
}

#[test]
fn corrupt_input_is_an_error() {
    let mut i = Inflater::new(15, false).unwrap();
    // BTYPE 11 is reserved.
    let err = inflate(&mut i, &[0xff, 0xff, 0xff], 0).unwrap_err();
    assert!(matches!(err, InflateError::Corrupt(_)), "{err:?}");
    assert_eq!(Violation::from(&err).close_code(), 1007);
    assert!(!i.holds_context());
    // Stored block whose NLEN is not the complement of LEN.
    let err = inflate(&mut Inflater::new(15, false).unwrap(), &[0x00, 0x05, 0x00, 0x00, 0x00], 0).unwrap_err();
    assert!(matches!(err, InflateError::Corrupt(_)), "{err:?}");
    // A reference before the start of the stream.
    let mut d = deflater(15, false);
    let _ = compress(&mut d, LOREM.as_bytes());
    let second = compress(&mut d, LOREM.as_bytes());
    let err = inflate(&mut Inflater::new(15, false).unwrap(), &second, 0).unwrap_err();
    assert!(matches!(&err, InflateError::Corrupt(msg) if msg.contains("distance")), "{err:?}");
    assert_eq!(Violation::from(&InflateError::TooBig).close_code(), 1009);
}

#[test]
fn constructor_ranges() {
    assert_eq!(Deflater::new(10, 8, 15, false).unwrap_err().field, "level");
    assert_eq!(Deflater::new(6, 0, 15, false).unwrap_err().field, "memLevel");
    assert_eq!(Deflater::new(6, 8, 7, false).unwrap_err().field, "windowBits");
    assert_eq!(Inflater::new(16, false).unwrap_err().field, "windowBits");
}
