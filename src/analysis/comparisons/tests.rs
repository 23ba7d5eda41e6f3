//! Tests of `comparisons`: the noise of a repeated run and the margin it allows.

use super::*;

/// One process-figure list per row (`local_churn/system/t1`, `t2`, ...), as a repeated run.
fn run(figures: &[&[f64]]) -> Results {
    let ids: Vec<BenchId> = (0..figures.len())
        .map(|i| contention_id(Workload::LocalChurn, AllocatorKind::System, i + 1))
        .collect();
    let longest = figures.iter().map(|f| f.len()).max().unwrap_or(0);
    let processes = (0..longest)
        .map(|k| {
            ids.iter()
                .zip(figures)
                .filter_map(|(id, f)| Some((*id, *f.get(k)?)))
                .collect()
        })
        .collect();
    Results {
        benches: ids
            .iter()
            .map(|id| (*id, Bench::synthetic(&id.to_string(), 100.0, 1.0, None)))
            .collect(),
        processes,
        ..Results::default()
    }
}

#[test]
fn the_margin_is_the_median_spread_of_a_row_floored_at_five_percent() {
    let noisy = Noise::of(&run(&[
        &[100.0, 110.0, 90.0],
        &[100.0, 130.0, 100.0],
        &[100.0, 101.0, 99.0],
    ]))
    .unwrap();
    assert!((noisy.median_spread - 0.2).abs() < 1e-9, "{noisy:?}");
    assert_eq!((noisy.rows, noisy.margin), (3, noisy.median_spread));
    let quiet = Noise::of(&run(&[&[100.0, 101.0, 99.0]])).unwrap();
    assert_eq!(quiet.margin, MIN_NOISE_MARGIN);
    assert_eq!(
        Noise::of(&run(&[&[100.0, 120.0]])),
        None,
        "two processes say nothing of the noise"
    );
}

#[test]
fn a_fourth_process_does_not_make_a_row_read_noisier() {
    // Draws of one population: four span more than three, but the estimate stays.
    let three = Noise::of(&run(&[&[90.0, 100.0, 110.0]])).unwrap();
    let four = Noise::of(&run(&[&[90.0, 100.0, 110.0, 112.0]])).unwrap();
    assert!(
        four.median_spread <= three.median_spread * 1.05,
        "{three:?} {four:?}"
    );
}

#[test]
fn rounds_rank_by_ratios_paired_by_round() {
    // Each round is 2x faster or slower as a whole, but glibc is always 1.5x jemalloc within it:
    // paired by round the ratio is steady and decided; snmalloc within 1% of jemalloc is a tie.
    let rows = vec![
        (AllocatorKind::System, vec![150.0, 300.0, 75.0, 150.0]),
        (AllocatorKind::Jemalloc, vec![100.0, 200.0, 50.0, 100.0]),
        (AllocatorKind::Snmalloc, vec![101.0, 199.0, 50.5, 99.0]),
    ];
    let noise = Noise::of_rows(&rows.iter().map(|(_, v)| v.as_slice()).collect::<Vec<_>>());
    assert!(noise.is_some_and(|n| n.margin >= MIN_NOISE_MARGIN));
    let ranking = rank_rounds(&rows, 0.05);
    let order: Vec<AllocatorKind> = ranking.iter().map(|r| r.allocator).collect();
    assert_eq!(order[2], AllocatorKind::System);
    assert_eq!(ranking[2].to_best.ratio, 1.5);
    assert!(ranking[2].to_best.decidedly_above());
    assert!(!ranking[1].to_best.decided());
}
