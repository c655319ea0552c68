//! Seeded, stateless random draws.
//!
//! A draw is a pure function of `(seed, stream, n)`: the n-th weighted pick on a rule, or the
//! suffix of the n-th pod of a Deployment, never depends on what other streams did, on thread
//! interleaving, or on anything but the seed. ChaCha's word position lets us jump straight to
//! the n-th draw without generating the ones before it.

use rand_chacha::rand_core::{RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;

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

/// Words per batch: ChaCha makes four 16-word blocks per call, so 32 consecutive draws of a
/// stream cost one call.
const BATCH_WORDS: usize = 64;

/// The words of one batch of a stream, from word position `base` (a multiple of
/// [`BATCH_WORDS`]).
struct Batch {
    key: [u8; 32],
    base: u128,
    words: [u32; BATCH_WORDS],
}

impl Batch {
    fn generate(key: [u8; 32], base: u128) -> Batch {
        let mut rng = ChaCha8Rng::from_seed(key);
        // At a batch boundary ChaCha fills its buffer with exactly these 64 words.
        rng.set_word_pos(base);
        Batch {
            key,
            base,
            words: std::array::from_fn(|_| rng.next_u32()),
        }
    }
}

thread_local! {
    /// The last batch this thread generated. A rule's draws are numbered by one counter, so
    /// the requests a worker serves on a hot rule take consecutive draws from the same batch,
    /// and ChaCha runs once per 32 of them instead of once per request; the values are the
    /// same as drawing each alone.
    static LAST_BATCH: std::cell::RefCell<Option<Batch>> = const { std::cell::RefCell::new(None) };
}

/// A 64-bit draw from its two words, as ChaCha's own `next_u64` joins them.
fn join(low: u32, high: u32) -> u64 {
    (u64::from(high) << 32) | u64::from(low)
}

/// A named stream of draws under one seed.
#[derive(Clone, Debug)]
pub struct Stream {
    key: [u8; 32],
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
        Stream { key }
    }

    /// The n-th 64-bit draw of this stream.
    pub fn draw(&self, n: u64) -> u64 {
        // Each draw consumes two 32-bit words, low word first.
        let word = u128::from(n) * 2;
        let base = word - word % BATCH_WORDS as u128;
        let offset = usize::try_from(word - base).unwrap_or(0);
        let cached = LAST_BATCH
            .try_with(|last| {
                let mut last = last.try_borrow_mut().ok()?;
                let hit = last
                    .as_ref()
                    .is_some_and(|b| b.base == base && b.key == self.key);
                if !hit {
                    *last = Some(Batch::generate(self.key, base));
                }
                let words = &last.as_ref()?.words;
                Some(join(*words.get(offset)?, *words.get(offset + 1)?))
            })
            .ok()
            .flatten();
        cached.unwrap_or_else(|| self.draw_uncached(n))
    }

    /// [`Stream::draw`] without the per-thread batch: one ChaCha call per draw.
    fn draw_uncached(&self, n: u64) -> u64 {
        let mut rng = ChaCha8Rng::from_seed(self.key);
        rng.set_word_pos(u128::from(n) * 2);
        rng.next_u64()
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
    fn batched_draws_equal_single_draws() {
        let a = Stream::new(3, "httproute/sample/helloworld/rule/0");
        let b = Stream::new(3, "httproute/sample/helloworld/rule/1");
        // Interleaved streams, batch edges, and positions far along the stream.
        let positions = (0..70).chain([31, 32, 33, 1 << 40, (1 << 40) + 1, u64::MAX / 2]);
        for n in positions {
            assert_eq!(a.draw(n), a.draw_uncached(n), "a, draw {n}");
            assert_eq!(b.draw(n), b.draw_uncached(n), "b, draw {n}");
        }
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
