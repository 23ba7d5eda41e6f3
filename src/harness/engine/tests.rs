//! Tests of the engine runner: round orders, plans refused, the CPUs a group's workers get.

use super::*;

#[test]
fn every_round_order_is_a_permutation_and_odd_rounds_reverse_the_one_before() {
    let mut orders = Orders(7);
    let rounds = round_orders(&mut orders, 5, 6);
    for order in &rounds {
        let mut sorted = order.clone();
        sorted.sort();
        assert_eq!(sorted, [0, 1, 2, 3, 4]);
    }
    for pair in rounds.chunks(2) {
        let reversed: Vec<usize> = pair[0].iter().rev().copied().collect();
        assert_eq!(pair[1], reversed);
    }
    // Fresh orders differ (five members have 120).
    assert!(rounds[0] != rounds[2] || rounds[2] != rounds[4]);
}

#[test]
fn one_thread_members_share_the_session_s_cpu_and_threaded_ones_keep_all() {
    let two_sides = Group {
        name: "g".into(),
        members: [0, 1]
            .map(|side| Member {
                id: "x".into(),
                side,
            })
            .to_vec(),
        control_side: None,
        sample: Duration::from_millis(1),
        threads: 1,
    };
    let cpus = [0, 1, 3];
    assert_eq!(cpus_of(&two_sides, &cpus, 0), [0]);
    assert_eq!(cpus_of(&two_sides, &cpus, 1), [1]);
    assert_eq!(cpus_of(&two_sides, &cpus, 5), [3]);
    let threaded = Group {
        threads: 2,
        ..two_sides.clone()
    };
    assert_eq!(cpus_of(&threaded, &cpus, 0), cpus);
    let one_process = Group::in_one_process("g".into(), &["x".into(), "y".into()], Duration::ZERO);
    assert_eq!(cpus_of(&one_process, &cpus, 1), [1]);
    assert!(cpus_of(&two_sides, &[], 0).is_empty());
}

#[test]
fn a_plan_that_cannot_run_is_refused_with_one_line() {
    let side = Side {
        label: "a".into(),
        worker: "/nonexistent".into(),
        args: vec![],
        env: vec![],
    };
    let group = Group::in_one_process(
        "g".into(),
        &["x".into(), "y".into()],
        Duration::from_millis(1),
    );
    let plan = Plan {
        sides: vec![side],
        groups: vec![group.clone()],
        rounds: 2,
        min_sessions: 2,
        max_sessions: 2,
        budget: Duration::from_secs(1),
        log: std::env::temp_dir().join("stackheap-engine-test.log"),
        seed: 1,
        process_per_group: true,
    };
    assert!(plan.check().is_ok());
    let lonely = Plan {
        groups: vec![Group::in_one_process(
            "g".into(),
            &["x".into()],
            Duration::from_millis(1),
        )],
        ..plan.clone()
    };
    assert!(
        lonely
            .check()
            .unwrap_err()
            .contains("expected at least two")
    );
    let elsewhere = Plan {
        groups: vec![Group {
            control_side: Some(3),
            ..group
        }],
        ..plan.clone()
    };
    assert!(elsewhere.check().unwrap_err().contains("on known sides"));
    let no_rounds = Plan { rounds: 0, ..plan };
    assert!(no_rounds.check().unwrap_err().contains("at least 1 round"));
}
