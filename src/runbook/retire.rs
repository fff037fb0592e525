//! Retiring a node for good: what it serves moves away first, then it leaves the cluster,
//! its slon stops, Slony-I is removed from its database, and it leaves the config.

use std::collections::BTreeMap;

use super::builder::Builder;
use super::catalog;
use super::plan::Plan;
use super::slon::{admin_conninfo, push_slon_stop};
use super::switchover::add_switchover;
use super::text::and_list;
use crate::escape::shell::word;
use crate::model::{Cluster, NodeId, SetId};
use crate::ops::{self, active_node, known_set, refuse, OpError, Refusal};
use crate::statement::{NodeOrAll, ResubscribeNode};

const OPERATION: &str = "retire-node";

/// `runbook retire-node --node N [--to T]`: if N is the origin of sets, switch them over
/// to T first (refused without `--to`); re-point every node that receives a set through N
/// to N's own provider of that set (or the origin); unsubscribe N from its sets; drop N
/// (waiting until every node has processed the drop); stop its slon; remove Slony-I's
/// schema from its database if it answers; check every remaining node's catalog. The
/// plan's next state no longer has N, so `--write-config` removes its `[[node]]`.
pub fn retire_node(cluster: &Cluster, node: NodeId, to: Option<NodeId>) -> Result<Plan, OpError> {
    let retiring = active_node(cluster, OPERATION, node)?.clone();
    let origin_of: Vec<SetId> = cluster
        .sets
        .values()
        .filter(|s| s.origin == node)
        .map(|s| s.id)
        .collect();
    match (origin_of.first(), to) {
        (Some(&set), None) => {
            return Err(refuse(
                OPERATION,
                Refusal::RetireOriginWithoutTarget {
                    node,
                    set,
                    name: known_set(cluster, set)?.name.clone(),
                },
            ))
        }
        (_, Some(to)) if to == node => return Err(refuse(OPERATION, Refusal::RetireToItself { node })),
        (None, Some(to)) => return Err(refuse(OPERATION, Refusal::RetireToNotNeeded { node, to })),
        _ => {}
    }
    let title = match to {
        Some(to) => format!(
            "Retire {}: its sets move to node {to}, then it leaves the cluster",
            retiring.label()
        ),
        None => format!("Retire {} from cluster {}", retiring.label(), cluster.name),
    };
    let mut builder = Builder::new(OPERATION, title, cluster)?;
    if let Some(to) = to {
        active_node(cluster, OPERATION, to)?;
        add_switchover(&mut builder, &origin_of, to)?;
        builder.manual(
            format!("Send the writes to node {to}"),
            "slonik-gen cannot reach your applications or connection pooler; from the move on, the retiring node refuses writes to the moved sets",
            format!("Node {to} is now the origin of the sets {} had: point the applications at it before going on.", retiring.label()),
        );
    }
    retire_steps(&mut builder, node, to)?;
    builder.finish()
}

/// The retire steps on a builder whose state has `node` as the origin of no set; the
/// nodes it feeds move to `replacement` where that node can feed them.
pub(super) fn retire_steps(
    builder: &mut Builder,
    node: NodeId,
    replacement: Option<NodeId>,
) -> Result<(), OpError> {
    let op = builder.operation();
    repoint_away(builder, node, replacement)?;

    let state = builder.state().clone();
    let retiring = ops::known_node(&state, node)?.clone();
    let label = retiring.label();
    let subscribed: Vec<SetId> = state
        .subscriptions
        .values()
        .filter(|s| s.receiver == node)
        .map(|s| s.set)
        .collect();
    for set in subscribed {
        let unsubscribed = ops::unsubscribe_set(builder.state(), set, node)?;
        let set_label = known_set(builder.state(), set)?.label();
        builder.change(
            format!("Unsubscribe {label} from {set_label}"),
            format!(
                "Node {node} stops receiving {set_label}; no node receives it through node {node} any more"
            ),
            unsubscribed,
        )?;
    }

    // With explicit paths, the node may carry other nodes' events: give each pair it
    // would cut off a path of its own before it goes.
    for _ in 0..builder.state().nodes.len() {
        let without = crate::transition::drop_node(builder.state(), node, builder.state().default_origin)
            .map_err(ops::inconsistent(op))?;
        let Some((from, to)) = without.path_gap() else {
            break;
        };
        super::paths::ensure_paths(
            builder,
            &[(from, to), (to, from)],
            &[],
            &format!("node {node} carries node {from}'s events to node {to} today, and it is leaving"),
        )?;
    }

    let state = builder.state().clone();
    let event = state
        .sets
        .values()
        .map(|s| s.origin)
        .chain(std::iter::once(state.default_origin))
        .chain(state.active_nodes().map(|n| n.id))
        .find(|n| *n != node && state.nodes.get(n).is_some_and(|x| !x.failed))
        .ok_or_else(|| refuse(op, Refusal::OnlyNode { node }))?;
    let dropped = ops::drop_node(&state, node, event)?;
    builder.change(
        format!("Drop {label} from the cluster"),
        format!("Every node forgets node {node}, its paths and its listens; the event node is node {event}, and the script waits until every node has processed the drop"),
        dropped,
    )?;

    push_slon_stop(
        builder,
        &state,
        &retiring,
        &format!("Node {node} is no longer in the cluster; its slon has nothing left to do and would only log errors."),
        "",
        false,
    )?;

    let conninfo = word(&admin_conninfo(&state, op, &retiring, label.clone())?);
    let schema_name = format!("_{}", state.name);
    let schema = catalog::schema(&state);
    let unreachable = word(&format!(
        "{label} does not answer: its Slony-I schema {schema} stays; when it is back, run on it: select {schema}.uninstallNode(); drop schema {schema} cascade;"
    ));
    builder.shell(
        format!("Remove Slony-I from the database of {label}, if it answers"),
        format!("What `uninstall node` does: Slony-I's function uninstallNode() (which on 1.2 also restores the catalog it changed), then drop schema {schema} cascade, which removes Slony's triggers from the application tables; the tables and their data stay. A node that does not answer is left as it is, with a message saying what to run later"),
        node,
        format!(
            "if psql -X -q -A -t -d {conninfo} -c 'select 1' >/dev/null 2>&1; then\n  if [ \"$(psql -X -q -A -t -v ON_ERROR_STOP=1 -d {conninfo} -c {})\" = 1 ]; then\n    psql -X -q -o /dev/null -v ON_ERROR_STOP=1 -d {conninfo} -c {}\n  fi\nelse\n  echo {unreachable} >&2\nfi",
            word(&catalog::schema_exists(&schema_name)),
            word(&format!(
                "set client_min_messages = warning; select {schema}.uninstallNode(); drop schema {schema} cascade;"
            )),
        ),
        false,
    );
    Ok(())
}

/// Re-points every node that receives a set through `node` to `replacement`, else to
/// `node`'s own provider of that set, else to the set's origin, whichever first can feed
/// every set of that origin the receiver has without a loop: per receiver and origin one
/// provider (2.2's `resubscribe node` moves every set of an origin at once). A receiver
/// whose `[[node]] provider` is `node` gets the new provider as its wish too.
fn repoint_away(builder: &mut Builder, node: NodeId, replacement: Option<NodeId>) -> Result<(), OpError> {
    let op = builder.operation();
    let state = builder.state().clone();
    // (receiver, origin) -> the sets of that origin it receives through `node`.
    let mut fed: BTreeMap<(NodeId, NodeId), Vec<SetId>> = BTreeMap::new();
    for sub in state.subscriptions.values().filter(|s| s.provider == node) {
        let origin = known_set(&state, sub.set)?.origin;
        fed.entry((sub.receiver, origin)).or_default().push(sub.set);
    }
    if fed.is_empty() {
        return Ok(());
    }
    let mut changes: Vec<(NodeId, NodeId, NodeId)> = Vec::new();
    for (&(receiver, origin), sets) in &fed {
        // Every set of `origin` the receiver has: resubscribe node moves them together.
        let all: Vec<SetId> = state
            .subscriptions
            .values()
            .filter(|s| s.receiver == receiver && state.sets.get(&s.set).is_some_and(|x| x.origin == origin))
            .map(|s| s.set)
            .collect();
        let feeds_all = |p: &NodeId| {
            *p != receiver
                && *p != node
                && all.iter().all(|s| {
                    state.can_provide(*s, *p)
                        && state
                            .subscriptions
                            .get(&(*s, *p))
                            .is_none_or(|sub| sub.provider != receiver)
                })
        };
        let candidate = replacement
            .filter(feeds_all)
            .or_else(|| {
                state
                    .subscriptions
                    .get(&(sets[0], node))
                    .map(|s| s.provider)
                    .filter(feeds_all)
            })
            .unwrap_or(origin);
        changes.push((receiver, origin, candidate));
    }
    // Receivers fed by the origin first, so a cascaded provider is in place before its own.
    changes.sort_by_key(|(receiver, origin, provider)| (provider != origin, *receiver));
    // Both ways: the receiver's slon reads from its provider, the provider hears its confirms.
    let needed: Vec<(NodeId, NodeId)> = changes
        .iter()
        .flat_map(|(r, _, p)| [(*p, *r), (*r, *p)])
        .collect();
    super::paths::ensure_paths(
        builder,
        &needed,
        &[],
        "each re-pointed node's slon must reach its new provider",
    )?;
    let state = builder.state().clone();

    let mut next = state.clone();
    let mut script = ops::script_for(&state, op, &[])?;
    for &(receiver, origin, provider) in &changes {
        script.push(ops::echo(format!(
            "Node {receiver} now receives the sets of node {origin} from node {provider} instead of node {node}"
        )));
        let sets: Vec<SetId> = state
            .subscriptions
            .values()
            .filter(|s| s.receiver == receiver && state.sets.get(&s.set).is_some_and(|x| x.origin == origin))
            .map(|s| s.set)
            .collect();
        script.extend(ops::repoint(
            &state,
            receiver,
            origin,
            provider,
            sets.iter()
                .filter_map(|s| state.subscriptions.get(&(*s, receiver))),
        ));
        for set in &sets {
            next = crate::transition::change_provider(&next, *set, receiver, provider)
                .map_err(ops::inconsistent(op))?;
        }
        if let Some(n) = next.nodes.get_mut(&receiver) {
            if n.provider == Some(node) {
                n.provider = (provider != origin).then_some(provider);
            }
        }
    }
    let mut origins: Vec<NodeId> = changes.iter().map(|(_, o, _)| *o).collect();
    origins.sort();
    origins.dedup();
    for origin in origins {
        script.push(ops::echo(format!(
            "Waiting until every node has confirmed the new providers of the sets of node {origin}"
        )));
        script.extend(ops::sync_and_wait(&state, origin, NodeOrAll::All));
    }
    let list: Vec<String> = changes
        .iter()
        .map(|(r, _, p)| format!("node {r} from node {p}"))
        .collect();
    builder.slonik(
        format!(
            "Re-point the nodes that receive through node {node}: {}",
            and_list(&list)
        ),
        format!(
            "Node {node} must feed nobody before it leaves; {}",
            if ResubscribeNode::VERSIONS.contains(state.version) {
                "`resubscribe node` changes the provider without copying the data again"
            } else {
                "`subscribe set` with the new provider changes it without copying the data again"
            }
        ),
        script,
        None,
    )?;
    builder.set_state(next.clone());
    for &(receiver, origin, provider) in &changes {
        let sets: Vec<SetId> = next
            .subscriptions
            .values()
            .filter(|s| s.receiver == receiver && next.sets.get(&s.set).is_some_and(|x| x.origin == origin))
            .map(|s| s.set)
            .collect();
        builder.check(
            format!("Check that node {receiver} receives the sets of node {origin} from node {provider}"),
            format!("The new provider must be active before node {node} leaves"),
            receiver,
            catalog::active_subscriptions(&next, &sets, receiver, Some(provider)),
            sets.len().to_string(),
            next.wait_timeout,
        );
    }
    Ok(())
}
