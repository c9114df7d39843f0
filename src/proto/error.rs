//! Errors of the protocol core. Each protocol violation carries the close
//! code the connection must be failed with (RFC 6455 §7.4.1).

use std::fmt;

/// Close codes used by the core.
pub mod code {
    pub const NORMAL: u16 = 1000;
    pub const GOING_AWAY: u16 = 1001;
    pub const PROTOCOL_ERROR: u16 = 1002;
    pub const UNSUPPORTED_DATA: u16 = 1003;
    pub const NO_STATUS: u16 = 1005;
    pub const ABNORMAL: u16 = 1006;
    pub const INVALID_PAYLOAD: u16 = 1007;
    pub const POLICY_VIOLATION: u16 = 1008;
    pub const MESSAGE_TOO_BIG: u16 = 1009;
    pub const INTERNAL_ERROR: u16 = 1011;
}

/// A violation by the peer: fail the connection with `close_code`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProtocolError {
    pub close_code: u16,
    pub message: &'static str,
}

impl ProtocolError {
    pub const fn new(close_code: u16, message: &'static str) -> Self {
        Self { close_code, message }
    }
}

impl fmt::Display for ProtocolError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} (close code {})", self.message, self.close_code)
    }
}

impl std::error::Error for ProtocolError {}

/// A bad argument from the caller of the core (not the peer's fault).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArgumentError {
    pub kind: ArgumentErrorKind,
    pub message: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ArgumentErrorKind {
    /// Wrong kind of value (becomes a JS TypeError).
    Type,
    /// Value outside the allowed range (becomes a JS RangeError).
    Range,
}

impl ArgumentError {
    pub fn range(message: impl Into<String>) -> Self {
        Self { kind: ArgumentErrorKind::Range, message: message.into() }
    }
    pub fn type_error(message: impl Into<String>) -> Self {
        Self { kind: ArgumentErrorKind::Type, message: message.into() }
    }
}

impl fmt::Display for ArgumentError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for ArgumentError {}
