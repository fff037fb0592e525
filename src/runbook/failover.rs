//! Failover: give the sets of dead nodes to a backup node, then optionally drop the dead nodes.

use super::builder::Builder;
use super::catalog;
use super::plan::Plan;
use super::slon::push_slon_stop;
use super::text::and_list;
use crate::model::{Cluster, Node, NodeId, Set, SetId};
use crate::ops::{self, active_node, known_node, refuse, OpError, Refusal};
use crate::version::SlonyVersion;

/// `failover --dead NODE... --backup NODE [--drop-dead]`: stops the dead nodes' slons,
/// checks that the backup is a valid failover target (`sl_failover_targets` on 2.2), fails
/// over with the dead nodes left out of the script header (the multi-node form when several
/// are dead), checks the backup is the origin, and with `drop_dead` drops the dead nodes.
///
/// With `drop_dead` a stop that cannot be confirmed stops the runbook before anything is
/// dropped; without it the failure is reported and passed over, since the dead host may be
/// down.
pub fn failover(
    cluster: &Cluster,
    dead: &[NodeId],
    backup: NodeId,
    drop_dead: bool,
) -> Result<Plan, OpError> {
    const OP: &str = "failover";
    if dead.is_empty() {
        return Err(refuse(OP, Refusal::NoDeadNodes));
    }
    let backup_id = active_node(cluster, OP, backup)?.id;
    let mut dead_ids: Vec<NodeId> = Vec::new();
    for &id in dead {
        active_node(cluster, OP, id)?;
        if dead_ids.contains(&id) {
            return Err(refuse(OP, Refusal::DeadNamedTwice { node: id }));
        }
        dead_ids.push(id);
    }
    dead_ids.sort();
    let sets_of = |node: NodeId| -> Vec<SetId> {
        cluster
            .sets
            .values()
            .filter(|s| s.origin == node)
            .map(|s| s.id)
            .collect()
    };
    if cluster.version >= SlonyVersion::V2_2 {
        for &d in &dead_ids {
            for set in sets_of(d) {
                let sub = cluster.subscriptions.get(&(set, backup_id));
                if let Some(sub) = sub.filter(|s| s.provider != d || !s.forward) {
                    return Err(refuse(
                        OP,
                        Refusal::NotAFailoverTarget {
                            backup: backup_id,
                            set,
                            name: cluster.sets.get(&set).map(|s| s.name.clone()).unwrap_or_default(),
                            provider: Some(sub.provider).filter(|p| *p != d),
                        },
                    ));
                }
            }
        }
    }
    let pairs: Vec<(NodeId, NodeId)> = dead_ids.iter().map(|d| (*d, backup_id)).collect();
    // Validates the arguments against the model (backup subscribes, someone survives, ...)
    // and gives the same next state as the single `failover`.
    let change = ops::failover(cluster, &pairs)?;

    let dead_nodes: Vec<&Node> = dead_ids
        .iter()
        .map(|d| known_node(cluster, *d))
        .collect::<Result<_, _>>()?;
    let dead_labels: Vec<String> = dead_nodes.iter().map(|n| n.label()).collect();
    let backup_label = known_node(cluster, backup_id)?.label();
    let title = format!("Fail over {} to {backup_label}", and_list(&dead_labels));
    let mut builder = Builder::new(OP, title, cluster)?;

    for node in &dead_nodes {
        let d = node.id;
        let then = if drop_dead {
            format!("This runbook drops node {d} below, so it goes on only once that slon is confirmed gone. When the host of node {d} is down and the command cannot succeed, make sure that slon cannot come back (the host stays powered off, or its slon is disabled there), then run the remaining steps by hand (the script cannot resume at a step)")
        } else {
            format!("This runbook does not drop node {d}, so a failure here (expected when the host is down) does not stop it; but make sure that slon cannot come back before node {d} is dropped or rebuilt")
        };
        push_slon_stop(
            &mut builder,
            cluster,
            node,
            &format!("A slon still running for node {d} would reconnect to its database when it comes back and act on its old catalog, in which node {d} is still an origin."),
            &then,
            !drop_dead,
        )?;
    }
    for &d in &dead_ids {
        let sets = sets_of(d);
        if sets.is_empty() {
            continue;
        }
        let names = and_list(
            &sets
                .iter()
                .filter_map(|s| cluster.sets.get(s).map(Set::label))
                .collect::<Vec<_>>(),
        );
        let (sql, what) = if cluster.version >= SlonyVersion::V2_2 {
            (
                catalog::failover_targets(cluster, &sets, d, backup_id),
                "sl_failover_targets lists it for",
            )
        } else {
            (
                catalog::direct_forwarding_subscriptions(cluster, &sets, d, backup_id),
                "it receives directly, forwarding and active,",
            )
        };
        builder.check(
            format!("Check that {backup_label} is a valid failover target for {names}"),
            format!("Asked on the backup itself, since node {d} is dead: {what} every set of node {d}. A backup that is not would make `failover` fail half way, or promote a node that lacks data"),
            backup_id,
            sql,
            sets.len().to_string(),
            0,
        );
    }
    let moved: Vec<SetId> = dead_ids.iter().flat_map(|d| sets_of(*d)).collect();
    // With explicit paths: Slony-I points the nodes the dead ones fed at the backup, whose
    // slons then need a path to it (and it one to them, for their confirmations).
    let needed: Vec<(NodeId, NodeId)> = cluster
        .subscriptions
        .values()
        .filter(|s| {
            dead_ids.contains(&s.provider) && !dead_ids.contains(&s.receiver) && s.receiver != backup_id
        })
        .flat_map(|s| [(backup_id, s.receiver), (s.receiver, backup_id)])
        .collect();
    super::paths::ensure_paths(
        &mut builder,
        &needed,
        &dead_ids,
        "the failover points the nodes the dead node fed at the backup",
    )?;
    let change = if builder.state() == cluster {
        change
    } else {
        ops::failover(builder.state(), &pairs)?
    };
    builder.change(
        format!("Fail over {} to {backup_label}", and_list(&dead_labels)),
        format!(
            "Makes node {backup_id} the origin of every set of the dead node{}. The script header leaves the dead node{} out: slonik would otherwise try to reach {} and stop{}",
            if dead_ids.len() == 1 { "" } else { "s" },
            if dead_ids.len() == 1 { "" } else { "s" },
            if dead_ids.len() == 1 { "it" } else { "them" },
            if dead_ids.len() > 1 { "; several dead nodes use 2.2's one-command form, so Slony-I picks the most advanced survivor once" } else { "" }
        ),
        change,
    )?;
    if !moved.is_empty() {
        let state = builder.state().clone();
        builder.check(
            format!("Check that {backup_label} is the origin of every set it took over"),
            "Proves the failover reached the backup before anything else is changed",
            backup_id,
            catalog::sets_with_origin(&state, &moved, backup_id),
            moved.len().to_string(),
            state.wait_timeout,
        );
    }
    builder.manual(
        format!("Send the applications to {backup_label}"),
        "slonik-gen cannot reach your connection pooler; until this is done the applications may still try the dead node",
        format!(
            "Point the applications (pgpool-II, connection strings) at {backup_label}: it is the origin now. Keep everything away from {}: {} out of date and out of the cluster until rebuilt (`slonik-gen runbook failback` or `rebuild-node`).",
            and_list(&dead_labels),
            if dead_ids.len() == 1 { "its data is" } else { "their data is" }
        ),
    );
    if drop_dead {
        for node in &dead_nodes {
            let d = node.id;
            let mut change = ops::drop_node(builder.state(), d, backup_id)?;
            // The config keeps the node (`dropped = true`, with its connection and slon
            // settings) for the failback or rebuild-node that takes it back.
            change.next = crate::transition::drop_node_kept(builder.state(), d, backup_id)
                .map_err(ops::inconsistent(OP))?;
            builder.change(
                format!("Drop {} from the cluster", node.label()),
                format!("A failed node stays in the catalog (inactive) until it is dropped; dropping it lets the survivors clean up its events and paths. The config keeps node {d} as `dropped = true`, with its connection and slon settings, so the failback or rebuild-node runbook that brings it back needs nothing retyped"),
                change,
            )?;
        }
    }
    builder.finish()
}
