//! Subscription and origin operations: subscribe, unsubscribe, move-set, failover.

use super::{
    echo, finish, refuse, resolve_active, resolve_set, script_for, sync_and_wait, try_or_exit, Change,
    OpError,
};
use crate::model::{Cluster, NodeId, Subscription};
use crate::statement::{
    Failover, LockSet, MoveSet, NodeOrAll, SubscribeSet, TryBlock, UnlockSet, UnsubscribeSet,
};
use crate::version::SlonyVersion;

/// `slonik_subscribe_set SET NODE`: subscribe NODE to SET from its provider (the config's
/// subscription entry, else the node's `provider`, else the origin), waiting first for a
/// cascaded provider to be caught up and afterwards for the initial copy to finish.
pub fn subscribe_set(cluster: &Cluster, set: &str, node: &str) -> Result<Change, OpError> {
    const OP: &str = "subscribe-set";
    let set_id = resolve_set(cluster, set)?;
    let set = &cluster.sets[&set_id];
    let receiver = resolve_active(cluster, OP, node)?;
    if receiver == set.origin {
        return Err(refuse(
            OP,
            format!(
                "node {receiver} is the origin of {}: an origin cannot subscribe to its own set",
                set.label()
            ),
        ));
    }
    let node = &cluster.nodes[&receiver];
    let (provider, forward) = match cluster.subscriptions.get(&(set_id, receiver)) {
        Some(sub) => (sub.provider, sub.forward),
        None => (node.provider.unwrap_or(set.origin), node.forward),
    };
    if provider == receiver {
        return Err(refuse(
            OP,
            format!("node {receiver} is configured as its own provider"),
        ));
    }
    if cluster.nodes.get(&provider).is_none_or(|p| p.failed) {
        return Err(refuse(
            OP,
            format!("the provider of node {receiver}, node {provider}, is not an active node"),
        ));
    }
    if !cluster.can_provide(set_id, provider) {
        return Err(refuse(
            OP,
            format!(
                "node {provider} neither is the origin of {} nor subscribes to it with forward = true: subscribe node {provider} first, or change node {receiver}'s provider",
                set.label()
            ),
        ));
    }
    let origin = set.origin;
    let mut script = script_for(cluster, OP, &[])?;
    if provider != origin {
        script.push(echo(format!(
            "Waiting until provider node {provider} has caught up with {} before subscribing node {receiver}",
            set.label()
        )));
        script.extend(sync_and_wait(cluster, origin, NodeOrAll::Node(provider)));
    }
    script.push(SubscribeSet {
        id: set_id,
        provider,
        receiver,
        forward,
        omit_copy: None,
    });
    script.push(echo(format!(
        "Node {receiver} subscribing to {} from node {provider}; waiting for the initial copy (a timeout here does not stop the copy: watch sl_subscribe)",
        set.label()
    )));
    script.extend(sync_and_wait(cluster, origin, NodeOrAll::Node(receiver)));
    script.push(echo(format!(
        "Node {receiver} is subscribed to {} from node {provider} and caught up",
        set.label()
    )));
    let mut next = cluster.clone();
    next.subscriptions.insert(
        (set_id, receiver),
        Subscription {
            set: set_id,
            receiver,
            provider,
            forward,
        },
    );
    finish(OP, script, next)
}

/// `slonik_unsubscribe_set SET NODE`: stop NODE from receiving SET. Refused while other
/// nodes receive the set through NODE.
pub fn unsubscribe_set(cluster: &Cluster, set: &str, node: &str) -> Result<Change, OpError> {
    const OP: &str = "unsubscribe-set";
    let set_id = resolve_set(cluster, set)?;
    let set = &cluster.sets[&set_id];
    let receiver = resolve_active(cluster, OP, node)?;
    if receiver == set.origin {
        return Err(refuse(
            OP,
            format!(
                "node {receiver} is the origin of {}, not a subscriber",
                set.label()
            ),
        ));
    }
    if let Some(dependent) = cluster.subscribers(set_id).find(|s| s.provider == receiver) {
        return Err(refuse(
            OP,
            format!(
                "node {} receives {} through node {receiver}: unsubscribe it or give it another provider first",
                dependent.receiver,
                set.label()
            ),
        ));
    }
    let mut script = script_for(cluster, OP, &[])?;
    script.push(try_or_exit(
        vec![UnsubscribeSet { id: set_id, receiver }.into()],
        format!(
            "Could not unsubscribe node {receiver} from {}: see the error above",
            set.label()
        ),
    ));
    script.push(echo(format!(
        "Node {receiver} no longer receives {}",
        set.label()
    )));
    let mut next = cluster.clone();
    next.subscriptions.remove(&(set_id, receiver));
    finish(OP, script, next)
}

/// `slonik_move_set SET FROM TO`: a controlled switchover of SET's origin.
///
/// Waits for TO to catch up while the set is still writable, then locks and moves in one
/// try block whose error handler unlocks the set, so a failed move never leaves it locked.
pub fn move_set(cluster: &Cluster, set: &str, from: &str, to: &str) -> Result<Change, OpError> {
    const OP: &str = "move-set";
    let set_id = resolve_set(cluster, set)?;
    let set = &cluster.sets[&set_id];
    let old = resolve_active(cluster, OP, from)?;
    let new = resolve_active(cluster, OP, to)?;
    if old == new {
        return Err(refuse(
            OP,
            format!("FROM and TO are both node {old}: name the current origin and a subscriber"),
        ));
    }
    if set.origin != old {
        return Err(refuse(
            OP,
            format!(
                "the origin of {} is node {}, not node {old}: FROM must be the current origin",
                set.label(),
                set.origin
            ),
        ));
    }
    if !cluster.subscriptions.contains_key(&(set_id, new)) {
        return Err(refuse(
            OP,
            format!(
                "node {new} does not subscribe to {}: subscribe it first (subscribe-set)",
                set.label()
            ),
        ));
    }
    let mut script = script_for(cluster, OP, &[])?;
    script.push(echo(format!(
        "Moving {} from node {old} to node {new}: waiting for node {new} to catch up first",
        set.label()
    )));
    script.extend(sync_and_wait(cluster, old, NodeOrAll::Node(new)));
    script.push(TryBlock {
        body: vec![
            LockSet {
                id: set_id,
                origin: old,
            }
            .into(),
            MoveSet {
                id: set_id,
                old_origin: old,
                new_origin: new,
            }
            .into(),
        ],
        on_error: vec![
            echo(format!(
                "Moving {} failed (see the error above): unlocking it; node {old} stays the origin",
                set.label()
            )),
            UnlockSet {
                id: set_id,
                origin: old,
            }
            .into(),
            crate::statement::Exit { code: 1 }.into(),
        ],
        on_success: Vec::new(),
    });
    script.push(echo(format!(
        "{} moved to node {new}; waiting until every node has confirmed",
        set.label()
    )));
    script.extend(sync_and_wait(cluster, old, NodeOrAll::All));
    script.push(echo(format!(
        "{} now has origin node {new}; node {old} subscribes to it",
        set.label()
    )));
    let mut next = cluster.clone();
    let moved = next.sets.get_mut(&set_id).expect("resolved");
    moved.origin = new;
    let new_sub = next.subscriptions.remove(&(set_id, new)).expect("checked above");
    next.subscriptions.insert(
        (set_id, old),
        Subscription {
            set: set_id,
            receiver: old,
            provider: new,
            forward: new_sub.forward,
        },
    );
    finish(OP, script, next)
}

/// `slonik_failover DEAD BACKUP [DEAD BACKUP]...`: give the sets of failed nodes to their
/// backups. Several pairs use 2.2's multi-node form. Failed nodes are left out of the
/// script header (slonik would try to reach them) and marked failed in the next state.
pub fn failover(cluster: &Cluster, pairs: &[(&str, &str)]) -> Result<Change, OpError> {
    const OP: &str = "failover";
    if pairs.is_empty() {
        return Err(refuse(OP, "give at least one DEAD BACKUP pair"));
    }
    if pairs.len() > 1 && cluster.version < SlonyVersion::V2_2 {
        return Err(refuse(
            OP,
            format!("failing over several nodes in one command needs Slony-I 2.2 (target is {}): run one failover per node", cluster.version),
        ));
    }
    let mut resolved: Vec<(NodeId, NodeId)> = Vec::new();
    for (dead, backup) in pairs {
        resolved.push((
            resolve_active(cluster, OP, dead)?,
            resolve_active(cluster, OP, backup)?,
        ));
    }
    let dead: Vec<NodeId> = resolved.iter().map(|(d, _)| *d).collect();
    for (i, (d, b)) in resolved.iter().enumerate() {
        if d == b {
            return Err(refuse(OP, format!("node {d} cannot be its own backup node")));
        }
        if dead.contains(b) {
            return Err(refuse(OP, format!("backup node {b} is itself listed as failed")));
        }
        if dead[..i].contains(d) {
            return Err(refuse(OP, format!("node {d} is listed twice")));
        }
        for set in cluster.sets.values().filter(|s| s.origin == *d) {
            if !cluster.subscriptions.contains_key(&(set.id, *b)) {
                return Err(refuse(
                    OP,
                    format!("backup node {b} does not subscribe to {}, whose origin is node {d}: pick a subscriber of the set as backup", set.label()),
                ));
            }
        }
    }
    if cluster.active_nodes().all(|n| dead.contains(&n.id)) {
        return Err(refuse(OP, "no node would survive"));
    }
    let mut script = script_for(cluster, OP, &dead)?;
    let summary = resolved
        .iter()
        .map(|(d, b)| format!("node {d} -> node {b}"))
        .collect::<Vec<_>>()
        .join(", ");
    script.push(echo(format!("Failing over: {summary}")));
    script.push(try_or_exit(
        vec![Failover { nodes: resolved.clone() }.into()],
        format!("Failover ({summary}) FAILED: see the error above; check sl_set and sl_node on the surviving nodes before retrying"),
    ));
    let mut next = cluster.clone();
    for (d, b) in &resolved {
        for set in next.sets.values_mut().filter(|s| s.origin == *d) {
            set.origin = *b;
            next.subscriptions.remove(&(set.id, *b));
        }
        next.subscriptions.retain(|_, s| s.receiver != *d);
        for sub in next.subscriptions.values_mut().filter(|s| s.provider == *d) {
            sub.provider = *b;
        }
        for node in next.nodes.values_mut() {
            if node.provider == Some(*d) {
                node.provider = Some(*b).filter(|b| *b != node.id);
            }
        }
        next.nodes.get_mut(d).expect("resolved").failed = true;
        if next.default_origin == *d {
            next.default_origin = *b;
        }
    }
    let origins = next
        .sets
        .values()
        .filter(|s| resolved.iter().any(|(d, _)| cluster.sets[&s.id].origin == *d))
        .map(|s| format!("{} now has origin node {}", s.label(), s.origin))
        .collect::<Vec<_>>();
    script.push(echo(format!(
        "Failover done ({summary}){}{}; the failed nodes are out of the cluster: drop them (drop-node) before rebuilding",
        if origins.is_empty() { "" } else { ": " },
        origins.join(", ")
    )));
    finish(OP, script, next)
}
