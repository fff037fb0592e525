//! Upgrades: PostgreSQL through Slony-I (a node on the new server takes the old one's
//! place), and Slony-I itself (`update functions` on every node, as the admin guide's
//! slonyupgrade chapter describes for the versions involved).

use super::add_node::{add_node_steps, with_new_node, NewNode, SchemaSource};
use super::builder::Builder;
use super::catalog;
use super::plan::{Action, Plan, Recovery};
use super::retire::retire_steps;
use super::slon::{push_slon_start, push_slon_stop};
use super::switchover::{add_switchover, LONG_TRANSACTION_SECONDS};
use super::text::and_list;
use crate::model::{Cluster, NodeId, SetId};
use crate::ops::{self, refuse, OpError, Refusal};
use crate::statement::{LockSet, NodeOrAll, UnlockSet};
use crate::version::SlonyVersion;

/// `runbook upgrade-postgres --node OLD --id NEW --conninfo ...`: the admin guide's
/// major-version upgrade through Slony-I. NEW, a database on the new PostgreSQL server,
/// is added as a node ([`super::add_node`]'s steps) that receives every set OLD has: from
/// OLD for the sets OLD is the origin of (so it can take them over), else from OLD's own
/// provider; once it has caught up, the sets of OLD switch over to NEW ([`super::switchover`]),
/// the nodes that received through OLD are re-pointed to NEW, and OLD is retired
/// ([`super::retire_node`]'s steps). The steps and their checks do not depend on the
/// PostgreSQL versions; the schema copy uses the `pg_dump` on the runbook's PATH, which must
/// be the newer one.
pub fn upgrade_postgres(
    cluster: &Cluster,
    old: NodeId,
    new: &NewNode,
    schema: SchemaSource,
) -> Result<Plan, OpError> {
    const OP: &str = "upgrade-postgres";
    let old_node = ops::known_node(cluster, old)?;
    if old_node.failed {
        return Err(refuse(OP, Refusal::UpgradeFailedNode { node: old }));
    }
    let old_label = old_node.label();
    let origin_of: Vec<SetId> = cluster
        .sets
        .values()
        .filter(|s| s.origin == old)
        .map(|s| s.id)
        .collect();
    let subscriptions: Vec<(SetId, NodeId)> = cluster
        .sets
        .values()
        .filter_map(|s| {
            if s.origin == old {
                Some((s.id, old))
            } else {
                cluster
                    .subscriptions
                    .get(&(s.id, old))
                    .map(|sub| (s.id, sub.provider))
            }
        })
        .collect();
    if subscriptions.is_empty() {
        return Err(refuse(OP, Refusal::NoSetToSubscribe));
    }
    let mut replacement = new.clone();
    replacement.provider = if origin_of.is_empty() {
        old_node.provider
    } else {
        None
    };
    replacement.forward = true;
    let with_node = with_new_node(cluster, OP, &replacement)?;
    let new_label = with_node
        .nodes
        .get(&new.id)
        .map_or_else(|| format!("node {}", new.id), |n| n.label());
    let title =
        format!("Upgrade PostgreSQL under {old_label}: {new_label} on the new server takes its place");
    let mut builder = Builder::new(OP, title, &with_node)?;
    add_node_steps(&mut builder, new.id, &subscriptions, schema, Some(old))?;
    if !origin_of.is_empty() {
        add_switchover(&mut builder, &origin_of, new.id)?;
        builder.manual(
            format!("Send the writes to {new_label}"),
            "slonik-gen cannot reach your applications or connection pooler; from the move on, the old origin refuses writes to the moved sets",
            format!(
                "{new_label} is now the origin of {}: point the applications (and pgpool-II or whatever balances them) at it before going on.",
                and_list(&origin_of.iter().map(|s| format!("set {s}")).collect::<Vec<_>>())
            ),
        );
    }
    retire_steps(&mut builder, old, Some(new.id))?;
    builder.manual(
        format!("Shut down the old server of {old_label}"),
        "slonik-gen does not manage PostgreSQL servers",
        format!(
            "{old_label} is out of the cluster and its Slony-I schema is removed; readers that used it go to {new_label} now. Its PostgreSQL server can be shut down when nothing else uses it."
        ),
    );
    builder.finish()
}

/// `runbook upgrade-slony --to VERSION`: check that every node answers and runs the
/// cluster's Slony-I version; from 2.1 or earlier to 2.2, check each origin for locked sets
/// and long transactions, lock every set and check on every node that its log tables hold
/// nothing unconfirmed, because 2.2's `update functions` rebuilds `sl_log_1`/`sl_log_2`
/// and refuses while they do (writes to the sets' tables fail until the end of the
/// runbook; a failed step before `update functions`, or a failed slon start, unlocks
/// them); stop every slon; a manual step to install the
/// new Slony-I on every host; `update functions` on every node with the new slonik; check
/// each node's version; start every slon; unlock the sets. The next state's
/// `slony_version` is VERSION. VERSION equal to the cluster's is a patch release
/// (2.2.10 to 2.2.11): the same steps without the lock. From 1.2, which `update functions`
/// cannot upgrade, the admin guide's uninstall, install and subscribe-again-without-copy
/// procedure (see `upgrade_by_reinstall.rs`).
pub fn upgrade_slony(cluster: &Cluster, to: SlonyVersion) -> Result<Plan, OpError> {
    const OP: &str = "upgrade-slony";
    let from = cluster.version;
    if to < from {
        return Err(refuse(OP, Refusal::UpgradeNotNewer { from, to }));
    }
    if from == SlonyVersion::V1_2 && to > from {
        return super::upgrade_by_reinstall::upgrade_by_reinstall(cluster, to);
    }
    let lock = from < SlonyVersion::V2_2 && to >= SlonyVersion::V2_2;
    let title = if to == from {
        format!("Upgrade cluster {} to a newer Slony-I {to} release", cluster.name)
    } else {
        format!("Upgrade cluster {} from Slony-I {from} to {to}", cluster.name)
    };
    let mut builder = Builder::new(OP, title, cluster)?;
    let nodes: Vec<NodeId> = cluster.active_nodes().map(|n| n.id).collect();
    for &id in &nodes {
        check_runs(&mut builder, cluster, id, "The upgrade changes every node");
    }
    let sets: Vec<SetId> = cluster.sets.keys().copied().collect();
    let mut origins: Vec<NodeId> = cluster.sets.values().map(|s| s.origin).collect();
    origins.sort();
    origins.dedup();
    // From the lock until every node runs the new functions, a failed step unlocks the
    // sets (nothing is upgraded yet); a failure in `update functions` leaves them locked on
    // purpose, because writes taken then would fill the log tables 2.2 must find empty.
    let unlock_before_update = if lock && !sets.is_empty() {
        Some(lock_and_drain(&mut builder, cluster, &origins, &sets)?)
    } else {
        None
    };
    for (index, &id) in nodes.iter().enumerate() {
        let node = ops::known_node(cluster, id)?;
        push_slon_stop(
            &mut builder,
            cluster,
            node,
            "Every slon stops before the functions change: a slon of one version refuses a schema of another, and none may work while the schema is rebuilt.",
            "",
            false,
        )?;
        if let Some(unlock) = &unlock_before_update {
            builder.on_failure_last(Recovery {
                why: if index == 0 {
                    "unlock the sets so the origins take writes again; nothing has been upgraded and no slon was stopped".to_string()
                } else {
                    format!(
                        "unlock the sets so the origins take writes again; nothing has been upgraded. Start the slons of {} again with the Slony-I {from} programs: this runbook stopped them",
                        and_list(&nodes[..index].iter().map(|n| format!("node {n}")).collect::<Vec<_>>())
                    )
                },
                action: Action::Slonik(unlock.clone()),
            })?;
        }
    }
    builder.manual(
        format!("Install Slony-I {to} on every host"),
        "slonik-gen cannot install packages; the new slonik, slon and the server's module and SQL files must be in place before `update functions`",
        format!(
            "On the host of every node ({}), install Slony-I {to} for that node's PostgreSQL version: slon and slonik, the server module slony1_funcs.{to}.x.so in PostgreSQL's lib directory and the slony1_*.sql files in its share directory (Debian: the slony1-2-bin and postgresql-NN-slony1-2 packages). `slon -v` and `slonik -v` must print {to}.x. The next step must run with the new slonik.",
            and_list(&nodes.iter().map(|n| format!("node {n}")).collect::<Vec<_>>())
        ),
    );
    let mut upgraded = builder.state().clone();
    upgraded.version = to;
    let updated = ops::update_nodes(&upgraded)?;
    builder.change(
        format!("Update the Slony-I functions on every node to {to}"),
        if lock && !sets.is_empty() {
            format!("`update functions` loads the {to} functions into each node's Slony-I schema and upgrades its tables; slonik {to} must run it. If it fails, the sets stay locked on purpose: writes taken now would land in log tables that 2.2 must find empty, on nodes of mixed versions. Fix the cause (slonik names the node), run this step again, then the remaining steps")
        } else {
            format!("`update functions` loads the {to} functions into each node's Slony-I schema and upgrades its tables; slonik {to} must run it")
        },
        updated,
    )?;
    let version_query = catalog::slony_version(builder.state());
    for &id in &nodes {
        builder.check(
            format!("Check that node {id} runs Slony-I {to}"),
            "Proves the update reached every node before any slon starts",
            id,
            version_query.clone(),
            to.to_string(),
            0,
        );
    }
    for &id in &nodes {
        let state = builder.state().clone();
        let node = ops::known_node(&state, id)?;
        push_slon_start(
            &mut builder,
            &state,
            node,
            &format!("Replication resumes with the {to} slons."),
        )?;
        if lock && !sets.is_empty() {
            builder.on_failure_last(Recovery {
                why: format!("every node runs the {to} functions, so the sets are unlocked and the origins take writes again; replication to {} resumes once its slon runs: start it, and the slons after it, by hand", node.label()),
                action: Action::Slonik(unlock_script(builder.state())?),
            })?;
        }
    }
    if lock && !sets.is_empty() {
        let state = builder.state().clone();
        let mut script = ops::script_for(&state, OP, &[])?;
        for set in state.sets.values() {
            script.push(UnlockSet {
                id: set.id,
                origin: set.origin,
            });
            script.push(ops::echo(format!("{} takes writes again", set.label())));
        }
        builder.slonik(
            "Unlock every set",
            "The sets were locked for the upgrade; their origins take writes again",
            script,
            None,
        )?;
        for &origin in &origins {
            check_unlocked(
                &mut builder,
                &state,
                origin,
                "A set left locked refuses every write",
            );
        }
    }
    builder.finish()
}

/// A check that `node` answers and its Slony-I schema is the cluster's version; `why`
/// says what the runbook will do to it.
pub(super) fn check_runs(builder: &mut Builder, cluster: &Cluster, node: NodeId, why: &str) {
    let version = cluster.version;
    builder.check(
        format!("Check that node {node} answers and runs Slony-I {version}"),
        format!("{why}; a node that does not answer, or whose Slony-I schema is not version {version} (the config's slony_version), must be dealt with before anything stops"),
        node,
        catalog::slony_version(cluster),
        version.to_string(),
        0,
    );
}

/// A check that no set `origin` is the origin of is locked.
fn check_unlocked(builder: &mut Builder, cluster: &Cluster, origin: NodeId, why: &str) {
    let origin_sets: Vec<SetId> = cluster
        .sets
        .values()
        .filter(|s| s.origin == origin)
        .map(|s| s.id)
        .collect();
    builder.check(
        format!("Check that no set of node {origin} is locked"),
        why,
        origin,
        catalog::locked_sets(cluster, &origin_sets),
        "0",
        0,
    );
}

/// `unlock set` for every set of `cluster`, on its origin.
fn unlock_script(cluster: &Cluster) -> Result<crate::render::Script, OpError> {
    let mut unlock = ops::script_for(cluster, "upgrade-slony", &[])?;
    for set in cluster.sets.values() {
        unlock.push(UnlockSet {
            id: set.id,
            origin: set.origin,
        });
        unlock.push(ops::echo(format!(
            "{} unlocked on node {}",
            set.label(),
            set.origin
        )));
    }
    Ok(unlock)
}

/// The 2.1-to-2.2 preparation: the checks `lock set` needs on each origin, the lock, a
/// SYNC every node confirms, and a check on every node that its log tables hold nothing a
/// subscriber still needs. Returns the script that unlocks the sets, which each step of it
/// runs when it fails.
fn lock_and_drain(
    builder: &mut Builder,
    cluster: &Cluster,
    origins: &[NodeId],
    sets: &[SetId],
) -> Result<crate::render::Script, OpError> {
    const OP: &str = "upgrade-slony";
    for &origin in origins {
        check_unlocked(
            builder,
            cluster,
            origin,
            "A set left locked by an earlier, interrupted switchover or upgrade accepts no writes; a person who knows why it is locked must unlock it (or finish that work) before the upgrade locks it again",
        );
        builder.check(
            format!("Check that no transaction on node {origin} is older than {LONG_TRANSACTION_SECONDS} seconds"),
            "`lock set` waits for every transaction that started before it; an old or idle-in-transaction session on the origin's instance would keep the sets locked (no writes) until it ends. Find it in pg_stat_activity and end it, then run the runbook again",
            origin,
            catalog::long_transactions(cluster.version, LONG_TRANSACTION_SECONDS),
            "0",
            0,
        );
    }
    let unlock = unlock_script(cluster)?;
    let mut script = ops::script_for(cluster, OP, &[])?;
    for set in cluster.sets.values() {
        script.push(ops::echo(format!(
            "Locking {} on node {}: writes to its tables fail from now on until the runbook unlocks it",
            set.label(),
            set.origin
        )));
        script.push(LockSet {
            id: set.id,
            origin: set.origin,
        });
    }
    for &origin in origins {
        script.push(ops::echo(format!(
            "Waiting until every node has confirmed everything node {origin} wrote before the lock"
        )));
        script.extend(ops::sync_and_wait(cluster, origin, NodeOrAll::All));
    }
    let set_list = and_list(&sets.iter().map(|s| format!("set {s}")).collect::<Vec<_>>());
    builder.slonik(
        format!("Lock {set_list} and let every node catch up"),
        "Slony-I 2.2 stores changes in a new sl_log_1/sl_log_2 layout: its `update functions` drops and recreates them, and refuses (\"cannot upgrade to new sl_log_N format due to existing unreplicated data\") while they hold data a subscriber has not confirmed. Locked sets take no new changes; writes to their tables fail until the sets are unlocked at the end. Until `update functions` runs, a failed step unlocks them",
        script,
        Some(Recovery {
            why: "unlock the sets so the origins take writes again; nothing has been upgraded".into(),
            action: Action::Slonik(unlock.clone()),
        }),
    )?;
    for node in cluster.active_nodes() {
        builder.check(
            format!("Check that the log tables of {} hold nothing unconfirmed", node.label()),
            "The test 2.2's `update functions` makes on each node (its check_unconfirmed_log()), asked while the slons still run and it can still be fixed: every log row of each set origin must be confirmed by every subscriber of that origin's sets. It waits for the confirmations of the SYNC above",
            node.id,
            catalog::unreplicated_log_rows(cluster),
            "0",
            cluster.wait_timeout,
        );
        builder.on_failure_last(Recovery {
            why: "unlock the sets so the origins take writes again; nothing has been upgraded. A node that never confirms needs its slon looked at (slonik-gen status)".into(),
            action: Action::Slonik(unlock.clone()),
        })?;
    }
    Ok(unlock)
}
