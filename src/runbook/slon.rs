//! Reaching a node from a step: its admin conninfo (what psql, pg_dump and slon take) and
//! the commands that start and stop its slon.

use super::plan::NodeAccess;
use crate::model::conninfo::{conninfo_text, ConninfoUse};
use crate::model::{Cluster, Node, NodeId};
use crate::ops::{refuse, OpError, Refusal};

pub(super) fn access(cluster: &Cluster, operation: &'static str, node: &Node) -> Result<NodeAccess, OpError> {
    let conninfo = admin_conninfo(cluster, operation, node, node.label())?;
    Ok(NodeAccess {
        label: node.label(),
        conninfo,
    })
}

/// The node's admin conninfo for the target version; a refusal names the node as
/// `node_label`.
pub(super) fn admin_conninfo(
    cluster: &Cluster,
    operation: &'static str,
    node: &Node,
    node_label: String,
) -> Result<String, OpError> {
    conninfo_text(&node.admin.params(), ConninfoUse::Admin, cluster.version).map_err(|problems| {
        refuse(
            operation,
            Refusal::AdminConninfo {
                node: node.id,
                node_label,
                problems,
            },
        )
    })
}

/// The file stem of the default slon pid and log files of a node.
fn slon_file_stem(cluster: &Cluster, node: NodeId) -> String {
    format!("slon-{}-node{node}", cluster.name)
}

/// The command that starts a node's slon: the configured `slon_start`, else a plain `slon`
/// in the background with a pid file and a log in the current directory.
pub fn slon_start_command(cluster: &Cluster, node: &Node) -> Result<String, OpError> {
    if let Some(command) = &node.slon_start {
        return Ok(command.clone());
    }
    let conninfo = admin_conninfo(cluster, "slon start", node, node.label())?;
    let stem = slon_file_stem(cluster, node.id);
    Ok(format!(
        "nohup slon -p {} {} {} >>{} 2>&1 &",
        crate::escape::shell::word(&format!("{stem}.pid")),
        crate::escape::shell::word(&cluster.name),
        crate::escape::shell::word(&conninfo),
        crate::escape::shell::word(&format!("{stem}.log")),
    ))
}

/// The command that stops a node's slon: the configured `slon_stop`, else a `kill` of the
/// pid the default start command wrote, waiting until that slon has exited so that
/// nothing holds the node's catalog when the next step changes it.
pub fn slon_stop_command(cluster: &Cluster, node: &Node) -> String {
    if let Some(command) = &node.slon_stop {
        return command.clone();
    }
    let pid_file = crate::escape::shell::word(&format!("{}.pid", slon_file_stem(cluster, node.id)));
    format!(
        "pid=$(cat {pid_file}) && kill \"$pid\" && while kill -0 \"$pid\" 2>/dev/null; do sleep 1; done && rm -f {pid_file}"
    )
}
