//! The `Sec-WebSocket-Extensions` grammar (RFC 6455 §9.1, RFC 7230 §3.2.6
//! tokens and quoted-strings): a header value parsed into offers.

use std::fmt;

/// One extension parameter; the name is lower-cased, a quoted value unquoted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExtensionParam {
    pub name: String,
    pub value: Option<String>,
}

/// One offered extension; the name is lower-cased.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Offer {
    pub name: String,
    pub params: Vec<ExtensionParam>,
}

/// A syntax error in a `Sec-WebSocket-Extensions` value, at byte `position`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ParseError {
    pub position: usize,
    pub message: &'static str,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid Sec-WebSocket-Extensions header: {} at index {}", self.message, self.position)
    }
}

impl std::error::Error for ParseError {}

// ---------------------------------------------------------------------------
// Parsing (RFC 6455 §9.1 grammar, RFC 7230 §3.2.6 tokens and quoted-strings)
// ---------------------------------------------------------------------------

/// Parses a `Sec-WebSocket-Extensions` value into offers, in order.
///
/// Several header lines must be joined with ", " first (RFC 7230 §3.2.2).
/// Optional whitespace is allowed around every separator, and empty list
/// elements (`a, , b`) are skipped as RFC 7230 §7 requires; anything else
/// that does not fit the grammar is an error. A quoted value must still be a
/// token once unescaped (RFC 6455 §9.1).
pub fn parse_extensions(header: &str) -> Result<Vec<Offer>, ParseError> {
    let mut cursor = Cursor { bytes: header.as_bytes(), pos: 0 };
    let mut offers = Vec::new();
    loop {
        cursor.skip_ows();
        match cursor.peek() {
            None => return Ok(offers),
            Some(b',') => cursor.pos += 1,
            Some(_) => offers.push(cursor.extension()?),
        }
    }
}

struct Cursor<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl Cursor<'_> {
    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    fn error(&self, message: &'static str) -> ParseError {
        ParseError { position: self.pos, message }
    }

    fn skip_ows(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t')) {
            self.pos += 1;
        }
    }

    /// `extension-token *( ";" extension-param )`, consuming a trailing ",".
    fn extension(&mut self) -> Result<Offer, ParseError> {
        let name = self.token("expected an extension name")?.to_ascii_lowercase();
        let mut params = Vec::new();
        loop {
            self.skip_ows();
            match self.peek() {
                None => break,
                Some(b',') => {
                    self.pos += 1;
                    break;
                }
                Some(b';') => {
                    self.pos += 1;
                    self.skip_ows();
                    params.push(self.param()?);
                }
                Some(_) => return Err(self.error("unexpected character")),
            }
        }
        Ok(Offer { name, params })
    }

    /// `token [ "=" ( token | quoted-string ) ]`.
    fn param(&mut self) -> Result<ExtensionParam, ParseError> {
        let name = self.token("expected a parameter name")?.to_ascii_lowercase();
        self.skip_ows();
        if self.peek() != Some(b'=') {
            return Ok(ExtensionParam { name, value: None });
        }
        self.pos += 1;
        self.skip_ows();
        let value = if self.peek() == Some(b'"') {
            self.quoted_token()?
        } else {
            self.token("expected a parameter value")?.to_owned()
        };
        Ok(ExtensionParam { name, value: Some(value) })
    }

    fn token(&mut self, missing: &'static str) -> Result<&str, ParseError> {
        let start = self.pos;
        while self.peek().is_some_and(is_tchar) {
            self.pos += 1;
        }
        if self.pos == start {
            return Err(self.error(missing));
        }
        // Token characters are ASCII, so this slice is on char boundaries.
        std::str::from_utf8(&self.bytes[start..self.pos]).map_err(|_| self.error(missing))
    }

    /// A quoted-string whose unescaped content must be a token.
    fn quoted_token(&mut self) -> Result<String, ParseError> {
        let start = self.pos;
        self.pos += 1; // opening quote
        let mut value = String::new();
        loop {
            let byte = self.peek().ok_or(ParseError { position: start, message: "unterminated quoted string" })?;
            self.pos += 1;
            let ch = match byte {
                b'"' => break,
                b'\\' => self.peek().ok_or(ParseError { position: start, message: "unterminated quoted string" })?,
                _ => byte,
            };
            if byte == b'\\' {
                self.pos += 1;
            }
            if !is_tchar(ch) {
                return Err(ParseError { position: self.pos - 1, message: "quoted value is not a token" });
            }
            value.push(char::from(ch));
        }
        if value.is_empty() {
            return Err(ParseError { position: start, message: "quoted value is not a token" });
        }
        Ok(value)
    }
}

/// RFC 7230 §3.2.6 `tchar`.
fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

