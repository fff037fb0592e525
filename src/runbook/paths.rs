//! Paths a runbook step needs before it can run, for clusters with explicit `[[path]]`s.

use super::builder::Builder;
use super::text::and_list;
use crate::model::{NodeId, Paths};
use crate::ops::{self, OpError};

/// Stores the paths among `needed` (server, client) that the cluster does not have yet, in
/// one slonik step whose header leaves out `unreachable` nodes (dead ones), and moves the
/// state on to include them; nothing in the full mesh, where every path exists.
pub(super) fn ensure_paths(
    builder: &mut Builder,
    needed: &[(NodeId, NodeId)],
    unreachable: &[NodeId],
    why: &str,
) -> Result<(), OpError> {
    let state = builder.state();
    if !matches!(state.paths, Paths::Explicit(_)) {
        return Ok(());
    }
    let mut missing: Vec<(NodeId, NodeId)> = needed
        .iter()
        .copied()
        .filter(|(server, client)| {
            server != client
                && !unreachable.contains(server)
                && !unreachable.contains(client)
                && !state.has_path(*server, *client)
        })
        .collect();
    missing.sort();
    missing.dedup();
    if missing.is_empty() {
        return Ok(());
    }
    let mut next = state.clone();
    let mut script = ops::script_for(state, builder.operation(), unreachable)?;
    for &(server, client) in &missing {
        let change = ops::store_path(&next, server, client)?;
        script.statements.extend(change.script.statements);
        next = change.next;
    }
    let list: Vec<String> = missing
        .iter()
        .map(|(s, c)| format!("node {c} to node {s}"))
        .collect();
    builder.slonik(
        format!("Store the missing paths: {}", and_list(&list)),
        format!("The config lists its paths ([[path]]) and these are not among them; {why}"),
        script,
        None,
    )?;
    builder.set_state(next);
    Ok(())
}
