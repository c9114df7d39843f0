//! native-ws: an RFC 6455 protocol core (no N-API types in it) and, behind
//! the `node` feature, the thin binding that exposes it to JavaScript.

pub mod close;
pub mod deflate;
pub mod error;
pub mod extension;
pub mod frame;
pub mod handshake;
pub mod mask;
pub mod parser;
pub mod utf8;

#[cfg(feature = "node")]
mod binding;
