//! The opening handshake, server side (RFC 6455 §4.2): the rules an upgrade
//! request must meet (one `HandshakeViolation` variant each), and the 101 or
//! error response.

use std::fmt;

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine;
use sha1::{Digest, Sha1};

use crate::deflate::header::ParseError;
use crate::deflate::negotiate::ConfigError;
use crate::http::request::{has_token, is_token, list_items, parse_head, RequestHead, Span};

/// RFC 6455 §1.3.
pub const GUID: &str = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
/// The only protocol version spoken (RFC 6455 §4.1).
pub const PROTOCOL_VERSION: u8 = 13;
const PROTOCOL_VERSION_TEXT: &str = "13";

/// `Sec-WebSocket-Accept` for a `Sec-WebSocket-Key`: base64(sha1(key + GUID)).
pub fn accept_key(key: &str) -> String {
    let mut sha = Sha1::new();
    sha.update(key.trim().as_bytes());
    sha.update(GUID.as_bytes());
    BASE64.encode(sha.finalize())
}

/// A rule of the opening handshake the client's request broke, one variant
/// per rule, each with the HTTP status to refuse it with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HandshakeViolation {
    MalformedRequest(httparse::Error),
    HeaderBlockTooLarge,
    MethodNotGet(String),
    HttpVersionTooOld,
    MissingHost,
    InvalidUpgradeHeader,
    InvalidConnectionHeader,
    MissingVersion,
    UnsupportedVersion,
    InvalidKey,
    InvalidProtocolHeader,
    InvalidExtensionsHeader(ParseError),
    /// Our own permessage-deflate options are out of range: a server bug.
    DeflateMisconfigured(ConfigError),
}

impl HandshakeViolation {
    /// The HTTP status to refuse the upgrade with.
    pub fn status(&self) -> u16 {
        match self {
            HandshakeViolation::HeaderBlockTooLarge => 431,
            HandshakeViolation::UnsupportedVersion => 426,
            HandshakeViolation::DeflateMisconfigured(_) => 500,
            _ => 400,
        }
    }
}

impl fmt::Display for HandshakeViolation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HandshakeViolation::MalformedRequest(e) => write!(f, "malformed HTTP request: {e}"),
            HandshakeViolation::HeaderBlockTooLarge => f.write_str("request header block too large"),
            HandshakeViolation::MethodNotGet(method) => write!(f, "invalid HTTP method {method:?}: the upgrade must be a GET"),
            HandshakeViolation::HttpVersionTooOld => f.write_str("the upgrade needs HTTP/1.1 or later"),
            HandshakeViolation::MissingHost => f.write_str("missing Host header"),
            HandshakeViolation::InvalidUpgradeHeader => f.write_str("missing or invalid Upgrade header: expected websocket"),
            HandshakeViolation::InvalidConnectionHeader => {
                f.write_str("missing or invalid Connection header: expected the Upgrade token")
            }
            HandshakeViolation::MissingVersion => f.write_str("missing Sec-WebSocket-Version header"),
            HandshakeViolation::UnsupportedVersion => {
                write!(f, "unsupported Sec-WebSocket-Version: only {PROTOCOL_VERSION} is supported")
            }
            HandshakeViolation::InvalidKey => f.write_str("missing or invalid Sec-WebSocket-Key header"),
            HandshakeViolation::InvalidProtocolHeader => f.write_str("invalid Sec-WebSocket-Protocol header"),
            HandshakeViolation::InvalidExtensionsHeader(e) => e.fmt(f),
            HandshakeViolation::DeflateMisconfigured(e) => e.fmt(f),
        }
    }
}

impl std::error::Error for HandshakeViolation {}

/// What a valid upgrade request asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Upgrade {
    pub key: String,
    /// Offered subprotocols in the client's order.
    pub protocols: Vec<String>,
    /// The raw `Sec-WebSocket-Extensions` values joined by ", ", if any.
    pub extensions: Option<String>,
}

/// §4.2.1 checks on a request that was parsed here or by Node's HTTP parser.
pub fn validate_upgrade<N: AsRef<str>, V: AsRef<str>>(
    method: &str,
    version_minor: u8,
    headers: &[(N, V)],
) -> Result<Upgrade, HandshakeViolation> {
    let values = |name: &str| -> Vec<&str> {
        headers.iter().filter(|(n, _)| n.as_ref().eq_ignore_ascii_case(name)).map(|(_, v)| v.as_ref()).collect()
    };
    if method != "GET" {
        return Err(HandshakeViolation::MethodNotGet(method.to_string()));
    }
    if version_minor < 1 {
        return Err(HandshakeViolation::HttpVersionTooOld);
    }
    if values("host").is_empty() {
        return Err(HandshakeViolation::MissingHost);
    }
    if !has_token(&values("upgrade"), "websocket") {
        return Err(HandshakeViolation::InvalidUpgradeHeader);
    }
    if !has_token(&values("connection"), "upgrade") {
        return Err(HandshakeViolation::InvalidConnectionHeader);
    }
    match values("sec-websocket-version").as_slice() {
        [] => return Err(HandshakeViolation::MissingVersion),
        [v] if v.trim() == PROTOCOL_VERSION_TEXT => {}
        _ => return Err(HandshakeViolation::UnsupportedVersion),
    }
    let key = match values("sec-websocket-key").as_slice() {
        [k] if is_valid_key(k.trim()) => k.trim().to_string(),
        _ => return Err(HandshakeViolation::InvalidKey),
    };
    let mut protocols: Vec<String> = Vec::new();
    for item in values("sec-websocket-protocol").iter().flat_map(|v| list_items(v)) {
        if !is_token(item) || protocols.iter().any(|p| p == item) {
            return Err(HandshakeViolation::InvalidProtocolHeader);
        }
        protocols.push(item.to_string());
    }
    let extension_values = values("sec-websocket-extensions");
    let extensions = if extension_values.is_empty() { None } else { Some(extension_values.join(", ")) };
    Ok(Upgrade { key, protocols, extensions })
}

/// A key is base64 of exactly 16 bytes (§4.1: 24 characters ending in "==").
fn is_valid_key(key: &str) -> bool {
    key.len() == 24 && matches!(BASE64.decode(key), Ok(bytes) if bytes.len() == 16)
}

/// The outcome of `validate_upgrade` on a parsed head, with where the key lies.
pub type ValidatedUpgrade = Result<(Upgrade, Span), HandshakeViolation>;

/// `parse_head` + `validate_upgrade`; on success also where the key lies.
/// `Ok(None)` while the head is incomplete.
pub fn parse_upgrade(
    buf: &[u8],
    max_header_bytes: usize,
) -> Result<Option<(RequestHead<'_>, ValidatedUpgrade)>, HandshakeViolation> {
    let Some(head) = parse_head(buf, max_header_bytes)? else {
        return Ok(None);
    };
    let method = head.text(head.method);
    let upgrade = validate_upgrade(&method, head.version_minor, &head.text_headers()).map(|up| {
        // The key is ASCII, so its bytes appear in the raw value where its
        // characters appear in the text (ahead of it only whitespace, which
        // is not base64).
        let key = head
            .headers
            .iter()
            .filter(|&&(n, _)| head.bytes(n).eq_ignore_ascii_case(b"sec-websocket-key"))
            .find_map(|&(_, v)| find(head.bytes(v), up.key.as_bytes()).map(|at| (v.0 + at, v.0 + at + up.key.len())))
            .unwrap_or((0, 0));
        (up, key)
    });
    Ok(Some((head, upgrade)))
}

/// First position of `needle` in `hay`.
fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    if needle.is_empty() {
        return Some(0);
    }
    hay.windows(needle.len()).position(|w| w == needle)
}

/// The complete 101 response. The one builder: a caller that needs the lines
/// (ws's `headers` event) splits it.
pub fn switching_protocols(key: &str, protocol: Option<&str>, extensions: Option<&str>) -> String {
    let mut out = String::with_capacity(160);
    out.push_str("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ");
    out.push_str(&accept_key(key));
    out.push_str("\r\n");
    if let Some(p) = protocol {
        out.push_str("Sec-WebSocket-Protocol: ");
        out.push_str(p);
        out.push_str("\r\n");
    }
    if let Some(e) = extensions {
        out.push_str("Sec-WebSocket-Extensions: ");
        out.push_str(e);
        out.push_str("\r\n");
    }
    out.push_str("\r\n");
    out
}

/// The status line and header lines of a response, without the blank line.
pub fn response_lines(response: &str) -> Vec<String> {
    let head = response.split("\r\n\r\n").next().unwrap_or("");
    head.split("\r\n").map(str::to_string).collect()
}

/// Joins response lines into the bytes to write.
pub fn join_response(lines: &[String]) -> String {
    let mut out = lines.join("\r\n");
    out.push_str("\r\n\r\n");
    out
}

/// Reason phrases for the statuses a handshake can end with.
pub fn reason_phrase(status: u16) -> &'static str {
    match status {
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        426 => "Upgrade Required",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        503 => "Service Unavailable",
        _ => "Error",
    }
}

/// A complete refusal: status line, `Connection: close`, a plain-text body;
/// for 426 also `Sec-WebSocket-Version: 13` (§4.4).
pub fn error_response(status: u16, message: &str) -> String {
    let mut out = format!(
        "HTTP/1.1 {status} {}\r\nConnection: close\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: {}\r\n",
        reason_phrase(status),
        message.len()
    );
    if status == 426 {
        out.push_str(&format!("Sec-WebSocket-Version: {PROTOCOL_VERSION}\r\n"));
    }
    out.push_str("\r\n");
    out.push_str(message);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::request::DEFAULT_MAX_HEADER_BYTES;

    const GOOD: &str = "GET /chat HTTP/1.1\r\nHost: server.example.com\r\nUpgrade: websocket\r\nConnection: keep-alive, Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: chat, superchat\r\n\r\n";

    fn validate_text(text: &str) -> Result<Upgrade, HandshakeViolation> {
        let (_, upgrade) = parse_upgrade(text.as_bytes(), DEFAULT_MAX_HEADER_BYTES)?.expect("complete");
        upgrade.map(|(up, _)| up)
    }

    #[test]
    fn rfc_accept_key() {
        assert_eq!(PROTOCOL_VERSION_TEXT, PROTOCOL_VERSION.to_string());
        assert_eq!(accept_key("dGhlIHNhbXBsZSBub25jZQ=="), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
    }

    #[test]
    fn each_rule_refuses_with_its_violation() {
        let cases = [
            (GOOD.replace("GET", "POST"), HandshakeViolation::MethodNotGet("POST".into())),
            (GOOD.replace("HTTP/1.1", "HTTP/1.0"), HandshakeViolation::HttpVersionTooOld),
            (GOOD.replace("Host: server.example.com\r\n", ""), HandshakeViolation::MissingHost),
            (GOOD.replace("Upgrade: websocket", "Upgrade: h2c"), HandshakeViolation::InvalidUpgradeHeader),
            (GOOD.replace("keep-alive, Upgrade", "keep-alive"), HandshakeViolation::InvalidConnectionHeader),
            (GOOD.replace("dGhlIHNhbXBsZSBub25jZQ==", "dGhlIHNhbXBsZSBub25j"), HandshakeViolation::InvalidKey),
            (GOOD.replace("dGhlIHNhbXBsZSBub25jZQ==", "AAAAAAAAAAAAAAAAAAAAAAAAAAAA"), HandshakeViolation::InvalidKey),
            (GOOD.replace("Sec-WebSocket-Version: 13", "Sec-WebSocket-Version: 8"), HandshakeViolation::UnsupportedVersion),
            (GOOD.replace("Sec-WebSocket-Version: 13\r\n", ""), HandshakeViolation::MissingVersion),
            (GOOD.replace("chat, superchat", "chat, chat"), HandshakeViolation::InvalidProtocolHeader),
        ];
        for (text, violation) in cases {
            let status = if violation == HandshakeViolation::UnsupportedVersion { 426 } else { 400 };
            let refused = validate_text(&text).unwrap_err();
            assert_eq!((&refused, refused.status()), (&violation, status), "{text}");
        }
    }

    #[test]
    fn upgrade_and_connection_are_case_insensitive() {
        let text = GOOD.replace("Upgrade: websocket", "upgrade: WebSocket").replace("keep-alive, Upgrade", "UPGRADE");
        assert!(validate_text(&text).is_ok());
    }

    #[test]
    fn parse_upgrade_locates_the_key() {
        let text = GOOD.replace("Sec-WebSocket-Key: dGhl", "Sec-WebSocket-Key: \t dGhl").replace("chat, superchat", "chat, superchat ");
        let mut bytes = text.as_bytes().to_vec();
        bytes.extend_from_slice(&[0x81, 0x80]);
        let (head, upgrade) = parse_upgrade(&bytes, DEFAULT_MAX_HEADER_BYTES).unwrap().unwrap();
        assert_eq!(head.bytes_used, text.len());
        let (up, key) = upgrade.unwrap();
        assert_eq!(head.bytes(key), b"dGhlIHNhbXBsZSBub25jZQ==");
        assert_eq!(up.key, "dGhlIHNhbXBsZSBub25jZQ==");
        assert_eq!(up.protocols, vec!["chat", "superchat"]);
        assert_eq!(parse_upgrade(&bytes[..10], DEFAULT_MAX_HEADER_BYTES).unwrap(), None);
    }

    #[test]
    fn parse_upgrade_reads_values_as_latin1() {
        // U+00A0 (byte 0xA0) is whitespace to `trim`: the key after it is
        // still found, byte for byte.
        let mut bytes = GOOD.replace("Sec-WebSocket-Key: ", "Sec-WebSocket-Key: \u{1}").into_bytes();
        let at = bytes.iter().position(|&b| b == 1).unwrap();
        bytes[at] = 0xa0;
        let (head, upgrade) = parse_upgrade(&bytes, DEFAULT_MAX_HEADER_BYTES).unwrap().unwrap();
        let (up, key) = upgrade.unwrap();
        assert_eq!(head.bytes(key), up.key.as_bytes());
        assert_eq!(key.0, at + 1);
    }

    #[test]
    fn responses() {
        let text = switching_protocols("dGhlIHNhbXBsZSBub25jZQ==", Some("chat"), Some("permessage-deflate"));
        assert!(text.starts_with("HTTP/1.1 101 Switching Protocols\r\n"));
        assert!(text.contains("Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"));
        assert!(text.contains("Sec-WebSocket-Protocol: chat\r\n"));
        assert!(text.ends_with("\r\n\r\n"));
        let lines = response_lines(&text);
        assert_eq!(lines.len(), 6);
        assert_eq!(join_response(&lines), text);
        let refusal = error_response(426, "nope");
        assert!(refusal.starts_with("HTTP/1.1 426 Upgrade Required\r\n"));
        assert!(refusal.contains("Sec-WebSocket-Version: 13\r\n"));
        assert!(refusal.ends_with("\r\n\r\nnope"));
    }
}
