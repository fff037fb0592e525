//! Operations, one per altperl tool. Each takes the cluster and altperl's arguments
//! (a node as `2` or `node2`; a set by name, by id, or as `set1`) and returns a [`Change`]:
//! the script and the cluster's state once the script has run.

mod nodes;
mod sets;
mod subscriptions;

pub use nodes::{
    drop_node, init_cluster, print_preamble, restart_nodes, store_node, uninstall_nodes, update_nodes,
};
pub use sets::{create_set, drop_sequence, drop_set, drop_table, execute_script, merge_sets, Ddl};
pub use subscriptions::{failover, move_set, subscribe_set, unsubscribe_set};

use crate::model::{Cluster, NodeId, SetId};
use crate::render::Script;
use crate::statement::{Echo, Exit, NodeOrAll, RenderError, Statement, Sync, TryBlock, WaitForEvent};

/// What an operation produces.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    /// The slonik script to run.
    pub script: Script,
    /// The cluster as it is once the script has succeeded (set origins, subscriptions,
    /// dropped and failed nodes). Equal to the input for operations that change nothing.
    pub next: Cluster,
}

/// Why an operation cannot be generated for this cluster and these arguments.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum OpError {
    /// A node argument that names no node of the config.
    #[error("no node `{arg}` in the config (nodes: {known}); give a node id such as `2` or `node2`")]
    UnknownNode {
        /// As given.
        arg: String,
        /// The ids that exist.
        known: String,
    },
    /// A set argument that names no set of the config.
    #[error("no set `{arg}` in the config (sets: {known}); give a set name, an id such as `1`, or `set1`")]
    UnknownSet {
        /// As given.
        arg: String,
        /// The sets that exist.
        known: String,
    },
    /// The operation is refused, with the reason and what to do instead.
    #[error("{operation}: {reason}")]
    Refused {
        /// The operation (`drop-node`, ...).
        operation: &'static str,
        /// Why, and what to do.
        reason: String,
    },
    /// A statement could not be rendered for the target version.
    #[error("{operation}: {source}")]
    Render {
        /// The operation.
        operation: &'static str,
        /// Why.
        source: RenderError,
    },
}

pub(crate) fn refuse(operation: &'static str, reason: impl Into<String>) -> OpError {
    OpError::Refused {
        operation,
        reason: reason.into(),
    }
}

/// Resolves a node argument (`2` or `node2`) to a node of the cluster.
pub fn resolve_node(cluster: &Cluster, arg: &str) -> Result<NodeId, OpError> {
    cluster.node_arg(arg.trim()).ok_or_else(|| OpError::UnknownNode {
        arg: arg.to_string(),
        known: cluster
            .nodes
            .keys()
            .map(|n| n.to_string())
            .collect::<Vec<_>>()
            .join(", "),
    })
}

/// Resolves a node argument and insists the node is still in the cluster (not failed).
pub(crate) fn resolve_active(
    cluster: &Cluster,
    operation: &'static str,
    arg: &str,
) -> Result<NodeId, OpError> {
    let id = resolve_node(cluster, arg)?;
    if cluster.nodes[&id].failed {
        return Err(refuse(
            operation,
            format!("node {id} is marked failed (after a failover): drop it with drop-node, then rebuild it"),
        ));
    }
    Ok(id)
}

/// Resolves a set argument (name, `1` or `set1`).
pub fn resolve_set(cluster: &Cluster, arg: &str) -> Result<SetId, OpError> {
    cluster.set_arg(arg.trim()).ok_or_else(|| OpError::UnknownSet {
        arg: arg.to_string(),
        known: cluster
            .sets
            .values()
            .map(|s| format!("{} = {}", s.name, s.id))
            .collect::<Vec<_>>()
            .join(", "),
    })
}

/// A script whose header lists every node still in the cluster, except `leave_out`.
pub(crate) fn script_for(
    cluster: &Cluster,
    operation: &'static str,
    leave_out: &[NodeId],
) -> Result<Script, OpError> {
    Script::new(
        cluster,
        cluster
            .active_nodes()
            .map(|n| n.id)
            .filter(|id| !leave_out.contains(id)),
    )
    .map_err(|source| OpError::Render { operation, source })
}

/// Checks that the whole script renders for the target version, so an operation never
/// hands out a script that fails later.
pub(crate) fn finish(operation: &'static str, script: Script, next: Cluster) -> Result<Change, OpError> {
    script
        .lower()
        .map_err(|source| OpError::Render { operation, source })?;
    Ok(Change { script, next })
}

/// `sync (id = N); wait for event (origin = N, confirmed = C, wait on = N, timeout = T);`
pub(crate) fn sync_and_wait(cluster: &Cluster, origin: NodeId, confirmed: NodeOrAll) -> [Statement; 2] {
    [
        Sync { id: origin }.into(),
        WaitForEvent {
            origin: NodeOrAll::Node(origin),
            confirmed,
            wait_on: origin,
            timeout: Some(cluster.wait_timeout),
        }
        .into(),
    ]
}

/// `try { body } on error { echo 'message'; exit 1; }`
pub(crate) fn try_or_exit(body: Vec<Statement>, message: String) -> Statement {
    TryBlock {
        body,
        on_error: vec![Echo::new(message).into(), Exit { code: 1 }.into()],
        on_success: Vec::new(),
    }
    .into()
}

/// `echo '...'`, starting with a capital letter whatever label it starts with.
pub(crate) fn echo(text: impl Into<String>) -> Statement {
    let text = text.into();
    let mut chars = text.chars();
    let text = match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => text,
    };
    Echo::new(text).into()
}

/// One operation with its arguments, as data: what the command line, the altperl drop-in
/// and other tools hand to [`Operation::run`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Operation {
    /// [`print_preamble`]
    PrintPreamble,
    /// [`init_cluster`]
    InitCluster,
    /// [`store_node`]
    StoreNode {
        /// NODE
        node: String,
        /// EVENT_NODE
        event_node: Option<String>,
    },
    /// [`drop_node`]
    DropNode {
        /// NODE
        node: String,
        /// EVENT_NODE
        event_node: String,
    },
    /// [`uninstall_nodes`]
    UninstallNodes,
    /// [`restart_nodes`]; an empty list means every node.
    RestartNodes {
        /// NODE...
        nodes: Vec<String>,
    },
    /// [`update_nodes`]
    UpdateNodes,
    /// [`create_set`]
    CreateSet {
        /// SET
        set: String,
    },
    /// [`drop_set`]
    DropSet {
        /// SET
        set: String,
    },
    /// [`merge_sets`]
    MergeSets {
        /// NODE
        node: String,
        /// TARGET
        target: String,
        /// SOURCE
        source: String,
    },
    /// [`subscribe_set`]
    SubscribeSet {
        /// SET
        set: String,
        /// NODE
        node: String,
    },
    /// [`unsubscribe_set`]
    UnsubscribeSet {
        /// SET
        set: String,
        /// NODE
        node: String,
    },
    /// [`move_set`]
    MoveSet {
        /// SET
        set: String,
        /// FROM
        from: String,
        /// TO
        to: String,
    },
    /// [`failover`]
    Failover {
        /// (DEAD, BACKUP) pairs.
        pairs: Vec<(String, String)>,
    },
    /// [`execute_script`]
    ExecuteScript {
        /// SET
        set: String,
        /// FILE or SQL
        ddl: Ddl,
        /// --node
        node: Option<String>,
    },
    /// [`drop_table`]
    DropTable {
        /// TABLE_ID
        table_id: String,
        /// SET
        set: String,
    },
    /// [`drop_sequence`]
    DropSequence {
        /// SEQ_ID
        sequence_id: String,
        /// SET
        set: String,
    },
}

impl Operation {
    /// Runs the operation on `cluster`.
    pub fn run(&self, cluster: &Cluster) -> Result<Change, OpError> {
        match self {
            Operation::PrintPreamble => print_preamble(cluster),
            Operation::InitCluster => init_cluster(cluster),
            Operation::StoreNode { node, event_node } => store_node(cluster, node, event_node.as_deref()),
            Operation::DropNode { node, event_node } => drop_node(cluster, node, event_node),
            Operation::UninstallNodes => uninstall_nodes(cluster),
            Operation::RestartNodes { nodes } => {
                restart_nodes(cluster, &nodes.iter().map(String::as_str).collect::<Vec<_>>())
            }
            Operation::UpdateNodes => update_nodes(cluster),
            Operation::CreateSet { set } => create_set(cluster, set),
            Operation::DropSet { set } => drop_set(cluster, set),
            Operation::MergeSets { node, target, source } => merge_sets(cluster, node, target, source),
            Operation::SubscribeSet { set, node } => subscribe_set(cluster, set, node),
            Operation::UnsubscribeSet { set, node } => unsubscribe_set(cluster, set, node),
            Operation::MoveSet { set, from, to } => move_set(cluster, set, from, to),
            Operation::Failover { pairs } => failover(
                cluster,
                &pairs
                    .iter()
                    .map(|(d, b)| (d.as_str(), b.as_str()))
                    .collect::<Vec<_>>(),
            ),
            Operation::ExecuteScript { set, ddl, node } => execute_script(cluster, set, ddl, node.as_deref()),
            Operation::DropTable { table_id, set } => drop_table(cluster, table_id, set),
            Operation::DropSequence { sequence_id, set } => drop_sequence(cluster, sequence_id, set),
        }
    }
}
