//! `show`: the resolved configuration of a cluster as a person reads it (altperl's
//! `slony_show_configuration`): nodes, conninfo, sets with their id ranges, subscriptions
//! and each set's cascade tree.
//!
//! Pure: takes a [`Cluster`], returns text. Every user text goes through
//! [`escape::visible`] (a `Cluster` built in code may hold control characters that
//! validation would have refused) and the whole text through
//! [`conninfo::redact_secrets`], so no password reaches the terminal.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use crate::escape;
use crate::model::conninfo::{self, ConnectionParts};
use crate::model::{Cluster, NodeId, SetId};

/// The cluster described for a person to read, one section per kind of object.
///
/// ```
/// let toml = r#"
///     cluster = "replication"
///     [[node]]
///     id = 1
///     name = "MasNod"
///     host = "MasNod"
///     password = "s3cret"
///     [[node]]
///     id = 2
///     host = "SlaNod"
///     [[set]]
///     id = 1
///     tables = ["files", "additional_roll", { name = "audit", id = 9 }]
///     [[subscription]]
///     set = "set1"
///     receiver = 2
/// "#;
/// let cluster = slonik_gen::load_config_str(toml, "example.toml").unwrap();
/// let text = slonik_gen::show::show(&cluster);
/// assert!(text.starts_with("cluster replication"));
/// assert!(text.contains("tables:    3 (ids 1-2, 9)"));
/// assert!(text.contains("1 (MasNod) [origin]\n    └─ 2 [forwards]"));
/// assert!(!text.contains("s3cret"));
/// ```
pub fn show(cluster: &Cluster) -> String {
    let mut out = String::new();
    // `fmt::Write` for a String cannot fail; ignoring its result keeps this panic-free.
    let _ = write_overview(cluster, &mut out);
    conninfo::redact_secrets(&out).into_owned()
}

fn write_overview(cluster: &Cluster, out: &mut String) -> std::fmt::Result {
    writeln!(out, "cluster {}", visible(&cluster.name))?;
    writeln!(out, "  Slony-I version: {}", cluster.version)?;
    writeln!(
        out,
        "  default origin:  {}",
        node_label(cluster, cluster.default_origin)
    )?;

    writeln!(out)?;
    writeln!(out, "nodes ({})", cluster.nodes.len())?;
    for node in cluster.nodes.values() {
        let mut flags = Vec::new();
        if node.failed {
            flags.push("failed");
        }
        if !node.forward {
            flags.push("does not forward");
        }
        let flags = if flags.is_empty() {
            String::new()
        } else {
            format!(" [{}]", flags.join(", "))
        };
        writeln!(out, "  {}{flags}", node_label(cluster, node.id))?;
        if let Some(comment) = &node.comment {
            writeln!(out, "    comment:  {}", visible(comment))?;
        }
        let admin = conninfo_line(&node.admin);
        writeln!(out, "    admin:    {admin}")?;
        let path = conninfo_line(&node.path_connection());
        if path != admin {
            writeln!(out, "    path:     {path}")?;
        }
        if let Some(provider) = node.provider {
            writeln!(out, "    provider: {}", node_label(cluster, provider))?;
        }
        if let Some(run) = crate::slon::run::SlonRun::of(cluster, node.id) {
            writeln!(out, "    slon:     {}", visible(&run.describe()))?;
        }
    }

    writeln!(out)?;
    writeln!(out, "sets ({})", cluster.sets.len())?;
    for set in cluster.sets.values() {
        writeln!(out, "  {}", set_label(cluster, set.id))?;
        writeln!(out, "    origin:    {}", node_label(cluster, set.origin))?;
        if let Some(comment) = &set.comment {
            writeln!(out, "    comment:   {}", visible(comment))?;
        }
        let tables = id_ranges(set.tables.iter().map(|t| t.id.0));
        let sequences = id_ranges(set.sequences.iter().map(|s| s.id.0));
        writeln!(out, "    tables:    {}{tables}", set.tables.len())?;
        writeln!(out, "    sequences: {}{sequences}", set.sequences.len())?;
    }

    writeln!(out)?;
    writeln!(out, "subscriptions ({})", cluster.subscriptions.len())?;
    for sub in cluster.subscriptions.values() {
        writeln!(
            out,
            "  {}: {} from {}{}",
            set_label(cluster, sub.set),
            node_label(cluster, sub.receiver),
            node_label(cluster, sub.provider),
            if sub.forward {
                ", forwards"
            } else {
                ", does not forward"
            }
        )?;
    }

    writeln!(out)?;
    writeln!(out, "cascade")?;
    for set in cluster.sets.values() {
        writeln!(out, "  {}", set_label(cluster, set.id))?;
        write_tree(cluster, set.id, set.origin, out)?;
    }
    Ok(())
}

/// The set's tree from its origin down. Walked with an explicit stack and a visited set:
/// a `Cluster` built in code may hold a provider cycle or a cascade deep enough to
/// overflow a recursive walk, and neither may panic.
fn write_tree(cluster: &Cluster, set: SetId, origin: NodeId, out: &mut String) -> std::fmt::Result {
    let mut children: BTreeMap<NodeId, Vec<(NodeId, bool)>> = BTreeMap::new();
    for sub in cluster.subscribers(set) {
        children
            .entry(sub.provider)
            .or_default()
            .push((sub.receiver, sub.forward));
    }
    writeln!(out, "    {} [origin]", node_label(cluster, origin))?;
    let mut seen = BTreeSet::from([origin]);
    // (node, forward, indent of its children, is the last child)
    let mut stack: Vec<(NodeId, bool, String, bool)> = Vec::new();
    push_children(&children, origin, "    ", &mut stack);
    while let Some((node, forward, indent, last)) = stack.pop() {
        let branch = if last { "└─ " } else { "├─ " };
        let note = if forward { " [forwards]" } else { "" };
        if !seen.insert(node) {
            writeln!(
                out,
                "{indent}{branch}{}{note} [already shown above: provider cycle]",
                node_label(cluster, node)
            )?;
            continue;
        }
        writeln!(out, "{indent}{branch}{}{note}", node_label(cluster, node))?;
        let child_indent = format!("{indent}{}", if last { "   " } else { "│  " });
        push_children(&children, node, &child_indent, &mut stack);
    }
    // Receivers whose provider chain never reaches the origin (only possible in a
    // `Cluster` built in code) would otherwise vanish from the picture.
    let unreached: Vec<String> = cluster
        .subscribers(set)
        .filter(|sub| !seen.contains(&sub.receiver))
        .map(|sub| {
            format!(
                "{} from {}",
                node_label(cluster, sub.receiver),
                node_label(cluster, sub.provider)
            )
        })
        .collect();
    if !unreached.is_empty() {
        writeln!(out, "    not reached from the origin: {}", unreached.join("; "))?;
    }
    Ok(())
}

/// Pushes `node`'s children in reverse id order, so that they pop in id order.
fn push_children(
    children: &BTreeMap<NodeId, Vec<(NodeId, bool)>>,
    node: NodeId,
    indent: &str,
    stack: &mut Vec<(NodeId, bool, String, bool)>,
) {
    let Some(list) = children.get(&node) else {
        return;
    };
    let mut list = list.clone();
    list.sort();
    for (i, (child, forward)) in list.iter().enumerate().rev() {
        stack.push((*child, *forward, indent.to_string(), i + 1 == list.len()));
    }
}

/// `1 (MasNod)`, `3`, or `7 (not a node)` for an id no node has.
fn node_label(cluster: &Cluster, id: NodeId) -> String {
    match cluster.nodes.get(&id) {
        Some(node) => match &node.name {
            Some(name) => format!("{id} ({})", visible(name)),
            None => id.to_string(),
        },
        None => format!("{id} (not a node)"),
    }
}

/// `set 1 (set1)`, or `set 7 (not a set)` for an id no set has.
fn set_label(cluster: &Cluster, id: SetId) -> String {
    match cluster.sets.get(&id) {
        Some(set) => format!("set {id} ({})", visible(&set.name)),
        None => format!("set {id} (not a set)"),
    }
}

/// The libpq text of `parts`, written whatever the target version could carry (this is
/// for reading, not for slonik), control characters made visible and passwords hidden.
fn conninfo_line(parts: &ConnectionParts) -> String {
    let text = parts
        .params()
        .iter()
        .map(|(key, value)| format!("{key}={}", conninfo::value_text(value)))
        .collect::<Vec<_>>()
        .join(" ");
    // Visible first: a line break inside a password would end redaction's line early.
    let text = visible(&text);
    conninfo::redact_secrets(&text).into_owned()
}

fn visible(text: &str) -> std::borrow::Cow<'_, str> {
    escape::visible(text)
}

/// ` (ids 1-40, 45, 50-52)` for the ids given (in any order, duplicates ignored), or
/// nothing when there are none.
fn id_ranges(ids: impl IntoIterator<Item = u32>) -> String {
    let ids: BTreeSet<u32> = ids.into_iter().collect();
    let mut ranges: Vec<(u32, u32)> = Vec::new();
    for id in ids {
        match ranges.last_mut() {
            Some((_, end)) if end.checked_add(1) == Some(id) => *end = id,
            _ => ranges.push((id, id)),
        }
    }
    if ranges.is_empty() {
        return String::new();
    }
    let parts: Vec<String> = ranges
        .into_iter()
        .map(|(start, end)| {
            if start == end {
                start.to_string()
            } else {
                format!("{start}-{end}")
            }
        })
        .collect();
    format!(" (ids {})", parts.join(", "))
}

#[cfg(test)]
mod tests {
    use super::id_ranges;

    #[test]
    fn ranges_are_compact() {
        assert_eq!(id_ranges([]), "");
        assert_eq!(id_ranges([3]), " (ids 3)");
        assert_eq!(id_ranges([52, 1, 2, 45, 50, 51, 3]), " (ids 1-3, 45, 50-52)");
        assert_eq!(
            id_ranges([u32::MAX, u32::MAX - 1]),
            " (ids 4294967294-4294967295)"
        );
    }
}
