//! Failover: give the sets of dead nodes to a backup node, then optionally drop the dead nodes.

use super::{and_list, catalog, slon_stop_command, Builder, Plan};
use crate::model::{Cluster, NodeId, SetId};
use crate::ops::{self, refuse, resolve_active, OpError};
use crate::version::SlonyVersion;

/// `failover --dead NODE... --backup NODE [--drop-dead]`: stops the dead nodes' slons,
/// checks that the backup is a valid failover target (`sl_failover_targets` on 2.2), fails
/// over with the dead nodes left out of the script header (the multi-node form when several
/// are dead), checks the backup is the origin, and with `drop_dead` drops the dead nodes.
pub fn failover(cluster: &Cluster, dead: &[&str], backup: &str, drop_dead: bool) -> Result<Plan, OpError> {
    const OP: &str = "failover";
    if dead.is_empty() {
        return Err(refuse(OP, "name the dead node(s) with --dead NODE"));
    }
    let backup_id = resolve_active(cluster, OP, backup)?;
    let mut dead_ids: Vec<NodeId> = Vec::new();
    for arg in dead {
        let id = resolve_active(cluster, OP, arg)?;
        if dead_ids.contains(&id) {
            return Err(refuse(OP, format!("node {id} is named twice with --dead")));
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
                if sub.is_some_and(|s| s.provider != d || !s.forward) {
                    return Err(refuse(
                        OP,
                        format!(
                            "Slony-I 2.2 fails over only to a node that receives every set of the failed origin directly from it with forward = yes (sl_failover_targets), but node {backup_id} receives {} {}: pick such a subscriber as --backup",
                            cluster.sets[&set].label(),
                            match sub {
                                Some(s) if s.provider != d => format!("from node {}", s.provider),
                                _ => "with forward = no".to_string(),
                            }
                        ),
                    ));
                }
            }
        }
    }
    let pair_args: Vec<(String, String)> = dead_ids
        .iter()
        .map(|d| (d.to_string(), backup_id.to_string()))
        .collect();
    let pairs: Vec<(&str, &str)> = pair_args.iter().map(|(d, b)| (d.as_str(), b.as_str())).collect();
    // Validates the arguments against the model (backup subscribes, someone survives, ...).
    let change = ops::failover(cluster, &pairs)?;

    let dead_labels: Vec<String> = dead_ids.iter().map(|d| cluster.nodes[d].label()).collect();
    let backup_label = cluster.nodes[&backup_id].label();
    let title = format!("Fail over {} to {backup_label}", and_list(&dead_labels));
    let mut builder = Builder::new(OP, title, cluster)?;

    for &d in &dead_ids {
        let node = &cluster.nodes[&d];
        builder.shell(
            format!("Stop the slon of {}", node.label()),
            format!("A slon still running for node {d} would reconnect to its database when it comes back and act on its old catalog, in which node {d} is still an origin. A failure here is expected when the host is down"),
            d,
            slon_stop_command(cluster, node),
            true,
        );
    }
    for &d in &dead_ids {
        let sets = sets_of(d);
        if sets.is_empty() {
            continue;
        }
        let names = and_list(&sets.iter().map(|s| cluster.sets[s].label()).collect::<Vec<_>>());
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
        for &d in &dead_ids {
            let change = ops::drop_node(builder.state(), &d.to_string(), &backup_id.to_string())?;
            builder.change(
                format!("Drop {} from the cluster", cluster.nodes[&d].label()),
                format!("A failed node stays in the catalog (inactive) until it is dropped; dropping it lets the survivors clean up its events and paths. Node {d} can be rebuilt later with the rebuild-node runbook"),
                change,
            )?;
        }
    }
    Ok(builder.finish())
}
