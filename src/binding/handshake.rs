//! The opening handshake for JS: request parsing (as strings, or as the
//! upgrade layout of crate::abi), the server's checks, the 101 and refusal
//! responses, and the client's checks of a 101. A refused handshake is
//! thrown as a `Handshake` (server) or `Response` (client) error.

use napi::bindgen_prelude::*;
use napi_derive::napi;

use super::deflate::{deflate_config, NegotiatedDeflate};
use super::deflate::DeflateOptions;
use super::{argument_error, guard, handshake_error, response_error};
use crate::abi;
use crate::http::client::{verify_switching_protocols, SwitchingProtocolsAnswer};
use crate::http::request::parse_head;
use crate::http::server::{self, Upgrade};

#[napi(js_name = "acceptKey")]
pub fn accept_key(key: String) -> Result<String> {
    guard(|| Ok(server::accept_key(&key)))
}

/// A parsed and valid upgrade request, as strings (the `parseRequest` primitive).
#[napi(object)]
pub struct ParsedRequest {
    /// false while the header block has not ended (no other field is set then).
    pub complete: bool,
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

#[napi(js_name = "parseRequest")]
pub fn parse_request(buf: &[u8], max_header_bytes: u32) -> Result<ParsedRequest> {
    guard(|| {
        let Some(head) = parse_head(buf, max_header_bytes as usize).map_err(handshake_error)? else {
            return Ok(ParsedRequest {
                complete: false,
                method: String::new(),
                path: String::new(),
                version_minor: 0,
                raw_headers: Vec::new(),
                bytes_used: 0,
                key: String::new(),
                protocols: Vec::new(),
                extensions: None,
            });
        };
        let headers = head.text_headers();
        let method = head.text(head.method);
        let up = server::validate_upgrade(&method, head.version_minor, &headers).map_err(handshake_error)?;
        Ok(ParsedRequest {
            complete: true,
            method: method.into_owned(),
            path: head.text(head.path).into_owned(),
            version_minor: head.version_minor as u32,
            raw_headers: headers.into_iter().flat_map(|(n, v)| [n.into_owned(), v.into_owned()]).collect(),
            bytes_used: head.bytes_used as u32,
            key: up.key,
            protocols: up.protocols,
            extensions: up.extensions,
        })
    })
}

/// What a valid upgrade offers beyond its key.
#[napi(object)]
pub struct UpgradeOffers {
    pub protocols: Vec<String>,
    pub extensions: Option<String>,
}

/// Parses and validates an upgrade request, writing where its parts lie into
/// `table` (crate::abi::upgrade) instead of creating strings. Returns 0 while
/// the header block is incomplete, 1 for a valid request that offers no
/// subprotocol and no extension, and otherwise its `UpgradeOffers`.
#[napi(js_name = "parseUpgradeInto")]
pub fn parse_upgrade_into(buf: &[u8], max_header_bytes: u32, mut table: Uint32ArraySlice) -> Result<Either<u32, UpgradeOffers>> {
    guard(|| {
        // SAFETY: the table is a JS Uint32Array that nothing else touches during this synchronous call.
        let table: &mut [u32] = unsafe { table.as_mut() };
        let Some((head, upgrade)) = server::parse_upgrade(buf, max_header_bytes as usize).map_err(handshake_error)? else {
            return Ok(Either::A(0));
        };
        let (up, key) = upgrade.map_err(handshake_error)?;
        abi::write_upgrade_layout(table, &head, key).map_err(argument_error)?;
        Ok(offers(up).map_or(Either::A(1), Either::B))
    })
}

/// The offers of an upgrade, or None for the common case of none.
fn offers(up: Upgrade) -> Option<UpgradeOffers> {
    if up.protocols.is_empty() && up.extensions.is_none() {
        return None;
    }
    Some(UpgradeOffers { protocols: up.protocols, extensions: up.extensions })
}

/// A valid upgrade, as `validateUpgradeJoined` returns it when it offers something.
#[napi(object)]
pub struct ValidUpgrade {
    pub key: String,
    pub protocols: Vec<String>,
    pub extensions: Option<String>,
}

/// `validateUpgradeJoined` for raw headers that do not survive joining (a
/// value holds a `\n`: never from Node's HTTP parser, but possible in a
/// request built by hand for `handleUpgrade`), one string per name and value.
#[napi(js_name = "validateUpgrade")]
pub fn validate_upgrade(method: String, version_minor: u32, raw_headers: Vec<String>) -> Result<Either<String, ValidUpgrade>> {
    guard(|| {
        let headers: Vec<(&str, &str)> =
            raw_headers.chunks(2).map(|p| (p[0].as_str(), p.get(1).map_or("", String::as_str))).collect();
        valid_upgrade(server::validate_upgrade(&method, version_minor.min(255) as u8, &headers).map_err(handshake_error)?)
    })
}

/// The key alone for a valid upgrade that offers nothing else (the common case, one string back).
fn valid_upgrade(up: Upgrade) -> Result<Either<String, ValidUpgrade>> {
    if up.protocols.is_empty() && up.extensions.is_none() {
        return Ok(Either::A(up.key));
    }
    Ok(Either::B(ValidUpgrade { key: up.key, protocols: up.protocols, extensions: up.extensions }))
}

/// Validates a request Node's HTTP parser already read, its `rawHeaders`
/// joined by `\n` into one string (one string crosses instead of one per
/// name and value). Returns the key alone for a valid request that offers no
/// subprotocol and no extension, else a `ValidUpgrade`; `null` when the
/// string does not split into `count` parts (a value held a `\n`, which
/// Node's HTTP parser never lets through).
#[napi(js_name = "validateUpgradeJoined")]
pub fn validate_upgrade_joined(method: String, version_minor: u32, joined: String, count: u32) -> Result<Option<Either<String, ValidUpgrade>>> {
    guard(|| {
        let parts: Vec<&str> = if joined.is_empty() && count == 0 { Vec::new() } else { joined.split('\n').collect() };
        if parts.len() != count as usize {
            return Ok(None);
        }
        let headers: Vec<(&str, &str)> = parts.chunks(2).map(|p| (p[0], p.get(1).copied().unwrap_or(""))).collect();
        let up = server::validate_upgrade(&method, version_minor.min(255) as u8, &headers).map_err(handshake_error)?;
        valid_upgrade(up).map(Some)
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

#[napi(js_name = "errorResponse")]
pub fn error_response(status: u32, message: String) -> Result<String> {
    guard(|| Ok(server::error_response(status.min(999) as u16, &message)))
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
