//! `slonik-gen compare SET`: the rows of every table and the value of every sequence of a
//! set, on its origin and on its subscribers, at the same replicated point, without
//! stopping writes (the tutorial's `dbsums`, bounded in time and memory).
//!
//! How the same point is reached:
//!
//! 1. on the origin, each table's key columns (the primary key, or the set table's `key`
//!    index) and its columns are read from the catalog, and every sequence's `last_value`;
//! 2. a SYNC is made on the origin the way slon makes one (`lock table sl_event_lock`, then
//!    `createEvent(cluster, 'SYNC', NULL)` in one transaction), and the command waits, at
//!    most the cluster's `wait_timeout` (0: no limit), until every compared subscriber's
//!    `sl_setsync` for the set is at that SYNC or past it. `sl_setsync` is updated in the
//!    transaction that applies the SYNC's rows, so the snapshot that reads it reads the
//!    data of that very SYNC;
//! 3. each table is read in chunks of `chunk_rows` rows in key order: the chunk's upper
//!    key is found on the origin (`order by key offset chunk_rows - 1 limit 1`; memory
//!    holds the two boundary keys, never the rows), and every node gives the chunk's row
//!    count and checksum: the sum, as `numeric`, of the first 64 bits of
//!    `md5(row(columns)::text)` read as a signed 64-bit integer, over the rows whose key is
//!    in the range. A sum does not depend on the order of the rows. The columns are the
//!    origin's, by name in the origin's order, so a subscriber whose columns are in
//!    another physical order reads the same text;
//! 4. a chunk that differs may have changed between the reads under write load. It is
//!    read again at one exact point, up to `retries` times: a second origin session takes
//!    `sl_event_lock` (no other event can be made on the origin while it holds it), a
//!    repeatable-read transaction makes a SYNC and reads the chunk in the snapshot the
//!    SYNC records, and each subscriber is read, once it is at that SYNC, in a snapshot
//!    whose `sl_setsync` says it is at exactly that SYNC. The lock is released right
//!    after. Different there is a difference; equal is equal.
//!
//! Sequences: a subscriber's `last_value`, read after it confirmed the SYNC, must be at
//! least the origin's value read before the SYNC and at most the origin's value read
//! after; outside that range is a difference.
//!
//! Every session pins `search_path` to `pg_catalog, pg_temp` and the settings a row's text
//! depends on (`DateStyle`, `TimeZone`, `IntervalStyle`, `extra_float_digits`,
//! `bytea_output`), names every function with its schema and every identifier quoted
//! ([`crate::escape::sql::identifier`]), and passes every value (key boundaries, ids,
//! the cluster name) as a parameter: a key value reaches SQL as text cast to the key
//! column's type, named by its schema and type name. Key ranges are evaluated by each
//! node: nodes whose collations sort a text key differently report spurious differences.
//! `money` text depends on `lc_monetary`, which is not pinned.
//!
//! Row text is compared as each server prints it: nodes on PostgreSQL versions that print
//! a type differently (`float4`/`float8` before and from PostgreSQL 12) report spurious
//! differences in tables with such columns. The catalog queries need PostgreSQL 9.5 or
//! later (`array_position`).
//!
//! A `wait_timeout` of 0 waits for confirmations without limit, as `wait for event` does.
//!
//! Every catalog value and key value in a report goes through [`visible`].

use std::fmt::Write as _;
use std::time::{Duration, Instant};

use postgres::types::ToSql;
use serde::Serialize;

use super::{shown_conninfo, with_causes};
use crate::escape::sql::identifier;
use crate::escape::visible;
use crate::import::ImportError;
use crate::model::{Cluster, NodeId, SetId};

/// How [`compare_set`] reads the nodes.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct CompareOptions {
    /// Rows per chunk (at least 1).
    pub chunk_rows: u64,
    /// How many times a chunk that differs is read again at one exact point.
    pub retries: u32,
    /// The subscribers to compare; empty: every subscriber of the set.
    pub nodes: Vec<NodeId>,
    /// Connect timeout of each session.
    pub connect_timeout: Duration,
    /// `statement_timeout` of each session.
    pub statement_timeout: Duration,
    /// How long to wait for the subscribers to confirm a SYNC; `None`: the cluster's
    /// `wait_timeout` (0 there: no limit).
    pub wait_timeout: Option<Duration>,
}

impl Default for CompareOptions {
    /// 10,000 rows a chunk, 3 retries, every subscriber, 10 s to connect, 5 minutes a
    /// statement, the cluster's `wait_timeout`.
    fn default() -> Self {
        CompareOptions {
            chunk_rows: 10_000,
            retries: 3,
            nodes: Vec::new(),
            connect_timeout: Duration::from_secs(10),
            statement_timeout: Duration::from_secs(300),
            wait_timeout: None,
        }
    }
}

impl CompareOptions {
    /// These options with `rows` rows per chunk.
    pub fn chunk_rows(mut self, rows: u64) -> Self {
        self.chunk_rows = rows;
        self
    }

    /// These options with `retries` exact re-reads of a chunk that differs.
    pub fn retries(mut self, retries: u32) -> Self {
        self.retries = retries;
        self
    }

    /// These options comparing only `nodes`.
    pub fn nodes(mut self, nodes: Vec<NodeId>) -> Self {
        self.nodes = nodes;
        self
    }

    /// These options with another wait for confirmations.
    pub fn wait_timeout(mut self, timeout: Duration) -> Self {
        self.wait_timeout = Some(timeout);
        self
    }
}

/// What [`compare_set`] found.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct CompareReport {
    /// The cluster name.
    pub cluster: String,
    /// The set id.
    pub set: u32,
    /// The set's name.
    pub set_name: String,
    /// The set's origin.
    pub origin: u32,
    /// The subscribers compared, by id.
    pub nodes: Vec<u32>,
    /// The SYNC (`ev_seqno` on the origin) the first reads waited for.
    pub sync: i64,
    /// How many chunks were read again at an exact point.
    pub exact_rereads: u64,
    /// Every table of the set, in the set's order.
    pub tables: Vec<TableResult>,
    /// Every sequence of the set, in the set's order.
    pub sequences: Vec<SequenceResult>,
    /// Every difference found, by table or sequence, then node.
    pub differences: Vec<Difference>,
}

/// One table's totals.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct TableResult {
    /// `schema.name`.
    pub table: String,
    /// The table id.
    pub id: u32,
    /// The key columns the chunks are ranged on.
    pub key: Vec<String>,
    /// Chunks read.
    pub chunks: u64,
    /// Rows counted on each node (the origin first), from the reads that were kept.
    pub rows: Vec<NodeRows>,
    /// Whether no chunk differs.
    pub equal: bool,
}

/// A row count on one node.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct NodeRows {
    /// The node.
    pub node: u32,
    /// Its rows.
    pub rows: i64,
}

/// One sequence's values.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct SequenceResult {
    /// `schema.name`.
    pub sequence: String,
    /// The sequence id.
    pub id: u32,
    /// The origin's `last_value` before the SYNC.
    pub origin_before: i64,
    /// The origin's `last_value` after the subscribers were read.
    pub origin_after: i64,
    /// Each subscriber's `last_value`.
    pub values: Vec<NodeValue>,
    /// Whether every subscriber is in range.
    pub equal: bool,
}

/// A sequence value on one node.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct NodeValue {
    /// The node.
    pub node: u32,
    /// Its `last_value`.
    pub value: i64,
}

/// One difference.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Difference {
    /// The subscriber that differs.
    pub node: u32,
    /// `table` or `sequence`.
    pub kind: &'static str,
    /// `schema.name`.
    pub relation: String,
    /// For a table: the key range of the chunk, e.g. `("id") > ('7') and ("id") <= ('14')`
    /// (`all rows` for a table read in one chunk).
    pub range: Option<String>,
    /// For a table: rows in the range on the origin and on the node.
    pub origin_rows: Option<i64>,
    /// For a table: rows in the range on the node.
    pub node_rows: Option<i64>,
    /// For a table: whether the last read was at one exact point (false: the node moved
    /// past the SYNC before it was read, or the retries were 0). For a sequence: true.
    pub exact: bool,
    /// What differs, in words.
    pub detail: String,
}

impl CompareReport {
    /// Whether nothing differs.
    pub fn equal(&self) -> bool {
        self.differences.is_empty()
    }

    /// The report for a person: one line per table and sequence, then the differences.
    pub fn to_text(&self) -> String {
        let mut out = String::new();
        let nodes: Vec<String> = self.nodes.iter().map(|n| n.to_string()).collect();
        let _ = writeln!(
            out,
            "compare set {} ({}) of cluster {}: origin node {}, subscriber{} {}, at SYNC {} ({} chunk{} read again at an exact point)",
            self.set,
            visible(&self.set_name),
            visible(&self.cluster),
            self.origin,
            plural(self.nodes.len() as u64),
            nodes.join(", "),
            self.sync,
            self.exact_rereads,
            plural(self.exact_rereads)
        );
        for t in &self.tables {
            let rows: Vec<String> = t
                .rows
                .iter()
                .map(|r| format!("node {} {}", r.node, r.rows))
                .collect();
            let _ = writeln!(
                out,
                "  table {} (id {}): {} chunk{}, rows {}: {}",
                t.table,
                t.id,
                t.chunks,
                plural(t.chunks),
                rows.join(", "),
                if t.equal { "equal" } else { "DIFFERENT" }
            );
        }
        for s in &self.sequences {
            let values: Vec<String> = s
                .values
                .iter()
                .map(|v| format!("node {} {}", v.node, v.value))
                .collect();
            let _ = writeln!(
                out,
                "  sequence {} (id {}): origin {}..{}, {}: {}",
                s.sequence,
                s.id,
                s.origin_before,
                s.origin_after,
                values.join(", "),
                if s.equal { "equal" } else { "DIFFERENT" }
            );
        }
        if self.tables.is_empty() && self.sequences.is_empty() {
            out.push_str("  (the set has no table and no sequence)\n");
        }
        if !self.differences.is_empty() {
            out.push_str("\ndifferences:\n");
            for d in &self.differences {
                let _ = writeln!(out, "  node {}: {} {}: {}", d.node, d.kind, d.relation, d.detail);
            }
        }
        out
    }

    /// The report as pretty JSON, fields in declaration order (strings already escaped).
    pub fn to_json(&self) -> String {
        let mut text = serde_json::to_string_pretty(self)
            .unwrap_or_else(|e| format!("{{\"error\": {:?}}}", e.to_string()));
        text.push('\n');
        text
    }

    /// One line for stderr: `set 1: equal on nodes 2, 3` or the count of differences.
    pub fn summary(&self) -> String {
        let nodes: Vec<String> = self.nodes.iter().map(|n| n.to_string()).collect();
        if self.equal() {
            format!(
                "set {}: {} table{} and {} sequence{} equal on origin node {} and node{} {}",
                self.set,
                self.tables.len(),
                plural(self.tables.len() as u64),
                self.sequences.len(),
                plural(self.sequences.len() as u64),
                self.origin,
                plural(self.nodes.len() as u64),
                nodes.join(", ")
            )
        } else {
            let mut which: Vec<String> = self
                .differences
                .iter()
                .map(|d| format!("{} on node {}", d.relation, d.node))
                .collect();
            let mut seen = std::collections::BTreeSet::new();
            which.retain(|w| seen.insert(w.clone()));
            format!(
                "set {}: {} difference{}: {}",
                self.set,
                self.differences.len(),
                plural(self.differences.len() as u64),
                which.join(", ")
            )
        }
    }
}

fn plural(n: u64) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

// ---------------------------------------------------------------------------------------
// SQL text. Pure functions: identifiers quoted, values as parameters.

/// A key column: its name and its type's schema and name (`pg_catalog`, `int4`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyColumn {
    /// The column name.
    pub name: String,
    /// The schema of its type.
    pub type_schema: String,
    /// Its type's name.
    pub type_name: String,
}

/// `"schema"."name"`.
pub fn relation_sql(schema: &str, name: &str) -> String {
    format!("{}.{}", identifier(schema), identifier(name))
}

/// `("k1", "k2")`.
fn key_tuple(keys: &[KeyColumn]) -> String {
    let names: Vec<String> = keys.iter().map(|k| identifier(&k.name)).collect();
    format!("({})", names.join(", "))
}

/// `($1::pg_catalog.text::"pg_catalog"."int4", ...)`, parameters from `first`.
fn key_params(keys: &[KeyColumn], first: usize) -> String {
    let params: Vec<String> = keys
        .iter()
        .enumerate()
        .map(|(i, k)| {
            format!(
                "${}::pg_catalog.text::{}.{}",
                first + i,
                identifier(&k.type_schema),
                identifier(&k.type_name)
            )
        })
        .collect();
    format!("({})", params.join(", "))
}

/// The `where` clause of a key range, parameters from `$1`: the lower bound's values first
/// (exclusive), then the upper bound's (inclusive); empty for no bound at all.
pub fn range_sql(keys: &[KeyColumn], lower: bool, upper: bool) -> String {
    let tuple = key_tuple(keys);
    let mut parts = Vec::new();
    let mut next = 1;
    if lower {
        parts.push(format!("{tuple} > {}", key_params(keys, next)));
        next += keys.len();
    }
    if upper {
        parts.push(format!("{tuple} <= {}", key_params(keys, next)));
    }
    if parts.is_empty() {
        String::new()
    } else {
        format!(" where {}", parts.join(" and "))
    }
}

/// The key of the last row of the chunk after `lower` (when `lower`): `offset` is the
/// last parameter.
pub fn boundary_sql(table: &str, keys: &[KeyColumn], lower: bool) -> String {
    let values: Vec<String> = keys
        .iter()
        .map(|k| format!("{}::pg_catalog.text", identifier(&k.name)))
        .collect();
    // Qualified: a bare name in `order by` would name the output column, the key as text.
    let order: Vec<String> = keys
        .iter()
        .map(|k| format!("t.{}", identifier(&k.name)))
        .collect();
    let offset = if lower { keys.len() + 1 } else { 1 };
    format!(
        "select {} from {table} t{} order by {} offset ${offset}::pg_catalog.int8 limit 1",
        values.join(", "),
        range_sql(keys, lower, false),
        order.join(", ")
    )
}

/// The row count and checksum of a key range: `count(*)`, and the sum over the rows of the
/// first 64 bits of `md5(row(columns)::text)` as a signed integer, as `numeric` text.
pub fn chunk_sql(table: &str, columns: &[String], keys: &[KeyColumn], lower: bool, upper: bool) -> String {
    let columns: Vec<String> = columns.iter().map(|c| identifier(c)).collect();
    format!(
        "select pg_catalog.count(*)::pg_catalog.int8, \
         coalesce(pg_catalog.sum(('x' operator(pg_catalog.||) pg_catalog.substr(pg_catalog.md5(row({})::pg_catalog.text), 1, 16))\
         ::pg_catalog.bit(64)::pg_catalog.int8::pg_catalog.numeric), 0)::pg_catalog.text \
         from {table} t{}",
        columns.join(", "),
        range_sql(keys, lower, upper)
    )
}

/// `last_value` of a sequence.
pub fn sequence_sql(sequence: &str) -> String {
    format!("select last_value::pg_catalog.int8 from {sequence}")
}

/// The key columns of a table, in index order, with their types: `$1` schema, `$2`
/// table, `$3` the index name or NULL for the primary key. A key on an expression has a
/// column number 0 and no row here (found by comparing with the index's column count).
const KEY_SQL: &str = "select a.attname::pg_catalog.text, tn.nspname::pg_catalog.text, ty.typname::pg_catalog.text, i.indnatts::pg_catalog.int8 \
     from pg_catalog.pg_index i \
     join pg_catalog.pg_class c on c.oid = i.indrelid \
     join pg_catalog.pg_namespace n on n.oid = c.relnamespace \
     join pg_catalog.pg_class ic on ic.oid = i.indexrelid \
     join pg_catalog.pg_attribute a on a.attrelid = c.oid and a.attnum operator(pg_catalog.=) any (i.indkey::pg_catalog.int2[]) \
     join pg_catalog.pg_type ty on ty.oid = a.atttypid \
     join pg_catalog.pg_namespace tn on tn.oid = ty.typnamespace \
     where n.nspname = $1::pg_catalog.text and c.relname = $2::pg_catalog.text \
     and case when $3::pg_catalog.text is null then i.indisprimary else ic.relname = $3::pg_catalog.text end \
     order by pg_catalog.array_position(i.indkey::pg_catalog.int2[], a.attnum)";

/// The columns of a table in their order: `$1` schema, `$2` table.
const COLUMNS_SQL: &str = "select a.attname::pg_catalog.text from pg_catalog.pg_attribute a \
     join pg_catalog.pg_class c on c.oid = a.attrelid \
     join pg_catalog.pg_namespace n on n.oid = c.relnamespace \
     where n.nspname = $1::pg_catalog.text and c.relname = $2::pg_catalog.text and a.attnum > 0 and not a.attisdropped \
     order by a.attnum";

/// A key range for messages: `("id") > ('7') and ("id") <= ('14')`, values escaped.
pub fn range_text(keys: &[KeyColumn], lower: Option<&[String]>, upper: Option<&[String]>) -> String {
    let names: Vec<String> = keys
        .iter()
        .map(|k| visible(&identifier(&k.name)).into_owned())
        .collect();
    let tuple = format!("({})", names.join(", "));
    let values = |v: &[String]| {
        let v: Vec<String> = v
            .iter()
            .map(|x| visible(&crate::escape::sql::literal(x)).into_owned())
            .collect();
        format!("({})", v.join(", "))
    };
    match (lower, upper) {
        (None, None) => "all rows".to_string(),
        (Some(l), None) => format!("{tuple} > {}", values(l)),
        (None, Some(u)) => format!("{tuple} <= {}", values(u)),
        (Some(l), Some(u)) => format!("{tuple} > {} and {tuple} <= {}", values(l), values(u)),
    }
}

// ---------------------------------------------------------------------------------------
// The live part.

/// One node's session.
struct Session {
    node: u32,
    conninfo: String,
    client: postgres::Client,
}

impl Session {
    fn open(cluster: &Cluster, node: NodeId, options: &CompareOptions) -> Result<Session, ImportError> {
        let conninfo = match cluster.nodes.get(&node) {
            Some(n) => super::status::admin_conninfo(n),
            None => return Err(ImportError::Usage(format!("node {node} is not in the config"))),
        };
        let fail = |message: String| ImportError::Live {
            conninfo: shown_conninfo(&conninfo),
            message: format!(
                "node {node}: {}",
                visible(&crate::model::conninfo::redact_secrets(&message))
            ),
        };
        let mut client = super::libpq::connect(&conninfo, Some(options.connect_timeout)).map_err(fail)?;
        let timeout_ms = options
            .statement_timeout
            .as_millis()
            .clamp(1, i32::MAX as u128)
            .to_string();
        client
            .execute(
                "select pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', false), \
                 pg_catalog.set_config('statement_timeout', $1, false), \
                 pg_catalog.set_config('DateStyle', 'ISO, YMD', false), \
                 pg_catalog.set_config('TimeZone', 'UTC', false), \
                 pg_catalog.set_config('IntervalStyle', 'postgres', false), \
                 pg_catalog.set_config('extra_float_digits', '3', false), \
                 pg_catalog.set_config('bytea_output', 'hex', false)",
                &[&timeout_ms],
            )
            .map_err(|e| fail(format!("cannot set up the session: {}", with_causes(&e))))?;
        Ok(Session {
            node: node.0,
            conninfo,
            client,
        })
    }

    fn error(&self, message: String) -> ImportError {
        ImportError::Live {
            conninfo: shown_conninfo(&self.conninfo),
            message: format!(
                "node {}: {}",
                self.node,
                visible(&crate::model::conninfo::redact_secrets(&message))
            ),
        }
    }

    fn query(
        &mut self,
        what: &str,
        sql: &str,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<Vec<postgres::Row>, ImportError> {
        match self.client.query(sql, params) {
            Ok(rows) => Ok(rows),
            Err(e) => Err(self.error(format!("{what}: {}", with_causes(&e)))),
        }
    }
}

/// The count and checksum of one key range on one node.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Sum {
    rows: i64,
    checksum: String,
}

fn read_sum(
    client: &mut impl postgres::GenericClient,
    sql: &str,
    params: &[&(dyn ToSql + Sync)],
) -> Result<Sum, postgres::Error> {
    let row = client.query_one(sql, params)?;
    Ok(Sum {
        rows: row.try_get(0)?,
        checksum: row.try_get(1)?,
    })
}

/// A table of the set, ready to read.
struct TablePlan {
    relation: String,
    shown: String,
    id: u32,
    keys: Vec<KeyColumn>,
    columns: Vec<String>,
}

/// `slonik-gen compare SET`: compares `set` on its origin and its subscribers (or
/// `options.nodes`). Errors (a node cannot be reached, a table has no key, a subscriber
/// does not confirm in time) end the comparison; differences are in the report.
pub fn compare_set(
    cluster: &Cluster,
    set: SetId,
    options: &CompareOptions,
) -> Result<CompareReport, ImportError> {
    let Some(model_set) = cluster.sets.get(&set) else {
        return Err(ImportError::Usage(format!("set {set} is not in the config")));
    };
    let origin = model_set.origin;
    let subscribers: Vec<NodeId> = cluster
        .subscribers(set)
        .map(|s| s.receiver)
        .filter(|n| cluster.nodes.get(n).is_some_and(|n| !n.failed))
        .collect();
    let nodes: Vec<NodeId> = if options.nodes.is_empty() {
        subscribers.clone()
    } else {
        let mut wanted = options.nodes.clone();
        wanted.sort();
        wanted.dedup();
        for n in &wanted {
            if !subscribers.contains(n) {
                return Err(ImportError::Usage(format!(
                    "--node {n}: node {n} is not an active subscriber of {} (its subscribers: {}); name a subscriber, or leave --node out to compare them all",
                    model_set.label(),
                    if subscribers.is_empty() {
                        "none".to_string()
                    } else {
                        subscribers.iter().map(|n| n.to_string()).collect::<Vec<_>>().join(", ")
                    }
                )));
            }
        }
        wanted
    };
    if nodes.is_empty() {
        return Err(ImportError::Usage(format!(
            "{} has no subscriber in the config: there is nothing to compare its origin with",
            model_set.label()
        )));
    }
    let chunk_rows = options.chunk_rows.max(1);
    let wait = options
        .wait_timeout
        .or_else(|| (cluster.wait_timeout > 0).then(|| Duration::from_secs(u64::from(cluster.wait_timeout))));
    let ns = identifier(&format!("_{}", cluster.name));
    let cluster_schema = format!("_{}", cluster.name);
    let set_param = i32::try_from(set.0).unwrap_or(i32::MAX);
    let origin_param = i32::try_from(origin.0).unwrap_or(i32::MAX);

    let mut main = Session::open(cluster, origin, options)?;
    let mut subs = Vec::new();
    for &n in &nodes {
        subs.push(Session::open(cluster, n, options)?);
    }

    // The catalog agrees with the config on the origin, and every subscriber is subscribed.
    let rows = main.query(
        "reading sl_set",
        &format!("select set_origin::pg_catalog.int8 from {ns}.sl_set where set_id = $1::pg_catalog.int4"),
        &[&set_param],
    )?;
    let catalog_origin = rows.first().and_then(|r| r.try_get::<_, i64>(0).ok());
    if catalog_origin != Some(i64::from(origin.0)) {
        return Err(main.error(match catalog_origin {
            None => format!("the catalog has no set {set}: create it first, or fix the config"),
            Some(other) => format!(
                "the catalog says set {set}'s origin is node {other}, the config says node {origin}: bring the config up to date (import cluster) and compare again"
            ),
        }));
    }
    let has_event_lock = !main
        .query(
            "reading the catalog",
            "select 1 from pg_catalog.pg_class c join pg_catalog.pg_namespace n on n.oid = c.relnamespace \
             where n.nspname = $1::pg_catalog.text and c.relname = 'sl_event_lock'",
            &[&cluster_schema],
        )?
        .is_empty();

    // 1. Keys and columns on the origin; sequences before the SYNC.
    let mut plans = Vec::new();
    for table in model_set.tables.iter() {
        let schema = &table.name.schema;
        let name = &table.name.name;
        let shown = visible(&format!("{schema}.{name}")).into_owned();
        let key_rows = main.query(
            "reading a table's key",
            KEY_SQL,
            &[schema as &(dyn ToSql + Sync), name, &table.key],
        )?;
        let expected = key_rows
            .first()
            .and_then(|r| r.try_get::<_, i64>(3).ok())
            .unwrap_or(0);
        let mut keys = Vec::new();
        for r in &key_rows {
            let (Ok(name), Ok(type_schema), Ok(type_name)) = (
                r.try_get::<_, String>(0),
                r.try_get::<_, String>(1),
                r.try_get::<_, String>(2),
            ) else {
                continue;
            };
            keys.push(KeyColumn {
                name,
                type_schema,
                type_name,
            });
        }
        if keys.is_empty() || keys.len() as i64 != expected {
            let which = match &table.key {
                Some(index) => format!("index {}", visible(index)),
                None => "primary key".to_string(),
            };
            return Err(main.error(format!(
                "table {shown}: no {which} on plain columns found on the origin: the table must exist with the key the set uses"
            )));
        }
        let columns: Vec<String> = main
            .query(
                "reading a table's columns",
                COLUMNS_SQL,
                &[schema as &(dyn ToSql + Sync), name],
            )?
            .iter()
            .filter_map(|r| r.try_get::<_, String>(0).ok())
            .collect();
        plans.push(TablePlan {
            relation: relation_sql(schema, name),
            shown,
            id: table.id.0,
            keys,
            columns,
        });
    }
    let mut sequences = Vec::new();
    for seq in model_set.sequences.iter() {
        let relation = relation_sql(&seq.name.schema, &seq.name.name);
        let shown = visible(&format!("{}.{}", seq.name.schema, seq.name.name)).into_owned();
        let before = main
            .query(
                &format!("reading sequence {shown}"),
                &sequence_sql(&relation),
                &[],
            )?
            .first()
            .and_then(|r| r.try_get::<_, i64>(0).ok())
            .unwrap_or(0);
        sequences.push((relation, shown, seq.id.0, before));
    }

    // 2. A SYNC, and every subscriber at it.
    let sync = {
        let mut tx = main
            .client
            .transaction()
            .map_err(|e| main_error(&main.conninfo, origin, &e))?;
        if has_event_lock {
            tx.batch_execute(&format!("lock table {ns}.sl_event_lock"))
                .map_err(|e| main_error(&main.conninfo, origin, &e))?;
        }
        let seqno: i64 = tx
            .query_one(
                &format!("select {ns}.createEvent($1::pg_catalog.name, 'SYNC', NULL::pg_catalog.text)"),
                &[&cluster_schema],
            )
            .and_then(|r| r.try_get(0))
            .map_err(|e| main_error(&main.conninfo, origin, &e))?;
        tx.commit().map_err(|e| main_error(&main.conninfo, origin, &e))?;
        seqno
    };
    let setsync_sql = format!(
        "select ssy_seqno::pg_catalog.int8 from {ns}.sl_setsync where ssy_setid = $1::pg_catalog.int4 and ssy_origin = $2::pg_catalog.int4"
    );
    for sub in &mut subs {
        wait_for_sync(sub, &setsync_sql, set_param, origin_param, sync, wait)?;
    }

    let mut report = CompareReport {
        cluster: cluster.name.clone(),
        set: set.0,
        set_name: model_set.name.clone(),
        origin: origin.0,
        nodes: nodes.iter().map(|n| n.0).collect(),
        sync,
        ..CompareReport::default()
    };
    // The second origin session that holds sl_event_lock during exact re-reads, opened
    // the first time one is needed.
    let mut locker: Option<Session> = None;

    // 3. The tables, chunk by chunk; the chunks that differ are read again in batches.
    let shared = Shared {
        ns: &ns,
        cluster_schema: &cluster_schema,
        has_event_lock,
        setsync_sql: &setsync_sql,
        set: set_param,
        origin: origin_param,
        wait,
    };
    for plan in &plans {
        let mut totals: Vec<i64> = vec![0; subs.len() + 1];
        let mut chunks = 0u64;
        let mut equal = true;
        let mut lower: Option<Vec<String>> = None;
        let mut pending: Vec<(Chunk, Reading)> = Vec::new();
        loop {
            let upper = next_boundary(&mut main, plan, lower.as_deref(), chunk_rows)?;
            chunks += 1;
            let chunk = Chunk {
                n: chunks,
                lower: lower.clone(),
                upper: upper.clone(),
            };
            let (sql, params) = chunk.query(plan);
            let what = format!("table {}: reading a chunk", plan.shown);
            let origin_sum = read_sum(&mut main.client, &sql, &params)
                .map_err(|e| main.error(format!("{what}: {}", with_causes(&e))))?;
            let mut sums = Vec::new();
            for sub in &mut subs {
                let sum = read_sum(&mut sub.client, &sql, &params);
                sums.push(sum.map_err(|e| sub.error(format!("{what}: {}", with_causes(&e))))?);
            }
            let reading: Reading = (origin_sum, sums, vec![false; subs.len()]);
            if reading.differs() {
                pending.push((chunk, reading));
            } else {
                // Equal: settled now, so memory holds only the chunks that differ.
                totals[0] += reading.0.rows;
                for (total, sum) in totals[1..].iter_mut().zip(&reading.1) {
                    *total += sum.rows;
                }
            }
            let last = upper.is_none();
            if !pending.is_empty() && (last || pending.len() >= EXACT_BATCH) {
                // The chunks that differ are read again, together.
                let mut settled: Vec<(Chunk, Reading)> = Vec::new();
                let mut again: Vec<(Chunk, Reading)> = std::mem::take(&mut pending);
                let mut attempts = 0;
                while attempts < options.retries && !again.is_empty() {
                    attempts += 1;
                    report.exact_rereads += again.len() as u64;
                    if locker.is_none() {
                        locker = Some(Session::open(cluster, origin, options)?);
                    }
                    let Some(lock) = locker.as_mut() else { break };
                    let chunks_again: Vec<&Chunk> = again.iter().map(|(c, _)| c).collect();
                    let readings = exact_read(&mut main, lock, &mut subs, &shared, plan, &chunks_again)?;
                    let mut still = Vec::new();
                    for ((chunk, _), reading) in again.into_iter().zip(readings) {
                        // At one exact point a difference is a difference: reading again
                        // changes nothing. Only a read that was not exact is worth another try.
                        if reading.differs() && !reading.2.iter().all(|exact| *exact) {
                            still.push((chunk, reading));
                        } else {
                            settled.push((chunk, reading));
                        }
                    }
                    again = still;
                }
                settled.extend(again);
                // Differences in key order, then node.
                settled.sort_by_key(|(chunk, _)| chunk.n);
                for (chunk, (origin_sum, sums, exact)) in settled {
                    totals[0] += origin_sum.rows;
                    for (i, (sub, sum)) in subs.iter().zip(&sums).enumerate() {
                        totals[i + 1] += sum.rows;
                        if *sum == origin_sum {
                            continue;
                        }
                        equal = false;
                        let range = range_text(&plan.keys, chunk.lower.as_deref(), chunk.upper.as_deref());
                        let detail = format!(
                            "rows {range}: origin node {} has {} row{} (checksum {}), node {} has {} (checksum {}){}",
                            origin,
                            origin_sum.rows,
                            plural(origin_sum.rows.unsigned_abs()),
                            origin_sum.checksum,
                            sub.node,
                            sum.rows,
                            sum.checksum,
                            if exact[i] {
                                ""
                            } else {
                                " (not read at one exact point: the node may have been moving)"
                            }
                        );
                        report.differences.push(Difference {
                            node: sub.node,
                            kind: "table",
                            relation: plan.shown.clone(),
                            range: Some(range),
                            origin_rows: Some(origin_sum.rows),
                            node_rows: Some(sum.rows),
                            exact: exact[i],
                            detail,
                        });
                    }
                }
            }
            match upper {
                Some(u) => lower = Some(u),
                None => break,
            }
        }
        let mut rows = vec![NodeRows {
            node: origin.0,
            rows: totals[0],
        }];
        rows.extend(subs.iter().zip(&totals[1..]).map(|(s, &r)| NodeRows {
            node: s.node,
            rows: r,
        }));
        report.tables.push(TableResult {
            table: plan.shown.clone(),
            id: plan.id,
            key: plan.keys.iter().map(|k| visible(&k.name).into_owned()).collect(),
            chunks,
            rows,
            equal,
        });
    }

    // 4. Sequences: every subscriber between the origin's value before the SYNC and now.
    for (relation, shown, id, before) in sequences {
        let sql = sequence_sql(&relation);
        let mut values = Vec::new();
        for sub in &mut subs {
            let value = sub
                .query(&format!("reading sequence {shown}"), &sql, &[])?
                .first()
                .and_then(|r| r.try_get::<_, i64>(0).ok())
                .unwrap_or(0);
            values.push(NodeValue {
                node: sub.node,
                value,
            });
        }
        let after = main
            .query(&format!("reading sequence {shown}"), &sql, &[])?
            .first()
            .and_then(|r| r.try_get::<_, i64>(0).ok())
            .unwrap_or(0);
        let mut equal = true;
        for v in &values {
            if v.value < before || v.value > after {
                equal = false;
                report.differences.push(Difference {
                    node: v.node,
                    kind: "sequence",
                    relation: shown.clone(),
                    detail: format!(
                        "last_value {} on node {}, expected between {before} (origin node {origin} before SYNC {sync}) and {after} (origin now)",
                        v.value, v.node
                    ),
                    exact: true,
                    ..Difference::default()
                });
            }
        }
        report.sequences.push(SequenceResult {
            sequence: shown,
            id,
            origin_before: before,
            origin_after: after,
            values,
            equal,
        });
    }
    Ok(report)
}

fn main_error(conninfo: &str, node: NodeId, e: &postgres::Error) -> ImportError {
    ImportError::Live {
        conninfo: shown_conninfo(conninfo),
        message: format!(
            "node {node}: making a SYNC: {}",
            visible(&crate::model::conninfo::redact_secrets(&with_causes(e)))
        ),
    }
}

/// Polls a subscriber's `sl_setsync` until it is at `sync` or past it, for at most `wait`.
fn wait_for_sync(
    sub: &mut Session,
    sql: &str,
    set: i32,
    origin: i32,
    sync: i64,
    wait: Option<Duration>,
) -> Result<i64, ImportError> {
    let started = Instant::now();
    loop {
        let rows = sub.query("reading sl_setsync", sql, &[&set, &origin])?;
        let Some(at) = rows.first().and_then(|r| r.try_get::<_, i64>(0).ok()) else {
            return Err(sub.error(format!(
                "no sl_setsync row for set {set} from origin node {origin}: the node is not subscribed to the set (yet)"
            )));
        };
        if at >= sync {
            return Ok(at);
        }
        if wait.is_some_and(|w| started.elapsed() >= w) {
            return Err(sub.error(format!(
                "did not confirm SYNC {sync} of origin node {origin} within {} s (it is at {at}): is its slon running? (the wait is the config's wait_timeout)",
                wait.unwrap_or_default().as_secs()
            )));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// At most this many chunks that differ are read again at one point together: the origin's
/// `sl_event_lock` is held while they are read on every node.
const EXACT_BATCH: usize = 64;

/// A key range: after `lower` (exclusive) up to `upper` (inclusive); `None` is open.
#[derive(Debug, Clone)]
struct Chunk {
    /// Its place in the table, from 1.
    n: u64,
    lower: Option<Vec<String>>,
    upper: Option<Vec<String>>,
}

impl Chunk {
    /// Its sum query and parameters.
    fn query<'a>(&'a self, plan: &TablePlan) -> (String, Vec<&'a (dyn ToSql + Sync)>) {
        let sql = chunk_sql(
            &plan.relation,
            &plan.columns,
            &plan.keys,
            self.lower.is_some(),
            self.upper.is_some(),
        );
        let mut params: Vec<&(dyn ToSql + Sync)> = Vec::new();
        for bound in [&self.lower, &self.upper].into_iter().flatten() {
            params.extend(bound.iter().map(|v| v as &(dyn ToSql + Sync)));
        }
        (sql, params)
    }
}

/// The origin's sum, each subscriber's, and whether each subscriber's was read at exactly
/// the SYNC the origin's was.
type Reading = (Sum, Vec<Sum>, Vec<bool>);

trait Differs {
    fn differs(&self) -> bool;
}

impl Differs for Reading {
    fn differs(&self) -> bool {
        self.1.iter().any(|s| *s != self.0)
    }
}

/// The key of the last row of the chunk after `lower`, on the origin; `None` when fewer
/// than `chunk_rows` rows are left (the last chunk is open).
fn next_boundary(
    main: &mut Session,
    plan: &TablePlan,
    lower: Option<&[String]>,
    chunk_rows: u64,
) -> Result<Option<Vec<String>>, ImportError> {
    let sql = boundary_sql(&plan.relation, &plan.keys, lower.is_some());
    let offset = i64::try_from(chunk_rows - 1).unwrap_or(i64::MAX);
    let mut params: Vec<&(dyn ToSql + Sync)> = Vec::new();
    if let Some(l) = lower {
        params.extend(l.iter().map(|v| v as &(dyn ToSql + Sync)));
    }
    params.push(&offset);
    let rows = main.query(
        &format!("table {}: finding a chunk's end", plan.shown),
        &sql,
        &params,
    )?;
    let Some(row) = rows.first() else {
        return Ok(None);
    };
    let mut key = Vec::new();
    for i in 0..plan.keys.len() {
        match row.try_get::<_, String>(i) {
            Ok(v) => key.push(v),
            Err(e) => return Err(main.error(format!("table {}: {}", plan.shown, with_causes(&e)))),
        }
    }
    Ok(Some(key))
}

/// What an exact re-read needs besides the sessions.
struct Shared<'a> {
    ns: &'a str,
    cluster_schema: &'a str,
    has_event_lock: bool,
    setsync_sql: &'a str,
    set: i32,
    origin: i32,
    wait: Option<Duration>,
}

/// Chunks read at one point: `lock` holds `sl_event_lock` on the origin so no other event
/// is made there, `main` makes a SYNC and reads the chunks in that SYNC's snapshot, each
/// subscriber is read in a snapshot that is at that SYNC.
fn exact_read(
    main: &mut Session,
    lock: &mut Session,
    subs: &mut [Session],
    shared: &Shared<'_>,
    plan: &TablePlan,
    chunks: &[&Chunk],
) -> Result<Vec<Reading>, ImportError> {
    let lock_error =
        |lock: &Session, e: postgres::Error| lock.error(format!("taking sl_event_lock: {}", with_causes(&e)));
    if shared.has_event_lock {
        if let Err(e) = lock
            .client
            .batch_execute(&format!("begin; lock table {}.sl_event_lock", shared.ns))
        {
            let _ = lock.client.batch_execute("rollback");
            return Err(lock_error(lock, e));
        }
    }
    let result = exact_read_locked(main, subs, shared, plan, chunks);
    if shared.has_event_lock {
        if let Err(e) = lock.client.batch_execute("rollback") {
            return Err(lock_error(lock, e));
        }
    }
    result
}

fn exact_read_locked(
    main: &mut Session,
    subs: &mut [Session],
    shared: &Shared<'_>,
    plan: &TablePlan,
    chunks: &[&Chunk],
) -> Result<Vec<Reading>, ImportError> {
    let node = NodeId(main.node);
    let conninfo = main.conninfo.clone();
    let what = format!("table {}: reading a chunk again", plan.shown);
    let fail = |e: postgres::Error| ImportError::Live {
        conninfo: shown_conninfo(&conninfo),
        message: format!(
            "node {node}: {what}: {}",
            visible(&crate::model::conninfo::redact_secrets(&with_causes(&e)))
        ),
    };
    let (sync, origin_sums) = {
        let mut tx = main
            .client
            .build_transaction()
            .isolation_level(postgres::IsolationLevel::RepeatableRead)
            .start()
            .map_err(fail)?;
        // The first statement takes the snapshot the SYNC records; the chunks are read in it.
        let sync: i64 = tx
            .query_one(
                &format!(
                    "select {}.createEvent($1::pg_catalog.name, 'SYNC', NULL::pg_catalog.text)",
                    shared.ns
                ),
                &[&shared.cluster_schema],
            )
            .and_then(|r| r.try_get(0))
            .map_err(fail)?;
        let mut sums = Vec::new();
        for chunk in chunks {
            let (sql, params) = chunk.query(plan);
            sums.push(read_sum(&mut tx, &sql, &params).map_err(fail)?);
        }
        tx.commit().map_err(fail)?;
        (sync, sums)
    };
    let mut node_sums: Vec<Vec<Sum>> = Vec::new();
    let mut node_exact: Vec<bool> = Vec::new();
    for sub in subs.iter_mut() {
        wait_for_sync(
            sub,
            shared.setsync_sql,
            shared.set,
            shared.origin,
            sync,
            shared.wait,
        )?;
        let done = (|| {
            let mut tx = sub
                .client
                .build_transaction()
                .isolation_level(postgres::IsolationLevel::RepeatableRead)
                .read_only(true)
                .start()?;
            // The snapshot that reads sl_setsync reads the data of that SYNC.
            let at: i64 = tx
                .query_one(shared.setsync_sql, &[&shared.set, &shared.origin])?
                .try_get(0)?;
            let mut sums = Vec::new();
            for chunk in chunks {
                let (sql, params) = chunk.query(plan);
                sums.push(read_sum(&mut tx, &sql, &params)?);
            }
            tx.commit()?;
            Ok::<_, postgres::Error>((at, sums))
        })();
        match done {
            Ok((at, sums)) => {
                node_exact.push(at == sync);
                node_sums.push(sums);
            }
            Err(e) => return Err(sub.error(format!("{what}: {}", with_causes(&e)))),
        }
    }
    Ok(origin_sums
        .into_iter()
        .enumerate()
        .map(|(i, origin)| {
            let sums = node_sums.iter().map(|s| s[i].clone()).collect();
            (origin, sums, node_exact.clone())
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hostile_keys() -> Vec<KeyColumn> {
        vec![
            KeyColumn {
                name: "id\"; drop table x; --".into(),
                type_schema: "pg_catalog".into(),
                type_name: "int4".into(),
            },
            KeyColumn {
                name: "Name".into(),
                type_schema: "my\"schema".into(),
                type_name: "odd type".into(),
            },
        ]
    }

    #[test]
    fn range_quotes_names_and_takes_values_as_parameters() {
        let keys = hostile_keys();
        assert_eq!(range_sql(&keys, false, false), "");
        assert_eq!(
            range_sql(&keys, true, true),
            " where (\"id\"\"; drop table x; --\", \"Name\") > ($1::pg_catalog.text::\"pg_catalog\".\"int4\", $2::pg_catalog.text::\"my\"\"schema\".\"odd type\") \
             and (\"id\"\"; drop table x; --\", \"Name\") <= ($3::pg_catalog.text::\"pg_catalog\".\"int4\", $4::pg_catalog.text::\"my\"\"schema\".\"odd type\")"
        );
        assert_eq!(
            range_sql(&keys[..1], false, true),
            " where (\"id\"\"; drop table x; --\") <= ($1::pg_catalog.text::\"pg_catalog\".\"int4\")"
        );
    }

    #[test]
    fn boundary_offsets_follow_the_key_parameters() {
        let keys = hostile_keys();
        let table = relation_sql("sch\"ema", "ta ble");
        assert_eq!(table, "\"sch\"\"ema\".\"ta ble\"");
        assert_eq!(
            boundary_sql(&table, &keys[..1], false),
            "select \"id\"\"; drop table x; --\"::pg_catalog.text from \"sch\"\"ema\".\"ta ble\" t \
             order by t.\"id\"\"; drop table x; --\" offset $1::pg_catalog.int8 limit 1"
        );
        let sql = boundary_sql(&table, &keys, true);
        assert!(
            sql.ends_with(
                "order by t.\"id\"\"; drop table x; --\", t.\"Name\" offset $3::pg_catalog.int8 limit 1"
            ),
            "{sql}"
        );
        assert!(
            sql.contains(" where (\"id\"\"; drop table x; --\", \"Name\") > ($1::"),
            "{sql}"
        );
    }

    #[test]
    fn chunk_sums_a_slice_of_md5_over_the_named_columns() {
        let keys = hostile_keys();
        let sql = chunk_sql(
            "\"s\".\"t\"",
            &["a\"b".to_string(), "c".to_string()],
            &keys[..1],
            true,
            false,
        );
        assert_eq!(
            sql,
            "select pg_catalog.count(*)::pg_catalog.int8, coalesce(pg_catalog.sum(('x' operator(pg_catalog.||) \
             pg_catalog.substr(pg_catalog.md5(row(\"a\"\"b\", \"c\")::pg_catalog.text), 1, 16))::pg_catalog.bit(64)::pg_catalog.int8::pg_catalog.numeric), 0)::pg_catalog.text \
             from \"s\".\"t\" t where (\"id\"\"; drop table x; --\") > ($1::pg_catalog.text::\"pg_catalog\".\"int4\")"
        );
        assert_eq!(
            sequence_sql(&relation_sql("s", "q\"")),
            "select last_value::pg_catalog.int8 from \"s\".\"q\"\"\""
        );
    }

    #[test]
    fn ranges_in_messages_escape_values() {
        let keys = hostile_keys();
        let l = vec!["7".to_string(), "O'Brien\u{1b}[2J".to_string()];
        let u = vec!["14".to_string(), "z".to_string()];
        let text = range_text(&keys, Some(&l), Some(&u));
        assert!(!text.contains('\u{1b}'), "{text}");
        assert_eq!(
            text,
            "(\"id\"\"; drop table x; --\", \"Name\") > ('7', 'O''Brien\\u{001B}[2J') and (\"id\"\"; drop table x; --\", \"Name\") <= ('14', 'z')"
        );
        assert_eq!(range_text(&keys, None, None), "all rows");
    }

    fn sample() -> CompareReport {
        CompareReport {
            cluster: "replication".into(),
            set: 1,
            set_name: "set1".into(),
            origin: 1,
            nodes: vec![2, 3],
            sync: 42,
            exact_rereads: 1,
            tables: vec![TableResult {
                table: "geekdb.files".into(),
                id: 1,
                key: vec!["id".into()],
                chunks: 3,
                rows: vec![
                    NodeRows { node: 1, rows: 20 },
                    NodeRows { node: 2, rows: 20 },
                    NodeRows { node: 3, rows: 19 },
                ],
                equal: false,
            }],
            sequences: vec![SequenceResult {
                sequence: "geekdb.files_id_seq".into(),
                id: 1,
                origin_before: 20,
                origin_after: 20,
                values: vec![NodeValue { node: 2, value: 20 }, NodeValue { node: 3, value: 20 }],
                equal: true,
            }],
            differences: vec![Difference {
                node: 3,
                kind: "table",
                relation: "geekdb.files".into(),
                range: Some("(\"id\") > ('7') and (\"id\") <= ('14')".into()),
                origin_rows: Some(7),
                node_rows: Some(6),
                exact: true,
                detail: "rows (\"id\") > ('7') and (\"id\") <= ('14'): origin node 1 has 7 rows (checksum 1), node 3 has 6 (checksum 2)".into(),
            }],
        }
    }

    #[test]
    fn the_summary_names_each_relation_and_node_once() {
        let mut report = sample();
        let first = report.differences[0].clone();
        let other_node = Difference {
            node: 2,
            ..first.clone()
        };
        report.differences.push(other_node);
        report.differences.push(first);
        assert_eq!(
            report.summary(),
            "set 1: 3 differences: geekdb.files on node 3, geekdb.files on node 2"
        );
    }

    #[test]
    fn text_and_json_renderings() {
        let report = sample();
        insta::assert_snapshot!(report.to_text());
        insta::assert_snapshot!(report.to_json());
        assert_eq!(report.summary(), "set 1: 1 difference: geekdb.files on node 3");
        let mut equal = report.clone();
        equal.differences.clear();
        assert_eq!(
            equal.summary(),
            "set 1: 1 table and 1 sequence equal on origin node 1 and nodes 2, 3"
        );
    }
}
