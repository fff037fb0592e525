//! Shared by the altperl tests (`import_altperl.rs`, `altperl_dropin.rs`,
//! `altperl_parity.rs`): the slon_tools.conf fixtures and the altperl command lines to run
//! on each. The offline slonik check is `common::offline`, finding slonik
//! `common::slonik_or_skip`.

#![allow(dead_code)] // each test file uses part of this module

use std::path::{Path, PathBuf};

use slonik_gen::import::{import_altperl, AltperlOptions, Imported};
use slonik_gen::model::{Cluster, NodeId};

pub use crate::common::assert_loads;

/// The fixture directory, relative to the crate root (the tests' working directory).
pub const FIXTURES: &str = "tests/fixtures/altperl";

/// Every `tests/fixtures/altperl/*.conf`, sorted (files they `require` end in `.pl`).
pub fn fixtures() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(FIXTURES)
        .expect("the fixture directory exists")
        .map(|e| e.expect("readable dir entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "conf"))
        .collect();
    files.sort();
    files
}

/// Every `tests/fixtures/altperl/errors/*.conf`, sorted.
pub fn error_fixtures() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(Path::new(FIXTURES).join("errors"))
        .expect("the error fixture directory exists")
        .map(|e| e.expect("readable dir entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "conf"))
        .collect();
    files.sort();
    files
}

/// The file name without `.conf`.
pub fn stem(path: &Path) -> String {
    path.file_stem()
        .expect("a file name")
        .to_string_lossy()
        .into_owned()
}

/// Import options that ignore the caller's `SLONYNODES` / `SLONYSET`.
pub fn clean_options() -> AltperlOptions {
    AltperlOptions {
        env: vec![("SLONYNODES".into(), None), ("SLONYSET".into(), None)],
        ..AltperlOptions::default()
    }
}

/// Imports a fixture or fails the test with the error; also fails it when the printed
/// config does not load ([`assert_loads`]).
pub fn import(path: &Path) -> Imported {
    let imported =
        import_altperl(path, &clean_options()).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    assert_loads(&imported.to_toml(), &path.display().to_string());
    imported
}

/// Whether `SLONIK_GEN_E2E=1` makes missing tools a failure.
pub fn e2e_required() -> bool {
    std::env::var("SLONIK_GEN_E2E").as_deref() == Ok("1")
}

/// One altperl command line: the command's name and its arguments (without `--config`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invocation {
    /// `slonik_create_set`, ...
    pub command: &'static str,
    /// The arguments.
    pub args: Vec<String>,
}

impl Invocation {
    fn new(command: &'static str, args: &[String]) -> Self {
        Invocation {
            command,
            args: args.to_vec(),
        }
    }

    /// `slonik_move_set set1 1 2`
    pub fn label(&self) -> String {
        std::iter::once(self.command.to_string())
            .chain(self.args.iter().cloned())
            .collect::<Vec<_>>()
            .join(" ")
    }
}

/// Every altperl generator, each with arguments that make sense for `cluster`: every set,
/// every subscriber, the default origin, a leaf node, ... `sql_file` is an existing file
/// for `slonik_execute_script`.
pub fn invocations(cluster: &Cluster, sql_file: &Path) -> Vec<Invocation> {
    let s = |v: &dyn ToString| v.to_string();
    let origin = cluster.default_origin;
    let nodes: Vec<NodeId> = cluster.nodes.keys().copied().collect();
    let last = *nodes.last().expect("a node");
    let mut out = vec![
        Invocation::new("slonik_print_preamble", &[]),
        Invocation::new("slonik_init_cluster", &[]),
        Invocation::new("slonik_uninstall_nodes", &[]),
        Invocation::new("slonik_update_nodes", &[]),
        Invocation::new("slonik_restart_node", &["--all".into()]),
        Invocation::new("slonik_restart_node", &[s(&nodes[0]), format!("node{last}")]),
        Invocation::new("slonik_store_node", &[s(&last)]),
    ];
    let other = nodes.iter().copied().find(|n| *n != last).unwrap_or(last);
    out.push(Invocation::new("slonik_add_node", &[s(&last), s(&other)]));
    // A leaf: provides nothing, is the origin of nothing.
    let leaf = nodes.iter().rev().copied().find(|n| {
        *n != origin
            && cluster.sets.values().all(|set| set.origin != *n)
            && cluster.subscriptions.values().all(|sub| sub.provider != *n)
    });
    if let Some(leaf) = leaf {
        out.push(Invocation::new("slonik_drop_node", &[s(&leaf), s(&origin)]));
    }
    // Two that altperl generates and we refuse: dropping a set origin, and a node that is
    // its own event node (slonik rejects altperl's script for that one).
    let survivor = nodes.iter().copied().find(|n| *n != origin).unwrap_or(origin);
    out.push(Invocation::new("slonik_drop_node", &[s(&origin), s(&survivor)]));
    out.push(Invocation::new("slonik_drop_node", &[s(&last), s(&last)]));
    for set in cluster.sets.values() {
        let name = set.name.clone();
        out.push(Invocation::new("slonik_create_set", std::slice::from_ref(&name)));
        out.push(Invocation::new("slonik_drop_set", &[format!("set{}", set.id)]));
        for sub in cluster.subscribers(set.id) {
            out.push(Invocation::new(
                "slonik_subscribe_set",
                &[name.clone(), s(&sub.receiver)],
            ));
        }
        // Every subscriber: leaves are unsubscribed, providers of other nodes are refused.
        for sub in cluster.subscribers(set.id) {
            out.push(Invocation::new(
                "slonik_unsubscribe_set",
                &[s(&set.id), format!("node{}", sub.receiver)],
            ));
        }
        let direct = cluster
            .subscribers(set.id)
            .find(|sub| sub.provider == set.origin && sub.forward)
            .map(|sub| sub.receiver);
        if let Some(to) = direct {
            out.push(Invocation::new(
                "slonik_move_set",
                &[name.clone(), s(&set.origin), s(&to)],
            ));
        }
        out.push(Invocation::new(
            "slonik_execute_script",
            &[name.clone(), sql_file.display().to_string()],
        ));
        out.push(Invocation::new(
            "slonik_execute_script",
            &[
                "-c".into(),
                "alter table t add column c int;".into(),
                name.clone(),
            ],
        ));
        out.push(Invocation::new(
            "slonik_execute_script",
            &[
                "--node".into(),
                s(&set.origin),
                name.clone(),
                sql_file.display().to_string(),
            ],
        ));
        if let Some(table) = set.tables.first() {
            out.push(Invocation::new(
                "slonik_drop_table",
                &[s(&table.id), name.clone()],
            ));
        }
        if let Some(sequence) = set.sequences.first() {
            out.push(Invocation::new(
                "slonik_drop_sequence",
                &[s(&sequence.id), name.clone()],
            ));
        }
    }
    // Failover of the default origin to a node every one of its sets can fail over to.
    let backup = nodes.iter().copied().find(|b| {
        *b != origin
            && cluster
                .sets
                .values()
                .filter(|set| set.origin == origin)
                .all(|set| cluster.subscriptions.contains_key(&(set.id, *b)))
    });
    if let Some(backup) = backup {
        out.push(Invocation::new("slonik_failover", &[s(&origin), s(&backup)]));
    }
    // Merge: the first two sets with the same origin.
    let sets: Vec<_> = cluster.sets.values().collect();
    let pair = sets.iter().enumerate().find_map(|(i, a)| {
        sets[i + 1..]
            .iter()
            .find(|b| b.origin == a.origin)
            .map(|b| (*a, *b))
    });
    if let Some((target, source)) = pair {
        out.push(Invocation::new(
            "slonik_merge_sets",
            &[s(&target.origin), target.name.clone(), source.name.clone()],
        ));
    }
    out
}
