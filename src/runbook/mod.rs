//! Runbooks: multi-step plans generated from the cluster model.
//!
//! The scenario behind slonik-gen (`docs/runbooks.md`) took 14 manual steps on two hosts:
//! stopping slons, preparing a database, editing a Perl config twice, piping altperl
//! output through `sed`, discovering errors live. A [`Plan`] is that procedure as data:
//! an ordered list of [`Step`]s, each saying why it is there, and the cluster's state once
//! the plan has run ([`Plan::next`]). Plans are built from the same [`crate::ops`] that
//! print single scripts, chained through their `next` state, so a runbook and a one-off
//! script can never disagree about the cluster.
//!
//! A plan renders three ways ([`Format`]): a numbered Markdown runbook for a person, one
//! bash script that runs the whole plan and stops at the first failure, and JSON for other
//! tools. [`crate::config_writer::edit`] writes the state after the plan into the user's own
//! config file, keeping its comments and layout.
//!
//! ```
//! let toml = r#"
//!     cluster = "replication"
//!     [[node]]
//!     id = 1
//!     host = "MasNod"
//!     dbname = "geekdb"
//!     [[node]]
//!     id = 2
//!     host = "SlaNod"
//!     dbname = "geekdb"
//!     [[set]]
//!     id = 1
//!     name = "set1"
//!     default_schema = "geekdb"
//!     tables = ["files"]
//!     [[subscription]]
//!     set = "set1"
//!     receiver = 2
//! "#;
//! use slonik_gen::runbook::{Format, Request};
//! let cluster = slonik_gen::load_config_str(toml, "example.toml").unwrap();
//! let plan = Request::Failover { dead: vec!["1".into()], backup: "2".into(), drop_dead: false }
//!     .run(&cluster)
//!     .unwrap();
//! assert_eq!(plan.next.sets[&slonik_gen::model::SetId(1)].origin, slonik_gen::model::NodeId(2));
//! let script = plan.render(Format::Shell).unwrap();
//! assert!(script.starts_with("#!/usr/bin/env bash\n"));
//! ```

mod add_tables;
pub(crate) mod catalog;
mod failover;
mod markdown;
mod rebuild;
mod shell;
mod switchover;

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use serde::ser::{SerializeStruct, Serializer};
use serde::Serialize;

use crate::model::conninfo::{conninfo_text, ConninfoUse};
use crate::model::{Cluster, Node, NodeId, SetId};
use crate::ops::{refuse, Change, OpError, Refusal};
use crate::render::Script;
use crate::resolve;
use crate::version::SlonyVersion;

pub use rebuild::Prepare;

/// A complete runbook: what to do, in order, and the cluster's state afterwards.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Plan {
    /// One line saying what the plan does.
    pub title: String,
    /// Cluster name.
    pub cluster: String,
    /// Target Slony-I version.
    pub version: SlonyVersion,
    /// How to reach every node a step names (admin connections, as psql takes them).
    pub nodes: BTreeMap<NodeId, NodeAccess>,
    /// The steps, in order.
    pub steps: Vec<Step>,
    /// The cluster once every step has succeeded (set origins, subscriptions, failed and
    /// dropped nodes); serialized as the config file that describes it.
    #[serde(serialize_with = "serialize_cluster")]
    pub next: Cluster,
}

/// How a step reaches a node.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NodeAccess {
    /// `node 1 (MasNod)`.
    pub label: String,
    /// The node's admin connection as libpq text (what `psql` and `pg_dump` take).
    pub conninfo: String,
}

/// One step of a plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Step {
    /// Short imperative title (`Move set 1 (set1) to node 2`). Like every text of a plan
    /// it is plain text that may quote names from the config; each renderer escapes it for
    /// its language ([`crate::escape`]), so it is built with `format!` freely.
    pub title: String,
    /// Why the step is there: what goes wrong without it.
    pub why: String,
    /// What to do.
    pub action: Action,
    /// Run the step only when this probe gives its expected answer (for steps whose work
    /// may already be done, such as dropping a node the cluster no longer knows).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub only_if: Option<Probe>,
    /// What to do, before stopping, when the step fails (for example unlock a set).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub on_failure: Option<Recovery>,
}

/// What a step does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Run a slonik script (it stops itself at its first error).
    Slonik(Script),
    /// Run SQL on a node through its admin connection.
    Sql {
        /// The node.
        node: NodeId,
        /// The SQL (one or more statements).
        sql: String,
    },
    /// Run a shell command on the host of a node (start or stop its slon, dump a schema).
    Shell {
        /// The node whose host runs the command.
        node: NodeId,
        /// The command line(s).
        command: String,
        /// Whether a failure is expected and harmless (stopping a slon that is already dead).
        may_fail: bool,
    },
    /// Run a query on a node and stop the runbook unless it answers `expect`.
    Check {
        /// The node.
        node: NodeId,
        /// One SQL query returning one value.
        sql: String,
        /// The expected value, as psql prints it unaligned (`1`, `t`, `2:1`).
        expect: String,
        /// Keep asking for up to this many seconds (0: ask once), for states that
        /// replicate asynchronously.
        wait_seconds: u32,
    },
    /// Something only a person can do.
    Manual {
        /// What to do.
        instruction: String,
    },
}

/// A query whose answer decides whether a step runs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Probe {
    /// The node asked.
    pub node: NodeId,
    /// One SQL query returning one value.
    pub sql: String,
    /// The answer for which the step runs.
    pub expect: String,
}

/// What to do when a step fails, before the runbook stops.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Recovery {
    /// Why.
    pub why: String,
    /// The action.
    pub action: Action,
}

impl Serialize for Action {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Action::Slonik(script) => {
                let text = script.render().map_err(serde::ser::Error::custom)?;
                let mut s = serializer.serialize_struct("Action", 3)?;
                s.serialize_field("kind", "slonik")?;
                s.serialize_field(
                    "nodes",
                    &script.admin.iter().map(|(id, _)| *id).collect::<Vec<_>>(),
                )?;
                s.serialize_field("script", &text)?;
                s.end()
            }
            Action::Sql { node, sql } => {
                let mut s = serializer.serialize_struct("Action", 3)?;
                s.serialize_field("kind", "sql")?;
                s.serialize_field("node", node)?;
                s.serialize_field("sql", sql)?;
                s.end()
            }
            Action::Shell {
                node,
                command,
                may_fail,
            } => {
                let mut s = serializer.serialize_struct("Action", 4)?;
                s.serialize_field("kind", "shell")?;
                s.serialize_field("node", node)?;
                s.serialize_field("command", command)?;
                s.serialize_field("may_fail", may_fail)?;
                s.end()
            }
            Action::Check {
                node,
                sql,
                expect,
                wait_seconds,
            } => {
                let mut s = serializer.serialize_struct("Action", 5)?;
                s.serialize_field("kind", "check")?;
                s.serialize_field("node", node)?;
                s.serialize_field("sql", sql)?;
                s.serialize_field("expect", expect)?;
                s.serialize_field("wait_seconds", wait_seconds)?;
                s.end()
            }
            Action::Manual { instruction } => {
                let mut s = serializer.serialize_struct("Action", 2)?;
                s.serialize_field("kind", "manual")?;
                s.serialize_field("instruction", instruction)?;
                s.end()
            }
        }
    }
}

fn serialize_cluster<S: Serializer>(cluster: &Cluster, serializer: S) -> Result<S::Ok, S::Error> {
    cluster.to_config().serialize(serializer)
}

/// How a plan is written out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Format {
    /// A numbered runbook for a person, every script inline.
    #[default]
    Markdown,
    /// One bash script that runs the whole plan and stops at the first failure.
    Shell,
    /// The plan as JSON, for other tools.
    Json,
}

impl Format {
    /// Every format, as written on the command line.
    pub const NAMES: [&'static str; 3] = ["md", "sh", "json"];
}

/// A format name that is not `md`, `sh` or `json`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown runbook format `{0}`: use md, sh or json")]
pub struct UnknownFormat(pub String);

impl FromStr for Format {
    type Err = UnknownFormat;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim() {
            "md" | "markdown" => Ok(Format::Markdown),
            "sh" | "bash" | "shell" => Ok(Format::Shell),
            "json" => Ok(Format::Json),
            other => Err(UnknownFormat(other.to_string())),
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Format::Markdown => "md",
            Format::Shell => "sh",
            Format::Json => "json",
        })
    }
}

impl Plan {
    /// The plan as text in `format`, ending in exactly one newline.
    pub fn render(&self, format: Format) -> Result<String, crate::Error> {
        match format {
            Format::Markdown => markdown::render(self),
            Format::Shell => shell::render(self),
            Format::Json => {
                let mut text = serde_json::to_string_pretty(self)
                    .map_err(|e| crate::Error::Io(std::io::Error::new(std::io::ErrorKind::InvalidData, e)))?;
                text.push('\n');
                Ok(text)
            }
        }
    }
}

/// Compares a rendered plan with a golden file (`--check FILE`): `None` when identical,
/// else a unified diff (golden → generated).
pub fn check_against(rendered: &str, golden: &std::path::Path) -> Result<Option<String>, crate::Error> {
    crate::cli_support::compare_with_golden(rendered, golden, "runbook")
}

/// One runbook with its arguments as the user wrote them: what the command line hands to
/// [`Request::run`], which resolves the words with [`crate::resolve`] and calls the typed
/// runbook function.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Request {
    /// Controlled switchover of sets to a subscriber (see [`switchover`]).
    Switchover {
        /// The sets (names, ids or `set1`); empty means every set of `from`.
        sets: Vec<String>,
        /// The current origin whose sets all move (instead of `sets`).
        from: Option<String>,
        /// The new origin.
        to: String,
    },
    /// Failover of dead nodes to a backup (see [`failover`]).
    Failover {
        /// The dead nodes.
        dead: Vec<String>,
        /// The node that takes over their sets.
        backup: String,
        /// Also drop the dead nodes from the cluster.
        drop_dead: bool,
    },
    /// Rebuild a node and give it its sets back as origin (see [`failback`]).
    Failback {
        /// The node.
        node: String,
        /// The sets (empty means every set).
        sets: Vec<String>,
        /// How its database is prepared.
        prepare: Prepare,
    },
    /// Rebuild a node as a subscriber (see [`rebuild_node`]).
    RebuildNode {
        /// The node.
        node: String,
        /// The sets it subscribes to (empty means every set).
        sets: Vec<String>,
        /// How its database is prepared.
        prepare: Prepare,
    },
    /// Add tables (and sequences) to a live set (see [`add_tables`]).
    AddTables {
        /// The set.
        set: String,
        /// The tables (`schema.table`, or `table` in the set's default schema).
        tables: Vec<String>,
        /// The sequences.
        sequences: Vec<String>,
    },
}

impl Request {
    /// Resolves the arguments against `cluster` and builds the plan.
    pub fn run(&self, cluster: &Cluster) -> Result<Plan, OpError> {
        match self {
            Request::Switchover { sets, from, to } => {
                const OP: &str = "switchover";
                let target = resolve::active_node(cluster, OP, to)?;
                let sets = resolve::switchover_sets(cluster, OP, sets, from.as_deref())?;
                switchover(cluster, &sets, target)
            }
            Request::Failover {
                dead,
                backup,
                drop_dead,
            } => {
                const OP: &str = "failover";
                if dead.is_empty() {
                    return Err(refuse(OP, Refusal::NoDeadNodes));
                }
                let backup = resolve::active_node(cluster, OP, backup)?;
                let dead: Vec<NodeId> = dead
                    .iter()
                    .map(|d| resolve::active_node(cluster, OP, d))
                    .collect::<Result<_, _>>()?;
                failover(cluster, &dead, backup, *drop_dead)
            }
            Request::Failback { node, sets, prepare } => {
                let (node, sets) = rebuild_args(cluster, node, sets)?;
                failback(cluster, node, &sets, *prepare)
            }
            Request::RebuildNode { node, sets, prepare } => {
                let (node, sets) = rebuild_args(cluster, node, sets)?;
                rebuild_node(cluster, node, &sets, *prepare)
            }
            Request::AddTables {
                set,
                tables,
                sequences,
            } => add_tables(
                cluster,
                resolve::set(cluster, set)?,
                &tables.iter().map(String::as_str).collect::<Vec<_>>(),
                &sequences.iter().map(String::as_str).collect::<Vec<_>>(),
            ),
        }
    }
}

fn rebuild_args(cluster: &Cluster, node: &str, sets: &[String]) -> Result<(NodeId, Vec<SetId>), OpError> {
    let node = resolve::node(cluster, node)?;
    let sets = sets
        .iter()
        .map(|s| resolve::set(cluster, s))
        .collect::<Result<_, _>>()?;
    Ok((node, sets))
}

pub use add_tables::add_tables;
pub use failover::failover;
pub use rebuild::{failback, rebuild_node};
pub use switchover::switchover;

/// Builds a plan step by step, carrying the cluster's state from one step to the next.
pub(crate) struct Builder {
    operation: &'static str,
    title: String,
    state: Cluster,
    nodes: BTreeMap<NodeId, NodeAccess>,
    steps: Vec<Step>,
}

impl Builder {
    /// A plan for `cluster`, able to reach every node it knows (failed ones included).
    pub(crate) fn new(operation: &'static str, title: String, cluster: &Cluster) -> Result<Builder, OpError> {
        crate::transition::check_references(cluster).map_err(crate::ops::inconsistent(operation))?;
        let mut nodes = BTreeMap::new();
        for node in cluster.nodes.values() {
            nodes.insert(node.id, access(cluster, operation, node)?);
        }
        Ok(Builder {
            operation,
            title,
            state: cluster.clone(),
            nodes,
            steps: Vec::new(),
        })
    }

    /// The cluster as it is once the steps so far have run.
    pub(crate) fn state(&self) -> &Cluster {
        &self.state
    }

    /// Moves on to a state a [`crate::transition`] computed (for changes no slonik
    /// script makes, such as a rebuilt node coming back).
    pub(crate) fn set_state(&mut self, state: Cluster) {
        self.state = state;
    }

    pub(crate) fn operation(&self) -> &'static str {
        self.operation
    }

    /// Appends a slonik step running `change.script`, and moves on to `change.next`.
    pub(crate) fn change(
        &mut self,
        title: impl Into<String>,
        why: impl Into<String>,
        change: Change,
    ) -> Result<(), OpError> {
        self.slonik(title, why, change.script, None)?;
        self.state = change.next;
        Ok(())
    }

    /// Appends a slonik step after checking that the script renders.
    pub(crate) fn slonik(
        &mut self,
        title: impl Into<String>,
        why: impl Into<String>,
        script: Script,
        on_failure: Option<Recovery>,
    ) -> Result<(), OpError> {
        self.renders(&script)?;
        if let Some(Recovery {
            action: Action::Slonik(recovery),
            ..
        }) = &on_failure
        {
            self.renders(recovery)?;
        }
        self.steps.push(Step {
            title: title.into(),
            why: sentence(why.into()),
            action: Action::Slonik(script),
            only_if: None,
            on_failure,
        });
        Ok(())
    }

    fn renders(&self, script: &Script) -> Result<(), OpError> {
        script.render().map(|_| ()).map_err(|error| OpError::Render {
            operation: self.operation,
            error,
        })
    }

    /// Appends a check.
    pub(crate) fn check(
        &mut self,
        title: impl Into<String>,
        why: impl Into<String>,
        node: NodeId,
        sql: String,
        expect: impl Into<String>,
        wait_seconds: u32,
    ) {
        self.steps.push(Step {
            title: title.into(),
            why: sentence(why.into()),
            action: Action::Check {
                node,
                sql,
                expect: expect.into(),
                wait_seconds,
            },
            only_if: None,
            on_failure: None,
        });
    }

    /// Appends a step that runs SQL on a node.
    pub(crate) fn sql(
        &mut self,
        title: impl Into<String>,
        why: impl Into<String>,
        node: NodeId,
        sql: String,
    ) {
        self.steps.push(Step {
            title: title.into(),
            why: sentence(why.into()),
            action: Action::Sql { node, sql },
            only_if: None,
            on_failure: None,
        });
    }

    /// Appends a shell step on the host of a node.
    pub(crate) fn shell(
        &mut self,
        title: impl Into<String>,
        why: impl Into<String>,
        node: NodeId,
        command: String,
        may_fail: bool,
    ) {
        self.steps.push(Step {
            title: title.into(),
            why: sentence(why.into()),
            action: Action::Shell {
                node,
                command,
                may_fail,
            },
            only_if: None,
            on_failure: None,
        });
    }

    /// Appends a manual step.
    pub(crate) fn manual(&mut self, title: impl Into<String>, why: impl Into<String>, instruction: String) {
        self.steps.push(Step {
            title: title.into(),
            why: sentence(why.into()),
            action: Action::Manual { instruction },
            only_if: None,
            on_failure: None,
        });
    }

    /// Makes the last step conditional.
    pub(crate) fn only_if_last(&mut self, probe: Probe) {
        if let Some(step) = self.steps.last_mut() {
            step.only_if = Some(probe);
        }
    }

    /// Ends the plan with one check per active node that its catalog matches the final
    /// state, so a runbook that "succeeded" into a different shape cannot go unnoticed.
    /// The catalog queries take every reference of the state as given, so it is checked first.
    pub(crate) fn finish(mut self) -> Result<Plan, OpError> {
        crate::transition::check_references(&self.state).map_err(crate::ops::inconsistent(self.operation))?;
        let expected = catalog::state_summary(&self.state);
        let sql = catalog::state_summary_query(&self.state);
        let wait = self.state.wait_timeout;
        let active: Vec<NodeId> = self.state.active_nodes().map(|n| n.id).collect();
        for node in active {
            let label = self
                .state
                .nodes
                .get(&node)
                .map_or_else(|| format!("node {node}"), Node::label);
            self.check(
                format!("Check that the catalog on {label} matches the new state"),
                "Every node must agree with the state slonik-gen writes with --write-config (nodes, set origins, subscriptions); catalog changes replicate as events, so this waits for them",
                node,
                sql.clone(),
                expected.clone(),
                wait,
            );
        }
        Ok(Plan {
            title: self.title,
            cluster: self.state.name.clone(),
            version: self.state.version,
            nodes: self.nodes,
            steps: self.steps,
            next: self.state,
        })
    }
}

fn access(cluster: &Cluster, operation: &'static str, node: &Node) -> Result<NodeAccess, OpError> {
    let conninfo = admin_conninfo(cluster, operation, node, node.label())?;
    Ok(NodeAccess {
        label: node.label(),
        conninfo,
    })
}

/// The node's admin conninfo for the target version; a refusal names the node as
/// `node_label`.
fn admin_conninfo(
    cluster: &Cluster,
    operation: &'static str,
    node: &Node,
    node_label: String,
) -> Result<String, OpError> {
    conninfo_text(&node.admin.params(), ConninfoUse::Admin, cluster.version).map_err(|problems| {
        refuse(
            operation,
            Refusal::AdminConninfo {
                node: node.id,
                node_label,
                problems,
            },
        )
    })
}

/// The file stem of the default slon pid and log files of a node.
fn slon_file_stem(cluster: &Cluster, node: NodeId) -> String {
    format!("slon-{}-node{node}", cluster.name)
}

/// The command that starts a node's slon: the configured `slon_start`, else a plain `slon`
/// in the background with a pid file and a log in the current directory.
pub fn slon_start_command(cluster: &Cluster, node: &Node) -> Result<String, OpError> {
    if let Some(command) = &node.slon_start {
        return Ok(command.clone());
    }
    let conninfo = admin_conninfo(cluster, "slon start", node, node.label())?;
    let stem = slon_file_stem(cluster, node.id);
    Ok(format!(
        "nohup slon -p {} {} {} >>{} 2>&1 &",
        crate::escape::shell::word(&format!("{stem}.pid")),
        crate::escape::shell::word(&cluster.name),
        crate::escape::shell::word(&conninfo),
        crate::escape::shell::word(&format!("{stem}.log")),
    ))
}

/// The command that stops a node's slon: the configured `slon_stop`, else a `kill` of the
/// pid the default start command wrote, waiting until that slon has exited so that
/// nothing holds the node's catalog when the next step changes it.
pub fn slon_stop_command(cluster: &Cluster, node: &Node) -> String {
    if let Some(command) = &node.slon_stop {
        return command.clone();
    }
    let pid_file = crate::escape::shell::word(&format!("{}.pid", slon_file_stem(cluster, node.id)));
    format!(
        "pid=$(cat {pid_file}) && kill \"$pid\" && while kill -0 \"$pid\" 2>/dev/null; do sleep 1; done && rm -f {pid_file}"
    )
}

/// The text ending in a full stop.
fn sentence(mut text: String) -> String {
    if !text.ends_with(['.', '!', '?']) {
        text.push('.');
    }
    text
}

/// `1, 2 and 3`
fn and_list<T: fmt::Display>(items: &[T]) -> String {
    match items {
        [] => String::new(),
        [one] => one.to_string(),
        [init @ .., last] => format!(
            "{} and {last}",
            init.iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}
