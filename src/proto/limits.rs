//! The limits the parser enforces, in one documented config struct, and the
//! fixed sizes of RFC 6455 they sit beside.

pub use crate::proto::frame::{MAX_CONTROL_PAYLOAD, MAX_HEADER_LEN};

/// Which side this parser reads for: a server reads masked client frames.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Server,
    Client,
}

/// What one connection's parser accepts.
#[derive(Debug, Clone, Copy)]
pub struct ParserConfig {
    pub role: Role,
    /// Largest message in bytes (after inflating); 0 means no limit.
    pub max_payload: u64,
}

/// Largest announced frame for which the parser asks the sink to lend a
/// buffer up front; longer ones grow a `Vec` as their bytes arrive, so a
/// header alone never makes the parser hold more than this.
pub const MAX_LENT: u64 = 1 << 20;

