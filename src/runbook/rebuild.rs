//! Rebuilding a node (after a failover, or a broken subscriber) and failing back to it:
//! the scenario's case 2, done right.

use std::fmt;
use std::str::FromStr;

use serde::Serialize;

use super::builder::Builder;
use super::catalog;
use super::plan::{Plan, Probe};
use super::slon::{admin_conninfo, push_slon_start, push_slon_stop};
use super::switchover::add_switchover;
use super::text::and_list;
use crate::model::conninfo::{conninfo_text, ConninfoUse};
use crate::model::{Cluster, Node, NodeId, Set, SetId};
use crate::ops::{self, inconsistent, known_node, known_set, referenced_node, refuse, OpError, Refusal};

/// How a rebuilt node's database is prepared before `store node`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Prepare {
    /// Drop Slony-I's `"_<cluster>"` schema (and with it every Slony trigger); the
    /// application tables stay and are refilled by the subscription's initial copy.
    #[default]
    DropSchema,
    /// Drop and create the database, then copy the schema only from the current origin:
    /// `pg_dump -s` without the `"_<cluster>"` schema and without Slony's triggers.
    Recreate,
}

/// A prepare mode that is not `drop-schema` or `recreate`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown --prepare `{0}`: use drop-schema or recreate")]
pub struct UnknownPrepare(pub String);

impl FromStr for Prepare {
    type Err = UnknownPrepare;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim() {
            "drop-schema" => Ok(Prepare::DropSchema),
            "recreate" => Ok(Prepare::Recreate),
            other => Err(UnknownPrepare(other.to_string())),
        }
    }
}

impl fmt::Display for Prepare {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Prepare::DropSchema => "drop-schema",
            Prepare::Recreate => "recreate",
        })
    }
}

/// `rebuild-node --node N [--set SET]...`: stop N's slon (the runbook goes no further
/// unless that slon is confirmed gone), drop N from the cluster (if the catalog still has
/// it), prepare its database, store it again with paths both ways, start its slon and
/// subscribe it to the sets (default: every set), waiting until each subscription is active.
pub fn rebuild_node(
    cluster: &Cluster,
    node: NodeId,
    sets: &[SetId],
    prepare: Prepare,
) -> Result<Plan, OpError> {
    build(cluster, node, sets, prepare, false)
}

/// `failback --node N [--set SET]...`: [`rebuild_node`], then a switchover of the sets back
/// to N, so N is their origin again. With no `--set`, every set moves back to N; the sets
/// must then share one origin (the node that took over), otherwise say which with `--set`.
pub fn failback(cluster: &Cluster, node: NodeId, sets: &[SetId], prepare: Prepare) -> Result<Plan, OpError> {
    build(cluster, node, sets, prepare, true)
}

fn build(
    cluster: &Cluster,
    id: NodeId,
    set_args: &[SetId],
    prepare: Prepare,
    failback: bool,
) -> Result<Plan, OpError> {
    let op: &'static str = if failback { "failback" } else { "rebuild-node" };
    // A node `failover --drop-dead` dropped is kept with its settings: it comes back from there.
    let was_dropped = !cluster.nodes.contains_key(&id) && cluster.dropped_nodes.contains_key(&id);
    let node = match cluster.dropped_nodes.get(&id).filter(|_| was_dropped) {
        Some(node) => node.clone(),
        None => known_node(cluster, id)?.clone(),
    };
    if let Some(set) = cluster.sets.values().find(|s| s.origin == id) {
        return Err(refuse(
            op,
            Refusal::RebuildOrigin {
                node: id,
                set: set.id,
                name: set.name.clone(),
            },
        ));
    }
    let mut sets: Vec<SetId> = if set_args.is_empty() {
        cluster.sets.keys().copied().collect()
    } else {
        set_args.to_vec()
    };
    sets.sort();
    sets.dedup();
    if sets.is_empty() {
        return Err(refuse(op, Refusal::NoSetToSubscribe));
    }
    for set in &sets {
        ops::live_origin(cluster, op, known_set(cluster, *set)?)?;
    }
    if failback && set_args.is_empty() {
        let origins: Vec<NodeId> = {
            let mut o: Vec<NodeId> = cluster.sets.values().map(|s| s.origin).collect();
            o.sort();
            o.dedup();
            o
        };
        if origins.len() > 1 {
            return Err(refuse(
                op,
                Refusal::SetsHaveDifferentOrigins { node: id, origins },
            ));
        }
    }
    let event = event_node(cluster, id, &sets)
        .ok_or_else(|| refuse(op, Refusal::NothingToRebuildFrom { node: id }))?;
    let event_label = referenced_node(cluster, op, event, || "the event node".into())?.label();
    let names = and_list(
        &sets
            .iter()
            .filter_map(|s| cluster.sets.get(s).map(Set::label))
            .collect::<Vec<_>>(),
    );
    let title = if failback {
        format!(
            "Fail back to {}: rebuild it from {event_label} and make it the origin of {names} again",
            node.label()
        )
    } else {
        format!("Rebuild {} as a subscriber of {names}", node.label())
    };
    let mut builder = Builder::new(op, title, cluster)?;
    if was_dropped {
        builder.reach(cluster, &node)?;
    }

    // The slon of a dropped node is described by the cluster it comes back to.
    let with_node = if was_dropped {
        crate::transition::add_node(cluster, node.clone()).map_err(inconsistent(op))?
    } else {
        cluster.clone()
    };
    push_slon_stop(
        &mut builder,
        &with_node,
        &node,
        &format!("Its old slon must not touch node {id}'s database while Slony-I's catalog there is removed and rebuilt, so the runbook goes on only once that slon is confirmed gone."),
        "If it fails, stop that slon yourself and make sure it cannot come back, then run the remaining steps by hand (the script cannot resume at a step)",
        false,
    )?;
    match prepare {
        Prepare::DropSchema => builder.check(
            format!("Check that the database of {} is up", node.label()),
            "Everything below needs it; better to stop here than after the node has been dropped",
            id,
            "select 1".to_string(),
            "1",
            0,
        ),
        // The node's own database may be gone (that is what recreate is for): ask the
        // server through the database the recreate step connects to.
        Prepare::Recreate => {
            let maintenance = maintenance_conninfo(builder.operation(), cluster, &node)?;
            builder.shell(
                format!("Check that the PostgreSQL server of {} is up", node.label()),
                format!("The steps below recreate node {id}'s database through the `{MAINTENANCE_DB}` database of its server, so that is what must answer (node {id}'s own database may be gone); better to stop here than after the node has been dropped"),
                id,
                format!(
                    "psql -X -q -A -t -v ON_ERROR_STOP=1 -d {} -c 'select 1' >/dev/null",
                    crate::escape::shell::word(&maintenance)
                ),
                false,
            );
        }
    }
    if !was_dropped {
        // ops::drop_node waits until every node has processed the drop: a node that
        // applied it after the new `store path` would delete the new paths too.
        let mut dropped = ops::drop_node(builder.state(), id, event)?;
        // The node comes back below: the nodes that receive from it when every node is up
        // keep it as their provider.
        dropped.next =
            crate::transition::drop_node_kept(builder.state(), id, event).map_err(inconsistent(op))?;
        builder.change(
            format!("Drop the old {} from the cluster", node.label()),
            format!("The cluster still knows node {id} (failed, or with its old subscriptions); it must be dropped before it can be stored again. The event node is node {event}, the current origin, which is up. The script waits until every node has processed the drop: a node that applied it after the new `store path` would delete the new paths too"),
            dropped,
        )?;
        builder.only_if_last(Probe {
            node: event,
            sql: catalog::node_known(cluster, id),
            expect: "1".into(),
        });
    }
    prepare_database(&mut builder, cluster, &node, event, prepare)?;

    // The node comes back as a healthy member: what the model forgot when it was dropped.
    let returned = crate::transition::add_node(builder.state(), node.clone()).map_err(inconsistent(op))?;
    builder.set_state(returned);

    let stored = ops::store_node(builder.state(), id, Some(event))?;
    builder.change(
        format!("Store {} again, with paths to and from every node", node.label()),
        format!("Installs a fresh Slony-I catalog on node {id} and tells every node how to reach it (the scenario's `slonik_store_node`, which failed there because the copied schema still held `_{}`)", cluster.name),
        stored,
    )?;
    push_slon_start(
        &mut builder,
        &with_node,
        &node,
        &format!("Node {id} needs its own slon to receive the subscriptions that follow."),
    )?;
    for &set in &sets {
        let subscribed = ops::subscribe_set(builder.state(), set, id)?;
        let state = subscribed.next.clone();
        let Some(sub) = state.subscriptions.get(&(set, id)).copied() else {
            return Err(inconsistent(op)(
                crate::transition::Inconsistency::MissingSubscription { set, receiver: id },
            ));
        };
        let label = known_set(&state, set)?.label();
        builder.change(
            format!("Subscribe {} to {label} from node {}", node.label(), sub.provider),
            format!("The initial copy empties node {id}'s tables and fills them from node {}, so whatever node {id} held before (such as rows written before it failed) is replaced by the current data", sub.provider),
            subscribed,
        )?;
        builder.check(
            format!("Check that the subscription of node {id} to {label} is active"),
            "sub_active turns true once the initial copy has finished; only an active subscriber can become an origin again or feed other nodes",
            id,
            catalog::active_subscriptions(&state, &[set], id, Some(sub.provider)),
            "1",
            state.wait_timeout,
        );
    }
    if failback {
        add_switchover(&mut builder, &sets, id)?;
        restore_providers(&mut builder, &sets)?;
        builder.manual(
            format!("Send the applications back to {}", node.label()),
            "slonik-gen cannot reach your connection pooler (the scenario's steps 13 and 14)",
            format!(
                "{} is the origin of {names} again: point the applications at it and re-attach it in pgpool-II (`pcp_attach_node`), then check `show pool_nodes`.",
                node.label()
            ),
        );
    } else {
        builder.manual(
            format!("Let readers use {} again", node.label()),
            "slonik-gen cannot reach your connection pooler",
            format!(
                "{} is an up-to-date subscriber again: re-attach it in pgpool-II (`pcp_attach_node`) or wherever readers are balanced.",
                node.label()
            ),
        );
    }
    builder.finish()
}

/// After the failback's switchover: every subscription to one of `sets` whose receiver
/// names a `provider` ([`Node::provider`], where it receives from when every node is up)
/// and receives from another node is re-pointed to it, as the failover found it. One at a
/// time, each only once its provider can feed the set (the origin, or a forwarding
/// subscriber that does not receive it through the receiver), so no step makes a loop or
/// points at a node that does not forward; each followed by a check of the catalog.
fn restore_providers(builder: &mut Builder, sets: &[SetId]) -> Result<(), OpError> {
    // Each subscription moves at most once (to its receiver's provider), so this ends.
    for _ in 0..=builder.state().subscriptions.len() {
        let state = builder.state().clone();
        let Some((set, receiver, provider, from)) = state
            .subscriptions
            .values()
            .filter(|sub| sets.contains(&sub.set))
            .find_map(|sub| {
                let wish = state.nodes.get(&sub.receiver).filter(|n| !n.failed)?.provider?;
                (wish != sub.provider && feeds(&state, sub.set, wish, sub.receiver)).then_some((
                    sub.set,
                    sub.receiver,
                    wish,
                    sub.provider,
                ))
            })
        else {
            return Ok(());
        };
        super::paths::ensure_paths(
            builder,
            &[(provider, receiver), (receiver, provider)],
            &[],
            "the re-pointed node's slon must reach its configured provider",
        )?;
        let state = builder.state().clone();
        let label = known_set(&state, set)?.label();
        let change = repoint_subscription(&state, set, receiver, provider)?;
        let next = change.next.clone();
        builder.change(
            format!("Re-point node {receiver} to receive {label} from node {provider} again"),
            format!("Node {receiver}'s configured provider is node {provider}; the failover pointed it at node {from}. It keeps its data: only the provider changes, no copy runs"),
            change,
        )?;
        builder.check(
            format!("Check that node {receiver} receives {label} from node {provider}"),
            "The restored provider must be in place and active before the runbook ends",
            receiver,
            catalog::active_subscriptions(&next, &[set], receiver, Some(provider)),
            "1",
            next.wait_timeout,
        );
    }
    Ok(())
}

/// Whether `provider` can feed `set` to `receiver` now: a live node other than the
/// receiver, the origin or a forwarding subscriber whose own providers, up to the origin,
/// do not include the receiver.
fn feeds(cluster: &Cluster, set: SetId, provider: NodeId, receiver: NodeId) -> bool {
    if provider == receiver
        || cluster.nodes.get(&provider).is_none_or(|n| n.failed)
        || !cluster.can_provide(set, provider)
    {
        return false;
    }
    let mut hop = provider;
    for _ in 0..=cluster.subscriptions.len() {
        match cluster.subscriptions.get(&(set, hop)) {
            None => return true, // the origin
            Some(sub) if sub.provider == receiver => return false,
            Some(sub) => hop = sub.provider,
        }
    }
    false
}

/// The one place that changes the provider of an existing subscription for the failback.
fn repoint_subscription(
    cluster: &Cluster,
    set: SetId,
    receiver: NodeId,
    provider: NodeId,
) -> Result<ops::Change, OpError> {
    let forward = cluster
        .subscriptions
        .get(&(set, receiver))
        .is_none_or(|sub| sub.forward);
    ops::subscribe_set_via(cluster, set, receiver, provider, forward)
}

/// A node word (`2` or `node2`) naming one of [`Cluster::dropped_nodes`], which failback
/// and rebuild-node take back.
pub(crate) fn dropped_node_word(cluster: &Cluster, arg: &str) -> Option<NodeId> {
    let arg = arg.trim();
    let id = NodeId(arg.strip_prefix("node").unwrap_or(arg).parse().ok()?);
    cluster.dropped_nodes.contains_key(&id).then_some(id)
}

/// The node that generates the drop and store events: the origin of the first set, which
/// is up (checked by the caller), else the default origin, else any live node.
fn event_node(cluster: &Cluster, node: NodeId, sets: &[SetId]) -> Option<NodeId> {
    sets.iter()
        .filter_map(|s| cluster.sets.get(s).map(|s| s.origin))
        .chain(std::iter::once(cluster.default_origin))
        .chain(cluster.active_nodes().map(|n| n.id))
        .find(|n| *n != node && cluster.nodes.get(n).is_some_and(|x| !x.failed))
}

/// The database that `--prepare recreate` connects to on the node's server to drop and
/// create the node's own database.
const MAINTENANCE_DB: &str = "postgres";

/// The node's admin connection with [`MAINTENANCE_DB`] as database.
fn maintenance_conninfo(op: &'static str, cluster: &Cluster, node: &Node) -> Result<String, OpError> {
    let mut maintenance = node.admin.clone();
    maintenance.dbname = Some(MAINTENANCE_DB.into());
    conninfo_text(&maintenance.params(), ConninfoUse::Admin, cluster.version).map_err(|problems| {
        refuse(
            op,
            Refusal::MaintenanceConninfo {
                node: node.id,
                problems,
            },
        )
    })
}

fn prepare_database(
    builder: &mut Builder,
    cluster: &Cluster,
    node: &Node,
    source: NodeId,
    prepare: Prepare,
) -> Result<(), OpError> {
    let op = builder.operation();
    let schema = catalog::schema(cluster);
    let id = node.id;
    match prepare {
        Prepare::DropSchema => {
            builder.sql(
                format!("Remove the old Slony-I catalog from {}", node.label()),
                format!("`store node` installs a fresh {schema} schema and fails with \"namespace already exists\" if the old one is still there (the scenario's step 6); dropping it also removes Slony's triggers from the application tables. The tables and their data stay: the subscription's initial copy replaces the data"),
                id,
                format!("set client_min_messages = warning;\ndrop schema {schema} cascade;"),
            );
            // `drop schema if exists` needs PostgreSQL 8.2.
            builder.only_if_last(Probe {
                node: id,
                sql: catalog::schema_exists(&format!("_{}", cluster.name)),
                expect: "1".into(),
            });
        }
        Prepare::Recreate => {
            let Some(dbname) = node.admin.dbname.clone() else {
                return Err(refuse(op, Refusal::RecreateNeedsDbname { node: id }));
            };
            let maintenance = maintenance_conninfo(op, cluster, node)?;
            let node_conninfo = admin_conninfo(cluster, op, node, format!("node {id}"))?;
            let source_node = referenced_node(cluster, op, source, || {
                "the node the schema is copied from".into()
            })?;
            let source_conninfo = admin_conninfo(cluster, op, source_node, format!("node {source}"))?;
            let db = crate::escape::sql::identifier(&dbname);
            let maintenance = crate::escape::shell::word(&maintenance);
            // No `drop database if exists` (PostgreSQL 8.2): ask first.
            builder.shell(
                format!("Drop and create the database of {}", node.label()),
                format!("Starts node {id} from an empty database, as the scenario's step 3 did; it connects to the `{MAINTENANCE_DB}` database of node {id}'s instance to do it, and fails if anything is still connected to {dbname}"),
                id,
                format!(
                    "if [ \"$(psql -X -q -A -t -v ON_ERROR_STOP=1 -d {maintenance} -c {})\" = 1 ]; then\n    psql -X -q -v ON_ERROR_STOP=1 -d {maintenance} -c {}\nfi\npsql -X -q -v ON_ERROR_STOP=1 -d {maintenance} -c {}",
                    crate::escape::shell::word(&catalog::database_exists(&dbname)),
                    crate::escape::shell::word(&format!("drop database {db}")),
                    crate::escape::shell::word(&format!("create database {db}")),
                ),
                false,
            );
            builder.shell(
                format!("Copy the schema (only) from node {source} to {}", node.label()),
                format!("The tables must exist on node {id} before it subscribes. The dump leaves out Slony-I's own schema {schema} (`-N`), which made the scenario's `store node` fail, and Slony's triggers on the application tables, which call functions in that schema and would not restore"),
                id,
                super::schema_copy::copy_schema_command(&cluster.name, &source_conninfo, &node_conninfo),
                false,
            );
        }
    }
    Ok(())
}
