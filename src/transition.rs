//! The one owner of every change to the cluster model: each function takes a cluster and
//! returns the cluster as it is once that change has happened on the real cluster.
//!
//! Operations ([`crate::ops`]) decide whether a change is allowed and what slonik script
//! makes it; the state they hand back as [`crate::ops::Change::next`] comes from here, and
//! so does every state a runbook ([`crate::runbook`]) moves through. A single operation and
//! a runbook doing the same thing therefore reach the same state (`move-set` and the
//! switchover runbook both move the default origin, for example). Operations that change
//! nothing return a plain clone and do not come through here.
//!
//! These functions do not refuse anything an operator could want: that is the operations'
//! job. They fail only when the cluster they are given cannot hold the change (a set whose
//! origin is no node, a subscription that is not there), with an [`Inconsistency`]; a
//! [`Cluster`] has public fields, so such a cluster can be built, and it must never make
//! the library panic.

use std::sync::Arc;

use crate::model::{Cluster, Node, NodeId, Sequence, SequenceId, Set, SetId, Subscription, Table, TableId};

/// Why a cluster cannot take a change: it refers to something it does not have.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Inconsistency {
    /// A node that something in the cluster, or the change, refers to is missing.
    #[error("{role} is node {node}, which is not a node of the cluster")]
    MissingNode {
        /// The node id.
        node: NodeId,
        /// What refers to it (`the origin of set 1`, `the default origin`, ...).
        role: String,
    },
    /// A set that something in the cluster, or the change, refers to is missing.
    #[error("{role} is set {set}, which is not a set of the cluster")]
    MissingSet {
        /// The set id.
        set: SetId,
        /// What refers to it.
        role: String,
    },
    /// A subscription the change needs is missing.
    #[error("node {receiver} has no subscription to set {set}")]
    MissingSubscription {
        /// The set.
        set: SetId,
        /// The node.
        receiver: NodeId,
    },
    /// A node to add is already in the cluster.
    #[error("node {node} is already a node of the cluster")]
    NodeExists {
        /// The node id.
        node: NodeId,
    },
    /// A set to add is already in the cluster.
    #[error("set {set} is already a set of the cluster")]
    SetExists {
        /// The set id.
        set: SetId,
    },
}

/// The first reference in `cluster` to a node or set it does not have: the default
/// origin, a set's origin, a node's default provider, a subscription's set, receiver or
/// provider. [`crate::validate`] never builds such a cluster; the runbooks check this
/// before planning, since their catalog queries take every reference as given.
pub fn check_references(cluster: &Cluster) -> Result<(), Inconsistency> {
    need_node(cluster, cluster.default_origin, || "the default origin".into())?;
    for set in cluster.sets.values() {
        need_node(cluster, set.origin, || format!("the origin of set {}", set.id))?;
    }
    for node in cluster.nodes.values().chain(cluster.dropped_nodes.values()) {
        if let Some(provider) = node.provider {
            // A node's provider may be a dropped node: where it receives from once that
            // node is back.
            if !cluster.dropped_nodes.contains_key(&provider) {
                need_node(cluster, provider, || format!("the provider of node {}", node.id))?;
            }
        }
    }
    if let Some(node) = cluster
        .dropped_nodes
        .keys()
        .find(|n| cluster.nodes.contains_key(n))
    {
        return Err(Inconsistency::NodeExists { node: *node });
    }
    for sub in cluster.subscriptions.values() {
        if !cluster.sets.contains_key(&sub.set) {
            return Err(Inconsistency::MissingSet {
                set: sub.set,
                role: format!("the set node {} subscribes to", sub.receiver),
            });
        }
        need_node(cluster, sub.receiver, || {
            format!("the subscriber of set {}", sub.set)
        })?;
        need_node(cluster, sub.provider, || {
            format!("the provider of node {} for set {}", sub.receiver, sub.set)
        })?;
    }
    Ok(())
}

fn need_node(cluster: &Cluster, node: NodeId, role: impl FnOnce() -> String) -> Result<(), Inconsistency> {
    if cluster.nodes.contains_key(&node) {
        Ok(())
    } else {
        Err(Inconsistency::MissingNode { node, role: role() })
    }
}

fn set_mut<'a>(cluster: &'a mut Cluster, set: SetId, role: &str) -> Result<&'a mut Set, Inconsistency> {
    cluster
        .sets
        .get_mut(&set)
        .ok_or_else(|| Inconsistency::MissingSet {
            set,
            role: role.to_string(),
        })
}

/// A node joins (or rejoins, after it was dropped and its database prepared): it is in
/// the cluster and active, and no longer among [`Cluster::dropped_nodes`].
pub fn add_node(cluster: &Cluster, mut node: Node) -> Result<Cluster, Inconsistency> {
    if cluster.nodes.contains_key(&node.id) {
        return Err(Inconsistency::NodeExists { node: node.id });
    }
    let mut next = cluster.clone();
    next.dropped_nodes.remove(&node.id);
    node.failed = false;
    next.nodes.insert(node.id, node);
    Ok(next)
}

/// `drop node`: the node, its subscriptions and every node's default provider pointing at
/// it are gone; if it was the default origin, `event_node` takes that role.
pub fn drop_node(cluster: &Cluster, node: NodeId, event_node: NodeId) -> Result<Cluster, Inconsistency> {
    need_node(cluster, node, || "the node to drop".into())?;
    need_node(cluster, event_node, || "the event node".into())?;
    let mut next = cluster.clone();
    next.nodes.remove(&node);
    next.subscriptions.retain(|_, s| s.receiver != node);
    if let crate::model::Paths::Explicit(paths) = &mut next.paths {
        paths.retain(|(server, client), _| *server != node && *client != node);
    }
    for n in next.nodes.values_mut() {
        if n.provider == Some(node) {
            n.provider = None;
        }
    }
    if next.default_origin == node {
        next.default_origin = event_node;
    }
    Ok(next)
}

/// `drop node` of a node that failed over, keeping it for a later failback: as
/// [`drop_node`], except that the node moves to [`Cluster::dropped_nodes`] with all its
/// settings, and the other nodes' `provider` naming it stays (where they receive from once
/// it is back).
pub fn drop_node_kept(cluster: &Cluster, node: NodeId, event_node: NodeId) -> Result<Cluster, Inconsistency> {
    need_node(cluster, node, || "the node to drop".into())?;
    need_node(cluster, event_node, || "the event node".into())?;
    let mut next = cluster.clone();
    let Some(mut kept) = next.nodes.remove(&node) else {
        return Err(Inconsistency::MissingNode {
            node,
            role: "the node to drop".into(),
        });
    };
    kept.failed = false;
    next.dropped_nodes.insert(node, kept);
    next.subscriptions.retain(|_, s| s.receiver != node);
    if next.default_origin == node {
        next.default_origin = event_node;
    }
    Ok(next)
}

/// `failover`: for each (dead, backup) pair, the backup becomes the origin of the dead
/// node's sets, the subscribers the dead node fed are pointed at the backup (as Slony-I
/// does), the dead node's subscriptions go, and the dead node is marked failed; the
/// default origin follows to the backup. Every node's `provider` stays as it was: it is
/// where the node receives from when every node is up, which the failback restores; only
/// the subscriptions say where it receives from now.
pub fn fail_over(cluster: &Cluster, pairs: &[(NodeId, NodeId)]) -> Result<Cluster, Inconsistency> {
    let mut next = cluster.clone();
    for &(dead, backup) in pairs {
        need_node(&next, backup, || format!("the backup of node {dead}"))?;
        for set in next.sets.values_mut().filter(|s| s.origin == dead) {
            set.origin = backup;
            next.subscriptions.remove(&(set.id, backup));
        }
        next.subscriptions.retain(|_, s| s.receiver != dead);
        for sub in next.subscriptions.values_mut().filter(|s| s.provider == dead) {
            sub.provider = backup;
        }
        next.nodes
            .get_mut(&dead)
            .ok_or_else(|| Inconsistency::MissingNode {
                node: dead,
                role: "the failed node".into(),
            })?
            .failed = true;
        if next.default_origin == dead {
            next.default_origin = backup;
        }
    }
    Ok(next)
}

/// A set joins the cluster (its origin must be a node).
pub fn add_set(cluster: &Cluster, set: Set) -> Result<Cluster, Inconsistency> {
    if cluster.sets.contains_key(&set.id) {
        return Err(Inconsistency::SetExists { set: set.id });
    }
    need_node(cluster, set.origin, || format!("the origin of set {}", set.id))?;
    let mut next = cluster.clone();
    next.sets.insert(set.id, set);
    Ok(next)
}

/// `drop set`: the set and its subscriptions are gone.
pub fn drop_set(cluster: &Cluster, set: SetId) -> Result<Cluster, Inconsistency> {
    let mut next = cluster.clone();
    next.sets.remove(&set).ok_or_else(|| Inconsistency::MissingSet {
        set,
        role: "the set to drop".into(),
    })?;
    next.subscriptions.retain(|(s, _), _| *s != set);
    Ok(next)
}

/// `merge set`: `source`'s tables and sequences join `target` (after its own), and
/// `source` with its subscriptions is gone.
pub fn merge_sets(cluster: &Cluster, target: SetId, source: SetId) -> Result<Cluster, Inconsistency> {
    let mut next = cluster.clone();
    set_mut(&mut next, target, "the target set")?;
    let merged = next
        .sets
        .remove(&source)
        .ok_or_else(|| Inconsistency::MissingSet {
            set: source,
            role: "the source set".into(),
        })?;
    let into = set_mut(&mut next, target, "the target set")?;
    Arc::make_mut(&mut into.tables).extend(merged.tables.iter().cloned());
    Arc::make_mut(&mut into.sequences).extend(merged.sequences.iter().cloned());
    next.subscriptions.retain(|(s, _), _| *s != source);
    Ok(next)
}

/// Tables and sequences join a set, after the ones it has.
pub fn add_relations(
    cluster: &Cluster,
    set: SetId,
    tables: Vec<Table>,
    sequences: Vec<Sequence>,
) -> Result<Cluster, Inconsistency> {
    let mut next = cluster.clone();
    let into = set_mut(&mut next, set, "the set to add to")?;
    Arc::make_mut(&mut into.tables).extend(tables);
    Arc::make_mut(&mut into.sequences).extend(sequences);
    Ok(next)
}

/// `set drop table`: the set no longer has the table.
pub fn drop_table(cluster: &Cluster, set: SetId, table: TableId) -> Result<Cluster, Inconsistency> {
    let mut next = cluster.clone();
    let from = set_mut(&mut next, set, "the set of the table")?;
    Arc::make_mut(&mut from.tables).retain(|t| t.id != table);
    Ok(next)
}

/// `set drop sequence`: the set no longer has the sequence.
pub fn drop_sequence(cluster: &Cluster, set: SetId, sequence: SequenceId) -> Result<Cluster, Inconsistency> {
    let mut next = cluster.clone();
    let from = set_mut(&mut next, set, "the set of the sequence")?;
    Arc::make_mut(&mut from.sequences).retain(|s| s.id != sequence);
    Ok(next)
}

/// `set move table`: the table leaves `from` and joins `to`, after the tables it has,
/// keeping its id, key and comment.
pub fn move_table(
    cluster: &Cluster,
    from: SetId,
    to: SetId,
    table: TableId,
) -> Result<Cluster, Inconsistency> {
    let mut next = cluster.clone();
    let set = set_mut(&mut next, from, "the set of the table")?;
    let tables = Arc::make_mut(&mut set.tables);
    let moved: Vec<Table> = tables.iter().filter(|t| t.id == table).cloned().collect();
    tables.retain(|t| t.id != table);
    let into = set_mut(&mut next, to, "the set the table moves to")?;
    Arc::make_mut(&mut into.tables).extend(moved);
    Ok(next)
}

/// `set move sequence`: the sequence leaves `from` and joins `to`, after the sequences it
/// has.
pub fn move_sequence(
    cluster: &Cluster,
    from: SetId,
    to: SetId,
    sequence: SequenceId,
) -> Result<Cluster, Inconsistency> {
    let mut next = cluster.clone();
    let set = set_mut(&mut next, from, "the set of the sequence")?;
    let sequences = Arc::make_mut(&mut set.sequences);
    let moved: Vec<Sequence> = sequences.iter().filter(|s| s.id == sequence).cloned().collect();
    sequences.retain(|s| s.id != sequence);
    let into = set_mut(&mut next, to, "the set the sequence moves to")?;
    Arc::make_mut(&mut into.sequences).extend(moved);
    Ok(next)
}

/// `subscribe set`: the subscription is in place (replacing the receiver's old one for the
/// set, if any).
pub fn subscribe(cluster: &Cluster, subscription: Subscription) -> Result<Cluster, Inconsistency> {
    let Subscription {
        set,
        receiver,
        provider,
        ..
    } = subscription;
    if !cluster.sets.contains_key(&set) {
        return Err(Inconsistency::MissingSet {
            set,
            role: format!("the set node {receiver} subscribes to"),
        });
    }
    need_node(cluster, receiver, || format!("the subscriber of set {set}"))?;
    need_node(cluster, provider, || {
        format!("the provider of node {receiver} for set {set}")
    })?;
    let mut next = cluster.clone();
    next.subscriptions.insert((set, receiver), subscription);
    Ok(next)
}

/// `unsubscribe set`: the receiver no longer has the set.
pub fn unsubscribe(cluster: &Cluster, set: SetId, receiver: NodeId) -> Result<Cluster, Inconsistency> {
    let mut next = cluster.clone();
    next.subscriptions.remove(&(set, receiver));
    Ok(next)
}

/// `resubscribe node` (or `subscribe set` with a new provider before 2.2): the receiver
/// gets the set from `provider`, keeping its forwarding.
pub fn change_provider(
    cluster: &Cluster,
    set: SetId,
    receiver: NodeId,
    provider: NodeId,
) -> Result<Cluster, Inconsistency> {
    need_node(cluster, provider, || {
        format!("the new provider of node {receiver} for set {set}")
    })?;
    let mut next = cluster.clone();
    next.subscriptions
        .get_mut(&(set, receiver))
        .ok_or(Inconsistency::MissingSubscription { set, receiver })?
        .provider = provider;
    Ok(next)
}

/// `resubscribe`: the receiver gets each of `sets` from `provider`, keeping its
/// forwarding ([`change_provider`]); once every set it receives comes from `provider`,
/// that is also its `[[node]] provider`, where it receives from when every node is up.
pub fn resubscribe(
    cluster: &Cluster,
    receiver: NodeId,
    provider: NodeId,
    sets: &[SetId],
) -> Result<Cluster, Inconsistency> {
    let mut next = cluster.clone();
    for set in sets {
        next = change_provider(&next, *set, receiver, provider)?;
    }
    let all_from_provider = next
        .subscriptions
        .values()
        .filter(|s| s.receiver == receiver)
        .all(|s| s.provider == provider);
    if all_from_provider {
        next.nodes
            .get_mut(&receiver)
            .ok_or_else(|| Inconsistency::MissingNode {
                node: receiver,
                role: "the node re-pointed".into(),
            })?
            .provider = Some(provider);
    }
    Ok(next)
}

/// `move set`: `to` (a subscriber of the set) becomes its origin. As Slony-I's moveSet_int
/// does, the provider chain from `to` back to the old origin is reversed and the old origin
/// subscribes, forwarding, to the last node of it. When the old origin was the default
/// origin and now originates no set, the default origin follows to `to` (altperl's
/// `$MASTERNODE` followed the sets by hand).
pub fn move_set(cluster: &Cluster, set: SetId, to: NodeId) -> Result<Cluster, Inconsistency> {
    let mut next = cluster.clone();
    let moved = set_mut(&mut next, set, "the set to move")?;
    let old = moved.origin;
    moved.origin = to;
    let new_sub = next
        .subscriptions
        .remove(&(set, to))
        .ok_or(Inconsistency::MissingSubscription { set, receiver: to })?;
    let mut last = to;
    let mut hop = new_sub.provider;
    while hop != old {
        let Some(sub) = next.subscriptions.get_mut(&(set, hop)) else {
            break;
        };
        let further = std::mem::replace(&mut sub.provider, last);
        last = hop;
        hop = further;
        if last == to {
            break; // a provider loop, which validation rules out
        }
    }
    next.subscriptions.insert(
        (set, old),
        Subscription {
            set,
            receiver: old,
            provider: last,
            forward: true,
        },
    );
    if next.default_origin == old && !next.sets.values().any(|s| s.origin == old) {
        next.default_origin = to;
    }
    Ok(next)
}

/// `uninstall node` on every node: no subscription is left.
pub fn uninstall(cluster: &Cluster) -> Cluster {
    let mut next = cluster.clone();
    next.subscriptions.clear();
    next
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Node 1 is the origin of sets 1 and 2 and the default origin; node 2 subscribes to both.
    fn two_sets() -> Cluster {
        crate::load_config_str(
            "cluster = \"c\"\n[[node]]\nid = 1\n[[node]]\nid = 2\n\
             [[set]]\nid = 1\ntables = [\"a\"]\n[[set]]\nid = 2\ntables = [\"b\"]\n\
             [[subscription]]\nset = 1\nreceiver = 2\n[[subscription]]\nset = 2\nreceiver = 2\n",
            "two_sets.toml",
        )
        .unwrap()
    }

    #[test]
    fn the_default_origin_follows_the_last_set_moved_away() {
        let cluster = two_sets();
        let first = move_set(&cluster, SetId(1), NodeId(2)).unwrap();
        assert_eq!(first.default_origin, NodeId(1), "node 1 still originates set 2");
        let second = move_set(&first, SetId(2), NodeId(2)).unwrap();
        assert_eq!(second.default_origin, NodeId(2));
        assert_eq!(check_references(&second), Ok(()));
    }

    #[test]
    fn a_cluster_that_cannot_take_the_change_is_an_inconsistency_not_a_panic() {
        let cluster = two_sets();
        let node = cluster.nodes[&NodeId(1)].clone();
        assert_eq!(
            add_node(&cluster, node),
            Err(Inconsistency::NodeExists { node: NodeId(1) })
        );
        assert_eq!(
            move_set(&cluster, SetId(1), NodeId(9)),
            Err(Inconsistency::MissingSubscription {
                set: SetId(1),
                receiver: NodeId(9),
            })
        );
        let mut broken = cluster;
        broken.default_origin = NodeId(9);
        assert_eq!(
            check_references(&broken).unwrap_err().to_string(),
            "the default origin is node 9, which is not a node of the cluster"
        );
    }
}
