//! UTF-8 validation for text messages, incremental across fragments and chunks.
//!
//! RFC 6455 §8.1 lets an endpoint fail a connection as soon as the bytes seen
//! cannot begin valid UTF-8; the streaming validator does exactly that.

/// Whole-buffer check, used when a complete text message lies in one chunk.
#[inline]
pub fn is_valid(data: &[u8]) -> bool {
    simdutf8::basic::from_utf8(data).is_ok()
}

/// Validates a byte stream piece by piece. At most three bytes of an
/// unfinished code point are carried between pieces.
#[derive(Debug, Default, Clone)]
pub struct Utf8Validator {
    pending: [u8; 4],
    pending_len: usize,
}

/// The bytes seen so far cannot be the beginning of valid UTF-8.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InvalidUtf8;

impl Utf8Validator {
    pub fn new() -> Self {
        Self::default()
    }

    /// Checks the next piece. Fails as soon as the stream cannot be valid,
    /// even in the middle of a code point.
    pub fn feed(&mut self, mut data: &[u8]) -> Result<(), InvalidUtf8> {
        if self.pending_len > 0 {
            let needed = sequence_len(self.pending[0]) - self.pending_len;
            let take = needed.min(data.len());
            self.pending[self.pending_len..self.pending_len + take].copy_from_slice(&data[..take]);
            let filled = self.pending_len + take;
            match std::str::from_utf8(&self.pending[..filled]) {
                Ok(_) => self.pending_len = 0,
                Err(e) if e.error_len().is_some() => return Err(InvalidUtf8),
                Err(_) => {
                    self.pending_len = filled;
                    return Ok(());
                }
            }
            data = &data[take..];
        }
        // The fast check first; only a piece that fails it (bad, or ending
        // inside a code point) pays for the slower one that says where.
        if simdutf8::basic::from_utf8(data).is_ok() {
            return Ok(());
        }
        match simdutf8::compat::from_utf8(data) {
            Ok(_) => Ok(()),
            Err(e) if e.error_len().is_some() => Err(InvalidUtf8),
            Err(e) => {
                // A valid but unfinished code point at the end: keep it for the next piece.
                let tail = &data[e.valid_up_to()..];
                self.pending[..tail.len()].copy_from_slice(tail);
                self.pending_len = tail.len();
                Ok(())
            }
        }
    }

    /// The message ended: an unfinished code point is an error.
    pub fn finish(&mut self) -> Result<(), InvalidUtf8> {
        let complete = self.pending_len == 0;
        self.pending_len = 0;
        if complete {
            Ok(())
        } else {
            Err(InvalidUtf8)
        }
    }
}

/// Length of the sequence a lead byte starts; only called on bytes that
/// std accepted as the start of an unfinished sequence (so 2..=4).
fn sequence_len(lead: u8) -> usize {
    match lead {
        0xC0..=0xDF => 2,
        0xE0..=0xEF => 3,
        _ => 4,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn feed_all(pieces: &[&[u8]]) -> Result<(), InvalidUtf8> {
        let mut v = Utf8Validator::new();
        for p in pieces {
            v.feed(p)?;
        }
        v.finish()
    }

    #[test]
    fn accepts_valid_text_split_at_every_byte() {
        let text = "κόσμε 孩子,地球太危险了 😀 ascii".as_bytes();
        for split in 0..=text.len() {
            assert_eq!(feed_all(&[&text[..split], &text[split..]]), Ok(()), "split {split}");
        }
        let mut v = Utf8Validator::new();
        for b in text {
            v.feed(std::slice::from_ref(b)).unwrap();
        }
        assert_eq!(v.finish(), Ok(()));
    }

    #[test]
    fn rejects_truncated_message_at_finish() {
        let text = "😀".as_bytes();
        let mut v = Utf8Validator::new();
        assert_eq!(v.feed(&text[..3]), Ok(()));
        assert_eq!(v.finish(), Err(InvalidUtf8));
    }

    #[test]
    fn fails_fast_on_impossible_prefix() {
        // 0xF4 0x90 would encode above U+10FFFF: invalid after two bytes.
        let mut v = Utf8Validator::new();
        assert_eq!(v.feed(&[0xF4]), Ok(()));
        assert_eq!(v.feed(&[0x90]), Err(InvalidUtf8));
        // Surrogate half U+D800 (ED A0 80) fails at its second byte.
        let mut v = Utf8Validator::new();
        assert_eq!(v.feed(b"ok\xED"), Ok(()));
        assert_eq!(v.feed(b"\xA0"), Err(InvalidUtf8));
        // A lone continuation byte or 0xFF fails at once.
        assert_eq!(Utf8Validator::new().feed(&[0x80]), Err(InvalidUtf8));
        assert_eq!(Utf8Validator::new().feed(&[0xFF]), Err(InvalidUtf8));
        // Overlong C0 80 fails at its lead byte.
        assert_eq!(Utf8Validator::new().feed(&[0xC0]), Err(InvalidUtf8));
    }

    #[test]
    fn one_shot_matches_std() {
        let samples: [&[u8]; 5] = [b"hello", "é".as_bytes(), b"\xCE\xBA\xE1", b"\xED\xA0\x80", b""];
        for s in samples {
            assert_eq!(is_valid(s), std::str::from_utf8(s).is_ok());
        }
    }
}
