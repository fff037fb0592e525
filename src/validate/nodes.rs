//! The `[[node]]` entries: ids, references to other nodes, slon commands.

use std::collections::BTreeMap;

use super::{check_id, Problem};
use crate::model::config::ConfigFile;
use crate::model::ids::NodeId;
use crate::model::Node;

pub(super) fn check_node_ref(nodes: &BTreeMap<NodeId, Node>, item: &str, node: NodeId, p: &mut Vec<Problem>) {
    match nodes.get(&node) {
        None => p.push(Problem::UnknownNode {
            item: item.to_string(),
            node,
        }),
        Some(n) if n.failed => p.push(Problem::FailedNode {
            item: item.to_string(),
            node,
        }),
        Some(_) => {}
    }
}

/// The members and the dropped nodes (`dropped = true`), by id.
pub(super) type Roster = (BTreeMap<NodeId, Node>, BTreeMap<NodeId, Node>);

pub(super) fn build_nodes(config: &ConfigFile, p: &mut Vec<Problem>) -> Roster {
    if config.nodes.iter().all(|n| n.dropped) {
        p.push(Problem::NoNodes);
    }
    let mut nodes = BTreeMap::new();
    let mut dropped = BTreeMap::new();
    for n in &config.nodes {
        check_id(&format!("node {}", n.id), "node", n.id.0.into(), p);
        let node = Node {
            id: n.id,
            name: n.name.clone(),
            comment: n.comment.clone(),
            admin: n.connection(),
            path_overrides: n.path.clone(),
            provider: n.provider,
            forward: n.forward,
            failed: n.failed,
            slon_start: n.slon_start.clone(),
            slon_stop: n.slon_stop.clone(),
            slon: n.slon.clone(),
            daemon: n.daemon.clone(),
        };
        for (key, command) in [("slon_start", &n.slon_start), ("slon_stop", &n.slon_stop)] {
            if let Some(reason) = command.as_deref().and_then(command_problem) {
                p.push(Problem::BadCommand {
                    item: format!("node {} {key}", n.id),
                    reason,
                });
            }
        }
        if n.dropped && n.failed {
            p.push(Problem::DroppedAndFailed { node: n.id });
        }
        let twice = if n.dropped {
            nodes.contains_key(&n.id) || dropped.insert(n.id, node).is_some()
        } else {
            dropped.contains_key(&n.id) || nodes.insert(n.id, node).is_some()
        };
        if twice {
            p.push(Problem::DuplicateNode { node: n.id });
        }
    }
    // A node's provider is where it receives from when every node is up: a failed or
    // dropped node may be it (the node goes back to it after the failback).
    for n in nodes.values().chain(dropped.values()) {
        if let Some(provider) = n.provider {
            if !nodes.contains_key(&provider) && !dropped.contains_key(&provider) {
                p.push(Problem::UnknownNode {
                    item: format!("node {} provider", n.id),
                    node: provider,
                });
            }
        }
    }
    (nodes, dropped)
}

/// Why a configured shell command cannot be used, if it cannot. Runbooks print it as one
/// line of a shell script and of a Markdown code block; a line break (a control
/// character) is reported by [`check_control_characters`].
fn command_problem(command: &str) -> Option<&'static str> {
    if command.trim().is_empty() {
        Some("is empty: give the command, or leave the key out to use the default slon command line")
    } else {
        None
    }
}
