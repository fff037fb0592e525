//! Rendering the same scripts for every Slony-I version: lowering each statement for the
//! version and writing the text (`Script::write_to` into `io::sink()`).

mod common;

use std::hint::black_box;
use std::io;

use common::{cluster_toml, keep_short, TableStyle};
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use slonik_gen::{load_config_str_for, ops, Cluster, Script, SlonyVersion};

fn cluster(nodes: usize, tables: usize, version: SlonyVersion) -> Cluster {
    load_config_str_for(
        &cluster_toml(nodes, tables, TableStyle::Plain),
        "bench.toml",
        Some(version),
    )
    .expect("the generated config is valid for every version")
}

fn render_each_version(c: &mut Criterion, name: &str, script_for: impl Fn(SlonyVersion) -> Script) {
    let mut group = c.benchmark_group(format!("render/{name}"));
    keep_short(&mut group);
    for version in SlonyVersion::ALL {
        let script = script_for(version);
        let bytes = script.render().expect("the script renders").len();
        group.throughput(Throughput::Bytes(bytes as u64));
        group.bench_with_input(
            BenchmarkId::from_parameter(version.as_str()),
            &script,
            |b, script| {
                b.iter(|| {
                    black_box(script)
                        .write_to(&mut io::sink())
                        .expect("writing to a sink cannot fail")
                })
            },
        );
    }
    group.finish();
}

fn render(c: &mut Criterion) {
    render_each_version(c, "create_set_10k_tables", |version| {
        ops::create_set(&cluster(2, 10_000, version), slonik_gen::model::SetId(1))
            .expect("create-set works")
            .script
    });
    render_each_version(c, "init_cluster_50_nodes", |version| {
        ops::init_cluster(&cluster(50, 10, version))
            .expect("init-cluster works")
            .script
    });
}

criterion_group!(benches, render);
criterion_main!(benches);
