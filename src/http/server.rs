//! The opening handshake, server side (RFC 6455 §4.2): parsing the HTTP
//! upgrade request, validating it, and building the 101 or error response.

use std::borrow::Cow;

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine;
use sha1::{Digest, Sha1};

/// RFC 6455 §1.3.
pub const GUID: &str = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
/// Default cap on the request's header block.
pub const DEFAULT_MAX_HEADER_BYTES: usize = 16 * 1024;
/// More header lines than this is refused (431) rather than parsed.
pub const MAX_HEADER_COUNT: usize = 100;

/// `Sec-WebSocket-Accept` for a `Sec-WebSocket-Key`: base64(sha1(key + GUID)).
pub fn accept_key(key: &str) -> String {
    let mut sha = Sha1::new();
    sha.update(key.trim().as_bytes());
    sha.update(GUID.as_bytes());
    BASE64.encode(sha.finalize())
}

/// Why a handshake was refused, with the HTTP status to answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HandshakeError {
    pub status: u16,
    pub message: String,
}

impl HandshakeError {
    fn bad_request(message: impl Into<String>) -> Self {
        Self { status: 400, message: message.into() }
    }
}

impl std::fmt::Display for HandshakeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({})", self.message, self.status)
    }
}

impl std::error::Error for HandshakeError {}

/// A parsed request line and header block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpRequest {
    pub method: String,
    pub path: String,
    /// HTTP/1.x minor version.
    pub version_minor: u8,
    /// Header names and values in wire order, values decoded as Latin-1 text.
    pub headers: Vec<(String, String)>,
}

impl HttpRequest {
    /// All values of a header, case-insensitively by name.
    pub fn header_values<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.headers.iter().filter(move |(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }
}

/// A request line and header block as parsed, borrowing the buffer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestHead<'b> {
    pub method: &'b str,
    pub path: &'b str,
    /// HTTP/1.x minor version.
    pub version_minor: u8,
    /// Header names and raw values in wire order.
    pub headers: Vec<(&'b str, &'b [u8])>,
}

/// Incremental request parsing. `Ok(None)`: the header block has not ended yet.
/// On success also returns how many bytes the header block took; bytes after
/// it already belong to the WebSocket stream. Nothing is copied.
pub fn parse_head(buf: &[u8], max_header_bytes: usize) -> Result<Option<(RequestHead<'_>, usize)>, HandshakeError> {
    let mut headers = [httparse::EMPTY_HEADER; MAX_HEADER_COUNT];
    let mut request = httparse::Request::new(&mut headers);
    let too_large = || HandshakeError { status: 431, message: "request header block too large".into() };
    match request.parse(buf) {
        Ok(httparse::Status::Partial) => {
            if buf.len() > max_header_bytes {
                Err(too_large())
            } else {
                Ok(None)
            }
        }
        Ok(httparse::Status::Complete(len)) => {
            if len > max_header_bytes {
                return Err(too_large());
            }
            let head = RequestHead {
                method: request.method.unwrap_or_default(),
                path: request.path.unwrap_or_default(),
                version_minor: request.version.unwrap_or(0),
                headers: request.headers.iter().map(|h| (h.name, h.value)).collect(),
            };
            Ok(Some((head, len)))
        }
        Err(httparse::Error::TooManyHeaders) => Err(too_large()),
        Err(e) => Err(HandshakeError::bad_request(format!("malformed HTTP request: {e}"))),
    }
}

/// Header bytes as text, each byte one Latin-1 character (as Node decodes
/// them); borrowed when the bytes are ASCII.
pub fn latin1(bytes: &[u8]) -> Cow<'_, str> {
    match std::str::from_utf8(bytes) {
        Ok(text) if bytes.is_ascii() => Cow::Borrowed(text),
        _ => Cow::Owned(bytes.iter().map(|&b| b as char).collect()),
    }
}

/// Incremental request parsing into owned strings (see `parse_head`).
pub fn parse_request(buf: &[u8], max_header_bytes: usize) -> Result<Option<(HttpRequest, usize)>, HandshakeError> {
    Ok(parse_head(buf, max_header_bytes)?.map(|(head, len)| {
        let parsed = HttpRequest {
            method: head.method.to_string(),
            path: head.path.to_string(),
            version_minor: head.version_minor,
            headers: head.headers.iter().map(|&(n, v)| (n.to_string(), latin1(v).into_owned())).collect(),
        };
        (parsed, len)
    }))
}

/// Byte offsets `[start, end)` of a part of a buffer.
pub type Span = (usize, usize);

/// Where `part`, a slice of `buf`, lies in it; (0, 0) for an empty part that
/// does not point into `buf`.
fn span_in(buf: &[u8], part: &[u8]) -> Span {
    let start = (part.as_ptr() as usize).wrapping_sub(buf.as_ptr() as usize);
    match start.checked_add(part.len()) {
        Some(end) if end <= buf.len() => (start, end),
        _ => (0, 0),
    }
}

/// A complete request located in its buffer, for bindings that hand offsets
/// rather than strings to JS; every span indexes the buffer that was parsed,
/// and since a header byte is one Latin-1 character, also its Latin-1 text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestLayout {
    pub bytes_used: usize,
    pub method: Span,
    pub path: Span,
    pub version_minor: u8,
    /// (name, value) per header, in wire order.
    pub headers: Vec<(Span, Span)>,
    /// The validation result; on success also where the key lies.
    pub upgrade: Result<(Upgrade, Span), HandshakeError>,
}

/// `parse_head` + `validate_upgrade`, with the parts as offsets.
pub fn parse_upgrade(buf: &[u8], max_header_bytes: usize) -> Result<Option<RequestLayout>, HandshakeError> {
    let Some((head, used)) = parse_head(buf, max_header_bytes)? else {
        return Ok(None);
    };
    let text: Vec<(&str, Cow<'_, str>)> = head.headers.iter().map(|&(n, v)| (n, latin1(v))).collect();
    let upgrade = validate_upgrade(head.method, head.version_minor, &text).map(|up| {
        // The key is ASCII, so its bytes appear in the raw value where its
        // characters appear in the text (ahead of it only whitespace, which
        // is not base64).
        let key = head
            .headers
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case("sec-websocket-key"))
            .find_map(|&(_, v)| find(v, up.key.as_bytes()).and_then(|at| v.get(at..at + up.key.len())))
            .map_or((0, 0), |key| span_in(buf, key));
        (up, key)
    });
    Ok(Some(RequestLayout {
        bytes_used: used,
        method: span_in(buf, head.method.as_bytes()),
        path: span_in(buf, head.path.as_bytes()),
        version_minor: head.version_minor,
        headers: head.headers.iter().map(|&(n, v)| (span_in(buf, n.as_bytes()), span_in(buf, v))).collect(),
        upgrade,
    }))
}

/// First position of `needle` in `hay`.
fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    if needle.is_empty() {
        return Some(0);
    }
    hay.windows(needle.len()).position(|w| w == needle)
}

/// What a valid upgrade request asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Upgrade {
    pub key: String,
    /// Offered subprotocols in the client's order.
    pub protocols: Vec<String>,
    /// The raw `Sec-WebSocket-Extensions` values joined by ", ", if any.
    pub extensions: Option<String>,
}

/// Comma-separated list items, trimmed, empties dropped (RFC 7230 §7).
pub fn list_items(value: &str) -> impl Iterator<Item = &str> {
    value.split(',').map(str::trim).filter(|s| !s.is_empty())
}

fn has_token(values: &[&str], token: &str) -> bool {
    values.iter().flat_map(|v| list_items(v)).any(|t| t.eq_ignore_ascii_case(token))
}

/// RFC 7230 token characters, which subprotocol names must be.
fn is_token(s: &str) -> bool {
    !s.is_empty()
        && s.bytes().all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

/// §4.2.1 checks on a request that was parsed here or by Node's HTTP parser.
pub fn validate_upgrade<N: AsRef<str>, V: AsRef<str>>(
    method: &str,
    version_minor: u8,
    headers: &[(N, V)],
) -> Result<Upgrade, HandshakeError> {
    let values = |name: &str| -> Vec<&str> {
        headers.iter().filter(|(n, _)| n.as_ref().eq_ignore_ascii_case(name)).map(|(_, v)| v.as_ref()).collect()
    };
    if method != "GET" {
        return Err(HandshakeError::bad_request(format!("invalid HTTP method {method:?}: the upgrade must be a GET")));
    }
    if version_minor < 1 {
        return Err(HandshakeError::bad_request("the upgrade needs HTTP/1.1 or later"));
    }
    if values("host").is_empty() {
        return Err(HandshakeError::bad_request("missing Host header"));
    }
    if !has_token(&values("upgrade"), "websocket") {
        return Err(HandshakeError::bad_request("missing or invalid Upgrade header: expected websocket"));
    }
    if !has_token(&values("connection"), "upgrade") {
        return Err(HandshakeError::bad_request("missing or invalid Connection header: expected the Upgrade token"));
    }
    let versions = values("sec-websocket-version");
    match versions.as_slice() {
        [] => return Err(HandshakeError::bad_request("missing Sec-WebSocket-Version header")),
        [v] if v.trim() == "13" => {}
        _ => {
            return Err(HandshakeError {
                status: 426,
                message: "unsupported Sec-WebSocket-Version: only 13 is supported".into(),
            })
        }
    }
    let key = match values("sec-websocket-key").as_slice() {
        [k] if is_valid_key(k.trim()) => k.trim().to_string(),
        _ => return Err(HandshakeError::bad_request("missing or invalid Sec-WebSocket-Key header")),
    };
    let mut protocols: Vec<String> = Vec::new();
    for item in values("sec-websocket-protocol").iter().flat_map(|v| list_items(v)) {
        if !is_token(item) || protocols.iter().any(|p| p == item) {
            return Err(HandshakeError::bad_request("invalid Sec-WebSocket-Protocol header"));
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

/// The 101 response's status line and headers, without the final blank line,
/// so a caller can add to them (ws's `headers` event) before joining.
pub fn accept_response_lines(key: &str, protocol: Option<&str>, extensions: Option<&str>) -> Vec<String> {
    let mut lines = vec![
        "HTTP/1.1 101 Switching Protocols".to_string(),
        "Upgrade: websocket".to_string(),
        "Connection: Upgrade".to_string(),
        format!("Sec-WebSocket-Accept: {}", accept_key(key)),
    ];
    if let Some(p) = protocol {
        lines.push(format!("Sec-WebSocket-Protocol: {p}"));
    }
    if let Some(e) = extensions {
        lines.push(format!("Sec-WebSocket-Extensions: {e}"));
    }
    lines
}

/// The complete 101 response: `join_response(&accept_response_lines(..))`
/// built in one string.
pub fn accept_response(key: &str, protocol: Option<&str>, extensions: Option<&str>) -> String {
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
        out.push_str("Sec-WebSocket-Version: 13\r\n");
    }
    out.push_str("\r\n");
    out.push_str(message);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = "GET /chat HTTP/1.1\r\nHost: server.example.com\r\nUpgrade: websocket\r\nConnection: keep-alive, Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: chat, superchat\r\n\r\n";

    fn validate_text(text: &str) -> Result<Upgrade, HandshakeError> {
        let (req, _) = parse_request(text.as_bytes(), DEFAULT_MAX_HEADER_BYTES)?.expect("complete");
        validate_upgrade(&req.method, req.version_minor, &req.headers)
    }

    #[test]
    fn rfc_accept_key() {
        assert_eq!(accept_key("dGhlIHNhbXBsZSBub25jZQ=="), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
    }

    #[test]
    fn parses_incrementally_and_reports_consumed() {
        let mut bytes = GOOD.as_bytes().to_vec();
        for cut in 0..bytes.len() {
            assert_eq!(parse_request(&bytes[..cut], DEFAULT_MAX_HEADER_BYTES).unwrap(), None, "cut {cut}");
        }
        bytes.extend_from_slice(&[0x81, 0x80]);
        let (req, used) = parse_request(&bytes, DEFAULT_MAX_HEADER_BYTES).unwrap().unwrap();
        assert_eq!(used, GOOD.len());
        assert_eq!(req.path, "/chat");
        let up = validate_upgrade(&req.method, req.version_minor, &req.headers).unwrap();
        assert_eq!(up.protocols, vec!["chat", "superchat"]);
    }

    #[test]
    fn header_block_limit() {
        let big = format!("GET / HTTP/1.1\r\nX: {}\r\n", "a".repeat(100));
        assert_eq!(parse_request(big.as_bytes(), 50).unwrap_err().status, 431);
    }

    #[test]
    fn each_rule_refuses() {
        let cases = [
            (GOOD.replace("GET", "POST"), 400),
            (GOOD.replace("HTTP/1.1", "HTTP/1.0"), 400),
            (GOOD.replace("Host: server.example.com\r\n", ""), 400),
            (GOOD.replace("Upgrade: websocket", "Upgrade: h2c"), 400),
            (GOOD.replace("keep-alive, Upgrade", "keep-alive"), 400),
            (GOOD.replace("dGhlIHNhbXBsZSBub25jZQ==", "dGhlIHNhbXBsZSBub25j"), 400),
            (GOOD.replace("dGhlIHNhbXBsZSBub25jZQ==", "AAAAAAAAAAAAAAAAAAAAAAAAAAAA"), 400),
            (GOOD.replace("Sec-WebSocket-Version: 13", "Sec-WebSocket-Version: 8"), 426),
            (GOOD.replace("Sec-WebSocket-Version: 13\r\n", ""), 400),
            (GOOD.replace("chat, superchat", "chat, chat"), 400),
        ];
        for (text, status) in cases {
            assert_eq!(validate_text(&text).unwrap_err().status, status, "{text}");
        }
    }

    #[test]
    fn upgrade_and_connection_are_case_insensitive() {
        let text = GOOD.replace("Upgrade: websocket", "upgrade: WebSocket").replace("keep-alive, Upgrade", "UPGRADE");
        assert!(validate_text(&text).is_ok());
    }

    #[test]
    fn parse_upgrade_locates_every_part() {
        let text = GOOD.replace("Sec-WebSocket-Key: dGhl", "Sec-WebSocket-Key: \t dGhl").replace("chat, superchat", "chat, superchat ");
        let mut bytes = text.as_bytes().to_vec();
        bytes.extend_from_slice(&[0x81, 0x80]);
        let layout = parse_upgrade(&bytes, DEFAULT_MAX_HEADER_BYTES).unwrap().unwrap();
        let at = |(start, end): Span| std::str::from_utf8(&bytes[start..end]).unwrap();
        assert_eq!(layout.bytes_used, text.len());
        assert_eq!(at(layout.method), "GET");
        assert_eq!(at(layout.path), "/chat");
        assert_eq!(layout.version_minor, 1);
        let (req, _) = parse_request(&bytes, DEFAULT_MAX_HEADER_BYTES).unwrap().unwrap();
        let located: Vec<(String, String)> =
            layout.headers.iter().map(|&(n, v)| (at(n).to_string(), at(v).to_string())).collect();
        assert_eq!(located, req.headers);
        let (up, key) = layout.upgrade.unwrap();
        assert_eq!(at(key), "dGhlIHNhbXBsZSBub25jZQ==");
        assert_eq!(up.key, "dGhlIHNhbXBsZSBub25jZQ==");
        assert_eq!(up.protocols, vec!["chat", "superchat"]);
        assert_eq!(parse_upgrade(&bytes[..10], DEFAULT_MAX_HEADER_BYTES).unwrap(), None);
        let refused = parse_upgrade(GOOD.replace("GET", "PUT").as_bytes(), DEFAULT_MAX_HEADER_BYTES).unwrap().unwrap();
        assert_eq!(refused.upgrade.unwrap_err().status, 400);
        assert_eq!(parse_upgrade(b"GET / HTTP/1.1\r\nX\x01: y\r\n\r\n", 1024).unwrap_err().status, 400);
    }

    #[test]
    fn parse_upgrade_reads_values_as_latin1() {
        // U+00A0 (byte 0xA0) is whitespace to `trim`, as it was when values
        // were decoded first: the key after it is still found, byte for byte.
        let mut bytes = GOOD.replace("Sec-WebSocket-Key: ", "Sec-WebSocket-Key: \u{1}").into_bytes();
        let at = bytes.iter().position(|&b| b == 1).unwrap();
        bytes[at] = 0xa0;
        let with_x = [&bytes[..bytes.len() - 2], b"X-Latin: caf\xe9\r\n\r\n"].concat();
        let layout = parse_upgrade(&with_x, DEFAULT_MAX_HEADER_BYTES).unwrap().unwrap();
        let (up, key) = layout.upgrade.unwrap();
        assert_eq!(&with_x[key.0..key.1], up.key.as_bytes());
        assert_eq!(key.0, at + 1);
        let (value_start, value_end) = layout.headers.last().unwrap().1;
        assert_eq!(&with_x[value_start..value_end], b"caf\xe9");
        let (req, _) = parse_request(&with_x, DEFAULT_MAX_HEADER_BYTES).unwrap().unwrap();
        assert_eq!(req.headers.last().unwrap().1, "caf\u{e9}");
    }

    #[test]
    fn accept_response_is_the_joined_lines() {
        for (protocol, extensions) in [(None, None), (Some("chat"), None), (None, Some("permessage-deflate")), (Some("a"), Some("b"))] {
            let key = "dGhlIHNhbXBsZSBub25jZQ==";
            assert_eq!(accept_response(key, protocol, extensions), join_response(&accept_response_lines(key, protocol, extensions)));
        }
    }

    #[test]
    fn responses() {
        let lines = accept_response_lines("dGhlIHNhbXBsZSBub25jZQ==", Some("chat"), None);
        let text = join_response(&lines);
        assert!(text.starts_with("HTTP/1.1 101 Switching Protocols\r\n"));
        assert!(text.contains("Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"));
        assert!(text.contains("Sec-WebSocket-Protocol: chat\r\n"));
        assert!(text.ends_with("\r\n\r\n"));
        let refusal = error_response(426, "nope");
        assert!(refusal.starts_with("HTTP/1.1 426 Upgrade Required\r\n"));
        assert!(refusal.contains("Sec-WebSocket-Version: 13\r\n"));
        assert!(refusal.ends_with("\r\n\r\nnope"));
    }
}
