//! permessage-deflate (RFC 7692): negotiation on both sides and the codec.

pub mod codec;
pub mod header;
pub mod negotiate;
