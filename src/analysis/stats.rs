//! The statistics every comparison of the suite rests on: the median across processes with a
//! distribution-free interval, ratios paired by process, and the decisions made from an interval (a
//! ranking that admits ties, a gate that can say "undecided"). See METHODOLOGY.md.
//!
//! Why these: between processes, times on a shared machine move by 20% and more with outliers of 2x
//! (layout, page placement, other tenants), far from a normal distribution. The median and an
//! interval from order statistics assume only that processes are independent draws of one
//! distribution; one outlying process moves neither much.

use serde::{Deserialize, Serialize};

/// The coverage intervals aim for. With few samples it is out of reach; the interval then spans
/// every sample and says how much it covers.
pub const CONFIDENCE: f64 = 0.95;

/// A median with its interval and how much that interval covers.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Interval {
    pub point: f64,
    pub low: f64,
    pub high: f64,
    /// Probability that the interval covers the true median (e.g. 0.9375 for five samples).
    pub confidence: f64,
    pub samples: usize,
}

/// The median of `xs`; `None` when empty or when a value is not finite.
pub fn median(xs: &[f64]) -> Option<f64> {
    sorted(xs).map(|v| median_of_sorted(&v))
}

/// The `q`-quantile of `xs` (0 <= q <= 1), interpolated linearly between the order statistics
/// around rank `q (n - 1)`; `None` for no values or a non-finite one.
pub fn quantile(xs: &[f64], q: f64) -> Option<f64> {
    let v = sorted(xs)?;
    let rank = q.clamp(0.0, 1.0) * (v.len() - 1) as f64;
    let (below, above) = (rank.floor() as usize, rank.ceil() as usize);
    Some(v[below] + (v[above] - v[below]) * (rank - below as f64))
}

/// The median of `v`, sorted and not empty.
fn median_of_sorted(v: &[f64]) -> f64 {
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

fn sorted(xs: &[f64]) -> Option<Vec<f64>> {
    if xs.is_empty() || xs.iter().any(|x| !x.is_finite()) {
        return None;
    }
    let mut v = xs.to_vec();
    v.sort_by(f64::total_cmp);
    Some(v)
}

/// `n` choose `k`, as a float (n is small: a count of processes).
fn binomial(n: usize, k: usize) -> f64 {
    (0..k).fold(1.0, |acc, i| acc * (n - i) as f64 / (i + 1) as f64)
}

/// Probability that the k-th smallest and k-th largest of `n` samples enclose the median of the
/// distribution they come from: `1 - 2 P(Binomial(n, 1/2) < k)`, whatever the distribution.
pub fn order_statistic_coverage(n: usize, k: usize) -> f64 {
    let below: f64 = (0..k).map(|i| binomial(n, i)).sum();
    1.0 - 2.0 * below / 2f64.powi(n as i32)
}

/// The median of `xs` and the narrowest interval between order statistics that still covers
/// [`CONFIDENCE`]; with too few samples for that, `[min, max]` and its lower coverage.
pub fn median_interval(xs: &[f64]) -> Option<Interval> {
    let v = sorted(xs)?;
    let point = median_of_sorted(&v);
    let n = v.len();
    let mut k = 1;
    while k < n / 2 && order_statistic_coverage(n, k + 1) >= CONFIDENCE {
        k += 1;
    }
    Some(Interval {
        point,
        low: v[k - 1],
        high: v[n - k],
        confidence: order_statistic_coverage(n, k).max(0.0),
        samples: n,
    })
}

/// `numerator[i] / denominator[i]`: two things measured in the same process, compared there.
pub fn paired_ratios(numerator: &[f64], denominator: &[f64]) -> Vec<f64> {
    numerator
        .iter()
        .zip(denominator)
        .map(|(n, d)| n / d)
        .collect()
}

/// The spread of `xs` as a fraction of their median: `(max - min) / median`.
pub fn relative_spread(xs: &[f64]) -> Option<f64> {
    let v = sorted(xs)?;
    let m = median_of_sorted(&v);
    (m > 0.0).then(|| (v[v.len() - 1] - v[0]) / m)
}

/// What an interval of a ratio `a / b` of times says, given a margin.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Decision {
    /// The whole interval lies above `1 + margin`: `a` is decidedly slower.
    Slower,
    /// The whole interval lies below `1 / (1 + margin)`: `a` is decidedly faster.
    Faster,
    /// Neither: within noise.
    Tie,
}

/// Decides a ratio `a / b` from its interval: only an interval that clears the margin decides.
pub fn decide(low: f64, high: f64, margin: f64) -> Decision {
    if low > 1.0 + margin {
        Decision::Slower
    } else if high < 1.0 / (1.0 + margin) {
        Decision::Faster
    } else {
        Decision::Tie
    }
}

/// A regression gate's verdict on the paired ratios `candidate / baseline` of one benchmark.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GateVerdict {
    /// The interval lies above `1 + threshold`.
    Regressed,
    /// The interval lies below `1 / (1 + threshold)`.
    Improved,
    /// The interval lies within `[1 / (1 + threshold), 1 + threshold]`.
    Unchanged,
    /// The interval straddles a bound, or covers less than [`CONFIDENCE`]: more pairs are needed.
    Undecided,
}

/// Judges paired ratios `candidate / baseline` against a relative threshold (0.10 = 10%).
pub fn judge(ratios: &[f64], threshold: f64) -> Option<(GateVerdict, Interval)> {
    let interval = median_interval(ratios)?;
    let verdict = if interval.confidence < CONFIDENCE {
        GateVerdict::Undecided
    } else {
        match verdict(interval.low, interval.high, threshold, threshold) {
            Verdict::Slower => GateVerdict::Regressed,
            Verdict::Faster => GateVerdict::Improved,
            Verdict::Equal => GateVerdict::Unchanged,
            Verdict::Undecided => GateVerdict::Undecided,
        }
    };
    Some((verdict, interval))
}

/// The smallest margin a verdict of the report, the engine or the questions uses (5%): a stated
/// choice, like the gate's threshold, not a figure of any machine. A run that resolves finer still
/// calls a 3% difference "equal within ±5%" when its whole interval lies within ±5%; a run that
/// resolves only 8% uses 8%.
pub const TIE_MARGIN: f64 = 0.05;

/// The smallest difference a verdict calls slower or faster (3%), however finely a run's control
/// resolves: a run's interval covers its own sessions, not the shift of a ratio between two runs
/// minutes apart. Measured on the AMD EPYC 2-vCPU VM (2026-12-03), over the comparisons near a
/// verdict's bounds (ratios 0.90 to 1.12) of twelve default runs, every two runs of a set of six
/// compared: the point moved by 0.8-0.9% (median), 3.0-3.2% (90th percentile), 3.6-4.4% (95th).
/// At 2.5% (the first floor, from two runs of 2026-12-02) a 3-4% difference read "equal within
/// ±5%" in one run and "slower" in another for 2.6 and 4.3 comparisons of 171 between two runs (the
/// mean over the pairs of two sets of six runs); at 3%, 1.3 and 3.7, for 0-2.9 points fewer decided
/// (the same runs judged again); six default runs made with it, 2.1 (at most 3), 91.8-96.5%
/// decided. Not wider: at 3.5% the two sets decided 1-3 points fewer again.
pub const MIN_DIFFERENCE: f64 = 0.03;

/// What the interval `[low, high]` of a ratio `a / b` of times says, in the four words of the gate
/// and of the questions about a user's code: three decisions and an honest "undecided".
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// The whole interval lies above `1 + resolution`.
    Slower,
    /// The whole interval lies below `1 / (1 + resolution)`.
    Faster,
    /// The whole interval lies within `[1 / (1 + tie), 1 + tie]`, and the run resolves `tie`.
    Equal,
    /// Neither: the run could not tell.
    Undecided,
}

/// The [`Verdict`] on `[low, high]`: equal when the whole interval lies within `tie` and the run
/// resolves that finely (`resolution <= tie`); else slower or faster when the whole interval clears
/// `resolution` (the smallest difference the run resolves: in the report its control's margin, at
/// least [`MIN_DIFFERENCE`]). A real 6% difference whose interval is [1.035, 1.08] is then "slower",
/// where one margin of 5% for both words left it undecided however many sessions it had (19 of 171
/// rankings of a default run, the AMD EPYC 2-vCPU VM, 2026-12-02); and a group too noisy for ±5%
/// decides no tie (with "equal within the group's margin", a group whose control measured ±394%
/// beside a busy program called a threefold difference "equal"). The gate passes its threshold for both: its verdicts are unchanged.
pub fn verdict(low: f64, high: f64, resolution: f64, tie: f64) -> Verdict {
    let (up, down) = (1.0 + tie, 1.0 / (1.0 + tie));
    if resolution <= tie && low >= down && high <= up {
        Verdict::Equal
    } else if low > 1.0 + resolution {
        Verdict::Slower
    } else if high < 1.0 / (1.0 + resolution) {
        Verdict::Faster
    } else {
        Verdict::Undecided
    }
}

/// How much an interval of `from` independent pairs narrows with `to` pairs of the same spread:
/// `sqrt(from / to)`, the width of a median's interval going as one over the square root of the
/// pairs (the engine's projection of a group's comparisons and margin).
pub fn narrowing(from: usize, to: usize) -> f64 {
    (from as f64 / to as f64).sqrt()
}

/// The smallest slowdown an interval `[low, high]` around `point` could have called slower when
/// it must clear `margin`: a ratio that much larger moves the point there, and its interval (of the
/// same relative width) then starts above `1 + margin`.
pub fn detectable(point: f64, low: f64, margin: f64) -> f64 {
    (1.0 + margin) * point / low - 1.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_interpolate_between_order_statistics() {
        let xs = [5.0, 1.0, 4.0, 2.0, 3.0];
        assert_eq!(quantile(&xs, 0.0), Some(1.0));
        assert_eq!(quantile(&xs, 0.25), Some(2.0));
        assert_eq!(quantile(&xs, 0.5), median(&xs));
        assert_eq!(quantile(&xs, 1.0), Some(5.0));
        assert_eq!(quantile(&[1.0, 2.0], 0.25), Some(1.25));
        assert_eq!(quantile(&[], 0.25), None);
        assert_eq!(quantile(&[1.0, f64::NAN], 0.25), None);
    }

    /// `n` deterministic samples around `center`, spread uniformly over +-`noise` (a fraction).
    fn samples(n: usize, center: f64, noise: f64, seed: u64) -> Vec<f64> {
        let mut state = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (0..n)
            .map(|_| {
                state = state
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                let unit = (state >> 11) as f64 / (1u64 << 53) as f64;
                center * (1.0 + noise * (2.0 * unit - 1.0))
            })
            .collect()
    }

    #[test]
    fn median_of_odd_and_even_counts_and_bad_input() {
        assert_eq!(median(&[3.0, 1.0, 2.0]), Some(2.0));
        assert_eq!(median(&[4.0, 1.0, 2.0, 3.0]), Some(2.5));
        assert_eq!(median(&[]), None);
        assert_eq!(median(&[1.0, f64::NAN]), None);
        assert_eq!(median(&[1.0, f64::INFINITY]), None);
    }

    #[test]
    fn coverage_of_order_statistics_matches_the_binomial() {
        // [min, max] of n samples misses the median only when all fall on one side: 2 / 2^n.
        assert_eq!(order_statistic_coverage(3, 1), 0.75);
        assert_eq!(order_statistic_coverage(5, 1), 0.9375);
        assert!((order_statistic_coverage(10, 2) - (1.0 - 2.0 * 11.0 / 1024.0)).abs() < 1e-12);
    }

    #[test]
    fn the_interval_narrows_as_samples_grow_and_says_its_coverage() {
        let five = median_interval(&[5.0, 1.0, 4.0, 2.0, 3.0]).unwrap();
        assert_eq!((five.point, five.low, five.high), (3.0, 1.0, 5.0));
        assert_eq!((five.confidence, five.samples), (0.9375, 5));
        let xs: Vec<f64> = (1..=20).map(f64::from).collect();
        let twenty = median_interval(&xs).unwrap();
        assert!(twenty.low > 1.0 && twenty.high < 20.0, "{twenty:?}");
        assert!(twenty.confidence >= CONFIDENCE);
        let one = median_interval(&[7.0]).unwrap();
        assert_eq!((one.low, one.high, one.confidence), (7.0, 7.0, 0.0));
    }

    #[test]
    fn the_same_distribution_is_a_tie_and_unchanged() {
        for seed in 0..20 {
            let a = samples(9, 100.0, 0.05, seed);
            let b = samples(9, 100.0, 0.05, seed + 1000);
            let ratios = paired_ratios(&a, &b);
            let iv = median_interval(&ratios).unwrap();
            assert_eq!(decide(iv.low, iv.high, 0.10), Decision::Tie, "{iv:?}");
            assert_eq!(
                judge(&ratios, 0.15).unwrap().0,
                GateVerdict::Unchanged,
                "{iv:?}"
            );
        }
    }

    #[test]
    fn a_twenty_percent_shift_is_decided_and_a_regression() {
        for seed in 0..20 {
            let slow = samples(9, 120.0, 0.03, seed);
            let base = samples(9, 100.0, 0.03, seed + 1000);
            let ratios = paired_ratios(&slow, &base);
            let iv = median_interval(&ratios).unwrap();
            assert_eq!(decide(iv.low, iv.high, 0.10), Decision::Slower, "{iv:?}");
            assert_eq!(judge(&ratios, 0.10).unwrap().0, GateVerdict::Regressed);
            let inverse = paired_ratios(&base, &slow);
            let iv = median_interval(&inverse).unwrap();
            assert_eq!(decide(iv.low, iv.high, 0.10), Decision::Faster);
            assert_eq!(judge(&inverse, 0.10).unwrap().0, GateVerdict::Improved);
        }
    }

    #[test]
    fn heavy_outliers_do_not_decide_on_their_own() {
        // Two processes of seven hit by a 9x stall: the median and its interval stay near 1.
        let ratios = [1.0, 1.02, 0.98, 1.01, 0.99, 8.0, 9.0];
        let iv = median_interval(&ratios).unwrap();
        assert!((iv.point - 1.01).abs() < 1e-9);
        assert_eq!(decide(iv.low, iv.high, 0.10), Decision::Tie);
        assert_eq!(judge(&ratios, 0.10).unwrap().0, GateVerdict::Undecided);
    }

    #[test]
    fn too_few_pairs_never_decide_the_gate() {
        // Three pairs all 30% slower: a clear signal, but [min, max] of three covers only 75%.
        assert_eq!(
            judge(&[1.3, 1.31, 1.29], 0.10).unwrap().0,
            GateVerdict::Undecided
        );
        assert_eq!(judge(&[], 0.10), None);
    }

    #[test]
    fn spread_is_the_range_over_the_median() {
        assert_eq!(relative_spread(&[90.0, 100.0, 110.0]), Some(0.2));
        assert_eq!(relative_spread(&[]), None);
    }
}
