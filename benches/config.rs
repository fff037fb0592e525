//! Loading configs of the benchmark sizes: TOML parsing, validation into a `Cluster`, and
//! both together (`load_config_str`, what every command does first).

mod common;

use std::hint::black_box;

use common::{cluster_toml, keep_short, TableStyle, NODE_COUNTS, TABLE_COUNTS};
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use slonik_gen::{load_config_str, validate, ConfigFile};

fn inputs() -> Vec<(String, u64, String)> {
    let mut inputs = Vec::new();
    for tables in TABLE_COUNTS {
        inputs.push((
            format!("tables/{tables}"),
            tables as u64,
            cluster_toml(2, tables, TableStyle::Plain),
        ));
    }
    // The whole-process comparison also runs this style, which matches altperl's output
    // statement for statement; the inline tables are what make it slower to parse.
    inputs.push((
        "tables_commented/100000".into(),
        100_000,
        cluster_toml(2, 100_000, TableStyle::Commented),
    ));
    for nodes in NODE_COUNTS {
        inputs.push((
            format!("nodes/{nodes}"),
            nodes as u64,
            cluster_toml(nodes, 10, TableStyle::Plain),
        ));
    }
    inputs
}

fn load(c: &mut Criterion) {
    let inputs = inputs();
    let mut group = c.benchmark_group("load_config");
    keep_short(&mut group);
    for (id, elements, text) in &inputs {
        load_config_str(text, "bench.toml").expect("the generated config is valid");
        group.throughput(Throughput::Elements(*elements));
        group.bench_with_input(BenchmarkId::from_parameter(id), text, |b, text| {
            b.iter(|| load_config_str(black_box(text), "bench.toml").expect("valid"))
        });
    }
    group.finish();

    let mut group = c.benchmark_group("parse_toml");
    keep_short(&mut group);
    for (id, elements, text) in &inputs {
        group.throughput(Throughput::Elements(*elements));
        group.bench_with_input(BenchmarkId::from_parameter(id), text, |b, text| {
            b.iter(|| toml::from_str::<ConfigFile>(black_box(text)).expect("parses"))
        });
    }
    group.finish();

    let mut group = c.benchmark_group("validate");
    keep_short(&mut group);
    for (id, elements, text) in &inputs {
        let config: ConfigFile = toml::from_str(text).expect("parses");
        group.throughput(Throughput::Elements(*elements));
        group.bench_with_input(BenchmarkId::from_parameter(id), &config, |b, config| {
            b.iter(|| validate::validate(black_box(config)).expect("valid"))
        });
    }
    group.finish();
}

/// Loading with the tables in a `tables_file` (one name a line), the way to list 100k tables
/// (BENCHMARKS.md): config and list read from disk (the page cache), parsed and validated.
fn load_list_file(c: &mut Criterion) {
    let mut group = c.benchmark_group("load_config_list_file");
    keep_short(&mut group);
    let dir = tempfile::tempdir().expect("a temporary directory");
    for tables in TABLE_COUNTS {
        let config = dir.path().join(format!("c{tables}.toml"));
        let list = format!("set{tables}.tables");
        let mut toml = cluster_toml(2, 0, TableStyle::Plain);
        toml.push_str(&format!("tables_file = \"{list}\"\n"));
        std::fs::write(&config, toml).expect("writes the config");
        let names: String = (1..=tables).map(|t| format!("public.t{t:06}\n")).collect();
        std::fs::write(dir.path().join(&list), names).expect("writes the list");
        let cluster = slonik_gen::load_config(&config, None).expect("the generated config is valid");
        assert_eq!(
            cluster.sets.values().map(|s| s.tables.len()).sum::<usize>(),
            tables
        );
        group.throughput(Throughput::Elements(tables as u64));
        group.bench_with_input(BenchmarkId::new("tables", tables), &config, |b, config| {
            b.iter(|| slonik_gen::load_config(black_box(config), None).expect("valid"))
        });
    }
    group.finish();
}

criterion_group!(benches, load, load_list_file);
criterion_main!(benches);
