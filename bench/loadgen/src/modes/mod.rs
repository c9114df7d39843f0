//! The four run modes; each returns the JSON line to print (empty if already printed).

pub mod echo;
pub mod handshake;
pub mod idle;
