//! Node-level operations: preamble, init-cluster, store-node, drop-node, uninstall, restart, update.

use super::{
    echo, finish, refuse, resolve_active, resolve_node, script_for, sync_and_wait, try_or_exit, Change,
    OpError,
};
use crate::model::{Cluster, Node, NodeId};
use crate::statement::{
    DropNode, InitCluster, NodeOrAll, RestartNode, Statement, StoreNode, StorePaths, UninstallNode,
    UpdateFunctions,
};

fn node_comment(node: &Node) -> String {
    node.comment.clone().unwrap_or_else(|| match &node.name {
        Some(name) => super::fit_literal(format!("Node {} - {name}", node.id)),
        None => format!("Node {}", node.id),
    })
}

/// The `store path` lines from each of `clients` (but `server` itself) to `server`, as one
/// [`StorePaths`]: the conninfo depends on the server only, so it is built and held once
/// (200 nodes have 39,800 paths). `None` when no client is left.
fn store_paths(
    cluster: &Cluster,
    server: NodeId,
    clients: impl IntoIterator<Item = NodeId>,
) -> Result<Option<Statement>, OpError> {
    let clients: Vec<NodeId> = clients.into_iter().filter(|client| *client != server).collect();
    if clients.is_empty() {
        return Ok(None);
    }
    let conninfo = cluster.nodes[&server]
        .path_conninfo(cluster.version)
        .map_err(|problems| {
            refuse(
                "store path",
                format!("node {server} path conninfo: {}", problems[0]),
            )
        })?;
    Ok(Some(
        StorePaths {
            server,
            clients,
            conninfo,
            connretry: None,
        }
        .into(),
    ))
}

/// `slonik_print_preamble`: the header alone, for scripts written by hand.
///
/// slonik rejects a script with no statement, so append at least one before running it.
pub fn print_preamble(cluster: &Cluster) -> Result<Change, OpError> {
    let script = script_for(cluster, "print-preamble", &[])?;
    Ok(Change {
        script,
        next: cluster.clone(),
    })
}

/// `slonik_init_cluster`: initialise the default origin, store every other node and a
/// path for every ordered pair of nodes.
pub fn init_cluster(cluster: &Cluster) -> Result<Change, OpError> {
    const OP: &str = "init-cluster";
    let first = cluster.default_origin;
    let mut script = script_for(cluster, OP, &[])?;
    let first_node = &cluster.nodes[&first];
    if first_node.failed {
        return Err(refuse(
            OP,
            format!("the default origin, node {first}, is marked failed"),
        ));
    }
    script.push(InitCluster {
        id: first,
        comment: Some(node_comment(first_node)),
    });
    script.push(echo(format!(
        "Cluster {}: {} initialised",
        cluster.name,
        first_node.label()
    )));
    let others: Vec<&Node> = cluster.active_nodes().filter(|n| n.id != first).collect();
    for node in &others {
        script.push(StoreNode {
            id: node.id,
            comment: Some(node_comment(node)),
            event_node: first,
            spoolnode: None,
        });
        script.push(echo(format!("{} stored", node.label())));
    }
    let ids: Vec<NodeId> = cluster.active_nodes().map(|n| n.id).collect();
    for &server in &ids {
        script.extend(store_paths(cluster, server, ids.iter().copied())?);
    }
    script.push(echo(format!(
        "Cluster {} initialised: {} nodes, {} paths",
        cluster.name,
        ids.len(),
        ids.len() * ids.len().saturating_sub(1)
    )));
    finish(OP, script, cluster.clone())
}

/// `slonik_store_node` / `slonik_add_node`: add a node to a running cluster, with paths to
/// and from every other node. The event node defaults to the default origin.
pub fn store_node(cluster: &Cluster, node: &str, event_node: Option<&str>) -> Result<Change, OpError> {
    const OP: &str = "store-node";
    let id = resolve_active(cluster, OP, node)?;
    let event = match event_node {
        Some(arg) => resolve_active(cluster, OP, arg)?,
        None => std::iter::once(cluster.default_origin)
            .chain(cluster.active_nodes().map(|n| n.id))
            .find(|n| *n != id && !cluster.nodes[n].failed)
            .ok_or_else(|| refuse(OP, format!("node {id} is the only node: use init-cluster")))?,
    };
    if id == event {
        return Err(refuse(
            OP,
            format!(
                "node {id} cannot be its own event node: give an existing node of the cluster as EVENT_NODE"
            ),
        ));
    }
    let node = &cluster.nodes[&id];
    let mut script = script_for(cluster, OP, &[])?;
    script.push(try_or_exit(
        vec![StoreNode {
            id,
            comment: Some(node_comment(node)),
            event_node: event,
            spoolnode: None,
        }
        .into()],
        format!(
            "Failed to add {} to cluster {} (event node {event}); if the error says the namespace already exists, drop schema \"_{}\" on that node first",
            node.label(),
            cluster.name,
            cluster.name
        ),
    ));
    for other in cluster.active_nodes().filter(|n| n.id != id) {
        script.extend(store_paths(cluster, id, [other.id])?);
        script.extend(store_paths(cluster, other.id, [id])?);
    }
    script.push(echo(format!(
        "{} added to cluster {} with paths to and from every node",
        node.label(),
        cluster.name
    )));
    finish(OP, script, cluster.clone())
}

/// `slonik_drop_node NODE EVENT_NODE`: remove a node from the cluster.
///
/// Refuses to drop a set origin or a provider other nodes still depend on, and refuses
/// NODE == EVENT_NODE (slonik would reject it).
pub fn drop_node(cluster: &Cluster, node: &str, event_node: &str) -> Result<Change, OpError> {
    const OP: &str = "drop-node";
    let id = resolve_node(cluster, node)?;
    let event = resolve_active(cluster, OP, event_node)?;
    if id == event {
        return Err(refuse(
            OP,
            format!("node {id} cannot be dropped with itself as event node: give another node of the cluster as EVENT_NODE"),
        ));
    }
    if let Some(set) = cluster.sets.values().find(|s| s.origin == id) {
        return Err(refuse(
            OP,
            format!(
                "node {id} is the origin of {}: move the set away (move-set) or fail over (failover) first",
                set.label()
            ),
        ));
    }
    if let Some(sub) = cluster
        .subscriptions
        .values()
        .find(|s| s.provider == id && s.receiver != id)
    {
        return Err(refuse(
            OP,
            format!(
                "node {} receives set {} from node {id}: resubscribe it to another provider or unsubscribe it first",
                sub.receiver, sub.set
            ),
        ));
    }
    let mut script = script_for(cluster, OP, &[id])?;
    script.push(DropNode {
        ids: vec![id],
        event_node: event,
    });
    script.push(echo(format!(
        "{} dropped from cluster {} (event node {event}); before adding it back, drop schema \"_{}\" in its database",
        cluster.nodes[&id].label(),
        cluster.name,
        cluster.name
    )));
    // A node that applies the drop after a later `store path` for a re-added node would
    // delete the new paths with the old ones (seen on a real cluster), so finish only when
    // every node has processed it.
    script.push(echo(format!(
        "Waiting until every node has processed the drop of node {id}"
    )));
    script.extend(sync_and_wait(cluster, event, NodeOrAll::All));
    let mut next = cluster.clone();
    next.nodes.remove(&id);
    next.subscriptions.retain(|_, s| s.receiver != id);
    for n in next.nodes.values_mut() {
        if n.provider == Some(id) {
            n.provider = None;
        }
    }
    if next.default_origin == id {
        next.default_origin = event;
    }
    finish(OP, script, next)
}

/// `slonik_uninstall_nodes`: remove Slony-I from every node, the default origin last.
pub fn uninstall_nodes(cluster: &Cluster) -> Result<Change, OpError> {
    const OP: &str = "uninstall-nodes";
    let mut script = script_for(cluster, OP, &[])?;
    let mut order: Vec<NodeId> = cluster
        .active_nodes()
        .map(|n| n.id)
        .filter(|id| *id != cluster.default_origin)
        .collect();
    if cluster.active_nodes().any(|n| n.id == cluster.default_origin) {
        order.push(cluster.default_origin);
    }
    for id in order {
        script.push(UninstallNode { id });
        script.push(echo(format!(
            "Slony-I removed from {}",
            cluster.nodes[&id].label()
        )));
    }
    let mut next = cluster.clone();
    next.subscriptions.clear();
    finish(OP, script, next)
}

/// `slonik_restart_node`: tell the slon of each node to restart (`all` = every node).
pub fn restart_nodes(cluster: &Cluster, nodes: &[&str]) -> Result<Change, OpError> {
    const OP: &str = "restart-node";
    let ids: Vec<NodeId> = if nodes.is_empty() {
        cluster.active_nodes().map(|n| n.id).collect()
    } else {
        nodes
            .iter()
            .map(|arg| resolve_active(cluster, OP, arg))
            .collect::<Result<_, _>>()?
    };
    let mut script = script_for(cluster, OP, &[])?;
    for id in ids {
        script.push(RestartNode { id });
        script.push(echo(format!(
            "Restart requested for the slon of {}",
            cluster.nodes[&id].label()
        )));
    }
    finish(OP, script, cluster.clone())
}

/// `slonik_update_nodes`: reload Slony-I's stored procedures on every node (after an upgrade).
pub fn update_nodes(cluster: &Cluster) -> Result<Change, OpError> {
    const OP: &str = "update-nodes";
    let mut script = script_for(cluster, OP, &[])?;
    for node in cluster.active_nodes() {
        script.push(UpdateFunctions { id: node.id });
        script.push(echo(format!("Slony-I functions updated on {}", node.label())));
    }
    finish(OP, script, cluster.clone())
}
