//! Everything a report is made of, loaded and aggregated: the latest Criterion run, each benchmark's
//! median across the processes of a repeated run with its interval, each process's medians (what
//! comparisons pair), and the suite's own result files.

use crate::data::id::BenchId;
use crate::workload::allocators::AllocatorKind;
use std::collections::BTreeMap;
use std::path::Path;

use crate::analysis::stats::{Interval, median_interval, quantile, relative_spread};
use crate::data::depth::DepthEntry;
use crate::data::faults::FaultEntry;
use crate::data::latency::LatencyEntry;
use crate::data::memory::MemoryEntry;
use crate::data::results::{
    Bench, ConfidenceInterval, CriterionTree, Estimate, InputError, load_suite_file,
};
use crate::data::suite_file::SuiteFile;

/// An interval across processes as an [`Estimate`], replacing `estimate`'s point and interval.
fn across_processes(estimate: &Estimate, iv: &Interval) -> Estimate {
    Estimate {
        confidence_interval: ConfidenceInterval {
            confidence_level: iv.confidence,
            lower_bound: iv.low,
            upper_bound: iv.high,
        },
        point_estimate: iv.point,
        // Not estimated across processes; the interval above carries the uncertainty.
        ..*estimate
    }
}

/// The quantile of a process's samples that stands for the process: the first quartile.
///
/// Interference on a shared machine only ever adds time, and it comes in bursts that can cover most
/// of a process's samples (a `larson` t2 process measured here: first quartile 11.8 µs, median
/// 16.3 µs, 90th percentile 21.5 µs, where the other processes' medians were 12.2-13.3 µs). The
/// lower quartile is the time an iteration takes when it was not disturbed, which the median stops
/// being once half the samples were; unlike the minimum it does not hang on one lucky sample.
pub const PROCESS_QUANTILE: f64 = 0.25;

/// What one process contributes for a benchmark: the [`PROCESS_QUANTILE`] of its samples, or
/// Criterion's median for results without their samples.
pub fn process_figure(bench: &Bench) -> f64 {
    bench
        .samples
        .as_deref()
        .and_then(|s| quantile(s, PROCESS_QUANTILE))
        .unwrap_or(bench.median.point_estimate)
}

/// Makes each benchmark's figure the median across `processes` of the processes' figures
/// ([`process_figure`]), and its median and mean the median across processes of Criterion's, each
/// with its distribution-free interval; returns each process's figure by id (what comparisons pair
/// by process). A benchmark counts as part of the repeated run only when its latest result (`new`)
/// is one of the processes' (Criterion copies `new` to the baseline it saves): a later single
/// `cargo bench` of that benchmark supersedes older process baselines.
fn aggregate_processes(
    benches: &mut BTreeMap<BenchId, Bench>,
    processes: &[Vec<Bench>],
) -> Vec<BTreeMap<BenchId, f64>> {
    let by_key: Vec<BTreeMap<BenchId, &Bench>> = processes
        .iter()
        .map(|p| p.iter().map(|b| (b.key, b)).collect())
        .collect();
    let mut by_process: Vec<BTreeMap<BenchId, f64>> = vec![BTreeMap::new(); processes.len()];
    for bench in benches.values_mut() {
        let measured: Vec<(usize, &Bench)> = by_key
            .iter()
            .enumerate()
            .filter_map(|(i, p)| Some((i, *p.get(&bench.key)?)))
            .collect();
        // Part of the repeated run only if its latest result is one of the processes' own.
        if !measured.iter().any(|(_, b)| b.run == bench.run) {
            continue;
        }
        for &(i, b) in &measured {
            by_process[i].insert(b.key, process_figure(b));
        }
        let across = |pick: fn(&Bench) -> f64| -> Vec<f64> {
            measured.iter().map(|&(_, b)| pick(b)).collect()
        };
        let (figures, medians, means) = (
            across(process_figure),
            across(|b| b.median.point_estimate),
            across(|b| b.mean.point_estimate),
        );
        let interval = |xs: &[f64]| median_interval(xs).filter(|iv| iv.samples >= 2);
        if let (Some(time), Some(median), Some(mean)) =
            (interval(&figures), interval(&medians), interval(&means))
        {
            bench.time = across_processes(&bench.time, &time);
            bench.median = across_processes(&bench.median, &median);
            bench.mean = across_processes(&bench.mean, &mean);
            bench.processes = time.samples;
        }
    }
    by_process
}

/// Everything a report is made of.
#[derive(Debug, Clone, Default)]
pub struct Results {
    /// Every benchmark of the latest run, by its typed id.
    pub benches: BTreeMap<BenchId, Bench>,
    pub depth: Option<SuiteFile<DepthEntry>>,
    pub memory: Option<SuiteFile<MemoryEntry>>,
    pub faults: Option<SuiteFile<FaultEntry>>,
    pub placement: Option<SuiteFile<crate::data::placement::PlacementEntry>>,
    /// Each process of a repeated run (`scripts/run`, Criterion baselines `p1`, `p2`, ...): the
    /// figure ([`process_figure`]) of every benchmark it measured, by id. Empty for a single
    /// `cargo bench`.
    pub processes: Vec<BTreeMap<BenchId, f64>>,
    pub latency: Option<SuiteFile<LatencyEntry>>,
    /// The user's own code's measurements (`stackheap::own`), when a program of theirs saved them.
    pub own: Option<SuiteFile<crate::data::own::OwnEntry>>,
    /// The run's measured noise and the margin it allows (`None`: too few processes to measure it).
    pub noise: Option<crate::analysis::comparisons::Noise>,
    /// The comparison engine's groups (`stackheap-ab groups`, run by `scripts/run`): every
    /// comparison of two members of one group is paired by session there.
    pub groups: Option<SuiteFile<crate::data::groups::GroupEntry>>,
}

impl Results {
    /// Whether any of the suite's own benchmarks or probes was measured (not only the user's code).
    pub fn suite_measured(&self) -> bool {
        !self.benches.is_empty()
            || self.depth.is_some()
            || self.memory.is_some()
            || self.faults.is_some()
            || self.placement.is_some()
            || self.latency.is_some()
            || self.groups.is_some()
    }

    /// The allocators this run measured, in the order reports list them. A section shows a line
    /// or a column for each of these, not for every allocator the suite knows: a run may measure a
    /// subset (`STACKHEAP_ALLOCATORS`).
    pub fn allocators(&self) -> Vec<AllocatorKind> {
        AllocatorKind::all()
            .into_iter()
            .filter(|&a| self.benches.keys().any(|k| k.allocator() == Some(a)))
            .collect()
    }

    /// Loads the latest run (`new`) and the suite's own files.
    pub fn load(criterion: &Path, suite: &Path) -> Result<Results, InputError> {
        if suite.exists() && !suite.is_dir() {
            return Err(InputError(format!(
                "{}: not a directory: expected the suite's results directory (target/stackheap)",
                suite.display()
            )));
        }
        // The suite's files first: their machines name the libraries the run measured (allocators
        // named at run time), which the ids of Criterion's rows then name.
        let depth = load_suite_file(suite, "depth")?;
        let memory = load_suite_file(suite, "memory")?;
        let faults = load_suite_file(suite, "first_touch")?;
        let placement = load_suite_file(suite, "placement")?;
        let latency = load_suite_file(suite, "latency")?;
        let own = load_suite_file(suite, "own")?;
        let groups: Option<SuiteFile<crate::data::groups::GroupEntry>> =
            load_suite_file(suite, "groups")?;
        let machines = [
            depth.as_ref().map(|f| &f.machine),
            memory.as_ref().map(|f| &f.machine),
            faults.as_ref().map(|f| &f.machine),
            placement.as_ref().map(|f| &f.machine),
            latency.as_ref().map(|f| &f.machine),
            own.as_ref().map(|f| &f.machine),
            groups.as_ref().map(|f| &f.machine),
        ];
        register_recorded_libraries(machines.into_iter().flatten())?;
        let tree = CriterionTree::open(criterion)?;
        let mut benches: BTreeMap<BenchId, Bench> = tree
            .benches("new")?
            .into_iter()
            .map(|b| (b.key, b))
            .collect();
        if benches.is_empty() {
            return Err(InputError(format!(
                "{}: no benchmark results (no */new/benchmark.json): expected a run first (scripts/run or cargo bench)",
                criterion.display()
            )));
        }
        let processes = tree
            .process_names()
            .iter()
            .map(|name| tree.benches(name))
            .collect::<Result<Vec<_>, _>>()?;
        let processes = aggregate_processes(&mut benches, &processes);
        let mut results = Results {
            processes,
            benches,
            depth,
            memory,
            faults,
            placement,
            latency,
            own,
            noise: None,
            groups,
        };
        results.noise = crate::analysis::comparisons::Noise::of(&results);
        Ok(results)
    }

    /// `numerator / denominator` from the comparison engine, when one of its groups has both:
    /// paired by session, at that group's margin.
    pub fn engine_ratio(
        &self,
        numerator: &BenchId,
        denominator: &BenchId,
    ) -> Option<crate::analysis::comparisons::Ratio> {
        let (a, b) = (numerator.to_string(), denominator.to_string());
        self.groups
            .iter()
            .flat_map(|f| &f.entries)
            .find_map(|entry| crate::analysis::engine::member_ratio(entry, &a, &b))
    }

    /// `(a / b) / (c / d)` of `[a, b, c, d]` from the comparison engine's sessions, when one of
    /// its groups has all four ([`crate::analysis::engine::ratio_of_ratios`]).
    pub fn engine_ratio_of_ratios(
        &self,
        ids: [&BenchId; 4],
    ) -> Option<crate::analysis::comparisons::Ratio> {
        let ids = ids.map(|id| id.to_string());
        let [a, b, c, d] = ids.each_ref().map(String::as_str);
        self.groups
            .iter()
            .flat_map(|f| &f.entries)
            .find_map(|entry| crate::analysis::engine::ratio_of_ratios(entry, [a, b, c, d]))
    }

    /// `numerator / denominator` in every process of a repeated run that measured both.
    pub fn paired_ratios(&self, numerator: &BenchId, denominator: &BenchId) -> Vec<f64> {
        self.processes
            .iter()
            .filter_map(|p| Some(p.get(numerator)? / p.get(denominator)?))
            .collect()
    }

    /// The figure of `id` in each process of a repeated run that measured it.
    pub fn process_figures(&self, id: &BenchId) -> Vec<f64> {
        self.processes
            .iter()
            .filter_map(|p| p.get(id).copied())
            .collect()
    }

    /// (max - min) / median of `id`'s figures across processes; `None` when fewer than two
    /// processes measured it (a spread of one value says nothing).
    pub fn process_spread(&self, id: &BenchId) -> Option<f64> {
        let figures = self.process_figures(id);
        (figures.len() > 1)
            .then(|| relative_spread(&figures))
            .flatten()
    }

    /// How many processes measured `id` (1 for a single run).
    pub fn process_count(&self, id: &BenchId) -> usize {
        self.processes
            .iter()
            .filter(|p| p.contains_key(id))
            .count()
            .max(1)
    }

    /// The latest result of `id`, if the run measured it.
    pub fn bench(&self, id: &BenchId) -> Option<&Bench> {
        self.benches.get(id)
    }

    /// The machine description of the first suite file that has one, with what the comparison
    /// engine's record adds: the libraries named at run time (what each is, and the proof, taken in
    /// a process it served, that it was that process's `malloc`).
    pub fn machine(&self) -> Option<crate::data::machine::Machine> {
        let mut machine = self
            .depth
            .as_ref()
            .map(|f| &f.machine)
            .or(self.memory.as_ref().map(|f| &f.machine))
            .or(self.faults.as_ref().map(|f| &f.machine))
            .or(self.latency.as_ref().map(|f| &f.machine))
            .or(self.groups.as_ref().map(|f| &f.machine))
            .cloned()?;
        if let Some(groups) = &self.groups {
            for (name, version) in &groups.machine.allocator_versions {
                machine
                    .allocator_versions
                    .entry(name.clone())
                    .or_insert_with(|| version.clone());
            }
            machine
                .allocator_proofs
                .extend(groups.machine.allocator_proofs.clone());
        }
        Some(machine)
    }

    /// The fault counts of `first_touch.json`, by benchmark id (an entry whose id is not one of the
    /// suite's was refused when the file was read).
    pub fn faults_by_id(&self) -> BTreeMap<BenchId, &FaultEntry> {
        self.faults
            .iter()
            .flat_map(|f| &f.entries)
            .filter_map(|r| Some((r.id.parse().ok()?, r)))
            .collect()
    }
}

/// Registers the libraries (allocators named at run time) that the result files' machines record,
/// and refuses an allocator name a file used that none of them records: a name that is neither
/// built in nor a library the run was told the path of is not this suite's result.
fn register_recorded_libraries<'m>(
    machines: impl Iterator<Item = &'m crate::data::machine::Machine>,
) -> Result<(), InputError> {
    use crate::workload::allocators::library;
    let mut recorded = Vec::new();
    for machine in machines {
        for name in machine.allocator_versions.keys() {
            if AllocatorKind::built_in(name).is_none() && library::valid_name(name) {
                library::register(name, None).map_err(InputError)?;
                recorded.push(name.clone());
            }
        }
    }
    // Entries read before this (an allocator field of a result file) registered their names too.
    for id in library::registered() {
        let name = id.library().name;
        if id.library().path.is_none() && !recorded.iter().any(|r| r == name) {
            return Err(InputError(format!(
                "allocator '{name}' in a result file: neither built in ({}) nor a library the run recorded: expected results of a run whose STACKHEAP_ALLOCATORS named it as {name}=<path>",
                AllocatorKind::names()
            )));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bench(id: &str, mean: f64) -> Bench {
        Bench::synthetic(id, mean, 1.0, None)
    }

    fn key(id: &str) -> BenchId {
        id.parse().unwrap()
    }

    fn by_key(benches: Vec<Bench>) -> BTreeMap<BenchId, Bench> {
        benches.into_iter().map(|b| (b.key, b)).collect()
    }

    #[test]
    fn a_repeated_run_reports_the_median_across_processes_with_their_range() {
        let mut processes = vec![
            vec![
                bench("stack_vs_heap/stack_array/0000064", 10.0),
                bench("stack_vs_heap/stack_reserve/0000064", 50.0),
            ],
            vec![
                bench("stack_vs_heap/stack_array/0000064", 14.0),
                bench("stack_vs_heap/stack_reserve/0000064", 70.0),
            ],
            vec![
                bench("stack_vs_heap/stack_array/0000064", 12.0),
                bench("stack_vs_heap/stack_reserve/0000064", 60.0),
            ],
        ];
        // `new` is the last process's copy for a (the same run); b was re-run alone later (another
        // run, even if its figures happened to equal a process's).
        processes[2][0].run = 7;
        let mut new_b = bench("stack_vs_heap/stack_reserve/0000064", 60.0);
        new_b.run = 8;
        let mut new_a = bench("stack_vs_heap/stack_array/0000064", 12.0);
        new_a.run = 7;
        let mut benches = by_key(vec![new_a, new_b]);
        let by_process = aggregate_processes(&mut benches, &processes);
        let a = &benches[&key("stack_vs_heap/stack_array/0000064")];
        assert_eq!(a.processes, 3);
        assert_eq!(a.median.point_estimate, 12.0);
        let ci = a.median.confidence_interval;
        assert_eq!(
            (ci.lower_bound, ci.upper_bound, ci.confidence_level),
            (10.0, 14.0, 0.75)
        );
        // b's process results are stale: its latest single run stands alone.
        let b = &benches[&key("stack_vs_heap/stack_reserve/0000064")];
        assert_eq!((b.processes, b.median.point_estimate), (1, 60.0));
        assert!(
            by_process
                .iter()
                .all(|p| !p.contains_key(&key("stack_vs_heap/stack_reserve/0000064")))
        );
        let results = Results {
            benches,
            processes: by_process,
            ..Results::default()
        };
        assert_eq!(
            results.paired_ratios(
                &key("stack_vs_heap/stack_array/0000064"),
                &key("stack_vs_heap/stack_array/0000064")
            ),
            [1.0, 1.0, 1.0]
        );
        assert_eq!(
            results.process_count(&key("stack_vs_heap/stack_array/0000064")),
            3
        );
        assert_eq!(
            results.process_count(&key("stack_vs_heap/stack_reserve/0000064")),
            1
        );
        assert_eq!(
            results.process_spread(&key("stack_vs_heap/stack_array/0000064")),
            Some(4.0 / 12.0)
        );
        assert_eq!(
            results.process_spread(&key("stack_vs_heap/stack_reserve/0000064")),
            None
        );
    }

    #[test]
    fn each_process_contributes_the_first_quartile_of_its_samples() {
        // Every process's undisturbed time is about 100 ns. In the second, a burst of
        // interference stretched 60% of the samples to 160 ns: its median moved (160), its mean
        // too, its first quartile did not.
        let process = |samples: Vec<f64>| {
            let mut b = bench("contention/larson/mimalloc/t2", 0.0);
            b.median.point_estimate = crate::analysis::stats::median(&samples).unwrap();
            b.mean.point_estimate = samples.iter().sum::<f64>() / samples.len() as f64;
            b.samples = Some(samples);
            vec![b]
        };
        let calm = |base: f64| (0..20).map(|i| base + f64::from(i % 5)).collect::<Vec<_>>();
        let mut disturbed = calm(100.0);
        disturbed[8..].iter_mut().for_each(|x| *x += 60.0);
        let processes = vec![
            process(calm(99.0)),
            process(disturbed),
            process(calm(101.0)),
        ];
        let mut benches = by_key(processes[2].clone());
        let by_process = aggregate_processes(&mut benches, &processes);
        let figures: Vec<f64> = by_process
            .iter()
            .map(|p| p[&key("contention/larson/mimalloc/t2")])
            .collect();
        assert_eq!(figures, [100.0, 102.0, 102.0]);
        let b = benches.values().next().unwrap();
        assert_eq!(b.time.point_estimate, 102.0);
        let ci = b.time.confidence_interval;
        assert_eq!((ci.lower_bound, ci.upper_bound), (100.0, 102.0));
        // Criterion's medians, aggregated the same way, still report what the process saw.
        assert_eq!(b.median.point_estimate, 103.0);
        assert!(processes[1][0].median.point_estimate > 150.0);
    }

    #[test]
    fn without_samples_a_process_contributes_its_median_not_its_mean() {
        // Preemption stretched a few samples by a different amount in each process, which moves
        // the means (150, 110, 190) but not the medians (100, 101, 99).
        let process = |mean: f64, median: f64| {
            let mut b = bench("contention/local_churn/jemalloc/t2", mean);
            b.median.point_estimate = median;
            vec![b]
        };
        let processes = vec![
            process(150.0, 100.0),
            process(110.0, 101.0),
            process(190.0, 99.0),
        ];
        let mut benches = by_key(processes[2].clone());
        aggregate_processes(&mut benches, &processes);
        let b = benches.values().next().unwrap();
        assert_eq!(b.time.point_estimate, 100.0);
        let ci = b.time.confidence_interval;
        assert_eq!((ci.lower_bound, ci.upper_bound), (99.0, 101.0));
        assert_eq!(b.mean.point_estimate, 150.0);
    }
}
