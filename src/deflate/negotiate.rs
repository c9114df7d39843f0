//! permessage-deflate negotiation (RFC 7692 §5-§7), both sides.
//!
//! The server reads the client's `Sec-WebSocket-Extensions` offers, accepts
//! the first permessage-deflate offer it can honour, and answers with the
//! parameters in force. Per RFC 7692 §5 a bad *offer* is declined (the
//! connection then runs uncompressed); only a header whose *syntax* is broken
//! fails the handshake (400), as RFC 6455 §4.2.1 asks of malformed headers.
//! Where the RFC leaves a choice, the `ws` package's `acceptAsServer` is
//! followed (see [`negotiate`]).
//!
//! The client sends one offer built from its options ([`client_offer`]) and
//! fails the connection on any answer that does not fit that offer
//! ([`accept_server_answer`]).

use std::fmt;

use crate::deflate::header::{parse_extensions, Offer, ParseError};
use crate::proto::error::ArgumentError;

/// The registered extension name (RFC 7692 §7).
pub const PERMESSAGE_DEFLATE: &str = "permessage-deflate";
/// Smallest LZ77 window RFC 7692 allows to negotiate (256 bytes).
pub const MIN_WINDOW_BITS: u8 = 8;
/// Largest LZ77 window, and the one in force when none is negotiated.
pub const MAX_WINDOW_BITS: u8 = 15;

/// Server configuration of permessage-deflate (mirrors `ws`' options).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DeflateConfig {
    /// Always answer `server_no_context_takeover`: our compressor then keeps no
    /// state between messages, so idle connections hold no deflate memory.
    pub server_no_context_takeover: bool,
    /// Always answer `client_no_context_takeover`: our decompressor then keeps
    /// no state between messages.
    pub client_no_context_takeover: bool,
    /// Largest window we compress with; `None` = whatever the client allows.
    pub server_max_window_bits: Option<u8>,
    /// Window we ask the client to compress with. `Some` declines offers that
    /// lack `client_max_window_bits` (the server may not send it then).
    pub client_max_window_bits: Option<u8>,
    /// zlib level 0-9. Default 6, zlib's and therefore `ws`' default.
    pub level: u32,
    /// zlib memLevel 1-9 (size of the compressor's symbol buffers).
    pub mem_level: u8,
    /// Messages shorter than this many bytes are sent uncompressed (`ws`: 1024).
    pub threshold: usize,
}

impl Default for DeflateConfig {
    fn default() -> Self {
        Self {
            server_no_context_takeover: false,
            client_no_context_takeover: false,
            server_max_window_bits: None,
            client_max_window_bits: None,
            level: DEFAULT_LEVEL,
            mem_level: DEFAULT_MEM_LEVEL,
            threshold: DEFAULT_THRESHOLD,
        }
    }
}

impl DeflateConfig {
    /// Checks every field's range; the error names the first bad field.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if let Some(bits) = self.server_max_window_bits {
            check_window_bits(SERVER_MAX_WINDOW_BITS, bits)?;
        }
        if let Some(bits) = self.client_max_window_bits {
            check_window_bits(CLIENT_MAX_WINDOW_BITS, bits)?;
        }
        check_range(LEVEL, u64::from(self.level), 0, 9)?;
        check_range(MEM_LEVEL, u64::from(self.mem_level), 1, 9)
    }
}

/// The names the user gave these options (ws's `perMessageDeflate` object).
pub const SERVER_MAX_WINDOW_BITS: &str = "perMessageDeflate.serverMaxWindowBits";
pub const CLIENT_MAX_WINDOW_BITS: &str = "perMessageDeflate.clientMaxWindowBits";
pub const LEVEL: &str = "perMessageDeflate.level";
pub const MEM_LEVEL: &str = "perMessageDeflate.memLevel";
/// zlib's defaults, and so ws's.
pub const DEFAULT_LEVEL: u32 = 6;
pub const DEFAULT_MEM_LEVEL: u8 = 8;
/// Messages shorter than this are sent uncompressed (ws's default).
pub const DEFAULT_THRESHOLD: usize = 1024;

/// Window bits as a caller gave them (a JS number), checked before they are
/// narrowed, so that 300 is reported as 300 under the caller's name.
pub fn window_bits_option(field: &'static str, bits: u32) -> Result<u8, ConfigError> {
    check_range(field, u64::from(bits), u64::from(MIN_WINDOW_BITS), u64::from(MAX_WINDOW_BITS))?;
    Ok(bits as u8)
}

/// A memLevel as a caller gave it, checked before it is narrowed.
pub fn mem_level_option(field: &'static str, level: u32) -> Result<u8, ConfigError> {
    check_range(field, u64::from(level), 1, 9)?;
    Ok(level as u8)
}

/// Window bits must be 8..=15 (RFC 7692 §7.1.2).
pub(crate) fn check_window_bits(field: &'static str, bits: u8) -> Result<(), ConfigError> {
    check_range(field, u64::from(bits), u64::from(MIN_WINDOW_BITS), u64::from(MAX_WINDOW_BITS))
}

pub(crate) fn check_range(field: &'static str, value: u64, min: u64, max: u64) -> Result<(), ConfigError> {
    if (min..=max).contains(&value) {
        Ok(())
    } else {
        Err(ConfigError { field, message: format!("{field}: must be between {min} and {max}, got {value}") })
    }
}

/// A configuration value out of range; `field` is the Rust field name so the
/// binding can translate it to its option name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    pub field: &'static str,
    pub message: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for ConfigError {}

impl From<ConfigError> for ArgumentError {
    fn from(e: ConfigError) -> Self {
        ArgumentError::range(e.message)
    }
}

/// What is in force once the handshake is done.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DeflateParams {
    /// We reset our compressor after every message.
    pub server_no_context_takeover: bool,
    /// The client resets its compressor after every message, so we may reset
    /// our decompressor too.
    pub client_no_context_takeover: bool,
    /// Window we compress with (15 unless negotiated).
    pub server_max_window_bits: u8,
    /// Window the client compresses with (15 unless negotiated).
    pub client_max_window_bits: u8,
}

/// Why the handshake must fail rather than merely go on without compression.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NegotiationError {
    /// The header is not valid syntax: answer 400.
    Syntax(ParseError),
    /// Our own configuration is out of range: a server bug, answer 500.
    Config(ConfigError),
}

impl NegotiationError {
    /// The HTTP status to refuse the upgrade with.
    pub fn status(&self) -> u16 {
        match self {
            NegotiationError::Syntax(_) => 400,
            NegotiationError::Config(_) => 500,
        }
    }
}

impl fmt::Display for NegotiationError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NegotiationError::Syntax(e) => e.fmt(f),
            NegotiationError::Config(e) => e.fmt(f),
        }
    }
}

impl std::error::Error for NegotiationError {}

impl From<ParseError> for NegotiationError {
    fn from(e: ParseError) -> Self {
        NegotiationError::Syntax(e)
    }
}

impl From<NegotiationError> for crate::http::server::HandshakeViolation {
    fn from(e: NegotiationError) -> Self {
        match e {
            NegotiationError::Syntax(e) => crate::http::server::HandshakeViolation::InvalidExtensionsHeader(e),
            NegotiationError::Config(e) => crate::http::server::HandshakeViolation::DeflateMisconfigured(e),
        }
    }
}

// ---------------------------------------------------------------------------
// Negotiation
// ---------------------------------------------------------------------------

/// Accepts the first acceptable permessage-deflate offer in `header`.
///
/// Returns the parameters in force and the `Sec-WebSocket-Extensions`
/// response value, `Ok(None)` when no offer can be accepted (run
/// uncompressed), or an error when the handshake must fail: a header that is
/// not valid syntax (400), or an out-of-range `config` (500).
///
/// Per offer (RFC 7692 §7.1, choices as `ws` v8 `acceptAsServer`):
/// - unknown or repeated parameters, or invalid values: declined (§5);
/// - `client_max_window_bits` configured but not offered: declined, since a
///   server may only send it when offered (§7.1.2.2) and `ws` insists on it;
/// - window bits in the answer: the smaller of ours and the client's;
/// - a valueless `client_max_window_bits` with none configured is not
///   echoed (the client then uses up to 15); a valued one is echoed;
/// - `*_no_context_takeover`, offered or configured, is in the answer.
pub fn negotiate(header: &str, config: &DeflateConfig) -> Result<Option<(DeflateParams, String)>, NegotiationError> {
    config.validate().map_err(NegotiationError::Config)?;
    let offers = parse_extensions(header)?;
    Ok(offers.iter().filter(|offer| offer.name == PERMESSAGE_DEFLATE).find_map(|offer| accept_offer(offer, config)))
}

/// What the client said about `client_max_window_bits`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ClientBits {
    Absent,
    /// Valueless: "I can limit my window if you tell me to".
    Supported,
    Limit(u8),
}

/// The parameters of one offer, once validated.
#[derive(Debug, Clone, Copy)]
struct OfferedParams {
    server_no_context_takeover: bool,
    client_no_context_takeover: bool,
    server_max_window_bits: Option<u8>,
    client_max_window_bits: ClientBits,
}

impl OfferedParams {
    /// `None` when the offer must be declined (RFC 7692 §5).
    fn from_offer(offer: &Offer) -> Option<Self> {
        let mut seen = Vec::with_capacity(offer.params.len());
        let mut offered = OfferedParams {
            server_no_context_takeover: false,
            client_no_context_takeover: false,
            server_max_window_bits: None,
            client_max_window_bits: ClientBits::Absent,
        };
        for param in &offer.params {
            if seen.contains(&param.name.as_str()) {
                return None;
            }
            seen.push(param.name.as_str());
            let value = param.value.as_deref();
            match param.name.as_str() {
                "server_no_context_takeover" if value.is_none() => offered.server_no_context_takeover = true,
                "client_no_context_takeover" if value.is_none() => offered.client_no_context_takeover = true,
                "server_max_window_bits" => offered.server_max_window_bits = Some(parse_window_bits(value?)?),
                "client_max_window_bits" => {
                    offered.client_max_window_bits = match value {
                        None => ClientBits::Supported,
                        Some(v) => ClientBits::Limit(parse_window_bits(v)?),
                    }
                }
                _ => return None,
            }
        }
        Some(offered)
    }
}

/// RFC 7692 §7.1.2.1: `%x38-39 / "1" %x30-35`, i.e. "8".."15", no leading zero.
fn parse_window_bits(value: &str) -> Option<u8> {
    let bits = match value {
        "8" => 8,
        "9" => 9,
        "10" => 10,
        "11" => 11,
        "12" => 12,
        "13" => 13,
        "14" => 14,
        "15" => 15,
        _ => return None,
    };
    Some(bits)
}

fn accept_offer(offer: &Offer, config: &DeflateConfig) -> Option<(DeflateParams, String)> {
    let offered = OfferedParams::from_offer(offer)?;
    if config.client_max_window_bits.is_some() && offered.client_max_window_bits == ClientBits::Absent {
        return None;
    }
    let server_bits = min_some(offered.server_max_window_bits, config.server_max_window_bits);
    let client_bits = match offered.client_max_window_bits {
        ClientBits::Absent => None,
        ClientBits::Supported => config.client_max_window_bits,
        ClientBits::Limit(limit) => min_some(Some(limit), config.client_max_window_bits),
    };
    let params = DeflateParams {
        server_no_context_takeover: offered.server_no_context_takeover || config.server_no_context_takeover,
        client_no_context_takeover: offered.client_no_context_takeover || config.client_no_context_takeover,
        server_max_window_bits: server_bits.unwrap_or(MAX_WINDOW_BITS),
        client_max_window_bits: client_bits.unwrap_or(MAX_WINDOW_BITS),
    };
    Some((params, response_value(&params, server_bits, client_bits)))
}

/// The smaller of two optional limits; one alone wins.
fn min_some(a: Option<u8>, b: Option<u8>) -> Option<u8> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

/// The response header value; window bits only when they are to be sent.
fn response_value(params: &DeflateParams, server_bits: Option<u8>, client_bits: Option<u8>) -> String {
    let mut value = String::from(PERMESSAGE_DEFLATE);
    if params.server_no_context_takeover {
        value.push_str("; server_no_context_takeover");
    }
    if params.client_no_context_takeover {
        value.push_str("; client_no_context_takeover");
    }
    if let Some(bits) = server_bits {
        value.push_str(&format!("; server_max_window_bits={bits}"));
    }
    if let Some(bits) = client_bits {
        value.push_str(&format!("; client_max_window_bits={bits}"));
    }
    value
}

// ---------------------------------------------------------------------------
// Client side: the offer and the checks on the server's response
// ---------------------------------------------------------------------------

/// The `Sec-WebSocket-Extensions` value a client sends for `config` (one
/// permessage-deflate offer, RFC 7692 §7.1, parameters in `ws`' order).
///
/// - `*_no_context_takeover` set: offered;
/// - `server_max_window_bits` set: offered with its value;
/// - `client_max_window_bits` set: offered with its value, otherwise offered
///   valueless ("the server may limit my window"), as `ws` does by default.
pub fn client_offer(config: &DeflateConfig) -> Result<String, ConfigError> {
    config.validate()?;
    let mut value = String::from(PERMESSAGE_DEFLATE);
    if config.server_no_context_takeover {
        value.push_str("; server_no_context_takeover");
    }
    if config.client_no_context_takeover {
        value.push_str("; client_no_context_takeover");
    }
    if let Some(bits) = config.server_max_window_bits {
        value.push_str(&format!("; server_max_window_bits={bits}"));
    }
    match config.client_max_window_bits {
        Some(bits) => value.push_str(&format!("; client_max_window_bits={bits}")),
        None => value.push_str("; client_max_window_bits"),
    }
    Ok(value)
}

/// The server's `Sec-WebSocket-Extensions` answer cannot be accepted: the
/// client must fail the connection (RFC 6455 §4.1, RFC 7692 §5).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResponseError {
    pub message: String,
}

impl fmt::Display for ResponseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for ResponseError {}

fn response_error(message: impl Into<String>) -> ResponseError {
    ResponseError { message: message.into() }
}

/// Checks the server's `Sec-WebSocket-Extensions` value against the offer
/// [`client_offer`] made for `config`, and returns the parameters in force.
///
/// The response must name exactly one extension, permessage-deflate (the
/// only one offered), with each parameter at most once and valid (§7.1):
/// - `server_no_context_takeover` and `server_max_window_bits` must be there
///   when offered (a server accepts them by echoing; §7.1.1.1, §7.1.2.1), and
///   the window no larger than offered;
/// - `client_max_window_bits` needs a value, no larger than the one offered;
/// - `client_no_context_takeover` may come unasked (§7.1.1.2).
///
/// Our own `client_no_context_takeover` holds even if the server omits it
/// (resetting more often is always safe); our window is the server's value,
/// else the one we offered, else 15.
pub fn accept_server_answer(header: &str, config: &DeflateConfig) -> Result<DeflateParams, ResponseError> {
    config.validate().map_err(|e| response_error(e.message))?;
    let extensions = parse_extensions(header).map_err(|e| response_error(e.to_string()))?;
    let response = match extensions.as_slice() {
        [] => return Err(response_error("the server's Sec-WebSocket-Extensions header names no extension")),
        [one] if one.name == PERMESSAGE_DEFLATE => one,
        [one] => {
            return Err(response_error(format!(
                "the server accepted the extension \"{}\", which the client did not offer",
                one.name
            )))
        }
        [..] => {
            return Err(response_error(
                "the server accepted several extensions, but the client offered only permessage-deflate once",
            ))
        }
    };

    let mut seen: Vec<&str> = Vec::with_capacity(response.params.len());
    let mut server_no_context_takeover = false;
    let mut client_no_context_takeover = false;
    let mut server_bits = None;
    let mut client_bits = None;
    for param in &response.params {
        let name = param.name.as_str();
        if seen.contains(&name) {
            return Err(response_error(format!("permessage-deflate: the server sent \"{name}\" twice")));
        }
        seen.push(name);
        let value = param.value.as_deref();
        match name {
            "server_no_context_takeover" | "client_no_context_takeover" => {
                if value.is_some() {
                    return Err(response_error(format!("permessage-deflate: \"{name}\" must not have a value")));
                }
                if name == "server_no_context_takeover" {
                    server_no_context_takeover = true;
                } else {
                    client_no_context_takeover = true;
                }
            }
            "server_max_window_bits" | "client_max_window_bits" => {
                let bits = value.and_then(parse_window_bits).ok_or_else(|| {
                    response_error(format!(
                        "permessage-deflate: invalid value for \"{name}\": {}",
                        value.map_or_else(|| "none".to_owned(), |v| format!("\"{v}\""))
                    ))
                })?;
                if name == "server_max_window_bits" {
                    server_bits = Some(bits);
                } else {
                    client_bits = Some(bits);
                }
            }
            _ => return Err(response_error(format!("permessage-deflate: unknown parameter \"{name}\""))),
        }
    }

    if config.server_no_context_takeover && !server_no_context_takeover {
        return Err(response_error(
            "permessage-deflate: the client offered server_no_context_takeover and the server did not accept it",
        ));
    }
    if let Some(offered) = config.server_max_window_bits {
        match server_bits {
            None => {
                return Err(response_error(format!(
                    "permessage-deflate: the client offered server_max_window_bits={offered} and the server did not accept it"
                )))
            }
            Some(bits) if bits > offered => {
                return Err(response_error(format!(
                    "permessage-deflate: server_max_window_bits={bits} is over the {offered} the client offered"
                )))
            }
            Some(_) => {}
        }
    }
    if let (Some(offered), Some(bits)) = (config.client_max_window_bits, client_bits) {
        if bits > offered {
            return Err(response_error(format!(
                "permessage-deflate: client_max_window_bits={bits} is over the {offered} the client offered"
            )));
        }
    }
    Ok(DeflateParams {
        server_no_context_takeover,
        client_no_context_takeover: client_no_context_takeover || config.client_no_context_takeover,
        server_max_window_bits: server_bits.unwrap_or(MAX_WINDOW_BITS),
        client_max_window_bits: client_bits.or(config.client_max_window_bits).unwrap_or(MAX_WINDOW_BITS),
    })
}

#[cfg(test)]
mod tests;
#[cfg(test)]
#[path = "negotiate/tests/client.rs"]
mod client_tests;
