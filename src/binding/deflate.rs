//! permessage-deflate for JS: options in, negotiation results and the
//! per-connection compressor out. Option values are range-checked by the
//! core before they are narrowed, so errors name the user's option and value.

use napi::bindgen_prelude::*;
use napi_derive::napi;

use super::buffers::external_buffer;
use super::{argument_error, guard, handshake_error, internal_error};
use crate::deflate::codec;
use crate::deflate::negotiate::{
    self, mem_level_option, window_bits_option, DeflateConfig, DeflateParams, CLIENT_MAX_WINDOW_BITS, MEM_LEVEL,
    SERVER_MAX_WINDOW_BITS,
};

/// permessage-deflate settings, as ws's `perMessageDeflate` object.
#[napi(object)]
pub struct DeflateOptions {
    pub server_no_context_takeover: bool,
    pub client_no_context_takeover: bool,
    pub server_max_window_bits: Option<u32>,
    pub client_max_window_bits: Option<u32>,
    pub level: u32,
    pub mem_level: u32,
    pub threshold: u32,
}

/// The core's config for JS options; a value out of range throws a RangeError naming it.
pub(crate) fn deflate_config(o: &DeflateOptions) -> Result<DeflateConfig> {
    let bits = |name, b: Option<u32>| b.map(|v| window_bits_option(name, v)).transpose();
    let config = DeflateConfig {
        server_no_context_takeover: o.server_no_context_takeover,
        client_no_context_takeover: o.client_no_context_takeover,
        server_max_window_bits: bits(SERVER_MAX_WINDOW_BITS, o.server_max_window_bits).map_err(|e| argument_error(e.into()))?,
        client_max_window_bits: bits(CLIENT_MAX_WINDOW_BITS, o.client_max_window_bits).map_err(|e| argument_error(e.into()))?,
        level: o.level,
        mem_level: mem_level_option(MEM_LEVEL, o.mem_level).map_err(|e| argument_error(e.into()))?,
        threshold: o.threshold as usize,
    };
    config.validate().map_err(|e| argument_error(e.into()))?;
    Ok(config)
}

/// Checks permessage-deflate options; throws a RangeError naming the bad option.
#[napi(js_name = "validateDeflateOptions")]
pub fn validate_deflate_options(options: DeflateOptions) -> Result<()> {
    guard(|| deflate_config(&options).map(drop))
}

/// The parameters in force once permessage-deflate is negotiated.
#[napi(object)]
pub struct NegotiatedDeflate {
    pub server_no_context_takeover: bool,
    pub client_no_context_takeover: bool,
    pub server_max_window_bits: u32,
    pub client_max_window_bits: u32,
}

impl From<DeflateParams> for NegotiatedDeflate {
    fn from(p: DeflateParams) -> Self {
        NegotiatedDeflate {
            server_no_context_takeover: p.server_no_context_takeover,
            client_no_context_takeover: p.client_no_context_takeover,
            server_max_window_bits: p.server_max_window_bits as u32,
            client_max_window_bits: p.client_max_window_bits as u32,
        }
    }
}

/// A server's accepted offer: the response header value and the parameters.
#[napi(object)]
pub struct DeflateAgreement {
    pub response: String,
    pub params: NegotiatedDeflate,
}

/// Negotiates from a request's Sec-WebSocket-Extensions value: the agreement,
/// or null when no offer is acceptable; a malformed header throws a
/// `Handshake` error (400), options out of range one with 500.
#[napi(js_name = "negotiateDeflate")]
pub fn negotiate_deflate(header: String, options: DeflateOptions) -> Result<Option<DeflateAgreement>> {
    guard(|| {
        let config = deflate_config(&options)?;
        match negotiate::negotiate(&header, &config) {
            Ok(None) => Ok(None),
            Ok(Some((params, response))) => Ok(Some(DeflateAgreement { response, params: params.into() })),
            Err(e) => Err(handshake_error(e.into())),
        }
    })
}

/// The client's Sec-WebSocket-Extensions offer for its `perMessageDeflate`
/// options; throws a RangeError naming a bad option.
#[napi(js_name = "deflateClientOffer")]
pub fn deflate_client_offer(options: DeflateOptions) -> Result<String> {
    guard(|| negotiate::client_offer(&deflate_config(&options)?).map_err(|e| argument_error(e.into())))
}

/// The compressor of one connection's outgoing messages.
#[napi(js_name = "Deflater")]
pub struct JsDeflater {
    core: codec::Deflater,
}

#[napi]
impl JsDeflater {
    #[napi(constructor)]
    pub fn new(level: u32, mem_level: u32, window_bits: u32, no_context_takeover: bool) -> Result<Self> {
        guard(|| {
            let mem = mem_level_option("memLevel", mem_level).map_err(|e| argument_error(e.into()))?;
            let bits = window_bits_option("windowBits", window_bits).map_err(|e| argument_error(e.into()))?;
            let core = codec::Deflater::new(level, mem, bits, no_context_takeover).map_err(|e| argument_error(e.into()))?;
            Ok(JsDeflater { core })
        })
    }

    /// The compressed payload of one whole message (RFC 7692 §7.2.1).
    #[napi(ts_return_type = "Buffer")]
    pub fn compress<'env>(&mut self, env: &'env Env, data: &[u8]) -> Result<BufferSlice<'env>> {
        guard(|| {
            let mut out = Vec::with_capacity(data.len() / 2 + 64);
            self.core.compress_message(data, &mut out).map_err(internal_error)?;
            external_buffer(env, out)
        })
    }

    /// Frees the compression context of an idle connection.
    #[napi]
    pub fn release(&mut self) {
        self.core.release()
    }
}
