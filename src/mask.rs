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
    for word in middle.iter_mut() {
        *word ^= k64;
    }
    let tail_phase = (head.len() + middle.len() * 8) & 3;
    for (i, byte) in tail.iter_mut().enumerate() {
        *byte ^= key[(tail_phase + i) & 3];
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
    fn rfc_example_hello() {
        // RFC 6455 §5.7: masked "Hello".
        let mut data = [0x7f, 0x9f, 0x4d, 0x51, 0x58];
        apply_mask(&mut data, [0x37, 0xfa, 0x21, 0x3d], 0);
        assert_eq!(&data, b"Hello");
    }
}
