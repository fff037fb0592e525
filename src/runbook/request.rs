//! [`Request`]: a runbook with its arguments as the command line gives them, resolved
//! against the cluster into the typed runbook functions.

use super::{
    add_node, add_tables, clone_node, failback, failover, rebuild_node, retire_node, switchover,
    upgrade_postgres, upgrade_slony, NewNode, Plan, Prepare, SchemaSource,
};
use crate::model::{Cluster, NodeId, SetId};
use crate::ops::{refuse, OpError, Refusal};
use crate::resolve;
use crate::version::SlonyVersion;

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
    /// Add a node to the running cluster (see [`add_node`]).
    AddNode {
        /// The node.
        node: NewNodeArgs,
        /// The node it receives from (default: each set's origin).
        provider: Option<String>,
        /// The sets it subscribes to (empty means every set).
        sets: Vec<String>,
        /// Whether its schema is copied or already there.
        schema: SchemaSource,
    },
    /// Retire a node for good (see [`retire_node`]).
    RetireNode {
        /// The node.
        node: String,
        /// The subscriber that takes its sets over, if it is an origin.
        to: Option<String>,
    },
    /// Replace a node by one on a new PostgreSQL server (see [`upgrade_postgres`]).
    UpgradePostgres {
        /// The node being replaced.
        old: String,
        /// The node on the new server.
        node: NewNodeArgs,
        /// Whether its schema is copied or already there.
        schema: SchemaSource,
    },
    /// Add a node as a clone of a subscriber (see [`clone_node`]).
    CloneNode {
        /// The subscriber cloned.
        from: String,
        /// The clone.
        node: NewNodeArgs,
    },
    /// Upgrade Slony-I on every node (see [`upgrade_slony`]).
    UpgradeSlony {
        /// The version to upgrade to.
        to: SlonyVersion,
    },
}

/// A node that a runbook adds, as the command line describes it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct NewNodeArgs {
    /// Its id (`--id`).
    pub id: u32,
    /// Its admin connection, as psql takes it (`--conninfo`).
    pub conninfo: String,
    /// What the slons use to reach it, if different (`--path-conninfo`).
    pub path_conninfo: Option<String>,
    /// Its name (`--name`).
    pub name: Option<String>,
    /// Its comment (`--comment`).
    pub comment: Option<String>,
    /// Whether it forwards (`--no-forward` turns it off).
    pub forward: bool,
}

impl NewNodeArgs {
    fn new_node(&self, provider: Option<NodeId>) -> Result<NewNode, OpError> {
        let mut node =
            NewNode::from_conninfo(NodeId(self.id), &self.conninfo, self.path_conninfo.as_deref())?;
        node.name = self.name.clone();
        node.comment = self.comment.clone();
        node.forward = self.forward;
        node.provider = provider;
        Ok(node)
    }
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
            Request::AddNode {
                node,
                provider,
                sets,
                schema,
            } => {
                const OP: &str = "add-node";
                let provider = provider
                    .as_deref()
                    .map(|p| resolve::active_node(cluster, OP, p))
                    .transpose()?;
                let sets: Vec<SetId> = sets
                    .iter()
                    .map(|s| resolve::set(cluster, s))
                    .collect::<Result<_, _>>()?;
                add_node(cluster, &node.new_node(provider)?, &sets, *schema)
            }
            Request::RetireNode { node, to } => {
                const OP: &str = "retire-node";
                let node = resolve::active_node(cluster, OP, node)?;
                let to = to
                    .as_deref()
                    .map(|t| resolve::active_node(cluster, OP, t))
                    .transpose()?;
                retire_node(cluster, node, to)
            }
            Request::UpgradePostgres { old, node, schema } => {
                let old = resolve::node(cluster, old)?;
                upgrade_postgres(cluster, old, &node.new_node(None)?, *schema)
            }
            Request::CloneNode { from, node } => {
                let from = resolve::active_node(cluster, "clone-node", from)?;
                clone_node(cluster, from, &node.new_node(None)?)
            }
            Request::UpgradeSlony { to } => upgrade_slony(cluster, *to),
        }
    }
}

fn rebuild_args(cluster: &Cluster, node: &str, sets: &[String]) -> Result<(NodeId, Vec<SetId>), OpError> {
    let node = resolve::node(cluster, node)
        .or_else(|unknown| super::rebuild::dropped_node_word(cluster, node).ok_or(unknown))?;
    let sets = sets
        .iter()
        .map(|s| resolve::set(cluster, s))
        .collect::<Result<_, _>>()?;
    Ok((node, sets))
}
