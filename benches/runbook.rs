//! One runbook end to end: scenario.md's case 2. The failover runbook (node 1 died, node 2
//! takes over), then the failback runbook on the state it leaves (rebuild node 1, make it
//! the origin again), each built from the cluster model and rendered as a bash script and
//! as Markdown.

mod common;

use std::hint::black_box;

use common::{keep_short, subscribed_cluster_toml};
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use slonik_gen::runbook::{Format, Prepare, Request};
use slonik_gen::{load_config_str, Cluster};

fn failover() -> Request {
    Request::Failover {
        dead: vec!["1".into()],
        backup: "2".into(),
        drop_dead: false,
    }
}

fn failback() -> Request {
    Request::Failback {
        node: "1".into(),
        sets: Vec::new(),
        prepare: Prepare::DropSchema,
    }
}

/// Both plans, rendered both ways; returns the total length so nothing is optimised away.
fn failover_and_failback(start: &Cluster) -> usize {
    let failed_over = failover().run(start).expect("the failover runbook builds");
    let failed_back = failback()
        .run(&failed_over.next)
        .expect("the failback runbook builds on the failover's state");
    [&failed_over, &failed_back]
        .iter()
        .flat_map(|plan| [Format::Shell, Format::Markdown].map(|format| plan.render(format)))
        .map(|text| text.expect("the runbook renders").len())
        .sum()
}

fn runbook(c: &mut Criterion) {
    let mut group = c.benchmark_group("runbook_failover_then_failback");
    keep_short(&mut group);
    for (nodes, tables) in [(2, 1_000), (10, 10_000)] {
        let start = load_config_str(&subscribed_cluster_toml(nodes, tables), "bench.toml")
            .expect("the generated config is valid");
        let failed_over = failover().run(&start).expect("the failover runbook builds");
        let failed_back = failback()
            .run(&failed_over.next)
            .expect("the failback runbook builds");
        assert!(
            failed_back.next.sets.values().all(|set| set.origin.0 == 1),
            "after the failback node 1 is the origin again"
        );
        group.bench_with_input(
            BenchmarkId::new("nodes_tables", format!("{nodes}x{tables}")),
            &start,
            |b, start| b.iter(|| failover_and_failback(black_box(start))),
        );
    }
    group.finish();
}

criterion_group!(benches, runbook);
criterion_main!(benches);
