//! Writing the state after a plan into the user's own config file.
//!
//! The scenario's operator edited `$MASTERNODE` by hand, twice, mid-incident. Here the
//! config is edited by the tool, and only where the state changed: set origins, tables
//! added to a set, subscriptions (provider, forward, added, removed), failed and dropped
//! nodes, node providers and the default origin. Everything else (comments, key order,
//! blank lines, the short `tables = ["files"]` forms) stays as the user wrote it, through
//! `toml_edit`. The result is loaded again and must describe exactly the plan's next
//! state; otherwise nothing is written and the error says why.
//!
//! A set's `tables_file` / `sequences_file` stays as it is: the file's entries count as
//! already written, and new tables are appended inline (after the file's, so no id moves).
//! When the result goes to another directory, relative list paths are made absolute so
//! they still name the same files.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use toml_edit::{Array, ArrayOfTables, DocumentMut, InlineTable, Item, Table, Value};

use crate::model::config::{ConfigFile, SetRef, TableEntry};
use crate::model::table_list::{self, ListKind};
use crate::model::{Cluster, NodeId, QualifiedName, SetId};
use crate::ops::OpError;
use crate::version::SlonyVersion;
use crate::{Error, Result};

const OP: &str = "write-config";

fn refused(path: &Path, reason: impl std::fmt::Display) -> Error {
    Error::Operation(OpError::Refused {
        operation: OP,
        reason: format!("{}: {reason}", path.display()),
    })
}

/// Reads the config at `config`, writes it with the state `next` to `out` (which may be
/// the same file), keeping comments and layout. The write is atomic
/// ([`crate::atomic_file`]): on any error `out` is left as it was.
pub fn write_config(config: &Path, version: Option<SlonyVersion>, next: &Cluster, out: &Path) -> Result<()> {
    let staged = stage_config(config, version, next, out)?;
    staged.commit().map_err(|source| Error::WriteConfig {
        path: out.to_path_buf(),
        source,
    })
}

/// [`write_config`] up to the last step: the updated config is written and synced under a
/// temporary name beside `out`, with the mode of `config` (narrowed to that of `out` when
/// it exists, at most 0600 when `next` holds a password), and `out` is untouched until
/// [`crate::cli_support::commit_config`] puts it in place.
pub fn stage_config(
    config: &Path,
    version: Option<SlonyVersion>,
    next: &Cluster,
    out: &Path,
) -> Result<crate::atomic_file::Staged> {
    let original = std::fs::read_to_string(config).map_err(|source| Error::ReadConfig {
        path: config.to_path_buf(),
        source,
    })?;
    let text = updated_config_at(&original, config, out, version, next)?;
    crate::cli_support::stage_config(&text, next, Some(config), out)
}

/// The text of the config `original` (read from `path`, for messages) changed to describe
/// `next`, or an error when the file cannot express it without a rewrite.
pub fn updated_config(
    original: &str,
    path: &Path,
    version: Option<SlonyVersion>,
    next: &Cluster,
) -> Result<String> {
    updated_config_at(original, path, path, version, next)
}

/// [`updated_config`] for a result that will be written to `out`.
fn updated_config_at(
    original: &str,
    path: &Path,
    out: &Path,
    version: Option<SlonyVersion>,
    next: &Cluster,
) -> Result<String> {
    let mut doc: DocumentMut = original
        .parse()
        .map_err(|e: toml_edit::TomlError| Error::ParseConfig {
            message: e.to_string(),
            path: path.to_path_buf(),
        })?;
    let mut file: ConfigFile = toml::from_str(original).map_err(|e| Error::ParseConfig {
        message: e.to_string(),
        path: path.to_path_buf(),
    })?;
    table_list::expand_list_files(&mut file, path)?;

    update_default_origin(&mut doc, next);
    update_nodes(&mut doc, next);
    update_sets(&mut doc, &file, next, path)?;
    update_subscriptions(&mut doc, &file, next);
    rebase_list_files(&mut doc, path, out)?;

    let text = doc.to_string();
    // Every layout slonik-gen itself writes is edited above; what remains is a layout it
    // does not know, where only a person can decide what the file should say.
    const ADVICE: &str = "nothing was written: edit the file by hand to that state, and please report the layout that could not be edited";
    let reloaded = crate::load_config_str_for(&text, out, version).map_err(|e| {
        refused(
            path,
            format!(
                "the updated file does not load ({}); {ADVICE}",
                crate::error::one_line(&e)
            ),
        )
    })?;
    if &reloaded != next {
        return Err(refused(
            path,
            format!(
                "the file's layout cannot express the new state: as edited it would read {}; {ADVICE}",
                difference(&reloaded, next)
            ),
        ));
    }
    Ok(text)
}

/// What differs between the state a file would read as (`got`) and the state it should
/// describe (`wanted`), as `X instead of Y` clauses; names made visible for a terminal.
fn difference(got: &Cluster, wanted: &Cluster) -> String {
    use crate::escape::visible;
    let mut clauses = Vec::new();
    let (got_summary, wanted_summary) = (
        super::catalog::state_summary(got),
        super::catalog::state_summary(wanted),
    );
    if got_summary != wanted_summary {
        clauses.push(format!("`{got_summary}` instead of `{wanted_summary}`"));
    }
    if got.default_origin != wanted.default_origin {
        clauses.push(format!(
            "default_origin {} instead of {}",
            got.default_origin, wanted.default_origin
        ));
    }
    for (id, set) in &wanted.sets {
        let Some(had) = got.sets.get(id) else { continue };
        let label = visible(&set.label()).into_owned();
        let list = |items: Vec<(String, u32)>| {
            if items.is_empty() {
                "none".to_string()
            } else {
                items
                    .iter()
                    .map(|(name, id)| format!("{}={id}", visible(name)))
                    .collect::<Vec<_>>()
                    .join(" ")
            }
        };
        let tables =
            |s: &crate::model::Set| list(s.tables.iter().map(|t| (t.name.to_string(), t.id.0)).collect());
        let sequences =
            |s: &crate::model::Set| list(s.sequences.iter().map(|q| (q.name.to_string(), q.id.0)).collect());
        if tables(had) != tables(set) {
            clauses.push(format!(
                "{label} tables `{}` instead of `{}`",
                tables(had),
                tables(set)
            ));
        }
        if sequences(had) != sequences(set) {
            clauses.push(format!(
                "{label} sequences `{}` instead of `{}`",
                sequences(had),
                sequences(set)
            ));
        }
    }
    for (id, node) in &wanted.nodes {
        let Some(had) = got.nodes.get(id) else { continue };
        if (had.provider, had.forward) != (node.provider, node.forward) {
            clauses.push(format!(
                "{} provider {:?} forward {} instead of provider {:?} forward {}",
                visible(&node.label()),
                had.provider.map(|p| p.0),
                had.forward,
                node.provider.map(|p| p.0),
                node.forward
            ));
        }
    }
    if clauses.is_empty() {
        // Nothing named above differs: say so rather than print two equal states.
        clauses.push(
            "differently in a detail other than nodes, origins, subscriptions, providers, tables and sequences"
                .to_string(),
        );
    }
    clauses.join("; ")
}

/// Sets `key` to `value`, keeping the comment after the old value.
fn set_value(table: &mut Table, key: &str, value: impl Into<Value>) {
    let mut value = value.into();
    if let Some(old) = table.get(key).and_then(Item::as_value) {
        *value.decor_mut() = old.decor().clone();
    }
    table.insert(key, Item::Value(value));
}

fn int_of(table: &Table, key: &str) -> Option<i64> {
    table.get(key).and_then(Item::as_integer)
}

fn node_value(id: NodeId) -> i64 {
    i64::from(id.0)
}

fn update_default_origin(doc: &mut DocumentMut, next: &Cluster) {
    let written = int_of(doc.as_table(), "default_origin");
    let implied = next.nodes.keys().next().map(|n| node_value(*n));
    let wanted = node_value(next.default_origin);
    match written {
        Some(v) if v != wanted => set_value(doc.as_table_mut(), "default_origin", wanted),
        None if implied != Some(wanted) => set_value(doc.as_table_mut(), "default_origin", wanted),
        _ => {}
    }
}

fn array_of_tables<'a>(doc: &'a mut DocumentMut, key: &str) -> Option<&'a mut ArrayOfTables> {
    doc.get_mut(key).and_then(Item::as_array_of_tables_mut)
}

fn update_nodes(doc: &mut DocumentMut, next: &Cluster) {
    let Some(nodes) = array_of_tables(doc, "node") else {
        return;
    };
    nodes.retain(|t| int_of(t, "id").is_none_or(|id| next.nodes.contains_key(&NodeId(id as u32))));
    for table in nodes.iter_mut() {
        let Some(id) = int_of(table, "id") else { continue };
        let node = &next.nodes[&NodeId(id as u32)];
        let failed = table.get("failed").and_then(Item::as_bool).unwrap_or(false);
        if node.failed && !failed {
            set_value(table, "failed", true);
        } else if !node.failed && failed {
            table.remove("failed");
        }
        let provider = int_of(table, "provider");
        match node.provider {
            Some(p) if provider != Some(node_value(p)) => set_value(table, "provider", node_value(p)),
            None if provider.is_some() => {
                table.remove("provider");
            }
            _ => {}
        }
    }
}

/// The set a `[[set]]` table describes, by its id.
fn set_id_of(table: &Table) -> Option<SetId> {
    int_of(table, "id").map(|id| SetId(id as u32))
}

fn entry_name(entry: &TableEntry, default_schema: &str) -> QualifiedName {
    QualifiedName::new(
        entry.schema.clone().unwrap_or_else(|| default_schema.to_string()),
        entry.name.clone(),
    )
}

fn update_sets(doc: &mut DocumentMut, file: &ConfigFile, next: &Cluster, path: &Path) -> Result<()> {
    let missing: Vec<String> = next
        .sets
        .values()
        .filter(|s| !file.sets.iter().any(|f| f.id == s.id))
        .map(|s| s.label())
        .collect();
    if !missing.is_empty() {
        return Err(refused(
            path,
            format!(
                "{} would be new to the file, which slonik-gen does not add by itself; nothing was written",
                missing.join(", ")
            ),
        ));
    }
    let Some(sets) = array_of_tables(doc, "set") else {
        return Ok(());
    };
    sets.retain(|t| set_id_of(t).is_none_or(|id| next.sets.contains_key(&id)));
    for table in sets.iter_mut() {
        let Some(id) = set_id_of(table) else { continue };
        let set = &next.sets[&id];
        let Some(written) = file.sets.iter().find(|f| f.id == id) else {
            continue;
        };
        let origin = written.origin.unwrap_or(next.default_origin);
        if written.origin.is_some() && origin != set.origin
            || written.origin.is_none() && next.default_origin != set.origin
        {
            set_value(table, "origin", node_value(set.origin));
        }
        let default_schema = written.default_schema.clone().unwrap_or_else(|| "public".into());
        let known_tables: BTreeSet<QualifiedName> = written
            .tables
            .iter()
            .map(|t| entry_name(t, &default_schema))
            .collect();
        let new_tables: Vec<InlineTable> = set
            .tables
            .iter()
            .filter(|t| !known_tables.contains(&t.name))
            .map(|t| relation_entry(&t.name, t.id.0))
            .collect();
        append_entries(table, "tables", new_tables);
        let known_sequences: BTreeSet<QualifiedName> = written
            .sequences
            .iter()
            .map(|t| entry_name(t, &default_schema))
            .collect();
        let new_sequences: Vec<InlineTable> = set
            .sequences
            .iter()
            .filter(|s| !known_sequences.contains(&s.name))
            .map(|s| relation_entry(&s.name, s.id.0))
            .collect();
        append_entries(table, "sequences", new_sequences);
    }
    Ok(())
}

/// The directory a config at `path` resolves list files against, absolute where possible.
fn config_dir(path: &Path) -> PathBuf {
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    dir.canonicalize()
        .or_else(|_| std::path::absolute(dir))
        .unwrap_or_else(|_| dir.to_path_buf())
}

/// Makes relative `tables_file` / `sequences_file` paths absolute when the config read from
/// `path` is written to `out` in another directory, so they keep naming the same files.
fn rebase_list_files(doc: &mut DocumentMut, path: &Path, out: &Path) -> Result<()> {
    if config_dir(path) == config_dir(out) {
        return Ok(());
    }
    let Some(sets) = array_of_tables(doc, "set") else {
        return Ok(());
    };
    for table in sets.iter_mut() {
        for key in [ListKind::Tables.key(), ListKind::Sequences.key()] {
            let Some(file) = table.get(key).and_then(Item::as_str) else {
                continue;
            };
            if Path::new(file).is_absolute() {
                continue;
            }
            let resolved = table_list::resolve(path, file);
            let absolute = std::path::absolute(&resolved).unwrap_or(resolved);
            let Some(absolute) = absolute.to_str().map(str::to_string) else {
                return Err(refused(
                    path,
                    format!(
                        "{key} {} is not UTF-8 and cannot be written as an absolute path; nothing was written: write the config next to the list file instead",
                        absolute.display()
                    ),
                ));
            };
            set_value(table, key, absolute);
        }
    }
    Ok(())
}

/// `{ name = "t", schema = "s", id = 7 }`: the id is explicit, so ids allocated later in
/// the file never shift.
fn relation_entry(name: &QualifiedName, id: u32) -> InlineTable {
    let mut entry = InlineTable::new();
    entry.insert("name", Value::from(name.name.as_str()));
    entry.insert("schema", Value::from(name.schema.as_str()));
    entry.insert("id", Value::from(i64::from(id)));
    entry
}

/// Appends new `tables` / `sequences` entries in the layout the set already uses: a
/// `[[set.tables]]` array of tables gets more tables, an inline `tables = [...]` list more
/// inline tables (each on its own line when the list is written one entry a line), and a
/// set without the key (all its entries in a list file, or none yet) a new inline list.
fn append_entries(table: &mut Table, key: &str, entries: Vec<InlineTable>) {
    if entries.is_empty() {
        return;
    }
    match table.get_mut(key) {
        Some(Item::ArrayOfTables(tables)) => {
            for entry in entries {
                tables.push(entry.into_table());
            }
        }
        Some(Item::Value(Value::Array(array))) => append_to_list(array, entries),
        _ => {
            let mut array = Array::new();
            for entry in entries {
                array.push(Value::InlineTable(entry));
            }
            table.insert(key, Item::Value(Value::Array(array)));
        }
    }
}

/// Pushes `entries` onto an inline array, copying the whitespace before its last entry so
/// that a multi-line list stays one entry a line. A list written on one line is first
/// spread over one entry a line, so every new entry is on a line of its own (and the next
/// addition is a one-line diff).
fn append_to_list(array: &mut Array, entries: Vec<InlineTable>) {
    let multi_line = |array: &Array| {
        array
            .iter()
            .last()
            .and_then(|last| last.decor().prefix())
            .and_then(|p| p.as_str())
            .filter(|p| p.contains('\n'))
            .map(str::to_string)
    };
    let prefix = multi_line(array).or_else(|| {
        for value in array.iter_mut() {
            value.decor_mut().set_prefix("\n    ");
            value.decor_mut().set_suffix("");
        }
        array.set_trailing_comma(true);
        array.set_trailing("\n");
        Some("\n    ".to_string())
    });
    if prefix.is_some() && !array.trailing_comma() {
        // `"b"\n]`: the line break before `]` is the last entry's suffix; make it the
        // list's trailing whitespace so the new entries come before it, not after it.
        if let Some(last) = array.iter_mut().last() {
            let suffix = last
                .decor()
                .suffix()
                .and_then(|s| s.as_str())
                .unwrap_or("")
                .to_string();
            if suffix.trim().is_empty() {
                last.decor_mut().set_suffix("");
                let trailing = format!("{suffix}{}", array.trailing().as_str().unwrap_or(""));
                array.set_trailing(trailing);
            }
        }
    }
    for entry in entries {
        let mut value = Value::InlineTable(entry);
        match &prefix {
            Some(prefix) => {
                value.decor_mut().set_prefix(prefix.as_str());
                value.decor_mut().set_suffix("");
                array.push_formatted(value);
            }
            None => array.push(value),
        }
    }
}

/// The set a `[[subscription]]` refers to, resolved the way validation does.
fn subscription_set(next: &Cluster, set: &SetRef) -> Option<SetId> {
    match set {
        SetRef::Id(id) => Some(SetId(*id)),
        SetRef::Name(name) => next.set_arg(name),
    }
}

fn update_subscriptions(doc: &mut DocumentMut, file: &ConfigFile, next: &Cluster) {
    let keys: Vec<Option<(SetId, NodeId)>> = file
        .subscriptions
        .iter()
        .map(|s| subscription_set(next, &s.set).map(|set| (set, s.receiver)))
        .collect();
    let mut covered = Vec::new();
    if let Some(subs) = array_of_tables(doc, "subscription") {
        let mut index = 0;
        subs.retain(|_| {
            let keep = keys
                .get(index)
                .copied()
                .flatten()
                .is_some_and(|key| next.subscriptions.contains_key(&key));
            index += 1;
            keep
        });
        let kept: Vec<((SetId, NodeId), &crate::model::config::SubscriptionConfig)> = keys
            .iter()
            .zip(&file.subscriptions)
            .filter_map(|(key, written)| {
                key.filter(|k| next.subscriptions.contains_key(k))
                    .map(|k| (k, written))
            })
            .collect();
        for (table, (key, written)) in subs.iter_mut().zip(kept) {
            covered.push(key);
            let sub = &next.subscriptions[&key];
            let receiver = &next.nodes[&key.1];
            let implied_provider = receiver.provider.unwrap_or(next.sets[&key.0].origin);
            if written.provider.unwrap_or(implied_provider) != sub.provider {
                set_value(table, "provider", node_value(sub.provider));
            }
            if written.forward.unwrap_or(receiver.forward) != sub.forward {
                set_value(table, "forward", sub.forward);
            }
        }
    }
    let added: Vec<Table> = next
        .subscriptions
        .iter()
        .filter(|(key, _)| !covered.contains(key))
        .map(|(_, sub)| {
            let mut table = Table::new();
            table.insert("set", Item::Value(Value::from(next.sets[&sub.set].name.as_str())));
            table.insert("receiver", Item::Value(Value::from(node_value(sub.receiver))));
            table.insert("provider", Item::Value(Value::from(node_value(sub.provider))));
            table.insert("forward", Item::Value(Value::from(sub.forward)));
            table
        })
        .collect();
    if added.is_empty() {
        return;
    }
    if array_of_tables(doc, "subscription").is_none() {
        doc.insert("subscription", Item::ArrayOfTables(ArrayOfTables::new()));
    }
    if let Some(subs) = array_of_tables(doc, "subscription") {
        for table in added {
            subs.push(table);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refusal_names_the_difference_even_when_the_summaries_agree() {
        let wanted = crate::load_config("examples/geekdb.toml", None).unwrap();
        let mut got = wanted.clone();
        let set = got.sets.get_mut(&SetId(1)).unwrap();
        std::sync::Arc::make_mut(&mut set.tables).truncate(1);
        assert_eq!(
            super::super::catalog::state_summary(&got),
            super::super::catalog::state_summary(&wanted)
        );
        let message = difference(&got, &wanted);
        assert_eq!(
            message,
            "set 1 (set1) tables `geekdb.files=1` instead of `geekdb.files=1 geekdb.additional_roll=2`"
        );
    }
}
