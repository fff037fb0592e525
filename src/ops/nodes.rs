//! Node-level operations: preamble, init-cluster, store-node, drop-node, uninstall, restart, update.

use super::{
    active_node, echo, finish, inconsistent, known_node, referenced_node, refuse, script_for, sync_and_wait,
    try_or_exit, Change, OpError, Refusal,
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
    store_paths_retrying(cluster, server, clients, None)
}

/// [`store_paths`] with a `connretry`.
fn store_paths_retrying(
    cluster: &Cluster,
    server: NodeId,
    clients: impl IntoIterator<Item = NodeId>,
    connretry: Option<u32>,
) -> Result<Option<Statement>, OpError> {
    let clients: Vec<NodeId> = clients.into_iter().filter(|client| *client != server).collect();
    if clients.is_empty() {
        return Ok(None);
    }
    let conninfo = referenced_node(cluster, "store path", server, || "a path's server".into())?
        .path_conninfo(cluster.version)
        .map_err(|problems| {
            refuse(
                "store path",
                Refusal::PathConninfo {
                    node: server,
                    problems,
                },
            )
        })?;
    Ok(Some(
        StorePaths {
            server,
            clients,
            conninfo,
            connretry,
        }
        .into(),
    ))
}

/// The `store path` statements of `pairs` (server, client), one [`StorePaths`] per run of
/// pairs with the same server and `connretry`, in the order given.
pub(super) fn store_path_pairs(
    cluster: &Cluster,
    pairs: &[(NodeId, NodeId)],
) -> Result<Vec<Statement>, OpError> {
    let mut statements = Vec::new();
    let mut i = 0;
    while i < pairs.len() {
        let (server, _) = pairs[i];
        let retry = cluster.path_connretry(server, pairs[i].1);
        let mut j = i;
        while j < pairs.len() && pairs[j].0 == server && cluster.path_connretry(server, pairs[j].1) == retry {
            j += 1;
        }
        statements.extend(store_paths_retrying(
            cluster,
            server,
            pairs[i..j].iter().map(|(_, c)| *c),
            retry,
        )?);
        i = j;
    }
    Ok(statements)
}

/// The `store path`s of `node` as `store-node` writes them (and runbooks that bring a node
/// in another way, such as a clone): to and from every other live node, or, with the
/// config's `[[path]]`s, those that have `node` as server or client.
pub(crate) fn paths_both_ways(cluster: &Cluster, node: NodeId) -> Result<Vec<Statement>, OpError> {
    let mut statements = Vec::new();
    for other in cluster.active_nodes().filter(|n| n.id != node).map(|n| n.id) {
        for (server, client) in [(node, other), (other, node)] {
            if cluster.has_path(server, client) {
                statements.extend(store_path_pairs(cluster, &[(server, client)])?);
            }
        }
    }
    Ok(statements)
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
    let first_node = referenced_node(cluster, OP, first, || "the default origin".into())?;
    if first_node.failed {
        return Err(refuse(OP, Refusal::DefaultOriginFailed { node: first }));
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
    let paths = cluster.stored_paths();
    if matches!(cluster.paths, crate::model::Paths::Mesh) {
        // One statement per server: 200 nodes have 39,800 paths.
        for &server in &ids {
            script.extend(store_paths(cluster, server, ids.iter().copied())?);
        }
    } else {
        script.extend(store_path_pairs(cluster, &paths)?);
    }
    script.push(echo(format!(
        "Cluster {} initialised: {} nodes, {} paths",
        cluster.name,
        ids.len(),
        paths.len()
    )));
    finish(OP, script, cluster.clone())
}

/// `slonik_store_node` / `slonik_add_node`: add a node to a running cluster, with paths to
/// and from every other node. The event node defaults to the default origin.
pub fn store_node(cluster: &Cluster, node: NodeId, event_node: Option<NodeId>) -> Result<Change, OpError> {
    const OP: &str = "store-node";
    let id = node;
    let node = active_node(cluster, OP, id)?;
    let event = match event_node {
        Some(event) => active_node(cluster, OP, event)?.id,
        None => std::iter::once(cluster.default_origin)
            .chain(cluster.active_nodes().map(|n| n.id))
            .find(|n| *n != id && cluster.nodes.get(n).is_some_and(|n| !n.failed))
            .ok_or_else(|| refuse(OP, Refusal::OnlyNode { node: id }))?,
    };
    if id == event {
        return Err(refuse(OP, Refusal::OwnEventNode { node: id }));
    }
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
    script.extend(paths_both_ways(cluster, id)?);
    script.push(echo(if matches!(cluster.paths, crate::model::Paths::Mesh) {
        format!(
            "{} added to cluster {} with paths to and from every node",
            node.label(),
            cluster.name
        )
    } else {
        format!(
            "{} added to cluster {} with its paths from the config",
            node.label(),
            cluster.name
        )
    }));
    finish(OP, script, cluster.clone())
}

/// `slonik_drop_node NODE EVENT_NODE`: remove a node from the cluster.
///
/// Refuses to drop a set origin or a provider other nodes still depend on, and refuses
/// NODE == EVENT_NODE (slonik would reject it). [`drop_nodes`] with one node.
pub fn drop_node(cluster: &Cluster, node: NodeId, event_node: NodeId) -> Result<Change, OpError> {
    drop_nodes(cluster, &[node], event_node)
}

/// `drop-node NODE... --event-node E`: remove several nodes from the cluster. On Slony-I
/// 2.2 one `drop node (id = '2,3', event node = E);`; before, one `drop node` per node, in
/// the order given, each followed by the wait [`drop_node`] makes (until every node has
/// processed it). The event node may not be one of them; a node other remaining nodes
/// receive a set from, or a set origin, is refused as for one node (a provider that feeds
/// only nodes dropped with it is not).
pub fn drop_nodes(cluster: &Cluster, nodes: &[NodeId], event_node: NodeId) -> Result<Change, OpError> {
    const OP: &str = "drop-node";
    let mut dropped: Vec<&Node> = Vec::with_capacity(nodes.len());
    for (i, id) in nodes.iter().enumerate() {
        if nodes[..i].contains(id) {
            return Err(refuse(OP, Refusal::DropListedTwice { node: *id }));
        }
        dropped.push(known_node(cluster, *id)?);
    }
    let event = active_node(cluster, OP, event_node)?.id;
    match nodes {
        [] => return Err(refuse(OP, Refusal::NoNodeToDrop)),
        [one] if *one == event => return Err(refuse(OP, Refusal::DropWithItselfAsEventNode { node: event })),
        _ if nodes.contains(&event) => return Err(refuse(OP, Refusal::DropEventNodeListed { node: event })),
        _ => {}
    }
    for &id in nodes {
        if let Some(set) = cluster.sets.values().find(|s| s.origin == id) {
            return Err(refuse(
                OP,
                Refusal::DropOrigin {
                    node: id,
                    set: set.id,
                    name: set.name.clone(),
                },
            ));
        }
        if let Some(sub) = cluster
            .subscriptions
            .values()
            .find(|s| s.provider == id && !nodes.contains(&s.receiver))
        {
            return Err(refuse(
                OP,
                Refusal::DropProvider {
                    node: id,
                    receiver: sub.receiver,
                    set: sub.set,
                },
            ));
        }
    }
    let mut script = script_for(cluster, OP, nodes)?;
    if nodes.len() > 1 && cluster.version >= crate::version::SlonyVersion::V2_2 {
        let labels: Vec<String> = dropped.iter().map(|n| n.label()).collect();
        let ids: Vec<String> = nodes.iter().map(|n| n.to_string()).collect();
        script.push(DropNode {
            ids: nodes.to_vec(),
            event_node: event,
        });
        script.push(echo(format!(
            "{} dropped from cluster {} (event node {event}); before adding one back, drop schema \"_{}\" in its database",
            crate::runbook::text::and_list(&labels),
            cluster.name,
            cluster.name
        )));
        script.push(echo(format!(
            "Waiting until every node has processed the drop of nodes {}",
            crate::runbook::text::and_list(&ids)
        )));
        script.extend(sync_and_wait(cluster, event, NodeOrAll::All));
    } else {
        for node in &dropped {
            let id = node.id;
            script.push(DropNode {
                ids: vec![id],
                event_node: event,
            });
            script.push(echo(format!(
                "{} dropped from cluster {} (event node {event}); before adding it back, drop schema \"_{}\" in its database",
                node.label(),
                cluster.name,
                cluster.name
            )));
            // A node that applies the drop after a later `store path` for a re-added node
            // would delete the new paths with the old ones (seen on a real cluster), so
            // finish only when every node has processed it.
            script.push(echo(format!(
                "Waiting until every node has processed the drop of node {id}"
            )));
            script.extend(sync_and_wait(cluster, event, NodeOrAll::All));
        }
    }
    let mut next = cluster.clone();
    for &id in nodes {
        next = crate::transition::drop_node(&next, id, event).map_err(inconsistent(OP))?;
    }
    if let (Some((from, to)), Some(&id)) = (next.path_gap(), nodes.first()) {
        return Err(refuse(OP, Refusal::DropCutsPaths { node: id, from, to }));
    }
    finish(OP, script, next)
}

/// `uninstall-node NODE`: `uninstall node (id = N);`, removing Slony-I's schema from one
/// node marked failed (as a failover leaves it), for example before rebuilding it. A node
/// still in the cluster is refused: the other nodes would keep waiting for its
/// confirmations; drop it first, or remove Slony-I everywhere with [`uninstall_nodes`].
///
/// The failed node is in the script header (the statement connects to it), the other
/// nodes are untouched. The next state equals the input: the other nodes still list the
/// failed node until it is dropped (drop-node), so it stays in the config marked failed.
/// A node already dropped is no longer in the config; to uninstall it with this command,
/// put it back in the config with `failed = true`.
pub fn uninstall_node(cluster: &Cluster, node: NodeId) -> Result<Change, OpError> {
    const OP: &str = "uninstall-node";
    let target = known_node(cluster, node)?;
    if !target.failed {
        return Err(refuse(OP, Refusal::UninstallActiveNode { node }));
    }
    let mut script = crate::render::Script::new(
        cluster,
        cluster.active_nodes().map(|n| n.id).chain(std::iter::once(node)),
    )
    .map_err(|error| OpError::Render { operation: OP, error })?;
    script.push(UninstallNode { id: node });
    script.push(echo(format!(
        "Slony-I removed from {}; the other nodes list it until it is dropped (drop-node)",
        target.label()
    )));
    finish(OP, script, cluster.clone())
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
        let node = referenced_node(cluster, OP, id, || "a node to uninstall".into())?;
        script.push(UninstallNode { id });
        script.push(echo(format!("Slony-I removed from {}", node.label())));
    }
    finish(OP, script, crate::transition::uninstall(cluster))
}

/// `slonik_restart_node`: tell the slon of each node to restart (`all` = every node).
pub fn restart_nodes(cluster: &Cluster, nodes: &[NodeId]) -> Result<Change, OpError> {
    const OP: &str = "restart-node";
    let chosen: Vec<&Node> = if nodes.is_empty() {
        cluster.active_nodes().collect()
    } else {
        nodes
            .iter()
            .map(|id| active_node(cluster, OP, *id))
            .collect::<Result<_, _>>()?
    };
    let mut script = script_for(cluster, OP, &[])?;
    for node in chosen {
        script.push(RestartNode { id: node.id });
        script.push(echo(format!(
            "Restart requested for the slon of {}",
            node.label()
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

/// `sync NODE`: a SYNC event on the node, so that everything committed there so far is in
/// the next batch its subscribers apply. The script does not wait; `wait` does.
pub fn sync(cluster: &Cluster, node: NodeId) -> Result<Change, OpError> {
    const OP: &str = "sync";
    let label = active_node(cluster, OP, node)?.label();
    let mut script = script_for(cluster, OP, &[])?;
    script.push(crate::statement::Sync { id: node });
    script.push(echo(format!("SYNC generated on {label}")));
    finish(OP, script, cluster.clone())
}

/// `wait ORIGIN [--confirmed NODE]`: a catch-up point. slonik can only wait for an event
/// the same script generated, so this is a SYNC on ORIGIN and a `wait for event` until
/// NODE (default: every node) has confirmed it, bounded by `wait_timeout`.
pub fn wait(cluster: &Cluster, origin: NodeId, confirmed: Option<NodeId>) -> Result<Change, OpError> {
    const OP: &str = "wait";
    let label = active_node(cluster, OP, origin)?.label();
    let (target, who) = match confirmed {
        Some(node) if node == origin => return Err(refuse(OP, Refusal::WaitForItself { node })),
        Some(node) => (NodeOrAll::Node(node), active_node(cluster, OP, node)?.label()),
        None => (NodeOrAll::All, "every node".to_string()),
    };
    let mut script = script_for(cluster, OP, &[])?;
    script.push(echo(format!("Waiting until {who} has caught up with {label}")));
    script.extend(sync_and_wait(cluster, origin, target));
    script.push(echo(format!("{who} has caught up with {label}")));
    finish(OP, script, cluster.clone())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::version::SlonyVersion;

    /// Node 1 is the origin; node 2 subscribes and feeds node 3; node 4 is marked failed.
    fn cluster(version: SlonyVersion) -> Cluster {
        let toml = "cluster = \"c\"\n[[node]]\nid = 1\n[[node]]\nid = 2\n[[node]]\nid = 3\n\
            [[node]]\nid = 4\nfailed = true\n[[set]]\nid = 1\ntables = [\"t\"]\n\
            [[subscription]]\nset = 1\nreceiver = 2\n\
            [[subscription]]\nset = 1\nreceiver = 3\nprovider = 2\n";
        crate::load_config_str_for(toml, "nodes.toml", Some(version)).unwrap()
    }

    fn refusal(result: Result<Change, OpError>) -> String {
        match result {
            Err(OpError::Refusal { refusal, .. }) => refusal.to_string(),
            other => panic!("expected a refusal, got {other:?}"),
        }
    }

    #[test]
    fn dropping_several_nodes_is_one_statement_on_2_2_and_one_per_node_before() {
        for version in SlonyVersion::ALL {
            let change = drop_nodes(&cluster(version), &[NodeId(3), NodeId(2)], NodeId(1)).unwrap();
            let text = change.script.render().unwrap();
            if version >= SlonyVersion::V2_2 {
                assert!(text.contains("drop node (id = '3,2', event node = 1);"), "{text}");
                assert_eq!(text.matches("wait for event").count(), 1, "{text}");
            } else {
                let (three, two) = (
                    text.find("drop node (id = 3, event node = 1);").unwrap(),
                    text.find("drop node (id = 2, event node = 1);").unwrap(),
                );
                assert!(three < two, "{text}");
                assert_eq!(text.matches("wait for event").count(), 2, "{text}");
            }
            assert!(
                !text.contains("node 2 admin") && !text.contains("node 3 admin"),
                "{text}"
            );
            assert_eq!(
                change.next.nodes.keys().copied().collect::<Vec<_>>(),
                [NodeId(1), NodeId(4)]
            );
            let one = drop_node(&cluster(version), NodeId(3), NodeId(1)).unwrap();
            assert_eq!(
                one,
                drop_nodes(&cluster(version), &[NodeId(3)], NodeId(1)).unwrap()
            );
        }
    }

    #[test]
    fn dropping_several_nodes_refuses_what_one_would_and_the_event_node_among_them() {
        let c = cluster(SlonyVersion::V2_2);
        let reason = refusal(drop_nodes(&c, &[NodeId(2)], NodeId(1)));
        assert!(reason.contains("node 3 receives set 1 from node 2"), "{reason}");
        let reason = refusal(drop_nodes(&c, &[NodeId(3), NodeId(2)], NodeId(3)));
        assert!(reason.contains("both dropped and the event node"), "{reason}");
        let reason = refusal(drop_nodes(&c, &[NodeId(3), NodeId(3)], NodeId(1)));
        assert!(reason.contains("named twice"), "{reason}");
        let reason = refusal(drop_nodes(&c, &[NodeId(1), NodeId(2)], NodeId(3)));
        assert!(reason.contains("origin of set 1"), "{reason}");
        let reason = refusal(drop_nodes(&c, &[], NodeId(1)));
        assert!(reason.contains("no node to drop"), "{reason}");
    }

    #[test]
    fn uninstall_node_only_for_a_failed_node_which_stays_failed() {
        let c = cluster(SlonyVersion::V2_2);
        let change = uninstall_node(&c, NodeId(4)).unwrap();
        let text = change.script.render().unwrap();
        assert!(text.contains("node 4 admin conninfo"), "{text}");
        assert!(text.contains("uninstall node (id = 4);"), "{text}");
        assert_eq!(change.next, c);
        let reason = refusal(uninstall_node(&c, NodeId(3)));
        assert!(reason.contains("still in the cluster"), "{reason}");
    }
}
