//! Which `store path`s a cluster has: every ordered pair of nodes (the default, what
//! altperl stores), or exactly the `[[path]]` entries of the config, for clusters that do
//! not want every node to connect to every other (the pgbench tutorial's minimal paths).

use std::collections::BTreeMap;

use crate::model::ids::NodeId;
use crate::model::Cluster;

/// The cluster's paths. A path (server, client) lets the slon of `client` connect to
/// `server`: to listen for its events and, when `server` is a provider, to copy and apply
/// the sets it feeds to `client`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Paths {
    /// Every ordered pair of live nodes (no `[[path]]` in the config).
    #[default]
    Mesh,
    /// Exactly these (server, client) pairs, each with its `connretry`.
    Explicit(BTreeMap<(NodeId, NodeId), Option<u32>>),
}

impl Cluster {
    /// Whether the slon of `client` has a path to `server`.
    pub fn has_path(&self, server: NodeId, client: NodeId) -> bool {
        match &self.paths {
            Paths::Mesh => {
                server != client
                    && self.nodes.get(&server).is_some_and(|n| !n.failed)
                    && self.nodes.get(&client).is_some_and(|n| !n.failed)
            }
            Paths::Explicit(paths) => paths.contains_key(&(server, client)),
        }
    }

    /// The (server, client) pairs between live nodes that `store path` stores, in order.
    pub fn stored_paths(&self) -> Vec<(NodeId, NodeId)> {
        let live: Vec<NodeId> = self.active_nodes().map(|n| n.id).collect();
        match &self.paths {
            Paths::Mesh => live
                .iter()
                .flat_map(|s| live.iter().filter(move |c| *c != s).map(move |c| (*s, *c)))
                .collect(),
            Paths::Explicit(paths) => paths
                .keys()
                .filter(|(s, c)| live.contains(s) && live.contains(c))
                .copied()
                .collect(),
        }
    }

    /// With explicit paths, a pair of live nodes (from, to) such that no chain of paths
    /// carries the events of `from` to `to`: the first found, `None` when every live node
    /// hears every other (always so for the mesh).
    pub fn path_gap(&self) -> Option<(NodeId, NodeId)> {
        if matches!(self.paths, Paths::Mesh) {
            return None;
        }
        let live: Vec<NodeId> = self.active_nodes().map(|n| n.id).collect();
        let first = *live.first()?;
        let stored = self.stored_paths();
        // Events travel from a server to the clients that have a path to it.
        let reach = |forward: bool| {
            let mut seen = std::collections::BTreeSet::from([first]);
            let mut todo = vec![first];
            while let Some(at) = todo.pop() {
                for &(server, client) in &stored {
                    let (from, to) = if forward {
                        (server, client)
                    } else {
                        (client, server)
                    };
                    if from == at && seen.insert(to) {
                        todo.push(to);
                    }
                }
            }
            seen
        };
        let from_first = reach(true);
        let to_first = reach(false);
        live.iter().find_map(|&node| {
            if !from_first.contains(&node) {
                Some((first, node))
            } else if !to_first.contains(&node) {
                Some((node, first))
            } else {
                None
            }
        })
    }

    /// The `connretry` of a stored path (`None`: slonik's default).
    pub fn path_connretry(&self, server: NodeId, client: NodeId) -> Option<u32> {
        match &self.paths {
            Paths::Mesh => None,
            Paths::Explicit(paths) => paths.get(&(server, client)).copied().flatten(),
        }
    }
}
