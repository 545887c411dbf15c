//! The comprehensive evaluation index of claim 2: `index = a·A1 + b·B1`, with A1 and B1
//! min–max normalized over the standby set.

use crate::model::Weights;

/// Signal given to a standby that hears no usable cell (docs/method.md §2).
pub const NO_SIGNAL_DBM: f64 = -140.0;

/// One standby as the index sees it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Candidate {
    pub slot: u8,
    /// Strongest usable cell, or [`NO_SIGNAL_DBM`].
    pub signal_dbm: f64,
    /// Price per MB on that cell's carrier; `None` when there is no usable cell.
    pub tariff: Option<f64>,
}

/// The normalized parameters and the index of one standby.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Score {
    /// Normalized signal, 1.0 for the strongest.
    pub a1: f64,
    /// Normalized tariff, 1.0 for the cheapest; 0.0 for a standby without a usable cell.
    pub b1: f64,
    pub index: f64,
}

/// Min–max normalization; where max = min every value normalizes to 1.0.
/// With `higher_is_better` false the scale is flipped (cheaper scores higher).
pub fn normalize(value: f64, min: f64, max: f64, higher_is_better: bool) -> f64 {
    if max <= min {
        return 1.0;
    }
    let x = if higher_is_better { (value - min) / (max - min) } else { (max - value) / (max - min) };
    x.clamp(0.0, 1.0)
}

fn min_max(values: impl Iterator<Item = f64>) -> Option<(f64, f64)> {
    values.fold(None, |acc, v| match acc {
        None => Some((v, v)),
        Some((lo, hi)) => Some((lo.min(v), hi.max(v))),
    })
}

/// Scores every standby, normalizing over the whole set.
pub fn score(candidates: &[Candidate], weights: Weights) -> Vec<Score> {
    let (s_min, s_max) = min_max(candidates.iter().map(|c| c.signal_dbm)).unwrap_or((0.0, 0.0));
    // A standby without a usable cell has no tariff; it is left out of the tariff range.
    let tariffs = min_max(candidates.iter().filter_map(|c| c.tariff));
    candidates
        .iter()
        .map(|c| {
            let a1 = normalize(c.signal_dbm, s_min, s_max, true);
            let b1 = match (c.tariff, tariffs) {
                (Some(t), Some((t_min, t_max))) => normalize(t, t_min, t_max, false),
                _ => 0.0,
            };
            Score { a1, b1, index: weights.signal * a1 + weights.tariff * b1 }
        })
        .collect()
}

/// Indices that agree to nine decimal places (relative to a + b) are a tie: floating-point
/// noise is not a preference.
const TIE_QUANTUM: f64 = 1e9;

/// Positions of `candidates` in rank order: highest index first, ties by lower slot.
pub fn rank(candidates: &[Candidate], scores: &[Score], weights: Weights) -> Vec<usize> {
    let mut order: Vec<usize> = (0..candidates.len()).collect();
    order.sort_by_key(|&i| (std::cmp::Reverse(tie_key(scores[i].index, weights)), candidates[i].slot));
    order
}

/// The index relative to a + b, quantized: the same for weights scaled by any factor.
pub fn tie_key(index: f64, weights: Weights) -> i64 {
    let total = weights.signal + weights.tariff;
    let relative = if total > 0.0 { index / total } else { 0.0 };
    (relative * TIE_QUANTUM).round() as i64
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(slot: u8, signal_dbm: f64, tariff: f64) -> Candidate {
        Candidate { slot, signal_dbm, tariff: Some(tariff) }
    }

    #[test]
    fn cheaper_scores_higher_and_equal_values_normalize_to_one() {
        let cands = [c(1, -80.0, 0.01), c(2, -100.0, 0.03), c(3, -90.0, 0.01)];
        let s = score(&cands, Weights { signal: 1.0, tariff: 1.0 });
        assert_eq!((s[0].a1, s[0].b1), (1.0, 1.0));
        assert_eq!((s[1].a1, s[1].b1), (0.0, 0.0));
        assert_eq!((s[2].a1, s[2].b1), (0.5, 1.0));
        let single = score(&cands[..1], Weights { signal: 0.3, tariff: 0.7 });
        assert_eq!(single[0].index, 1.0);
    }

    #[test]
    fn ties_keep_slot_order() {
        let cands = [c(4, -90.0, 0.02), c(2, -90.0, 0.02), c(3, -70.0, 0.05)];
        let w = Weights { signal: 0.5, tariff: 0.5 };
        let s = score(&cands, w);
        // slots 4 and 2 tie at 0.5·0 + 0.5·1 = 0.5; slot 3 has 0.5·1 + 0.5·0 = 0.5 too.
        assert_eq!(rank(&cands, &s, w), vec![1, 2, 0]);
    }

    #[test]
    fn no_usable_cell_gets_bottom_signal_and_zero_tariff_score() {
        let cands = [c(1, -100.0, 0.02), Candidate { slot: 2, signal_dbm: NO_SIGNAL_DBM, tariff: None }];
        let s = score(&cands, Weights { signal: 0.5, tariff: 0.5 });
        assert_eq!(s[1], Score { a1: 0.0, b1: 0.0, index: 0.0 });
        assert_eq!(s[0].index, 1.0);
    }
}
