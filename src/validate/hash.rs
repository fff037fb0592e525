//! Hashing for finding repeated table and sequence ids and names.
//!
//! Hand-written rather than std's SipHash: a 100,000-table config looks up every id and
//! name (BENCHMARKS.md: `validate_owned` is most of loading such a config), and SipHash's
//! resistance to crafted collisions buys nothing for keys that come from the operator's
//! own file. Nothing hashed here is iterated into anything rendered: the maps are only
//! looked up.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

use crate::model::names::QualifiedName;

/// Hashing for the maps of ids and name hashes that find duplicates: the keys come from the
/// operator's own file, so resisting crafted collisions (what the default SipHash is for)
/// buys nothing. The maps are only looked up, never iterated into anything rendered.
#[derive(Default)]
pub(super) struct FastHasher(u64);

impl Hasher for FastHasher {
    fn write(&mut self, bytes: &[u8]) {
        for &byte in bytes {
            self.write_u64(byte.into());
        }
    }

    fn write_u32(&mut self, i: u32) {
        self.write_u64(i.into());
    }

    fn write_u64(&mut self, i: u64) {
        self.0 = fold(self.0 ^ i ^ 0x243f_6a88_85a3_08d3, 0x9e37_79b9_7f4a_7c15);
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

/// The two halves of the 128-bit product xor-ed: the mixing step of wyhash.
fn fold(a: u64, b: u64) -> u64 {
    let product = u128::from(a) * u128::from(b);
    (product as u64) ^ ((product >> 64) as u64)
}

/// A hash of `name` for finding repeated names. Equal names hash alike, and a repeat is
/// only reported after comparing the names, so the hash only has to be fast and spread
/// well: wyhash-style, each part of up to 16 bytes (nearly every name) read with two loads.
pub(super) fn name_hash(name: &QualifiedName) -> u64 {
    let schema = part_hash(name.schema.as_bytes(), 0x8ebc_6af0_9c88_c6e3);
    part_hash(name.name.as_bytes(), schema)
}

fn part_hash(bytes: &[u8], seed: u64) -> u64 {
    const K1: u64 = 0xa076_1d64_78bd_642f;
    const K2: u64 = 0xe703_7ed1_a0b4_28db;
    let word = |at: usize| {
        let mut buf = [0; 8];
        buf.copy_from_slice(&bytes[at..at + 8]);
        u64::from_le_bytes(buf)
    };
    let half = |at: usize| {
        let mut buf = [0; 4];
        buf.copy_from_slice(&bytes[at..at + 4]);
        u64::from(u32::from_le_bytes(buf))
    };
    let len = bytes.len();
    let mut seed = seed;
    // The first and the last bytes, overlapping when the part is shorter than their sum.
    let (a, b) = match len {
        0 => (0, 0),
        1..=3 => (
            u64::from(bytes[0]) << 16 | u64::from(bytes[len / 2]) << 8 | u64::from(bytes[len - 1]),
            0,
        ),
        4..=7 => (half(0), half(len - 4)),
        8..=16 => (word(0), word(len - 8)),
        _ => {
            let mut at = 0;
            while len - at > 16 {
                seed = fold(word(at) ^ K1, word(at + 8) ^ seed);
                at += 16;
            }
            (word(len - 16), word(len - 8))
        }
    };
    fold(a ^ K1 ^ seed, b ^ K2 ^ len as u64)
}

pub(super) type FastMap<K, V> = HashMap<K, V, BuildHasherDefault<FastHasher>>;

/// Which of `hashes` may belong to a repeated name: a hash alone in its slot of a table
/// eight times larger than `hashes` cannot, and that is over 90% of them. Only the rest go
/// through the map that finds the first of each name; the bit sets fit in the L2 cache, the
/// map of all 100,000 names did not.
pub(super) fn shared_hash_slots(hashes: &[u64]) -> HashSlots {
    let slots = (hashes.len() * 8).next_power_of_two().max(64);
    let mut seen = vec![0u64; slots / 64];
    let mut shared = HashSlots {
        bits: vec![0u64; slots / 64],
        mask: slots as u64 - 1,
    };
    for &hash in hashes {
        let (word, bit) = shared.position(hash);
        if seen[word] & bit != 0 {
            shared.bits[word] |= bit;
        } else {
            seen[word] |= bit;
        }
    }
    shared
}

/// A set of hash slots (the low bits of a hash).
pub(super) struct HashSlots {
    bits: Vec<u64>,
    mask: u64,
}

impl HashSlots {
    fn position(&self, hash: u64) -> (usize, u64) {
        let slot = hash & self.mask;
        ((slot / 64) as usize, 1 << (slot % 64))
    }

    pub(super) fn contains(&self, hash: u64) -> bool {
        let (word, bit) = self.position(hash);
        self.bits[word] & bit != 0
    }
}
#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;
    use std::hash::BuildHasher;

    use super::*;

    #[test]
    fn name_hashes_spread_over_the_slots() {
        let mut names = Vec::new();
        for len in [1, 3, 5, 7, 8, 12, 16, 17, 40] {
            for i in 0..512 {
                let name = format!("{i:0>len$}");
                names.push(QualifiedName::new("public", name.clone()));
                names.push(QualifiedName::new(name, "t"));
            }
        }
        names.sort();
        names.dedup();
        for bits in [12, 16] {
            let slots: BTreeSet<u64> = names.iter().map(|n| name_hash(n) & ((1 << bits) - 1)).collect();
            // Random hashes would fill about 1 - e^-(names/slots) of the slots; a weak mix far fewer.
            let expected =
                (1.0 - (-(names.len() as f64) / f64::from(1 << bits)).exp()) * f64::from(1 << bits);
            assert!(
                slots.len() as f64 > 0.9 * expected,
                "{} of ~{expected} slots",
                slots.len()
            );
        }
        assert_ne!(
            name_hash(&QualifiedName::new("ab", "c")),
            name_hash(&QualifiedName::new("a", "bc"))
        );
        let ids = BuildHasherDefault::<FastHasher>::default();
        let slots: BTreeSet<u64> = (0..4096u32).map(|id| ids.hash_one(id) & 0xfff).collect();
        assert!(slots.len() > 2400, "{} slots", slots.len());
    }

    #[test]
    fn shared_hash_slots_hold_every_repeated_hash() {
        let slots = 1 << 6; // eight per hash, at least 64
        let hashes = [1, 2, 3, 1 + slots, 5, 2];
        let shared = shared_hash_slots(&hashes);
        let flagged: Vec<bool> = hashes.iter().map(|&h| shared.contains(h)).collect();
        assert_eq!(flagged, [true, true, false, true, false, true]);
    }
}
