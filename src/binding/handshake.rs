//! The opening handshake for JS: request parsing (as strings, or as the
//! upgrade layout of crate::abi), the server's checks, the 101 and refusal
//! responses, and the client's checks of a 101. A request the server
//! refuses comes back as an `UpgradeRefusal`; a 101 the client refuses is
//! thrown as a `Response` error.

use napi::bindgen_prelude::*;
use napi_derive::napi;

use super::deflate::{deflate_config, NegotiatedDeflate};
use super::deflate::DeflateOptions;
use std::collections::HashMap;

use super::{argument_error, guard, response_error};
use crate::abi;
use crate::http::client::{verify_switching_protocols, SwitchingProtocolsAnswer};
use crate::http::request::parse_head;
use crate::http::server::{self, HandshakeViolation, HostRule, Upgrade};

#[napi(js_name = "acceptKey")]
pub fn accept_key(key: String) -> Result<String> {
    guard(|| Ok(server::accept_key(&key)))
}

/// A request the server handshake refuses: the status, ws's message, and the
/// headers the answer must carry (`Sec-WebSocket-Version` for a version
/// refusal). Returned, not thrown: a refused request is an outcome, not a
/// failure of the call.
#[napi(object)]
pub struct UpgradeRefusal {
    pub status: u32,
    pub message: String,
    pub headers: Option<HashMap<String, String>>,
}

impl From<HandshakeViolation> for UpgradeRefusal {
    fn from(v: HandshakeViolation) -> Self {
        let headers = v.response_headers();
        UpgradeRefusal {
            status: v.status() as u32,
            message: v.to_string(),
            headers: if headers.is_empty() {
                None
            } else {
                Some(headers.iter().map(|&(n, val)| (n.to_string(), val.to_string())).collect())
            },
        }
    }
}

/// The offered subprotocols, or none and the refusal for a malformed offer.
fn split_protocols(protocols: std::result::Result<Vec<String>, HandshakeViolation>) -> (Vec<String>, Option<UpgradeRefusal>) {
    match protocols {
        Ok(list) => (list, None),
        Err(v) => (Vec::new(), Some(v.into())),
    }
}

/// A parsed upgrade request, as strings (the `parseRequest` primitive).
#[napi(object)]
pub struct ParsedRequest {
    /// false while the header block has not ended (no other field is set then).
    pub complete: bool,
    /// Set for a complete request that is refused (no field below is set then).
    pub refusal: Option<UpgradeRefusal>,
    pub method: String,
    pub path: String,
    pub version_minor: u32,
    /// Flat [name, value, name, value, …] as Node's `rawHeaders`.
    pub raw_headers: Vec<String>,
    pub bytes_used: u32,
    pub key: String,
    pub protocols: Vec<String>,
    pub extensions: Option<String>,
}

impl ParsedRequest {
    fn empty(complete: bool, refusal: Option<UpgradeRefusal>) -> Self {
        ParsedRequest {
            complete,
            refusal,
            method: String::new(),
            path: String::new(),
            version_minor: 0,
            raw_headers: Vec::new(),
            bytes_used: 0,
            key: String::new(),
            protocols: Vec::new(),
            extensions: None,
        }
    }
}

/// The primitive acts as the HTTP server: Host is required, and a malformed
/// subprotocol offer refuses the request like any other rule.
#[napi(js_name = "parseRequest")]
pub fn parse_request(buf: &[u8], max_header_bytes: u32) -> Result<ParsedRequest> {
    guard(|| {
        let head = match parse_head(buf, max_header_bytes as usize) {
            Ok(Some(head)) => head,
            Ok(None) => return Ok(ParsedRequest::empty(false, None)),
            Err(v) => return Ok(ParsedRequest::empty(true, Some(v.into()))),
        };
        let headers = head.text_headers();
        let method = head.text(head.method);
        let up = match server::validate_upgrade(&method, head.version_minor, &headers, HostRule::Required) {
            Ok(up) => up,
            Err(v) => return Ok(ParsedRequest::empty(true, Some(v.into()))),
        };
        let protocols = match up.protocols {
            Ok(list) => list,
            Err(v) => return Ok(ParsedRequest::empty(true, Some(v.into()))),
        };
        Ok(ParsedRequest {
            complete: true,
            refusal: None,
            method: method.into_owned(),
            path: head.text(head.path).into_owned(),
            version_minor: head.version_minor as u32,
            raw_headers: headers.into_iter().flat_map(|(n, v)| [n.into_owned(), v.into_owned()]).collect(),
            bytes_used: head.bytes_used as u32,
            key: up.key,
            protocols,
            extensions: up.extensions,
        })
    })
}

/// What a valid upgrade offers beyond its key.
#[napi(object)]
pub struct UpgradeOffers {
    pub protocols: Vec<String>,
    pub extensions: Option<String>,
    /// The Sec-WebSocket-Protocol header is malformed: the server refuses
    /// with this once its earlier checks (the path) pass.
    pub protocol_refusal: Option<UpgradeRefusal>,
}

/// Parses and validates an upgrade request, writing where its parts lie into
/// `table` (crate::abi::upgrade) instead of creating strings. Returns 0 while
/// the header block is incomplete, 1 for a valid request that offers no
/// subprotocol and no extension, its `UpgradeOffers` for another valid
/// request, and an `UpgradeRefusal` for a refused one.
#[napi(js_name = "parseUpgradeInto")]
pub fn parse_upgrade_into(
    buf: &[u8],
    max_header_bytes: u32,
    mut table: Uint32ArraySlice,
) -> Result<Either3<u32, UpgradeOffers, UpgradeRefusal>> {
    guard(|| {
        // SAFETY: the table is a JS Uint32Array that nothing else touches during this synchronous call.
        let table: &mut [u32] = unsafe { table.as_mut() };
        let (head, upgrade) = match server::parse_upgrade(buf, max_header_bytes as usize) {
            Ok(Some(parsed)) => parsed,
            Ok(None) => return Ok(Either3::A(0)),
            Err(v) => return Ok(Either3::C(v.into())),
        };
        let (up, key) = match upgrade {
            Ok(valid) => valid,
            Err(v) => return Ok(Either3::C(v.into())),
        };
        abi::write_upgrade_layout(table, &head, key).map_err(argument_error)?;
        Ok(match offers(up) {
            None => Either3::A(1),
            Some(offers) => Either3::B(offers),
        })
    })
}

/// The offers of an upgrade, or None for the common case of none.
fn offers(up: Upgrade) -> Option<UpgradeOffers> {
    if matches!(&up.protocols, Ok(list) if list.is_empty()) && up.extensions.is_none() {
        return None;
    }
    let (protocols, protocol_refusal) = split_protocols(up.protocols);
    Some(UpgradeOffers { protocols, extensions: up.extensions, protocol_refusal })
}

/// A valid upgrade, as `validateUpgradeJoined` returns it when it offers something.
#[napi(object)]
pub struct ValidUpgrade {
    pub key: String,
    pub protocols: Vec<String>,
    pub extensions: Option<String>,
    /// As in `UpgradeOffers`.
    pub protocol_refusal: Option<UpgradeRefusal>,
}

/// What validating a request Node parsed gives: the key alone for a valid
/// upgrade that offers nothing else (the common case, one string back), a
/// `ValidUpgrade`, or an `UpgradeRefusal`.
type UpgradeCheck = Either3<String, ValidUpgrade, UpgradeRefusal>;

/// `validateUpgradeJoined` for raw headers that do not survive joining (a
/// value holds a `\n`: never from Node's HTTP parser, but possible in a
/// request built by hand for `handleUpgrade`), one string per name and value.
#[napi(js_name = "validateUpgrade")]
pub fn validate_upgrade(method: String, version_minor: u32, raw_headers: Vec<String>) -> Result<UpgradeCheck> {
    guard(|| {
        let headers: Vec<(&str, &str)> =
            raw_headers.chunks(2).map(|p| (p[0].as_str(), p.get(1).map_or("", String::as_str))).collect();
        Ok(upgrade_check(&method, version_minor, &headers))
    })
}

/// The checks of a request the user's HTTP server parsed (it owns the Host rule).
fn upgrade_check(method: &str, version_minor: u32, headers: &[(&str, &str)]) -> UpgradeCheck {
    match server::validate_upgrade(method, version_minor.min(255) as u8, headers, HostRule::LeftToServer) {
        Err(v) => Either3::C(v.into()),
        Ok(up) if matches!(&up.protocols, Ok(list) if list.is_empty()) && up.extensions.is_none() => Either3::A(up.key),
        Ok(up) => {
            let (protocols, protocol_refusal) = split_protocols(up.protocols);
            Either3::B(ValidUpgrade { key: up.key, protocols, extensions: up.extensions, protocol_refusal })
        }
    }
}

/// Validates a request Node's HTTP parser already read (or one a framework's
/// test tool built), its `rawHeaders` joined by `\n` into one string (one
/// string crosses instead of one per name and value): see `UpgradeCheck`.
/// `null` when the string does not split into `count` parts (a value held a
/// `\n`, which Node's HTTP parser never lets through).
#[napi(js_name = "validateUpgradeJoined")]
pub fn validate_upgrade_joined(method: String, version_minor: u32, joined: String, count: u32) -> Result<Option<UpgradeCheck>> {
    guard(|| {
        let parts: Vec<&str> = if joined.is_empty() && count == 0 { Vec::new() } else { joined.split('\n').collect() };
        if parts.len() != count as usize {
            return Ok(None);
        }
        let headers: Vec<(&str, &str)> = parts.chunks(2).map(|p| (p[0], p.get(1).copied().unwrap_or(""))).collect();
        Ok(Some(upgrade_check(&method, version_minor, &headers)))
    })
}

/// The complete 101 response in one string (crate::http::server::switching_protocols).
#[napi(js_name = "acceptResponse")]
pub fn switching_protocols_response(key: String, protocol: Option<String>, extensions: Option<String>) -> Result<String> {
    guard(|| Ok(server::switching_protocols(&key, protocol.as_deref(), extensions.as_deref())))
}

/// The same response as lines (status line first, no blank line), for ws's `headers` event.
#[napi(js_name = "acceptResponseLines")]
pub fn switching_protocols_lines(key: String, protocol: Option<String>, extensions: Option<String>) -> Result<Vec<String>> {
    guard(|| Ok(server::response_lines(&server::switching_protocols(&key, protocol.as_deref(), extensions.as_deref()))))
}

/// A refusal response (crate::http::server::error_response): `reason` the
/// status text (default: the core's for the status), `headers` flat
/// [name, value, …]. Throws a TypeError for a header that would break the
/// response.
#[napi(js_name = "errorResponse")]
pub fn error_response(status: u32, reason: Option<String>, message: String, headers: Option<Vec<String>>) -> Result<String> {
    guard(|| {
        let headers: Vec<(&str, &str)> = headers
            .as_deref()
            .unwrap_or_default()
            .chunks(2)
            .map(|p| (p[0].as_str(), p.get(1).map_or("", String::as_str)))
            .collect();
        server::error_response(status.clamp(100, 999) as u16, reason.as_deref(), &message, &headers).map_err(argument_error)
    })
}

/// The headers of a server's 101 answer the client checks (Node's `res.headers`).
#[napi(object)]
pub struct AnswerHeaders {
    pub upgrade: Option<String>,
    pub connection: Option<String>,
    pub accept: Option<String>,
    pub protocol: Option<String>,
    pub extensions: Option<String>,
}

/// Every client check of a 101 answer (RFC 6455 §4.1) to a request sent with
/// `key`, `protocols` and, when given, permessage-deflate `deflate` options.
/// Returns the permessage-deflate parameters in force, or null without it;
/// throws a `Response` error naming the broken rule.
#[napi(js_name = "verifySwitchingProtocols")]
pub fn verify_switching_protocols_js(
    key: String,
    headers: AnswerHeaders,
    protocols: Vec<String>,
    deflate: Option<DeflateOptions>,
) -> Result<Option<NegotiatedDeflate>> {
    guard(|| {
        let config = deflate.as_ref().map(deflate_config).transpose()?;
        let answer = SwitchingProtocolsAnswer {
            upgrade: headers.upgrade.as_deref(),
            connection: headers.connection.as_deref(),
            accept: headers.accept.as_deref(),
            protocol: headers.protocol.as_deref(),
            extensions: headers.extensions.as_deref(),
        };
        let params = verify_switching_protocols(&key, &answer, &protocols, config.as_ref()).map_err(response_error)?;
        Ok(params.map(NegotiatedDeflate::from))
    })
}

/// Only the `Upgrade`/`Connection` checks, for a 101 Node did not treat as an upgrade.
#[napi(js_name = "checkUpgradeHeaders")]
pub fn check_upgrade_headers(upgrade: Option<String>, connection: Option<String>) -> Result<()> {
    guard(|| crate::http::client::check_upgrade_headers(upgrade.as_deref(), connection.as_deref()).map_err(response_error))
}
