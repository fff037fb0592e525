//! `[[path]]` entries: each names two different nodes of the config once; and, when the
//! config lists paths, every subscription has the path its receiver's slon needs to its
//! provider, and events can travel from every live node to every other along them.

use std::collections::BTreeMap;

use super::problems::Problem;
use crate::model::config::ConfigFile;
use crate::model::{Cluster, Node, NodeId, Paths};

/// The paths of `config`: the mesh when it lists none. A failed node, and one dropped but
/// kept in the config, keep their paths (as `sl_path` keeps a failed node's until it is
/// dropped), so a rebuild stores them again.
pub(super) fn build_paths(
    config: &ConfigFile,
    nodes: &BTreeMap<NodeId, Node>,
    dropped: &BTreeMap<NodeId, Node>,
    p: &mut Vec<Problem>,
) -> Paths {
    if config.paths.is_empty() {
        return Paths::Mesh;
    }
    let mut paths = BTreeMap::new();
    for path in &config.paths {
        let item = format!("[[path]] server = {}, client = {}", path.server, path.client);
        for node in [path.server, path.client] {
            if !nodes.contains_key(&node) && !dropped.contains_key(&node) {
                p.push(Problem::UnknownNode {
                    item: item.clone(),
                    node,
                });
            }
        }
        if path.server == path.client {
            p.push(Problem::PathToItself { node: path.server });
        } else if paths.insert((path.server, path.client), path.connretry).is_some() {
            p.push(Problem::PathTwice {
                server: path.server,
                client: path.client,
            });
        }
    }
    Paths::Explicit(paths)
}

/// With explicit paths: every subscription's receiver has a path to its provider, and the
/// live nodes are strongly connected (every node's events reach every other).
pub(super) fn check_paths(cluster: &Cluster, p: &mut Vec<Problem>) {
    if !matches!(cluster.paths, Paths::Explicit(_)) {
        return;
    }
    for sub in cluster.subscriptions.values() {
        if !cluster.has_path(sub.provider, sub.receiver) {
            p.push(Problem::SubscriptionWithoutPath {
                set: sub.set,
                receiver: sub.receiver,
                provider: sub.provider,
            });
        }
    }
    if let Some((from, to)) = cluster.path_gap() {
        p.push(Problem::PathsDoNotReach { from, to });
    }
}
