//! The N-API binding: converts between JS values and the core's types and
//! nothing more. Every entry point runs under `guard`, so a Rust panic becomes
//! a JS exception instead of aborting Node.
//!
//! Errors cross one way: thrown as a JS `Error` whose message is
//! `native-ws|<kind>|<code>|<number>|<message>` (kind TypeError, RangeError,
//! Protocol with ws's code and the close code, Handshake with the HTTP
//! status, Response for a client's failed handshake, Panic, Internal for a
//! zlib or N-API failure). lib/native.js,
//! which wraps every export, decodes it into the error objects of lib/errors.js.

use std::fmt::Display;
use std::panic::{catch_unwind, AssertUnwindSafe};

use napi::bindgen_prelude::*;

use crate::http::server::HandshakeViolation;
use crate::proto::error::{ArgumentError, ArgumentErrorKind, Violation};

mod buffers;
mod constants;
mod deflate;
mod handshake;
mod parser;
mod sender;

/// Runs `f`, turning a panic into a thrown `Panic` error.
pub(crate) fn guard<T>(f: impl FnOnce() -> Result<T>) -> Result<T> {
    catch_unwind(AssertUnwindSafe(f)).unwrap_or_else(|panic| {
        let what = panic
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| panic.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "unknown panic".into());
        Err(thrown("Panic", "ERR_NATIVE_WS_PANIC", 0, format!("native-ws internal error: {what}")))
    })
}

/// The one encoding of an error crossing to JS (see the module docs).
fn thrown(kind: &str, code: &str, number: u32, message: impl Display) -> Error {
    Error::new(Status::GenericFailure, format!("native-ws|{kind}|{code}|{number}|{message}"))
}

pub(crate) fn argument_error(e: ArgumentError) -> Error {
    let kind = match e.kind {
        ArgumentErrorKind::Type => "TypeError",
        ArgumentErrorKind::Range => "RangeError",
    };
    thrown(kind, e.kind.error_code(), 0, e.message)
}

pub(crate) fn violation_error(v: Violation) -> Error {
    thrown("Protocol", v.error_code(), v.close_code() as u32, v)
}

pub(crate) fn handshake_error(v: HandshakeViolation) -> Error {
    thrown("Handshake", "WS_ERR_HANDSHAKE", v.status() as u32, v)
}

/// A server's 101 answer the client must refuse (a `ResponseViolation`, or a detail of one).
pub(crate) fn response_error(why: impl Display) -> Error {
    thrown("Response", "WS_ERR_HANDSHAKE", 0, why)
}

/// A failure that is nobody's argument or protocol error (zlib, N-API).
pub(crate) fn internal_error(message: impl Display) -> Error {
    thrown("Internal", "ERR_NATIVE_WS_INTERNAL", 0, message)
}
