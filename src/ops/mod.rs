//! Operations, one per altperl tool. Each takes the cluster and typed arguments (ids
//! the cluster has) and returns a [`Change`]: the script and the cluster's state once the
//! script has run, computed by [`crate::transition`]. Command-line words (`2`, `node2`,
//! `set1`, a set name) become ids in one place, [`crate::resolve`].

mod nodes;
mod paths;
mod refusal;
mod sets;
mod subscriptions;
pub mod table;

pub(crate) use nodes::paths_both_ways;
pub use nodes::{
    drop_node, drop_nodes, init_cluster, print_preamble, restart_nodes, store_node, sync, uninstall_node,
    uninstall_nodes, update_nodes, wait,
};
pub use paths::{drop_path, store_path};
pub use refusal::Refusal;
pub(crate) use sets::live_origin;
pub use sets::{
    create_set, drop_sequence, drop_set, drop_table, execute_script, execute_script_only_on, merge_sets,
    move_sequence, move_table, repair_config, Ddl,
};
pub use subscriptions::{
    failover, move_set, resubscribe, subscribe_set, subscribe_set_omit_copy, subscribe_set_via,
    unsubscribe_set,
};
pub(crate) use subscriptions::{repoint, subscribe_set_omit_copy_via};

use crate::model::{Cluster, Node, NodeId, SequenceId, Set, SetId, TableId};
use crate::render::Script;
use crate::statement::{Echo, Exit, NodeOrAll, RenderError, Statement, Sync, TryBlock, WaitForEvent};
use crate::transition::Inconsistency;

/// What an operation produces.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    /// The slonik script to run.
    pub script: Script,
    /// The cluster as it is once the script has succeeded (set origins, subscriptions,
    /// dropped and failed nodes). Equal to the input for operations that change nothing.
    pub next: Cluster,
}

impl Change {
    /// Streams the script into `out`, byte for byte what [`Script::write_to`] writes, in one
    /// lowering pass instead of two: the operation already checked every line when it built
    /// the `Change`. If you edit `script` afterwards, use [`Script::write_to`], which checks
    /// again before it writes anything.
    pub fn write_to(&self, out: &mut impl std::io::Write) -> Result<(), crate::render::WriteError> {
        self.script.write_checked_to(out)
    }
}

/// Why an operation cannot be generated for this cluster and these arguments.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum OpError {
    /// A node argument (or id) that names no node of the config.
    #[error("no node `{arg}` in the config (nodes: {known}); give a node id such as `2` or `node2`")]
    UnknownNode {
        /// As given.
        arg: String,
        /// The ids that exist.
        known: String,
    },
    /// A set argument (or id) that names no set of the config.
    #[error("no set `{arg}` in the config (sets: {known}); give a set name, an id such as `1`, or `set1`")]
    UnknownSet {
        /// As given.
        arg: String,
        /// The sets that exist.
        known: String,
    },
    /// The operation or runbook is refused: why, and what to do instead, as data
    /// ([`OpError::refusal`] gives it without the box).
    #[error("{operation}: {refusal}")]
    Refusal {
        /// The operation (`drop-node`, ...).
        operation: &'static str,
        /// Why, and what to do. Boxed: some refusals carry several names, and every
        /// `Result` of the crate would otherwise carry their size.
        refusal: Box<Refusal>,
    },
    /// The cluster refers to something it does not have (possible only for a [`Cluster`]
    /// built or edited through its public fields, never for one [`crate::validate`] built).
    #[error("{operation}: the cluster is inconsistent: {problem}")]
    Inconsistent {
        /// The operation.
        operation: &'static str,
        /// What is missing.
        problem: Inconsistency,
    },
    /// A statement could not be rendered for the target version.
    #[error("{operation}: {error}")]
    Render {
        /// The operation.
        operation: &'static str,
        /// Why (part of the message, so not a `source` the CLI would print again).
        error: RenderError,
    },
}

impl OpError {
    /// The refusal, when this error is one.
    pub fn refusal(&self) -> Option<&Refusal> {
        match self {
            OpError::Refusal { refusal, .. } => Some(refusal),
            _ => None,
        }
    }
}

pub(crate) fn refuse(operation: &'static str, refusal: Refusal) -> OpError {
    OpError::Refusal {
        operation,
        refusal: Box::new(refusal),
    }
}

/// An inconsistency found by a transition, reported for `operation`.
pub(crate) fn inconsistent(operation: &'static str) -> impl FnOnce(Inconsistency) -> OpError {
    move |problem| OpError::Inconsistent { operation, problem }
}

/// The node `id`, which the caller named: unknown is the caller's mistake.
pub(crate) fn known_node(cluster: &Cluster, id: NodeId) -> Result<&Node, OpError> {
    cluster
        .nodes
        .get(&id)
        .ok_or_else(|| crate::resolve::unknown_node(cluster, &id.to_string()))
}

/// The node `id`, which the caller named, and which must still be in the cluster (not failed).
pub(crate) fn active_node<'a>(
    cluster: &'a Cluster,
    operation: &'static str,
    id: NodeId,
) -> Result<&'a Node, OpError> {
    let node = known_node(cluster, id)?;
    if node.failed {
        return Err(refuse(operation, Refusal::NodeFailed { node: id }));
    }
    Ok(node)
}

/// The set `id`, which the caller named.
pub(crate) fn known_set(cluster: &Cluster, id: SetId) -> Result<&Set, OpError> {
    cluster
        .sets
        .get(&id)
        .ok_or_else(|| crate::resolve::unknown_set(cluster, &id.to_string()))
}

/// A node the cluster itself refers to (a set's origin, a provider): missing means the
/// cluster is inconsistent.
pub(crate) fn referenced_node<'a>(
    cluster: &'a Cluster,
    operation: &'static str,
    id: NodeId,
    role: impl FnOnce() -> String,
) -> Result<&'a Node, OpError> {
    cluster.nodes.get(&id).ok_or_else(|| OpError::Inconsistent {
        operation,
        problem: Inconsistency::MissingNode {
            node: id,
            role: role(),
        },
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
    .map_err(|error| OpError::Render { operation, error })
}

/// Checks that the whole script renders for the target version, so an operation never
/// hands out a script that fails later.
pub(crate) fn finish(operation: &'static str, script: Script, next: Cluster) -> Result<Change, OpError> {
    script
        .check()
        .map_err(|error| OpError::Render { operation, error })?;
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
        on_error: vec![echo(message), Exit { code: 1 }.into()],
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
    Echo::new(fit_literal(text)).into()
}

/// Text the generator writes itself (messages, default comments), cut and ended with `...`
/// when it would not fit in one literal: names up to the limit are valid in the config, and
/// a message quoting several of them must not make the whole operation fail.
pub(crate) fn fit_literal(text: String) -> String {
    // The cut, its length rules and the limit live in the literal module.
    crate::literal::fit_every_version(text)
}

/// One operation with its typed arguments, as data: what [`crate::resolve::OperationArgs`]
/// makes of the command line and the altperl drop-in, run by [`Operation::run`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Operation {
    /// [`print_preamble`]
    PrintPreamble,
    /// [`init_cluster`]
    InitCluster,
    /// [`store_node`]
    StoreNode {
        /// NODE
        node: NodeId,
        /// EVENT_NODE
        event_node: Option<NodeId>,
    },
    /// [`drop_node`]
    DropNode {
        /// NODE
        node: NodeId,
        /// EVENT_NODE
        event_node: NodeId,
    },
    /// [`drop_nodes`]: several nodes at once.
    DropNodes {
        /// NODE...
        nodes: Vec<NodeId>,
        /// --event-node
        event_node: NodeId,
    },
    /// [`uninstall_nodes`]
    UninstallNodes,
    /// [`uninstall_node`]
    UninstallNode {
        /// NODE (marked failed)
        node: NodeId,
    },
    /// [`restart_nodes`]; an empty list means every node.
    RestartNodes {
        /// NODE...
        nodes: Vec<NodeId>,
    },
    /// [`update_nodes`]
    UpdateNodes,
    /// [`create_set`]
    CreateSet {
        /// SET
        set: SetId,
    },
    /// [`drop_set`]
    DropSet {
        /// SET
        set: SetId,
    },
    /// [`merge_sets`]
    MergeSets {
        /// NODE
        node: NodeId,
        /// TARGET
        target: SetId,
        /// SOURCE
        source: SetId,
    },
    /// [`subscribe_set`], or [`subscribe_set_omit_copy`] with `omit_copy`.
    SubscribeSet {
        /// SET
        set: SetId,
        /// NODE
        node: NodeId,
        /// --omit-copy (2.0 and later)
        omit_copy: bool,
    },
    /// [`resubscribe`]
    Resubscribe {
        /// NODE
        node: NodeId,
        /// --provider
        provider: NodeId,
        /// --set (empty: every set NODE receives)
        sets: Vec<SetId>,
    },
    /// [`unsubscribe_set`]
    UnsubscribeSet {
        /// SET
        set: SetId,
        /// NODE
        node: NodeId,
    },
    /// [`move_set`]
    MoveSet {
        /// SET
        set: SetId,
        /// FROM
        from: NodeId,
        /// TO
        to: NodeId,
    },
    /// [`failover`]
    Failover {
        /// (DEAD, BACKUP) pairs.
        pairs: Vec<(NodeId, NodeId)>,
    },
    /// [`execute_script`]
    ExecuteScript {
        /// SET
        set: SetId,
        /// FILE or SQL
        ddl: Ddl,
        /// --node
        node: Option<NodeId>,
        /// --only-on (empty: every node)
        only_on: Vec<NodeId>,
    },
    /// [`drop_table`]
    DropTable {
        /// TABLE_ID
        table_id: TableId,
        /// SET
        set: SetId,
    },
    /// [`drop_sequence`]
    DropSequence {
        /// SEQ_ID
        sequence_id: SequenceId,
        /// SET
        set: SetId,
    },
    /// [`move_table`]
    MoveTable {
        /// TABLE_ID
        table_id: TableId,
        /// SET it is in
        set: SetId,
        /// NEW_SET
        new_set: SetId,
    },
    /// [`move_sequence`]
    MoveSequence {
        /// SEQ_ID
        sequence_id: SequenceId,
        /// SET it is in
        set: SetId,
        /// NEW_SET
        new_set: SetId,
    },
    /// [`store_path`]
    StorePath {
        /// SERVER
        server: NodeId,
        /// CLIENT
        client: NodeId,
    },
    /// [`drop_path`]
    DropPath {
        /// SERVER
        server: NodeId,
        /// CLIENT
        client: NodeId,
    },
    /// [`sync`]
    Sync {
        /// NODE
        node: NodeId,
    },
    /// [`wait`]
    Wait {
        /// ORIGIN
        origin: NodeId,
        /// --confirmed (default: every node)
        confirmed: Option<NodeId>,
    },
    /// [`repair_config`]
    RepairConfig {
        /// SET
        set: SetId,
        /// --event-node (default: the set's origin)
        event_node: Option<NodeId>,
        /// --only-on (default: every node that has the set)
        only_on: Option<NodeId>,
    },
}

impl Operation {
    /// The command's name (`subscribe-set`): its row in [`table::OPERATIONS`].
    pub fn name(&self) -> &'static str {
        match self {
            Operation::PrintPreamble => "print-preamble",
            Operation::InitCluster => "init-cluster",
            Operation::StoreNode { .. } => "store-node",
            Operation::DropNode { .. } | Operation::DropNodes { .. } => "drop-node",
            Operation::UninstallNodes => "uninstall-nodes",
            Operation::UninstallNode { .. } => "uninstall-node",
            Operation::RestartNodes { .. } => "restart-node",
            Operation::UpdateNodes => "update-nodes",
            Operation::CreateSet { .. } => "create-set",
            Operation::DropSet { .. } => "drop-set",
            Operation::MergeSets { .. } => "merge-sets",
            Operation::SubscribeSet { .. } => "subscribe-set",
            Operation::Resubscribe { .. } => "resubscribe",
            Operation::UnsubscribeSet { .. } => "unsubscribe-set",
            Operation::MoveSet { .. } => "move-set",
            Operation::Failover { .. } => "failover",
            Operation::ExecuteScript { .. } => "execute-script",
            Operation::DropTable { .. } => "drop-table",
            Operation::DropSequence { .. } => "drop-sequence",
            Operation::MoveTable { .. } => "move-table",
            Operation::MoveSequence { .. } => "move-sequence",
            Operation::StorePath { .. } => "store-path",
            Operation::DropPath { .. } => "drop-path",
            Operation::Sync { .. } => "sync",
            Operation::Wait { .. } => "wait",
            Operation::RepairConfig { .. } => "repair-config",
        }
    }

    /// Runs the operation on `cluster`.
    pub fn run(&self, cluster: &Cluster) -> Result<Change, OpError> {
        match self {
            Operation::PrintPreamble => print_preamble(cluster),
            Operation::InitCluster => init_cluster(cluster),
            Operation::StoreNode { node, event_node } => store_node(cluster, *node, *event_node),
            Operation::DropNode { node, event_node } => drop_node(cluster, *node, *event_node),
            Operation::DropNodes { nodes, event_node } => drop_nodes(cluster, nodes, *event_node),
            Operation::UninstallNodes => uninstall_nodes(cluster),
            Operation::UninstallNode { node } => uninstall_node(cluster, *node),
            Operation::RestartNodes { nodes } => restart_nodes(cluster, nodes),
            Operation::UpdateNodes => update_nodes(cluster),
            Operation::CreateSet { set } => create_set(cluster, *set),
            Operation::DropSet { set } => drop_set(cluster, *set),
            Operation::MergeSets { node, target, source } => merge_sets(cluster, *node, *target, *source),
            Operation::SubscribeSet {
                set,
                node,
                omit_copy: false,
            } => subscribe_set(cluster, *set, *node),
            Operation::SubscribeSet {
                set,
                node,
                omit_copy: true,
            } => subscribe_set_omit_copy(cluster, *set, *node),
            Operation::Resubscribe { node, provider, sets } => resubscribe(cluster, *node, *provider, sets),
            Operation::UnsubscribeSet { set, node } => unsubscribe_set(cluster, *set, *node),
            Operation::MoveSet { set, from, to } => move_set(cluster, *set, *from, *to),
            Operation::Failover { pairs } => failover(cluster, pairs),
            Operation::ExecuteScript {
                set,
                ddl,
                node,
                only_on,
            } => execute_script_only_on(cluster, *set, ddl, *node, only_on),
            Operation::DropTable { table_id, set } => drop_table(cluster, *table_id, *set),
            Operation::DropSequence { sequence_id, set } => drop_sequence(cluster, *sequence_id, *set),
            Operation::MoveTable {
                table_id,
                set,
                new_set,
            } => move_table(cluster, *table_id, *set, *new_set),
            Operation::MoveSequence {
                sequence_id,
                set,
                new_set,
            } => move_sequence(cluster, *sequence_id, *set, *new_set),
            Operation::StorePath { server, client } => store_path(cluster, *server, *client),
            Operation::DropPath { server, client } => drop_path(cluster, *server, *client),
            Operation::Sync { node } => sync(cluster, *node),
            Operation::Wait { origin, confirmed } => wait(cluster, *origin, *confirmed),
            Operation::RepairConfig {
                set,
                event_node,
                only_on,
            } => repair_config(cluster, *set, *event_node, *only_on),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::version::SlonyVersion;

    // Found by tests/random_offline.rs: node and set names up to the literal limit are
    // valid, but every operation whose messages quote them failed to render.
    #[test]
    fn names_at_the_literal_limit_do_not_make_operations_fail() {
        let long = |c: &str| c.repeat(480) + "'";
        let mut toml = format!(
            "cluster = \"c\"\n[[node]]\nid = 1\nname = \"{}\"\n[[node]]\nid = 2\nname = \"{}\"\n",
            long("n"),
            long("m")
        );
        for id in 1..=3 {
            toml.push_str(&format!(
                "[[set]]\nid = {id}\nname = \"{}{id}\"\ntables = [\"t{id}\"]\nsequences = [\"s{id}\"]\n\
                 [[subscription]]\nset = {id}\nreceiver = 2\n",
                long("s")
            ));
        }
        let cluster = crate::load_config_str(&toml, "long.toml").unwrap();
        let (n1, n2, s1, s2) = (NodeId(1), NodeId(2), SetId(1), SetId(2));
        let ops = [
            Operation::InitCluster,
            Operation::StoreNode {
                node: n2,
                event_node: None,
            },
            Operation::CreateSet { set: s1 },
            Operation::DropSet { set: s1 },
            Operation::MergeSets {
                node: n1,
                target: s1,
                source: s2,
            },
            Operation::SubscribeSet {
                set: s1,
                node: n2,
                omit_copy: false,
            },
            Operation::UnsubscribeSet { set: s1, node: n2 },
            Operation::MoveSet {
                set: s1,
                from: n1,
                to: n2,
            },
            Operation::Failover {
                pairs: vec![(n1, n2)],
            },
            Operation::ExecuteScript {
                set: s1,
                ddl: Ddl::Sql("select 1;".into()),
                node: None,
                only_on: Vec::new(),
            },
            Operation::DropTable {
                table_id: TableId(1),
                set: s1,
            },
            Operation::DropSequence {
                sequence_id: SequenceId(1),
                set: s1,
            },
        ];
        for op in ops {
            let change = op.run(&cluster).unwrap_or_else(|e| panic!("{op:?}: {e}"));
            let text = change.script.render().unwrap_or_else(|e| panic!("{op:?}: {e}"));
            assert!(
                text.contains("...';"),
                "{op:?}: no message was shortened:\n{text}"
            );
        }
    }

    /// Node 1 is the origin of set 1; node 2 subscribes from it and forwards; node 3
    /// cascades from node 2.
    fn cascade(version: SlonyVersion) -> Cluster {
        let toml = "cluster = \"c\"\n\
            [[node]]\nid = 1\n[[node]]\nid = 2\nforward = true\n[[node]]\nid = 3\nprovider = 2\n\
            [[set]]\nid = 1\nname = \"s\"\ntables = [\"t\"]\n\
            [[subscription]]\nset = 1\nreceiver = 2\nforward = true\n";
        crate::load_config_str_for(toml, "cascade.toml", Some(version)).unwrap()
    }

    // Regression: before 2.2, `execute script` with an event node other than the set's
    // origin rendered, and failed on the cluster ("set 1 does not originate on local node").
    #[test]
    fn execute_script_before_2_2_runs_only_on_the_origin() {
        let ddl = Ddl::File("tests/inputs/ddl.sql".into());
        for version in SlonyVersion::ALL {
            let cluster = cascade(version);
            let result = execute_script(&cluster, SetId(1), &ddl, Some(NodeId(2)));
            if version >= SlonyVersion::V2_2 {
                let text = result.unwrap().script.render().unwrap();
                assert!(text.contains("event node = 2"), "{version}:\n{text}");
            } else {
                let error = result.unwrap_err().to_string();
                assert!(
                    error.contains("set 1 (s) originates on node 1, not node 2")
                        && error.contains("--node 1"),
                    "{version}: {error}"
                );
                let text = execute_script(&cluster, SetId(1), &ddl, Some(NodeId(1)))
                    .unwrap()
                    .script
                    .render()
                    .unwrap();
                assert!(text.contains("event node = 1"), "{version}:\n{text}");
            }
        }
    }

    // Regression: on 1.2 `subscribe set` goes to the provider and the origin enables the
    // subscription only once it has that event, so the origin's sync/wait could return
    // before the subscription existed and the script said "subscribed and caught up".
    #[test]
    fn subscribe_on_1_2_waits_until_the_origin_has_the_providers_event() {
        let wait = "wait for event (origin = 2, confirmed = 1, wait on = 2, timeout = 600);";
        for version in SlonyVersion::ALL {
            let text = subscribe_set(&cascade(version), SetId(1), NodeId(3))
                .unwrap()
                .script
                .render()
                .unwrap();
            if version == SlonyVersion::V1_2 {
                let subscribe = text.find("subscribe set (").unwrap();
                let waited = text.find(wait).unwrap_or_else(|| panic!("{text}"));
                let sync = text.rfind("sync (id = 1);").unwrap();
                assert!(subscribe < waited && waited < sync, "{text}");
            } else {
                assert!(!text.contains(wait), "{version}:\n{text}");
            }
        }
        // From the origin itself there is nothing to wait for: the event is on the origin.
        let text = subscribe_set(&cascade(SlonyVersion::V1_2), SetId(1), NodeId(2))
            .unwrap()
            .script
            .render()
            .unwrap();
        assert!(!text.contains("confirmed = 1, wait on = 2"), "{text}");
    }

    #[test]
    fn fit_literal_counts_doubled_quotes_and_keeps_characters_whole() {
        assert_eq!(fit_literal("short 'enough'".into()), "short 'enough'");
        let quotes = fit_literal("'".repeat(300));
        assert_eq!(quotes, format!("{}...", "'".repeat(254)));
        let wide = fit_literal("é".repeat(300));
        assert!(wide.ends_with("é..."), "{wide}");
        let max = SlonyVersion::V2_2.max_literal_bytes();
        assert!(max.is_some_and(|max| wide.len() <= max));
    }
}
