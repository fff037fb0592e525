//! `slonik-gen import cluster` and `check-cluster`: the config of a running cluster, read
//! from its Slony-I catalog (`sl_node`, `sl_path`, `sl_set`, `sl_table`, `sl_sequence`,
//! `sl_subscribe`) on one node, and the differences between a config and that catalog.
//!
//! The catalog knows where every set's origin really is after failovers and moves done by
//! hand, which subscriber receives from which provider, and the table ids Slony assigned.
//! It does not know what slon_tools.conf knew only by convention (set names, `$MASTERNODE`)
//! nor the admin connections of the script header: the import takes the conninfo each node
//! is reached at by the slons (`sl_path`) as its connection, and says so.
//!
//! Passwords stored in `sl_path` (`password`, `sslpassword`, the password of a
//! `postgresql://user:password@...` URI) are never printed: they are dropped, and a note
//! says the node needs a `passfile` or `service`. Every conninfo shown (the `--conninfo`
//! in the header and in errors, other paths in notes) goes through
//! [`redact_secrets`].
//!
//! Text from the catalog never reaches a terminal or a comment raw: notes and messages
//! quote it with [`visible`]. A control character in a value the
//! config needs (a table's name, a node's host, dbname, user...) fails the import, naming
//! the node or table; one in a value the config can do without (a comment, an
//! `application_name`) leaves that value out with a note.
//!
//! The importer's own catalog queries pin `search_path` to `pg_catalog, pg_temp` first and
//! name every function and relation with its schema, so a `search_path` set on the
//! connection (`options=-c search_path=...`) cannot substitute them.

use std::collections::{BTreeMap, BTreeSet};

#[cfg(feature = "import-live")]
use super::ImportError;
use crate::escape::visible;
use crate::model::config::{ConfigFile, NodeConfig, SetConfig, SetRef, SubscriptionConfig, TableEntry};
use crate::model::conninfo::{is_secret_key, redact_secrets, value_text as quote_value, ConnectionParts};
use crate::model::ids::{NodeId, SetId};
#[cfg(feature = "import-live")]
use crate::model::names::quote_ident;
use crate::model::{Cluster, QualifiedName};
use crate::version::SlonyVersion;

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

/// A cluster read from its catalog.
#[derive(Debug, Clone, PartialEq)]
pub struct LiveImport {
    /// The config describing the cluster as it is.
    pub config: ConfigFile,
    /// The validated cluster.
    pub cluster: Cluster,
    /// What the catalog could not say, and what was left out (passwords).
    pub notes: Vec<String>,
    /// The conninfo it was read through, passwords removed and control characters escaped
    /// ([`shown_conninfo`]).
    pub source: String,
}

impl LiveImport {
    /// The config as TOML with the notes as a `#` block on top.
    pub fn to_toml(&self) -> String {
        let mut out = format!(
            "# Imported by `slonik-gen import cluster` from the Slony-I catalog of cluster {} ({}).\n",
            crate::escape::toml::comment(&self.config.cluster),
            crate::escape::toml::comment(&self.source)
        );
        if !self.notes.is_empty() {
            out.push_str("#\n# Notes on the import:\n");
            for note in &self.notes {
                out.push_str(&crate::escape::toml::bullet(note, 92));
            }
        }
        out.push('\n');
        out.push_str(&crate::config_writer::compact_text(&self.config, &self.cluster));
        out
    }
}

/// A conninfo as shown in messages, headers and notes: password-like values replaced by
/// `***` ([`redact_secrets`]) and control characters escaped ([`visible`]).
pub fn shown_conninfo(conninfo: &str) -> String {
    visible(&redact_secrets(conninfo)).into_owned()
}

/// The `key=value` pairs of a conninfo in either libpq form, or none when it cannot be read
/// (the lenient form of [`crate::model::conninfo::parse_conninfo`], kept for callers that
/// only compare conninfos).
pub fn parse_conninfo(text: &str) -> Vec<(String, String)> {
    crate::model::conninfo::parse_conninfo(text).unwrap_or_default()
}

/// Why a catalog cannot be turned into a config: a sentence naming the node, set or table
/// and what to do (values quoted with [`visible`], never a password).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct CatalogProblem(pub String);

/// The keys of a path conninfo without which the config would describe another
/// connection: a control character in one of them fails the import.
const NEEDED_KEYS: [&str; 8] = [
    "service", "host", "hostaddr", "port", "dbname", "user", "passfile", "sslmode",
];

/// A node's connection as read from the `sl_path` conninfo of one client.
#[derive(Debug, Default)]
struct PathConnection {
    /// What becomes the node's connection (slonik's admin conninfo).
    admin: ConnectionParts,
    /// What only the slons get (the node's `path`): the server `options`.
    path_only: ConnectionParts,
    /// The password-like keys left out.
    secrets: Vec<String>,
    /// Notes on what else was left out or moved.
    notes: Vec<String>,
}

/// The connection parts of node `node`'s path for client `client`: passwords left out,
/// `options` kept for the slons only, optional values with control characters left out.
fn connection_parts(node: u32, client: u32, conninfo: &str) -> Result<PathConnection, CatalogProblem> {
    let place = format!("node {node}: the conninfo sl_path stores for client {client}");
    let pairs = crate::model::conninfo::parse_conninfo(conninfo).map_err(|e| {
        CatalogProblem(format!(
            "{place} cannot be read ({e}): `{}`; correct it with `store path` and import again",
            shown_conninfo(conninfo)
        ))
    })?;
    let mut out = PathConnection::default();
    for (key, value) in pairs {
        if is_secret_key(&key) {
            out.secrets.push(key);
            continue;
        }
        if let Some((_, c)) = crate::escape::control_character(&value) {
            let what = format!(
                "{place} sets `{}` to `{}`, which holds the control character {}",
                visible(&key),
                visible(&value),
                crate::escape::describe_control(c)
            );
            if NEEDED_KEYS.contains(&key.as_str()) {
                return Err(CatalogProblem(format!(
                    "{what}; a config cannot hold it: correct the path with `store path` and import again"
                )));
            }
            out.notes.push(format!("{what}: left out"));
            continue;
        }
        let parts = &mut out.admin;
        match key.as_str() {
            "service" => parts.service = Some(value),
            "host" => parts.host = Some(value),
            "port" => match value.parse() {
                Ok(port) => parts.port = Some(port),
                Err(_) => {
                    parts.options.insert(key, value);
                }
            },
            "dbname" => parts.dbname = Some(value),
            "user" => parts.user = Some(value),
            "passfile" => parts.passfile = Some(value),
            "sslmode" => parts.sslmode = Some(value),
            "options" => {
                out.notes.push(format!(
                    "{place} sets the server options `options={}`: kept for the slons only (the node's [node.path]), not copied into the connection slonik and the runbook checks use (a `-c search_path=...` there would change what their SQL runs); add it to the node's connection yourself if you trust it",
                    visible(&quote_value(&value))
                ));
                out.path_only.options.insert(key, value);
            }
            _ => {
                parts.options.insert(key, value);
            }
        }
    }
    Ok(out)
}

/// A catalog comment fit for the config, or a note saying why it was left out.
fn catalog_comment(what: &str, comment: &str, notes: &mut Vec<String>) -> Option<String> {
    if comment.is_empty() {
        return None;
    }
    if let Some((_, c)) = crate::escape::control_character(comment) {
        notes.push(format!(
            "{what}: its comment in the catalog, `{}`, holds the control character {}: left out",
            visible(comment),
            crate::escape::describe_control(c)
        ));
        return None;
    }
    Some(comment.to_string())
}

/// A catalog name the config needs, refused when it holds a control character.
fn catalog_name(what: &str, name: &str) -> Result<(), CatalogProblem> {
    match crate::escape::control_character(name) {
        None => Ok(()),
        Some((_, c)) => Err(CatalogProblem(format!(
            "{what} is named `{}` in the catalog, which holds the control character {}; a config cannot hold it: rename it (and update Slony-I's catalog) and import again",
            visible(name),
            crate::escape::describe_control(c)
        ))),
    }
}

/// `Set 1 (set1) for ...` (altperl's and slonik-gen's create-set comment) → `set1`.
fn set_name_from_comment(id: u32, comment: &str) -> Option<String> {
    let rest = comment.strip_prefix(&format!("Set {id} ("))?;
    let (name, _) = rest.split_once(") for ")?;
    (!name.is_empty()).then(|| name.to_string())
}

/// Turns a catalog into a config and its notes (pure: no database needed). Fails, naming
/// the node, set or table, when the catalog holds something a config cannot say (a path
/// conninfo that cannot be read, a name with a control character).
pub fn config_from_catalog(
    catalog: &Catalog,
    version: Option<SlonyVersion>,
) -> Result<(ConfigFile, Vec<String>), CatalogProblem> {
    let mut notes = Vec::new();
    let version = version.unwrap_or_else(|| {
        let detected = catalog
            .version
            .split('.')
            .take(2)
            .collect::<Vec<_>>()
            .join(".")
            .parse::<SlonyVersion>();
        detected.unwrap_or_else(|_| {
            notes.push(format!(
                "slonyversion() says `{}`, which slonik-gen does not target: slony_version = {} assumed",
                visible(&catalog.version),
                SlonyVersion::default()
            ));
            SlonyVersion::default()
        })
    });
    let failed: BTreeSet<u32> = catalog
        .nodes
        .iter()
        .filter(|n| !n.active || n.failed)
        .map(|n| n.id)
        .collect();

    let mut nodes = Vec::new();
    for node in &catalog.nodes {
        // Slony writes `<event pending>` for a path whose conninfo it has not received yet
        // (a failover leaves such paths to the failed node): no connection to learn from.
        let mut paths: Vec<&(u32, u32, String)> = catalog
            .paths
            .iter()
            .filter(|p| p.0 == node.id && !p.2.trim_start().starts_with('<'))
            .collect();
        // The path the node the catalog was read on uses, else the lowest client's.
        paths.sort_by_key(|p| (p.1 != catalog.local_node, p.1));
        let connection = match paths.first() {
            Some((_, client, conninfo)) => connection_parts(node.id, *client, conninfo)?,
            None => {
                notes.push(format!(
                    "node {}: no path in sl_path leads to it, so its connection is unknown: add host, port, dbname and user",
                    node.id
                ));
                PathConnection::default()
            }
        };
        notes.extend(connection.notes);
        let secret_in_other_path = paths.iter().any(|p| {
            parse_conninfo(&p.2).iter().any(|(k, _)| is_secret_key(k)) || redact_secrets(&p.2) != p.2.as_str()
        });
        if !connection.secrets.is_empty() || secret_in_other_path {
            notes.push(format!(
                "node {}: sl_path stores a password for it; it is not imported (nor shown): give the node a `passfile` (a pgpass file) or a `service`",
                node.id
            ));
        }
        let first_shown = paths.first().map(|p| shown_conninfo(&p.2));
        let others: BTreeSet<String> = paths
            .iter()
            .map(|p| shown_conninfo(&p.2))
            .filter(|c| Some(c) != first_shown.as_ref())
            .collect();
        if !others.is_empty() {
            notes.push(format!(
                "node {}: clients reach it through different conninfos in sl_path; imported the one of client {}, others: {}",
                node.id,
                paths[0].1,
                others.into_iter().collect::<Vec<_>>().join("; ")
            ));
        }
        if failed.contains(&node.id) {
            notes.push(format!(
                "node {}: inactive in sl_node (failed over): imported with failed = true; drop it (drop-node) before rebuilding it",
                node.id
            ));
        }
        let parts = connection.admin;
        let path = (connection.path_only != ConnectionParts::default()).then_some(connection.path_only);
        let comment = catalog_comment(&format!("node {}", node.id), &node.comment, &mut notes);
        nodes.push(NodeConfig {
            id: NodeId(node.id),
            name: None,
            comment,
            service: parts.service,
            host: parts.host,
            port: parts.port,
            dbname: parts.dbname,
            user: parts.user,
            password: None,
            passfile: parts.passfile,
            sslmode: parts.sslmode,
            options: parts.options,
            path,
            provider: None,
            forward: true,
            failed: failed.contains(&node.id),
            slon_start: None,
            slon_stop: None,
        });
    }
    if !nodes.is_empty() {
        notes.push(
            "the catalog has no admin conninfo: each node's connection is the one the slons use (sl_path); adjust it where slonik runs from elsewhere"
                .into(),
        );
    }

    let mut names = BTreeSet::new();
    let mut sets: Vec<SetConfig> = Vec::new();
    for (id, origin, comment) in &catalog.sets {
        let comment = catalog_comment(&format!("set {id}"), comment, &mut notes);
        let name = comment
            .as_deref()
            .and_then(|c| set_name_from_comment(*id, c))
            .filter(|n| names.insert(n.clone()));
        let mut entry =
            |what: &str, r: &CatalogRelation, key: Option<String>| -> Result<TableEntry, CatalogProblem> {
                let label = format!("{what} {} of set {id}", r.id);
                catalog_name(&format!("the schema of {label}"), &r.schema)?;
                catalog_name(&label, &r.name)?;
                if let Some(key) = &key {
                    catalog_name(&format!("the key index of {label}"), key)?;
                }
                let fqn = QualifiedName::new(r.schema.clone(), r.name.clone());
                // Slony's default comment is the name itself: nothing to keep.
                let defaults = [fqn.quoted(), fqn.to_string(), String::new()];
                let comment = if defaults.contains(&r.comment) {
                    None
                } else {
                    catalog_comment(&format!("{what} {fqn} (id {})", r.id), &r.comment, &mut notes)
                };
                Ok(TableEntry {
                    schema: Some(r.schema.clone()),
                    name: r.name.clone(),
                    id: Some(r.id),
                    key,
                    comment,
                })
            };
        let tables = catalog
            .tables
            .iter()
            .filter(|t| t.set == *id)
            .map(|t| entry("table", t, t.key.clone()))
            .collect::<Result<Vec<_>, _>>()?;
        let sequences = catalog
            .sequences
            .iter()
            .filter(|s| s.set == *id)
            .map(|s| entry("sequence", s, None))
            .collect::<Result<Vec<_>, _>>()?;
        sets.push(SetConfig {
            id: SetId(*id),
            name,
            origin: Some(NodeId(*origin)),
            comment,
            default_schema: None,
            first_table_id: None,
            first_sequence_id: None,
            tables_file: None,
            sequences_file: None,
            tables,
            sequences,
        });
    }
    let default_origin = catalog
        .sets
        .first()
        .map(|s| s.1)
        .filter(|o| !failed.contains(o))
        .or_else(|| catalog.nodes.iter().map(|n| n.id).find(|n| !failed.contains(n)));
    if let Some(origin) = default_origin {
        notes.push(format!(
            "the catalog has no $MASTERNODE: default_origin = {origin} (the origin of the lowest set, else the lowest active node)"
        ));
    }

    let mut subscriptions = Vec::new();
    for sub in &catalog.subscriptions {
        if failed.contains(&sub.receiver) || failed.contains(&sub.provider) {
            notes.push(format!(
                "set {}: the subscription of node {} from node {} involves a failed node: left out",
                sub.set, sub.receiver, sub.provider
            ));
            continue;
        }
        if !sub.active {
            notes.push(format!(
                "set {}: node {} is still subscribing (sub_active = false): imported as subscribed",
                sub.set, sub.receiver
            ));
        }
        subscriptions.push(SubscriptionConfig {
            set: SetRef::Id(sub.set),
            receiver: NodeId(sub.receiver),
            provider: Some(NodeId(sub.provider)),
            forward: Some(sub.forward),
        });
    }
    let config = ConfigFile {
        cluster: catalog.cluster.clone(),
        slony_version: version,
        default_origin: default_origin.map(NodeId),
        wait_timeout: crate::model::config::default_wait_timeout(),
        nodes,
        sets,
        subscriptions,
    };
    Ok((config, notes))
}

/// The client configuration for a conninfo in either libpq form, read by
/// [`crate::model::conninfo::parse_conninfo`] and handed to the Rust client key by key
/// (its errors name keys, never values). Empty values are left out, as libpq ignores them.
#[cfg(feature = "import-live")]
fn client_config(conninfo: &str) -> Result<postgres::Config, String> {
    let pairs = crate::model::conninfo::parse_conninfo(conninfo)
        .map_err(|e| format!("cannot read the conninfo: {e}"))?;
    let text = pairs
        .iter()
        .filter(|(_, v)| !v.is_empty())
        .map(|(k, v)| format!("{k}={}", crate::model::conninfo::quoted_value(v)))
        .collect::<Vec<_>>()
        .join(" ");
    text.parse().map_err(|e| {
        format!("cannot use the conninfo: {e} (the importer's client takes host, hostaddr, port, dbname, user, password, options, application_name, connect_timeout, keepalives*, target_session_attrs, channel_binding, and sslmode disable or prefer)")
    })
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
    let config = client_config(conninfo).map_err(fail)?;
    let mut client = config
        .connect(postgres::NoTls)
        .map_err(|e| fail(format!("cannot connect: {}", with_causes(&e))))?;
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

/// An error with its causes, `: `-separated (the client's top message alone says little).
#[cfg(feature = "import-live")]
fn with_causes(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(&format!(": {cause}"));
        source = cause.source();
    }
    text
}

/// `slonik-gen import cluster`: the config of the cluster as its catalog describes it now.
#[cfg(feature = "import-live")]
pub fn import_cluster(
    conninfo: &str,
    cluster: &str,
    version: Option<SlonyVersion>,
) -> Result<LiveImport, ImportError> {
    let catalog = read_catalog(conninfo, cluster)?;
    let (config, notes) = config_from_catalog(&catalog, version).map_err(|problem| ImportError::Live {
        conninfo: shown_conninfo(conninfo),
        message: format!("cluster {}: {problem}", visible(&catalog.cluster)),
    })?;
    let cluster = crate::validate::validate(&config).map_err(|problems| ImportError::Invalid {
        path: format!("cluster {} at {}", visible(&catalog.cluster), shown_conninfo(conninfo)).into(),
        problems,
        hint: "(these come from the catalog as it is: finish or repair the pending change, e.g. drop a failed node, and import again)".into(),
    })?;
    Ok(LiveImport {
        config,
        cluster,
        notes,
        source: shown_conninfo(conninfo),
    })
}

/// Every difference between a config and the live cluster, in a fixed order, each a
/// sentence naming the item. Empty when they agree. Passwords are never compared or shown.
pub fn differences(config: &Cluster, live: &Cluster) -> Vec<String> {
    let mut out = Vec::new();
    if config.name != live.name {
        out.push(format!(
            "the config is for cluster `{}` but the catalog is of cluster `{}`",
            config.name, live.name
        ));
    }
    let ids: BTreeSet<NodeId> = config.nodes.keys().chain(live.nodes.keys()).copied().collect();
    for id in ids {
        match (config.nodes.get(&id), live.nodes.get(&id)) {
            (Some(_), None) => out.push(format!(
                "node {id} is in the config but not in the cluster (dropped?)"
            )),
            (None, Some(n)) => out.push(format!(
                "node {id} is in the cluster{} but not in the config",
                if n.failed { " (failed)" } else { "" }
            )),
            (Some(c), Some(l)) => {
                if c.failed != l.failed {
                    out.push(if l.failed {
                        format!("node {id} has failed over in the cluster (inactive in sl_node) but is active in the config: set failed = true")
                    } else {
                        format!("node {id} is active in the cluster but marked failed in the config")
                    });
                }
                // What `store path` stores for each, passwords left out.
                let shown = |node: &crate::model::Node, version: SlonyVersion| {
                    let mut pairs = parse_conninfo(&node.path_conninfo(version).unwrap_or_default());
                    pairs.retain(|(k, _)| !is_secret_key(k));
                    pairs.sort();
                    pairs
                        .iter()
                        .map(|(k, v)| format!("{}={}", visible(k), visible(&quote_value(v))))
                        .collect::<Vec<_>>()
                        .join(" ")
                };
                let (c_path, l_path) = (shown(c, config.version), shown(l, live.version));
                if !l.failed && c_path != l_path {
                    out.push(format!(
                        "node {id}: sl_path reaches it with `{l_path}`, the config with `{c_path}`"
                    ));
                }
            }
            (None, None) => {}
        }
    }
    let set_ids: BTreeSet<SetId> = config.sets.keys().chain(live.sets.keys()).copied().collect();
    for id in &set_ids {
        match (config.sets.get(id), live.sets.get(id)) {
            (Some(c), None) => out.push(format!("{} is in the config but not in the cluster", c.label())),
            (None, Some(l)) => out.push(format!(
                "set {id} (origin node {}) is in the cluster but not in the config",
                l.origin
            )),
            (Some(c), Some(l)) if c.origin != l.origin => out.push(format!(
                "{}: the origin is node {} in the cluster but node {} in the config (moved or failed over outside slonik-gen?)",
                c.label(),
                l.origin,
                c.origin
            )),
            _ => {}
        }
    }
    relation_differences("table", &tables(config), &tables(live), &mut out);
    relation_differences("sequence", &sequences(config), &sequences(live), &mut out);
    let subs: BTreeSet<(SetId, NodeId)> = config
        .subscriptions
        .keys()
        .chain(live.subscriptions.keys())
        .copied()
        .collect();
    for key in subs {
        let (set, receiver) = key;
        match (config.subscriptions.get(&key), live.subscriptions.get(&key)) {
            (Some(c), None) => out.push(format!(
                "set {set}: node {receiver} subscribes (from node {}) in the config but not in the cluster",
                c.provider
            )),
            (None, Some(l)) => out.push(format!(
                "set {set}: node {receiver} subscribes from node {} in the cluster but not in the config",
                l.provider
            )),
            (Some(c), Some(l)) => {
                if c.provider != l.provider {
                    out.push(format!(
                        "set {set}: node {receiver} receives from node {} in the cluster but from node {} in the config",
                        l.provider, c.provider
                    ));
                }
                if c.forward != l.forward {
                    out.push(format!(
                        "set {set}: node {receiver} has forward = {} in the cluster but {} in the config",
                        l.forward, c.forward
                    ));
                }
            }
            (None, None) => {}
        }
    }
    out
}

/// (name → (id, set, key)) of every table.
fn tables(cluster: &Cluster) -> BTreeMap<QualifiedName, (u32, SetId, Option<String>)> {
    cluster
        .sets
        .values()
        .flat_map(|s| {
            s.tables
                .iter()
                .map(move |t| (t.name.clone(), (t.id.0, s.id, t.key.clone())))
        })
        .collect()
}

fn sequences(cluster: &Cluster) -> BTreeMap<QualifiedName, (u32, SetId, Option<String>)> {
    cluster
        .sets
        .values()
        .flat_map(|s| {
            s.sequences
                .iter()
                .map(move |q| (q.name.clone(), (q.id.0, s.id, None)))
        })
        .collect()
}

type Relations = BTreeMap<QualifiedName, (u32, SetId, Option<String>)>;

fn relation_differences(what: &str, config: &Relations, live: &Relations, out: &mut Vec<String>) {
    let live_by_id: BTreeMap<u32, &QualifiedName> = live.iter().map(|(n, (id, _, _))| (*id, n)).collect();
    let names: BTreeSet<&QualifiedName> = config.keys().chain(live.keys()).collect();
    for name in names {
        match (config.get(name), live.get(name)) {
            (Some((id, set, _)), None) => {
                let clash = live_by_id
                    .get(id)
                    .map(|other| format!("; id {id} is {other} in the cluster (id clash)"))
                    .unwrap_or_default();
                out.push(format!(
                    "{what} {name} (id {id}, set {set}) is in the config but not replicated in the cluster{clash}"
                ));
            }
            (None, Some((id, set, _))) => out.push(format!(
                "{what} {name} (id {id}, set {set}) is replicated in the cluster but not in the config"
            )),
            (Some((c_id, c_set, c_key)), Some((l_id, l_set, l_key))) => {
                if c_id != l_id {
                    let clash = live_by_id
                        .get(c_id)
                        .map(|other| format!(" (id {c_id} is {other} in the cluster: id clash)"))
                        .unwrap_or_default();
                    out.push(format!(
                        "{what} {name} has id {l_id} in the cluster but id {c_id} in the config{clash}"
                    ));
                }
                if c_set != l_set {
                    out.push(format!(
                        "{what} {name} is in set {l_set} in the cluster but in set {c_set} in the config"
                    ));
                }
                if c_key != l_key {
                    let key = |k: &Option<String>| k.clone().unwrap_or_else(|| "the primary key".into());
                    out.push(format!(
                        "{what} {name} is keyed on {} in the cluster but on {} in the config",
                        key(l_key),
                        key(c_key)
                    ));
                }
            }
            (None, None) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn catalog() -> Catalog {
        Catalog {
            cluster: "replication".into(),
            version: "2.2.11".into(),
            local_node: 2,
            nodes: vec![
                CatalogNode {
                    id: 1,
                    active: false,
                    comment: "Node 1 - geekdb@MasNod".into(),
                    failed: true,
                },
                CatalogNode {
                    id: 2,
                    active: true,
                    comment: "Node 2 - geekdb@SlaNod".into(),
                    failed: false,
                },
            ],
            paths: vec![
                (
                    1,
                    2,
                    "host=MasNod port=5432 dbname=geekdb user=postgres password=sekrit".into(),
                ),
                (2, 1, "host=SlaNod port=5432 dbname=geekdb user=postgres".into()),
            ],
            sets: vec![(1, 2, "Set 1 (set1) for replication".into())],
            tables: vec![
                CatalogRelation {
                    id: 1,
                    set: 1,
                    schema: "geekdb".into(),
                    name: "files".into(),
                    key: None,
                    comment: "geekdb.files".into(),
                },
                CatalogRelation {
                    id: 2,
                    set: 1,
                    schema: "geekdb".into(),
                    name: "additional_roll".into(),
                    key: Some("roll_key".into()),
                    comment: "Table geekdb.additional_roll".into(),
                },
            ],
            sequences: vec![CatalogRelation {
                id: 1,
                set: 1,
                schema: "geekdb".into(),
                name: "files_id_seq".into(),
                key: None,
                comment: String::new(),
            }],
            subscriptions: vec![CatalogSubscription {
                set: 1,
                provider: 2,
                receiver: 1,
                forward: true,
                active: true,
            }],
        }
    }

    #[test]
    fn a_failed_over_catalog_becomes_a_valid_config_without_passwords() {
        let (config, notes) = config_from_catalog(&catalog(), None).unwrap();
        let text = toml::to_string(&config).unwrap();
        assert!(!text.contains("sekrit"), "{text}");
        assert!(!notes.join("\n").contains("sekrit"), "{notes:?}");
        assert!(
            notes
                .iter()
                .any(|n| n.contains("node 1: sl_path stores a password")),
            "{notes:?}"
        );
        let cluster = crate::validate::validate(&config).expect("valid");
        assert!(cluster.nodes[&NodeId(1)].failed);
        assert_eq!(cluster.sets[&SetId(1)].origin, NodeId(2));
        assert_eq!(
            cluster.sets[&SetId(1)].name,
            "set1",
            "name from the create-set comment"
        );
        assert_eq!(cluster.default_origin, NodeId(2));
        assert!(
            cluster.subscriptions.is_empty(),
            "the failed node's subscription is left out"
        );
        let table = &cluster.sets[&SetId(1)].tables[1];
        assert_eq!((table.id.0, table.key.as_deref()), (2, Some("roll_key")));
        assert_eq!(
            cluster.sets[&SetId(1)].tables[0].comment,
            None,
            "Slony's default comment is dropped"
        );
    }

    /// The imported TOML loads, and holds no control character but line feeds.
    fn assert_loads(imported: &(ConfigFile, Vec<String>)) -> String {
        let live = LiveImport {
            config: imported.0.clone(),
            cluster: crate::validate::validate(&imported.0).expect("valid"),
            notes: imported.1.clone(),
            source: shown_conninfo("host=a password=x"),
        };
        let text = live.to_toml();
        assert!(
            !text.chars().any(|c| c != '\n' && crate::escape::is_control(c)),
            "{text:?}"
        );
        crate::load_config_str(&text, "imported.toml").unwrap_or_else(|e| panic!("{e}\n{text}"));
        text
    }

    #[test]
    fn uri_paths_sslpasswords_and_server_options_are_imported_safely() {
        let mut catalog = catalog();
        catalog.paths = vec![
            (
                1,
                2,
                "postgresql://postgres:uri_secret@MasNod:5432/geekdb?sslpassword=ssl_secret&application_name=slon"
                    .into(),
            ),
            (
                2,
                1,
                "host=SlaNod dbname=geekdb user=postgres sslpassword=ssl2_secret options='-c search_path=evil'".into(),
            ),
        ];
        let imported = config_from_catalog(&catalog, None).expect("imports");
        let text = assert_loads(&imported);
        for secret in ["uri_secret", "ssl_secret", "ssl2_secret"] {
            assert!(!text.contains(secret), "{text}");
        }
        let cluster = crate::validate::validate(&imported.0).unwrap();
        let one = &cluster.nodes[&NodeId(1)];
        assert_eq!(
            (
                one.admin.host.as_deref(),
                one.admin.port,
                one.admin.user.as_deref(),
                one.admin.dbname.as_deref()
            ),
            (Some("MasNod"), Some(5432), Some("postgres"), Some("geekdb"))
        );
        assert_eq!(one.admin.password, None);
        assert_eq!(
            one.admin.options.keys().collect::<Vec<_>>(),
            ["application_name"],
            "sslpassword is not an option to copy"
        );
        let two = &cluster.nodes[&NodeId(2)];
        let admin = two.admin_conninfo(SlonyVersion::V2_2).unwrap();
        let path = two.path_conninfo(SlonyVersion::V2_2).unwrap();
        assert!(!admin.contains("search_path"), "{admin}");
        assert!(path.contains("options='-c search_path=evil'"), "{path}");
        for node in [1, 2] {
            assert!(
                text.contains(&format!("node {node}: sl_path stores a password")),
                "{text}"
            );
        }
        assert!(text.contains("kept for the slons only"), "{text}");
    }

    #[test]
    fn control_characters_from_the_catalog_are_escaped_or_refused() {
        let mut catalog = catalog();
        catalog.version = "2.2\u{1b}]0;owned\u{7}".into();
        catalog.nodes[1].comment = "Node 2\u{1b}[2J".into();
        catalog.sets[0].2 = "Set 1 (set1) for replication\u{2}".into();
        catalog.tables[1].comment = "roll\nkey = 1".into();
        catalog.paths[1].2 =
            "host=SlaNod dbname=geekdb user=postgres application_name='slon\u{1b}[31m'".into();
        let imported = config_from_catalog(&catalog, None).expect("imports");
        assert_loads(&imported);
        let notes = imported.1.join("\n");
        for needle in [
            "2.2\\u{001B}]0;owned\\u{0007}",
            "node 2: its comment in the catalog, `Node 2\\u{001B}[2J`",
            "set 1: its comment",
            "`application_name` to `slon\\u{001B}[31m`",
            "roll\\u{000A}key = 1",
        ] {
            assert!(notes.contains(needle), "missing {needle} in\n{notes}");
        }
        let cluster = crate::validate::validate(&imported.0).unwrap();
        assert_eq!(cluster.nodes[&NodeId(2)].comment, None);
        assert!(cluster.nodes[&NodeId(2)].admin.options.is_empty());

        let refused = |change: &dyn Fn(&mut Catalog)| {
            let mut bad = catalog.clone();
            change(&mut bad);
            config_from_catalog(&bad, None).unwrap_err().to_string()
        };
        let err = refused(&|c| c.tables[1].name = "roll\u{1b}[8m".into());
        assert!(
            err.contains("table 2 of set 1 is named `roll\\u{001B}[8m`") && !err.contains('\u{1b}'),
            "{err}"
        );
        let err = refused(&|c| c.paths[0].2 = "host='Mas\u{2}Nod' password=pw_secret".into());
        assert!(
            err.contains("node 1: the conninfo sl_path stores for client 2 sets `host` to `Mas\\u{0002}Nod`"),
            "{err}"
        );
        assert!(!err.contains("pw_secret"), "{err}");
        let err = refused(&|c| c.paths[0].2 = "host=MasNod password='pw_secret".into());
        assert!(
            err.contains("cannot be read") && !err.contains("pw_secret"),
            "{err}"
        );
    }

    #[test]
    fn shown_conninfos_hide_passwords_and_escape_control_characters() {
        assert_eq!(
            shown_conninfo("host=a password=x user=u"),
            "host=a password=*** user=u"
        );
        assert_eq!(shown_conninfo("host=a password='a b'"), "host=a password='***'");
        assert_eq!(
            shown_conninfo("postgresql://u:secret@h/db"),
            "postgresql://u:***@h/db"
        );
        assert_eq!(
            shown_conninfo("postgresql://u@h/db?password=secret&application_name=\u{1b}x"),
            "postgresql://u@h/db?password=***&application_name=\\u{001B}x"
        );
    }

    #[test]
    fn differences_name_moved_origins_subscriptions_and_id_clashes() {
        let toml = r#"
            cluster = "replication"
            [[node]]
            id = 1
            host = "MasNod"
            port = 5432
            dbname = "geekdb"
            user = "postgres"
            [[node]]
            id = 2
            host = "SlaNod"
            port = 5432
            dbname = "geekdb"
            user = "postgres"
            [[set]]
            id = 1
            name = "set1"
            origin = 1
            tables = [{ schema = "geekdb", name = "files", id = 2 }, { schema = "geekdb", name = "notes", id = 1 }]
            sequences = ["geekdb.files_id_seq"]
            [[subscription]]
            set = 1
            receiver = 2
        "#;
        let config = crate::load_config_str(toml, "geekdb.toml").unwrap();
        let (live, _) = config_from_catalog(&catalog(), None).unwrap();
        let live = crate::validate::validate(&live).unwrap();
        let diff = differences(&config, &live);
        let text = diff.join("\n");
        for needle in [
            "node 1 has failed over in the cluster",
            "set 1 (set1): the origin is node 2 in the cluster but node 1 in the config",
            "table geekdb.files has id 1 in the cluster but id 2 in the config (id 2 is geekdb.additional_roll in the cluster: id clash)",
            "table geekdb.notes (id 1, set 1) is in the config but not replicated in the cluster; id 1 is geekdb.files in the cluster (id clash)",
            "table geekdb.additional_roll (id 2, set 1) is replicated in the cluster but not in the config",
            "set 1: node 2 subscribes (from node 1) in the config but not in the cluster",
        ] {
            assert!(text.contains(needle), "missing `{needle}` in:\n{text}");
        }
        assert!(!text.contains("sekrit"));
        assert!(differences(&live, &live).is_empty());
    }
}
