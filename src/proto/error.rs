//! Errors of the protocol core: one `Violation` variant per rule a peer can
//! break while frames arrive, each with the close code the connection fails
//! with (RFC 6455 §7.4.1) and the error code `ws` reports for it; and the
//! `ArgumentError` a caller of the core gets for a bad argument.

use std::fmt;

/// Close codes (RFC 6455 §7.4.1) the core sends, reports or refuses.
pub mod code {
    pub const NORMAL: u16 = 1000;
    pub const PROTOCOL_ERROR: u16 = 1002;
    /// Reported for a close frame without a payload; never sent.
    pub const NO_STATUS: u16 = 1005;
    /// Reported when the connection drops without a close frame; never sent.
    pub const ABNORMAL: u16 = 1006;
    pub const INVALID_PAYLOAD: u16 = 1007;
    pub const POLICY_VIOLATION: u16 = 1008;
    pub const MESSAGE_TOO_BIG: u16 = 1009;
    pub const INTERNAL_ERROR: u16 = 1011;
}

/// A rule of RFC 6455 / RFC 7692 the peer broke: fail the connection with
/// [`Violation::close_code`]. Messages are `ws`'s where `ws` has the rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Violation {
    /// A server received an unmasked frame (§5.1).
    ExpectedMask,
    /// A client received a masked frame (§5.1).
    UnexpectedMask,
    /// RSV2 or RSV3 set; no extension defines them (§5.2).
    UnexpectedRsv23,
    /// RSV1 set without permessage-deflate, or on a control or continuation frame (RFC 7692 §6).
    UnexpectedRsv1,
    /// A reserved opcode, a continuation with no message in progress (0), or
    /// a new data frame inside a fragmented message.
    InvalidOpcode(u8),
    /// A fragmented control frame (§5.5).
    ExpectedFin,
    /// A control frame longer than 125 bytes, or a close frame of 1 byte (§5.5).
    InvalidControlPayloadLength(u8),
    /// A 64-bit length over 2^53 - 1 (§5.2 forbids the most significant bit;
    /// ws refuses every length a JS number cannot hold, with 1009).
    UnsupportedDataPayloadLength,
    /// The message exceeds maxPayload.
    MessageTooBig,
    /// A message in more data frames than maxFragments allows.
    TooManyFragments,
    /// A frame that arrived in more socket chunks than maxBufferedChunks allows.
    TooManyBufferedChunks,
    /// A close frame with a code that may not be sent (§7.4).
    InvalidCloseCode(u16),
    /// Text or a close reason that is not UTF-8 (§8.1).
    InvalidUtf8,
    /// A compressed message that does not inflate (RFC 7692 §7.2.2).
    InvalidCompressedData,
    /// A bug of ours, not the peer's (close 1011).
    Internal(&'static str),
}

impl Violation {
    /// The close code to fail the connection with.
    pub const fn close_code(&self) -> u16 {
        match self {
            Violation::MessageTooBig | Violation::UnsupportedDataPayloadLength => code::MESSAGE_TOO_BIG,
            Violation::TooManyFragments | Violation::TooManyBufferedChunks => code::POLICY_VIOLATION,
            Violation::InvalidUtf8 | Violation::InvalidCompressedData => code::INVALID_PAYLOAD,
            Violation::Internal(_) => code::INTERNAL_ERROR,
            _ => code::PROTOCOL_ERROR,
        }
    }

    /// `ws`'s `err.code` for the rule (`Z_DATA_ERROR` is zlib's, which ws passes on).
    pub const fn error_code(&self) -> &'static str {
        match self {
            Violation::ExpectedMask => "WS_ERR_EXPECTED_MASK",
            Violation::UnexpectedMask => "WS_ERR_UNEXPECTED_MASK",
            Violation::UnexpectedRsv23 => "WS_ERR_UNEXPECTED_RSV_2_3",
            Violation::UnexpectedRsv1 => "WS_ERR_UNEXPECTED_RSV_1",
            Violation::InvalidOpcode(_) => "WS_ERR_INVALID_OPCODE",
            Violation::ExpectedFin => "WS_ERR_EXPECTED_FIN",
            Violation::InvalidControlPayloadLength(_) => "WS_ERR_INVALID_CONTROL_PAYLOAD_LENGTH",
            Violation::UnsupportedDataPayloadLength => "WS_ERR_UNSUPPORTED_DATA_PAYLOAD_LENGTH",
            Violation::MessageTooBig => "WS_ERR_UNSUPPORTED_MESSAGE_LENGTH",
            Violation::TooManyFragments | Violation::TooManyBufferedChunks => "WS_ERR_TOO_MANY_BUFFERED_PARTS",
            Violation::InvalidCloseCode(_) => "WS_ERR_INVALID_CLOSE_CODE",
            Violation::InvalidUtf8 => "WS_ERR_INVALID_UTF8",
            Violation::InvalidCompressedData => "Z_DATA_ERROR",
            Violation::Internal(_) => "ERR_NATIVE_WS_INTERNAL",
        }
    }
}

/// The message `ws` gives (its "Invalid WebSocket frame: " prefix included).
impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const FRAME: &str = "Invalid WebSocket frame: ";
        match self {
            Violation::ExpectedMask => write!(f, "{FRAME}MASK must be set"),
            Violation::UnexpectedMask => write!(f, "{FRAME}MASK must be clear"),
            Violation::UnexpectedRsv23 => write!(f, "{FRAME}RSV2 and RSV3 must be clear"),
            Violation::UnexpectedRsv1 => write!(f, "{FRAME}RSV1 must be clear"),
            Violation::InvalidOpcode(op) => write!(f, "{FRAME}invalid opcode {op}"),
            Violation::ExpectedFin => write!(f, "{FRAME}FIN must be set"),
            Violation::InvalidControlPayloadLength(len) => write!(f, "{FRAME}invalid payload length {len}"),
            Violation::UnsupportedDataPayloadLength => {
                f.write_str("Unsupported WebSocket frame: payload length > 2^53 - 1")
            }
            Violation::TooManyFragments => f.write_str("Too many message fragments"),
            Violation::TooManyBufferedChunks => f.write_str("Too many buffered chunks"),
            Violation::MessageTooBig => f.write_str("Max payload size exceeded"),
            Violation::InvalidCloseCode(status) => write!(f, "{FRAME}invalid status code {status}"),
            Violation::InvalidUtf8 => write!(f, "{FRAME}invalid UTF-8 sequence"),
            Violation::InvalidCompressedData => f.write_str("invalid compressed data"),
            Violation::Internal(what) => write!(f, "native-ws internal error: {what}"),
        }
    }
}

impl std::error::Error for Violation {}

/// A bad argument from the caller of the core (not the peer's fault). The
/// message starts with the argument's name as the caller wrote it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArgumentError {
    pub kind: ArgumentErrorKind,
    pub message: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ArgumentErrorKind {
    /// Wrong kind of value (becomes a JS TypeError, code ERR_INVALID_ARG_TYPE).
    Type,
    /// Value outside the allowed range (becomes a JS RangeError, code ERR_OUT_OF_RANGE).
    Range,
}

impl ArgumentErrorKind {
    /// Node's error code for the kind.
    pub const fn error_code(self) -> &'static str {
        match self {
            ArgumentErrorKind::Type => "ERR_INVALID_ARG_TYPE",
            ArgumentErrorKind::Range => "ERR_OUT_OF_RANGE",
        }
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ws_messages_codes_and_close_codes() {
        let cases = [
            (Violation::InvalidOpcode(5), "Invalid WebSocket frame: invalid opcode 5", "WS_ERR_INVALID_OPCODE", 1002),
            (Violation::ExpectedFin, "Invalid WebSocket frame: FIN must be set", "WS_ERR_EXPECTED_FIN", 1002),
            (Violation::ExpectedMask, "Invalid WebSocket frame: MASK must be set", "WS_ERR_EXPECTED_MASK", 1002),
            (Violation::UnexpectedMask, "Invalid WebSocket frame: MASK must be clear", "WS_ERR_UNEXPECTED_MASK", 1002),
            (Violation::UnexpectedRsv1, "Invalid WebSocket frame: RSV1 must be clear", "WS_ERR_UNEXPECTED_RSV_1", 1002),
            (Violation::UnexpectedRsv23, "Invalid WebSocket frame: RSV2 and RSV3 must be clear", "WS_ERR_UNEXPECTED_RSV_2_3", 1002),
            (
                Violation::InvalidControlPayloadLength(126),
                "Invalid WebSocket frame: invalid payload length 126",
                "WS_ERR_INVALID_CONTROL_PAYLOAD_LENGTH",
                1002,
            ),
            (Violation::InvalidCloseCode(1005), "Invalid WebSocket frame: invalid status code 1005", "WS_ERR_INVALID_CLOSE_CODE", 1002),
            (Violation::InvalidUtf8, "Invalid WebSocket frame: invalid UTF-8 sequence", "WS_ERR_INVALID_UTF8", 1007),
            (Violation::MessageTooBig, "Max payload size exceeded", "WS_ERR_UNSUPPORTED_MESSAGE_LENGTH", 1009),
            (Violation::InvalidCompressedData, "invalid compressed data", "Z_DATA_ERROR", 1007),
        ];
        for (violation, message, error_code, close_code) in cases {
            assert_eq!(violation.to_string(), message);
            assert_eq!(violation.error_code(), error_code);
            assert_eq!(violation.close_code(), close_code);
        }
        assert_eq!(Violation::Internal("x").close_code(), 1011);
        assert_eq!(Violation::UnsupportedDataPayloadLength.error_code(), "WS_ERR_UNSUPPORTED_DATA_PAYLOAD_LENGTH");
        assert_eq!(Violation::UnsupportedDataPayloadLength.close_code(), 1009);
        assert_eq!(Violation::UnsupportedDataPayloadLength.to_string(), "Unsupported WebSocket frame: payload length > 2^53 - 1");
        assert_eq!(Violation::TooManyFragments.to_string(), "Too many message fragments");
        assert_eq!(Violation::TooManyBufferedChunks.to_string(), "Too many buffered chunks");
        assert_eq!(Violation::TooManyFragments.error_code(), "WS_ERR_TOO_MANY_BUFFERED_PARTS");
        assert_eq!(Violation::TooManyBufferedChunks.close_code(), 1008);
    }
}
