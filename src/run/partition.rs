//! Sharing one suite between several benches, as cargo-nextest does:
//! - `count:M/N` deals the scenarios (in name order) round-robin and keeps every Nth from the Mth;
//! - `hash:M/N` keeps the scenarios whose name hashes to bucket M-1 of N (FNV-1a, 64 bit, over
//!   the name's UTF-8 bytes, modulo N), so a scenario stays in its partition when others are
//!   added;
//! - `time:M/N` balances the partitions' nominal time: the scenarios, longest expected duration
//!   first (ties in name order), each go to the partition with the least expected time so far
//!   (ties to the lowest M). Deterministic, but adding or changing a scenario may move others.
//!
//! Each way the N partitions are disjoint and together hold every scenario.

use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scheme {
    Count,
    Hash,
    Time,
}

impl Scheme {
    pub fn name(self) -> &'static str {
        match self {
            Scheme::Count => "count",
            Scheme::Hash => "hash",
            Scheme::Time => "time",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Partition {
    pub scheme: Scheme,
    /// 1-based.
    pub index: u64,
    pub total: u64,
}

impl Partition {
    /// `count:2/3`, `hash:1/4`, `time:1/2`.
    pub fn parse(s: &str) -> Result<Partition, String> {
        let help = "write it as count:M/N, hash:M/N or time:M/N with 1 <= M <= N, e.g. time:1/3";
        let (scheme, rest) = s.split_once(':').ok_or_else(|| format!("\"{s}\": {help}"))?;
        let scheme = match scheme {
            "count" => Scheme::Count,
            "hash" => Scheme::Hash,
            "time" => Scheme::Time,
            other => return Err(format!("unknown partition scheme \"{other}\": {help}")),
        };
        let (m, n) = rest.split_once('/').ok_or_else(|| format!("\"{s}\": {help}"))?;
        let (index, total) = match (m.parse::<u64>(), n.parse::<u64>()) {
            (Ok(m), Ok(n)) if m >= 1 && m <= n => (m, n),
            _ => return Err(format!("\"{s}\": {help}")),
        };
        Ok(Partition { scheme, index, total })
    }

    /// The scenarios of `ids` (in name order) that belong to this partition; `duration_ms`
    /// gives a scenario's expected nominal duration (used by `time` only).
    pub fn select(&self, ids: &[String], duration_ms: impl Fn(&str) -> u64) -> Vec<String> {
        let mut sorted = ids.to_vec();
        sorted.sort();
        let share = match self.scheme {
            Scheme::Time => balanced(&sorted, self.total, &duration_ms),
            Scheme::Count => (0..sorted.len()).map(|i| i as u64 % self.total).collect(),
            Scheme::Hash => sorted.iter().map(|id| fnv1a(id.as_bytes()) % self.total).collect(),
        };
        sorted.into_iter().zip(share).filter(|(_, p)| *p == self.index - 1).map(|(id, _)| id).collect()
    }
}

/// For each of `sorted` (in order), the 0-based partition `time` puts it in: longest first (ties
/// in name order) onto the least-loaded partition (ties to the lowest).
fn balanced(sorted: &[String], total: u64, duration_ms: &impl Fn(&str) -> u64) -> Vec<u64> {
    let mut order: Vec<usize> = (0..sorted.len()).collect();
    // Stable: equal durations keep name order.
    order.sort_by_key(|&i| std::cmp::Reverse(duration_ms(&sorted[i])));
    let mut load = vec![0u64; total as usize];
    let mut share = vec![0u64; sorted.len()];
    for i in order {
        let least = (0..load.len()).min_by_key(|&p| (load[p], p)).unwrap_or(0);
        load[least] += duration_ms(&sorted[i]);
        share[i] = least as u64;
    }
    share
}

impl fmt::Display for Partition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}/{}", self.scheme.name(), self.index, self.total)
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

    /// A made-up duration: scenario-07 lasts 7 * 13 % 10 + 1 = 2 s, ...
    fn weight(id: &str) -> u64 {
        let n: u64 = id.trim_start_matches("scenario-").parse().unwrap();
        (n * 13 % 10 + 1) * 1000
    }

    #[test]
    fn parses_and_refuses_with_help() {
        assert_eq!(
            Partition::parse("count:2/3").unwrap(),
            Partition { scheme: Scheme::Count, index: 2, total: 3 }
        );
        assert_eq!(Partition::parse("hash:1/1").unwrap().to_string(), "hash:1/1");
        for bad in ["count:0/3", "count:4/3", "hash:1", "slice:1/2", "count:a/2", "1/2"] {
            assert!(Partition::parse(bad).unwrap_err().contains("count:M/N, hash:M/N or time:M/N"), "{bad}");
        }
    }

    #[test]
    fn partitions_are_disjoint_and_cover_everything() {
        let all = ids(31);
        for scheme in ["count", "hash", "time"] {
            for n in 1..=5u64 {
                let mut seen: Vec<String> = Vec::new();
                for m in 1..=n {
                    let part = Partition::parse(&format!("{scheme}:{m}/{n}")).unwrap().select(&all, weight);
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
        assert_eq!(
            Partition::parse("count:2/3").unwrap().select(&all, weight),
            ["scenario-01", "scenario-04"]
        );
        // FNV-1a 64 of "a" is 0xaf63dc4c8601ec8c (the published test vector).
        assert_eq!(fnv1a(b"a"), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(fnv1a(b""), 0xcbf2_9ce4_8422_2325);
    }

    #[test]
    fn time_deals_longest_first_onto_the_least_loaded_partition() {
        let durations = [("a", 10), ("b", 7), ("c", 5), ("d", 5), ("e", 3), ("f", 2)];
        let all: Vec<String> = durations.iter().map(|(id, _)| (*id).to_owned()).collect();
        let ms = |id: &str| durations.iter().find(|(d, _)| *d == id).map_or(0, |(_, ms)| *ms);
        // By hand: a(10) → 1 [10, 0]; b(7) → 2 [10, 7]; c(5) → 2 [10, 12]; d(5) → 1 [15, 12];
        // e(3) → 2 [15, 15]; f(2) → 1, the tie going to the lowest [17, 15].
        let one = Partition::parse("time:1/2").unwrap().select(&all, ms);
        let two = Partition::parse("time:2/2").unwrap().select(&all, ms);
        assert_eq!(one, ["a", "d", "f"]);
        assert_eq!(two, ["b", "c", "e"]);
        // The same inputs in another order give the same split.
        let mut shuffled = all.clone();
        shuffled.reverse();
        assert_eq!(Partition::parse("time:1/2").unwrap().select(&shuffled, ms), one);
    }
}
