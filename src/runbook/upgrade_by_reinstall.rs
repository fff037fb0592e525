//! Slony-I 1.2 to 2.x. `update functions` cannot bridge 1.2's catalog changes and its
//! xxid type, so the admin guide (slonyupgrade, "Upgrading to Slony-I version 2.1 from
//! version 1.2 or earlier") takes another way: with the applications locked out, let
//! every node catch up, uninstall Slony-I everywhere, install 2.x, build the cluster again
//! (nodes, paths, sets) and subscribe every node again with `omit copy`, since the data is
//! already there. The cluster comes from the model, so nothing is typed by hand.

use super::builder::Builder;
use super::catalog;
use super::plan::Plan;
use super::slon::{push_slon_start, push_slon_stop};
use super::upgrade::check_runs;
use crate::model::{Cluster, NodeId, SetId};
use crate::ops::{self, OpError};
use crate::statement::NodeOrAll;
use crate::version::SlonyVersion;

const OP: &str = "upgrade-slony";

/// The oldest PostgreSQL Slony-I 2.x runs on (8.3, `server_version_num`).
const POSTGRES_FOR_2_X: u32 = 80300;

/// The runbook of [`super::upgrade_slony`] from 1.2: checks that every node runs 1.2 on a
/// PostgreSQL that 2.x supports and that no table has a key 1.2's `table add key` made;
/// a manual step to note the triggers 1.2 keeps enabled on subscribers; a manual
/// application outage; a SYNC from every origin confirmed by every node; every slon
/// stopped; `uninstall node` on every node and a check that the schema is gone; a manual
/// step to install `to`; `init cluster` (nodes and paths) and `create set` for every set
/// with the `to` slonik; every slon started; `subscribe set ... omit copy = yes` for every
/// subscription, providers before their receivers; a manual step to enable the noted
/// triggers and end the outage. The next state is the cluster as it was, at version `to`.
pub(super) fn upgrade_by_reinstall(cluster: &Cluster, to: SlonyVersion) -> Result<Plan, OpError> {
    let from = cluster.version;
    let mut builder = Builder::new(
        OP,
        format!(
            "Upgrade cluster {} from Slony-I {from} to {to} (uninstall, install, subscribe again without copying)",
            cluster.name
        ),
        cluster,
    )?;
    let nodes: Vec<NodeId> = cluster.active_nodes().map(|n| n.id).collect();
    for &id in &nodes {
        check_runs(
            &mut builder,
            cluster,
            id,
            "The upgrade rebuilds every node's replication",
        );
        builder.check(
            format!("Check that node {id} runs PostgreSQL 8.3 or later"),
            format!("Slony-I {to} needs PostgreSQL 8.3 or later (it replaces 1.2's catalog changes with session_replication_role); upgrade PostgreSQL first, under 1.2 (runbook upgrade-postgres)"),
            id,
            catalog::server_older_than(POSTGRES_FOR_2_X),
            "0",
            0,
        );
    }
    let mut origins: Vec<NodeId> = cluster.sets.values().map(|s| s.origin).collect();
    origins.sort();
    origins.dedup();
    for &origin in &origins {
        builder.check(
            format!("Check that no table on node {origin} uses a key Slony-I 1.2 added"),
            format!("Slony-I 2.0 removed `table add key`: a table replicated on the column 1.2 added for it (`_Slony-I_{}_rowID`) needs a primary key or unique not-null index of its own, and its `key` in the config, before the upgrade", cluster.name),
            origin,
            catalog::slony_added_keys(cluster),
            "0",
            0,
        );
    }
    let subscribers: Vec<NodeId> = {
        let mut s: Vec<NodeId> = cluster.subscriptions.keys().map(|(_, r)| *r).collect();
        s.sort();
        s.dedup();
        s
    };
    if !subscribers.is_empty() {
        builder.manual(
            "Note the triggers Slony-I 1.2 keeps enabled on the subscribers",
            "Slony-I 1.2 disables a replicated table's triggers on subscribers except those named with `store trigger`; 2.x leaves that to PostgreSQL (`alter table ... enable always trigger`), and the uninstall forgets the list. This can be done before the outage",
            format!(
                "On {} run `{};` with `psql -X -A -t`, and keep the list: each row is `schema.table trigger`, to be enabled again in the last step",
                super::text::and_list(&subscribers.iter().map(|n| format!("node {n}")).collect::<Vec<_>>()),
                catalog::stored_triggers(cluster)
            ),
        );
    }
    builder.manual(
        "Stop every application write to the replicated tables on every node",
        "From the uninstall until every node is subscribed again, no Slony-I trigger records a change: a row written then stays on the node it was written to and is never replicated, and Slony-I has no way to notice (the admin guide's \"foot gun\"). The outage lasts until the last step",
        "Lock the applications out of every node's database (pg_hba.conf, or revoke their connect privilege) and end their sessions; keep them out until the last step says otherwise".to_string(),
    );
    for &origin in &origins {
        let mut script = ops::script_for(cluster, OP, &[])?;
        script.push(ops::echo(format!(
            "Waiting until every node has confirmed everything node {origin} wrote before the outage"
        )));
        script.extend(ops::sync_and_wait(cluster, origin, NodeOrAll::All));
        builder.slonik(
            format!("Let every node catch up with node {origin}"),
            format!("A SYNC made once the writes stopped, confirmed by every node, proves every subscriber has every change node {origin} logged: the subscriptions come back without a copy, so nothing may be missing. slonik {from} runs it"),
            script,
            None,
        )?;
    }
    for &id in &nodes {
        push_slon_stop(
            &mut builder,
            cluster,
            ops::known_node(cluster, id)?,
            "Every slon stops before Slony-I is uninstalled.",
            "",
            false,
        )?;
    }
    builder.change(
        format!("Uninstall Slony-I {from} from every node"),
        format!("`uninstall node` removes the `_{}` schema and puts back the catalog entries 1.2 changed on subscribers (the triggers and rules it hid); slonik {from} runs it. From here on no change is replicated", cluster.name),
        ops::uninstall_nodes(builder.state())?,
    )?;
    let schema_name = format!("_{}", cluster.name);
    for &id in &nodes {
        builder.check(
            format!("Check that node {id} has no Slony-I schema left"),
            "`init cluster` and `store node` refuse a node that still has the schema",
            id,
            catalog::schema_exists(&schema_name),
            "0",
            0,
        );
    }
    builder.manual(
        format!("Install Slony-I {to} on every host"),
        format!("The uninstalled nodes get the {to} schema from slonik {to}, which needs the {to} server module of each node's PostgreSQL"),
        format!("On every host: install Slony-I {to} (the server module for each node's PostgreSQL, and `slonik` and `slon`), so that `slonik` and `slon` on PATH are {to} from here on"),
    );
    let mut upgraded = cluster.clone();
    upgraded.version = to;
    builder.set_state(crate::transition::uninstall(&upgraded));
    builder.change(
        format!("Create the cluster again with Slony-I {to}: nodes and paths"),
        format!("The nodes and paths of the config, stored with slonik {to}"),
        ops::init_cluster(builder.state())?,
    )?;
    let sets: Vec<SetId> = cluster.sets.keys().copied().collect();
    for &set in &sets {
        let origin = cluster.sets[&set].origin;
        builder.change(
            format!("Create set {set} again on node {origin}"),
            "The set's tables and sequences, as the config has them; the origin logs changes to them again from here on (the writes are still stopped)",
            ops::create_set(builder.state(), set)?,
        )?;
    }
    for &id in &nodes {
        let state = builder.state().clone();
        push_slon_start(
            &mut builder,
            &state,
            ops::known_node(&state, id)?,
            &format!("The {to} slons carry the new cluster's events; the subscriptions need them."),
        )?;
    }
    for (set, receiver) in dependency_order(cluster) {
        let subscription = &cluster.subscriptions[&(set, receiver)];
        builder.change(
            format!("Subscribe node {receiver} to set {set} again, without copying"),
            format!("`omit copy = yes`: node {receiver} already has every row (the catch-up above), so Slony-I only replicates what is written from now on, through node {}", subscription.provider),
            ops::subscribe_set_omit_copy_via(
                builder.state(),
                set,
                receiver,
                subscription.provider,
                subscription.forward,
            )?,
        )?;
    }
    let mut end = String::from("Enable again, on each subscriber, the triggers noted at the start (`alter table TABLE enable always trigger TRIGGER;` for one that must fire there as on the origin, `enable replica trigger` for one that must fire only for replicated changes); then");
    if subscribers.is_empty() {
        end = String::from("No node subscribes to a set, so no trigger needs enabling;");
    }
    end.push_str(" let the applications connect again, to the origins only");
    builder.manual(
        "Enable the noted triggers and end the outage",
        format!("Every node is subscribed again and replicates with Slony-I {to}"),
        end,
    );
    builder.set_state(upgraded);
    builder.finish()
}

/// Every subscription of `cluster`, each after the one of its provider for the same set.
/// A subscription whose provider never receives the set comes last, where
/// `subscribe set` refuses it and names the provider.
fn dependency_order(cluster: &Cluster) -> Vec<(SetId, NodeId)> {
    let mut order = Vec::new();
    let mut pending: Vec<(SetId, NodeId)> = cluster.subscriptions.keys().copied().collect();
    while !pending.is_empty() {
        let before = pending.len();
        pending.retain(|&(set, receiver)| {
            let provider = cluster.subscriptions[&(set, receiver)].provider;
            let ready = cluster.sets.get(&set).is_some_and(|s| s.origin == provider)
                || order.contains(&(set, provider));
            if ready {
                order.push((set, receiver));
            }
            !ready
        });
        if pending.len() == before {
            order.append(&mut pending);
        }
    }
    order
}
