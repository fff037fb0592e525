//! The one place where command-line words become ids: a node as `2` or `node2`, a set by
//! name, by id or as `set1`, a table or sequence by its number.
//!
//! Front ends (the `slonik-gen` binary, the altperl drop-in, the runbook [`Request`]s, test
//! fixtures) build an [`OperationArgs`] from the words they parsed (the command lines
//! through [`crate::ops::table`], which knows every operation's grammar) and call
//! [`OperationArgs::resolve`]; everything past this module ([`crate::ops`],
//! [`crate::runbook`], [`crate::transition`]) takes typed ids only.
//!
//! [`Request`]: crate::runbook::Request

use crate::model::{Cluster, NodeId, SequenceId, SetId, TableId};
use crate::ops::{Change, Ddl, OpError, Operation, Refusal};

/// Resolves a node argument (`2` or `node2`, surrounding blanks ignored) to a node of the
/// cluster.
pub fn node(cluster: &Cluster, arg: &str) -> Result<NodeId, OpError> {
    node_word(cluster, arg.trim()).ok_or_else(|| unknown_node(cluster, arg))
}

/// Resolves a set argument (its name, its id, or `set<N>`; surrounding blanks ignored).
pub fn set(cluster: &Cluster, arg: &str) -> Result<SetId, OpError> {
    set_word(cluster, arg.trim()).ok_or_else(|| unknown_set(cluster, arg))
}

/// [`node`], and the node must still be in the cluster (not failed): for arguments the
/// runbooks check before anything else.
pub(crate) fn active_node(cluster: &Cluster, operation: &'static str, arg: &str) -> Result<NodeId, OpError> {
    let id = node(cluster, arg)?;
    if cluster.nodes.get(&id).is_some_and(|n| n.failed) {
        return Err(crate::ops::refuse(operation, Refusal::NodeFailed { node: id }));
    }
    Ok(id)
}

/// A node word the way altperl reads it, `2` or `node2`, if that node exists.
fn node_word(cluster: &Cluster, arg: &str) -> Option<NodeId> {
    let digits = arg.strip_prefix("node").unwrap_or(arg);
    let id = NodeId(digits.parse().ok()?);
    cluster.nodes.contains_key(&id).then_some(id)
}

/// A set word: a set's name first (a set may be called `2`), then its id or `set<N>`, if
/// that set exists.
pub(crate) fn set_word(cluster: &Cluster, arg: &str) -> Option<SetId> {
    if let Some(set) = cluster.sets.values().find(|s| s.name == arg) {
        return Some(set.id);
    }
    let digits = arg.strip_prefix("set").unwrap_or(arg);
    let id = SetId(digits.parse().ok()?);
    cluster.sets.contains_key(&id).then_some(id)
}

/// The error for a node argument (or id) the cluster does not have.
pub(crate) fn unknown_node(cluster: &Cluster, arg: &str) -> OpError {
    OpError::UnknownNode {
        arg: arg.to_string(),
        known: cluster
            .nodes
            .keys()
            .map(|n| n.to_string())
            .collect::<Vec<_>>()
            .join(", "),
    }
}

/// The error for a set argument (or id) the cluster does not have.
pub(crate) fn unknown_set(cluster: &Cluster, arg: &str) -> OpError {
    OpError::UnknownSet {
        arg: arg.to_string(),
        known: cluster
            .sets
            .values()
            .map(|s| format!("{} = {}", s.name, s.id))
            .collect::<Vec<_>>()
            .join(", "),
    }
}

/// A table or sequence id argument: a positive number. Whether the set has it is the
/// operation's question.
fn member_id(operation: &'static str, what: &'static str, arg: &str) -> Result<u32, OpError> {
    arg.trim()
        .parse::<u32>()
        .ok()
        .filter(|id| *id > 0)
        .ok_or_else(|| {
            crate::ops::refuse(
                operation,
                Refusal::NotAMemberId {
                    what,
                    arg: arg.to_string(),
                },
            )
        })
}

/// The sets a switchover moves: `sets` by name or id, or with `from` every set whose origin
/// is that node. Sorted, each once.
pub(crate) fn switchover_sets(
    cluster: &Cluster,
    operation: &'static str,
    sets: &[String],
    from: Option<&str>,
) -> Result<Vec<SetId>, OpError> {
    let refuse = |refusal| crate::ops::refuse(operation, refusal);
    let mut ids = match (sets.is_empty(), from) {
        (false, Some(_)) => return Err(refuse(Refusal::SetsAndFrom)),
        (true, None) => return Err(refuse(Refusal::NoSetsNamed)),
        (true, Some(from)) => {
            let origin = active_node(cluster, operation, from)?;
            let ids: Vec<SetId> = cluster
                .sets
                .values()
                .filter(|s| s.origin == origin)
                .map(|s| s.id)
                .collect();
            if ids.is_empty() {
                return Err(refuse(Refusal::OriginOfNoSet { node: origin }));
            }
            ids
        }
        (false, None) => sets.iter().map(|s| set(cluster, s)).collect::<Result<_, _>>()?,
    };
    ids.sort();
    ids.dedup();
    Ok(ids)
}

/// One operation with its arguments as the user wrote them: what a front end parsed,
/// before [`OperationArgs::resolve`] turns it into an [`Operation`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OperationArgs {
    /// [`crate::ops::print_preamble`]
    PrintPreamble,
    /// [`crate::ops::init_cluster`]
    InitCluster,
    /// [`crate::ops::store_node`]
    StoreNode {
        /// NODE
        node: String,
        /// EVENT_NODE
        event_node: Option<String>,
    },
    /// [`crate::ops::drop_node`]
    DropNode {
        /// NODE
        node: String,
        /// EVENT_NODE
        event_node: String,
    },
    /// [`crate::ops::drop_nodes`]: several nodes at once.
    DropNodes {
        /// NODE...
        nodes: Vec<String>,
        /// --event-node
        event_node: String,
    },
    /// [`crate::ops::uninstall_nodes`]
    UninstallNodes,
    /// [`crate::ops::uninstall_node`]
    UninstallNode {
        /// NODE
        node: String,
    },
    /// [`crate::ops::restart_nodes`]; an empty list means every node.
    RestartNodes {
        /// NODE...
        nodes: Vec<String>,
    },
    /// [`crate::ops::update_nodes`]
    UpdateNodes,
    /// [`crate::ops::create_set`]
    CreateSet {
        /// SET
        set: String,
    },
    /// [`crate::ops::drop_set`]
    DropSet {
        /// SET
        set: String,
    },
    /// [`crate::ops::merge_sets`]
    MergeSets {
        /// NODE
        node: String,
        /// TARGET
        target: String,
        /// SOURCE
        source: String,
    },
    /// [`crate::ops::subscribe_set`], or [`crate::ops::subscribe_set_omit_copy`] with
    /// `omit_copy`.
    SubscribeSet {
        /// SET
        set: String,
        /// NODE
        node: String,
        /// --omit-copy
        omit_copy: bool,
    },
    /// [`crate::ops::resubscribe`]
    Resubscribe {
        /// NODE
        node: String,
        /// --provider
        provider: String,
        /// --set (empty: every set NODE receives)
        sets: Vec<String>,
    },
    /// [`crate::ops::unsubscribe_set`]
    UnsubscribeSet {
        /// SET
        set: String,
        /// NODE
        node: String,
    },
    /// [`crate::ops::move_set`]
    MoveSet {
        /// SET
        set: String,
        /// FROM
        from: String,
        /// TO
        to: String,
    },
    /// [`crate::ops::failover`]
    Failover {
        /// (DEAD, BACKUP) pairs.
        pairs: Vec<(String, String)>,
    },
    /// [`crate::ops::execute_script`]
    ExecuteScript {
        /// SET
        set: String,
        /// FILE or SQL
        ddl: Ddl,
        /// --node
        node: Option<String>,
        /// --only-on (empty: every node)
        only_on: Vec<String>,
    },
    /// [`crate::ops::drop_table`]
    DropTable {
        /// TABLE_ID
        table_id: String,
        /// SET
        set: String,
    },
    /// [`crate::ops::drop_sequence`]
    DropSequence {
        /// SEQ_ID
        sequence_id: String,
        /// SET
        set: String,
    },
    /// [`crate::ops::move_table`]
    MoveTable {
        /// TABLE_ID
        table_id: String,
        /// SET
        set: String,
        /// NEW_SET
        new_set: String,
    },
    /// [`crate::ops::move_sequence`]
    MoveSequence {
        /// SEQ_ID
        sequence_id: String,
        /// SET
        set: String,
        /// NEW_SET
        new_set: String,
    },
    /// [`crate::ops::store_path`]
    StorePath {
        /// SERVER
        server: String,
        /// CLIENT
        client: String,
    },
    /// [`crate::ops::drop_path`]
    DropPath {
        /// SERVER
        server: String,
        /// CLIENT
        client: String,
    },
    /// [`crate::ops::sync`]
    Sync {
        /// NODE
        node: String,
    },
    /// [`crate::ops::wait`]
    Wait {
        /// ORIGIN
        origin: String,
        /// --confirmed
        confirmed: Option<String>,
    },
    /// [`crate::ops::repair_config`]
    RepairConfig {
        /// SET
        set: String,
        /// --event-node
        event_node: Option<String>,
        /// --only-on
        only_on: Option<String>,
    },
}

impl OperationArgs {
    /// Resolves every word against `cluster`, in the order the command line gives them
    /// (the set of `drop-table` before its table id, as the operation has always
    /// reported them).
    pub fn resolve(&self, cluster: &Cluster) -> Result<Operation, OpError> {
        let node = |arg: &str| node(cluster, arg);
        let set = |arg: &str| set(cluster, arg);
        Ok(match self {
            OperationArgs::PrintPreamble => Operation::PrintPreamble,
            OperationArgs::InitCluster => Operation::InitCluster,
            OperationArgs::StoreNode { node: n, event_node } => Operation::StoreNode {
                node: node(n)?,
                event_node: event_node.as_deref().map(node).transpose()?,
            },
            OperationArgs::DropNode { node: n, event_node } => Operation::DropNode {
                node: node(n)?,
                event_node: node(event_node)?,
            },
            OperationArgs::DropNodes { nodes, event_node } => Operation::DropNodes {
                nodes: nodes.iter().map(|n| node(n)).collect::<Result<_, _>>()?,
                event_node: node(event_node)?,
            },
            OperationArgs::UninstallNodes => Operation::UninstallNodes,
            OperationArgs::UninstallNode { node: n } => Operation::UninstallNode { node: node(n)? },
            OperationArgs::RestartNodes { nodes } => Operation::RestartNodes {
                nodes: nodes.iter().map(|n| node(n)).collect::<Result<_, _>>()?,
            },
            OperationArgs::UpdateNodes => Operation::UpdateNodes,
            OperationArgs::CreateSet { set: s } => Operation::CreateSet { set: set(s)? },
            OperationArgs::DropSet { set: s } => Operation::DropSet { set: set(s)? },
            OperationArgs::MergeSets {
                node: n,
                target,
                source,
            } => Operation::MergeSets {
                node: node(n)?,
                target: set(target)?,
                source: set(source)?,
            },
            OperationArgs::SubscribeSet {
                set: s,
                node: n,
                omit_copy,
            } => Operation::SubscribeSet {
                set: set(s)?,
                node: node(n)?,
                omit_copy: *omit_copy,
            },
            OperationArgs::Resubscribe {
                node: n,
                provider,
                sets,
            } => Operation::Resubscribe {
                node: node(n)?,
                provider: node(provider)?,
                sets: sets.iter().map(|s| set(s)).collect::<Result<_, _>>()?,
            },
            OperationArgs::UnsubscribeSet { set: s, node: n } => Operation::UnsubscribeSet {
                set: set(s)?,
                node: node(n)?,
            },
            OperationArgs::MoveSet { set: s, from, to } => Operation::MoveSet {
                set: set(s)?,
                from: node(from)?,
                to: node(to)?,
            },
            OperationArgs::Failover { pairs } => Operation::Failover {
                pairs: pairs
                    .iter()
                    .map(|(dead, backup)| Ok((node(dead)?, node(backup)?)))
                    .collect::<Result<_, OpError>>()?,
            },
            OperationArgs::ExecuteScript {
                set: s,
                ddl,
                node: n,
                only_on,
            } => Operation::ExecuteScript {
                set: set(s)?,
                ddl: ddl.clone(),
                node: n.as_deref().map(node).transpose()?,
                only_on: only_on.iter().map(|o| node(o)).collect::<Result<_, _>>()?,
            },
            OperationArgs::DropTable { table_id, set: s } => {
                let set = set(s)?;
                Operation::DropTable {
                    table_id: TableId(member_id("drop-table", "table", table_id)?),
                    set,
                }
            }
            OperationArgs::DropSequence { sequence_id, set: s } => {
                let set = set(s)?;
                Operation::DropSequence {
                    sequence_id: SequenceId(member_id("drop-sequence", "sequence", sequence_id)?),
                    set,
                }
            }
            OperationArgs::MoveTable {
                table_id,
                set: s,
                new_set,
            } => {
                let set_id = set(s)?;
                let new_set = set(new_set)?;
                Operation::MoveTable {
                    table_id: TableId(member_id("move-table", "table", table_id)?),
                    set: set_id,
                    new_set,
                }
            }
            OperationArgs::MoveSequence {
                sequence_id,
                set: s,
                new_set,
            } => {
                let set_id = set(s)?;
                let new_set = set(new_set)?;
                Operation::MoveSequence {
                    sequence_id: SequenceId(member_id("move-sequence", "sequence", sequence_id)?),
                    set: set_id,
                    new_set,
                }
            }
            OperationArgs::StorePath { server, client } => Operation::StorePath {
                server: node(server)?,
                client: node(client)?,
            },
            OperationArgs::DropPath { server, client } => Operation::DropPath {
                server: node(server)?,
                client: node(client)?,
            },
            OperationArgs::Sync { node: n } => Operation::Sync { node: node(n)? },
            OperationArgs::Wait { origin, confirmed } => Operation::Wait {
                origin: node(origin)?,
                confirmed: confirmed.as_deref().map(node).transpose()?,
            },
            OperationArgs::RepairConfig {
                set: s,
                event_node,
                only_on,
            } => Operation::RepairConfig {
                set: set(s)?,
                event_node: event_node.as_deref().map(node).transpose()?,
                only_on: only_on.as_deref().map(node).transpose()?,
            },
        })
    }

    /// [`OperationArgs::resolve`], then [`Operation::run`].
    pub fn run(&self, cluster: &Cluster) -> Result<Change, OpError> {
        self.resolve(cluster)?.run(cluster)
    }
}
