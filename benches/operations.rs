//! create-set at 1k, 10k and 100k tables and init-cluster at 10, 50 and 200 nodes: the
//! operation plus writing its script, from an already loaded cluster (loading is measured
//! by the `config` bench). The script goes to `io::sink()`, so writing costs formatting only.

mod common;

use std::hint::black_box;
use std::io;

use common::{cluster_toml, keep_short, TableStyle, NODE_COUNTS, TABLE_COUNTS};
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use slonik_gen::{load_config_str, ops};

fn create_set(c: &mut Criterion) {
    let mut group = c.benchmark_group("create_set");
    keep_short(&mut group);
    for tables in TABLE_COUNTS {
        let cluster = load_config_str(&cluster_toml(2, tables, TableStyle::Plain), "bench.toml")
            .expect("the generated config is valid");
        let check = ops::create_set(&cluster, slonik_gen::model::SetId(1))
            .expect("create-set works on the generated config");
        let script = check.script.render().expect("the script renders");
        assert_eq!(
            script.matches("set add table").count(),
            tables,
            "the script adds every table"
        );
        group.throughput(Throughput::Elements(tables as u64));
        group.bench_with_input(BenchmarkId::new("tables", tables), &cluster, |b, cluster| {
            b.iter(|| {
                let change = ops::create_set(black_box(cluster), slonik_gen::model::SetId(1))
                    .expect("create-set works");
                // What the CLI runs: the operation checks the script, then one writing pass.
                change
                    .write_to(&mut io::sink())
                    .expect("writing to a sink cannot fail");
                change
            })
        });
    }
    group.finish();
}

fn init_cluster(c: &mut Criterion) {
    let mut group = c.benchmark_group("init_cluster");
    keep_short(&mut group);
    for nodes in NODE_COUNTS {
        let cluster = load_config_str(&cluster_toml(nodes, 10, TableStyle::Plain), "bench.toml")
            .expect("the generated config is valid");
        let paths = nodes * (nodes - 1);
        let script = ops::init_cluster(&cluster)
            .expect("init-cluster works on the generated config")
            .script
            .render()
            .expect("the script renders");
        assert_eq!(
            script.matches("store path").count(),
            paths,
            "one path per ordered pair"
        );
        // Elements are paths, so the per-element time staying flat means cost grows as n².
        group.throughput(Throughput::Elements(paths as u64));
        group.bench_with_input(BenchmarkId::new("nodes", nodes), &cluster, |b, cluster| {
            b.iter(|| {
                let change = ops::init_cluster(black_box(cluster)).expect("init-cluster works");
                // What the CLI runs: the operation checks the script, then one writing pass.
                change
                    .write_to(&mut io::sink())
                    .expect("writing to a sink cannot fail");
                change
            })
        });
    }
    group.finish();
}

criterion_group!(benches, create_set, init_cluster);
criterion_main!(benches);
