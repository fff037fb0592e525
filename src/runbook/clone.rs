//! Cloning a subscriber (Slony-I 2.0 and later): `clone prepare` duplicates a subscriber's
//! place in the cluster under a new id, a full dump of its database becomes the new node's,
//! and `clone finish` sets the clone's confirmations from it. No initial copy: the fastest
//! way to add a node when the data is large.

use super::add_node::{with_new_node, NewNode};
use super::builder::Builder;
use super::catalog;
use super::plan::Plan;
use super::slon::{admin_conninfo, push_slon_conf, push_slon_start};
use crate::escape::shell::word;
use crate::model::{Cluster, NodeId, Subscription};
use crate::ops::{self, active_node, refuse, OpError, Refusal};
use crate::statement::{CloneFinish, ClonePrepare, NodeOrAll, RestartNode};

const OPERATION: &str = "clone-node";

/// `runbook clone-node --from P --id NEW --conninfo ...`: checks that P is a subscriber
/// (the origin of no set) and that NEW's database answers and is empty; `clone prepare`,
/// then a SYNC on every other node confirmed by P, so the dump misses no event; a full
/// `pg_dump` of P restored into NEW (Slony-I's schema included); `clone finish`, the paths
/// between NEW and every node, and a restart of P's slon (Slony-I's slon leaves a node that
/// its own node's `clone prepare` made disabled, so P's slon would take none of NEW's
/// events); NEW's slon config and start; a SYNC of every origin confirmed by NEW. NEW
/// subscribes what P subscribes, from the same providers; the plan's next state has it, so
/// `--write-config` adds its `[[node]]` and subscriptions.
pub fn clone_node(cluster: &Cluster, from: NodeId, new: &NewNode) -> Result<Plan, OpError> {
    if !ClonePrepare::VERSIONS.contains(cluster.version) {
        return Err(refuse(
            OPERATION,
            Refusal::CloneNeeds20 {
                version: cluster.version,
            },
        ));
    }
    let source = active_node(cluster, OPERATION, from)?.clone();
    if let Some(set) = cluster.sets.values().find(|s| s.origin == from) {
        return Err(refuse(
            OPERATION,
            Refusal::CloneOrigin {
                node: from,
                set: set.id,
                name: set.name.clone(),
            },
        ));
    }
    let copied: Vec<Subscription> = cluster
        .subscriptions
        .values()
        .filter(|s| s.receiver == from)
        .copied()
        .collect();
    if copied.is_empty() {
        return Err(refuse(OPERATION, Refusal::CloneNothingSubscribed { node: from }));
    }
    let mut clone = new.clone();
    clone.provider = source.provider;
    clone.forward = source.forward;
    let with_node = with_new_node(cluster, OPERATION, &clone)?;
    let id = new.id;
    let node = ops::known_node(&with_node, id)?.clone();
    let label = node.label();
    let title = format!("Clone {} as {label}", source.label());
    let mut builder = Builder::new(OPERATION, title, &with_node)?;

    builder.check(
        format!("Check that the database of {label} answers and holds no tables"),
        "The dump of the cloned node is restored there and stops at the first object that already exists; a database with tables in it may be the wrong one",
        id,
        catalog::user_relations(),
        "0",
        0,
    );

    // Before the clone prepare the cluster does not have the new node: its scripts leave
    // it out of their headers.
    let mut before = with_node.clone();
    before.nodes.remove(&id);
    let mut script = ops::script_for(&before, OPERATION, &[])?;
    script.push(ClonePrepare {
        id,
        provider: from,
        comment: node
            .comment
            .clone()
            .or_else(|| Some(format!("Clone of node {from}"))),
    });
    script.push(ops::echo(format!(
        "The place of node {from} in the cluster is duplicated as node {id}"
    )));
    for other in before.active_nodes().map(|n| n.id).filter(|n| *n != from) {
        script.push(ops::echo(format!(
            "Waiting until node {from} has confirmed everything node {other} did so far"
        )));
        script.extend(ops::sync_and_wait(&before, other, NodeOrAll::Node(from)));
    }
    builder.slonik(
        format!("Prepare the clone of {} as node {id}", source.label()),
        format!("`clone prepare` copies node {from}'s subscriptions, paths and listens to node {id} in every node's catalog. The SYNCs that follow, each confirmed by node {from}, make sure node {from}'s database has every event that came before, so the dump taken next misses none (the admin guide's advice for clone prepare)"),
        script,
        None,
    )?;

    let source_conninfo = admin_conninfo(&with_node, OPERATION, &source, source.label())?;
    let node_conninfo = admin_conninfo(&with_node, OPERATION, &node, label.clone())?;
    builder.shell(
        format!("Copy the database of {} to {label}", source.label()),
        format!("The whole database, data and Slony-I's schema {} included, as one consistent snapshot (`pg_dump -Fc`), restored into node {id}'s database; this replaces the initial copy of a subscription. Use the pg_dump and pg_restore of the newer PostgreSQL of the two servers", catalog::schema(&with_node)),
        id,
        format!(
            "dump_dir=$(mktemp -d)\npg_dump -Fc -f \"$dump_dir/clone.dump\" -d {}\npg_restore --exit-on-error -d {} \"$dump_dir/clone.dump\"\nrm -rf \"$dump_dir\"",
            word(&source_conninfo),
            word(&node_conninfo),
        ),
        false,
    );

    let mut script = ops::script_for(&with_node, OPERATION, &[])?;
    script.push(CloneFinish { id, provider: from });
    script.extend(crate::ops::paths_both_ways(&with_node, id)?);
    script.push(ops::echo(format!(
        "{label} is a clone of node {from}, with paths to and from every node"
    )));
    // The slon of the cloned node learns of the clone from its own CLONE_NODE event, and
    // Slony-I's local listener stores that node without enabling it (every other slon's
    // remote worker enables it): until it restarts, it takes no event of the clone's.
    script.push(RestartNode { id: from });
    script.push(ops::echo(format!(
        "Restart requested for the slon of {}, so it takes the events of node {id}",
        source.label()
    )));
    builder.slonik(
        format!("Finish the clone: {label} joins with paths to and from every node"),
        format!("`clone finish` gives node {id} node {from}'s confirmation state, so its slon goes on from where the dump left off; its own conninfo goes into every path to it (clone prepare copied node {from}'s). Node {from}'s slon is then told to restart: it learnt of node {id} from its own `clone prepare`, and Slony-I's slon leaves a node learnt that way disabled, so without the restart it never takes node {id}'s events (it restarts after slon's 20 s pause; replication to node {id} does not wait for it)"),
        script,
        None,
    )?;

    push_slon_conf(&mut builder, &with_node, &node)?;
    push_slon_start(
        &mut builder,
        &with_node,
        &node,
        &format!("Node {id} applies what happened since the dump."),
    )?;

    let mut state = with_node.clone();
    for sub in &copied {
        state = crate::transition::subscribe(&state, Subscription { receiver: id, ..*sub })
            .map_err(ops::inconsistent(OPERATION))?;
    }
    let mut origins: Vec<NodeId> = copied
        .iter()
        .filter_map(|s| state.sets.get(&s.set))
        .map(|s| s.origin)
        .collect();
    origins.sort();
    origins.dedup();
    let mut script = ops::script_for(&state, OPERATION, &[])?;
    for &origin in &origins {
        script.push(ops::echo(format!(
            "Waiting until {label} has applied everything node {origin} committed so far"
        )));
        script.extend(ops::sync_and_wait(&state, origin, NodeOrAll::Node(id)));
    }
    builder.set_state(state);
    builder.slonik(
        format!("Wait until {label} has caught up"),
        "A SYNC on each origin, confirmed by the clone: it then holds everything committed before this step",
        script,
        None,
    )?;
    builder.finish()
}
