//! The tables JS and the addon share, defined once: the parse record table a
//! `StreamParser` fills, the send batch table `writeFrameHeaders` reads, and
//! the upgrade layout `parseUpgradeInto` fills; plus where messages spanning
//! chunks are lent from. The binding exports every constant here to JS
//! (lib/abi.js is their only JS reader); `ABI_VERSION` changes whenever a
//! layout does, and lib/native.js refuses an addon of another version.

use crate::http::request::{RequestHead, Span, MAX_HEADER_COUNT};
use crate::proto::error::ArgumentError;
use crate::proto::frame::{self, FrameSpec};
use crate::proto::mask::apply_mask;

/// Bump on any change to a layout below.
pub const ABI_VERSION: u32 = 1;

/// The parse record table: `[count, consumed]`, then `count` records of
/// `[word0, offset, length]`. word0 = kind (the opcode: text, binary, ping,
/// pong, close) | flags | a 16-bit number in the high half (a close frame's
/// code, or the owned index of an `IN_SLAB` payload's slab).
///
/// Payload: bytes `[offset, offset + length)` of the chunk; with `OWNED`, the
/// owned Buffer at index `offset`; with `OWNED | IN_SLAB`, bytes
/// `[offset, offset + length)` of the owned Buffer at index `word0 >> 16`.
/// A violation found after some records is reported by the next call (which
/// `consumed` then makes the caller issue), so that records come first.
pub mod record {
    pub const COUNT: usize = 0;
    pub const CONSUMED: usize = 1;
    pub const HEADER_WORDS: usize = 2;
    pub const WORDS: usize = 3;
    pub const KIND_MASK: u32 = 0xff;
    pub const OWNED: u32 = 1 << 8;
    pub const COMPRESSED: u32 = 1 << 9;
    pub const IN_SLAB: u32 = 1 << 10;
    pub const HIGH_SHIFT: u32 = 16;
    /// Records per table JS allocates; a chunk with more frames takes several calls.
    pub const TABLE_RECORDS: usize = 4096;
    pub const TABLE_WORDS: usize = HEADER_WORDS + TABLE_RECORDS * WORDS;
}

/// Writes record `index` of a parse table.
#[inline]
pub fn write_record(table: &mut [u32], index: usize, word0: u32, offset: u32, length: u32) {
    let at = record::HEADER_WORDS + index * record::WORDS;
    table[at] = word0;
    table[at + 1] = offset;
    table[at + 2] = length;
}

/// How many records a table of `words` words holds.
#[inline]
pub fn record_capacity(words: usize) -> usize {
    words.saturating_sub(record::HEADER_WORDS) / record::WORDS
}

/// Moves the chunk offsets of the first `count` records by `start` (the
/// parser reported them relative to where it began in the chunk).
pub fn shift_chunk_offsets(table: &mut [u32], count: usize, start: u32) {
    for index in 0..count {
        let at = record::HEADER_WORDS + index * record::WORDS;
        if table[at] & record::OWNED == 0 {
            table[at + 1] += start;
        }
    }
}

/// The send batch table: per frame `[header offset, payload length, flags,
/// mask key]`, flags = opcode | `FIN` | `RSV1` | `PAYLOAD_ELSEWHERE` |
/// `MASKED` | the gap left for the header `<< GAP_SHIFT`.
pub mod batch {
    pub const ENTRY_WORDS: usize = 4;
    pub const OPCODE_MASK: u32 = 0x0f;
    pub const FIN: u32 = 0x10;
    pub const RSV1: u32 = 0x20;
    /// The payload is not in the slab: a large Buffer the caller writes by
    /// reference right after this header (unmasked frames only).
    pub const PAYLOAD_ELSEWHERE: u32 = 0x40;
    /// A client frame, masked with the key in the entry's fourth word.
    pub const MASKED: u32 = 0x80;
    pub const GAP_SHIFT: u32 = 8;
    /// Entries per table JS allocates.
    pub const MAX_ENTRIES: usize = 1024;
}

/// Writes the headers of a batch of frames into `slab`, each at the start of
/// the gap the caller left for it, and masks the payloads of masked frames in
/// place. A gap that is not exactly the header's length, or a frame outside
/// the slab, is refused, so a slip on the JS side cannot corrupt a frame.
pub fn write_batch(slab: &mut [u8], table: &[u32], count: usize) -> Result<(), ArgumentError> {
    for entry in table.chunks_exact(batch::ENTRY_WORDS).take(count) {
        let (at, len, flags) = (entry[0] as usize, entry[1] as usize, entry[2]);
        let mask = (flags & batch::MASKED != 0).then(|| entry[3].to_le_bytes());
        let elsewhere = flags & batch::PAYLOAD_ELSEWHERE != 0;
        if elsewhere && mask.is_some() {
            return Err(ArgumentError::range("table: a masked payload must be in the slab"));
        }
        let spec = FrameSpec {
            fin: flags & batch::FIN != 0,
            rsv1: flags & batch::RSV1 != 0,
            opcode: (flags & batch::OPCODE_MASK) as u8,
            mask,
        };
        frame::check_spec(&spec, len)?;
        let header_len = frame::header_len(len, mask.is_some());
        if (flags >> batch::GAP_SHIFT) as usize != header_len {
            return Err(ArgumentError::range("table: header gap does not match the payload length"));
        }
        let in_slab = if elsewhere { 0 } else { len };
        if at.saturating_add(header_len).saturating_add(in_slab) > slab.len() {
            return Err(ArgumentError::range("table: a frame lies outside the slab"));
        }
        let mut header = [0u8; frame::MAX_HEADER_LEN];
        frame::write_header(&mut header, spec.fin, spec.rsv1, spec.opcode, len, mask);
        slab[at..at + header_len].copy_from_slice(&header[..header_len]);
        if let Some(key) = mask {
            let payload_at = at + header_len;
            apply_mask(&mut slab[payload_at..payload_at + len], key, 0);
        }
    }
    Ok(())
}

/// The upgrade layout: `[bytes used, HTTP minor version, method start, end,
/// path start, end, key start, end, header count]`, then name start, end,
/// value start, end per header. Offsets index the parsed buffer (and so its
/// Latin-1 text).
pub mod upgrade {
    use super::MAX_HEADER_COUNT;

    pub const BYTES_USED: usize = 0;
    pub const VERSION_MINOR: usize = 1;
    pub const METHOD: usize = 2;
    pub const PATH: usize = 4;
    pub const KEY: usize = 6;
    pub const HEADER_COUNT: usize = 8;
    pub const FIXED_WORDS: usize = 9;
    pub const WORDS_PER_HEADER: usize = 4;
    pub const TABLE_WORDS: usize = FIXED_WORDS + WORDS_PER_HEADER * MAX_HEADER_COUNT;
}

/// Fills an upgrade layout for a parsed request whose key lies at `key`.
pub fn write_upgrade_layout(table: &mut [u32], head: &RequestHead<'_>, key: Span) -> Result<(), ArgumentError> {
    if table.len() < upgrade::TABLE_WORDS {
        return Err(ArgumentError::range(format!("table: needs {} words", upgrade::TABLE_WORDS)));
    }
    let fixed = [
        head.bytes_used,
        head.version_minor as usize,
        head.method.0,
        head.method.1,
        head.path.0,
        head.path.1,
        key.0,
        key.1,
        head.headers.len(),
    ];
    let spans = head.headers.iter().flat_map(|&(n, v)| [n.0, n.1, v.0, v.1]);
    for (slot, word) in table.iter_mut().zip(fixed.into_iter().chain(spans)) {
        *slot = word as u32;
    }
    Ok(())
}

/// Messages spanning chunks up to this size are lent from a shared slab
/// rather than given a Buffer each: one allocation (and one reference) per
/// slab instead of per message. A kept message keeps its slab alive, at most
/// `LEND_SLAB_SIZE` bytes, as a message inside one socket chunk keeps that
/// chunk alive (in ws too).
pub const LEND_SLAB_MAX: usize = 16 * 1024;
pub const LEND_SLAB_SIZE: usize = 64 * 1024;

/// Where a message of a given length is lent from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lending {
    /// A Buffer of its own (a message over `LEND_SLAB_MAX`).
    OwnBuffer,
    /// A region of the current slab at this offset.
    InSlab(usize),
    /// A fresh slab is needed; the message goes at its start.
    NewSlab,
}

/// The lending policy of one connection's current slab: regions follow each
/// other, each starting 8-aligned, where unmasking is fastest.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SlabCursor {
    pub used: usize,
}

impl SlabCursor {
    /// Where `len` bytes go; `has_slab` says whether a slab is held now.
    pub fn plan(&self, has_slab: bool, len: usize) -> Lending {
        if len > LEND_SLAB_MAX {
            Lending::OwnBuffer
        } else if !has_slab || self.used + len > LEND_SLAB_SIZE {
            Lending::NewSlab
        } else {
            Lending::InSlab(self.used)
        }
    }

    /// Takes `len` bytes at `offset` (from `plan`); the next region starts 8-aligned after it.
    pub fn take(&mut self, offset: usize, len: usize) {
        self.used = (offset + len + 7) & !7;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::request::{parse_head, DEFAULT_MAX_HEADER_BYTES};
    use crate::proto::frame::{decode_frame, opcode};

    #[test]
    fn records_round_trip_and_shift() {
        let mut table = vec![0u32; record::HEADER_WORDS + 2 * record::WORDS];
        assert_eq!(record_capacity(table.len()), 2);
        write_record(&mut table, 0, opcode::TEXT as u32, 3, 5);
        write_record(&mut table, 1, opcode::BINARY as u32 | record::OWNED, 0, 9);
        shift_chunk_offsets(&mut table, 2, 10);
        assert_eq!(&table[record::HEADER_WORDS..], &[1, 13, 5, 2 | record::OWNED, 0, 9]);
        let close = opcode::CLOSE as u32 | (1000 << record::HIGH_SHIFT);
        assert_eq!(close & record::KIND_MASK, 8);
        assert_eq!(close >> record::HIGH_SHIFT, 1000);
        // The flags sit between the kind and the high half.
        for flag in [record::OWNED, record::COMPRESSED, record::IN_SLAB] {
            assert_eq!(flag & record::KIND_MASK, 0);
            assert!(flag < 1 << record::HIGH_SHIFT);
        }
    }

    fn entry(at: u32, len: u32, flags: u32, key: u32) -> [u32; 4] {
        let masked = flags & batch::MASKED != 0;
        [at, len, flags | ((frame::header_len(len as usize, masked) as u32) << batch::GAP_SHIFT), key]
    }

    #[test]
    fn batch_writes_headers_and_masks() {
        let mut slab = vec![0u8; 64];
        slab[2..7].copy_from_slice(b"hello");
        slab[13..15].copy_from_slice(b"hi");
        let mut table = entry(0, 5, opcode::TEXT as u32 | batch::FIN, 0).to_vec();
        table.extend(entry(7, 2, opcode::BINARY as u32 | batch::FIN | batch::MASKED, 0x0403_0201));
        write_batch(&mut slab, &table, 2).unwrap();
        let first = decode_frame(&slab[..7]).unwrap().unwrap();
        assert_eq!((first.header.opcode, first.payload.as_slice()), (opcode::TEXT, &b"hello"[..]));
        let second = decode_frame(&slab[7..15]).unwrap().unwrap();
        assert_eq!(second.header.mask, Some([1, 2, 3, 4]));
        assert_eq!(second.payload, b"hi");
    }

    #[test]
    fn batch_refuses_what_would_corrupt_a_frame() {
        let mut slab = vec![0u8; 16];
        let mut wrong_gap = entry(0, 5, opcode::TEXT as u32 | batch::FIN, 0);
        wrong_gap[2] += 1 << batch::GAP_SHIFT;
        assert!(write_batch(&mut slab, &wrong_gap, 1).unwrap_err().message.contains("header gap"));
        let outside = entry(10, 5, opcode::TEXT as u32 | batch::FIN, 0);
        assert!(write_batch(&mut slab, &outside, 1).unwrap_err().message.contains("outside the slab"));
        let elsewhere = entry(10, 5, opcode::TEXT as u32 | batch::FIN | batch::PAYLOAD_ELSEWHERE, 0);
        assert!(write_batch(&mut slab, &elsewhere, 1).is_ok());
        let masked_elsewhere = entry(0, 5, opcode::TEXT as u32 | batch::FIN | batch::PAYLOAD_ELSEWHERE | batch::MASKED, 0);
        assert!(write_batch(&mut slab, &masked_elsewhere, 1).unwrap_err().message.contains("masked payload"));
        let long_ping = entry(0, 126, opcode::PING as u32 | batch::FIN | batch::PAYLOAD_ELSEWHERE, 0);
        assert!(write_batch(&mut slab, &long_ping, 1).is_err());
    }

    #[test]
    fn upgrade_layout_locates_the_parts() {
        let text = b"GET /chat HTTP/1.1\r\nHost: h\r\nSec-WebSocket-Key: k\r\n\r\n";
        let head = parse_head(text, DEFAULT_MAX_HEADER_BYTES).unwrap().unwrap();
        let mut table = vec![0u32; upgrade::TABLE_WORDS];
        write_upgrade_layout(&mut table, &head, head.headers[1].1).unwrap();
        let at = |i: usize| &text[table[i] as usize..table[i + 1] as usize];
        assert_eq!(table[upgrade::BYTES_USED] as usize, text.len());
        assert_eq!(table[upgrade::VERSION_MINOR], 1);
        assert_eq!(at(upgrade::METHOD), b"GET");
        assert_eq!(at(upgrade::PATH), b"/chat");
        assert_eq!(at(upgrade::KEY), b"k");
        assert_eq!(table[upgrade::HEADER_COUNT], 2);
        assert_eq!(at(upgrade::FIXED_WORDS + upgrade::WORDS_PER_HEADER), b"Sec-WebSocket-Key");
        assert!(write_upgrade_layout(&mut table[..10], &head, (0, 0)).is_err());
    }

    #[test]
    fn slab_regions_are_8_aligned_and_bounded() {
        let mut cursor = SlabCursor::default();
        assert_eq!(cursor.plan(false, 10), Lending::NewSlab);
        assert_eq!(cursor.plan(true, LEND_SLAB_MAX + 1), Lending::OwnBuffer);
        cursor.take(0, 10);
        assert_eq!(cursor.plan(true, 100), Lending::InSlab(16));
        cursor.take(16, 100);
        assert_eq!(cursor.used, 120);
        cursor.used = LEND_SLAB_SIZE - 8;
        assert_eq!(cursor.plan(true, 9), Lending::NewSlab);
    }
}
