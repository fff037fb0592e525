//! The plan types: a [`Plan`] of [`Step`]s, what each step does ([`Action`]), when it runs
//! ([`Probe`]) and what undoes it ([`Recovery`]), and the [`Format`]s it renders to.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use serde::ser::{SerializeStruct, Serializer};
use serde::Serialize;

use super::{markdown, shell};
use crate::model::{Cluster, NodeId};
use crate::ops::OpError;
use crate::render::Script;
use crate::version::SlonyVersion;

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
#[non_exhaustive]
pub enum Format {
    /// A numbered runbook for a person, every script inline.
    #[default]
    Markdown,
    /// One bash script that runs the whole plan and stops at the first failure.
    Shell,
    /// The plan as JSON, for other tools (feature `json`).
    #[cfg(feature = "json")]
    Json,
}

impl Format {
    /// Every format, as written on the command line.
    #[cfg(feature = "json")]
    pub const NAMES: &'static [&'static str] = &["md", "sh", "json"];
    /// Every format, as written on the command line.
    #[cfg(not(feature = "json"))]
    pub const NAMES: &'static [&'static str] = &["md", "sh"];
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
            #[cfg(feature = "json")]
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
            #[cfg(feature = "json")]
            Format::Json => "json",
        })
    }
}

/// Why a plan cannot be rendered. A plan that [`crate::runbook`] built always renders;
/// these come from a [`Plan`] built or edited through its public fields.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PlanError {
    /// A step names what the plan does not have, or an action a renderer cannot write.
    #[error(transparent)]
    Operation(#[from] OpError),
    /// A slonik script of a step cannot be rendered for the target version.
    #[error(transparent)]
    Script(#[from] crate::statement::RenderError),
    /// The JSON form could not be written.
    #[cfg(feature = "json")]
    #[error("cannot write the plan as JSON")]
    Json(#[source] serde_json::Error),
}

impl Plan {
    /// The plan as text in `format`, ending in exactly one newline.
    pub fn render(&self, format: Format) -> Result<String, PlanError> {
        match format {
            Format::Markdown => markdown::render(self),
            Format::Shell => shell::render(self),
            #[cfg(feature = "json")]
            Format::Json => {
                let mut text = serde_json::to_string_pretty(self).map_err(PlanError::Json)?;
                text.push('\n');
                Ok(text)
            }
        }
    }
}
