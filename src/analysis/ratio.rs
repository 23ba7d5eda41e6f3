//! A ratio of two times with its interval, and the one rule that turns it into a verdict: the
//! report's, the engine's and the questions' (`stats::verdict`, `stats::decide`).

use crate::analysis::comparisons::Timed;
use crate::analysis::stats::{self, Decision};

/// How a ratio reads: the one classification the report's phrases each word in their own way
/// (`render::words`, the findings), so that they never disagree on which case a ratio is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reading {
    /// The pairs a 95% interval needs (the comparison engine's sessions): its four-word verdict.
    Verdict(stats::Verdict),
    /// Fewer, paired by process, and beyond the run's noise.
    DecidedByProcess,
    /// Fewer, paired by process, and within the run's noise.
    WithinNoise,
    /// Measured in one process, whose interval cannot decide.
    OneProcess,
}

/// `slower / faster` of two times, with a conservative interval.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Ratio {
    pub ratio: f64,
    pub low: f64,
    pub high: f64,
    /// Processes the interval spans: 1 when either figure comes from one process, whose Criterion
    /// interval is narrow and blind to the variance between processes; such a ratio is never decided.
    pub processes: usize,
    /// What the run resolves: its measured noise between processes, or the engine group's control
    /// (slower and faster clear it, at least [`stats::MIN_DIFFERENCE`]).
    pub margin: f64,
}

impl Ratio {
    pub fn of(numerator: Timed, denominator: Timed) -> Ratio {
        Ratio {
            ratio: numerator.point / denominator.point,
            low: numerator.low / denominator.high,
            high: numerator.high / denominator.low,
            processes: numerator.processes.min(denominator.processes),
            margin: numerator.margin.max(denominator.margin),
        }
    }

    /// The median of per-process ratios with its distribution-free interval
    /// ([`stats::median_interval`]); `None` for fewer than two processes, which cannot be paired.
    pub fn paired(per_process: &[f64], margin: f64) -> Option<Ratio> {
        if per_process.len() < 2 {
            return None;
        }
        let iv = stats::median_interval(per_process)?;
        Some(Ratio {
            ratio: iv.point,
            low: iv.low,
            high: iv.high,
            processes: per_process.len(),
            margin,
        })
    }

    /// This ratio times `factor`, its interval with it (a time ratio made a throughput ratio).
    pub fn scaled(self, factor: f64) -> Ratio {
        Ratio {
            ratio: self.ratio * factor,
            low: self.low * factor,
            high: self.high * factor,
            ..self
        }
    }

    /// This ratio as `pairs` pairs of the same spread would be expected to give it: the same
    /// point, its interval and margin narrowed by [`stats::narrowing`], as a median's
    /// interval narrows with more independent pairs. What the engine asks before it gives a group
    /// more sessions; no more pairs than it has leaves the ratio as it is.
    pub fn projected(&self, pairs: usize) -> Ratio {
        if pairs <= self.processes {
            return *self;
        }
        let k = stats::narrowing(self.processes, pairs);
        Ratio {
            ratio: self.ratio,
            low: self.ratio * (self.low / self.ratio).powf(k),
            high: self.ratio * (self.high / self.ratio).powf(k),
            processes: pairs,
            margin: self.margin * k,
        }
    }

    /// `1 / self`: the same comparison the other way round.
    pub fn inverse(&self) -> Ratio {
        Ratio {
            ratio: 1.0 / self.ratio,
            low: 1.0 / self.high,
            high: 1.0 / self.low,
            processes: self.processes,
            margin: self.margin,
        }
    }

    /// [`Ratio::verdict`] with six pairs or more, else [`stats::decide`]; one process never decides.
    pub fn decision(&self) -> Decision {
        match self.verdict() {
            stats::Verdict::Slower => Decision::Slower,
            stats::Verdict::Faster => Decision::Faster,
            _ if self.enough_pairs() || !self.repeated() => Decision::Tie,
            _ => stats::decide(self.low, self.high, self.margin),
        }
    }

    /// The four-word verdict ([`stats::verdict`]): equal when the whole interval lies within
    /// ±5% ([`stats::TIE_MARGIN`]) and the run resolves 5%, slower or faster when it clears
    /// [`Ratio::resolution`], undecided otherwise, and always for fewer pairs than a 95% interval
    /// needs.
    pub fn verdict(&self) -> stats::Verdict {
        if self.enough_pairs() {
            stats::verdict(self.low, self.high, self.resolution(), stats::TIE_MARGIN)
        } else {
            stats::Verdict::Undecided
        }
    }

    /// Which of the four cases of [`Reading`] this ratio is.
    pub fn reading(&self) -> Reading {
        if self.enough_pairs() {
            Reading::Verdict(self.verdict())
        } else if self.decided() {
            Reading::DecidedByProcess
        } else if self.repeated() {
            Reading::WithinNoise
        } else {
            Reading::OneProcess
        }
    }

    /// Whether the ratio has the pairs a 95% interval needs (six): fewer decide nothing, not even
    /// "equal".
    pub fn enough_pairs(&self) -> bool {
        stats::order_statistic_coverage(self.processes, 1) >= stats::CONFIDENCE
    }

    /// What "slower" and "faster" must clear: the ratio's own margin (what its run resolves), at
    /// least 3% ([`stats::MIN_DIFFERENCE`]).
    pub fn resolution(&self) -> f64 {
        self.margin.max(stats::MIN_DIFFERENCE)
    }

    /// The smallest difference this ratio's interval could have called slower.
    pub fn detectable(&self) -> f64 {
        stats::detectable(self.ratio, self.low, self.resolution())
    }

    /// Whether the interval spans two processes or more (the only intervals that may decide).
    pub fn repeated(&self) -> bool {
        self.processes >= 2
    }

    /// Decided: the numerator is slower by more than the margin.
    pub fn decidedly_above(&self) -> bool {
        self.decision() == Decision::Slower
    }

    /// Decided: the numerator is faster by more than the margin.
    pub fn decidedly_below(&self) -> bool {
        self.decision() == Decision::Faster
    }

    pub fn decided(&self) -> bool {
        self.decision() != Decision::Tie
    }

    /// `1.35x [1.22, 1.49]`.
    pub fn text(&self) -> String {
        format!("{:.2}x [{:.2}, {:.2}]", self.ratio, self.low, self.high)
    }
}
