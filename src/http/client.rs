//! The opening handshake, client side (RFC 6455 §4.1): the checks of the
//! server's 101 answer, one `ResponseViolation` variant per rule, with ws's
//! message for each.

use std::fmt;

use crate::deflate::header::parse_extensions;
use crate::deflate::negotiate::{accept_server_answer, DeflateConfig, DeflateParams, ResponseError, PERMESSAGE_DEFLATE};
use crate::http::request::has_token;
use crate::http::server::accept_key;

/// The headers of a 101 answer the checks read (absent: `None`).
#[derive(Debug, Clone, Copy, Default)]
pub struct SwitchingProtocolsAnswer<'a> {
    pub upgrade: Option<&'a str>,
    pub connection: Option<&'a str>,
    pub accept: Option<&'a str>,
    pub protocol: Option<&'a str>,
    pub extensions: Option<&'a str>,
}

/// A rule of RFC 6455 §4.1 (client steps 2-6) the server's answer broke.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ResponseViolation {
    InvalidUpgradeHeader,
    InvalidConnectionHeader,
    InvalidAccept,
    UnrequestedProtocol,
    InvalidProtocol,
    MissingProtocol,
    UnrequestedExtensions,
    /// The header names an extension other than permessage-deflate.
    UnexpectedExtension,
    /// The header does not parse, or permessage-deflate's answer is not one
    /// our offer allows (the detail is kept for debugging; ws's message has none).
    InvalidExtensions(ResponseError),
}

impl fmt::Display for ResponseViolation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ResponseViolation::InvalidUpgradeHeader => f.write_str("Invalid Upgrade header"),
            ResponseViolation::InvalidConnectionHeader => f.write_str("Invalid Connection header"),
            ResponseViolation::InvalidAccept => f.write_str("Invalid Sec-WebSocket-Accept header"),
            ResponseViolation::UnrequestedProtocol => f.write_str("Server sent a subprotocol but none was requested"),
            ResponseViolation::InvalidProtocol => f.write_str("Server sent an invalid subprotocol"),
            ResponseViolation::MissingProtocol => f.write_str("Server sent no subprotocol"),
            ResponseViolation::UnrequestedExtensions => {
                f.write_str("Server sent a Sec-WebSocket-Extensions header but no extension was requested")
            }
            ResponseViolation::UnexpectedExtension => f.write_str("Server indicated an extension that was not requested"),
            ResponseViolation::InvalidExtensions(_) => f.write_str("Invalid Sec-WebSocket-Extensions header"),
        }
    }
}

impl std::error::Error for ResponseViolation {}

/// `Upgrade: websocket` and a `Connection` listing `Upgrade` (RFC 6455 §4.1
/// steps 2-3); Node reports a 101 without them as an ordinary response, so
/// this check also runs alone.
pub fn check_upgrade_headers(upgrade: Option<&str>, connection: Option<&str>) -> Result<(), ResponseViolation> {
    if !upgrade.is_some_and(|u| u.eq_ignore_ascii_case("websocket")) {
        return Err(ResponseViolation::InvalidUpgradeHeader);
    }
    if !connection.is_some_and(|c| has_token(&[c], "upgrade")) {
        return Err(ResponseViolation::InvalidConnectionHeader);
    }
    Ok(())
}

/// Every check of a 101 answer to a request sent with `key`, offering
/// `requested_protocols` and, when `deflate` is set, permessage-deflate.
/// Returns the permessage-deflate parameters in force, if the server accepted it.
pub fn verify_switching_protocols(
    key: &str,
    answer: &SwitchingProtocolsAnswer<'_>,
    requested_protocols: &[String],
    deflate: Option<&DeflateConfig>,
) -> Result<Option<DeflateParams>, ResponseViolation> {
    check_upgrade_headers(answer.upgrade, answer.connection)?;
    if answer.accept != Some(accept_key(key).as_str()) {
        return Err(ResponseViolation::InvalidAccept);
    }
    match answer.protocol {
        Some(_) if requested_protocols.is_empty() => return Err(ResponseViolation::UnrequestedProtocol),
        Some(chosen) if !requested_protocols.iter().any(|p| p == chosen) => return Err(ResponseViolation::InvalidProtocol),
        None if !requested_protocols.is_empty() => return Err(ResponseViolation::MissingProtocol),
        _ => {}
    }
    let Some(header) = answer.extensions else {
        return Ok(None);
    };
    let config = deflate.ok_or(ResponseViolation::UnrequestedExtensions)?;
    // ws's order: a header that does not parse, then a name not offered,
    // then permessage-deflate's parameters.
    let named = parse_extensions(header).map_err(|e| ResponseViolation::InvalidExtensions(ResponseError { message: e.to_string() }))?;
    if named.is_empty() || named.iter().any(|extension| extension.name != PERMESSAGE_DEFLATE) {
        return Err(ResponseViolation::UnexpectedExtension);
    }
    accept_server_answer(header, config).map(Some).map_err(ResponseViolation::InvalidExtensions)
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "dGhlIHNhbXBsZSBub25jZQ==";
    const ACCEPT: &str = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=";

    fn good() -> SwitchingProtocolsAnswer<'static> {
        SwitchingProtocolsAnswer { upgrade: Some("WebSocket"), connection: Some("keep-alive, upgrade"), accept: Some(ACCEPT), ..Default::default() }
    }

    #[test]
    fn a_good_answer_passes() {
        assert_eq!(verify_switching_protocols(KEY, &good(), &[], None), Ok(None));
        let chat = SwitchingProtocolsAnswer { protocol: Some("chat"), ..good() };
        assert_eq!(verify_switching_protocols(KEY, &chat, &["a".into(), "chat".into()], None), Ok(None));
        let deflate = SwitchingProtocolsAnswer { extensions: Some("permessage-deflate"), ..good() };
        let params = verify_switching_protocols(KEY, &deflate, &[], Some(&DeflateConfig::default())).unwrap().unwrap();
        assert_eq!(params.server_max_window_bits, 15);
    }

    #[test]
    fn each_rule_fails_with_its_violation() {
        let protocols = ["chat".to_string()];
        let cases: Vec<(SwitchingProtocolsAnswer<'_>, &[String], ResponseViolation)> = vec![
            (SwitchingProtocolsAnswer { upgrade: None, ..good() }, &[], ResponseViolation::InvalidUpgradeHeader),
            (SwitchingProtocolsAnswer { upgrade: Some("h2c"), ..good() }, &[], ResponseViolation::InvalidUpgradeHeader),
            (SwitchingProtocolsAnswer { connection: Some("close"), ..good() }, &[], ResponseViolation::InvalidConnectionHeader),
            (SwitchingProtocolsAnswer { accept: Some("x"), ..good() }, &[], ResponseViolation::InvalidAccept),
            (SwitchingProtocolsAnswer { protocol: Some("chat"), ..good() }, &[], ResponseViolation::UnrequestedProtocol),
            (SwitchingProtocolsAnswer { protocol: Some("other"), ..good() }, &protocols, ResponseViolation::InvalidProtocol),
            (good(), &protocols, ResponseViolation::MissingProtocol),
            (SwitchingProtocolsAnswer { extensions: Some("permessage-deflate"), ..good() }, &[], ResponseViolation::UnrequestedExtensions),
        ];
        for (answer, requested, violation) in cases {
            assert_eq!(verify_switching_protocols(KEY, &answer, requested, None), Err(violation));
        }
        // ws's messages, in ws's order: syntax, then names, then parameters.
        let deflate = DeflateConfig::default();
        for (header, message) in [
            ("foo;=", "Invalid Sec-WebSocket-Extensions header"),
            ("x-other", "Server indicated an extension that was not requested"),
            ("permessage-deflate,foo", "Server indicated an extension that was not requested"),
            ("permessage-deflate; foo=bar", "Invalid Sec-WebSocket-Extensions header"),
            ("permessage-deflate; client_max_window_bits=7", "Invalid Sec-WebSocket-Extensions header"),
        ] {
            let answer = SwitchingProtocolsAnswer { extensions: Some(header), ..good() };
            let err = verify_switching_protocols(KEY, &answer, &[], Some(&deflate)).unwrap_err();
            assert_eq!(err.to_string(), message, "{header}");
        }
    }
}
