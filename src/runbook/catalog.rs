//! The SQL that runbook checks send to a node: questions about Slony-I's catalog (the
//! `"_<cluster>"` schema) and about the PostgreSQL instance, each returning one value.

use crate::model::names::quote_ident;
use crate::model::{Cluster, NodeId, SetId};

/// `"_replication"`: the catalog schema, quoted (the cluster name is case-preserving).
pub(crate) fn schema(cluster: &Cluster) -> String {
    quote_ident(&format!("_{}", cluster.name))
}

/// A SQL string literal (`'` doubled; standard_conforming_strings is on from 9.1).
pub(crate) fn literal(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

fn id_list<T: std::fmt::Display>(ids: &[T]) -> String {
    ids.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ")
}

/// How many of `sets` `receiver` subscribes to with an active subscription from `provider`
/// (any provider when `None`).
pub(crate) fn active_subscriptions(
    cluster: &Cluster,
    sets: &[SetId],
    receiver: NodeId,
    provider: Option<NodeId>,
) -> String {
    let provider = provider
        .map(|p| format!(" and sub_provider = {p}"))
        .unwrap_or_default();
    format!(
        "select count(*) from {}.sl_subscribe where sub_set in ({}) and sub_receiver = {receiver}{provider} and sub_active",
        schema(cluster),
        id_list(sets)
    )
}

/// How many of `sets` are locked (`lock set` committed, no `move set` or `unlock set` yet).
pub(crate) fn locked_sets(cluster: &Cluster, sets: &[SetId]) -> String {
    format!(
        "select count(*) from {}.sl_set where set_id in ({}) and set_locked is not null",
        schema(cluster),
        id_list(sets)
    )
}

/// How many of `sets` have origin `origin` and are unlocked.
pub(crate) fn sets_with_origin(cluster: &Cluster, sets: &[SetId], origin: NodeId) -> String {
    format!(
        "select count(*) from {}.sl_set where set_id in ({}) and set_origin = {origin} and set_locked is null",
        schema(cluster),
        id_list(sets)
    )
}

/// Client transactions open longer than `seconds` on the whole instance: `lock set` waits
/// for every transaction older than the lock, so one forgotten `idle in transaction`
/// session would hang the switchover with the set locked.
pub(crate) fn long_transactions(seconds: u32) -> String {
    format!(
        "select count(*) from pg_catalog.pg_stat_activity where backend_type = 'client backend' and xact_start < now() - interval '{seconds} seconds' and pid <> pg_catalog.pg_backend_pid()"
    )
}

/// How many of `sets` Slony-I 2.2 lists with `backup` as a failover target of `origin`.
pub(crate) fn failover_targets(cluster: &Cluster, sets: &[SetId], origin: NodeId, backup: NodeId) -> String {
    format!(
        "select count(distinct set_id) from {}.sl_failover_targets where set_id in ({}) and set_origin = {origin} and backup_id = {backup}",
        schema(cluster),
        id_list(sets)
    )
}

/// Before 2.2 (no `sl_failover_targets`): how many of `sets` `backup` receives directly
/// from `origin` with forwarding on and the subscription active.
pub(crate) fn direct_forwarding_subscriptions(
    cluster: &Cluster,
    sets: &[SetId],
    origin: NodeId,
    backup: NodeId,
) -> String {
    format!(
        "select count(*) from {}.sl_subscribe where sub_set in ({}) and sub_provider = {origin} and sub_receiver = {backup} and sub_forward and sub_active",
        schema(cluster),
        id_list(sets)
    )
}

/// 1 when the cluster's catalog still lists `node`.
pub(crate) fn node_known(cluster: &Cluster, node: NodeId) -> String {
    format!(
        "select count(*) from {}.sl_node where no_id = {node}",
        schema(cluster)
    )
}

/// 1 when the catalog has the path by which `client` reaches `server`.
pub(crate) fn path_known(cluster: &Cluster, server: NodeId, client: NodeId) -> String {
    format!(
        "select count(*) from {}.sl_path where pa_server = {server} and pa_client = {client}",
        schema(cluster)
    )
}

/// How many of `ids` are used as set ids already.
pub(crate) fn set_ids_taken(cluster: &Cluster, ids: &[SetId]) -> String {
    format!(
        "select count(*) from {}.sl_set where set_id in ({})",
        schema(cluster),
        id_list(ids)
    )
}

/// How many of `ids` are used as table ids already.
pub(crate) fn table_ids_taken(cluster: &Cluster, ids: &[u32]) -> String {
    format!(
        "select count(*) from {}.sl_table where tab_id in ({})",
        schema(cluster),
        id_list(ids)
    )
}

/// How many of `ids` are used as sequence ids already.
pub(crate) fn sequence_ids_taken(cluster: &Cluster, ids: &[u32]) -> String {
    format!(
        "select count(*) from {}.sl_sequence where seq_id in ({})",
        schema(cluster),
        id_list(ids)
    )
}

/// How many of `tables` (schema, name) exist with a primary key, or with the unique index
/// named as their key.
pub(crate) fn tables_ready(tables: &[(String, String, Option<String>)]) -> String {
    let rows = tables
        .iter()
        .map(|(schema, name, key)| {
            format!(
                "({}, {}, {})",
                literal(schema),
                literal(name),
                key.as_deref().map(literal).unwrap_or_else(|| "null".into())
            )
        })
        .collect::<Vec<_>>()
        .join(", ");
    format!(
        "select count(*) from (values {rows}) as wanted(nspname, relname, keyname) join pg_catalog.pg_namespace n on n.nspname = wanted.nspname join pg_catalog.pg_class c on c.relnamespace = n.oid and c.relname = wanted.relname and c.relkind in ('r', 'p') where exists (select 1 from pg_catalog.pg_index i join pg_catalog.pg_class ic on ic.oid = i.indexrelid where i.indrelid = c.oid and (case when wanted.keyname is null then i.indisprimary else ic.relname = wanted.keyname and i.indisunique end))"
    )
}

/// How many of `sequences` (schema, name) exist.
pub(crate) fn sequences_ready(sequences: &[(String, String)]) -> String {
    let rows = sequences
        .iter()
        .map(|(schema, name)| format!("({}, {})", literal(schema), literal(name)))
        .collect::<Vec<_>>()
        .join(", ");
    format!(
        "select count(*) from (values {rows}) as wanted(nspname, relname) join pg_catalog.pg_namespace n on n.nspname = wanted.nspname join pg_catalog.pg_class c on c.relnamespace = n.oid and c.relname = wanted.relname and c.relkind = 'S'"
    )
}

/// How many of `tables` (by id) belong to `set`.
pub(crate) fn tables_in_set(cluster: &Cluster, set: SetId, ids: &[u32]) -> String {
    format!(
        "select count(*) from {}.sl_table where tab_set = {set} and tab_id in ({})",
        schema(cluster),
        id_list(ids)
    )
}

/// One line describing the state the catalog should be in, as [`state_summary_query`]
/// prints it: `nodes 1 2 3; sets 1:1; subscriptions 1:1>2 1:1>3`. Failed nodes read
/// `1(failed)`; a subscription that forwards ends in `+`.
pub(crate) fn state_summary(cluster: &Cluster) -> String {
    let nodes = cluster
        .nodes
        .values()
        .map(|n| format!("{}{}", n.id, if n.failed { "(failed)" } else { "" }))
        .collect::<Vec<_>>()
        .join(" ");
    let sets = cluster
        .sets
        .values()
        .map(|s| format!("{}:{}", s.id, s.origin))
        .collect::<Vec<_>>()
        .join(" ");
    let subscriptions = cluster
        .subscriptions
        .values()
        .filter(|s| !cluster.nodes[&s.receiver].failed)
        .map(|s| {
            format!(
                "{}:{}>{}{}",
                s.set,
                s.provider,
                s.receiver,
                if s.forward { "+" } else { "" }
            )
        })
        .collect::<Vec<_>>()
        .join(" ");
    let none = |list: String| if list.is_empty() { "none".to_string() } else { list };
    format!(
        "nodes {}; sets {}; subscriptions {}",
        none(nodes),
        none(sets),
        none(subscriptions)
    )
}

/// The query that prints [`state_summary`] from a node's catalog. Subscriptions of failed
/// nodes are left out (the model forgets them; Slony may keep them until the node is
/// dropped), and an inactive subscription reads `(inactive)` so it never passes.
pub(crate) fn state_summary_query(cluster: &Cluster) -> String {
    let schema = schema(cluster);
    let failed: Vec<NodeId> = cluster
        .nodes
        .values()
        .filter(|n| n.failed)
        .map(|n| n.id)
        .collect();
    let receivers = if failed.is_empty() {
        String::new()
    } else {
        format!(" where sub_receiver not in ({})", id_list(&failed))
    };
    format!(
        "select 'nodes ' || coalesce((select string_agg(no_id::text || case when no_active then '' else '(failed)' end, ' ' order by no_id) from {schema}.sl_node), 'none') \
|| '; sets ' || coalesce((select string_agg(set_id || ':' || set_origin, ' ' order by set_id) from {schema}.sl_set), 'none') \
|| '; subscriptions ' || coalesce((select string_agg(sub_set || ':' || sub_provider || '>' || sub_receiver || case when sub_forward then '+' else '' end || case when sub_active then '' else '(inactive)' end, ' ' order by sub_set, sub_receiver) from {schema}.sl_subscribe{receivers}), 'none')"
    )
}
