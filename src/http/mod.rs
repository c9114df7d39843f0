//! The opening handshake (RFC 6455 §4): the HTTP request, the server's checks
//! and responses, the client's checks of the 101.

pub mod client;
pub mod request;
pub mod server;
