//! The rules of RFC 6455 §5.1-§5.5 (and RFC 7692 §6 for RSV1) that a frame
//! header's first two bytes decide, each failing with its own `Violation`.

use crate::proto::error::Violation;
use crate::proto::frame::{opcode, FrameHeader, MAX_CONTROL_PAYLOAD};
use crate::proto::limits::Role;

/// What the rules depend on besides the header.
#[derive(Debug, Clone, Copy)]
pub struct RuleContext {
    pub role: Role,
    /// permessage-deflate was negotiated (RSV1 allowed on data frames).
    pub inflate: bool,
    /// A fragmented message is in progress.
    pub in_message: bool,
}

/// The checks of `check_rules` on the first two bytes of a header whose
/// rest (extended length, masking key) has not arrived: a peer cannot hold
/// a connection open with the start of a frame that is already wrong.
/// Every rule there is decided by these two bytes, so the outcome is the
/// same as when the header arrives whole.
pub fn check_lead(ctx: RuleContext, b0: u8, b1: u8) -> Result<(), Violation> {
    let masked = b1 & 0x80 != 0;
    let len7 = b1 & 0x7f;
    let extended = match len7 {
        126 => 2,
        127 => 8,
        _ => 0,
    };
    let lead = FrameHeader {
        fin: b0 & 0x80 != 0,
        rsv1: b0 & 0x40 != 0,
        rsv2: b0 & 0x20 != 0,
        rsv3: b0 & 0x10 != 0,
        opcode: b0 & 0x0f,
        mask: masked.then_some([0; 4]),
        payload_len: len7 as u64,
        header_len: 2 + extended + if masked { 4 } else { 0 },
    };
    check_rules(ctx, &lead)
}

/// The rules of a header that its first two bytes decide.
#[inline(always)]
pub fn check_rules(ctx: RuleContext, h: &FrameHeader) -> Result<(), Violation> {
    match (ctx.role, h.mask.is_some()) {
        (Role::Server, false) => return Err(Violation::ExpectedMask),
        (Role::Client, true) => return Err(Violation::UnexpectedMask),
        _ => {}
    }
    if h.rsv2 || h.rsv3 {
        return Err(Violation::UnexpectedRsv23);
    }
    if !opcode::is_defined(h.opcode) {
        return Err(Violation::InvalidOpcode(h.opcode));
    }
    let control = opcode::is_control(h.opcode);
    if h.rsv1 && (!ctx.inflate || control || h.opcode == opcode::CONTINUATION) {
        return Err(Violation::UnexpectedRsv1);
    }
    if control {
        // An extended length (7-bit code 126 or 127) is over 125 whatever
        // it says, given the minimal encoding §5.2 requires; as in ws,
        // which also reports the 7-bit code.
        let short_header = 2 + if h.mask.is_some() { 4 } else { 0 };
        let len7 = match h.header_len.saturating_sub(short_header) {
            0 => h.payload_len.min(u8::MAX as u64) as u8,
            2 => 126,
            _ => 127,
        };
        if len7 as usize > MAX_CONTROL_PAYLOAD {
            return Err(Violation::InvalidControlPayloadLength(len7));
        }
        if !h.fin {
            return Err(Violation::ExpectedFin);
        }
        return Ok(());
    }
    match (h.opcode, ctx.in_message) {
        (opcode::CONTINUATION, false) => Err(Violation::InvalidOpcode(opcode::CONTINUATION)),
        (opcode::TEXT | opcode::BINARY, true) => Err(Violation::InvalidOpcode(h.opcode)),
        _ => Ok(()),
    }
}
