//! Set-level operations: create, drop, merge, execute-script, drop table / sequence.

use super::{
    active_node, echo, finish, inconsistent, known_set, referenced_node, refuse, script_for, sync_and_wait,
    try_or_exit, Change, OpError, Refusal,
};
use std::sync::Arc;

use crate::model::{Cluster, NodeId, SequenceId, Set, SetId, TableId};
use crate::statement::{
    CreateSet, DropSet, ExecuteOnlyOn, ExecuteScript, MergeSet, NodeOrAll, RepairConfig, ScriptSource,
    SetAddRelations, SetDropSequence, SetDropTable, SetMoveSequence, SetMoveTable,
};
use crate::version::SlonyVersion;

/// The origin of `set`, which must be a live node.
pub(crate) fn live_origin(cluster: &Cluster, operation: &'static str, set: &Set) -> Result<NodeId, OpError> {
    let origin = referenced_node(cluster, operation, set.origin, || {
        format!("the origin of set {}", set.id)
    })?;
    if origin.failed {
        return Err(refuse(
            operation,
            Refusal::OriginFailed {
                set: set.id,
                name: set.name.clone(),
                origin: set.origin,
            },
        ));
    }
    Ok(set.origin)
}

/// `repair-config SET [--event-node E] [--only-on N]`: `repair config (set id = S, event
/// node = E[, execute only on = N]);`, which makes each node that has the set (its origin
/// and subscribers; with N, that node only) look up the tables' and sequences' OIDs again
/// by name, after a dump and restore or `pg_upgrade` changed them. The event node defaults
/// to the set's origin. No state change.
pub fn repair_config(
    cluster: &Cluster,
    set: SetId,
    event_node: Option<NodeId>,
    only_on: Option<NodeId>,
) -> Result<Change, OpError> {
    const OP: &str = "repair-config";
    let set_id = set;
    let set = known_set(cluster, set_id)?;
    let event = match event_node {
        Some(node) => active_node(cluster, OP, node)?.id,
        None => live_origin(cluster, OP, set)?,
    };
    let mut where_ = "on every node that has it".to_string();
    if let Some(node) = only_on {
        let label = active_node(cluster, OP, node)?.label();
        if set.origin != node && !cluster.subscriptions.contains_key(&(set_id, node)) {
            return Err(refuse(
                OP,
                Refusal::RepairConfigNoCopy {
                    node,
                    set: set.id,
                    name: set.name.clone(),
                },
            ));
        }
        where_ = format!("on {label}");
    }
    let mut script = script_for(cluster, OP, &[])?;
    script.push(RepairConfig {
        set_id,
        event_node: Some(event),
        execute_only_on: only_on,
    });
    script.push(echo(format!(
        "Table and sequence OIDs of {} looked up again {where_}",
        set.label()
    )));
    finish(OP, script, cluster.clone())
}

fn plural(n: usize, word: &str) -> String {
    format!("{n} {word}{}", if n == 1 { "" } else { "s" })
}

/// `slonik_create_set SET`: create the set on its origin and add its tables and sequences,
/// in config order with stable ids.
///
/// The adds run inside `try { } on error { drop set; exit 1; }`, so a missing table leaves
/// no half-created set behind.
pub fn create_set(cluster: &Cluster, set: SetId) -> Result<Change, OpError> {
    const OP: &str = "create-set";
    let set = known_set(cluster, set)?;
    let origin = live_origin(cluster, OP, set)?;
    if set.tables.is_empty() && set.sequences.is_empty() {
        return Err(refuse(
            OP,
            Refusal::EmptySet {
                set: set.id,
                name: set.name.clone(),
            },
        ));
    }
    let mut script = script_for(cluster, OP, &[])?;
    script.push(CreateSet {
        id: set.id,
        origin,
        comment: Some(set.comment.clone().unwrap_or_else(|| {
            super::fit_literal(format!(
                "Set {} ({}) for cluster {}",
                set.id, set.name, cluster.name
            ))
        })),
    });
    let adds = SetAddRelations {
        set_id: set.id,
        origin,
        tables: Arc::clone(&set.tables),
        sequences: Arc::clone(&set.sequences),
    };
    script.push(crate::statement::TryBlock {
        body: vec![adds.into()],
        on_error: vec![
            echo(format!(
                "Adding tables and sequences to {} failed (see the error above): dropping the set again so nothing is left half-created",
                set.label()
            )),
            DropSet { id: set.id, origin }.into(),
            crate::statement::Exit { code: 1 }.into(),
        ],
        on_success: Vec::new(),
    });
    script.push(echo(format!(
        "{} created on node {origin} with {} and {}",
        set.label(),
        plural(set.tables.len(), "table"),
        plural(set.sequences.len(), "sequence")
    )));
    finish(OP, script, cluster.clone())
}

/// `slonik_drop_set SET`: drop the set on its origin (every subscriber stops replicating it).
pub fn drop_set(cluster: &Cluster, set: SetId) -> Result<Change, OpError> {
    const OP: &str = "drop-set";
    let set_id = set;
    let set = known_set(cluster, set_id)?;
    let origin = live_origin(cluster, OP, set)?;
    let mut script = script_for(cluster, OP, &[])?;
    script.push(try_or_exit(
        vec![DropSet { id: set_id, origin }.into()],
        format!(
            "Could not drop {} on node {origin}: see the error above",
            set.label()
        ),
    ));
    script.push(echo(format!("{} dropped", set.label())));
    let next = crate::transition::drop_set(cluster, set_id).map_err(inconsistent(OP))?;
    finish(OP, script, next)
}

/// `slonik_merge_sets NODE TARGET SOURCE`: merge SOURCE into TARGET (both with origin NODE and
/// the same subscribers), after waiting until every subscription is caught up.
pub fn merge_sets(cluster: &Cluster, node: NodeId, target: SetId, source: SetId) -> Result<Change, OpError> {
    const OP: &str = "merge-sets";
    let origin = active_node(cluster, OP, node)?.id;
    let (target_id, source_id) = (target, source);
    let target = known_set(cluster, target_id)?;
    let source = known_set(cluster, source_id)?;
    if target_id == source_id {
        return Err(refuse(OP, Refusal::MergeWithItself { set: target_id }));
    }
    for set in [target, source] {
        if set.origin != origin {
            return Err(refuse(
                OP,
                Refusal::MergeOriginMismatch {
                    set: set.id,
                    name: set.name.clone(),
                    origin: set.origin,
                    node: origin,
                },
            ));
        }
    }
    let receivers = |set: SetId| cluster.subscribers(set).map(|s| s.receiver).collect::<Vec<_>>();
    if receivers(target_id) != receivers(source_id) {
        return Err(refuse(
            OP,
            Refusal::MergeSubscribersDiffer {
                target: target_id,
                target_receivers: receivers(target_id),
                source_set: source_id,
                source_receivers: receivers(source_id),
            },
        ));
    }
    let mut script = script_for(cluster, OP, &[])?;
    script.push(echo(format!(
        "Waiting until every node has caught up with node {origin} before merging"
    )));
    script.extend(sync_and_wait(cluster, origin, NodeOrAll::All));
    script.push(MergeSet {
        id: target_id,
        add_id: source_id,
        origin,
    });
    script.push(echo(format!("{} merged into {}", source.label(), target.label())));
    let next = crate::transition::merge_sets(cluster, target_id, source_id).map_err(inconsistent(OP))?;
    finish(OP, script, next)
}

/// Where [`execute_script`] takes its SQL from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ddl {
    /// A file slonik reads when the script runs.
    File(String),
    /// SQL text inline (2.2's `sql =`; at most 511 bytes).
    Sql(String),
}

/// `slonik_execute_script SET (FILE | --sql SQL) [--node N]`: run DDL through Slony-I on the
/// set's origin (or node N), then wait until every node has applied it.
pub fn execute_script(
    cluster: &Cluster,
    set: SetId,
    ddl: &Ddl,
    node: Option<NodeId>,
) -> Result<Change, OpError> {
    execute_script_only_on(cluster, set, ddl, node, &[])
}

/// [`execute_script`] on some nodes only (`execute only on`; empty: every node): nodes
/// that include the event node (2.2's `ddlCapture()` refuses any other list: "origin node
/// 1 not included in ONLY ON list!"); before 2.2 only the event node. On 2.2 a single node
/// given without `node` is its own event node.
pub fn execute_script_only_on(
    cluster: &Cluster,
    set: SetId,
    ddl: &Ddl,
    node: Option<NodeId>,
    only_on: &[NodeId],
) -> Result<Change, OpError> {
    const OP: &str = "execute-script";
    let set = known_set(cluster, set)?;
    let mut only: Vec<NodeId> = Vec::new();
    for &n in only_on {
        active_node(cluster, OP, n)?;
        if !only.contains(&n) {
            only.push(n);
        }
    }
    let event_node = match (node, only.as_slice()) {
        (Some(node), _) => active_node(cluster, OP, node)?.id,
        (None, [single]) if cluster.version >= SlonyVersion::V2_2 => *single,
        (None, _) => live_origin(cluster, OP, set)?,
    };
    if cluster.version < SlonyVersion::V2_2 && event_node != set.origin {
        // Before 2.2, ddlScript_prepare raises "set N does not originate on local node":
        // slonik's checker cannot see it, the cluster would.
        return Err(refuse(
            OP,
            Refusal::ExecuteScriptOffOrigin {
                version: cluster.version,
                set: set.id,
                name: set.name.clone(),
                origin: set.origin,
                node: event_node,
            },
        ));
    }
    let (source, what) = match ddl {
        Ddl::File(path) => (ScriptSource::File(path.clone()), format!("file {path}")),
        Ddl::Sql(sql) => {
            if cluster.version < SlonyVersion::V2_2 {
                return Err(refuse(
                    OP,
                    Refusal::InlineSqlNeedsV2_2 {
                        version: cluster.version,
                    },
                ));
            }
            (ScriptSource::Sql(sql.clone()), "inline SQL".to_string())
        }
    };
    let execute_only_on = match only.as_slice() {
        [] => None,
        [n] if *n != event_node => {
            return Err(refuse(
                OP,
                Refusal::OnlyOnNeedsEventNode {
                    version: cluster.version,
                    event_node,
                },
            ))
        }
        [n] => Some(ExecuteOnlyOn::Node(*n)),
        many if cluster.version < SlonyVersion::V2_2 || !many.contains(&event_node) => {
            return Err(refuse(
                OP,
                Refusal::OnlyOnNeedsEventNode {
                    version: cluster.version,
                    event_node,
                },
            ))
        }
        many => Some(ExecuteOnlyOn::Nodes(many.to_vec())),
    };
    let applied = match &execute_only_on {
        None => format!("applied on node {event_node}; waiting until every node has applied it"),
        Some(_) => format!(
            "applied on node{} {} only (event node {event_node}); waiting until every node has processed the event",
            if only.len() > 1 { "s" } else { "" },
            only.iter().map(|n| n.to_string()).collect::<Vec<_>>().join(", ")
        ),
    };
    let mut script = script_for(cluster, OP, &[])?;
    script.push(ExecuteScript {
        set_id: (cluster.version < SlonyVersion::V2_2).then_some(set.id),
        source,
        event_node,
        execute_only_on,
    });
    script.push(echo(format!("DDL ({what}) {applied}")));
    script.extend(sync_and_wait(cluster, event_node, NodeOrAll::All));
    script.push(echo(if only.is_empty() {
        format!("DDL ({what}) for {} replicated to every node", set.label())
    } else {
        format!(
            "DDL ({what}) for {} done on the nodes asked; every node has processed it",
            set.label()
        )
    }));
    finish(OP, script, cluster.clone())
}

/// `slonik_drop_table TABLE_ID SET`: stop replicating one table of the set.
pub fn drop_table(cluster: &Cluster, table_id: TableId, set: SetId) -> Result<Change, OpError> {
    const OP: &str = "drop-table";
    let set_id = set;
    let set = known_set(cluster, set_id)?;
    let id = table_id;
    let Some(table) = set.tables.iter().find(|t| t.id == id) else {
        return Err(refuse(
            OP,
            Refusal::NoSuchTable {
                set: set.id,
                name: set.name.clone(),
                table: id,
                known: list_ids(set.tables.iter().map(|t| (t.id.0, t.name.to_string()))),
            },
        ));
    };
    let origin = live_origin(cluster, OP, set)?;
    let mut script = script_for(cluster, OP, &[])?;
    script.push(try_or_exit(
        vec![SetDropTable { origin, id: table.id }.into()],
        format!(
            "Could not drop table {id} ({}) from {}: see the error above",
            table.name,
            set.label()
        ),
    ));
    // The drop is an event of the origin: a script that changes the table next (or a
    // `--write-config` that forgets it) must not run before every node has applied it.
    script.push(echo(format!(
        "Table {id} ({}) dropped from {} on node {origin}; waiting until every node has applied it",
        table.name,
        set.label()
    )));
    script.extend(sync_and_wait(cluster, origin, NodeOrAll::All));
    script.push(echo(format!(
        "Table {id} ({}) is no longer replicated in {} on any node",
        table.name,
        set.label()
    )));
    let next = crate::transition::drop_table(cluster, set_id, id).map_err(inconsistent(OP))?;
    finish(OP, script, next)
}

/// `slonik_drop_sequence SEQ_ID SET`: stop replicating one sequence of the set.
pub fn drop_sequence(cluster: &Cluster, sequence_id: SequenceId, set: SetId) -> Result<Change, OpError> {
    const OP: &str = "drop-sequence";
    let set_id = set;
    let set = known_set(cluster, set_id)?;
    let id = sequence_id;
    let Some(sequence) = set.sequences.iter().find(|s| s.id == id) else {
        return Err(refuse(
            OP,
            Refusal::NoSuchSequence {
                set: set.id,
                name: set.name.clone(),
                sequence: id,
                known: list_ids(set.sequences.iter().map(|s| (s.id.0, s.name.to_string()))),
            },
        ));
    };
    let origin = live_origin(cluster, OP, set)?;
    let mut script = script_for(cluster, OP, &[])?;
    script.push(try_or_exit(
        vec![SetDropSequence {
            origin,
            id: sequence.id,
        }
        .into()],
        format!(
            "Could not drop sequence {id} ({}) from {}: see the error above",
            sequence.name,
            set.label()
        ),
    ));
    script.push(echo(format!(
        "Sequence {id} ({}) dropped from {} on node {origin}; waiting until every node has applied it",
        sequence.name,
        set.label()
    )));
    script.extend(sync_and_wait(cluster, origin, NodeOrAll::All));
    script.push(echo(format!(
        "Sequence {id} ({}) is no longer replicated in {} on any node",
        sequence.name,
        set.label()
    )));
    let next = crate::transition::drop_sequence(cluster, set_id, id).map_err(inconsistent(OP))?;
    finish(OP, script, next)
}

/// The checks `set move table` and `set move sequence` share: two different sets, one
/// origin (alive), the same subscribers.
fn movable_between(cluster: &Cluster, op: &'static str, from: &Set, to: SetId) -> Result<NodeId, OpError> {
    let to = known_set(cluster, to)?;
    if from.id == to.id {
        return Err(refuse(op, Refusal::MoveWithinSet { set: from.id }));
    }
    if from.origin != to.origin {
        return Err(refuse(
            op,
            Refusal::MoveOriginMismatch {
                set: from.id,
                origin: from.origin,
                new_set: to.id,
                new_origin: to.origin,
            },
        ));
    }
    let receivers = |set: SetId| cluster.subscribers(set).map(|s| s.receiver).collect::<Vec<_>>();
    if receivers(from.id) != receivers(to.id) {
        return Err(refuse(
            op,
            Refusal::MoveSubscribersDiffer {
                set: from.id,
                receivers: receivers(from.id),
                new_set: to.id,
                new_receivers: receivers(to.id),
            },
        ));
    }
    live_origin(cluster, op, from)
}

/// The script of a `set move table`/`set move sequence` (`statement`, built for `origin`)
/// of `what` (`Table 50 (public.log)`) from `from` to `new_set`: tried, then a wait until
/// every node applied it.
fn move_script(
    cluster: &Cluster,
    op: &'static str,
    from: &Set,
    new_set: SetId,
    what: &str,
    statement: impl FnOnce(NodeId) -> crate::statement::Statement,
) -> Result<crate::Script, OpError> {
    let origin = movable_between(cluster, op, from, new_set)?;
    let to_label = known_set(cluster, new_set)?.label();
    let mut script = script_for(cluster, op, &[])?;
    script.push(try_or_exit(
        vec![statement(origin)],
        format!(
            "Could not move {} from {} to {to_label}: see the error above",
            lowercase_first(what),
            from.label()
        ),
    ));
    script.push(echo(format!(
        "{what} moved from {} to {to_label} on node {origin}; waiting until every node has applied it",
        from.label()
    )));
    script.extend(sync_and_wait(cluster, origin, NodeOrAll::All));
    Ok(script)
}

fn lowercase_first(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_lowercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// `move-table TABLE_ID SET NEW_SET`: move one table to another set of the same origin and
/// subscribers (`set move table`), then wait until every node applied the move.
pub fn move_table(
    cluster: &Cluster,
    table_id: TableId,
    set: SetId,
    new_set: SetId,
) -> Result<Change, OpError> {
    const OP: &str = "move-table";
    let from = known_set(cluster, set)?;
    let Some(table) = from.tables.iter().find(|t| t.id == table_id) else {
        return Err(refuse(
            OP,
            Refusal::NoSuchTable {
                set: from.id,
                name: from.name.clone(),
                table: table_id,
                known: list_ids(from.tables.iter().map(|t| (t.id.0, t.name.to_string()))),
            },
        ));
    };
    let what = format!("Table {table_id} ({})", table.name);
    let script = move_script(cluster, OP, from, new_set, &what, |origin| {
        SetMoveTable {
            origin,
            id: table_id,
            new_set,
        }
        .into()
    })?;
    let next =
        crate::transition::move_table(cluster, from.id, new_set, table_id).map_err(inconsistent(OP))?;
    finish(OP, script, next)
}

/// `move-sequence SEQ_ID SET NEW_SET`: move one sequence like [`move_table`].
pub fn move_sequence(
    cluster: &Cluster,
    sequence_id: SequenceId,
    set: SetId,
    new_set: SetId,
) -> Result<Change, OpError> {
    const OP: &str = "move-sequence";
    let from = known_set(cluster, set)?;
    let Some(sequence) = from.sequences.iter().find(|s| s.id == sequence_id) else {
        return Err(refuse(
            OP,
            Refusal::NoSuchSequence {
                set: from.id,
                name: from.name.clone(),
                sequence: sequence_id,
                known: list_ids(from.sequences.iter().map(|s| (s.id.0, s.name.to_string()))),
            },
        ));
    };
    let what = format!("Sequence {sequence_id} ({})", sequence.name);
    let script = move_script(cluster, OP, from, new_set, &what, |origin| {
        SetMoveSequence {
            origin,
            id: sequence_id,
            new_set,
        }
        .into()
    })?;
    let next =
        crate::transition::move_sequence(cluster, from.id, new_set, sequence_id).map_err(inconsistent(OP))?;
    finish(OP, script, next)
}

fn list_ids(items: impl Iterator<Item = (u32, String)>) -> String {
    let list: Vec<String> = items.map(|(id, name)| format!("{id} = {name}")).collect();
    if list.is_empty() {
        "none".into()
    } else {
        list.join(", ")
    }
}
