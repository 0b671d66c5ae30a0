//! The one place that owns hashing: token hashes, shingle hashes, the
//! per-seed permutations of sketches and seed expansion.
//!
//! Everything here is stable across runs, platforms and releases: it is what
//! makes signatures comparable and persisted files meaningful. Never use
//! `std::hash::Hash` or a randomly seeded hasher for any of it.

use xxhash_rust::xxh3::{xxh3_64, xxh3_64_with_seed};

/// Multiplier of the polynomial that rolls token hashes into shingle hashes
/// (an odd 64-bit constant, so each position is a bijection mod 2^64).
const ROLL_BASE: u64 = 0x9E37_79B9_7F4A_7C15;

/// Hash of one normalized token (or one character, for character shingles).
#[inline]
pub(crate) fn token_hash(token: &[u8]) -> u64 {
    xxh3_64(token)
}

/// The finalizer of every shingle hash: the rolled polynomial with the
/// window length folded in. It is not avalanched: the polynomial of random
/// 64-bit token hashes already makes distinct shingles collide with
/// probability about 2^-64, and every consumer that needs avalanche (the
/// sketch's per-seed permutation) mixes anyway, so mixing here would be paid
/// twice per shingle.
#[inline]
pub(crate) fn finish_shingle(rolled: u64, len: usize) -> u64 {
    rolled ^ (len as u64).wrapping_mul(0xD6E8_FEB8_6659_FD93)
}

/// Rolling polynomial over a window of token hashes:
/// `H = t0*B^(n-1) + t1*B^(n-2) + ... + t(n-1)`, updated in O(1) per step.
#[derive(Debug, Clone)]
pub(crate) struct Roller {
    /// `B^(n-1)`, to remove the outgoing token.
    top: u64,
    acc: u64,
}

impl Roller {
    /// A roller over windows of `n` hashes.
    pub(crate) fn new(n: usize) -> Roller {
        let mut top = 1u64;
        for _ in 1..n {
            top = top.wrapping_mul(ROLL_BASE);
        }
        Roller { top, acc: 0 }
    }

    /// Add a hash to the window (before it is full).
    #[inline]
    pub(crate) fn push(&mut self, h: u64) {
        self.acc = self.acc.wrapping_mul(ROLL_BASE).wrapping_add(h);
    }

    /// Slide the full window one step: drop `out`, add `h`.
    #[inline]
    pub(crate) fn roll(&mut self, out: u64, h: u64) {
        self.acc = self.acc.wrapping_sub(out.wrapping_mul(self.top)).wrapping_mul(ROLL_BASE).wrapping_add(h);
    }

    /// The finished hash of the current window of `len` hashes.
    #[inline]
    pub(crate) fn value(&self, len: usize) -> u64 {
        finish_shingle(self.acc, len)
    }
}

/// A strong 64-bit mixer (the MurmurHash3 finalizer), a bijection.
#[inline]
pub(crate) fn mix64(mut x: u64) -> u64 {
    x ^= x >> 33;
    x = x.wrapping_mul(0xff51_afd7_ed55_8ccd);
    x ^= x >> 33;
    x = x.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    x ^= x >> 33;
    x
}

/// Expand a user seed into a stream of 64-bit values (SplitMix64). The
/// stream is part of the sketch format: do not change it.
#[derive(Debug, Clone)]
pub(crate) struct SeedStream(u64);

impl SeedStream {
    /// A stream for `seed` and a purpose tag, so that different uses of the
    /// same seed are independent.
    pub(crate) fn new(seed: u64, purpose: u64) -> SeedStream {
        SeedStream(xxh3_64_with_seed(&purpose.to_le_bytes(), seed))
    }

    /// The next value.
    #[inline]
    pub(crate) fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
}

/// Hash of a band of signature values, keyed by the band number so that
/// equal values in different bands never share a bucket.
#[inline]
pub(crate) fn band_hash(band: u32, values: &[u32]) -> u64 {
    let mut bytes = [0u8; 4 * 64];
    if values.len() <= 64 {
        for (chunk, v) in bytes.chunks_exact_mut(4).zip(values) {
            chunk.copy_from_slice(&v.to_le_bytes());
        }
        xxh3_64_with_seed(&bytes[..4 * values.len()], u64::from(band))
    } else {
        let raw: Vec<u8> = values.iter().flat_map(|v| v.to_le_bytes()).collect();
        xxh3_64_with_seed(&raw, u64::from(band))
    }
}

/// Golden fixtures for the unit tests: values compared with a JSON file
/// under `tests/fixtures/golden/`, rewritten with `NEARDUP_BLESS=1` (as the
/// integration tests' fixtures are).
#[cfg(test)]
pub(crate) mod golden {
    use serde_json::Value;

    /// How to re-bless, for failure messages.
    pub(crate) const REBLESS: &str = "NEARDUP_BLESS=1 cargo test --release golden";

    /// A 64-bit hash as it is written in fixtures.
    pub(crate) fn hex(h: u64) -> Value {
        Value::String(format!("{h:#018x}"))
    }

    /// `v` as fixture text: objects and arrays of arrays or objects one
    /// entry a line (so that a diff names the entry that changed), the rest
    /// compact.
    pub(crate) fn pretty(v: &Value) -> String {
        fn go(v: &Value, indent: usize, out: &mut String) {
            let pad = "  ".repeat(indent + 1);
            match v {
                Value::Object(m) if !m.is_empty() => {
                    out.push_str("{\n");
                    for (i, (k, x)) in m.iter().enumerate() {
                        out.push_str(&format!("{pad}{}: ", Value::String(k.clone())));
                        go(x, indent + 1, out);
                        out.push_str(if i + 1 < m.len() { ",\n" } else { "\n" });
                    }
                    out.push_str(&"  ".repeat(indent));
                    out.push('}');
                }
                Value::Array(a) if !a.is_empty() && a.iter().all(|x| x.is_array() || x.is_object()) => {
                    out.push_str("[\n");
                    for (i, x) in a.iter().enumerate() {
                        out.push_str(&pad);
                        go(x, indent + 1, out);
                        out.push_str(if i + 1 < a.len() { ",\n" } else { "\n" });
                    }
                    out.push_str(&"  ".repeat(indent));
                    out.push(']');
                }
                _ => out.push_str(&v.to_string()),
            }
        }
        let mut out = String::new();
        go(v, 0, &mut out);
        out.push('\n');
        out
    }

    /// The fixture `tests/fixtures/golden/NAME`, parsed (`None`: missing).
    pub(crate) fn load(name: &str) -> Option<Value> {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/golden").join(name);
        let text = std::fs::read_to_string(&path).ok()?;
        Some(serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display())))
    }

    /// `fresh` must equal the fixture `NAME`; with `NEARDUP_BLESS` set the
    /// fixture is written first. `why` says what a change means.
    pub(crate) fn check(name: &str, fresh: &Value, why: &str) {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/golden").join(name);
        if std::env::var_os("NEARDUP_BLESS").is_some() {
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(&path, pretty(fresh)).unwrap();
        }
        let Some(want) = load(name) else {
            panic!("{}: missing golden fixture; write it with `{REBLESS}`", path.display())
        };
        if &want != fresh {
            let (a, b) = (pretty(&want), pretty(fresh));
            let (n, (was, now)) = a
                .lines()
                .chain(std::iter::repeat(""))
                .zip(b.lines().chain(std::iter::repeat("")))
                .enumerate()
                .find(|(_, (x, y))| x != y)
                .unwrap_or((0, ("", "")));
            panic!(
                "{}: the values drifted from the golden fixture (first difference at line {}):\n  fixture: \
                 {was}\n  now:     {now}\n{why}\nIf the change is intended, re-bless with `{REBLESS}` and \
                 commit the fixture.",
                path.display(),
                n + 1
            );
        }
    }

    /// [`check`] for values that are part of the sketch format: blessing
    /// refuses to change a value (one that is pinned and computed from the
    /// same input as before) unless SKETCH_FORMAT_VERSION changed with it.
    pub(crate) fn check_format(name: &str, fresh: &Value, why: &str) {
        const VERSION: &str = "sketch_format_version";
        if std::env::var_os("NEARDUP_BLESS").is_some() {
            if let (Some(Value::Object(old)), Value::Object(new)) = (load(name), fresh) {
                let same_input = old.get("text") == new.get("text");
                if same_input && old.get(VERSION) == new.get(VERSION) {
                    for (k, v) in new {
                        if old.get(k).is_some_and(|o| o != v) {
                            panic!(
                                "{name}: `{k}` changed but SKETCH_FORMAT_VERSION did not: bump it (saved \
                                 signatures are no longer comparable) before blessing"
                            );
                        }
                    }
                }
            }
        }
        check(name, fresh, why);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn direct(hs: &[u64]) -> u64 {
        let mut acc = 0u64;
        for &h in hs {
            acc = acc.wrapping_mul(ROLL_BASE).wrapping_add(h);
        }
        finish_shingle(acc, hs.len())
    }

    #[test]
    fn rolling_equals_direct_polynomial() {
        let hs: Vec<u64> = (0..20u64).map(|i| token_hash(&i.to_le_bytes())).collect();
        let n = 5;
        let mut r = Roller::new(n);
        for &h in &hs[..n] {
            r.push(h);
        }
        assert_eq!(r.value(n), direct(&hs[..n]));
        for i in n..hs.len() {
            r.roll(hs[i - n], hs[i]);
            assert_eq!(r.value(n), direct(&hs[i + 1 - n..=i]), "window ending {i}");
        }
    }

    #[test]
    fn order_matters() {
        let a = token_hash(b"a");
        let b = token_hash(b"b");
        assert_ne!(direct(&[a, b]), direct(&[b, a]));
    }

    #[test]
    fn pinned_values() {
        // These pin the hash stream: a change here breaks persisted sketches.
        assert_eq!(token_hash(b""), 0x2d06800538d394c2);
        assert_eq!(mix64(1), 0xb456bcfc34c2cb2c);
        let mut s = SeedStream::new(0, 0);
        let first = s.next_u64();
        assert_eq!(first, SeedStream::new(0, 0).next_u64());
        assert_ne!(first, SeedStream::new(1, 0).next_u64());
        assert_ne!(first, SeedStream::new(0, 1).next_u64());
    }

    #[test]
    fn band_hash_depends_on_band_and_values() {
        assert_ne!(band_hash(0, &[1, 2]), band_hash(1, &[1, 2]));
        assert_ne!(band_hash(0, &[1, 2]), band_hash(0, &[2, 1]));
        let long: Vec<u32> = (0..100).collect();
        assert_eq!(band_hash(3, &long), band_hash(3, &long));
    }

    /// The seed streams, band hashes, token hashes, the mixer and the
    /// shingle finalizer against `tests/fixtures/golden/hash.json`. They are
    /// the sketch format: a change makes every saved signature, index and
    /// stage file meaningless, so it must come with a new
    /// SKETCH_FORMAT_VERSION (blessing refuses otherwise).
    #[test]
    fn golden_hash_values() {
        use crate::sketch::SKETCH_FORMAT_VERSION;
        use golden::hex;
        use serde_json::{Map, Value, json};
        let stream = |seed: u64, purpose: u64| -> Value {
            let mut s = SeedStream::new(seed, purpose);
            (0..8).map(|_| hex(s.next_u64())).collect()
        };
        let mut seeds = Map::new();
        // the purposes the sketcher uses (OPH keys, MinHash coefficients)
        for (seed, purpose) in [(0, 0), (0, 0x5eed_0001), (0, 0x5eed_0002), (42, 0x5eed_0001), (u64::MAX, 7)]
        {
            seeds.insert(format!("SeedStream::new({seed}, {purpose:#x})"), stream(seed, purpose));
        }
        let mut bands = Map::new();
        let long: Vec<u32> = (0..100).collect();
        for (band, values, name) in [
            (0, &[][..], "[]".to_owned()),
            (0, &[0][..], "[0]".to_owned()),
            (1, &[0][..], "[0]".to_owned()),
            (3, &[1, 2, 3, 4, 5, 6, 7][..], "[1, 2, 3, 4, 5, 6, 7]".to_owned()),
            (16, &[u32::MAX; 7][..], "[u32::MAX; 7]".to_owned()),
            (5, &long[..64], "0..64".to_owned()),
            (5, &long[..], "0..100".to_owned()),
        ] {
            bands.insert(format!("band_hash({band}, {name})"), hex(band_hash(band, values)));
        }
        let mut tokens = Map::new();
        for t in ["", "a", "the", "lighthouse", "café", "0123456789", "naïve-ünïcödé"] {
            tokens.insert(format!("{t:?}"), hex(token_hash(t.as_bytes())));
        }
        let mut mixed = Map::new();
        for x in [0, 1, 0x5eed_0001, u64::MAX] {
            mixed.insert(format!("mix64({x:#x})"), hex(mix64(x)));
        }
        // shingle hashes rolled over the token hashes of a b c d e f g, in
        // windows of 3, and the finalizer on its own
        let hs: Vec<u64> = "a b c d e f g".split(' ').map(|t| token_hash(t.as_bytes())).collect();
        let mut r = Roller::new(3);
        let mut rolled = Vec::new();
        for (i, &h) in hs.iter().enumerate() {
            if i < 3 {
                r.push(h);
            } else {
                r.roll(hs[i - 3], h);
            }
            if i >= 2 {
                rolled.push(hex(r.value(3)));
            }
        }
        let fresh = json!({
            "sketch_format_version": SKETCH_FORMAT_VERSION,
            "seed_stream": seeds,
            "band_hash": bands,
            "token_hash": tokens,
            "mix64": mixed,
            "finish_shingle": {
                "finish_shingle(0, 1)": hex(finish_shingle(0, 1)),
                "finish_shingle(0x0123456789abcdef, 5)": hex(finish_shingle(0x0123_4567_89ab_cdef, 5)),
            },
            "roller 3 over the tokens of \"a b c d e f g\"": rolled,
        });
        golden::check_format(
            "hash.json",
            &fresh,
            "Hashing is part of the sketch format: a change breaks every saved signature, index and stage \
             file, so it needs a new SKETCH_FORMAT_VERSION.",
        );
    }
}
