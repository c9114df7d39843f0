//! deflate::Inflater (permessage-deflate receive side) with a `max_total`.
//!
//! The first byte picks a mode:
//! - even: ARBITRARY. The rest is split into messages and each message into
//!   pieces, fed to `inflate_piece` + `finish_message`. Invariants: no panic;
//!   on success the output never exceeds `max_total`; `TooBig` only when it
//!   did, by at most one byte; the output buffer's capacity never exceeds
//!   `max_total + 1` (a bomb cannot make it allocate more); the same message
//!   fed whole gives the same output and the same kind of error.
//! - odd: ROUND TRIP. Messages (some long and repetitive, i.e. bombs) are
//!   compressed by `Deflater` with fuzzer-chosen level/memLevel/window/context
//!   takeover, optionally releasing its context between messages, and
//!   inflated in fuzzer-chosen pieces: the output equals the input when it
//!   fits `max_total`, and is `TooBig` (bounded as above) when it does not.
#![no_main]

use libfuzzer_sys::arbitrary::{Result as ArbResult, Unstructured};
use libfuzzer_sys::fuzz_target;
use native_ws::deflate::codec::{Deflater, InflateError, Inflater};

#[derive(Debug, PartialEq, Eq)]
enum Kind {
    TooBig,
    Corrupt,
}

fn kind(e: &InflateError) -> Kind {
    match e {
        InflateError::TooBig => Kind::TooBig,
        InflateError::Corrupt(_) => Kind::Corrupt,
    }
}

/// Inflates one message given as pieces; checks the bounds; returns the output or the error kind.
fn inflate_message(
    inflater: &mut Inflater,
    pieces: &[&[u8]],
    max_total: u64,
) -> Result<Vec<u8>, Kind> {
    let mut out = Vec::new();
    let mut result = Ok(());
    for piece in pieces {
        result = inflater.inflate_piece(piece, &mut out, max_total);
        check_bounds(&out, max_total, &result);
        if result.is_err() {
            break;
        }
    }
    if result.is_ok() {
        result = inflater.finish_message(&mut out, max_total);
        check_bounds(&out, max_total, &result);
    }
    match result {
        Ok(()) => Ok(out),
        Err(e) => Err(kind(&e)),
    }
}

fn check_bounds(out: &Vec<u8>, max_total: u64, result: &Result<(), InflateError>) {
    if max_total == 0 {
        assert!(
            !matches!(result, Err(InflateError::TooBig)),
            "TooBig without a limit"
        );
        return;
    }
    let len = out.len() as u64;
    match result {
        Ok(()) => assert!(
            len <= max_total,
            "{len} bytes out, over max_total {max_total}"
        ),
        Err(InflateError::TooBig) => {
            assert!(
                len > max_total,
                "TooBig at {len} bytes, max_total {max_total}"
            );
            assert!(
                len <= max_total + 1,
                "{len} bytes out before TooBig, max_total {max_total}"
            );
        }
        Err(InflateError::Corrupt(_)) => assert!(
            len <= max_total,
            "{len} bytes out, over max_total {max_total}"
        ),
    }
    assert!(
        out.capacity() as u64 <= max_total + 1,
        "output capacity {} over max_total + 1 = {}",
        out.capacity(),
        max_total + 1
    );
}

fn split<'a>(u: &mut Unstructured, bytes: &'a [u8]) -> ArbResult<Vec<&'a [u8]>> {
    let n: u8 = u.int_in_range(0..=6)?;
    let mut pieces = Vec::new();
    let mut rest = bytes;
    for _ in 0..n {
        let take = u.int_in_range(0..=rest.len())?;
        let (a, b) = rest.split_at(take);
        pieces.push(a);
        rest = b;
    }
    pieces.push(rest);
    Ok(pieces)
}

fn max_total_from(u: &mut Unstructured) -> ArbResult<u64> {
    Ok(match u.int_in_range(0..=3u8)? {
        0 => 0,
        1 => u.int_in_range(1..=64u64)?,
        2 => u.int_in_range(1..=4096u64)?,
        _ => u.int_in_range(1..=(1u64 << 20))?,
    })
}

fn arbitrary_mode(data: &[u8]) -> ArbResult<()> {
    let mut u = Unstructured::new(data);
    let bits = u.int_in_range(8..=15)?;
    let nct: bool = u.arbitrary()?;
    let max_total = max_total_from(&mut u)?;
    let messages: u8 = u.int_in_range(1..=4)?;
    // Per message: its length and its piece lengths (the last piece takes the rest).
    let mut plans = Vec::new();
    for _ in 0..messages {
        let len = u.int_in_range(0..=4096usize)?;
        let n: u8 = u.int_in_range(0..=6)?;
        let cuts: Vec<usize> = (0..n)
            .map(|_| u.int_in_range(0..=512usize))
            .collect::<ArbResult<_>>()?;
        plans.push((len, cuts));
    }
    let rest = u.take_rest();
    let mut pieced = Inflater::new(bits, nct).unwrap();
    let mut whole = Inflater::new(bits, nct).unwrap();
    let mut pos = 0;
    for (len, cuts) in plans {
        let msg = &rest[pos..(pos + len).min(rest.len())];
        pos += msg.len();
        let mut pieces = Vec::new();
        let mut left = msg;
        for cut in cuts {
            let (a, b) = left.split_at(cut.min(left.len()));
            pieces.push(a);
            left = b;
        }
        pieces.push(left);
        let a = inflate_message(&mut pieced, &pieces, max_total);
        let b = inflate_message(&mut whole, &[msg], max_total);
        match (&a, &b) {
            (Ok(x), Ok(y)) => assert!(x == y, "pieces vs whole output differs"),
            (Err(x), Err(y)) => assert_eq!(x, y, "pieces vs whole error differs"),
            _ => panic!(
                "pieces {:?} vs whole {:?}",
                a.as_ref().map(Vec::len),
                b.as_ref().map(Vec::len)
            ),
        }
        if a.is_err() {
            // The context is gone: the connection would be failed here.
            break;
        }
    }
    Ok(())
}

fn round_trip(data: &[u8]) -> ArbResult<()> {
    let mut u = Unstructured::new(data);
    let bits = u.int_in_range(8..=15)?;
    let nct: bool = u.arbitrary()?;
    let mut deflater =
        Deflater::new(u.int_in_range(0..=9)?, u.int_in_range(1..=9)?, bits, nct).unwrap();
    let mut inflater = Inflater::new(bits, nct).unwrap();
    let messages: u8 = u.int_in_range(1..=6)?;
    for _ in 0..messages {
        let len = u.int_in_range(0..=1024usize)?;
        let seed = u.bytes(len.min(u.len()))?;
        let repeat = if u.ratio(1, 4)? {
            u.int_in_range(1..=512usize)?
        } else {
            1
        };
        let message = seed.repeat(repeat);
        let max_total = max_total_from(&mut u)?;
        let mut compressed = Vec::new();
        deflater
            .compress_message(&message, &mut compressed)
            .expect("deflate failed");
        let pieces = split(&mut u, &compressed)?;
        let got = inflate_message(&mut inflater, &pieces, max_total);
        if max_total == 0 || message.len() as u64 <= max_total {
            match got {
                Ok(out) => assert!(
                    out == message,
                    "round trip differs: {} bytes in, {} out",
                    message.len(),
                    out.len()
                ),
                Err(k) => panic!("round trip of {} bytes failed: {k:?}", message.len()),
            }
        } else {
            assert_eq!(
                got,
                Err(Kind::TooBig),
                "message of {} bytes, max_total {max_total}",
                message.len()
            );
            return Ok(());
        }
        if u.ratio(1, 4)? {
            deflater.release();
        }
    }
    Ok(())
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let _ = if mode & 1 == 0 {
        arbitrary_mode(rest)
    } else {
        round_trip(rest)
    };
});
