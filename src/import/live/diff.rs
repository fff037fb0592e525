//! `check-cluster`: every difference between a config and the cluster its catalog describes.

use std::collections::{BTreeMap, BTreeSet};

use super::parse_conninfo;
use crate::escape::visible;
use crate::model::conninfo::{is_secret_key, value_text as quote_value};
use crate::model::ids::{NodeId, SetId};
use crate::model::{Cluster, QualifiedName};
use crate::version::SlonyVersion;

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
    use super::super::config_from_catalog;
    use super::super::convert::tests::catalog;
    use super::*;

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
