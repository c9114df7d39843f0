//! The RFC 6455 framing core: frames, masking, UTF-8, close payloads, the
//! typed violations and limits, and the streaming parser. No I/O, no N-API.

pub mod close;
pub mod error;
pub mod frame;
pub mod limits;
pub mod mask;
pub mod parser;
pub mod rules;
pub mod utf8;
