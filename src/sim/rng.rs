//! Seeded, stateless random draws.
//!
//! A draw is a pure function of `(seed, stream, n)`: the n-th weighted pick on a rule, or the
//! suffix of the n-th pod of a Deployment, never depends on what other streams did, on thread
//! interleaving, or on anything but the seed. ChaCha's word position lets us jump straight to
//! the n-th draw without generating the ones before it.

/// 64-bit FNV-1a: a stable hash (unlike `DefaultHasher`, whose output may change between
/// Rust releases), used to turn stream names into ChaCha keys.
pub fn fnv1a64(bytes: &[u8]) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bytes {
        hash ^= u64::from(*b);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    hash
}

/// 32-bit FNV-1a, the hash Kubernetes uses for pod-template hashes.
pub fn fnv1a32(bytes: &[u8]) -> u32 {
    let mut hash: u32 = 0x811c_9dc5;
    for b in bytes {
        hash ^= u32::from(*b);
        hash = hash.wrapping_mul(0x0100_0193);
    }
    hash
}

/// A named stream of draws under one seed.
#[derive(Clone, Debug)]
pub struct Stream {
    /// The ChaCha key as the cipher's little-endian words.
    key: [u32; 8],
}

impl Stream {
    /// The stream `name` under `seed`.
    pub fn new(seed: u64, name: &str) -> Stream {
        let mut key = [0u8; 32];
        key[..8].copy_from_slice(&seed.to_le_bytes());
        key[8..16].copy_from_slice(&fnv1a64(name.as_bytes()).to_le_bytes());
        // A second, differently salted hash keeps distinct names from sharing a key
        // even if the first 64-bit hashes ever collide.
        let mut salted = Vec::with_capacity(name.len() + 1);
        salted.push(0xa5);
        salted.extend_from_slice(name.as_bytes());
        key[16..24].copy_from_slice(&fnv1a64(&salted).to_le_bytes());
        key[24..32].copy_from_slice(&(name.len() as u64).to_le_bytes());
        let mut words = [0u32; 8];
        for (w, b) in words.iter_mut().zip(key.chunks_exact(4)) {
            *w = u32::from_le_bytes([b[0], b[1], b[2], b[3]]);
        }
        Stream { key: words }
    }

    /// The n-th 64-bit draw of this stream: words `2n` and `2n + 1` of the ChaCha8 key
    /// stream, exactly what `ChaCha8Rng::from_seed(key)` gives after `set_word_pos(2n)`
    /// (pinned by a test). Computing the one block that holds them, rather than the four
    /// the generator fills at a time, is a quarter of the work.
    pub fn draw(&self, n: u64) -> u64 {
        let block = chacha8_block(&self.key, n / 8);
        let i = usize::try_from(n % 8).unwrap_or(0) * 2;
        let lo = block.get(i).copied().unwrap_or(0);
        let hi = block.get(i + 1).copied().unwrap_or(0);
        u64::from(lo) | (u64::from(hi) << 32)
    }

    /// The n-th draw reduced to `0..bound` without modulo bias (bound > 0).
    pub fn below(&self, n: u64, bound: u64) -> u64 {
        if bound <= 1 {
            return 0;
        }
        // Lemire's multiply-shift; the tiny bias of one 128-bit product is far below
        // anything a traffic split could observe, and it keeps every draw one ChaCha block.
        ((u128::from(self.draw(n)) * u128::from(bound)) >> 64) as u64
    }
}

/// ChaCha block `counter` with 8 rounds, a 64-bit block counter (words 12 and 13) and
/// stream 0, the layout rand_chacha uses.
fn chacha8_block(key: &[u32; 8], counter: u64) -> [u32; 16] {
    #[rustfmt::skip]
    let input: [u32; 16] = [
        0x6170_7865, 0x3320_646e, 0x7962_2d32, 0x6b20_6574,
        key[0], key[1], key[2], key[3], key[4], key[5], key[6], key[7],
        counter as u32, (counter >> 32) as u32, 0, 0,
    ];
    let mut x = input;
    fn quarter(x: &mut [u32; 16], a: usize, b: usize, c: usize, d: usize) {
        x[a] = x[a].wrapping_add(x[b]);
        x[d] = (x[d] ^ x[a]).rotate_left(16);
        x[c] = x[c].wrapping_add(x[d]);
        x[b] = (x[b] ^ x[c]).rotate_left(12);
        x[a] = x[a].wrapping_add(x[b]);
        x[d] = (x[d] ^ x[a]).rotate_left(8);
        x[c] = x[c].wrapping_add(x[d]);
        x[b] = (x[b] ^ x[c]).rotate_left(7);
    }
    for _ in 0..4 {
        quarter(&mut x, 0, 4, 8, 12);
        quarter(&mut x, 1, 5, 9, 13);
        quarter(&mut x, 2, 6, 10, 14);
        quarter(&mut x, 3, 7, 11, 15);
        quarter(&mut x, 0, 5, 10, 15);
        quarter(&mut x, 1, 6, 11, 12);
        quarter(&mut x, 2, 7, 8, 13);
        quarter(&mut x, 3, 4, 9, 14);
    }
    for (o, i) in x.iter_mut().zip(input) {
        *o = o.wrapping_add(i);
    }
    x
}

/// Picks an index from `weights` for draw `n` of `stream`, in integer arithmetic so the
/// result never depends on a library's float handling. Weight 0 is never chosen; `None`
/// when every weight is 0.
pub fn pick_weighted(stream: &Stream, n: u64, weights: &[u32]) -> Option<usize> {
    let total: u64 = weights.iter().map(|w| u64::from(*w)).sum();
    if total == 0 {
        return None;
    }
    let mut point = stream.below(n, total);
    for (i, w) in weights.iter().enumerate() {
        let w = u64::from(*w);
        if point < w {
            return Some(i);
        }
        point -= w;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand_chacha::rand_core::{RngCore, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    #[test]
    fn draws_are_pure_functions_of_seed_stream_and_index() {
        let a = Stream::new(7, "httproute/sample/helloworld/rule/0");
        let b = Stream::new(7, "httproute/sample/helloworld/rule/0");
        let seq_a: Vec<u64> = (0..5).map(|n| a.draw(n)).collect();
        let seq_b: Vec<u64> = (0..5).rev().map(|n| b.draw(n)).collect();
        assert_eq!(seq_a, seq_b.into_iter().rev().collect::<Vec<_>>());
        assert_ne!(
            a.draw(0),
            Stream::new(8, "httproute/sample/helloworld/rule/0").draw(0)
        );
        assert_ne!(
            a.draw(0),
            Stream::new(7, "httproute/sample/helloworld/rule/1").draw(0)
        );
    }

    #[test]
    fn draws_match_rand_chachas_chacha8() {
        for (seed, name) in [
            (7, "httproute/sample/helloworld/rule/0"),
            (42, "x"),
            (0, ""),
        ] {
            let s = Stream::new(seed, name);
            let mut bytes = [0u8; 32];
            for (b, w) in bytes.chunks_exact_mut(4).zip(s.key) {
                b.copy_from_slice(&w.to_le_bytes());
            }
            let far = [1 << 20, (1 << 33) + 5, u64::MAX / 2, u64::MAX - 9, u64::MAX];
            for n in (0..300).chain(far) {
                let mut rng = ChaCha8Rng::from_seed(bytes);
                rng.set_word_pos(u128::from(n) * 2);
                assert_eq!(s.draw(n), rng.next_u64(), "seed {seed} {name:?} draw {n}");
            }
        }
    }

    #[test]
    fn fixed_vector_for_seed_42() {
        // Pins the algorithm: changing it changes every user's traffic sequence.
        let s = Stream::new(42, "x");
        let picks: Vec<usize> = (0..12)
            .map(|n| pick_weighted(&s, n, &[90, 10]).unwrap_or(9))
            .collect();
        assert_eq!(picks, vec![0, 0, 0, 0, 1, 1, 0, 0, 0, 0, 1, 0]);
        assert_eq!(fnv1a32(b"hello"), 0x4f9f_2cab);
        assert_eq!(fnv1a64(b"hello"), 0xa430_d846_80aa_bd0b);
    }

    #[test]
    fn weight_zero_is_never_picked_and_split_is_close() {
        let s = Stream::new(1, "r");
        let mut counts = [0u32; 3];
        for n in 0..10_000 {
            let i = pick_weighted(&s, n, &[90, 0, 10]).expect("non-zero total");
            counts[i] += 1;
        }
        assert_eq!(counts[1], 0);
        assert!((8_850..=9_150).contains(&counts[0]), "{counts:?}");
        assert_eq!(pick_weighted(&s, 0, &[0, 0]), None);
    }
}
