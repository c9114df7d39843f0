//! close::decode_close and close::encode_close.
//!
//! Decoding arbitrary payloads: accepted only when empty (1005) or when the
//! code is in the sendable set of RFC 6455 §7.4 (written out here again,
//! independently of the crate) and the reason is UTF-8; every accepted
//! payload with a reason of at most 123 bytes re-encodes to the same bytes;
//! errors carry 1002 (length 1, bad code) or 1007 (bad UTF-8).
//! Encoding: the first two bytes as a code and the rest as a reason succeeds
//! exactly for a sendable code and a reason of at most 123 bytes, and decodes
//! back to the same code and reason when the reason is UTF-8.
#![no_main]

use libfuzzer_sys::fuzz_target;
use native_ws::proto::close::{decode_close, encode_close, is_valid_code};
use native_ws::proto::error::ArgumentErrorKind;

/// RFC 6455 §7.4.1/§7.4.2 and the IANA registry: codes an endpoint may send.
fn sendable(code: u16) -> bool {
    (1000..=1003).contains(&code) || (1007..=1014).contains(&code) || (3000..=4999).contains(&code)
}

fuzz_target!(|data: &[u8]| {
    // Decode.
    match decode_close(data) {
        Ok(info) => {
            if data.is_empty() {
                assert_eq!((info.code, info.reason_start), (1005, 0));
            } else {
                assert!(data.len() >= 2);
                assert_eq!(info.reason_start, 2);
                assert_eq!(info.code, u16::from_be_bytes([data[0], data[1]]));
                assert!(sendable(info.code), "accepted close code {}", info.code);
                let reason = &data[2..];
                assert!(
                    std::str::from_utf8(reason).is_ok(),
                    "accepted a non-UTF-8 reason"
                );
                match encode_close(Some(info.code), reason) {
                    Ok(bytes) => {
                        assert!(reason.len() <= 123);
                        assert_eq!(bytes, data, "re-encoding differs");
                    }
                    Err(e) => {
                        assert!(reason.len() > 123, "re-encoding refused: {e}");
                        assert_eq!(e.kind, ArgumentErrorKind::Range);
                    }
                }
            }
        }
        Err(e) => {
            if data.len() == 1 {
                assert_eq!(e.close_code(), 1002);
            } else {
                assert!(data.len() >= 2, "empty payload refused");
                let code = u16::from_be_bytes([data[0], data[1]]);
                if !sendable(code) {
                    assert_eq!(e.close_code(), 1002, "code {code}");
                } else {
                    assert_eq!(e.close_code(), 1007, "code {code} refused for {}", e);
                    assert!(
                        std::str::from_utf8(&data[2..]).is_err(),
                        "valid reason refused"
                    );
                }
            }
        }
    }

    // Encode.
    if data.len() >= 2 {
        let code = u16::from_be_bytes([data[0], data[1]]);
        assert_eq!(is_valid_code(code), sendable(code), "is_valid_code({code})");
        let reason = &data[2..];
        match encode_close(Some(code), reason) {
            Ok(bytes) => {
                assert!(
                    sendable(code) && reason.len() <= 123,
                    "encoded code {code} with {} bytes",
                    reason.len()
                );
                assert_eq!(&bytes[..2], &code.to_be_bytes());
                assert_eq!(&bytes[2..], reason);
                let decoded = decode_close(&bytes);
                if std::str::from_utf8(reason).is_ok() {
                    let info = decoded.expect("own encoding refused");
                    assert_eq!((info.code, &bytes[info.reason_start..]), (code, reason));
                } else {
                    assert_eq!(decoded.unwrap_err().close_code(), 1007);
                }
            }
            Err(e) => {
                assert!(
                    !sendable(code) || reason.len() > 123,
                    "refused code {code}: {e}"
                );
                assert_eq!(e.kind, ArgumentErrorKind::Range);
            }
        }
    }
    // No code: only the empty payload.
    assert_eq!(encode_close(None, data).is_ok(), data.is_empty());
});
