//! The one representation of an HTTP request head: parsed incrementally from
//! bytes, nothing copied, every part an offset span into the parsed buffer
//! (which, a header byte being one Latin-1 character, also indexes its
//! Latin-1 text). The server's checks read it through `text_headers`; the
//! binding hands the spans to JS as a table or builds strings from them.

use std::borrow::Cow;

use crate::http::server::HandshakeViolation;

/// Default cap on the request's header block.
pub const DEFAULT_MAX_HEADER_BYTES: usize = 16 * 1024;
/// More header lines than this is refused (431) rather than parsed.
pub const MAX_HEADER_COUNT: usize = 100;

/// Byte offsets `[start, end)` of a part of a buffer.
pub type Span = (usize, usize);

/// A request line and header block, located in the buffer it was parsed from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestHead<'b> {
    pub buf: &'b [u8],
    /// Bytes the head took; bytes after it already belong to the WebSocket stream.
    pub bytes_used: usize,
    pub method: Span,
    pub path: Span,
    /// HTTP/1.x minor version.
    pub version_minor: u8,
    /// (name, value) per header, in wire order.
    pub headers: Vec<(Span, Span)>,
}

impl<'b> RequestHead<'b> {
    /// The bytes of a span.
    pub fn bytes(&self, (start, end): Span) -> &'b [u8] {
        self.buf.get(start..end).unwrap_or(&[])
    }

    /// The text of a span, each byte one Latin-1 character (as Node decodes headers).
    pub fn text(&self, span: Span) -> Cow<'b, str> {
        latin1(self.bytes(span))
    }

    /// Names and values as text, for the checks shared with Node-parsed requests.
    pub fn text_headers(&self) -> Vec<(Cow<'b, str>, Cow<'b, str>)> {
        self.headers.iter().map(|&(n, v)| (self.text(n), self.text(v))).collect()
    }
}

/// Incremental request parsing. `Ok(None)`: the header block has not ended yet.
pub fn parse_head(buf: &[u8], max_header_bytes: usize) -> Result<Option<RequestHead<'_>>, HandshakeViolation> {
    let mut headers = [httparse::EMPTY_HEADER; MAX_HEADER_COUNT];
    let mut request = httparse::Request::new(&mut headers);
    match request.parse(buf) {
        Ok(httparse::Status::Partial) => {
            if buf.len() > max_header_bytes {
                Err(HandshakeViolation::HeaderBlockTooLarge)
            } else {
                Ok(None)
            }
        }
        Ok(httparse::Status::Complete(len)) => {
            if len > max_header_bytes {
                return Err(HandshakeViolation::HeaderBlockTooLarge);
            }
            Ok(Some(RequestHead {
                buf,
                bytes_used: len,
                method: span_in(buf, request.method.unwrap_or_default().as_bytes()),
                path: span_in(buf, request.path.unwrap_or_default().as_bytes()),
                version_minor: request.version.unwrap_or(0),
                headers: request.headers.iter().map(|h| (span_in(buf, h.name.as_bytes()), span_in(buf, h.value))).collect(),
            }))
        }
        Err(httparse::Error::TooManyHeaders) => Err(HandshakeViolation::HeaderBlockTooLarge),
        Err(e) => Err(HandshakeViolation::MalformedRequest(e)),
    }
}

/// Header bytes as text, each byte one Latin-1 character; borrowed when ASCII.
pub fn latin1(bytes: &[u8]) -> Cow<'_, str> {
    match std::str::from_utf8(bytes) {
        Ok(text) if bytes.is_ascii() => Cow::Borrowed(text),
        _ => Cow::Owned(bytes.iter().map(|&b| b as char).collect()),
    }
}

/// Where `part`, a slice of `buf`, lies in it; (0, 0) for an empty part that
/// does not point into `buf`.
pub fn span_in(buf: &[u8], part: &[u8]) -> Span {
    let start = (part.as_ptr() as usize).wrapping_sub(buf.as_ptr() as usize);
    match start.checked_add(part.len()) {
        Some(end) if end <= buf.len() => (start, end),
        _ => (0, 0),
    }
}

/// Comma-separated list items, trimmed, empties dropped (RFC 7230 §7).
pub fn list_items(value: &str) -> impl Iterator<Item = &str> {
    value.split(',').map(str::trim).filter(|s| !s.is_empty())
}

/// Whether any of `values` lists `token`, case-insensitively.
pub fn has_token<V: AsRef<str>>(values: &[V], token: &str) -> bool {
    values.iter().flat_map(|v| list_items(v.as_ref())).any(|t| t.eq_ignore_ascii_case(token))
}

/// RFC 7230 token characters, which subprotocol names must be.
pub fn is_token(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = "GET /chat HTTP/1.1\r\nHost: server.example.com\r\nX-Latin: caf\u{e9}\r\n\r\n";

    #[test]
    fn parses_incrementally_and_locates_every_part() {
        let mut bytes = GOOD.replace('\u{e9}', "\u{1}").into_bytes();
        let at = bytes.iter().position(|&b| b == 1).unwrap();
        bytes[at] = 0xe9;
        let whole = bytes.len();
        for cut in 0..whole {
            assert_eq!(parse_head(&bytes[..cut], DEFAULT_MAX_HEADER_BYTES).unwrap(), None, "cut {cut}");
        }
        bytes.extend_from_slice(&[0x81, 0x80]);
        let head = parse_head(&bytes, DEFAULT_MAX_HEADER_BYTES).unwrap().unwrap();
        assert_eq!(head.bytes_used, whole);
        assert_eq!((head.bytes(head.method), head.bytes(head.path), head.version_minor), (&b"GET"[..], &b"/chat"[..], 1));
        let text = head.text_headers();
        assert_eq!(text[0], ("Host".into(), "server.example.com".into()));
        assert_eq!(text[1].1, "caf\u{e9}");
        assert_eq!(head.bytes(head.headers[1].1), b"caf\xe9");
    }

    #[test]
    fn limits_and_malformed_input() {
        let big = format!("GET / HTTP/1.1\r\nX: {}\r\n", "a".repeat(100));
        assert_eq!(parse_head(big.as_bytes(), 50).unwrap_err(), HandshakeViolation::HeaderBlockTooLarge);
        assert!(matches!(parse_head(b"GET / HTTP/1.1\r\nX\x01: y\r\n\r\n", 1024), Err(HandshakeViolation::MalformedRequest(_))));
        let many: String = (0..=MAX_HEADER_COUNT).map(|i| format!("X-{i}: v\r\n")).collect();
        let many = format!("GET / HTTP/1.1\r\n{many}\r\n");
        assert_eq!(parse_head(many.as_bytes(), 1 << 20).unwrap_err().status(), 431);
    }

    #[test]
    fn tokens_and_lists() {
        assert!(has_token(&["keep-alive, Upgrade"], "upgrade"));
        assert!(!has_token(&["keep-alive"], "upgrade"));
        assert_eq!(list_items(" a, ,b ").collect::<Vec<_>>(), ["a", "b"]);
        assert!(is_token("chat.v2") && !is_token("a b") && !is_token(""));
    }
}
