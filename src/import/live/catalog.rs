//! Reading the Slony-I catalog of one node: the rows `import cluster` and `check-cluster`
//! start from, and the queries that read them.

#[cfg(feature = "import-live")]
use super::{libpq, shown_conninfo, with_causes};
#[cfg(feature = "import-live")]
use crate::escape::visible;
#[cfg(feature = "import-live")]
use crate::import::ImportError;
#[cfg(feature = "import-live")]
use crate::model::conninfo::redact_secrets;
#[cfg(feature = "import-live")]
use crate::model::names::quote_ident;

/// What one node's catalog says, before it becomes a config.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Catalog {
    /// The cluster name.
    pub cluster: String,
    /// `slonyversion()`, e.g. `2.2.11`.
    pub version: String,
    /// The node the catalog was read on (`getlocalnodeid`).
    pub local_node: u32,
    /// `sl_node`: id, active, comment, failed (2.2's `no_failed`).
    pub nodes: Vec<CatalogNode>,
    /// `sl_path`: server, client, conninfo.
    pub paths: Vec<(u32, u32, String)>,
    /// `sl_set`: id, origin, comment.
    pub sets: Vec<(u32, u32, String)>,
    /// `sl_table`.
    pub tables: Vec<CatalogRelation>,
    /// `sl_sequence`.
    pub sequences: Vec<CatalogRelation>,
    /// `sl_subscribe`.
    pub subscriptions: Vec<CatalogSubscription>,
}

/// One `sl_node` row.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CatalogNode {
    /// `no_id`
    pub id: u32,
    /// `no_active`
    pub active: bool,
    /// `no_comment`
    pub comment: String,
    /// `no_failed` (2.2; false before)
    pub failed: bool,
}

/// One `sl_table` or `sl_sequence` row.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CatalogRelation {
    /// `tab_id` / `seq_id`
    pub id: u32,
    /// `tab_set` / `seq_set`
    pub set: u32,
    /// Schema.
    pub schema: String,
    /// Relation name.
    pub name: String,
    /// `tab_idxname` when it is not the primary key (tables only).
    pub key: Option<String>,
    /// `tab_comment` / `seq_comment`
    pub comment: String,
}

/// One `sl_subscribe` row.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CatalogSubscription {
    /// `sub_set`
    pub set: u32,
    /// `sub_provider`
    pub provider: u32,
    /// `sub_receiver`
    pub receiver: u32,
    /// `sub_forward`
    pub forward: bool,
    /// `sub_active`
    pub active: bool,
}

/// Reads the catalog of cluster `cluster` through `conninfo` (libpq key=value or a
/// `postgresql://` URI). The session's `search_path` is pinned to `pg_catalog, pg_temp`
/// before anything else runs, and every query names its functions and relations with
/// their schema.
#[cfg(feature = "import-live")]
pub fn read_catalog(conninfo: &str, cluster: &str) -> Result<Catalog, ImportError> {
    let shown = shown_conninfo(conninfo);
    let fail = |message: String| ImportError::Live {
        conninfo: shown.clone(),
        message: visible(&redact_secrets(&message)).into_owned(),
    };
    let mut client = libpq::connect(conninfo, None).map_err(fail)?;
    client
        .batch_execute("select pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', false)")
        .map_err(|e| fail(format!("cannot pin the search_path: {}", with_causes(&e))))?;
    let schema = format!("_{cluster}");
    let exists: i64 = client
        .query_one(
            "select pg_catalog.count(*) from pg_catalog.pg_namespace where nspname = $1",
            &[&schema],
        )
        .map_err(|e| fail(with_causes(&e)))?
        .get(0);
    if exists == 0 {
        return Err(fail(format!(
            "this database has no Slony-I cluster `{cluster}` (no schema \"{schema}\"): check --cluster and the database"
        )));
    }
    let ns = quote_ident(&schema);
    let mut query = |sql: String| {
        client
            .query(&sql, &[])
            .map_err(|e| fail(format!("reading the catalog: {}", with_causes(&e))))
    };
    let id = |row: &postgres::Row, i: usize| -> u32 { row.get::<_, i32>(i).max(0) as u32 };
    let version: String = query(format!("select {ns}.slonyversion()"))?[0].get(0);
    let local_node = id(
        &query(format!(
            "select {ns}.getlocalnodeid({})",
            crate::escape::sql::literal(&schema)
        ))?[0],
        0,
    );
    let nodes = query(format!(
        "select no_id, no_active, coalesce(no_comment, ''), coalesce((pg_catalog.to_jsonb(n) OPERATOR(pg_catalog.->>) 'no_failed')::boolean, false) from {ns}.sl_node n order by no_id"
    ))?
    .iter()
    .map(|r| CatalogNode {
        id: id(r, 0),
        active: r.get(1),
        comment: r.get(2),
        failed: r.get(3),
    })
    .collect();
    let paths = query(format!(
        "select pa_server, pa_client, pa_conninfo from {ns}.sl_path order by pa_server, pa_client"
    ))?
    .iter()
    .map(|r| (id(r, 0), id(r, 1), r.get(2)))
    .collect();
    let sets = query(format!(
        "select set_id, set_origin, coalesce(set_comment, '') from {ns}.sl_set order by set_id"
    ))?
    .iter()
    .map(|r| (id(r, 0), id(r, 1), r.get(2)))
    .collect();
    let tables = query(format!(
        "select t.tab_id, t.tab_set, t.tab_nspname, t.tab_relname, t.tab_idxname, coalesce(t.tab_comment, ''), \
         coalesce((select i.indisprimary from pg_catalog.pg_index i join pg_catalog.pg_class c on c.oid = i.indexrelid \
                   where i.indrelid = t.tab_reloid and c.relname = t.tab_idxname), false) \
         from {ns}.sl_table t order by t.tab_id"
    ))?
    .iter()
    .map(|r| CatalogRelation {
        id: id(r, 0),
        set: id(r, 1),
        schema: r.get(2),
        name: r.get(3),
        key: (!r.get::<_, bool>(6)).then(|| r.get(4)),
        comment: r.get(5),
    })
    .collect();
    let sequences = query(format!(
        "select seq_id, seq_set, seq_nspname, seq_relname, coalesce(seq_comment, '') from {ns}.sl_sequence order by seq_id"
    ))?
    .iter()
    .map(|r| CatalogRelation {
        id: id(r, 0),
        set: id(r, 1),
        schema: r.get(2),
        name: r.get(3),
        key: None,
        comment: r.get(4),
    })
    .collect();
    let subscriptions = query(format!(
        "select sub_set, sub_provider, sub_receiver, sub_forward, sub_active from {ns}.sl_subscribe order by sub_set, sub_receiver"
    ))?
    .iter()
    .map(|r| CatalogSubscription {
        set: id(r, 0),
        provider: id(r, 1),
        receiver: id(r, 2),
        forward: r.get(3),
        active: r.get(4),
    })
    .collect();
    Ok(Catalog {
        cluster: cluster.to_string(),
        version,
        local_node,
        nodes,
        paths,
        sets,
        tables,
        sequences,
        subscriptions,
    })
}
