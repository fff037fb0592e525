//! [`Request`]: a runbook with its arguments as the command line gives them, resolved
//! against the cluster into the typed runbook functions.

use super::{add_tables, failback, failover, rebuild_node, switchover, Plan, Prepare};
use crate::model::{Cluster, NodeId, SetId};
use crate::ops::{refuse, OpError, Refusal};
use crate::resolve;

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
    let node = resolve::node(cluster, node)
        .or_else(|unknown| super::rebuild::dropped_node_word(cluster, node).ok_or(unknown))?;
    let sets = sets
        .iter()
        .map(|s| resolve::set(cluster, s))
        .collect::<Result<_, _>>()?;
    Ok((node, sets))
}
