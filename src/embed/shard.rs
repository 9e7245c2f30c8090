/*!
`--shard I/N`: a deterministic partition of the images by content hash, so that N machines (a Slurm
array, Ray tasks) each embed one part into a cache and `eclip cache merge` unites them
(docs/scale.md).

An image belongs to shard `u64_be(sha256[0..8]) mod N`: it depends only on the file's bytes, never on
its path, the manifest order or the row count, so reruns agree, a renamed file stays in its shard and
a duplicated image is embedded once.
*/
use std::str::FromStr;

use crate::cache::Key;

/// Shard `index` of `count` (0-based index; written `I/N` on the command line).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    pub index: u64,
    pub count: u64,
}

impl Shard {
    /// Whether a content key falls into this shard.
    pub fn owns(&self, key: &Key) -> bool {
        let mut head = [0u8; 8];
        head.copy_from_slice(&key[..8]);
        u64::from_be_bytes(head) % self.count == self.index
    }
}

impl FromStr for Shard {
    type Err = String;

    /// `I/N` with `0 <= I < N`.
    fn from_str(s: &str) -> Result<Shard, String> {
        let bad = || format!("--shard {s:?}: expected I/N with 0 <= I < N, e.g. 0/4");
        let (i, n) = s.split_once('/').ok_or_else(bad)?;
        let index: u64 = i.trim().parse().map_err(|_| bad())?;
        let count: u64 = n.trim().parse().map_err(|_| bad())?;
        if count == 0 || index >= count {
            return Err(bad());
        }
        Ok(Shard { index, count })
    }
}

impl std::fmt::Display for Shard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cache::sha256;

    #[test]
    fn parses_and_refuses() {
        assert_eq!(
            "2/3".parse::<Shard>().unwrap(),
            Shard { index: 2, count: 3 }
        );
        for bad in ["3/3", "1", "a/2", "0/0", "-1/2"] {
            let e = bad.parse::<Shard>().unwrap_err();
            assert!(e.contains("I/N"), "{e}");
        }
    }

    #[test]
    fn every_key_has_exactly_one_shard() {
        for i in 0..200u32 {
            let k = sha256(&i.to_le_bytes());
            for n in [1u64, 2, 3, 7] {
                let owners = (0..n)
                    .filter(|&j| Shard { index: j, count: n }.owns(&k))
                    .count();
                assert_eq!(owners, 1);
            }
        }
    }
}
