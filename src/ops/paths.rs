//! Path operations: `store path` and `drop path` for clusters that keep their own set of
//! paths (`[[path]]`) instead of every ordered pair.

use super::{active_node, echo, finish, refuse, script_for, Change, OpError, Refusal};
use crate::model::{Cluster, NodeId, Paths};
use crate::statement::{DropPath, RestartNode};

/// `store-path SERVER CLIENT`: the slon of CLIENT learns to reach SERVER through SERVER's
/// path connection (again, when the path exists: after a conninfo change). With
/// `[[path]]` entries the path is added to them; in the full mesh every path is already in
/// the model.
pub fn store_path(cluster: &Cluster, server: NodeId, client: NodeId) -> Result<Change, OpError> {
    const OP: &str = "store-path";
    let server_label = active_node(cluster, OP, server)?.label();
    active_node(cluster, OP, client)?;
    if server == client {
        return Err(refuse(OP, Refusal::PathToItself { node: server }));
    }
    let mut script = script_for(cluster, OP, &[])?;
    let mut next = cluster.clone();
    if let Paths::Explicit(paths) = &mut next.paths {
        paths.entry((server, client)).or_insert(None);
    }
    script.extend(super::nodes::store_path_pairs(&next, &[(server, client)])?);
    script.push(echo(format!(
        "Node {client} can reach {server_label} (store path)"
    )));
    finish(OP, script, next)
}

/// `drop-path SERVER CLIENT`: the slon of CLIENT forgets how to reach SERVER. Refused when
/// CLIENT receives a set from SERVER, or when the paths left would not carry every node's
/// events to every other; in the full mesh the config then lists every other path as
/// `[[path]]`. CLIENT's slon is then told to restart: events it already fetched through
/// SERVER are queued with SERVER as their provider, and Slony-I's slon retries such an
/// event forever once the path is gone ("No pa_conninfo for data provider"); after the
/// restart (slon pauses 20 s first) it fetches them again over the paths left.
pub fn drop_path(cluster: &Cluster, server: NodeId, client: NodeId) -> Result<Change, OpError> {
    const OP: &str = "drop-path";
    active_node(cluster, OP, server)?;
    active_node(cluster, OP, client)?;
    if server == client {
        return Err(refuse(OP, Refusal::PathToItself { node: server }));
    }
    if !cluster.has_path(server, client) {
        return Err(refuse(OP, Refusal::NoSuchPath { server, client }));
    }
    if let Some(sub) = cluster
        .subscriptions
        .values()
        .find(|s| s.provider == server && s.receiver == client)
    {
        return Err(refuse(
            OP,
            Refusal::PathFeedsSubscription {
                server,
                client,
                set: sub.set,
            },
        ));
    }
    let mut next = cluster.clone();
    let mut paths: std::collections::BTreeMap<(NodeId, NodeId), Option<u32>> = match &cluster.paths {
        Paths::Explicit(paths) => paths.clone(),
        Paths::Mesh => cluster.stored_paths().into_iter().map(|p| (p, None)).collect(),
    };
    paths.remove(&(server, client));
    next.paths = Paths::Explicit(paths);
    if let Some((from, to)) = next.path_gap() {
        return Err(refuse(
            OP,
            Refusal::PathGap {
                server,
                client,
                from,
                to,
            },
        ));
    }
    let mut script = script_for(cluster, OP, &[])?;
    script.push(DropPath {
        server,
        client,
        event_node: None,
    });
    script.push(echo(format!(
        "Node {client} no longer connects to node {server} (drop path)"
    )));
    script.push(RestartNode { id: client });
    script.push(echo(format!(
        "Restart requested for the slon of node {client}, so it drops what it fetched from node {server}"
    )));
    finish(OP, script, next)
}
