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

/// The rules of a header that its first two bytes decide, checked in ws's
/// order (receiver.js getInfo), so that a frame breaking several rules gets
/// the violation ws reports for it: RSV2/RSV3, RSV1, the opcode (with FIN,
/// RSV1 and the length of control frames), then the mask.
#[inline(always)]
pub fn check_rules(ctx: RuleContext, h: &FrameHeader) -> Result<(), Violation> {
    if h.rsv2 || h.rsv3 {
        return Err(Violation::UnexpectedRsv23);
    }
    if h.rsv1 && !ctx.inflate {
        return Err(Violation::UnexpectedRsv1);
    }
    match h.opcode {
        opcode::CONTINUATION => {
            if h.rsv1 {
                return Err(Violation::UnexpectedRsv1);
            }
            if !ctx.in_message {
                return Err(Violation::InvalidOpcode(opcode::CONTINUATION));
            }
        }
        opcode::TEXT | opcode::BINARY => {
            if ctx.in_message {
                return Err(Violation::InvalidOpcode(h.opcode));
            }
        }
        opcode::CLOSE | opcode::PING | opcode::PONG => {
            if !h.fin {
                return Err(Violation::ExpectedFin);
            }
            if h.rsv1 {
                return Err(Violation::UnexpectedRsv1);
            }
            // An extended length (7-bit code 126 or 127) is over 125 whatever
            // it says, given the minimal encoding §5.2 requires; as in ws,
            // which also reports the 7-bit code.
            let short_header = 2 + if h.mask.is_some() { 4 } else { 0 };
            let len7 = match h.header_len.saturating_sub(short_header) {
                0 => h.payload_len.min(u8::MAX as u64) as u8,
                2 => 126,
                _ => 127,
            };
            // A close payload is empty or holds a 2-byte code (§5.5.1).
            if len7 as usize > MAX_CONTROL_PAYLOAD || (h.opcode == opcode::CLOSE && len7 == 1) {
                return Err(Violation::InvalidControlPayloadLength(len7));
            }
        }
        reserved => return Err(Violation::InvalidOpcode(reserved)),
    }
    match (ctx.role, h.mask.is_some()) {
        (Role::Server, false) => Err(Violation::ExpectedMask),
        (Role::Client, true) => Err(Violation::UnexpectedMask),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SERVER: RuleContext = RuleContext { role: Role::Server, inflate: false, in_message: false };

    #[test]
    fn several_broken_rules_give_the_one_ws_reports() {
        // [first byte, second byte] -> what ws's getInfo reports first.
        let cases = [
            // Unmasked with RSV2 and a reserved opcode: RSV2/RSV3 first.
            ([0xa3, 0x00], Violation::UnexpectedRsv23),
            // Unmasked with RSV1 (no extension) and a reserved opcode: RSV1.
            ([0xc3, 0x00], Violation::UnexpectedRsv1),
            // Unmasked with a reserved opcode: the opcode before the mask.
            ([0x83, 0x00], Violation::InvalidOpcode(3)),
            // A fragmented ping of 126 bytes: FIN before the length.
            ([0x09, 0xfe], Violation::ExpectedFin),
            // An unmasked ping of 126 bytes: the length before the mask.
            ([0x89, 0x7e], Violation::InvalidControlPayloadLength(126)),
            // An unmasked continuation with no message: the opcode before the mask.
            ([0x80, 0x00], Violation::InvalidOpcode(0)),
            // An unmasked 1-byte close: its length before the mask.
            ([0x88, 0x01], Violation::InvalidControlPayloadLength(1)),
            ([0x81, 0x00], Violation::ExpectedMask),
        ];
        for ([b0, b1], expected) in cases {
            assert_eq!(check_lead(SERVER, b0, b1), Err(expected), "{b0:02x} {b1:02x}");
        }
        let deflate = RuleContext { inflate: true, ..SERVER };
        assert_eq!(check_lead(deflate, 0xc1, 0x80), Ok(()));
        assert_eq!(check_lead(deflate, 0xc0, 0x80), Err(Violation::UnexpectedRsv1));
        assert_eq!(check_lead(deflate, 0xc9, 0x80), Err(Violation::UnexpectedRsv1));
        let in_message = RuleContext { in_message: true, ..SERVER };
        assert_eq!(check_lead(in_message, 0x82, 0x80), Err(Violation::InvalidOpcode(2)));
        assert_eq!(check_lead(in_message, 0x80, 0x80), Ok(()));
        let client = RuleContext { role: Role::Client, ..SERVER };
        assert_eq!(check_lead(client, 0x81, 0x80), Err(Violation::UnexpectedMask));
    }
}
