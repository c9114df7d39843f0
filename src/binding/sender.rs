//! Frames and close payloads for JS: the batch header writer of the send path
//! (table layout in crate::abi) and the one-shot primitives.

use napi::bindgen_prelude::*;
use napi_derive::napi;

use super::{argument_error, guard, violation_error};
use crate::abi;
use crate::proto::close;
use crate::proto::error::ArgumentError;
use crate::proto::frame::{self, FrameSpec};

/// Writes the headers of a batch of frames into `slab` and masks the
/// payloads of masked frames in place (crate::abi::write_batch). One native
/// call per batch of sends, whatever their number.
#[napi(js_name = "writeFrameHeaders")]
pub fn write_frame_headers(mut slab: BufferSlice, table: &[u32], count: u32) -> Result<()> {
    guard(|| abi::write_batch(&mut slab, table, count as usize).map_err(argument_error))
}

/// Masks (or unmasks) `data` in place with a 4-byte key (used by bench/ to
/// measure unmasking alone).
#[napi(js_name = "applyMask")]
pub fn apply_mask(mut data: BufferSlice, key: &[u8]) -> Result<()> {
    guard(|| {
        let key = mask_key(key, "key")?;
        crate::proto::mask::apply_mask(&mut data, key, 0);
        Ok(())
    })
}

/// A 4-byte masking key from JS; `name` is the argument named in the error.
fn mask_key(key: &[u8], name: &str) -> Result<[u8; 4]> {
    <[u8; 4]>::try_from(key).map_err(|_| argument_error(ArgumentError::range(format!("{name}: must be exactly 4 bytes"))))
}

#[napi(js_name = "encodeFrame")]
pub fn encode_frame(payload: &[u8], opcode: u32, fin: bool, rsv1: bool, mask: Option<&[u8]>) -> Result<Buffer> {
    guard(|| {
        let mask = mask.map(|m| mask_key(m, "mask")).transpose()?;
        // Out of u8 range: check_spec refuses it as not a 4-bit opcode.
        let spec = FrameSpec { fin, rsv1, opcode: u8::try_from(opcode).unwrap_or(u8::MAX), mask };
        frame::encode_frame(spec, payload).map(Buffer::from).map_err(argument_error)
    })
}

#[napi(object)]
pub struct DecodedFrame {
    pub fin: bool,
    pub rsv1: bool,
    pub rsv2: bool,
    pub rsv3: bool,
    pub opcode: u32,
    pub masked: bool,
    pub payload: Buffer,
    pub bytes_used: u32,
}

#[napi(js_name = "decodeFrame")]
pub fn decode_frame(buf: &[u8]) -> Result<Option<DecodedFrame>> {
    guard(|| {
        let Some(f) = frame::decode_frame(buf).map_err(violation_error)? else {
            return Ok(None);
        };
        Ok(Some(DecodedFrame {
            fin: f.header.fin,
            rsv1: f.header.rsv1,
            rsv2: f.header.rsv2,
            rsv3: f.header.rsv3,
            opcode: f.header.opcode as u32,
            masked: f.header.mask.is_some(),
            payload: f.payload.into(),
            bytes_used: f.consumed as u32,
        }))
    })
}

#[napi(js_name = "encodeClose")]
pub fn encode_close(code: Option<u32>, reason: Option<&[u8]>) -> Result<Buffer> {
    guard(|| {
        let code = match code {
            None => None,
            Some(c) => Some(u16::try_from(c).map_err(|_| {
                argument_error(ArgumentError::range(format!("code: {c} is not a status code that may be sent")))
            })?),
        };
        close::encode_close(code, reason.unwrap_or(&[])).map(Buffer::from).map_err(argument_error)
    })
}

#[napi(object)]
pub struct DecodedClose {
    pub code: u32,
    pub reason: Buffer,
}

#[napi(js_name = "decodeClose")]
pub fn decode_close(payload: &[u8]) -> Result<DecodedClose> {
    guard(|| {
        let info = close::decode_close(payload).map_err(violation_error)?;
        Ok(DecodedClose { code: info.code as u32, reason: payload[info.reason_start..].to_vec().into() })
    })
}
