//! Subscription and origin operations: subscribe, unsubscribe, move-set, failover.

use super::{
    active_node, echo, finish, inconsistent, known_set, refuse, script_for, sync_and_wait, try_or_exit,
    Change, OpError, Refusal,
};
use crate::model::{Cluster, NodeId, SetId, Subscription};
use crate::statement::{
    Failover, LockSet, MoveSet, NodeOrAll, ResubscribeNode, SubscribeSet, TryBlock, UnlockSet,
    UnsubscribeSet, WaitForEvent,
};
use crate::transition;
use crate::version::SlonyVersion;

/// `slonik_subscribe_set SET NODE`: subscribe NODE to SET from its provider (the config's
/// subscription entry, else the node's `provider`, else the origin), waiting first for a
/// cascaded provider to be caught up and afterwards for the initial copy to finish.
pub fn subscribe_set(cluster: &Cluster, set: SetId, node: NodeId) -> Result<Change, OpError> {
    const OP: &str = "subscribe-set";
    let set_id = set;
    let set = known_set(cluster, set_id)?;
    let receiver = active_node(cluster, OP, node)?;
    if receiver.id == set.origin {
        return Err(refuse(
            OP,
            Refusal::OriginSubscribes {
                node: receiver.id,
                set: set.id,
                name: set.name.clone(),
            },
        ));
    }
    let (provider, forward) = match cluster.subscriptions.get(&(set_id, receiver.id)) {
        Some(sub) => (sub.provider, sub.forward),
        // The node's provider is its wish for when every node is up: while that node is
        // failed (or dropped), the origin feeds it.
        None => (
            receiver
                .provider
                .filter(|p| cluster.nodes.get(p).is_some_and(|n| !n.failed))
                .unwrap_or(set.origin),
            receiver.forward,
        ),
    };
    subscribe(cluster, set_id, receiver.id, provider, forward, false)
}

/// `subscribe-set SET NODE --omit-copy` (Slony-I 2.0 and later, `omit copy = yes`):
/// [`subscribe_set`] for a node whose tables already hold the set's data, loaded from a
/// dump of the origin (or a provider) taken while nothing was written: Slony-I copies
/// nothing and replicates only what the origin logs after the subscription, so writes
/// between the dump and the subscription never reach the node. Refused on 1.2, which has
/// no `omit copy`.
pub fn subscribe_set_omit_copy(cluster: &Cluster, set: SetId, node: NodeId) -> Result<Change, OpError> {
    const OP: &str = "subscribe-set";
    omit_copy_exists(cluster)?;
    let set_id = set;
    let set = known_set(cluster, set_id)?;
    let receiver = active_node(cluster, OP, node)?;
    if receiver.id == set.origin {
        return Err(refuse(
            OP,
            Refusal::OriginSubscribes {
                node: receiver.id,
                set: set.id,
                name: set.name.clone(),
            },
        ));
    }
    let (provider, forward) = match cluster.subscriptions.get(&(set_id, receiver.id)) {
        Some(sub) => (sub.provider, sub.forward),
        None => (receiver.provider.unwrap_or(set.origin), receiver.forward),
    };
    subscribe(cluster, set_id, receiver.id, provider, forward, true)
}

/// [`subscribe_set_omit_copy`] from a given provider, with a given forwarding: the 1.2
/// to 2.x upgrade subscribes every node again, in dependency order, as the config had it.
pub(crate) fn subscribe_set_omit_copy_via(
    cluster: &Cluster,
    set: SetId,
    node: NodeId,
    provider: NodeId,
    forward: bool,
) -> Result<Change, OpError> {
    const OP: &str = "subscribe-set";
    omit_copy_exists(cluster)?;
    let receiver = active_node(cluster, OP, node)?.id;
    subscribe(cluster, set, receiver, provider, forward, true)
}

/// `omit copy` came with Slony-I 2.0.
fn omit_copy_exists(cluster: &Cluster) -> Result<(), OpError> {
    if cluster.version < SlonyVersion::V2_0 {
        return Err(refuse(
            "subscribe-set",
            Refusal::OmitCopyNeedsV2_0 {
                version: cluster.version,
            },
        ));
    }
    Ok(())
}

/// [`subscribe_set`] from a given provider, with a given forwarding, whatever the config
/// says for the receiver (the add-tables runbook subscribes its temporary set along the
/// providers of the set it grows). For a receiver that already has the set from another
/// provider this re-points it: `subscribe set` changes the provider without a new copy,
/// and the script says so and waits until the node has caught up.
pub fn subscribe_set_via(
    cluster: &Cluster,
    set: SetId,
    node: NodeId,
    provider: NodeId,
    forward: bool,
) -> Result<Change, OpError> {
    const OP: &str = "subscribe-set";
    let set_id = set;
    let set = known_set(cluster, set_id)?;
    let receiver = active_node(cluster, OP, node)?.id;
    if receiver == set.origin {
        return Err(refuse(
            OP,
            Refusal::OriginSubscribes {
                node: receiver,
                set: set.id,
                name: set.name.clone(),
            },
        ));
    }
    subscribe(cluster, set_id, receiver, provider, forward, false)
}

/// The checks on the provider and the script, once the receiver is known to be a live
/// node other than the origin.
fn subscribe(
    cluster: &Cluster,
    set_id: SetId,
    receiver: NodeId,
    provider: NodeId,
    forward: bool,
    omit_copy: bool,
) -> Result<Change, OpError> {
    const OP: &str = "subscribe-set";
    let set = known_set(cluster, set_id)?;
    if provider == receiver {
        return Err(refuse(OP, Refusal::OwnProvider { node: receiver }));
    }
    if cluster.nodes.get(&provider).is_none_or(|p| p.failed) {
        return Err(refuse(OP, Refusal::ProviderInactive { receiver, provider }));
    }
    if !cluster.can_provide(set_id, provider) {
        return Err(refuse(
            OP,
            Refusal::ProviderCannotForward {
                provider,
                receiver,
                set: set.id,
                name: set.name.clone(),
            },
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
        omit_copy: omit_copy.then_some(true),
    });
    script.extend(provider_event_reaches_origin(cluster, provider, origin));
    // The config lists the subscriptions it wants, made or not, so one with the same
    // provider may be the first; one with another provider is a node that already
    // receives the set being re-pointed ([`subscribe_set_via`]): it keeps its data,
    // `subscribe set` only changes the provider, and no copy runs.
    script.push(echo(match cluster.subscriptions.get(&(set_id, receiver)) {
        Some(old) if old.provider != provider => format!(
            "Node {receiver} already receives {}: now from node {provider} instead of node {} (no new copy); waiting until it has caught up",
            set.label(),
            old.provider
        ),
        _ if omit_copy => format!(
            "Node {receiver} subscribing to {} from node {provider} without the initial copy (omit copy): its tables must already hold the data; waiting until it has caught up",
            set.label()
        ),
        _ => format!(
            "Node {receiver} subscribing to {} from node {provider}; waiting for the initial copy (a timeout here does not stop the copy: watch sl_subscribe)",
            set.label()
        ),
    }));
    script.extend(sync_and_wait(cluster, origin, NodeOrAll::Node(receiver)));
    script.push(echo(format!(
        "Node {receiver} is subscribed to {} from node {provider}{} and caught up",
        set.label(),
        if omit_copy { " (no copy)" } else { "" }
    )));
    let next = transition::subscribe(
        cluster,
        Subscription {
            set: set_id,
            receiver,
            provider,
            forward,
        },
    )
    .map_err(inconsistent(OP))?;
    finish(OP, script, next)
}

/// `resubscribe NODE --provider P [--set SET]...`: NODE receives each of its sets (or only
/// `sets`, when not empty) from P from now on, without copying the data again.
///
/// `[[node]] provider` is where the node receives from when every node is up (its wish;
/// `subscribe-set` uses it); `[[subscription]] provider` is where it receives from now.
/// They differ only after a failover re-pointed it; `resubscribe` sets both: every
/// subscription re-pointed gets provider P, and the node's `provider` becomes P once every
/// set it receives comes from P (with `sets`, only when those were the last ones).
///
/// P must be able to give each set (its origin, or a subscriber with forward = true), must
/// not receive it through NODE (a loop), and must be live. With `[[path]]`s in the config,
/// the paths between NODE and P that are not listed are stored first (both ways), and the
/// next state lists them; in the full mesh every path is there already. Sets that already
/// come from P are left alone; nothing to re-point is refused.
///
/// On Slony-I 2.2: one `resubscribe node (origin = O, provider = P, receiver = NODE);` per
/// origin of the sets re-pointed (it re-points every set of O that NODE receives, so with
/// `sets` each origin's sets must all be named). Before 2.2: one `subscribe set` with the
/// new provider per set, keeping its forwarding, which changes the provider without a new
/// copy. Either way, first a wait until P has caught up with the origin (when P is not the
/// origin), after it one until NODE has confirmed a SYNC of the origin, as `subscribe-set`
/// does.
pub fn resubscribe(
    cluster: &Cluster,
    receiver: NodeId,
    provider: NodeId,
    sets: &[SetId],
) -> Result<Change, OpError> {
    const OP: &str = "resubscribe";
    let receiver = active_node(cluster, OP, receiver)?.id;
    if provider == receiver {
        return Err(refuse(OP, Refusal::OwnProvider { node: receiver }));
    }
    if !cluster.nodes.contains_key(&provider) {
        return Err(crate::resolve::unknown_node(cluster, &provider.to_string()));
    }
    if cluster.nodes.get(&provider).is_none_or(|p| p.failed) {
        return Err(refuse(OP, Refusal::ProviderInactive { receiver, provider }));
    }
    let mut chosen: Vec<SetId> = if sets.is_empty() {
        cluster
            .subscriptions
            .values()
            .filter(|s| s.receiver == receiver)
            .map(|s| s.set)
            .collect()
    } else {
        sets.to_vec()
    };
    chosen.sort();
    chosen.dedup();
    if chosen.is_empty() {
        return Err(refuse(OP, Refusal::ResubscribeNoSubscription { receiver }));
    }
    let mut changing: Vec<Subscription> = Vec::new();
    for &set_id in &chosen {
        let set = known_set(cluster, set_id)?;
        if set.origin == receiver {
            return Err(refuse(
                OP,
                Refusal::OriginSubscribes {
                    node: receiver,
                    set: set.id,
                    name: set.name.clone(),
                },
            ));
        }
        let Some(sub) = cluster.subscriptions.get(&(set_id, receiver)) else {
            return Err(refuse(
                OP,
                Refusal::NotSubscribed {
                    set: set.id,
                    name: set.name.clone(),
                    node: receiver,
                },
            ));
        };
        if cluster.nodes.get(&set.origin).is_none_or(|o| o.failed) {
            return Err(refuse(
                OP,
                Refusal::OriginFailed {
                    set: set.id,
                    name: set.name.clone(),
                    origin: set.origin,
                },
            ));
        }
        if !cluster.can_provide(set_id, provider) {
            return Err(refuse(
                OP,
                Refusal::ProviderCannotForward {
                    provider,
                    receiver,
                    set: set.id,
                    name: set.name.clone(),
                },
            ));
        }
        if receives_through(cluster, set_id, provider, receiver) {
            return Err(refuse(
                OP,
                Refusal::ResubscribeLoop {
                    receiver,
                    provider,
                    set: set.id,
                    name: set.name.clone(),
                },
            ));
        }
        if sub.provider != provider {
            changing.push(*sub);
        }
    }
    let labels = |ids: &mut dyn Iterator<Item = SetId>| {
        crate::runbook::text::and_list(
            &ids.filter_map(|id| cluster.sets.get(&id).map(|s| s.label()))
                .collect::<Vec<_>>(),
        )
    };
    if changing.is_empty() {
        return Err(refuse(
            OP,
            Refusal::ResubscribeNothingToDo {
                receiver,
                provider,
                sets: labels(&mut chosen.iter().copied()),
            },
        ));
    }
    // By origin, in id order: 2.2 re-points one origin's sets at once.
    let mut by_origin: std::collections::BTreeMap<NodeId, Vec<Subscription>> = Default::default();
    for sub in &changing {
        if let Some(set) = cluster.sets.get(&sub.set) {
            by_origin.entry(set.origin).or_default().push(*sub);
        }
    }
    let v2_2 = ResubscribeNode::VERSIONS.contains(cluster.version);
    if v2_2 {
        for &origin in by_origin.keys() {
            let mut missing = cluster
                .subscriptions
                .values()
                .filter(|s| {
                    s.receiver == receiver
                        && s.provider != provider
                        && !chosen.contains(&s.set)
                        && cluster.sets.get(&s.set).is_some_and(|set| set.origin == origin)
                })
                .map(|s| s.set)
                .peekable();
            if missing.peek().is_some() {
                return Err(refuse(
                    OP,
                    Refusal::ResubscribePartOfOrigin {
                        receiver,
                        origin,
                        missing: labels(&mut missing),
                    },
                ));
            }
        }
    }
    let mut script = script_for(cluster, OP, &[])?;
    // A config that lists its paths may have none between the node and its new provider:
    // stored first (both ways: data one way, confirmations the other), and added to the
    // list `--write-config` writes.
    let mut with_paths = cluster.clone();
    for (server, client) in [(provider, receiver), (receiver, provider)] {
        if matches!(with_paths.paths, crate::model::Paths::Explicit(_))
            && !with_paths.has_path(server, client)
        {
            let stored = super::store_path(&with_paths, server, client)?;
            script.statements.extend(stored.script.statements);
            with_paths = stored.next;
        }
    }
    for (&origin, subs) in &by_origin {
        let names = labels(&mut subs.iter().map(|s| s.set));
        if provider != origin {
            script.push(echo(format!(
                "Waiting until node {provider} has caught up with origin node {origin} before node {receiver} receives {names} from it"
            )));
            script.extend(sync_and_wait(cluster, origin, NodeOrAll::Node(provider)));
        }
        script.extend(repoint(cluster, receiver, origin, provider, subs));
        script.push(echo(format!(
            "Node {receiver} now receives {names} from node {provider} (no new copy); waiting until it has caught up with origin node {origin}"
        )));
        script.extend(sync_and_wait(cluster, origin, NodeOrAll::Node(receiver)));
    }
    let moved: Vec<SetId> = changing.iter().map(|s| s.set).collect();
    let next = transition::resubscribe(&with_paths, receiver, provider, &moved).map_err(inconsistent(OP))?;
    script.push(echo(format!(
        "Node {receiver} receives {} from node {provider}",
        labels(&mut moved.iter().copied())
    )));
    finish(OP, script, next)
}

/// Whether `node` receives `set` through `through`: `through` is on its provider chain.
fn receives_through(cluster: &Cluster, set: SetId, node: NodeId, through: NodeId) -> bool {
    let mut at = node;
    for _ in 0..=cluster.subscriptions.len() {
        match cluster.subscriptions.get(&(set, at)) {
            Some(sub) if sub.provider == through => return true,
            Some(sub) => at = sub.provider,
            None => return false,
        }
    }
    false
}

/// The statements that make `receiver` receive its sets of `origin` from `provider`
/// without copying them again. On 2.2 one `resubscribe node`, which moves every set of
/// `origin` the receiver has. Before 2.2 one `subscribe set` with the new provider per
/// subscription of `subs` that does not come from it already, keeping its forwarding,
/// each followed by [`provider_event_reaches_origin`].
pub(crate) fn repoint<'a>(
    cluster: &Cluster,
    receiver: NodeId,
    origin: NodeId,
    provider: NodeId,
    subs: impl IntoIterator<Item = &'a Subscription>,
) -> Vec<crate::statement::Statement> {
    if ResubscribeNode::VERSIONS.contains(cluster.version) {
        return vec![ResubscribeNode {
            origin,
            provider,
            receiver,
        }
        .into()];
    }
    let mut statements = Vec::new();
    for sub in subs.into_iter().filter(|sub| sub.provider != provider) {
        statements.push(
            SubscribeSet {
                id: sub.set,
                provider,
                receiver,
                forward: sub.forward,
                omit_copy: None,
            }
            .into(),
        );
        statements.extend(provider_event_reaches_origin(cluster, provider, origin));
    }
    statements
}

/// Slony-I 1.2 submits `subscribe set` on the provider, and the origin creates the event
/// that enables the subscription only once it has received the provider's event; a `sync`
/// on the origin right after the subscribe can therefore be confirmed before the
/// subscription exists. On 1.2 with a provider other than the origin: wait until the
/// origin has confirmed the provider's event first (`wait for event` on the provider is
/// valid, as the script has just made an event there). Nothing for 2.0 and later, which
/// submit `subscribe set` on the origin.
pub(crate) fn provider_event_reaches_origin(
    cluster: &Cluster,
    provider: NodeId,
    origin: NodeId,
) -> Vec<crate::statement::Statement> {
    if cluster.version >= SlonyVersion::V2_0 || provider == origin {
        return Vec::new();
    }
    vec![
        echo(format!(
            "Waiting until origin node {origin} has received the subscription from provider node {provider} (Slony-I 1.2 submits it on the provider)"
        )),
        WaitForEvent {
            origin: NodeOrAll::Node(provider),
            confirmed: NodeOrAll::Node(origin),
            wait_on: provider,
            timeout: Some(cluster.wait_timeout),
        }
        .into(),
    ]
}

/// `slonik_unsubscribe_set SET NODE`: stop NODE from receiving SET. Refused while other
/// nodes receive the set through NODE.
pub fn unsubscribe_set(cluster: &Cluster, set: SetId, node: NodeId) -> Result<Change, OpError> {
    const OP: &str = "unsubscribe-set";
    let set_id = set;
    let set = known_set(cluster, set_id)?;
    let receiver = active_node(cluster, OP, node)?.id;
    if receiver == set.origin {
        return Err(refuse(
            OP,
            Refusal::UnsubscribeOrigin {
                node: receiver,
                set: set.id,
                name: set.name.clone(),
            },
        ));
    }
    if let Some(dependent) = cluster.subscribers(set_id).find(|s| s.provider == receiver) {
        return Err(refuse(
            OP,
            Refusal::FeedsOthers {
                node: receiver,
                dependent: dependent.receiver,
                set: set.id,
                name: set.name.clone(),
            },
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
    let next = transition::unsubscribe(cluster, set_id, receiver).map_err(inconsistent(OP))?;
    finish(OP, script, next)
}

/// `slonik_move_set SET FROM TO`: a controlled switchover of SET's origin.
///
/// Waits for TO to catch up while the set is still writable, then locks and moves in one
/// try block whose error handler unlocks the set, so a failed move never leaves it locked.
///
/// The next state comes from [`transition::move_set`], as the switchover runbook's does:
/// the default origin follows the sets when FROM was it and now originates no set.
pub fn move_set(cluster: &Cluster, set: SetId, from: NodeId, to: NodeId) -> Result<Change, OpError> {
    const OP: &str = "move-set";
    let set_id = set;
    let set = known_set(cluster, set_id)?;
    let old = active_node(cluster, OP, from)?.id;
    let new = active_node(cluster, OP, to)?.id;
    if old == new {
        return Err(refuse(OP, Refusal::MoveToItself { node: old }));
    }
    if set.origin != old {
        return Err(refuse(
            OP,
            Refusal::NotTheOrigin {
                set: set.id,
                name: set.name.clone(),
                node: old,
                origin: set.origin,
            },
        ));
    }
    if !cluster.subscriptions.contains_key(&(set_id, new)) {
        return Err(refuse(
            OP,
            Refusal::NotSubscribed {
                set: set.id,
                name: set.name.clone(),
                node: new,
            },
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
    let next = transition::move_set(cluster, set_id, new).map_err(inconsistent(OP))?;
    finish(OP, script, next)
}

/// `slonik_failover DEAD BACKUP [DEAD BACKUP]...`: give the sets of failed nodes to their
/// backups. Several pairs use 2.2's multi-node form. Failed nodes are left out of the
/// script header (slonik would try to reach them) and marked failed in the next state.
pub fn failover(cluster: &Cluster, pairs: &[(NodeId, NodeId)]) -> Result<Change, OpError> {
    const OP: &str = "failover";
    if pairs.is_empty() {
        return Err(refuse(OP, Refusal::NoFailoverPairs));
    }
    if pairs.len() > 1 && cluster.version < SlonyVersion::V2_2 {
        return Err(refuse(
            OP,
            Refusal::MultiNodeFailoverNeedsV2_2 {
                version: cluster.version,
            },
        ));
    }
    for (dead, backup) in pairs {
        active_node(cluster, OP, *dead)?;
        active_node(cluster, OP, *backup)?;
    }
    let resolved = pairs.to_vec();
    let dead: Vec<NodeId> = resolved.iter().map(|(d, _)| *d).collect();
    for (i, (d, b)) in resolved.iter().enumerate() {
        if d == b {
            return Err(refuse(OP, Refusal::OwnBackup { node: *d }));
        }
        if dead.contains(b) {
            return Err(refuse(OP, Refusal::BackupListedFailed { backup: *b }));
        }
        if dead[..i].contains(d) {
            return Err(refuse(OP, Refusal::DeadListedTwice { node: *d }));
        }
        for set in cluster.sets.values().filter(|s| s.origin == *d) {
            if !cluster.subscriptions.contains_key(&(set.id, *b)) {
                return Err(refuse(
                    OP,
                    Refusal::BackupNotSubscribed {
                        backup: *b,
                        set: set.id,
                        name: set.name.clone(),
                        dead: *d,
                    },
                ));
            }
        }
    }
    if cluster.active_nodes().all(|n| dead.contains(&n.id)) {
        return Err(refuse(OP, Refusal::NoSurvivor));
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
    let next = transition::fail_over(cluster, &resolved).map_err(inconsistent(OP))?;
    // Slony-I points every subscriber of a failed node at its backup, whether or not the
    // backup has the set to give; refuse rather than leave a subscriber with no data.
    if let Some(refusal) = failover_leaves_unfed(cluster, &next) {
        return Err(refuse(OP, refusal));
    }
    let origins = next
        .sets
        .values()
        .filter(|s| {
            cluster
                .sets
                .get(&s.id)
                .is_some_and(|before| resolved.iter().any(|(d, _)| before.origin == *d))
        })
        .map(|s| format!("{} now has origin node {}", s.label(), s.origin))
        .collect::<Vec<_>>();
    script.push(echo(format!(
        "Failover done ({summary}){}{}; the failed nodes are out of the cluster: drop them (drop-node) before rebuilding",
        if origins.is_empty() { "" } else { ": " },
        origins.join(", ")
    )));
    finish(OP, script, next)
}

/// Why the state after a failover would leave a subscriber without a working provider:
/// its provider is itself, failed, not forwarding, or receives the set in a loop.
fn failover_leaves_unfed(before: &Cluster, after: &Cluster) -> Option<Refusal> {
    let reaches_origin = |sub: &Subscription| {
        let Some(origin) = after.sets.get(&sub.set).map(|s| s.origin) else {
            return false;
        };
        let mut node = sub.provider;
        for _ in 0..=after.subscriptions.len() {
            if node == origin {
                return true;
            }
            match after.subscriptions.get(&(sub.set, node)) {
                Some(up) => node = up.provider,
                None => return false,
            }
        }
        false
    };
    let old_provider = |sub: &Subscription| {
        before
            .subscriptions
            .get(&(sub.set, sub.receiver))
            .map_or(sub.provider, |s| s.provider)
    };
    let unfed: Vec<&Subscription> = after
        .subscriptions
        .values()
        .filter(|s| {
            s.provider == s.receiver
                || after.nodes.get(&s.provider).is_none_or(|n| n.failed)
                || !after.can_provide(s.set, s.provider)
                || !reaches_origin(s)
        })
        .collect();
    // Name a subscription the failover redirected: that is the one the operator can act on.
    let sub = unfed
        .iter()
        .find(|s| old_provider(s) != s.provider)
        .or(unfed.first())?;
    let (receiver, provider, failed) = (sub.receiver, sub.provider, old_provider(sub));
    let (set, name) = (
        sub.set,
        before
            .sets
            .get(&sub.set)
            .map(|s| s.name.clone())
            .unwrap_or_default(),
    );
    Some(if provider == receiver {
        Refusal::WouldOrphanBackup {
            receiver,
            set,
            name,
            failed,
        }
    } else if after.can_provide(sub.set, provider) {
        Refusal::WouldOrphanInLoop {
            receiver,
            set,
            name,
            failed,
            provider,
        }
    } else {
        Refusal::WouldOrphanWithoutForwarding {
            receiver,
            set,
            name,
            failed,
            provider,
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Set 1 goes 1 -> 2 -> 3; node 4 subscribes from 1 without forwarding.
    fn chain() -> Cluster {
        let mut toml = String::from("cluster = \"c\"\n");
        for id in 1..=4 {
            toml.push_str(&format!("[[node]]\nid = {id}\n"));
        }
        toml.push_str(
            "[[set]]\nid = 1\ntables = [\"t\"]\n\
             [[subscription]]\nset = 1\nreceiver = 2\nprovider = 1\n\
             [[subscription]]\nset = 1\nreceiver = 3\nprovider = 2\n\
             [[subscription]]\nset = 1\nreceiver = 4\nprovider = 1\nforward = false\n",
        );
        crate::load_config_str(&toml, "chain.toml").unwrap()
    }

    fn refusal(result: Result<Change, OpError>) -> String {
        match result {
            Err(OpError::Refusal { refusal, .. }) => refusal.to_string(),
            other => panic!("expected a refusal, got {other:?}"),
        }
    }

    fn pair(dead: u32, backup: u32) -> [(NodeId, NodeId); 1] {
        [(NodeId(dead), NodeId(backup))]
    }

    // Found by tests/random_offline.rs: failing over a provider that is not an origin
    // left its subscribers pointed at a backup without the set, a state the config
    // validator itself rejects.
    #[test]
    fn failover_refuses_a_backup_that_cannot_feed_the_failed_providers_subscribers() {
        let cluster = chain();
        let reason = refusal(failover(&cluster, &pair(2, 4)));
        assert!(
            reason.contains("node 3 receives set 1 (set1) from failed node 2"),
            "{reason}"
        );
        assert!(
            reason.contains("backup node 4, which does not forward"),
            "{reason}"
        );
        let reason = refusal(failover(&cluster, &pair(2, 3)));
        assert!(
            reason.contains("backup node 3 receives set 1 (set1) from failed node 2"),
            "{reason}"
        );
    }

    #[test]
    fn failover_refuses_a_backup_downstream_of_the_failed_provider() {
        // 1 -> 2 -> 3 -> 5: failing 2 over to 5 would feed 3 from 5 and 5 from 3.
        let mut toml = chain().to_toml();
        toml.push_str(
            "[[node]]\nid = 5\n[[subscription]]\nset = 1\nreceiver = 5\nprovider = 3\nforward = true\n",
        );
        let cluster = crate::load_config_str(&toml, "chain5.toml").unwrap();
        let reason = refusal(failover(&cluster, &pair(2, 5)));
        assert!(
            reason.contains("node 3 receives set 1 (set1) from failed node 2; Slony-I would point it at backup node 5, which itself receives"),
            "{reason}"
        );
    }

    // Found by tests/random_offline.rs: the old origin took over the new origin's
    // `forward = false`, so the nodes it fed were left without a provider.
    #[test]
    fn move_set_makes_the_old_origin_a_forwarding_subscriber_like_slony() {
        let cluster = chain();
        let next = move_set(&cluster, SetId(1), NodeId(1), NodeId(4)).unwrap().next;
        let old = next.subscriptions[&(SetId(1), NodeId(1))];
        assert_eq!((old.provider, old.forward), (NodeId(4), true));
        assert_eq!(next.subscriptions[&(SetId(1), NodeId(2))].provider, NodeId(1));
        assert_eq!(
            crate::load_config_str(&next.to_toml(), "next.toml").unwrap(),
            next
        );
    }

    #[test]
    fn move_set_reverses_the_provider_chain_like_slony() {
        // 3 receives through 2: moving to 3 makes 2 receive from 3 and 1 from 2.
        let cluster = chain();
        let next = move_set(&cluster, SetId(1), NodeId(1), NodeId(3)).unwrap().next;
        let provider = |n: u32| next.subscriptions[&(SetId(1), NodeId(n))].provider;
        assert_eq!(next.sets[&SetId(1)].origin, NodeId(3));
        assert_eq!(
            (provider(2), provider(1), provider(4)),
            (NodeId(3), NodeId(2), NodeId(1))
        );
        assert!(!next.subscriptions.contains_key(&(SetId(1), NodeId(3))));
        assert_eq!(
            crate::load_config_str(&next.to_toml(), "next.toml").unwrap(),
            next
        );
    }

    fn chain_for(version: SlonyVersion) -> Cluster {
        crate::load_config_str_for(&chain().to_toml(), "chain.toml", Some(version)).unwrap()
    }

    #[test]
    fn resubscribe_sets_the_subscription_and_the_nodes_wish_and_reloads() {
        for version in SlonyVersion::ALL {
            let cluster = chain_for(version);
            let change = resubscribe(&cluster, NodeId(3), NodeId(1), &[]).unwrap();
            let next = &change.next;
            assert_eq!(next.subscriptions[&(SetId(1), NodeId(3))].provider, NodeId(1));
            assert!(next.subscriptions[&(SetId(1), NodeId(3))].forward, "{version}");
            assert_eq!(next.nodes[&NodeId(3)].provider, Some(NodeId(1)), "{version}");
            let reloaded = crate::load_config_str_for(&next.to_toml(), "next.toml", Some(version)).unwrap();
            assert_eq!(&reloaded, next, "{version}");
            let text = change.script.render().unwrap();
            let statement = if version >= SlonyVersion::V2_2 {
                "resubscribe node (origin = 1, provider = 1, receiver = 3);"
            } else {
                "subscribe set (id = 1, provider = 1, receiver = 3, forward = yes);"
            };
            assert!(text.contains(statement), "{version}:\n{text}");
            assert!(
                text.contains("wait for event (origin = 1, confirmed = 3, wait on = 1"),
                "{version}:\n{text}"
            );
        }
    }

    #[test]
    fn resubscribe_refuses_a_loop_a_non_forwarding_provider_and_nothing_to_do() {
        let cluster = chain();
        // 3 receives through 2: 2 from 3 would be a loop.
        let reason = refusal(resubscribe(&cluster, NodeId(2), NodeId(3), &[]));
        assert!(
            reason.contains("node 3 receives set 1 (set1) through node 2"),
            "{reason}"
        );
        // 4 does not forward.
        let reason = refusal(resubscribe(&cluster, NodeId(3), NodeId(4), &[]));
        assert!(reason.contains("forward = true"), "{reason}");
        let reason = refusal(resubscribe(&cluster, NodeId(3), NodeId(2), &[]));
        assert!(reason.contains("nothing to re-point"), "{reason}");
        let reason = refusal(resubscribe(&cluster, NodeId(3), NodeId(3), &[]));
        assert!(reason.contains("its own provider"), "{reason}");
        let reason = refusal(resubscribe(&cluster, NodeId(1), NodeId(2), &[]));
        assert!(reason.contains("subscribes to no set"), "{reason}");
        let reason = refusal(resubscribe(&cluster, NodeId(1), NodeId(2), &[SetId(1)]));
        assert!(reason.contains("origin of set 1"), "{reason}");
    }

    /// Node 3 receives sets 1 and 2 (origin 1) from node 1 and set 3 (origin 2) from node 2.
    fn two_origins(version: SlonyVersion) -> Cluster {
        let toml = "cluster = \"c\"\n[[node]]\nid = 1\n[[node]]\nid = 2\n[[node]]\nid = 3\n\
            [[set]]\nid = 1\ntables = [\"a\"]\n[[set]]\nid = 2\ntables = [\"b\"]\n\
            [[set]]\nid = 3\norigin = 2\ntables = [\"c\"]\n\
            [[subscription]]\nset = 1\nreceiver = 2\n[[subscription]]\nset = 2\nreceiver = 2\n\
            [[subscription]]\nset = 3\nreceiver = 1\n\
            [[subscription]]\nset = 1\nreceiver = 3\n[[subscription]]\nset = 2\nreceiver = 3\n\
            [[subscription]]\nset = 3\nreceiver = 3\n";
        crate::load_config_str_for(toml, "two_origins.toml", Some(version)).unwrap()
    }

    #[test]
    fn resubscribe_some_sets_keeps_the_wish_until_all_come_from_the_provider() {
        let cluster = two_origins(SlonyVersion::V2_1);
        let next = resubscribe(&cluster, NodeId(3), NodeId(2), &[SetId(1)])
            .unwrap()
            .next;
        assert_eq!(next.subscriptions[&(SetId(1), NodeId(3))].provider, NodeId(2));
        assert_eq!(next.subscriptions[&(SetId(2), NodeId(3))].provider, NodeId(1));
        assert_eq!(next.nodes[&NodeId(3)].provider, None);
        let last = resubscribe(&next, NodeId(3), NodeId(2), &[SetId(2)])
            .unwrap()
            .next;
        assert_eq!(last.nodes[&NodeId(3)].provider, Some(NodeId(2)));
        // 2.2's resubscribe node moves every set of the origin: naming only one is refused.
        let cluster = two_origins(SlonyVersion::V2_2);
        let reason = refusal(resubscribe(&cluster, NodeId(3), NodeId(2), &[SetId(1)]));
        assert!(reason.contains("leaves out set 2 (set2)"), "{reason}");
        let text = resubscribe(&cluster, NodeId(3), NodeId(2), &[SetId(2), SetId(1)])
            .unwrap()
            .script
            .render()
            .unwrap();
        assert_eq!(text.matches("resubscribe node (").count(), 1, "{text}");
    }

    #[test]
    fn omit_copy_needs_2_0_and_is_rendered_from_it() {
        let reason = refusal(subscribe_set_omit_copy(
            &chain_for(SlonyVersion::V1_2),
            SetId(1),
            NodeId(3),
        ));
        assert!(reason.contains("2.0 or later"), "{reason}");
        for version in [SlonyVersion::V2_0, SlonyVersion::V2_1, SlonyVersion::V2_2] {
            let cluster = chain_for(version);
            let text = subscribe_set_omit_copy(&cluster, SetId(1), NodeId(3))
                .unwrap()
                .script
                .render()
                .unwrap();
            assert!(
                text.contains("forward = yes, omit copy = yes);"),
                "{version}:\n{text}"
            );
            let plain = subscribe_set(&cluster, SetId(1), NodeId(3))
                .unwrap()
                .script
                .render()
                .unwrap();
            assert!(!plain.contains("omit copy"), "{version}:\n{plain}");
        }
    }

    #[test]
    fn failover_to_a_forwarding_subscriber_keeps_a_loadable_state() {
        let cluster = chain();
        for (dead, backup) in [(2, 1), (1, 2), (1, 3)] {
            let next = failover(&cluster, &pair(dead, backup)).unwrap().next;
            let reloaded = crate::load_config_str(&next.to_toml(), "next.toml").unwrap();
            assert_eq!(reloaded, next, "after failover {dead} -> {backup}");
        }
    }
}
