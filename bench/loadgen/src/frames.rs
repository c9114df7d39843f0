//! Building masked client frames and a minimal streaming frame parser.
//!
//! The parser only looks at headers (FIN, opcode, mask bit, length) and skips payloads, so it
//! accepts unmasked server frames as well as our own masked frames reflected by a raw TCP echo.

pub const OP_CONT: u8 = 0x0;
pub const OP_TEXT: u8 = 0x1;
pub const OP_BINARY: u8 = 0x2;
pub const OP_CLOSE: u8 = 0x8;

/// A complete masked frame (FIN set) carrying `payload`.
pub fn build_masked(opcode: u8, payload: &[u8], mask: [u8; 4]) -> Vec<u8> {
    let len = payload.len();
    let mut f = Vec::with_capacity(len + 14);
    f.push(0x80 | opcode);
    if len < 126 {
        f.push(0x80 | len as u8);
    } else if len <= 0xffff {
        f.push(0x80 | 126);
        f.extend_from_slice(&(len as u16).to_be_bytes());
    } else {
        f.push(0x80 | 127);
        f.extend_from_slice(&(len as u64).to_be_bytes());
    }
    f.extend_from_slice(&mask);
    f.extend(payload.iter().enumerate().map(|(i, b)| b ^ mask[i & 3]));
    f
}

/// Masked close frame with a status code and no reason.
pub fn close_frame(code: u16, mask: [u8; 4]) -> Vec<u8> {
    build_masked(OP_CLOSE, &code.to_be_bytes(), mask)
}

/// ASCII payload of exactly `size` bytes (valid for text frames too).
pub fn ascii_payload(size: usize) -> Vec<u8> {
    (0..size).map(|i| b'a' + (i % 26) as u8).collect()
}

/// Header length implied by the first two bytes.
#[inline]
fn header_len(b0_b1: &[u8]) -> usize {
    let b1 = b0_b1[1];
    let ext = match b1 & 0x7f {
        126 => 2,
        127 => 8,
        _ => 0,
    };
    2 + ext + if b1 & 0x80 != 0 { 4 } else { 0 }
}

/// What one `feed` call found.
#[derive(Default, Debug, PartialEq, Eq)]
pub struct Feed {
    /// Complete data messages.
    pub messages: usize,
    /// A close frame was seen.
    pub close: bool,
}

pub struct Parser {
    /// Expected payload size of every data message, if checked.
    expect: Option<u64>,
    hdr: [u8; 14],
    hlen: usize,
    /// Payload bytes of the current frame still to skip.
    remaining: u64,
    opcode: u8,
    fin: bool,
    in_message: bool,
    msg_len: u64,
}

impl Parser {
    pub fn new(expect: Option<usize>) -> Self {
        Parser {
            expect: expect.map(|e| e as u64),
            hdr: [0; 14],
            hlen: 0,
            remaining: 0,
            opcode: 0,
            fin: false,
            in_message: false,
            msg_len: 0,
        }
    }

    /// Consumes `data`, accumulating complete messages into `out`.
    pub fn feed(&mut self, mut data: &[u8], out: &mut Feed) -> Result<(), &'static str> {
        loop {
            if self.remaining > 0 {
                let take = self.remaining.min(data.len() as u64) as usize;
                data = &data[take..];
                self.remaining -= take as u64;
                if self.remaining > 0 {
                    return Ok(());
                }
                self.end_frame(out)?;
            }
            if data.is_empty() {
                return Ok(());
            }
            // Fast path: the whole header is in `data`.
            if self.hlen == 0 && data.len() >= 2 {
                let need = header_len(data);
                if data.len() >= need {
                    self.start_frame(&data[..need], out)?;
                    data = &data[need..];
                    continue;
                }
            }
            // Slow path: header split across reads.
            while let Some((&b, rest)) = data.split_first() {
                self.hdr[self.hlen] = b;
                self.hlen += 1;
                data = rest;
                if self.hlen >= 2 && self.hlen == header_len(&self.hdr[..2]) {
                    let (hdr, n) = (self.hdr, self.hlen);
                    self.hlen = 0;
                    self.start_frame(&hdr[..n], out)?;
                    break;
                }
            }
        }
    }

    fn start_frame(&mut self, h: &[u8], out: &mut Feed) -> Result<(), &'static str> {
        let (b0, b1) = (h[0], h[1]);
        if b0 & 0x70 != 0 {
            return Err("frame with RSV bits set");
        }
        let len = match b1 & 0x7f {
            126 => u16::from_be_bytes([h[2], h[3]]) as u64,
            127 => {
                let l = u64::from_be_bytes([h[2], h[3], h[4], h[5], h[6], h[7], h[8], h[9]]);
                if l >> 63 != 0 {
                    return Err("frame length has the top bit set");
                }
                l
            }
            l => l as u64,
        };
        let opcode = b0 & 0x0f;
        let fin = b0 & 0x80 != 0;
        match opcode {
            OP_TEXT | OP_BINARY => {
                if self.in_message {
                    return Err("new data frame inside a fragmented message");
                }
                self.in_message = true;
                self.msg_len = len;
            }
            OP_CONT => {
                if !self.in_message {
                    return Err("continuation frame without a message");
                }
                self.msg_len += len;
            }
            0x8..=0xa => {
                if !fin || len > 125 {
                    return Err("bad control frame");
                }
            }
            _ => return Err("reserved opcode"),
        }
        self.opcode = opcode;
        self.fin = fin;
        self.remaining = len;
        if len == 0 {
            self.end_frame(out)?;
        }
        Ok(())
    }

    #[inline]
    fn end_frame(&mut self, out: &mut Feed) -> Result<(), &'static str> {
        if self.opcode & 0x8 != 0 {
            if self.opcode == OP_CLOSE {
                out.close = true;
            }
            // ping/pong: ignored
        } else if self.fin {
            if let Some(e) = self.expect {
                if e != self.msg_len {
                    return Err("echoed message has the wrong size");
                }
            }
            self.in_message = false;
            out.messages += 1;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unmasked(opcode: u8, fin: bool, len: usize) -> Vec<u8> {
        let mut f = vec![(if fin { 0x80 } else { 0 }) | opcode];
        if len < 126 {
            f.push(len as u8);
        } else if len <= 0xffff {
            f.push(126);
            f.extend_from_slice(&(len as u16).to_be_bytes());
        } else {
            f.push(127);
            f.extend_from_slice(&(len as u64).to_be_bytes());
        }
        f.extend(std::iter::repeat_n(b'x', len));
        f
    }

    fn feed_in_pieces(p: &mut Parser, data: &[u8], piece: usize) -> Feed {
        let mut out = Feed::default();
        for c in data.chunks(piece) {
            p.feed(c, &mut out).unwrap();
        }
        out
    }

    #[test]
    fn masked_roundtrip_any_split() {
        for size in [0usize, 1, 16, 125, 126, 1000, 65535, 65536, 70000] {
            let f = build_masked(OP_BINARY, &ascii_payload(size), [1, 2, 3, 4]);
            let stream: Vec<u8> = f.iter().chain(f.iter()).chain(f.iter()).copied().collect();
            for piece in [1, 3, 7, 64, 4096, stream.len()] {
                let mut p = Parser::new(Some(size));
                assert_eq!(
                    feed_in_pieces(&mut p, &stream, piece).messages,
                    3,
                    "size {size} piece {piece}"
                );
            }
        }
    }

    #[test]
    fn unmasked_fragments_control_and_close() {
        let mut s = unmasked(OP_TEXT, false, 10);
        s.extend(unmasked(0x9, true, 4)); // ping in the middle
        s.extend(unmasked(OP_CONT, true, 6));
        s.extend(unmasked(OP_CLOSE, true, 2));
        let mut p = Parser::new(Some(16));
        let out = feed_in_pieces(&mut p, &s, 5);
        assert_eq!(
            out,
            Feed {
                messages: 1,
                close: true
            }
        );
    }

    #[test]
    fn errors() {
        let mut out = Feed::default();
        assert!(Parser::new(Some(16))
            .feed(&unmasked(OP_BINARY, true, 15), &mut out)
            .is_err());
        assert!(Parser::new(None)
            .feed(&unmasked(OP_CONT, true, 1), &mut out)
            .is_err());
        assert!(Parser::new(None).feed(&[0xc2, 0x00], &mut out).is_err());
        assert!(Parser::new(None).feed(&[0x83, 0x00], &mut out).is_err());
    }

    #[test]
    fn close_frame_bytes() {
        let f = close_frame(1000, [9, 8, 7, 6]);
        assert_eq!(&f[..6], &[0x88, 0x82, 9, 8, 7, 6]);
        assert_eq!([f[6] ^ 9, f[7] ^ 8], 1000u16.to_be_bytes());
    }
}
