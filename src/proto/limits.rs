//! The limits the parser enforces, in one documented config struct, and the
//! fixed sizes of RFC 6455 they sit beside.

pub use crate::proto::frame::{MAX_CONTROL_PAYLOAD, MAX_HEADER_LEN};

/// Which side this parser reads for: a server reads masked client frames.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Server,
    Client,
}

/// What one connection's parser accepts (ws's receiver options; 0 turns a
/// count limit off).
#[derive(Debug, Clone, Copy)]
pub struct ParserConfig {
    pub role: Role,
    /// Largest message in bytes (after inflating); 0 means no limit.
    pub max_payload: u64,
    /// Text messages and close reasons are not checked for UTF-8 (ws's
    /// `skipUTF8Validation`, for a peer that is trusted to send UTF-8).
    pub skip_utf8: bool,
    /// Most data frames one message may arrive in (ws's `maxFragments`).
    pub max_fragments: u32,
    /// Most socket chunks one frame may arrive in (ws's `maxBufferedChunks`:
    /// ws keeps every chunk of an incomplete frame; this parser copies them
    /// out, so the limit bounds the per-chunk work a peer dribbling a frame
    /// byte by byte can cause, at the same count as ws).
    pub max_buffered_chunks: u32,
}

impl ParserConfig {
    /// No limits but `max_payload`; UTF-8 checked.
    pub const fn new(role: Role, max_payload: u64) -> Self {
        Self { role, max_payload, skip_utf8: false, max_fragments: 0, max_buffered_chunks: 0 }
    }
}

/// Largest announced frame for which the parser asks the sink to lend a
/// buffer up front; longer ones grow a `Vec` as their bytes arrive, so a
/// header alone never makes the parser hold more than this.
pub const MAX_LENT: u64 = 1 << 20;

