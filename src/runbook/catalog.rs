//! The SQL that runbook checks send to a node: questions about Slony-I's catalog (the
//! `"_<cluster>"` schema) and about the PostgreSQL instance, each returning one value.
//!
//! Two rules hold for every query here (tests/runbook_plans.rs checks both on every plan):
//!
//! * **Nothing resolves through `search_path`** that can be qualified: every function,
//!   relation and type is written `pg_catalog.x`, every Slony-I table `"_<cluster>".x`.
//!   An admin connection whose `search_path` puts a hostile schema first (for example
//!   `options='-c search_path=evil,pg_catalog'`) then cannot swap in its own `count` or
//!   `now`. Operators (`=`, `<`, `||`, `like`) are left in their plain form: every one of
//!   them is applied to built-in types, and `OPERATOR(pg_catalog.=)` on every comparison
//!   would make the queries unreadable in a Markdown runbook. The residual risk is a
//!   `search_path` that lists a schema in which an attacker created operators *before*
//!   `pg_catalog`; `pg_catalog` is searched first whenever it is not listed.
//! * **Every query runs on every PostgreSQL server the Slony-I version supports**
//!   (Slony-I 2.0, 2.1 and 2.2: PostgreSQL 8.3 and later; 1.2: 7.4 to 8.4): no
//!   `string_agg` (9.0), no `VALUES` list in `FROM` (8.2), no `pg_stat_activity.pid` (9.2)
//!   or `backend_type` (10), no `drop ... if exists` (8.2), no `E''` literal unless the
//!   text has a backslash ([`sql::literal`]).

use crate::escape::sql;
use crate::model::{Cluster, NodeId, SetId};
use crate::version::SlonyVersion;

/// `"_replication"`: the catalog schema, quoted (the cluster name is case-preserving).
pub(crate) fn schema(cluster: &Cluster) -> String {
    sql::identifier(&format!("_{}", cluster.name))
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
        "select pg_catalog.count(*) from {}.sl_subscribe where sub_set in ({}) and sub_receiver = {receiver}{provider} and sub_active",
        schema(cluster),
        id_list(sets)
    )
}

/// How many of `sets` are locked (`lock set` committed, no `move set` or `unlock set` yet).
pub(crate) fn locked_sets(cluster: &Cluster, sets: &[SetId]) -> String {
    format!(
        "select pg_catalog.count(*) from {}.sl_set where set_id in ({}) and set_locked is not null",
        schema(cluster),
        id_list(sets)
    )
}

/// How many of `sets` have origin `origin` and are unlocked.
pub(crate) fn sets_with_origin(cluster: &Cluster, sets: &[SetId], origin: NodeId) -> String {
    format!(
        "select pg_catalog.count(*) from {}.sl_set where set_id in ({}) and set_origin = {origin} and set_locked is null",
        schema(cluster),
        id_list(sets)
    )
}

/// Client transactions open longer than `seconds` on the whole instance: `lock set` waits
/// for every transaction older than the lock, so one forgotten `idle in transaction`
/// session would hang the switchover with the set locked.
///
/// Written with the statistics functions behind `pg_stat_activity`, whose names have not
/// changed, instead of the view, whose columns have (`procpid` became `pid` in 9.2,
/// `backend_type` came in 10). Autovacuum workers are left out: they appear with a
/// transaction start but hold back no `lock set`.
///
/// * Slony-I 2.0 and later (PostgreSQL 8.3 and later): the transaction start time.
/// * Slony-I 1.2 (PostgreSQL 7.4 to 8.4): servers before 8.3 do not record when a
///   transaction started, so the query looks at the start of each session's current (or,
///   idle in transaction, last) statement. It finds no false alarm, but misses a
///   transaction whose latest statement is recent, and before 8.2 it sees nothing unless
///   `stats_command_string` is on.
pub(crate) fn long_transactions(version: SlonyVersion, seconds: u32) -> String {
    let age = format!("pg_catalog.now() - '{seconds} seconds'::pg_catalog.interval");
    let rest = "pg_catalog.pg_stat_get_backend_pid(b.id) <> pg_catalog.pg_backend_pid() and pg_catalog.pg_stat_get_backend_activity(b.id) not like 'autovacuum:%'";
    if version >= SlonyVersion::V2_0 {
        format!(
            "select pg_catalog.count(*) from pg_catalog.pg_stat_get_backend_idset() as b(id) where pg_catalog.pg_stat_get_backend_xact_start(b.id) < {age} and {rest}"
        )
    } else {
        format!(
            "select pg_catalog.count(*) from pg_catalog.pg_stat_get_backend_idset() as b(id) where pg_catalog.pg_stat_get_backend_activity_start(b.id) < {age} and pg_catalog.pg_stat_get_backend_activity(b.id) <> '<IDLE>' and {rest}"
        )
    }
}

/// How many of `sets` Slony-I 2.2 lists with `backup` as a failover target of `origin`.
pub(crate) fn failover_targets(cluster: &Cluster, sets: &[SetId], origin: NodeId, backup: NodeId) -> String {
    format!(
        "select pg_catalog.count(distinct set_id) from {}.sl_failover_targets where set_id in ({}) and set_origin = {origin} and backup_id = {backup}",
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
        "select pg_catalog.count(*) from {}.sl_subscribe where sub_set in ({}) and sub_provider = {origin} and sub_receiver = {backup} and sub_forward and sub_active",
        schema(cluster),
        id_list(sets)
    )
}

/// 1 when the cluster's catalog still lists `node`.
pub(crate) fn node_known(cluster: &Cluster, node: NodeId) -> String {
    format!(
        "select pg_catalog.count(*) from {}.sl_node where no_id = {node}",
        schema(cluster)
    )
}

/// 1 when the catalog has the path by which `client` reaches `server`.
pub(crate) fn path_known(cluster: &Cluster, server: NodeId, client: NodeId) -> String {
    format!(
        "select pg_catalog.count(*) from {}.sl_path where pa_server = {server} and pa_client = {client}",
        schema(cluster)
    )
}

/// How many of `ids` are used as set ids already.
pub(crate) fn set_ids_taken(cluster: &Cluster, ids: &[SetId]) -> String {
    format!(
        "select pg_catalog.count(*) from {}.sl_set where set_id in ({})",
        schema(cluster),
        id_list(ids)
    )
}

/// How many of `ids` are used as table ids already.
pub(crate) fn table_ids_taken(cluster: &Cluster, ids: &[u32]) -> String {
    format!(
        "select pg_catalog.count(*) from {}.sl_table where tab_id in ({})",
        schema(cluster),
        id_list(ids)
    )
}

/// How many of `ids` are used as sequence ids already.
pub(crate) fn sequence_ids_taken(cluster: &Cluster, ids: &[u32]) -> String {
    format!(
        "select pg_catalog.count(*) from {}.sl_sequence where seq_id in ({})",
        schema(cluster),
        id_list(ids)
    )
}

/// A name as a `pg_catalog.name` literal (what `pg_namespace` and `pg_class` compare).
fn name_literal(text: &str) -> String {
    format!("{}::pg_catalog.name", sql::literal(text))
}

/// `select A as x, B as y union all select ...`: a list of rows that every server version
/// reads (a `VALUES` list in `FROM` needs 8.2).
fn rows(columns: &[&str], rows: &[Vec<String>]) -> String {
    rows.iter()
        .map(|row| {
            let fields = row
                .iter()
                .zip(columns)
                .map(|(value, column)| format!("{value} as {column}"))
                .collect::<Vec<_>>()
                .join(", ");
            format!("select {fields}")
        })
        .collect::<Vec<_>>()
        .join(" union all ")
}

/// How many of `tables` (schema, name) exist with a primary key, or with the unique index
/// named as their key.
pub(crate) fn tables_ready(tables: &[(String, String, Option<String>)]) -> String {
    let wanted = rows(
        &["nspname", "relname", "keyname"],
        &tables
            .iter()
            .map(|(schema, name, key)| {
                vec![
                    name_literal(schema),
                    name_literal(name),
                    key.as_deref()
                        .map(name_literal)
                        .unwrap_or_else(|| "null::pg_catalog.name".into()),
                ]
            })
            .collect::<Vec<_>>(),
    );
    format!(
        "select pg_catalog.count(*) from ({wanted}) as wanted join pg_catalog.pg_namespace n on n.nspname = wanted.nspname join pg_catalog.pg_class c on c.relnamespace = n.oid and c.relname = wanted.relname and c.relkind in ('r', 'p') where exists (select 1 from pg_catalog.pg_index i join pg_catalog.pg_class ic on ic.oid = i.indexrelid where i.indrelid = c.oid and (case when wanted.keyname is null then i.indisprimary else ic.relname = wanted.keyname and i.indisunique end))"
    )
}

/// How many of `sequences` (schema, name) exist.
pub(crate) fn sequences_ready(sequences: &[(String, String)]) -> String {
    let wanted = rows(
        &["nspname", "relname"],
        &sequences
            .iter()
            .map(|(schema, name)| vec![name_literal(schema), name_literal(name)])
            .collect::<Vec<_>>(),
    );
    format!(
        "select pg_catalog.count(*) from ({wanted}) as wanted join pg_catalog.pg_namespace n on n.nspname = wanted.nspname join pg_catalog.pg_class c on c.relnamespace = n.oid and c.relname = wanted.relname and c.relkind = 'S'"
    )
}

/// 1 when the node's database has the schema `name`.
pub(crate) fn schema_exists(name: &str) -> String {
    format!(
        "select pg_catalog.count(*) from pg_catalog.pg_namespace where nspname = {}",
        name_literal(name)
    )
}

/// 1 when the instance has the database `name` (asked through another database).
pub(crate) fn database_exists(name: &str) -> String {
    format!(
        "select pg_catalog.count(*) from pg_catalog.pg_database where datname = {}",
        name_literal(name)
    )
}

/// How many of `tables` (by id) belong to `set`.
pub(crate) fn tables_in_set(cluster: &Cluster, set: SetId, ids: &[u32]) -> String {
    format!(
        "select pg_catalog.count(*) from {}.sl_table where tab_set = {set} and tab_id in ({})",
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
    // `array_to_string(array(...))` rather than `string_agg` (PostgreSQL 9.0).
    let list = |select: &str| {
        format!("coalesce(nullif(pg_catalog.array_to_string(array({select}), ' '), ''), 'none')")
    };
    let text = "pg_catalog.text";
    format!(
        "select 'nodes ' || {} || '; sets ' || {} || '; subscriptions ' || {}",
        list(&format!("select no_id::{text} || case when no_active then '' else '(failed)' end from {schema}.sl_node order by no_id")),
        list(&format!("select set_id::{text} || ':' || set_origin::{text} from {schema}.sl_set order by set_id")),
        list(&format!("select sub_set::{text} || ':' || sub_provider::{text} || '>' || sub_receiver::{text} || case when sub_forward then '+' else '' end || case when sub_active then '' else '(inactive)' end from {schema}.sl_subscribe{receivers} order by sub_set, sub_receiver")),
    )
}

/// How many tables, views and sequences the database has outside PostgreSQL's own schemas:
/// 0 for a database that is new.
pub(crate) fn user_relations() -> String {
    "select pg_catalog.count(*) from pg_catalog.pg_class c join pg_catalog.pg_namespace n on n.oid = c.relnamespace where c.relkind in ('r', 'p', 'v', 'm', 'S', 'f') and n.nspname <> 'pg_catalog' and n.nspname <> 'information_schema' and n.nspname not like 'pg_toast%' and n.nspname not like 'pg_temp%'".to_string()
}

/// How many DDL statements of execute-script are still kept in `sl_log_script` (Slony-I
/// 2.2): a node subscribed now would replay them.
pub(crate) fn pending_ddl(cluster: &Cluster) -> String {
    format!(
        "select pg_catalog.count(*) from {}.sl_log_script",
        schema(cluster)
    )
}

/// The Slony-I version of the node's catalog as `major.minor` (`2.2`).
pub(crate) fn slony_version(cluster: &Cluster) -> String {
    let schema = schema(cluster);
    format!("select {schema}.slonyVersionMajor()::pg_catalog.text || '.' || {schema}.slonyVersionMinor()::pg_catalog.text")
}

/// How many rows of the node's `sl_log_1`/`sl_log_2` some subscriber of their origin has
/// not confirmed yet, plus one for each set origin whose oldest confirmation the node
/// cannot place (no subscriber has confirmed anything, or the event is gone): 0 exactly
/// when Slony-I 2.2's `check_unconfirmed_log()` lets `update functions` rebuild the log
/// tables. It is that function's test as one query, because a 2.0 or 2.1 schema does not
/// have the function yet: per origin, the newest event every subscriber of its sets has
/// confirmed, and the log rows of transactions that event's snapshot does not see as done.
/// Unlike comparing confirmations with the newest event, it does not flip back with every
/// idle SYNC slon makes while the sets are locked.
pub(crate) fn unreplicated_log_rows(cluster: &Cluster) -> String {
    let schema = schema(cluster);
    let after = |log: &str| {
        format!(
            "(select pg_catalog.count(*) from {schema}.{log} where log_origin = c.origin and (log_txid >= pg_catalog.txid_snapshot_xmax(c.snap) or log_txid in (select pg_catalog.txid_snapshot_xip(c.snap))))"
        )
    };
    format!(
        "select coalesce(pg_catalog.sum(case when c.snap is null then 1 else {} + {} end), 0) from (select o.origin, (select e.ev_snapshot from {schema}.sl_event e where e.ev_origin = o.origin and e.ev_seqno = (select pg_catalog.min(m.seqno) from (select pg_catalog.max(con_seqno) as seqno from {schema}.sl_confirm where con_origin = o.origin and con_received in (select sub_receiver from {schema}.sl_subscribe join {schema}.sl_set on set_id = sub_set where set_origin = o.origin) group by con_received) as m)) as snap from (select distinct set_origin as origin from {schema}.sl_set) as o) as c",
        after("sl_log_1"),
        after("sl_log_2")
    )
}

/// 1 when the instance runs a PostgreSQL older than `version_num` (as in
/// `server_version_num`, 8.2 and later; older servers fail the query, which the check
/// reports as a wrong answer).
pub(crate) fn server_older_than(version_num: u32) -> String {
    format!("select pg_catalog.count(*) where pg_catalog.current_setting('server_version_num')::pg_catalog.int4 < {version_num}")
}

/// How many columns of the database are the key Slony-I 1.2's `table add key` added to a
/// table without one (`_Slony-I_<cluster>_rowID`), which 2.x no longer supports.
pub(crate) fn slony_added_keys(cluster: &Cluster) -> String {
    format!(
        "select pg_catalog.count(*) from pg_catalog.pg_attribute where attname = {} and attnum > 0 and not attisdropped",
        name_literal(&format!("_Slony-I_{}_rowID", cluster.name))
    )
}

/// The triggers Slony-I 1.2 keeps enabled on a subscriber (`store trigger`), one
/// `schema.table trigger` per row: 2.x has no `store trigger`, and each needs an
/// `alter table ... enable always trigger` (or `enable replica trigger`) after the upgrade.
pub(crate) fn stored_triggers(cluster: &Cluster) -> String {
    let schema = schema(cluster);
    format!(
        "select n.nspname || '.' || c.relname || ' ' || g.trig_tgname from {schema}.sl_trigger g join {schema}.sl_table t on t.tab_id = g.trig_tabid join pg_catalog.pg_class c on c.oid = t.tab_reloid join pg_catalog.pg_namespace n on n.oid = c.relnamespace order by 1"
    )
}
