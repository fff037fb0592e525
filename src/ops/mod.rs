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
pub(crate) use subscriptions::provider_event_reaches_origin;
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

impl Change {
    /// Streams the script into `out`, byte for byte what [`Script::write_to`] writes, in one
    /// lowering pass instead of two: the operation already checked every line when it built
    /// the `Change`. If you edit `script` afterwards, use [`Script::write_to`], which checks
    /// again before it writes anything.
    pub fn write_to(&self, out: &mut impl std::io::Write) -> Result<(), crate::Error> {
        self.script.write_checked_to(out)
    }
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
    #[error("{operation}: {error}")]
    Render {
        /// The operation.
        operation: &'static str,
        /// Why (part of the message, so not a `source` the CLI would print again).
        error: RenderError,
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
        let ops = [
            Operation::InitCluster,
            Operation::StoreNode {
                node: "2".into(),
                event_node: None,
            },
            Operation::CreateSet { set: "1".into() },
            Operation::DropSet { set: "1".into() },
            Operation::MergeSets {
                node: "1".into(),
                target: "1".into(),
                source: "2".into(),
            },
            Operation::SubscribeSet {
                set: "1".into(),
                node: "2".into(),
            },
            Operation::UnsubscribeSet {
                set: "1".into(),
                node: "2".into(),
            },
            Operation::MoveSet {
                set: "1".into(),
                from: "1".into(),
                to: "2".into(),
            },
            Operation::Failover {
                pairs: vec![("1".into(), "2".into())],
            },
            Operation::ExecuteScript {
                set: "1".into(),
                ddl: Ddl::Sql("select 1;".into()),
                node: None,
            },
            Operation::DropTable {
                table_id: "1".into(),
                set: "1".into(),
            },
            Operation::DropSequence {
                sequence_id: "1".into(),
                set: "1".into(),
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
            let result = execute_script(&cluster, "s", &ddl, Some("2"));
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
                let text = execute_script(&cluster, "s", &ddl, Some("1"))
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
            let text = subscribe_set(&cascade(version), "s", "3")
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
        let text = subscribe_set(&cascade(SlonyVersion::V1_2), "s", "2")
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
