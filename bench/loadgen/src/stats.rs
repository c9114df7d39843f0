//! Latency histogram (log-linear buckets, ~1.6% resolution) and JSON output helpers.

/// Values below this are counted exactly (in nanoseconds).
const LINEAR: u64 = 128;
/// Sub-buckets per power of two above `LINEAR`.
const SUB_BITS: u32 = 6;
const SUB: usize = 1 << SUB_BITS;
const BUCKETS: usize = LINEAR as usize + (64 - 7) * SUB;

pub struct Histogram {
    counts: Vec<u64>,
    total: u64,
}

impl Default for Histogram {
    fn default() -> Self {
        Histogram {
            counts: vec![0; BUCKETS],
            total: 0,
        }
    }
}

#[inline]
fn index(v: u64) -> usize {
    if v < LINEAR {
        return v as usize;
    }
    let e = 63 - v.leading_zeros(); // >= 7
    let shift = e - SUB_BITS;
    LINEAR as usize + (e as usize - 7) * SUB + ((v >> shift) as usize - SUB)
}

/// Midpoint of a bucket.
fn value(idx: usize) -> u64 {
    if idx < LINEAR as usize {
        return idx as u64;
    }
    let i = idx - LINEAR as usize;
    let e = (i / SUB) as u32 + 7;
    let shift = e - SUB_BITS;
    let m = (i % SUB + SUB) as u64;
    (m << shift) + ((1u64 << shift) >> 1)
}

impl Histogram {
    #[inline]
    pub fn record(&mut self, ns: u64) {
        self.counts[index(ns)] += 1;
        self.total += 1;
    }

    /// The `q`-quantile (0..=1) in nanoseconds, or None without samples.
    pub fn quantile(&self, q: f64) -> Option<u64> {
        if self.total == 0 {
            return None;
        }
        let rank = ((q * self.total as f64).ceil() as u64).clamp(1, self.total);
        let mut seen = 0;
        for (i, &c) in self.counts.iter().enumerate() {
            seen += c;
            if seen >= rank {
                return Some(value(i));
            }
        }
        None
    }
}

/// Microseconds with one decimal, or JSON null.
pub fn us(ns: Option<u64>) -> String {
    match ns {
        Some(ns) => format!("{:.1}", ns as f64 / 1000.0),
        None => "null".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_are_monotonic_and_close() {
        let mut prev = 0;
        for v in (0..200_000u64).chain([1 << 30, u64::MAX / 2, u64::MAX]) {
            let i = index(v);
            assert!(i >= prev && i < BUCKETS);
            prev = i;
            let mid = value(i) as f64;
            assert!(
                (mid - v as f64).abs() <= v as f64 / 64.0 + 1.0,
                "{v} -> {mid}"
            );
        }
    }

    #[test]
    fn quantiles() {
        let mut h = Histogram::default();
        assert_eq!(h.quantile(0.5), None);
        for v in 1..=1000u64 {
            h.record(v * 1000);
        }
        let p50 = h.quantile(0.5).unwrap() as f64;
        let p99 = h.quantile(0.99).unwrap() as f64;
        assert!((p50 - 500_000.0).abs() < 10_000.0, "{p50}");
        assert!((p99 - 990_000.0).abs() < 20_000.0, "{p99}");
    }
}
