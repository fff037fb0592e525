//! Config generators shared by the criterion benches.
//!
//! The clusters match `benches/altperl/generate.pl` (the whole-process comparison): nodes
//! on 127.0.0.1 with ports 20000 + id, database `bench`, one set `set1` whose tables are
//! `public.t000001`, `public.t000002`, ...

// Each bench binary compiles this module and uses only part of it.
#![allow(dead_code)]

use std::fmt::Write as _;
use std::time::Duration;

use criterion::{BenchmarkGroup, SamplingMode};

/// Table counts for create-set and config loading.
pub const TABLE_COUNTS: [usize; 3] = [1_000, 10_000, 100_000];
/// Node counts for init-cluster and config loading.
pub const NODE_COUNTS: [usize; 3] = [10, 50, 200];

/// How the tables of the set are written in the TOML.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TableStyle {
    /// `"public.t000001"`: how an operator writes them.
    Plain,
    /// `{ schema = "public", name = "t000001", comment = "Table public.t000001 with primary key" }`:
    /// the comment altperl hard-codes, so the scripts match altperl's statement for statement.
    Commented,
}

/// A config with `nodes` nodes and one set of `tables` tables originating on node 1.
pub fn cluster_toml(nodes: usize, tables: usize, style: TableStyle) -> String {
    let mut toml = String::with_capacity(200 * nodes + 100 * tables);
    toml.push_str("cluster = \"replication\"\nslony_version = \"2.2\"\ndefault_origin = 1\n");
    for id in 1..=nodes {
        write!(
            toml,
            "\n[[node]]\nid = {id}\ncomment = \"Node {id} - bench@127.0.0.1\"\nhost = \"127.0.0.1\"\nport = {}\ndbname = \"bench\"\nuser = \"postgres\"\n",
            20_000 + id
        )
        .expect("writing to a String cannot fail");
    }
    toml.push_str(
        "\n[[set]]\nid = 1\nname = \"set1\"\norigin = 1\ncomment = \"Set 1 (set1) for replication\"\ntables = [\n",
    );
    for t in 1..=tables {
        match style {
            TableStyle::Plain => writeln!(toml, "  \"public.t{t:06}\","),
            TableStyle::Commented => writeln!(
                toml,
                "  {{ schema = \"public\", name = \"t{t:06}\", comment = \"Table public.t{t:06} with primary key\" }},"
            ),
        }
        .expect("writing to a String cannot fail");
    }
    toml.push_str("]\n");
    toml
}

/// The same cluster with a subscription of every other node to `set1` from node 1.
pub fn subscribed_cluster_toml(nodes: usize, tables: usize) -> String {
    let mut toml = cluster_toml(nodes, tables, TableStyle::Plain);
    for receiver in 2..=nodes {
        write!(
            toml,
            "\n[[subscription]]\nset = \"set1\"\nreceiver = {receiver}\nprovider = 1\n"
        )
        .expect("writing to a String cannot fail");
    }
    toml
}

/// Keeps the default `cargo bench` short on a shared two-core machine: ten samples, a
/// short warm-up, and flat sampling so a 100k-table iteration is not repeated 55 times.
pub fn keep_short(group: &mut BenchmarkGroup<'_, criterion::measurement::WallTime>) {
    group
        .sample_size(10)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
        .sampling_mode(SamplingMode::Flat);
}
