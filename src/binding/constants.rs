//! The core's constants, exported to JS by name: the table layouts of
//! crate::abi with their version, and the protocol numbers JS needs (read
//! through lib/abi.js, never written out in JS).

use napi_derive::napi;

use crate::abi;
use crate::deflate::negotiate;
use crate::proto::{close, error::code, frame};

#[napi]
pub const ABI_VERSION: u32 = abi::ABI_VERSION;

#[napi]
pub const RECORD_COUNT: u32 = abi::record::COUNT as u32;
#[napi]
pub const RECORD_CONSUMED: u32 = abi::record::CONSUMED as u32;
#[napi]
pub const RECORD_HEADER_WORDS: u32 = abi::record::HEADER_WORDS as u32;
#[napi]
pub const RECORD_WORDS: u32 = abi::record::WORDS as u32;
#[napi]
pub const RECORD_KIND_MASK: u32 = abi::record::KIND_MASK;
#[napi]
pub const RECORD_OWNED: u32 = abi::record::OWNED;
#[napi]
pub const RECORD_COMPRESSED: u32 = abi::record::COMPRESSED;
#[napi]
pub const RECORD_IN_SLAB: u32 = abi::record::IN_SLAB;
#[napi]
pub const RECORD_HIGH_SHIFT: u32 = abi::record::HIGH_SHIFT;
#[napi]
pub const RECORD_TABLE_WORDS: u32 = abi::record::TABLE_WORDS as u32;

#[napi]
pub const BATCH_ENTRY_WORDS: u32 = abi::batch::ENTRY_WORDS as u32;
#[napi]
pub const BATCH_FIN: u32 = abi::batch::FIN;
#[napi]
pub const BATCH_RSV1: u32 = abi::batch::RSV1;
#[napi]
pub const BATCH_PAYLOAD_ELSEWHERE: u32 = abi::batch::PAYLOAD_ELSEWHERE;
#[napi]
pub const BATCH_MASKED: u32 = abi::batch::MASKED;
#[napi]
pub const BATCH_GAP_SHIFT: u32 = abi::batch::GAP_SHIFT;
#[napi]
pub const BATCH_MAX_ENTRIES: u32 = abi::batch::MAX_ENTRIES as u32;

#[napi]
pub const UPGRADE_BYTES_USED: u32 = abi::upgrade::BYTES_USED as u32;
#[napi]
pub const UPGRADE_VERSION_MINOR: u32 = abi::upgrade::VERSION_MINOR as u32;
#[napi]
pub const UPGRADE_METHOD: u32 = abi::upgrade::METHOD as u32;
#[napi]
pub const UPGRADE_PATH: u32 = abi::upgrade::PATH as u32;
#[napi]
pub const UPGRADE_KEY: u32 = abi::upgrade::KEY as u32;
#[napi]
pub const UPGRADE_HEADER_COUNT: u32 = abi::upgrade::HEADER_COUNT as u32;
#[napi]
pub const UPGRADE_FIXED_WORDS: u32 = abi::upgrade::FIXED_WORDS as u32;
#[napi]
pub const UPGRADE_WORDS_PER_HEADER: u32 = abi::upgrade::WORDS_PER_HEADER as u32;
#[napi]
pub const UPGRADE_TABLE_WORDS: u32 = abi::upgrade::TABLE_WORDS as u32;

#[napi]
pub const OPCODE_CONTINUATION: u32 = frame::opcode::CONTINUATION as u32;
#[napi]
pub const OPCODE_TEXT: u32 = frame::opcode::TEXT as u32;
#[napi]
pub const OPCODE_BINARY: u32 = frame::opcode::BINARY as u32;
#[napi]
pub const OPCODE_CLOSE: u32 = frame::opcode::CLOSE as u32;
#[napi]
pub const OPCODE_PING: u32 = frame::opcode::PING as u32;
#[napi]
pub const OPCODE_PONG: u32 = frame::opcode::PONG as u32;
#[napi]
pub const FRAME_MAX_7BIT_LENGTH: u32 = frame::MAX_7BIT_LENGTH as u32;
#[napi]
pub const FRAME_MAX_16BIT_LENGTH: u32 = frame::MAX_16BIT_LENGTH as u32;
#[napi]
pub const MAX_CONTROL_PAYLOAD: u32 = frame::MAX_CONTROL_PAYLOAD as u32;
#[napi]
pub const MAX_CLOSE_REASON_BYTES: u32 = close::MAX_REASON_BYTES as u32;

#[napi]
pub const CLOSE_NORMAL: u32 = code::NORMAL as u32;
#[napi]
pub const CLOSE_PROTOCOL_ERROR: u32 = code::PROTOCOL_ERROR as u32;
#[napi]
pub const CLOSE_NO_STATUS: u32 = code::NO_STATUS as u32;
#[napi]
pub const CLOSE_ABNORMAL: u32 = code::ABNORMAL as u32;
#[napi]
pub const CLOSE_POLICY_VIOLATION: u32 = code::POLICY_VIOLATION as u32;
#[napi]
pub const CLOSE_MESSAGE_TOO_BIG: u32 = code::MESSAGE_TOO_BIG as u32;
#[napi]
pub const CLOSE_INTERNAL_ERROR: u32 = code::INTERNAL_ERROR as u32;

#[napi]
pub const PROTOCOL_VERSION: u32 = crate::http::server::PROTOCOL_VERSION as u32;
#[napi]
pub const MAX_HEADER_COUNT: u32 = crate::http::request::MAX_HEADER_COUNT as u32;
#[napi]
pub const DEFAULT_MAX_HEADER_BYTES: u32 = crate::http::request::DEFAULT_MAX_HEADER_BYTES as u32;

#[napi]
pub const DEFLATE_MIN_WINDOW_BITS: u32 = negotiate::MIN_WINDOW_BITS as u32;
#[napi]
pub const DEFLATE_MAX_WINDOW_BITS: u32 = negotiate::MAX_WINDOW_BITS as u32;
#[napi]
pub const DEFLATE_DEFAULT_LEVEL: u32 = negotiate::DEFAULT_LEVEL;
#[napi]
pub const DEFLATE_DEFAULT_MEM_LEVEL: u32 = negotiate::DEFAULT_MEM_LEVEL as u32;
#[napi]
pub const DEFLATE_DEFAULT_THRESHOLD: u32 = negotiate::DEFAULT_THRESHOLD as u32;

/// Whether a close code may be sent (RFC 6455 §7.4): the one rule, in Rust.
#[napi(js_name = "isSendableCloseCode")]
pub fn is_sendable_close_code(code: u32) -> bool {
    u16::try_from(code).is_ok_and(close::is_valid_code)
}
