//! `golden DIR`: the golden files of a whole cluster in one command. Every operation that
//! applies to the config, with the arguments that make sense for it (or the command lines
//! of a list file), becomes one file named after the operation and its arguments; each
//! one that changes the cluster also gets the next-state config `--write-config` would
//! write; the default runbooks add their Markdown. `golden --check DIR` regenerates the
//! same set in memory and compares it with the directory.
//!
//! Names are built from ids only (`subscribe-set_set1_node2.slonik`), never from names a
//! config chose, so no set or node name can make a path.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use clap::Parser;

use crate::model::{Cluster, NodeId, SetId};
use crate::ops::{Ddl, Operation};
use crate::runbook::{Format, Request};

/// What `golden` produces: file name → contents, sorted by name.
pub type GoldenFiles = BTreeMap<String, String>;

/// The file suffixes `golden` writes; `--check` reports, and `--update` removes, only
/// files with these endings that it would not write.
pub const SUFFIXES: [&str; 5] = [".slonik", ".next.toml", ".md", ".sh", ".json"];

/// Why the golden files cannot be produced.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum GoldenError {
    /// A line of the list file is not a command slonik-gen knows.
    #[error("{}:{line}: {message}", crate::escape::visible(&path.display().to_string()))]
    ListLine {
        /// The list file.
        path: PathBuf,
        /// The 1-based line number.
        line: usize,
        /// Why, and what to do.
        message: String,
    },
    /// An operation or runbook of the list file cannot be done on this cluster.
    #[error("{}:{line}: {source}", crate::escape::visible(&path.display().to_string()))]
    ListOperation {
        /// The list file.
        path: PathBuf,
        /// The 1-based line number.
        line: usize,
        /// Why.
        #[source]
        source: Box<crate::Error>,
    },
    /// The list file or a golden file could not be read, or one could not be written.
    #[error("cannot {action} {}", crate::escape::visible(&path.display().to_string()))]
    Io {
        /// `read`, `write`, `remove`.
        action: &'static str,
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
}

/// One thing to render: an operation (typed, or as a list file's words to resolve) or a
/// runbook.
enum Job {
    Operation(Operation),
    Words(crate::resolve::OperationArgs),
    Runbook(Request, Format),
}

/// The golden files of `cluster` (read from `config_text` at `config_path`): the default
/// set, or the command lines of `list` (path and text) instead.
pub fn golden_files(
    cluster: &Cluster,
    config_text: &str,
    config_path: &Path,
    list: Option<(&Path, &str)>,
) -> Result<GoldenFiles, crate::Error> {
    let jobs: Vec<(Option<(PathBuf, usize)>, Job)> = match list {
        Some((path, text)) => list_jobs(path, text)?
            .into_iter()
            .map(|(line, job)| (Some((path.to_path_buf(), line)), job))
            .collect(),
        None => default_jobs(cluster).into_iter().map(|job| (None, job)).collect(),
    };
    let mut files = GoldenFiles::new();
    for (origin, job) in jobs {
        let at = |e: crate::Error| -> crate::Error {
            match &origin {
                Some((path, line)) => super::FrontendError::from(GoldenError::ListOperation {
                    path: path.clone(),
                    line: *line,
                    source: Box::new(e),
                })
                .into(),
                None => e,
            }
        };
        let job = match job {
            Job::Words(words) => Job::Operation(words.resolve(cluster).map_err(|e| at(e.into()))?),
            job => job,
        };
        match job {
            Job::Words(_) => {}
            Job::Operation(operation) => {
                let stem = unique(&files, operation_stem(&operation), ".slonik");
                super::preflight(&operation).map_err(at)?;
                let change = operation.run(cluster).map_err(|e| at(e.into()))?;
                let script = change.script.render().map_err(|e| at(e.into()))?;
                files.insert(format!("{stem}.slonik"), script);
                if change.next != *cluster {
                    let next = crate::config_writer::edit(config_text, config_path, &change.next)
                        .map_err(|e| at(e.into()))?;
                    files.insert(format!("{stem}.next.toml"), next);
                }
            }
            Job::Runbook(request, format) => {
                let suffix = match format {
                    Format::Shell => ".sh",
                    Format::Markdown => ".md",
                    Format::Json => ".json",
                };
                let stem = unique(&files, runbook_stem(cluster, &request), suffix);
                let plan = request.run(cluster).map_err(|e| at(e.into()))?;
                let text = plan.render(format).map_err(|e| at(e.into()))?;
                files.insert(format!("{stem}{suffix}"), text);
            }
        }
    }
    Ok(files)
}

/// The default jobs: every operation with every argument list that the cluster makes
/// meaningful, kept only when the operation accepts it (a refusal means the arguments do
/// not apply, not an error), plus a switchover and a failover runbook per origin.
fn default_jobs(cluster: &Cluster) -> Vec<Job> {
    let active: Vec<NodeId> = cluster.active_nodes().map(|n| n.id).collect();
    let sets: Vec<SetId> = cluster.sets.keys().copied().collect();
    let mut candidates: Vec<Operation> = vec![
        Operation::PrintPreamble,
        Operation::InitCluster,
        Operation::UninstallNodes,
        Operation::UpdateNodes,
        Operation::RestartNodes {
            nodes: active.clone(),
        },
    ];
    for &node in active.iter().skip(1) {
        candidates.push(Operation::StoreNode {
            node,
            event_node: None,
        });
    }
    for &node in &active {
        if node != cluster.default_origin {
            candidates.push(Operation::DropNode {
                node,
                event_node: cluster.default_origin,
            });
        }
    }
    for &set in &sets {
        candidates.push(Operation::CreateSet { set });
        candidates.push(Operation::DropSet { set });
    }
    for (i, &target) in sets.iter().enumerate() {
        for &source in &sets[i + 1..] {
            let Some(origin) = cluster.sets.get(&target).map(|s| s.origin) else {
                continue;
            };
            candidates.push(Operation::MergeSets {
                node: origin,
                target,
                source,
            });
        }
    }
    let droppable: Vec<NodeId> = active
        .iter()
        .copied()
        .filter(|&node| {
            node != cluster.default_origin
                && (Operation::DropNode {
                    node,
                    event_node: cluster.default_origin,
                })
                .run(cluster)
                .is_ok()
        })
        .collect();
    if let [first, second, ..] = droppable[..] {
        candidates.push(Operation::DropNodes {
            nodes: vec![first, second],
            event_node: cluster.default_origin,
        });
    }
    for failed in cluster.nodes.values().filter(|n| n.failed) {
        candidates.push(Operation::UninstallNode { node: failed.id });
    }
    for &(set, node) in cluster.subscriptions.keys() {
        candidates.push(Operation::SubscribeSet {
            set,
            node,
            omit_copy: false,
        });
        candidates.push(Operation::SubscribeSet {
            set,
            node,
            omit_copy: true,
        });
        candidates.push(Operation::UnsubscribeSet { set, node });
    }
    let mut receivers: Vec<NodeId> = cluster.subscriptions.values().map(|s| s.receiver).collect();
    receivers.sort();
    receivers.dedup();
    for receiver in receivers {
        let resubscribe = active.iter().map(|&provider| Operation::Resubscribe {
            node: receiver,
            provider,
            sets: Vec::new(),
        });
        if let Some(op) = resubscribe.into_iter().find(|op| op.run(cluster).is_ok()) {
            candidates.push(op);
        }
    }
    for &set in &sets {
        candidates.push(Operation::RepairConfig {
            set,
            event_node: None,
            only_on: None,
        });
    }
    for (&set_id, set) in &cluster.sets {
        for &(s, receiver) in cluster.subscriptions.keys() {
            if s == set_id {
                candidates.push(Operation::MoveSet {
                    set: set_id,
                    from: set.origin,
                    to: receiver,
                });
            }
        }
        if let Some(table) = set.tables.first() {
            candidates.push(Operation::DropTable {
                table_id: table.id,
                set: set_id,
            });
        }
        if let Some(sequence) = set.sequences.first() {
            candidates.push(Operation::DropSequence {
                sequence_id: sequence.id,
                set: set_id,
            });
        }
    }
    for (&from, set_a) in &cluster.sets {
        for &to in &sets {
            if to == from {
                continue;
            }
            if let Some(table) = set_a.tables.first() {
                candidates.push(Operation::MoveTable {
                    table_id: table.id,
                    set: from,
                    new_set: to,
                });
            }
            if let Some(sequence) = set_a.sequences.first() {
                candidates.push(Operation::MoveSequence {
                    sequence_id: sequence.id,
                    set: from,
                    new_set: to,
                });
            }
        }
    }
    let origins: Vec<NodeId> = {
        let mut o: Vec<NodeId> = cluster.sets.values().map(|s| s.origin).collect();
        o.sort();
        o.dedup();
        o
    };
    for &origin in &origins {
        candidates.push(Operation::Sync { node: origin });
        candidates.push(Operation::Wait {
            origin,
            confirmed: None,
        });
    }
    for &dead in &origins {
        for &backup in &active {
            if backup != dead
                && (Operation::Failover {
                    pairs: vec![(dead, backup)],
                })
                .run(cluster)
                .is_ok()
            {
                candidates.push(Operation::Failover {
                    pairs: vec![(dead, backup)],
                });
                break;
            }
        }
    }
    let mut jobs: Vec<Job> = candidates
        .into_iter()
        .filter(|op| op.run(cluster).is_ok())
        .map(Job::Operation)
        .collect();
    for &origin in &origins {
        for &to in &active {
            let request = Request::Switchover {
                sets: Vec::new(),
                from: Some(origin.to_string()),
                to: to.to_string(),
            };
            if to != origin && request.run(cluster).is_ok() {
                jobs.push(Job::Runbook(request, Format::Markdown));
                break;
            }
        }
        for &backup in &active {
            let request = Request::Failover {
                dead: vec![origin.to_string()],
                backup: backup.to_string(),
                drop_dead: false,
            };
            if backup != origin && request.run(cluster).is_ok() {
                jobs.push(Job::Runbook(request, Format::Markdown));
                break;
            }
        }
    }
    // A node that was failed over comes back with failback; any other subscriber can be
    // rebuilt. Each is kept only when the runbook applies.
    for node in cluster.nodes.values() {
        let request = if node.failed {
            Request::Failback {
                node: node.id.to_string(),
                sets: Vec::new(),
                prepare: crate::runbook::Prepare::default(),
            }
        } else {
            Request::RebuildNode {
                node: node.id.to_string(),
                sets: Vec::new(),
                prepare: crate::runbook::Prepare::default(),
            }
        };
        if request.run(cluster).is_ok() {
            jobs.push(Job::Runbook(request, Format::Markdown));
        }
    }
    jobs
}

/// The jobs of a list file: one command line a line, as given to `slonik-gen` after the
/// global options (`create-set set1`, `runbook --format sh switchover --from 1 --to 2`);
/// blank lines and `#` comments skipped. Words are split at blanks; everything after
/// `--sql ` is one value, so SQL needs no quoting.
fn list_jobs(path: &Path, text: &str) -> Result<Vec<(usize, Job)>, crate::Error> {
    let mut jobs = Vec::new();
    for (index, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let bad = |message: String| -> crate::Error {
            super::FrontendError::from(GoldenError::ListLine {
                path: path.to_path_buf(),
                line: index + 1,
                message,
            })
            .into()
        };
        if let Some((offset, character)) = crate::escape::control_character(line) {
            return Err(bad(format!(
                "contains the control character {} at byte {offset}; remove it",
                crate::escape::describe_control(character)
            )));
        }
        let (head, sql) = match line.split_once(" --sql ") {
            Some((head, sql)) => (head, Some(sql)),
            None => (line, None),
        };
        let mut words: Vec<String> = vec!["slonik-gen".into()];
        words.extend(head.split_whitespace().map(str::to_string));
        if let Some(sql) = sql {
            words.extend(["--sql".to_string(), sql.to_string()]);
        }
        let cli = super::args::Cli::try_parse_from(&words).map_err(|e| {
            let first = e
                .to_string()
                .lines()
                .next()
                .unwrap_or_default()
                .trim_start_matches("error: ")
                .to_string();
            bad(format!(
                "{first} (a line is a command as given to slonik-gen: `create-set set1`)"
            ))
        })?;
        if cli.config.is_some()
            || cli.check.is_some()
            || cli.write_config.is_some()
            || cli.slony_version.is_some()
        {
            return Err(bad(
                "--config, --check, --write-config and --slony-version belong on the golden command itself, not in its list".into(),
            ));
        }
        let job = match cli.command {
            super::args::Command::Operation(command) => Job::Words(
                command
                    .operation()
                    .map_err(|e| bad(e.to_string().trim().to_string()))?,
            ),
            super::args::Command::Runbook(args) => Job::Runbook(args.plan.request(), args.format),
            _ => {
                return Err(bad(
                    "only operations and runbooks have golden files; remove this line".into(),
                ))
            }
        };
        jobs.push((index + 1, job));
    }
    Ok(jobs)
}

/// `stem` if no file of `files` has it with `suffix`, else `stem_2`, `stem_3`, ...: two
/// list lines for the same operation and arguments (different SQL) get two files.
fn unique(files: &GoldenFiles, stem: String, suffix: &str) -> String {
    if !files.contains_key(&format!("{stem}{suffix}")) {
        return stem;
    }
    (2..)
        .map(|n| format!("{stem}_{n}"))
        .find(|s| !files.contains_key(&format!("{s}{suffix}")))
        .unwrap_or(stem)
}

fn node(id: NodeId) -> String {
    format!("node{id}")
}

fn set(id: SetId) -> String {
    format!("set{id}")
}

/// `subscribe-set_set1_node2`: the operation's name and its arguments, ids only.
pub fn operation_stem(operation: &Operation) -> String {
    let mut parts: Vec<String> = vec![operation.name().to_string()];
    match operation {
        Operation::PrintPreamble
        | Operation::InitCluster
        | Operation::UninstallNodes
        | Operation::UpdateNodes => {}
        Operation::StoreNode { node: n, event_node } => {
            parts.push(node(*n));
            parts.extend(event_node.map(node));
        }
        Operation::DropNode { node: n, event_node } => parts.extend([node(*n), node(*event_node)]),
        Operation::DropNodes { nodes, event_node } => {
            parts.extend(nodes.iter().map(|n| node(*n)));
            parts.extend(["event".to_string(), node(*event_node)]);
        }
        Operation::UninstallNode { node: n } => parts.push(node(*n)),
        Operation::RestartNodes { nodes } => parts.extend(nodes.iter().map(|n| node(*n))),
        Operation::CreateSet { set: s } | Operation::DropSet { set: s } => parts.push(set(*s)),
        Operation::MergeSets {
            node: n,
            target,
            source,
        } => parts.extend([node(*n), set(*target), set(*source)]),
        Operation::SubscribeSet {
            set: s,
            node: n,
            omit_copy,
        } => {
            parts.extend([set(*s), node(*n)]);
            if *omit_copy {
                parts.push("omit-copy".into());
            }
        }
        Operation::UnsubscribeSet { set: s, node: n } => parts.extend([set(*s), node(*n)]),
        Operation::Resubscribe {
            node: n,
            provider,
            sets,
        } => {
            parts.extend([node(*n), "from".to_string(), node(*provider)]);
            parts.extend(sets.iter().map(|s| set(*s)));
        }
        Operation::RepairConfig {
            set: s,
            event_node,
            only_on,
        } => {
            parts.push(set(*s));
            if let Some(e) = event_node {
                parts.extend(["event".to_string(), node(*e)]);
            }
            if let Some(o) = only_on {
                parts.extend(["only-on".to_string(), node(*o)]);
            }
        }
        Operation::MoveSet { set: s, from, to } => parts.extend([set(*s), node(*from), node(*to)]),
        Operation::Failover { pairs } => {
            for (dead, backup) in pairs {
                parts.extend([node(*dead), node(*backup)]);
            }
        }
        Operation::ExecuteScript {
            set: s,
            ddl,
            node: n,
            only_on,
        } => {
            parts.push(set(*s));
            parts.extend(n.map(node));
            if !only_on.is_empty() {
                parts.push("only-on".into());
                parts.extend(only_on.iter().map(|o| node(*o)));
            }
            parts.push(match ddl {
                Ddl::File(_) => "file".to_string(),
                _ => "sql".to_string(),
            });
        }
        Operation::DropTable { table_id, set: s } => parts.extend([format!("table{table_id}"), set(*s)]),
        Operation::DropSequence { sequence_id, set: s } => {
            parts.extend([format!("sequence{sequence_id}"), set(*s)])
        }
        Operation::MoveTable {
            table_id,
            set: s,
            new_set,
        } => parts.extend([format!("table{table_id}"), set(*s), set(*new_set)]),
        Operation::MoveSequence {
            sequence_id,
            set: s,
            new_set,
        } => parts.extend([format!("sequence{sequence_id}"), set(*s), set(*new_set)]),
        Operation::StorePath { server, client } | Operation::DropPath { server, client } => {
            parts.extend([node(*server), node(*client)])
        }
        Operation::Sync { node: n } => parts.push(node(*n)),
        Operation::Wait { origin, confirmed } => {
            parts.push(node(*origin));
            parts.extend(confirmed.map(node));
        }
    }
    parts.join("_")
}

/// `runbook-switchover_node1_node2`: the runbook and its arguments, resolved to ids where
/// they name nodes and sets (words that do not resolve are left out; the run reports them).
fn runbook_stem(cluster: &Cluster, request: &Request) -> String {
    let n = |word: &str| crate::resolve::node(cluster, word).ok().map(node);
    let s = |word: &str| crate::resolve::set(cluster, word).ok().map(set);
    let mut parts: Vec<String> = Vec::new();
    match request {
        Request::Switchover { sets, from, to } => {
            parts.push("runbook-switchover".into());
            parts.extend(sets.iter().filter_map(|w| s(w)));
            parts.extend(from.as_deref().and_then(n));
            parts.extend(n(to));
        }
        Request::Failover {
            dead,
            backup,
            drop_dead,
        } => {
            parts.push("runbook-failover".into());
            parts.extend(dead.iter().filter_map(|w| n(w)));
            parts.extend(n(backup));
            if *drop_dead {
                parts.push("drop-dead".into());
            }
        }
        Request::Failback { node: w, sets, .. } => {
            parts.push("runbook-failback".into());
            parts.extend(n(w));
            parts.extend(sets.iter().filter_map(|w| s(w)));
        }
        Request::RebuildNode { node: w, sets, .. } => {
            parts.push("runbook-rebuild-node".into());
            parts.extend(n(w));
            parts.extend(sets.iter().filter_map(|w| s(w)));
        }
        Request::AddTables { set: w, .. } => {
            parts.push("runbook-add-tables".into());
            parts.extend(s(w));
        }
        Request::AddNode { node: new, sets, .. } => {
            parts.push("runbook-add-node".into());
            parts.push(format!("node{}", new.id));
            parts.extend(sets.iter().filter_map(|w| s(w)));
        }
        Request::RetireNode { node: w, to } => {
            parts.push("runbook-retire-node".into());
            parts.extend(n(w));
            parts.extend(to.as_deref().and_then(n));
        }
        Request::UpgradePostgres { old, node: new, .. } => {
            parts.push("runbook-upgrade-postgres".into());
            parts.extend(n(old));
            parts.push(format!("node{}", new.id));
        }
        Request::CloneNode { from, node: new } => {
            parts.push("runbook-clone-node".into());
            parts.extend(n(from));
            parts.push(format!("node{}", new.id));
        }
        Request::UpgradeSlony { to } => {
            parts.push("runbook-upgrade-slony".into());
            parts.push(to.to_string());
        }
    }
    parts.join("_")
}

/// Whether `name` looks like a file `golden` writes.
fn is_golden_name(name: &str) -> bool {
    SUFFIXES.iter().any(|suffix| name.ends_with(suffix))
}

/// The golden files of the directory: name → contents, for every regular file with a
/// golden suffix (a missing directory has none).
fn read_dir(dir: &Path) -> Result<GoldenFiles, GoldenError> {
    let mut found = GoldenFiles::new();
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(found),
        Err(source) => {
            return Err(GoldenError::Io {
                action: "read",
                path: dir.to_path_buf(),
                source,
            })
        }
    };
    for entry in entries {
        let entry = entry.map_err(|source| GoldenError::Io {
            action: "read",
            path: dir.to_path_buf(),
            source,
        })?;
        let Some(name) = entry.file_name().to_str().map(str::to_string) else {
            continue;
        };
        if !is_golden_name(&name) || !entry.path().is_file() {
            continue;
        }
        let text = std::fs::read_to_string(entry.path()).map_err(|source| GoldenError::Io {
            action: "read",
            path: entry.path(),
            source,
        })?;
        found.insert(name, text);
    }
    Ok(found)
}

/// What differs between a directory and the files `golden` would write.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Drift {
    /// Files in both with different contents, with their unified diffs.
    pub changed: Vec<(String, String)>,
    /// Files `golden` would write that the directory lacks.
    pub missing: Vec<String>,
    /// Golden-looking files of the directory that `golden` would not write.
    pub extra: Vec<String>,
}

impl Drift {
    /// Whether the directory is exactly what `golden` would write.
    pub fn is_empty(&self) -> bool {
        self.changed.is_empty() && self.missing.is_empty() && self.extra.is_empty()
    }

    /// The report for stderr: every diff, then the missing and extra files.
    pub fn report(&self, dir: &Path) -> String {
        let mut out = String::new();
        for (_, diff) in &self.changed {
            out.push_str(diff);
        }
        let shown = crate::escape::visible(&dir.display().to_string()).into_owned();
        for name in &self.missing {
            let _ = writeln!(out, "missing from {shown}: {}", crate::escape::visible(name));
        }
        for name in &self.extra {
            let _ = writeln!(
                out,
                "not generated any more, in {shown}: {}",
                crate::escape::visible(name)
            );
        }
        let _ = writeln!(
            out,
            "{} changed, {} missing, {} extra; `slonik-gen golden --update {shown}` rewrites them",
            self.changed.len(),
            self.missing.len(),
            self.extra.len()
        );
        out
    }
}

/// Compares `files` with the golden files in `dir`.
pub fn compare(files: &GoldenFiles, dir: &Path) -> Result<Drift, crate::Error> {
    let present = read_dir(dir).map_err(super::FrontendError::from)?;
    let mut drift = Drift::default();
    for (name, text) in files {
        match present.get(name) {
            None => drift.missing.push(name.clone()),
            Some(old) if old != text => {
                let path = dir.join(name);
                let diff = super::golden::compare_with_golden(text, &path, "file")?.unwrap_or_default();
                drift.changed.push((name.clone(), diff));
            }
            Some(_) => {}
        }
    }
    drift.extra = present
        .keys()
        .filter(|n| !files.contains_key(*n))
        .cloned()
        .collect();
    Ok(drift)
}

/// Writes `files` into `dir` (created if missing), each atomically, and removes the
/// golden-looking files it would not write; with `only_changed`, files whose contents are
/// already right are left alone. Returns the lines saying what was done.
pub fn write(files: &GoldenFiles, dir: &Path, only_changed: bool) -> Result<Vec<String>, crate::Error> {
    let io = |action: &'static str, path: PathBuf| {
        move |source: std::io::Error| -> crate::Error {
            super::FrontendError::from(GoldenError::Io { action, path, source }).into()
        }
    };
    std::fs::create_dir_all(dir).map_err(io("write", dir.to_path_buf()))?;
    let present = read_dir(dir).map_err(super::FrontendError::from)?;
    let mut said = Vec::new();
    for (name, text) in files {
        let old = present.get(name);
        if only_changed && old == Some(text) {
            continue;
        }
        let path = dir.join(name);
        // A next-state config holds whatever the user's config holds, passwords included.
        let secret = name.ends_with(".next.toml") && crate::model::conninfo::redact_secrets(text) != *text;
        crate::atomic_file::write(
            &path,
            text.as_bytes(),
            crate::atomic_file::Mode { like: None, secret },
        )
        .map_err(io("write", path.clone()))?;
        if old != Some(text) {
            said.push(format!(
                "{} {}",
                if old.is_some() { "updated" } else { "wrote" },
                crate::escape::visible(&path.display().to_string())
            ));
        }
    }
    for name in present.keys().filter(|n| !files.contains_key(*n)) {
        let path = dir.join(name);
        std::fs::remove_file(&path).map_err(io("remove", path.clone()))?;
        said.push(format!(
            "removed {}",
            crate::escape::visible(&path.display().to_string())
        ));
    }
    Ok(said)
}
