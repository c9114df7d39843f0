//! Close frame payloads (RFC 6455 §5.5.1, §7.4): a 2-byte big-endian status
//! code followed by a UTF-8 reason, at most 125 bytes in all.

use crate::proto::error::{code, ArgumentError, Violation};
use crate::proto::utf8;

/// Longest reason that fits a control frame beside the 2-byte code.
pub const MAX_REASON_BYTES: usize = 123;

/// Codes an endpoint may put on the wire. 1004 is reserved, 1005/1006/1015
/// only describe local events, and 1015+ up to 2999 are unassigned.
pub fn is_valid_code(code: u16) -> bool {
    matches!(code, 1000..=1003 | 1007..=1014 | 3000..=4999)
}

/// Builds a close payload. `code: None` gives the empty payload (no status).
pub fn encode_close(code: Option<u16>, reason: &[u8]) -> Result<Vec<u8>, ArgumentError> {
    let Some(code) = code else {
        if !reason.is_empty() {
            return Err(ArgumentError::type_error("code: a reason needs a status code"));
        }
        return Ok(Vec::new());
    };
    if !is_valid_code(code) {
        return Err(ArgumentError::range(format!(
            "code: {code} is not a status code that may be sent (1000, 1001-1003, 1007-1014, 3000-4999)"
        )));
    }
    if reason.len() > MAX_REASON_BYTES {
        return Err(ArgumentError::range(format!(
            "reason: {} UTF-8 bytes, at most {MAX_REASON_BYTES} fit in a close frame",
            reason.len()
        )));
    }
    let mut payload = Vec::with_capacity(2 + reason.len());
    payload.extend_from_slice(&code.to_be_bytes());
    payload.extend_from_slice(reason);
    Ok(payload)
}

/// What a received close frame said.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CloseInfo {
    /// The status code, or 1005 when the payload was empty.
    pub code: u16,
    /// Byte range of the reason within the payload.
    pub reason_start: usize,
}

/// Validates a received close payload.
pub fn decode_close(payload: &[u8]) -> Result<CloseInfo, Violation> {
    decode_close_with(payload, false)
}

/// `decode_close`, leaving the reason's UTF-8 unchecked when `skip_utf8`.
pub fn decode_close_with(payload: &[u8], skip_utf8: bool) -> Result<CloseInfo, Violation> {
    match payload.len() {
        0 => Ok(CloseInfo { code: code::NO_STATUS, reason_start: 0 }),
        1 => Err(Violation::InvalidControlPayloadLength(1)),
        _ => {
            let status = u16::from_be_bytes([payload[0], payload[1]]);
            if !is_valid_code(status) {
                return Err(Violation::InvalidCloseCode(status));
            }
            if !skip_utf8 && !utf8::is_valid(&payload[2..]) {
                return Err(Violation::InvalidUtf8);
            }
            Ok(CloseInfo { code: status, reason_start: 2 })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const REASON: &str = "孩子,地球太危险了,快回火星去吧!";

    #[test]
    fn round_trip_with_chinese_reason() {
        let payload = encode_close(Some(1000), REASON.as_bytes()).unwrap();
        assert_eq!(&payload[..2], &[0x03, 0xE8]);
        let info = decode_close(&payload).unwrap();
        assert_eq!(info.code, 1000);
        assert_eq!(&payload[info.reason_start..], REASON.as_bytes());
    }

    #[test]
    fn sendable_codes() {
        for c in [1000, 1001, 1002, 1003, 1007, 1011, 1014, 3000, 4999] {
            assert!(is_valid_code(c), "{c}");
        }
        for c in [0, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999, 5000, 65535] {
            assert!(!is_valid_code(c), "{c}");
            assert!(encode_close(Some(c), b"").is_err());
        }
    }

    #[test]
    fn reason_limit() {
        assert!(encode_close(Some(1000), &[b'a'; 123]).is_ok());
        let err = encode_close(Some(1000), &[b'a'; 124]).unwrap_err();
        assert_eq!(err.kind, crate::proto::error::ArgumentErrorKind::Range);
    }

    #[test]
    fn decode_rules() {
        assert_eq!(decode_close(&[]).unwrap().code, 1005);
        assert_eq!(decode_close(&[0x03]).unwrap_err().close_code(), 1002);
        assert_eq!(decode_close(&[0x03, 0xED]).unwrap_err().close_code(), 1002); // 1005
        assert_eq!(decode_close(&[0x03, 0xE8, 0xFF]).unwrap_err().close_code(), 1007);
        assert_eq!(encode_close(None, b"").unwrap(), Vec::<u8>::new());
    }
}
