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
use crate::proto::error::ArgumentError;

/// RFC 6455 §1.3.
pub const GUID: &str = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
/// The protocol version a client sends by default (RFC 6455 §4.1).
pub const PROTOCOL_VERSION: u8 = 13;
/// The `Sec-WebSocket-Version` values a server accepts: 13 (RFC 6455) and 8
/// (the last draft, whose framing is the same), as ws does.
const ACCEPTED_VERSIONS: [&str; 2] = ["13", "8"];
/// What a refusal for an unsupported version lists (§4.4), in ws's words.
pub const SUPPORTED_VERSIONS: &str = "13, 8";

/// `Sec-WebSocket-Accept` for a `Sec-WebSocket-Key`: base64(sha1(key + GUID)).
pub fn accept_key(key: &str) -> String {
    let mut sha = Sha1::new();
    sha.update(key.trim().as_bytes());
    sha.update(GUID.as_bytes());
    BASE64.encode(sha.finalize())
}

/// A rule of the opening handshake the client's request broke, one variant
/// per rule, each with the HTTP status to refuse it with. Where ws has the
/// rule, the message is ws's, word for word (users match on it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HandshakeViolation {
    MalformedRequest(httparse::Error),
    HeaderBlockTooLarge,
    MethodNotGet(String),
    HttpVersionTooOld,
    MissingHost,
    InvalidUpgradeHeader,
    InvalidConnectionHeader,
    InvalidKey,
    /// Missing, repeated, or neither 13 nor 8.
    UnsupportedVersion,
    InvalidProtocolHeader,
    InvalidExtensionsHeader(ParseError),
    /// Our own permessage-deflate options are out of range: a server bug.
    DeflateMisconfigured(ConfigError),
}

impl HandshakeViolation {
    /// The HTTP status to refuse the upgrade with.
    pub fn status(&self) -> u16 {
        match self {
            HandshakeViolation::MethodNotGet(_) => 405,
            HandshakeViolation::HeaderBlockTooLarge => 431,
            HandshakeViolation::DeflateMisconfigured(_) => 500,
            _ => 400,
        }
    }

    /// Headers the refusal must carry: the versions we speak, for a version
    /// we do not (§4.4).
    pub fn response_headers(&self) -> &'static [(&'static str, &'static str)] {
        match self {
            HandshakeViolation::UnsupportedVersion => &[("Sec-WebSocket-Version", SUPPORTED_VERSIONS)],
            _ => &[],
        }
    }
}

impl fmt::Display for HandshakeViolation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HandshakeViolation::MalformedRequest(e) => write!(f, "Malformed HTTP request: {e}"),
            HandshakeViolation::HeaderBlockTooLarge => f.write_str("Request header fields too large"),
            HandshakeViolation::MethodNotGet(_) => f.write_str("Invalid HTTP method"),
            HandshakeViolation::HttpVersionTooOld => f.write_str("Invalid HTTP version: the upgrade needs HTTP/1.1 or later"),
            HandshakeViolation::MissingHost => f.write_str("Missing Host header"),
            HandshakeViolation::InvalidUpgradeHeader => f.write_str("Invalid Upgrade header"),
            HandshakeViolation::InvalidConnectionHeader => f.write_str("Invalid Connection header"),
            HandshakeViolation::InvalidKey => f.write_str("Missing or invalid Sec-WebSocket-Key header"),
            HandshakeViolation::UnsupportedVersion => f.write_str("Missing or invalid Sec-WebSocket-Version header"),
            HandshakeViolation::InvalidProtocolHeader => f.write_str("Invalid Sec-WebSocket-Protocol header"),
            HandshakeViolation::InvalidExtensionsHeader(_) => {
                f.write_str("Invalid or unacceptable Sec-WebSocket-Extensions header")
            }
            HandshakeViolation::DeflateMisconfigured(e) => e.fmt(f),
        }
    }
}

impl std::error::Error for HandshakeViolation {}

/// What an upgrade request asks for, once it passed the request checks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Upgrade {
    pub key: String,
    /// Offered subprotocols in the client's order, or why the offer is
    /// malformed. A server decides on it after the checks of its own that
    /// come first (ws's order: the path, then the subprotocol header).
    pub protocols: Result<Vec<String>, HandshakeViolation>,
    /// The raw `Sec-WebSocket-Extensions` values joined by ", ", if any.
    pub extensions: Option<String>,
}

/// Whether the HTTP server that parsed the request leaves the `Host` rule
/// to the handshake.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HostRule {
    /// The request was parsed here (accept(), the primitives): HTTP/1.1
    /// requires Host (RFC 9112 §3.2), so a request without one is refused.
    Required,
    /// The request came from the user's HTTP server (handleUpgrade), which
    /// owns HTTP's rules (Node's `requireHostHeader`); ws does not ask for it.
    LeftToServer,
}

/// §4.2.1 checks on a request that was parsed here or by Node's HTTP parser,
/// in ws's order (method, Upgrade, key, version) with the rules ws leaves
/// out put where they belong (the HTTP version after the method, Host and
/// Connection after Upgrade). The subprotocol header is parsed here too, but
/// its verdict is left in `Upgrade::protocols`.
pub fn validate_upgrade<N: AsRef<str>, V: AsRef<str>>(
    method: &str,
    version_minor: u8,
    headers: &[(N, V)],
    host: HostRule,
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
    if !has_token(&values("upgrade"), "websocket") {
        return Err(HandshakeViolation::InvalidUpgradeHeader);
    }
    if host == HostRule::Required && values("host").is_empty() {
        return Err(HandshakeViolation::MissingHost);
    }
    if !has_token(&values("connection"), "upgrade") {
        return Err(HandshakeViolation::InvalidConnectionHeader);
    }
    let key = match values("sec-websocket-key").as_slice() {
        [k] if is_valid_key(k.trim()) => k.trim().to_string(),
        _ => return Err(HandshakeViolation::InvalidKey),
    };
    match values("sec-websocket-version").as_slice() {
        [v] if ACCEPTED_VERSIONS.contains(&v.trim()) => {}
        _ => return Err(HandshakeViolation::UnsupportedVersion),
    }
    let protocols = offered_protocols(&values("sec-websocket-protocol"));
    let extension_values = values("sec-websocket-extensions");
    let extensions = if extension_values.is_empty() { None } else { Some(extension_values.join(", ")) };
    Ok(Upgrade { key, protocols, extensions })
}

/// The subprotocols of `Sec-WebSocket-Protocol` values: tokens, none twice.
fn offered_protocols(values: &[&str]) -> Result<Vec<String>, HandshakeViolation> {
    let mut protocols: Vec<String> = Vec::new();
    for item in values.iter().flat_map(|v| list_items(v)) {
        if !is_token(item) || protocols.iter().any(|p| p == item) {
            return Err(HandshakeViolation::InvalidProtocolHeader);
        }
        protocols.push(item.to_string());
    }
    Ok(protocols)
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
    let upgrade = validate_upgrade(&method, head.version_minor, &head.text_headers(), HostRule::Required).map(|up| {
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

/// Reason phrases for the statuses the handshake itself refuses with; a
/// caller with another status (verifyClient's) passes its own.
pub fn reason_phrase(status: u16) -> &'static str {
    match status {
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        408 => "Request Timeout",
        426 => "Upgrade Required",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        503 => "Service Unavailable",
        _ => "Error",
    }
}

/// The headers every refusal has, in ws's order, before the caller's.
const REFUSAL_HEADERS: [&str; 3] = ["Connection", "Content-Type", "Content-Length"];
/// Of those, the ones a caller may replace.
const REPLACEABLE_HEADERS: [&str; 2] = ["Connection", "Content-Type"];

/// A complete refusal as ws writes it: the status line, `Connection: close`,
/// `Content-Type: text/html`, `Content-Length`, then `headers` (one named
/// Connection or Content-Type takes the default's place; Content-Length is
/// always the body's), and `message` as the body. `reason` defaults to `reason_phrase(status)`. A header name
/// that is not a token, or a name or value with CR, LF or NUL, is refused:
/// it would let the caller's text become other headers.
pub fn error_response(
    status: u16,
    reason: Option<&str>,
    message: &str,
    headers: &[(&str, &str)],
) -> Result<String, ArgumentError> {
    for &(name, value) in headers {
        if !is_token(name) {
            return Err(ArgumentError::type_error(format!("headers: {name:?} is not a valid header name")));
        }
        if value.bytes().any(|b| matches!(b, b'\r' | b'\n' | 0)) {
            return Err(ArgumentError::type_error(format!("headers: the value of {name} holds CR, LF or NUL")));
        }
    }
    let reason = reason.filter(|r| !r.bytes().any(|b| matches!(b, b'\r' | b'\n' | 0)));
    Ok(build_refusal(status, reason.unwrap_or(reason_phrase(status)), message, headers))
}

fn build_refusal(status: u16, reason: &str, message: &str, headers: &[(&str, &str)]) -> String {
    let length = message.len().to_string();
    let defaults = [("Connection", "close"), ("Content-Type", "text/html"), ("Content-Length", length.as_str())];
    let mut out = String::with_capacity(128 + message.len());
    out.push_str(&format!("HTTP/1.1 {status} {reason}\r\n"));
    for (name, value) in defaults {
        let replaced = headers.iter().find(|(n, _)| REPLACEABLE_HEADERS.contains(&name) && n.eq_ignore_ascii_case(name));
        let value = replaced.map_or(value, |&(_, v)| v);
        push_header(&mut out, name, value);
    }
    for &(name, value) in headers {
        if !REFUSAL_HEADERS.iter().any(|d| d.eq_ignore_ascii_case(name)) {
            push_header(&mut out, name, value);
        }
    }
    out.push_str("\r\n");
    out.push_str(message);
    out
}

/// The refusal of a request that broke `violation`: its status, message and headers.
pub fn violation_response(violation: &HandshakeViolation) -> String {
    let status = violation.status();
    build_refusal(status, reason_phrase(status), &violation.to_string(), violation.response_headers())
}

fn push_header(out: &mut String, name: &str, value: &str) {
    out.push_str(name);
    out.push_str(": ");
    out.push_str(value);
    out.push_str("\r\n");
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
        assert_eq!(accept_key("dGhlIHNhbXBsZSBub25jZQ=="), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
    }

    #[test]
    fn each_rule_refuses_with_its_violation() {
        let cases = [
            (GOOD.replace("GET", "POST"), HandshakeViolation::MethodNotGet("POST".into()), 405),
            (GOOD.replace("HTTP/1.1", "HTTP/1.0"), HandshakeViolation::HttpVersionTooOld, 400),
            (GOOD.replace("Host: server.example.com\r\n", ""), HandshakeViolation::MissingHost, 400),
            (GOOD.replace("Upgrade: websocket", "Upgrade: h2c"), HandshakeViolation::InvalidUpgradeHeader, 400),
            (GOOD.replace("keep-alive, Upgrade", "keep-alive"), HandshakeViolation::InvalidConnectionHeader, 400),
            (GOOD.replace("dGhlIHNhbXBsZSBub25jZQ==", "dGhlIHNhbXBsZSBub25j"), HandshakeViolation::InvalidKey, 400),
            (GOOD.replace("dGhlIHNhbXBsZSBub25jZQ==", "AAAAAAAAAAAAAAAAAAAAAAAAAAAA"), HandshakeViolation::InvalidKey, 400),
            (GOOD.replace("Sec-WebSocket-Version: 13", "Sec-WebSocket-Version: 12"), HandshakeViolation::UnsupportedVersion, 400),
            (GOOD.replace("Sec-WebSocket-Version: 13\r\n", ""), HandshakeViolation::UnsupportedVersion, 400),
        ];
        for (text, violation, status) in cases {
            let refused = validate_text(&text).unwrap_err();
            assert_eq!((&refused, refused.status()), (&violation, status), "{text}");
        }
    }

    #[test]
    fn checks_run_in_ws_order() {
        // Each request breaks every rule from one point on; the first is reported.
        let broken = GOOD
            .replace("GET", "PUT")
            .replace("Upgrade: websocket", "Upgrade: h2c")
            .replace("dGhlIHNhbXBsZSBub25jZQ==", "short")
            .replace("Version: 13", "Version: 7");
        let expected = [
            HandshakeViolation::MethodNotGet("PUT".into()),
            HandshakeViolation::InvalidUpgradeHeader,
            HandshakeViolation::InvalidKey,
            HandshakeViolation::UnsupportedVersion,
        ];
        let mut text = broken;
        for (violation, fix) in expected.iter().zip([("PUT", "GET"), ("h2c", "websocket"), ("short", "dGhlIHNhbXBsZSBub25jZQ=="), ("Version: 7", "Version: 13")]) {
            assert_eq!(&validate_text(&text).unwrap_err(), violation);
            text = text.replacen(fix.0, fix.1, 1);
        }
        assert!(validate_text(&text).is_ok());
    }

    #[test]
    fn versions_13_and_8_are_accepted() {
        for version in ["13", "8", " 8 "] {
            let text = GOOD.replace("Version: 13", &format!("Version: {version}"));
            assert!(validate_text(&text).is_ok(), "{version}");
        }
        let twice = GOOD.replace("Sec-WebSocket-Version: 13\r\n", "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Version: 8\r\n");
        assert_eq!(validate_text(&twice).unwrap_err(), HandshakeViolation::UnsupportedVersion);
        assert_eq!(HandshakeViolation::UnsupportedVersion.response_headers(), &[("Sec-WebSocket-Version", "13, 8")]);
    }

    #[test]
    fn host_is_left_to_the_server_that_parsed_the_request() {
        let headers = [("Upgrade", "websocket"), ("Connection", "Upgrade"), ("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="), ("Sec-WebSocket-Version", "13")];
        assert!(validate_upgrade("GET", 1, &headers, HostRule::LeftToServer).is_ok());
        assert_eq!(validate_upgrade("GET", 1, &headers, HostRule::Required).unwrap_err(), HandshakeViolation::MissingHost);
    }

    #[test]
    fn a_malformed_subprotocol_offer_is_left_for_later() {
        for offer in ["chat, chat", "foo;bar", "a b"] {
            let up = validate_text(&GOOD.replace("chat, superchat", offer)).unwrap();
            assert_eq!(up.protocols, Err(HandshakeViolation::InvalidProtocolHeader), "{offer}");
        }
    }

    #[test]
    fn messages_are_ws_words() {
        assert_eq!(HandshakeViolation::MethodNotGet("POST".into()).to_string(), "Invalid HTTP method");
        assert_eq!(HandshakeViolation::InvalidUpgradeHeader.to_string(), "Invalid Upgrade header");
        assert_eq!(HandshakeViolation::InvalidKey.to_string(), "Missing or invalid Sec-WebSocket-Key header");
        assert_eq!(HandshakeViolation::UnsupportedVersion.to_string(), "Missing or invalid Sec-WebSocket-Version header");
        assert_eq!(HandshakeViolation::InvalidProtocolHeader.to_string(), "Invalid Sec-WebSocket-Protocol header");
        let syntax = crate::deflate::header::parse_extensions("permessage-deflate;;").unwrap_err();
        assert_eq!(
            HandshakeViolation::InvalidExtensionsHeader(syntax).to_string(),
            "Invalid or unacceptable Sec-WebSocket-Extensions header"
        );
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
        assert_eq!(up.protocols, Ok(vec!["chat".to_string(), "superchat".to_string()]));
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
        let refusal = violation_response(&HandshakeViolation::UnsupportedVersion);
        assert_eq!(
            refusal,
            "HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Type: text/html\r\nContent-Length: 47\r\n\
             Sec-WebSocket-Version: 13, 8\r\n\r\nMissing or invalid Sec-WebSocket-Version header"
        );
        let custom = error_response(503, Some("Service Unavailable"), "later", &[("Retry-After", "120"), ("content-type", "text/plain")]).unwrap();
        assert_eq!(
            custom,
            "HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n\
             Retry-After: 120\r\n\r\nlater"
        );
        // The body's length is not the caller's to change.
        let length = error_response(401, None, "no", &[("Content-Length", "99")]).unwrap();
        assert!(length.starts_with("HTTP/1.1 401 Unauthorized\r\n") && length.contains("Content-Length: 2\r\n\r\nno"));
        assert!(!length.contains("99"));
        assert_eq!(error_response(405, None, "Invalid HTTP method", &[]).unwrap().lines().next(), Some("HTTP/1.1 405 Method Not Allowed"));
        // A header that would split the response is refused.
        assert!(error_response(400, None, "x", &[("X-A", "1\r\nSet-Cookie: a=b")]).is_err());
        assert!(error_response(400, None, "x", &[("X A", "1")]).is_err());
        // A reason phrase that would split the status line falls back to the core's.
        assert!(error_response(400, Some("Bad\r\nX: y"), "x", &[]).unwrap().starts_with("HTTP/1.1 400 Bad Request\r\n"));
    }
}
