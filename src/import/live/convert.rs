//! Catalog rows → config: what the catalog says, written as the config that describes the
//! cluster, with notes on what it could not say (pure: no database needed).

use std::collections::BTreeSet;

use super::{parse_conninfo, shown_conninfo, Catalog, CatalogRelation};
use crate::escape::visible;
use crate::model::config::{
    ConfigFile, NodeConfig, PathConfig, SetConfig, SetRef, SubscriptionConfig, TableEntry,
};
use crate::model::conninfo::{is_secret_key, redact_secrets, value_text as quote_value, ConnectionParts};
use crate::model::ids::{NodeId, SetId};
use crate::model::QualifiedName;
use crate::version::SlonyVersion;

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
            dropped: false,
            slon_start: None,
            slon_stop: None,
            slon: Default::default(),
            daemon: Default::default(),
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
            tables,
            sequences,
            ..SetConfig::default()
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
        slon: Default::default(),
        daemon: Default::default(),
        nodes,
        sets,
        subscriptions,
        paths: explicit_paths(catalog, &failed, &mut notes),
    };
    Ok((config, notes))
}

/// The catalog's paths as `[[path]]` entries when they are not every ordered pair of the
/// live nodes (a cluster built with minimal paths); none when they are, so a full mesh
/// imports as the default. Paths of failed nodes are left out.
fn explicit_paths(catalog: &Catalog, failed: &BTreeSet<u32>, notes: &mut Vec<String>) -> Vec<PathConfig> {
    let live: Vec<u32> = catalog
        .nodes
        .iter()
        .map(|n| n.id)
        .filter(|n| !failed.contains(n))
        .collect();
    let stored: std::collections::BTreeSet<(u32, u32)> = catalog
        .paths
        .iter()
        .map(|(server, client, _)| (*server, *client))
        .filter(|(s, c)| live.contains(s) && live.contains(c))
        .collect();
    let mesh = live.len() * live.len().saturating_sub(1);
    if stored.len() == mesh {
        return Vec::new();
    }
    notes.push(format!(
        "sl_path holds {} of the {mesh} paths between the live nodes: written as [[path]] entries, which store-node, failover and the runbooks keep to",
        stored.len()
    ));
    stored
        .into_iter()
        .map(|(server, client)| PathConfig::new(NodeId(server), NodeId(client)))
        .collect()
}

#[cfg(test)]
pub(super) mod tests {
    use super::super::{CatalogNode, CatalogSubscription, LiveImport};
    use super::*;

    pub(in crate::import::live) fn catalog() -> Catalog {
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
}
