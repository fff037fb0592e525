//! Switchover: move sets to a subscriber while both nodes are healthy, never leaving a set
//! locked, then re-point the other subscribers where the new shape needs it.

use std::collections::BTreeMap;

use super::builder::Builder;
use super::catalog;
use super::plan::{Action, Plan, Recovery};
use super::text::and_list;
use crate::model::{Cluster, NodeId, Set, SetId};
use crate::ops::{
    self, active_node, echo, known_node, known_set, referenced_node, refuse, script_for, sync_and_wait,
    OpError, Refusal,
};
use crate::statement::{LockSet, MoveSet, NodeOrAll, ResubscribeNode, UnlockSet};

/// Transactions older than this on the origin's instance stop a switchover before it
/// starts: `lock set` would wait for them with the set already locked.
pub const LONG_TRANSACTION_SECONDS: u32 = 60;

/// `switchover --set SET... --to NODE` or `switchover --from NODE --to NODE`: checks that
/// the target is an active direct subscriber, that no set is locked and that no
/// long-running transaction would hang `lock set`; then, per set, waits for the target to
/// catch up, locks, syncs, waits, moves (unlocking the set if any of that fails) and waits
/// until every node has confirmed; finally re-points other subscribers to their configured
/// provider or to the new origin.
///
/// `sets` come from [`crate::resolve`] (`--set`, or every set of `--from`); at least one.
pub fn switchover(cluster: &Cluster, sets: &[SetId], to: NodeId) -> Result<Plan, OpError> {
    const OP: &str = "switchover";
    let target = active_node(cluster, OP, to)?;
    if sets.is_empty() {
        return Err(refuse(OP, Refusal::NoSetsNamed));
    }
    let mut set_ids = sets.to_vec();
    set_ids.sort();
    set_ids.dedup();
    let labels: Vec<String> = set_ids
        .iter()
        .map(|s| known_set(cluster, *s).map(Set::label))
        .collect::<Result<_, _>>()?;
    let title = format!("Switch over {} to {}", and_list(&labels), target.label());
    let mut builder = Builder::new(OP, title, cluster)?;
    add_switchover(&mut builder, &set_ids, to)?;
    builder.finish()
}

/// Appends the switchover of `sets` to `target` to a plan: checks, moves, re-pointing.
pub(crate) fn add_switchover(builder: &mut Builder, sets: &[SetId], target: NodeId) -> Result<(), OpError> {
    let op = builder.operation();
    let start = builder.state().clone();
    let mut by_origin: BTreeMap<NodeId, Vec<SetId>> = BTreeMap::new();
    for &set_id in sets {
        let set = known_set(&start, set_id)?;
        let name = || set.name.clone();
        if set.origin == target {
            return Err(refuse(
                op,
                Refusal::AlreadyOrigin {
                    node: target,
                    set: set_id,
                    name: name(),
                },
            ));
        }
        if referenced_node(&start, op, set.origin, || format!("the origin of set {set_id}"))?.failed {
            return Err(refuse(
                op,
                Refusal::SwitchoverFromFailedOrigin {
                    set: set_id,
                    name: name(),
                    origin: set.origin,
                },
            ));
        }
        match start.subscriptions.get(&(set_id, target)) {
            None => {
                return Err(refuse(
                    op,
                    Refusal::SwitchoverTargetNotSubscribed {
                        node: target,
                        set: set_id,
                        name: name(),
                    },
                ))
            }
            Some(sub) if sub.provider != set.origin => {
                return Err(refuse(
                    op,
                    Refusal::NotADirectSubscriber {
                        node: target,
                        set: set_id,
                        name: name(),
                        provider: sub.provider,
                        origin: set.origin,
                    },
                ))
            }
            Some(_) => {}
        }
        by_origin.entry(set.origin).or_default().push(set_id);
    }

    let target_label = known_node(&start, target)?.label();
    for (&origin, origin_sets) in &by_origin {
        let origin_label = referenced_node(&start, op, origin, || "the origin of a set".into())?.label();
        let names = set_names(&start, origin_sets);
        builder.check(
            format!("Check that {target_label} is an active direct subscriber of {names}"),
            format!("Slony-I moves a set only to a node that receives it straight from the origin; a subscription that is still copying or was never enabled would make `move set` fail with the set locked, so it is checked on {origin_label} before anything changes"),
            origin,
            catalog::active_subscriptions(&start, origin_sets, target, Some(origin)),
            origin_sets.len().to_string(),
            0,
        );
        builder.check(
            format!("Check that {names} {} not locked", if origin_sets.len() == 1 { "is" } else { "are" }),
            "A set left locked by an earlier, interrupted move accepts no writes; it must be unlocked (or the old move finished) by a person who knows why it is locked before a new switchover starts",
            origin,
            catalog::locked_sets(&start, origin_sets),
            "0",
            0,
        );
        builder.check(
            format!("Check that no transaction on {origin_label} is older than {LONG_TRANSACTION_SECONDS} seconds"),
            "`lock set` waits for every transaction that started before it; an old or idle-in-transaction session on the origin's instance would leave the set locked (no writes) until it ends. Find it in pg_stat_activity and end it, then run the runbook again",
            origin,
            catalog::long_transactions(start.version, LONG_TRANSACTION_SECONDS),
            "0",
            0,
        );
    }

    for &set_id in sets {
        move_one(builder, set_id, target)?;
    }
    repoint(builder, target, sets)
}

fn set_names(cluster: &Cluster, sets: &[SetId]) -> String {
    and_list(
        &sets
            .iter()
            .map(|s| cluster.sets.get(s).map_or_else(|| format!("set {s}"), Set::label))
            .collect::<Vec<_>>(),
    )
}

fn move_one(builder: &mut Builder, set_id: SetId, target: NodeId) -> Result<(), OpError> {
    let op = builder.operation();
    let state = builder.state().clone();
    let set = known_set(&state, set_id)?;
    let origin = set.origin;
    let label = set.label();
    // move_set checks the arguments against the model and gives the state after the move,
    // the default origin included, exactly as the single `move-set` does.
    let next = ops::move_set(&state, set_id, origin, target)?.next;

    let mut script = script_for(&state, op, &[])?;
    script.push(echo(format!(
        "Switching over {label} from node {origin} to node {target}: waiting for node {target} to catch up while the set is still writable"
    )));
    script.extend(sync_and_wait(&state, origin, NodeOrAll::Node(target)));
    script.push(echo(format!(
        "Locking {label} on node {origin}: writes to its tables wait from now on"
    )));
    script.push(LockSet { id: set_id, origin });
    script.push(echo(format!(
        "Waiting for node {target} to confirm everything written before the lock"
    )));
    script.extend(sync_and_wait(&state, origin, NodeOrAll::Node(target)));
    script.push(MoveSet {
        id: set_id,
        old_origin: origin,
        new_origin: target,
    });
    script.push(echo(format!("{label} moved: node {target} is its origin")));

    let mut unlock = script_for(&state, op, &[])?;
    unlock.push(echo(format!(
        "Unlocking {label} on node {origin}; node {origin} stays its origin"
    )));
    unlock.push(UnlockSet { id: set_id, origin });

    builder.slonik(
        format!("Move {label} from node {origin} to node {target}"),
        format!("The controlled switchover: node {target} catches up while {label} is writable, so the lock is short; then lock, sync, wait until node {target} has every change made before the lock, and move. Nothing is lost: the lock makes node {origin} refuse writes until the move"),
        script,
        Some(Recovery {
            why: format!("unlock {label} so node {origin} takes writes again (if the failure came before the lock, slonik reports the set as not locked: that is fine)"),
            action: Action::Slonik(unlock),
        }),
    )?;

    let mut confirm = script_for(&next, op, &[])?;
    confirm.push(echo(format!(
        "Waiting until every node has confirmed the move of {label}"
    )));
    confirm.extend(sync_and_wait(&next, origin, NodeOrAll::All));
    confirm.push(echo(format!(
        "Every node knows that node {target} is the origin of {label}"
    )));
    builder.slonik(
        format!("Wait until every node has confirmed the move of {label}"),
        "Until every node has processed the move, some subscribers still expect data from the old origin; re-pointing them or writing config files before that would describe a cluster that does not exist yet",
        confirm,
        None,
    )?;
    builder.set_state(next.clone());
    builder.check(
        format!(
            "Check that {} is the unlocked origin of {label}",
            known_node(&next, target)?.label()
        ),
        "Proves the move happened and that the set takes writes on its new origin",
        target,
        catalog::sets_with_origin(&next, &[set_id], target),
        "1",
        next.wait_timeout,
    );
    Ok(())
}

/// The provider `receiver` should use for the sets of `origin`: its configured provider
/// when that node can feed every one of them, else the origin itself.
fn desired_provider(cluster: &Cluster, receiver: NodeId, origin: NodeId, sets: &[SetId]) -> NodeId {
    match cluster.nodes.get(&receiver).and_then(|n| n.provider) {
        Some(p)
            if p != receiver
                && cluster.nodes.get(&p).is_some_and(|n| !n.failed)
                && (p == origin
                    || sets.iter().all(|s| {
                        cluster
                            .subscriptions
                            .get(&(*s, p))
                            .is_some_and(|sub| sub.forward && sub.provider != receiver)
                    })) =>
        {
            p
        }
        _ => origin,
    }
}

/// After the moves: subscribers that received a moved set through a node that is no longer
/// the right provider are re-pointed (`resubscribe node` on 2.2, `subscribe set` before).
fn repoint(builder: &mut Builder, origin: NodeId, moved: &[SetId]) -> Result<(), OpError> {
    let op = builder.operation();
    let state = builder.state().clone();
    let origin_sets: Vec<SetId> = state
        .sets
        .values()
        .filter(|s| s.origin == origin)
        .map(|s| s.id)
        .collect();
    let mut changes: Vec<(NodeId, NodeId, Vec<SetId>)> = Vec::new();
    for receiver in state.active_nodes().map(|n| n.id).filter(|n| *n != origin) {
        let subscribed: Vec<SetId> = origin_sets
            .iter()
            .copied()
            .filter(|s| state.subscriptions.contains_key(&(*s, receiver)))
            .collect();
        if !subscribed.iter().any(|s| moved.contains(s)) {
            continue;
        }
        let provider = desired_provider(&state, receiver, origin, &subscribed);
        if subscribed.iter().all(|s| {
            state
                .subscriptions
                .get(&(*s, receiver))
                .is_some_and(|sub| sub.provider == provider)
        }) {
            continue;
        }
        changes.push((receiver, provider, subscribed));
    }
    if changes.is_empty() {
        return Ok(());
    }
    // Nodes fed by the origin first, so a cascaded provider is in place before its receivers.
    changes.sort_by_key(|(receiver, provider, _)| (*provider != origin, *receiver));
    let needed: Vec<(NodeId, NodeId)> = changes
        .iter()
        .flat_map(|(r, p, _)| [(*p, *r), (*r, *p)])
        .collect();
    super::paths::ensure_paths(
        builder,
        &needed,
        &[],
        "each re-pointed node's slon must reach its new provider",
    )?;
    let state = builder.state().clone();

    for (receiver, provider, _) in &changes {
        builder.check(
            format!("Check that node {receiver} knows its path from node {provider}"),
            format!("Node {receiver} reshapes its own subscriptions and needs the path from node {provider} in its catalog; paths stored by this runbook travel as events, and slonik reports a failed reshape without stopping"),
            *receiver,
            catalog::path_known(&state, *provider, *receiver),
            "1",
            state.wait_timeout,
        );
    }
    let mut next = state.clone();
    let mut script = script_for(&state, op, &[])?;
    for (receiver, provider, subscribed) in &changes {
        script.push(echo(if *provider == origin {
            format!("Node {receiver} now receives the sets of node {origin} straight from it (no new copy)")
        } else {
            format!("Node {receiver} now receives the sets of node {origin} through node {provider} (no new copy)")
        }));
        script.extend(ops::repoint(
            &state,
            *receiver,
            origin,
            *provider,
            subscribed
                .iter()
                .filter_map(|s| state.subscriptions.get(&(*s, *receiver))),
        ));
        for set in subscribed {
            next = crate::transition::change_provider(&next, *set, *receiver, *provider)
                .map_err(ops::inconsistent(op))?;
        }
    }
    script.push(echo("Waiting until every node has confirmed the new providers"));
    script.extend(sync_and_wait(&state, origin, NodeOrAll::All));
    let receivers: Vec<String> = changes
        .iter()
        .map(|(r, p, _)| format!("node {r} from node {p}"))
        .collect();
    builder.slonik(
        format!("Re-point subscribers to the new shape: {}", and_list(&receivers)),
        format!("After the move these nodes still receive through a node that is no longer their configured provider (or the new origin); {}", if ResubscribeNode::VERSIONS.contains(state.version) { "`resubscribe node` changes the provider without copying the data again" } else { "`subscribe set` with the new provider changes it without copying the data again" }),
        script,
        None,
    )?;
    builder.set_state(next.clone());
    for (receiver, provider, subscribed) in &changes {
        builder.check(
            format!(
                "Check that node {receiver} receives {} from node {provider}",
                set_names(&next, subscribed)
            ),
            "The new provider must be in place and active before the runbook ends",
            *receiver,
            catalog::active_subscriptions(&next, subscribed, *receiver, Some(*provider)),
            subscribed.len().to_string(),
            next.wait_timeout,
        );
    }
    Ok(())
}
