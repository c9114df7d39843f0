//! Client side of the RFC 6455 opening handshake over a non-blocking socket.

use std::io::{self, Read, Write};

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use sha1::{Digest, Sha1};

use crate::args::Target;
use crate::conn::Rng;

const GUID: &str = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
/// Upper bound on the response head we are willing to buffer.
const MAX_RESPONSE: usize = 16 * 1024;

pub fn accept_for(key: &str) -> String {
    let mut h = Sha1::new();
    h.update(key.as_bytes());
    h.update(GUID.as_bytes());
    B64.encode(h.finalize())
}

pub fn request(target: &Target, key: &str) -> Vec<u8> {
    format!(
        "GET {} HTTP/1.1\r\nHost: {}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: {}\r\nSec-WebSocket-Version: 13\r\n\r\n",
        target.path, target.host_header, key
    )
    .into_bytes()
}

/// Looks for a complete response head in `buf`. Returns `Ok(None)` when more bytes are needed,
/// `Ok(Some(n))` with the head length when it is a valid 101 for our key.
pub fn check_response(buf: &[u8], expected_accept: &str) -> Result<Option<usize>, String> {
    let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") else {
        if buf.len() > MAX_RESPONSE {
            return Err("handshake: response head too large".into());
        }
        return Ok(None);
    };
    let head =
        std::str::from_utf8(&buf[..end]).map_err(|_| "handshake: response head is not UTF-8")?;
    let mut lines = head.split("\r\n");
    let status = lines.next().unwrap_or("");
    let mut parts = status.split(' ');
    let (version, code) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
    if !version.starts_with("HTTP/1.") || code != "101" {
        return Err(format!("handshake: expected 101, got {status:?}"));
    }
    let (mut accept_ok, mut upgrade_ok, mut connection_ok) = (false, false, false);
    for line in lines {
        let Some((name, value)) = line.split_once(':') else {
            return Err(format!("handshake: malformed header line {line:?}"));
        };
        let (name, value) = (name.trim(), value.trim());
        if name.eq_ignore_ascii_case("sec-websocket-accept") {
            accept_ok = value == expected_accept;
        } else if name.eq_ignore_ascii_case("upgrade") {
            upgrade_ok = value.eq_ignore_ascii_case("websocket");
        } else if name.eq_ignore_ascii_case("connection") {
            connection_ok = value
                .split(',')
                .any(|t| t.trim().eq_ignore_ascii_case("upgrade"));
        } else if name.eq_ignore_ascii_case("sec-websocket-extensions") && !value.is_empty() {
            return Err("handshake: server selected an extension we did not offer".into());
        }
    }
    if !accept_ok {
        return Err("handshake: missing or wrong Sec-WebSocket-Accept".into());
    }
    if !upgrade_ok || !connection_ok {
        return Err("handshake: missing Upgrade/Connection headers".into());
    }
    Ok(Some(end + 4))
}

/// Drives one handshake: write the request, read until the response head is complete.
pub struct ClientHandshake {
    req: Vec<u8>,
    written: usize,
    resp: Vec<u8>,
    accept: String,
}

impl ClientHandshake {
    pub fn new(target: &Target, rng: &mut Rng) -> Self {
        let mut raw_key = [0u8; 16];
        rng.fill(&mut raw_key);
        let key = B64.encode(raw_key);
        ClientHandshake {
            req: request(target, &key),
            written: 0,
            resp: Vec::with_capacity(256),
            accept: accept_for(&key),
        }
    }

    /// Makes as much progress as the socket allows. `Ok(Some(leftover))` once upgraded, where
    /// `leftover` is any frame data that arrived right behind the response head.
    pub fn drive<S: Read + Write>(&mut self, s: &mut S) -> Result<Option<Vec<u8>>, String> {
        while self.written < self.req.len() {
            match s.write(&self.req[self.written..]) {
                Ok(0) => return Err("handshake: write returned 0".into()),
                Ok(n) => self.written += n,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(None),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(format!("handshake write: {e}")),
            }
        }
        let mut chunk = [0u8; 4096];
        loop {
            match s.read(&mut chunk) {
                Ok(0) => return Err("handshake: server closed the connection".into()),
                Ok(n) => {
                    self.resp.extend_from_slice(&chunk[..n]);
                    if let Some(head) = check_response(&self.resp, &self.accept)? {
                        return Ok(Some(self.resp.split_off(head)));
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(None),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(format!("handshake read: {e}")),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc_example_accept() {
        assert_eq!(
            accept_for("dGhlIHNhbXBsZSBub25jZQ=="),
            "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
        );
    }

    #[test]
    fn response_checks() {
        let acc = accept_for("dGhlIHNhbXBsZSBub25jZQ==");
        let ok = format!(
            "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: {acc}\r\n\r\n\x02\x00"
        );
        assert_eq!(
            check_response(ok.as_bytes(), &acc).unwrap(),
            Some(ok.len() - 2)
        );
        assert_eq!(check_response(&ok.as_bytes()[..20], &acc).unwrap(), None);
        assert!(check_response(b"HTTP/1.1 400 Bad Request\r\n\r\n", &acc).is_err());
        let wrong = ok.replace(&acc, "AAAAAAAAAAAAAAAAAAAAAAAAAAA=");
        assert!(check_response(wrong.as_bytes(), &acc).is_err());
    }
}
