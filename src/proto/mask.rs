//! RFC 6455 §5.3 masking: XOR with a 4-byte key, cycling from a given offset.

/// XORs `data` in place with `key`, starting at byte `offset` of the key cycle,
/// so a payload unmasked in several pieces gives the same result as in one.
#[inline]
pub fn apply_mask(data: &mut [u8], key: [u8; 4], offset: usize) {
    let rotated = rotate_key(key, offset);
    apply_mask_aligned(data, rotated);
}

/// The key as seen from byte `offset` of the payload.
#[inline]
pub fn rotate_key(key: [u8; 4], offset: usize) -> [u8; 4] {
    let shift = offset & 3;
    [
        key[shift],
        key[(shift + 1) & 3],
        key[(shift + 2) & 3],
        key[(shift + 3) & 3],
    ]
}

/// XOR starting at key byte 0. Works a 64-bit word at a time on the bulk so
/// the compiler can vectorise the loop; the unaligned head and tail go byte by byte.
#[inline]
fn apply_mask_aligned(data: &mut [u8], key: [u8; 4]) {
    // Split so that the middle is u64-aligned; the head's length decides the key phase there.
    let (head, middle, tail) = unsafe { data.align_to_mut::<u64>() };
    for (i, byte) in head.iter_mut().enumerate() {
        *byte ^= key[i & 3];
    }
    let phase = head.len() & 3;
    let k = rotate_key(key, phase);
    let k32 = u32::from_ne_bytes(k) as u64;
    let k64 = k32 | (k32 << 32);
    xor_words(middle, k64);
    let tail_phase = (head.len() + middle.len() * 8) & 3;
    for (i, byte) in tail.iter_mut().enumerate() {
        *byte ^= key[(tail_phase + i) & 3];
    }
}

/// XORs every word with `k64`, with 256-bit vectors where the CPU has AVX2
/// (the portable build only assumes SSE2).
#[inline]
fn xor_words(words: &mut [u64], k64: u64) {
    #[cfg(target_arch = "x86_64")]
    if words.len() >= 8 && std::is_x86_feature_detected!("avx2") {
        // SAFETY: AVX2 is present, checked just above.
        unsafe { xor_words_avx2(words, k64) };
        return;
    }
    xor_words_portable(words, k64);
}

#[inline(always)]
fn xor_words_portable(words: &mut [u64], k64: u64) {
    for word in words.iter_mut() {
        *word ^= k64;
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn xor_words_avx2(words: &mut [u64], k64: u64) {
    xor_words_portable(words, k64);
}

/// Writes `src` unmasked into `dst` (the same length) in one pass: the copy
/// that assembles a message spanning chunks does the unmasking too.
/// `offset` is `src`'s position in the payload. Extra bytes of the longer
/// slice are left alone.
pub fn unmask_into(dst: &mut [u8], src: &[u8], key: [u8; 4], offset: usize) {
    let len = dst.len().min(src.len());
    let (dst, src) = (&mut dst[..len], &src[..len]);
    let key = rotate_key(key, offset);
    let k32 = u32::from_ne_bytes(key) as u64;
    let k64 = k32 | (k32 << 32);
    // 32-byte blocks keep the key phase at 0 and let the compiler vectorise.
    let mut dst_blocks = dst.chunks_exact_mut(32);
    let mut src_blocks = src.chunks_exact(32);
    for (d, s) in (&mut dst_blocks).zip(&mut src_blocks) {
        for (dw, sw) in d.chunks_exact_mut(8).zip(s.chunks_exact(8)) {
            let mut word = [0u8; 8];
            word.copy_from_slice(sw);
            dw.copy_from_slice(&(u64::from_ne_bytes(word) ^ k64).to_ne_bytes());
        }
    }
    for (i, (d, s)) in dst_blocks.into_remainder().iter_mut().zip(src_blocks.remainder()).enumerate() {
        *d = *s ^ key[i & 3];
    }
}

/// Appends `src` unmasked to `dst`, for payloads assembled across chunks;
/// `offset` is `src`'s position in the payload. A plain copy followed by the
/// vectorised XOR over the (cache-hot) copy beats a fused byte-building loop.
pub fn extend_unmasked(dst: &mut Vec<u8>, src: &[u8], key: [u8; 4], offset: usize) {
    let old_len = dst.len();
    dst.extend_from_slice(src);
    apply_mask(&mut dst[old_len..], key, offset);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn naive(data: &mut [u8], key: [u8; 4], offset: usize) {
        for (i, b) in data.iter_mut().enumerate() {
            *b ^= key[(offset + i) % 4];
        }
    }

    #[test]
    fn matches_naive_for_all_lengths_offsets_and_alignments() {
        let key = [0x37, 0xfa, 0x21, 0x3d];
        let source: Vec<u8> = (0..300u32).map(|i| (i * 7 + 3) as u8).collect();
        for start in 0..8 {
            for len in 0..(source.len() - start) {
                for offset in 0..4 {
                    let mut fast = source.clone();
                    let mut slow = source.clone();
                    apply_mask(&mut fast[start..start + len], key, offset);
                    naive(&mut slow[start..start + len], key, offset);
                    assert_eq!(fast, slow, "start {start} len {len} offset {offset}");
                }
            }
        }
    }

    #[test]
    fn masking_in_pieces_equals_masking_whole() {
        let key = [1, 2, 3, 4];
        let original: Vec<u8> = (0..100u8).collect();
        let mut whole = original.clone();
        apply_mask(&mut whole, key, 0);
        let mut pieces = original.clone();
        apply_mask(&mut pieces[..7], key, 0);
        apply_mask(&mut pieces[7..50], key, 7);
        apply_mask(&mut pieces[50..], key, 50);
        assert_eq!(whole, pieces);
    }

    #[test]
    fn extend_unmasked_matches_naive() {
        let key = [0xa1, 0x02, 0xf3, 0x44];
        let source: Vec<u8> = (0..100u32).map(|i| (i * 13) as u8).collect();
        for len in 0..source.len() {
            for offset in 0..8 {
                let mut expected = source[..len].to_vec();
                naive(&mut expected, key, offset);
                let mut out = vec![9u8; 3];
                extend_unmasked(&mut out, &source[..len], key, offset);
                assert_eq!(&out[..3], &[9, 9, 9]);
                assert_eq!(&out[3..], &expected[..], "len {len} offset {offset}");
            }
        }
    }

    #[test]
    fn unmask_into_matches_naive() {
        let key = [0x5a, 0xc3, 0x0f, 0x99];
        let source: Vec<u8> = (0..200u32).map(|i| (i * 31 + 7) as u8).collect();
        for start in 0..4 {
            for len in 0..(source.len() - start) {
                for offset in 0..8 {
                    let src = &source[start..start + len];
                    let mut expected = src.to_vec();
                    naive(&mut expected, key, offset);
                    let mut out = vec![0xeeu8; len + 3];
                    unmask_into(&mut out[..len], src, key, offset);
                    assert_eq!(&out[..len], &expected[..], "start {start} len {len} offset {offset}");
                    assert_eq!(&out[len..], &[0xee; 3], "nothing written past the slice");
                }
            }
        }
    }

    #[test]
    fn rfc_example_hello() {
        // RFC 6455 §5.7: masked "Hello".
        let mut data = [0x7f, 0x9f, 0x4d, 0x51, 0x58];
        apply_mask(&mut data, [0x37, 0xfa, 0x21, 0x3d], 0);
        assert_eq!(&data, b"Hello");
    }
}
