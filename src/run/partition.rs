//! Sharing one suite between several benches, as cargo-nextest does: `count:M/N` deals the
//! scenarios (in name order) round-robin and keeps every Nth from the Mth; `hash:M/N` keeps the
//! scenarios whose name hashes to bucket M-1 of N (FNV-1a, 64 bit, over the name's UTF-8 bytes,
//! modulo N), so a scenario stays in its partition when others are added. Either way the N
//! partitions are disjoint and together hold every scenario.

use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scheme {
    Count,
    Hash,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Partition {
    pub scheme: Scheme,
    /// 1-based.
    pub index: u64,
    pub total: u64,
}

impl Partition {
    /// `count:2/3`, `hash:1/4`.
    pub fn parse(s: &str) -> Result<Partition, String> {
        let help = "write it as count:M/N or hash:M/N with 1 <= M <= N, e.g. hash:1/3";
        let (scheme, rest) = s.split_once(':').ok_or_else(|| format!("\"{s}\": {help}"))?;
        let scheme = match scheme {
            "count" => Scheme::Count,
            "hash" => Scheme::Hash,
            other => return Err(format!("unknown partition scheme \"{other}\": {help}")),
        };
        let (m, n) = rest.split_once('/').ok_or_else(|| format!("\"{s}\": {help}"))?;
        let (index, total) = match (m.parse::<u64>(), n.parse::<u64>()) {
            (Ok(m), Ok(n)) if m >= 1 && m <= n => (m, n),
            _ => return Err(format!("\"{s}\": {help}")),
        };
        Ok(Partition { scheme, index, total })
    }

    /// The scenarios of `ids` (in name order) that belong to this partition.
    pub fn select(&self, ids: &[String]) -> Vec<String> {
        let mut sorted = ids.to_vec();
        sorted.sort();
        sorted
            .into_iter()
            .enumerate()
            .filter(|(i, id)| match self.scheme {
                Scheme::Count => *i as u64 % self.total == self.index - 1,
                Scheme::Hash => fnv1a(id.as_bytes()) % self.total == self.index - 1,
            })
            .map(|(_, id)| id)
            .collect()
    }
}

impl fmt::Display for Partition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let scheme = match self.scheme {
            Scheme::Count => "count",
            Scheme::Hash => "hash",
        };
        write!(f, "{scheme}:{}/{}", self.index, self.total)
    }
}

/// FNV-1a, 64 bit.
pub fn fnv1a(bytes: &[u8]) -> u64 {
    bytes
        .iter()
        .fold(0xcbf2_9ce4_8422_2325u64, |h, b| (h ^ u64::from(*b)).wrapping_mul(0x0000_0100_0000_01b3))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(n: usize) -> Vec<String> {
        (0..n).map(|i| format!("scenario-{i:02}")).collect()
    }

    #[test]
    fn parses_and_refuses_with_help() {
        assert_eq!(
            Partition::parse("count:2/3").unwrap(),
            Partition { scheme: Scheme::Count, index: 2, total: 3 }
        );
        assert_eq!(Partition::parse("hash:1/1").unwrap().to_string(), "hash:1/1");
        for bad in ["count:0/3", "count:4/3", "hash:1", "slice:1/2", "count:a/2", "1/2"] {
            assert!(Partition::parse(bad).unwrap_err().contains("count:M/N or hash:M/N"), "{bad}");
        }
    }

    #[test]
    fn partitions_are_disjoint_and_cover_everything() {
        let all = ids(31);
        for scheme in ["count", "hash"] {
            for n in 1..=5u64 {
                let mut seen: Vec<String> = Vec::new();
                for m in 1..=n {
                    let part = Partition::parse(&format!("{scheme}:{m}/{n}")).unwrap().select(&all);
                    assert!(part.iter().all(|id| !seen.contains(id)), "{scheme}:{m}/{n} overlaps");
                    seen.extend(part);
                }
                seen.sort();
                assert_eq!(seen, all, "{scheme} over {n}");
            }
        }
    }

    #[test]
    fn count_deals_round_robin_in_name_order_and_hash_is_fnv1a() {
        let all = ids(7);
        assert_eq!(Partition::parse("count:2/3").unwrap().select(&all), ["scenario-01", "scenario-04"]);
        // FNV-1a 64 of "a" is 0xaf63dc4c8601ec8c (the published test vector).
        assert_eq!(fnv1a(b"a"), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(fnv1a(b""), 0xcbf2_9ce4_8422_2325);
    }
}
