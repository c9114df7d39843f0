//! http::request::parse_head + http::server::validate_upgrade on arbitrary bytes.
//!
//! The first two bytes choose `max_header_bytes` (16..=4111); the rest is the
//! request. Invariants: no panic; a buffer longer than the limit is never
//! "incomplete" (it is 431, or a request complete within the limit); a
//! complete request used at most the limit and at most the input; refusals are
//! 400, 405 or 431 only, and their responses build; the complete request parses the same from exactly its
//! own bytes, and every shorter prefix is incomplete (accept() re-parses the
//! growing buffer on each chunk, so a prefix error would refuse a client whose
//! request arrived in pieces); a valid upgrade has a 24-character key, token
//! subprotocols without duplicates, and a 101 response that builds.
#![no_main]

use libfuzzer_sys::fuzz_target;
use native_ws::http::request::parse_head;
use native_ws::http::server::{
    accept_key, join_response, response_lines, switching_protocols, validate_upgrade,
    violation_response, HostRule,
};

fn is_token(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

fuzz_target!(|data: &[u8]| {
    if data.len() < 2 {
        return;
    }
    let max = 16 + (u16::from_le_bytes([data[0], data[1]]) as usize % 4096);
    let buf = &data[2..];
    match parse_head(buf, max) {
        Ok(None) => assert!(
            buf.len() <= max,
            "{} bytes over the {max}-byte limit but still incomplete",
            buf.len()
        ),
        Ok(Some(req)) => {
            let used = req.bytes_used;
            assert!(used <= buf.len(), "bytes_used {used} > input {}", buf.len());
            assert!(used <= max, "bytes_used {used} > limit {max}");
            // The same request from exactly its own bytes.
            let again = parse_head(&buf[..used], max)
                .expect("own bytes refused")
                .expect("own bytes incomplete");
            assert_eq!(
                (again.bytes_used, again.method, again.path, &again.headers),
                (used, req.method, req.path, &req.headers),
                "reparse differs"
            );
            // Every strict prefix is incomplete (a sample of cut points).
            let step = (used / 64).max(1);
            for cut in (0..used).step_by(step).chain([used - 1]) {
                match parse_head(&buf[..cut], max) {
                    Ok(None) => {}
                    other => {
                        panic!("prefix of {cut}/{used} bytes of a complete request gave {other:?}")
                    }
                }
            }
            let method = req.text(req.method);
            match validate_upgrade(&method, req.version_minor, &req.text_headers(), HostRule::Required) {
                Ok(up) => {
                    let up_protocols = match up.protocols {
                        Ok(ref list) => list.clone(),
                        Err(ref e) => {
                            assert_eq!(e.status(), 400);
                            Vec::new()
                        }
                    };
                    assert_eq!(method, "GET");
                    assert!(req.version_minor >= 1);
                    assert_eq!(up.key.len(), 24, "key {:?}", up.key);
                    assert_eq!(accept_key(&up.key).len(), 28);
                    for (i, p) in up_protocols.iter().enumerate() {
                        assert!(is_token(p), "subprotocol {p:?} is not a token");
                        assert!(
                            !up_protocols[..i].contains(p),
                            "duplicate subprotocol {p:?}"
                        );
                    }
                    let proto = up_protocols.first().map(String::as_str);
                    let text = switching_protocols(&up.key, proto, up.extensions.as_deref());
                    assert_eq!(join_response(&response_lines(&text)), text);
                    assert!(
                        text.starts_with("HTTP/1.1 101 Switching Protocols\r\n")
                            && text.ends_with("\r\n\r\n")
                    );
                }
                Err(e) => {
                    assert!(
                        matches!(e.status(), 400 | 405),
                        "validate_upgrade status {}",
                        e.status()
                    );
                    let response = violation_response(&e);
                    assert!(response.contains("\r\n\r\n"));
                }
            }
        }
        Err(e) => {
            assert!(
                matches!(e.status(), 400 | 431),
                "parse_head status {}",
                e.status()
            );
            let _ = violation_response(&e);
        }
    }
});
