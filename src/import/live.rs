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
//! Passwords stored in `sl_path` are never printed: they are dropped, and a note says the
//! node needs a `passfile` or `service`.

use std::collections::{BTreeMap, BTreeSet};

#[cfg(feature = "import-live")]
use super::ImportError;
use crate::model::config::{ConfigFile, NodeConfig, SetConfig, SetRef, SubscriptionConfig, TableEntry};
use crate::model::conninfo::ConnectionParts;
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
    /// The conninfo it was read through, password removed.
    pub source: String,
}

impl LiveImport {
    /// The config as TOML with the notes as a `#` block on top.
    pub fn to_toml(&self) -> String {
        let mut out = format!(
            "# Imported by `slonik-gen import cluster` from the Slony-I catalog of cluster {} ({}).\n",
            self.config.cluster, self.source
        );
        if !self.notes.is_empty() {
            out.push_str("#\n# Notes on the import:\n");
            for note in &self.notes {
                for (i, line) in super::altperl::wrap(note, 92).iter().enumerate() {
                    let bullet = if i == 0 { "- " } else { "  " };
                    out.push_str(&format!("# {bullet}{line}\n"));
                }
            }
        }
        out.push('\n');
        out.push_str(&toml::to_string(&self.config).expect("a config always serializes"));
        out
    }
}

/// A conninfo with any password value replaced by `***`, for messages.
pub fn redact(conninfo: &str) -> String {
    if conninfo.contains("://") {
        // URI: postgresql://user:secret@host/db
        if let Some((scheme, rest)) = conninfo.split_once("://") {
            if let Some((userinfo, host)) = rest.split_once('@') {
                if let Some((user, _)) = userinfo.split_once(':') {
                    return format!("{scheme}://{user}:***@{host}");
                }
            }
        }
        return conninfo.to_string();
    }
    parse_conninfo(conninfo)
        .iter()
        .map(|(k, v)| {
            let v = if k == "password" {
                "***".to_string()
            } else {
                quote_value(v)
            };
            format!("{k}={v}")
        })
        .collect::<Vec<_>>()
        .join(" ")
}

fn quote_value(value: &str) -> String {
    if !value.is_empty() && !value.contains([' ', '\'', '\\']) {
        value.to_string()
    } else {
        format!("'{}'", value.replace('\\', "\\\\").replace('\'', "\\'"))
    }
}

/// libpq `key=value` pairs, in order (quoted values unquoted, `\` escapes applied).
pub fn parse_conninfo(text: &str) -> Vec<(String, String)> {
    let mut pairs = Vec::new();
    let mut chars = text.chars().peekable();
    loop {
        while chars.peek().is_some_and(|c| c.is_whitespace()) {
            chars.next();
        }
        let mut key = String::new();
        while let Some(&c) = chars.peek() {
            if c == '=' || c.is_whitespace() {
                break;
            }
            key.push(c);
            chars.next();
        }
        if key.is_empty() {
            break;
        }
        while chars.peek().is_some_and(|c| c.is_whitespace()) {
            chars.next();
        }
        if chars.peek() == Some(&'=') {
            chars.next();
        }
        while chars.peek().is_some_and(|c| c.is_whitespace()) {
            chars.next();
        }
        let mut value = String::new();
        if chars.peek() == Some(&'\'') {
            chars.next();
            while let Some(c) = chars.next() {
                match c {
                    '\\' => value.extend(chars.next()),
                    '\'' => break,
                    c => value.push(c),
                }
            }
        } else {
            while let Some(&c) = chars.peek() {
                if c.is_whitespace() {
                    break;
                }
                chars.next();
                if c == '\\' {
                    value.extend(chars.next());
                } else {
                    value.push(c);
                }
            }
        }
        pairs.push((key, value));
    }
    pairs
}

/// Connection parts from a conninfo; the password is left out (`true` when there was one).
fn connection_parts(conninfo: &str) -> (ConnectionParts, bool) {
    let mut parts = ConnectionParts::default();
    let mut had_password = false;
    for (key, value) in parse_conninfo(conninfo) {
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
            "password" => had_password = true,
            "passfile" => parts.passfile = Some(value),
            "sslmode" => parts.sslmode = Some(value),
            _ => {
                parts.options.insert(key, value);
            }
        }
    }
    (parts, had_password)
}

/// `Set 1 (set1) for ...` (altperl's and slonik-gen's create-set comment) → `set1`.
fn set_name_from_comment(id: u32, comment: &str) -> Option<String> {
    let rest = comment.strip_prefix(&format!("Set {id} ("))?;
    let (name, _) = rest.split_once(") for ")?;
    (!name.is_empty()).then(|| name.to_string())
}

/// Turns a catalog into a config (pure: no database needed).
pub fn config_from_catalog(catalog: &Catalog, version: Option<SlonyVersion>) -> (ConfigFile, Vec<String>) {
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
                catalog.version,
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
        let (parts, had_password) = match paths.first() {
            Some((_, _, conninfo)) => connection_parts(conninfo),
            None => {
                notes.push(format!(
                    "node {}: no path in sl_path leads to it, so its connection is unknown: add host, port, dbname and user",
                    node.id
                ));
                (ConnectionParts::default(), false)
            }
        };
        if had_password
            || paths
                .iter()
                .any(|p| parse_conninfo(&p.2).iter().any(|(k, _)| k == "password"))
        {
            notes.push(format!(
                "node {}: sl_path stores a password for it; it is not imported (nor shown): give the node a `passfile` (a pgpass file) or a `service`",
                node.id
            ));
        }
        let others: BTreeSet<String> = paths
            .iter()
            .map(|p| redact(&p.2))
            .filter(|c| Some(c) != paths.first().map(|p| redact(&p.2)).as_ref())
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
        nodes.push(NodeConfig {
            id: NodeId(node.id),
            name: None,
            comment: (!node.comment.is_empty()).then(|| node.comment.clone()),
            service: parts.service,
            host: parts.host,
            port: parts.port,
            dbname: parts.dbname,
            user: parts.user,
            password: None,
            passfile: parts.passfile,
            sslmode: parts.sslmode,
            options: parts.options,
            path: None,
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
        let name = set_name_from_comment(*id, comment).filter(|n| names.insert(n.clone()));
        let entry = |r: &CatalogRelation, key: Option<String>| TableEntry {
            schema: Some(r.schema.clone()),
            name: r.name.clone(),
            id: Some(r.id),
            key,
            comment: {
                let fqn = QualifiedName::new(r.schema.clone(), r.name.clone());
                // Slony's default comment is the name itself: nothing to keep.
                let defaults = [fqn.quoted(), fqn.to_string(), String::new()];
                (!defaults.contains(&r.comment)).then(|| r.comment.clone())
            },
        };
        sets.push(SetConfig {
            id: SetId(*id),
            name,
            origin: Some(NodeId(*origin)),
            comment: (!comment.is_empty()).then(|| comment.clone()),
            default_schema: None,
            first_table_id: None,
            first_sequence_id: None,
            tables_file: None,
            sequences_file: None,
            tables: catalog
                .tables
                .iter()
                .filter(|t| t.set == *id)
                .map(|t| entry(t, t.key.clone()))
                .collect(),
            sequences: catalog
                .sequences
                .iter()
                .filter(|s| s.set == *id)
                .map(|s| entry(s, None))
                .collect(),
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
    (config, notes)
}

/// Reads the catalog of cluster `cluster` through `conninfo` (libpq key=value or a
/// `postgresql://` URI, as the Rust client reads it).
#[cfg(feature = "import-live")]
pub fn read_catalog(conninfo: &str, cluster: &str) -> Result<Catalog, ImportError> {
    let shown = redact(conninfo);
    let fail = |message: String| ImportError::Live {
        conninfo: shown.clone(),
        message,
    };
    let config: postgres::Config = conninfo
        .parse()
        .map_err(|e| fail(format!("cannot read the conninfo: {e}")))?;
    let mut client = config
        .connect(postgres::NoTls)
        .map_err(|e| fail(format!("cannot connect: {}", with_causes(&e))))?;
    let schema = format!("_{cluster}");
    let exists: i64 = client
        .query_one(
            "select count(*) from pg_catalog.pg_namespace where nspname = $1",
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
            "select {ns}.getlocalnodeid('{}')",
            schema.replace('\'', "''")
        ))?[0],
        0,
    );
    let nodes = query(format!(
        "select no_id, no_active, coalesce(no_comment, ''), coalesce((to_jsonb(n) ->> 'no_failed')::boolean, false) from {ns}.sl_node n order by no_id"
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
    let (config, notes) = config_from_catalog(&catalog, version);
    let cluster = crate::validate::validate(&config).map_err(|problems| ImportError::Invalid {
        path: format!("cluster {} at {}", catalog.cluster, redact(conninfo)).into(),
        problems,
        hint: "(these come from the catalog as it is: finish or repair the pending change, e.g. drop a failed node, and import again)".into(),
    })?;
    Ok(LiveImport {
        config,
        cluster,
        notes,
        source: redact(conninfo),
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
                // What `store path` stores for each, password left out.
                let shown = |node: &crate::model::Node, version: SlonyVersion| {
                    let mut pairs = parse_conninfo(&node.path_conninfo(version).unwrap_or_default());
                    pairs.retain(|(k, _)| k != "password");
                    pairs.sort();
                    pairs
                        .iter()
                        .map(|(k, v)| format!("{k}={}", quote_value(v)))
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
        let (config, notes) = config_from_catalog(&catalog(), None);
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

    #[test]
    fn redact_hides_passwords_in_both_forms() {
        assert_eq!(redact("host=a password=x user=u"), "host=a password=*** user=u");
        assert_eq!(redact("host=a password='a b'"), "host=a password=***");
        assert_eq!(redact("postgresql://u:secret@h/db"), "postgresql://u:***@h/db");
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
        let (live, _) = config_from_catalog(&catalog(), None);
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
