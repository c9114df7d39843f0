//! Frame headers (RFC 6455 §5.2): decoding, encoding, and one-shot frames.

use crate::proto::error::{ArgumentError, Violation};
use crate::proto::mask::apply_mask;

pub mod opcode {
    pub const CONTINUATION: u8 = 0x0;
    pub const TEXT: u8 = 0x1;
    pub const BINARY: u8 = 0x2;
    pub const CLOSE: u8 = 0x8;
    pub const PING: u8 = 0x9;
    pub const PONG: u8 = 0xA;

    /// Close, ping, pong and the reserved 0xB-0xF.
    #[inline]
    pub fn is_control(op: u8) -> bool {
        op & 0x8 != 0
    }

    /// The opcodes RFC 6455 defines; 3-7 and 0xB-0xF are reserved.
    #[inline]
    pub fn is_defined(op: u8) -> bool {
        matches!(op, CONTINUATION | TEXT | BINARY | CLOSE | PING | PONG)
    }
}

/// Largest header: 2 bytes + 8-byte length + 4-byte mask.
pub const MAX_HEADER_LEN: usize = 14;
/// Longest payload whose length fits the 7-bit field (§5.2).
pub const MAX_7BIT_LENGTH: usize = 125;
/// Longest payload whose length fits the 16-bit extended field.
pub const MAX_16BIT_LENGTH: usize = u16::MAX as usize;
/// Largest payload of a control frame (§5.5).
pub const MAX_CONTROL_PAYLOAD: usize = 125;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FrameHeader {
    pub fin: bool,
    pub rsv1: bool,
    pub rsv2: bool,
    pub rsv3: bool,
    pub opcode: u8,
    pub mask: Option<[u8; 4]>,
    pub payload_len: u64,
    /// Bytes the header took on the wire.
    pub header_len: usize,
}

/// The longest frame payload accepted: 2^53 - 1, as in ws.
pub const MAX_SAFE_LENGTH: u64 = (1 << 53) - 1;

/// Reads a header from the start of `buf`. `Ok(None)` means more bytes are needed.
/// The only structural error is a 64-bit length over [`MAX_SAFE_LENGTH`] (§5.2).

pub fn parse_header(buf: &[u8]) -> Result<Option<FrameHeader>, Violation> {
    if buf.len() < 2 {
        return Ok(None);
    }
    let b0 = buf[0];
    let b1 = buf[1];
    let masked = b1 & 0x80 != 0;
    let (payload_len, mut pos) = match b1 & 0x7f {
        126 => {
            if buf.len() < 4 {
                return Ok(None);
            }
            (u16::from_be_bytes([buf[2], buf[3]]) as u64, 4)
        }
        127 => {
            if buf.len() < 10 {
                return Ok(None);
            }
            let mut len = [0u8; 8];
            len.copy_from_slice(&buf[2..10]);
            let len = u64::from_be_bytes(len);
            // §5.2: the most significant bit must be 0; like ws, refuse every
            // length over 2^53 - 1 (no message that long can be held).
            if len > MAX_SAFE_LENGTH {
                return Err(Violation::UnsupportedDataPayloadLength);
            }
            (len, 10)
        }
        small => (small as u64, 2),
    };
    let mask = if masked {
        if buf.len() < pos + 4 {
            return Ok(None);
        }
        let key = [buf[pos], buf[pos + 1], buf[pos + 2], buf[pos + 3]];
        pos += 4;
        Some(key)
    } else {
        None
    };
    Ok(Some(FrameHeader {
        fin: b0 & 0x80 != 0,
        rsv1: b0 & 0x40 != 0,
        rsv2: b0 & 0x20 != 0,
        rsv3: b0 & 0x10 != 0,
        opcode: b0 & 0x0f,
        mask,
        payload_len,
        header_len: pos,
    }))
}

/// Writes a header into `out` and returns its length.
pub fn write_header(
    out: &mut [u8; MAX_HEADER_LEN],
    fin: bool,
    rsv1: bool,
    op: u8,
    payload_len: usize,
    mask: Option<[u8; 4]>,
) -> usize {
    out[0] = ((fin as u8) << 7) | ((rsv1 as u8) << 6) | (op & 0x0f);
    let mask_bit = if mask.is_some() { 0x80 } else { 0 };
    let mut pos = if payload_len < 126 {
        out[1] = mask_bit | payload_len as u8;
        2
    } else if payload_len <= u16::MAX as usize {
        out[1] = mask_bit | 126;
        out[2..4].copy_from_slice(&(payload_len as u16).to_be_bytes());
        4
    } else {
        out[1] = mask_bit | 127;
        out[2..10].copy_from_slice(&(payload_len as u64).to_be_bytes());
        10
    };
    if let Some(key) = mask {
        out[pos..pos + 4].copy_from_slice(&key);
        pos += 4;
    }
    pos
}

/// The header length `write_header` produces for a payload length and masking.
pub fn header_len(payload_len: usize, masked: bool) -> usize {
    let base = if payload_len <= MAX_7BIT_LENGTH {
        2
    } else if payload_len <= MAX_16BIT_LENGTH {
        4
    } else {
        10
    };
    base + if masked { 4 } else { 0 }
}

/// Options of one frame to encode.
#[derive(Debug, Clone, Copy)]
pub struct FrameSpec {
    pub fin: bool,
    pub rsv1: bool,
    pub opcode: u8,
    pub mask: Option<[u8; 4]>,
}

/// Checks a frame the caller asks to encode against §5.2 and §5.5.
pub fn check_spec(spec: &FrameSpec, payload_len: usize) -> Result<(), ArgumentError> {
    if spec.opcode > 0x0f {
        return Err(ArgumentError::range(format!("opcode: {} is not a 4-bit opcode", spec.opcode)));
    }
    if opcode::is_control(spec.opcode) {
        if payload_len > MAX_CONTROL_PAYLOAD {
            return Err(ArgumentError::range(format!(
                "payload: {payload_len} bytes, a control frame carries at most {MAX_CONTROL_PAYLOAD}"
            )));
        }
        if !spec.fin {
            return Err(ArgumentError::range("fin: control frames cannot be fragmented"));
        }
    }
    Ok(())
}

/// Encodes a whole frame, masking the payload when a key is given.
pub fn encode_frame(spec: FrameSpec, payload: &[u8]) -> Result<Vec<u8>, ArgumentError> {
    check_spec(&spec, payload.len())?;
    let mut header = [0u8; MAX_HEADER_LEN];
    let header_len = write_header(&mut header, spec.fin, spec.rsv1, spec.opcode, payload.len(), spec.mask);
    let mut out = Vec::with_capacity(header_len + payload.len());
    out.extend_from_slice(&header[..header_len]);
    out.extend_from_slice(payload);
    if let Some(key) = spec.mask {
        apply_mask(&mut out[header_len..], key, 0);
    }
    Ok(out)
}

/// A frame decoded in one piece.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecodedFrame {
    pub header: FrameHeader,
    /// Unmasked payload.
    pub payload: Vec<u8>,
    /// Bytes of the input the frame used.
    pub consumed: usize,
}

/// Decodes the first frame of `buf`; `Ok(None)` while it is incomplete.
pub fn decode_frame(buf: &[u8]) -> Result<Option<DecodedFrame>, Violation> {
    let Some(header) = parse_header(buf)? else {
        return Ok(None);
    };
    let available = (buf.len() - header.header_len) as u64;
    if header.payload_len > available {
        return Ok(None);
    }
    let end = header.header_len + header.payload_len as usize;
    let mut payload = buf[header.header_len..end].to_vec();
    if let Some(key) = header.mask {
        apply_mask(&mut payload, key, 0);
    }
    Ok(Some(DecodedFrame { header, payload, consumed: end }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(op: u8, mask: Option<[u8; 4]>) -> FrameSpec {
        FrameSpec { fin: true, rsv1: false, opcode: op, mask }
    }

    #[test]
    fn all_three_length_encodings_round_trip() {
        for len in [0usize, 1, 125, 126, 127, 65535, 65536, 200_000] {
            for mask in [None, Some([9, 8, 7, 6])] {
                let payload: Vec<u8> = (0..len).map(|i| i as u8).collect();
                let wire = encode_frame(spec(opcode::BINARY, mask), &payload).unwrap();
                let expected_header = match len {
                    0..=125 => 2,
                    126..=65535 => 4,
                    _ => 10,
                } + if mask.is_some() { 4 } else { 0 };
                let frame = decode_frame(&wire).unwrap().unwrap();
                assert_eq!(frame.header.header_len, expected_header);
                assert_eq!(frame.consumed, wire.len());
                assert_eq!(frame.payload, payload);
                assert_eq!(frame.header.mask, mask);
                // Every strict prefix is incomplete.
                for cut in [0, 1, expected_header - 1, wire.len() - 1] {
                    if cut < wire.len() {
                        assert_eq!(decode_frame(&wire[..cut]).unwrap(), None, "len {len} cut {cut}");
                    }
                }
            }
        }
    }

    #[test]
    fn rfc_examples() {
        // §5.7: unmasked "Hello", masked "Hello", 256-byte binary header.
        let f = decode_frame(&[0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f]).unwrap().unwrap();
        assert_eq!(f.payload, b"Hello");
        let f = decode_frame(&[0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58])
            .unwrap()
            .unwrap();
        assert_eq!(f.payload, b"Hello");
        let wire = encode_frame(spec(opcode::BINARY, None), &[0u8; 256]).unwrap();
        assert_eq!(&wire[..4], &[0x82, 0x7E, 0x01, 0x00]);
    }

    #[test]
    fn header_len_matches_write_header() {
        for len in [0, 125, 126, 65535, 65536, 1 << 20] {
            for mask in [None, Some([1, 2, 3, 4])] {
                let mut out = [0u8; MAX_HEADER_LEN];
                assert_eq!(write_header(&mut out, true, false, 2, len, mask), header_len(len, mask.is_some()));
            }
        }
    }

    #[test]
    fn top_bit_of_64_bit_length_is_an_error() {
        let wire = [0x82, 0x7f, 0x80, 0, 0, 0, 0, 0, 0, 1];
        assert_eq!(decode_frame(&wire).unwrap_err(), Violation::UnsupportedDataPayloadLength);
        // 2^53 is refused as ws refuses it; 2^53 - 1 is a (long) valid length.
        let wire = [0x82, 0x7f, 0x00, 0x20, 0, 0, 0, 0, 0, 0];
        assert_eq!(parse_header(&wire).unwrap_err(), Violation::UnsupportedDataPayloadLength);
        let wire = [0x82, 0x7f, 0x00, 0x1f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff];
        assert_eq!(parse_header(&wire).unwrap().unwrap().payload_len, MAX_SAFE_LENGTH);
    }

    #[test]
    fn control_frame_limits_on_encode() {
        assert!(encode_frame(spec(opcode::PING, None), &[0; 125]).is_ok());
        assert!(encode_frame(spec(opcode::PING, None), &[0; 126]).is_err());
        let unfinished = FrameSpec { fin: false, ..spec(opcode::CLOSE, None) };
        assert!(encode_frame(unfinished, &[]).is_err());
    }
}
