//! native-ws: an RFC 6455 protocol core (no N-API types in it) and, behind
//! the `node` feature, the thin binding that exposes it to JavaScript.

pub mod abi;
pub mod deflate;
pub mod http;
pub mod proto;

#[cfg(feature = "node")]
mod binding;
