//! Writing a new state into the user's own config file.
//!
//! The scenario's operator edited `$MASTERNODE` by hand, twice, mid-incident. Here the
//! config is edited by the tool, and only where the state changed; everything else
//! (comments, key order, blank lines, the short `tables = ["files"]` forms) stays as the
//! user wrote it, through `toml_edit`. What is compared is the state the file loads to
//! before and after, so a value the file leaves implicit (a set's origin from
//! `default_origin`, a subscription's provider from the node) is written only when the
//! implied value would be wrong.
//!
//! * Nodes: dropped nodes lose their `[[node]]`, new ones get one at the end of the nodes;
//!   any changed key of a kept node (`failed`, `dropped`, `provider`, `forward`, a
//!   connection part) is set or removed. A node `failover --drop-dead` dropped keeps its
//!   `[[node]]`, marked `dropped = true` ([`Cluster::dropped_nodes`]).
//! * Sets: dropped (and merged-away) sets lose their `[[set]]`, new ones get one written
//!   in the compact form; a kept set's `name`, `origin`, `comment` change in place. New
//!   tables and sequences are appended with explicit ids (so no id after them moves),
//!   dropped ones are removed from the list, keeping the others' layout.
//! * Subscriptions: removed, added (where they sort by set and receiver when the file
//!   lists them in that order, else at the end) or changed in place.
//! * Ids: removing an entry the allocator numbered moves the allocator for everything
//!   after it. The result is loaded again; each set whose ids came out different gets its
//!   ids written explicitly on its entries, until every id is right.
//!
//! A set's `tables_file` / `sequences_file` is the user's file, and may be what another
//! config reads too, so it is never rewritten. Its entries count as written; new entries
//! are appended inline. When an entry the file lists is dropped (or the file's entries
//! otherwise change), the set's whole list is written inline in the compact form and the
//! `*_file` key is removed: the new config stands alone and says exactly the new state,
//! and the old list file stays as it was for whatever else reads it. When the result goes
//! to another directory, relative list paths are made absolute so they still name the same
//! files.
//!
//! The result is loaded again and must describe exactly the new state; otherwise nothing
//! is written and the error says what differs.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use toml_edit::{Array, ArrayOfTables, DocumentMut, InlineTable, Item, Table, Value};

use super::compact::{self, relations};
use super::{Result, WriteError};
use crate::atomic_file::Staged;
use crate::load::LoadError;
use crate::model::config::{ConfigFile, SetRef};
use crate::model::table_list::{self, ListKind};
use crate::model::{Cluster, NodeId, QualifiedName, SetId};
use crate::version::SlonyVersion;

fn refused(path: &Path, reason: impl std::fmt::Display) -> WriteError {
    WriteError::Refused {
        reason: format!("{}: {reason}", path.display()),
    }
}

/// Reads the config at `config`, writes it with the state `next` to `out` (which may be
/// the same file), keeping comments and layout. The write is atomic
/// ([`crate::atomic_file`]): on any error `out` is left as it was.
pub fn write_config(config: &Path, version: Option<SlonyVersion>, next: &Cluster, out: &Path) -> Result<()> {
    let staged = stage_config(config, version, next, out)?;
    super::commit(staged, out)
}

/// [`write_config`] up to the last step: the edited config is written and synced under a
/// temporary name beside `out`, with the mode of `config` (narrowed to that of `out` when
/// it exists, at most 0600 when `next` holds a password), and `out` is untouched until
/// [`super::commit`] puts it in place.
pub fn stage_config(
    config: &Path,
    version: Option<SlonyVersion>,
    next: &Cluster,
    out: &Path,
) -> Result<Staged> {
    let original = std::fs::read_to_string(config).map_err(|source| LoadError::ReadConfig {
        path: config.to_path_buf(),
        source,
    })?;
    let text = edit_to(&original, config, out, version, next)?;
    super::stage_text(&text, next, Some(config), out)
}

/// The text of the config `original` (read from `path`, which names it in messages and
/// anchors its list files) changed to describe `next`, for writing back to `path`.
pub fn edit(original: &str, path: &Path, next: &Cluster) -> Result<String> {
    edit_to(original, path, path, None, next)
}

/// [`edit`] for a result that will be written to `out` (relative list-file paths are made
/// absolute when `out` is in another directory), loading with the version overridden as
/// `--slony-version` does (the file's own `slony_version` is kept).
pub fn edit_to(
    original: &str,
    path: &Path,
    out: &Path,
    version: Option<SlonyVersion>,
    next: &Cluster,
) -> Result<String> {
    let parse_error = |message: String| LoadError::ParseConfig {
        message,
        path: path.to_path_buf(),
    };
    let mut doc: DocumentMut = original
        .parse()
        .map_err(|e: toml_edit::TomlError| parse_error(e.to_string()))?;
    let raw: ConfigFile = toml::from_str(original).map_err(|e| parse_error(e.to_string()))?;
    let mut file = raw.clone();
    table_list::expand_list_files(&mut file, path)?;
    let mut loaded = file.clone();
    if let Some(version) = version {
        loaded.slony_version = version;
    }
    let old = crate::validate::validate_owned(loaded).map_err(|problems| LoadError::InvalidConfig {
        path: path.to_path_buf(),
        problems,
    })?;
    let same_dir = config_dir(path) == config_dir(out);
    if old == *next && same_dir {
        // Nothing changed (create-set, init-cluster, ...): the file is left byte for byte.
        return Ok(original.to_string());
    }

    let mut lists = ListState::new(&raw, &file);
    update_top(&mut doc, &old, next);
    update_nodes(&mut doc, &old, next)?;
    update_sets(&mut doc, &old, next, &mut lists)?;
    update_subscriptions(&mut doc, &file, next);
    update_paths(&mut doc, next);
    rebase_list_files(&mut doc, path, out)?;

    // Every layout slonik-gen itself writes is edited above; what remains is a layout it
    // does not know, where only a person can decide what the file should say.
    const ADVICE: &str = "nothing was written: edit the file by hand to that state, and please report the layout that could not be edited";
    // How far each list's ids have been fixed: 1 = its first id written, 2 = ids pinned.
    let mut fixes: std::collections::BTreeMap<(SetId, bool), u8> = std::collections::BTreeMap::new();
    loop {
        let text = doc.to_string();
        let reloaded = crate::load_config_str_for(&text, out, version).map_err(|e| {
            refused(
                path,
                format!(
                    "the updated file does not load ({}); {ADVICE}",
                    crate::error::one_line(&e)
                ),
            )
        })?;
        if reloaded == *next {
            return Ok(text);
        }
        // Ids moved (an entry the allocator numbered was removed before them): write the
        // ids of each list that came out wrong on its entries, and look again.
        let mut fixed = false;
        for (id, set) in &next.sets {
            let Some(got) = reloaded.sets.get(id) else {
                continue;
            };
            for kind in [ListKind::Tables, ListKind::Sequences] {
                let (got_list, want_list) = (relations(got, kind), relations(set, kind));
                let Some(first_wrong) =
                    (0..want_list.len().max(got_list.len())).find(|&i| got_list.get(i) != want_list.get(i))
                else {
                    continue;
                };
                let stage = fixes.entry((*id, kind == ListKind::Tables)).or_insert(0);
                *stage += 1;
                match *stage {
                    1 => set_first_id(&mut doc, set, kind, &lists),
                    2 => pin_ids(&mut doc, set, kind, first_wrong, &mut lists),
                    _ => continue,
                }
                fixed = true;
            }
        }
        if !fixed {
            return Err(refused(
                path,
                format!(
                    "the file's layout cannot express the new state: as edited it would read {}; {ADVICE}",
                    difference(&reloaded, next)
                ),
            ));
        }
    }
}

/// How many leading entries of each set's lists come from its list file, as long as the
/// edited file still names it.
struct ListState {
    from_file: std::collections::BTreeMap<(SetId, bool), usize>,
}

impl ListState {
    fn new(raw: &ConfigFile, expanded: &ConfigFile) -> Self {
        let mut from_file = std::collections::BTreeMap::new();
        for (raw, full) in raw.sets.iter().zip(&expanded.sets) {
            from_file.insert((raw.id, true), full.tables.len().saturating_sub(raw.tables.len()));
            from_file.insert(
                (raw.id, false),
                full.sequences.len().saturating_sub(raw.sequences.len()),
            );
        }
        ListState { from_file }
    }

    fn get(&self, set: SetId, kind: ListKind) -> usize {
        self.from_file
            .get(&(set, kind == ListKind::Tables))
            .copied()
            .unwrap_or(0)
    }

    fn dropped(&mut self, set: SetId, kind: ListKind) {
        self.from_file.insert((set, kind == ListKind::Tables), 0);
    }
}

/// What differs between the state a file would read as (`got`) and the state it should
/// describe (`wanted`), as `X instead of Y` clauses; names made visible for a terminal.
pub(super) fn difference(got: &Cluster, wanted: &Cluster) -> String {
    use crate::escape::visible;
    let mut clauses = Vec::new();
    let (got_summary, wanted_summary) = (
        crate::runbook::catalog::state_summary(got),
        crate::runbook::catalog::state_summary(wanted),
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

/// `cluster`, `wait_timeout` and `default_origin`.
fn update_top(doc: &mut DocumentMut, old: &Cluster, next: &Cluster) {
    if old.name != next.name {
        set_value(doc.as_table_mut(), "cluster", next.name.as_str());
    }
    if old.wait_timeout != next.wait_timeout {
        set_value(doc.as_table_mut(), "wait_timeout", i64::from(next.wait_timeout));
    }
    if old.slon != next.slon {
        update_slon_defaults(doc, next);
    }
    let written = int_of(doc.as_table(), "default_origin");
    let implied = next.nodes.keys().next().map(|n| node_value(*n));
    let wanted = node_value(next.default_origin);
    match written {
        Some(v) if v != wanted => set_value(doc.as_table_mut(), "default_origin", wanted),
        None if implied != Some(wanted) => set_value(doc.as_table_mut(), "default_origin", wanted),
        _ => {}
    }
}

/// `[slon]` written anew as [`Cluster::to_config`] writes it (removed when empty); no
/// operation changes it today, so keeping its comments is not worth a key-by-key edit.
fn update_slon_defaults(doc: &mut DocumentMut, next: &Cluster) {
    #[derive(serde::Serialize)]
    struct Defaults<'a> {
        slon: &'a crate::model::config::SlonOptions,
    }
    let parsed = toml::to_string(&Defaults { slon: &next.slon })
        .ok()
        .and_then(|text| text.parse::<DocumentMut>().ok());
    match parsed
        .as_ref()
        .and_then(|d| d.get("slon"))
        .and_then(Item::as_table)
    {
        Some(table) if !next.slon.is_empty() => {
            let mut table = table.clone();
            clear_positions(&mut table);
            doc.insert("slon", Item::Table(table));
        }
        _ => {
            doc.remove("slon");
        }
    }
}

fn array_of_tables<'a>(doc: &'a mut DocumentMut, key: &str) -> Option<&'a mut ArrayOfTables> {
    doc.get_mut(key).and_then(Item::as_array_of_tables_mut)
}

/// The id of a `[[node]]` or `[[set]]` table, if it has a valid one.
fn id_of(table: &Table) -> Option<u32> {
    int_of(table, "id").and_then(|id| u32::try_from(id).ok())
}

/// A table parsed from TOML text of our own, made ready to be put into the user's document:
/// its positions (which belong to the text it was parsed from) cleared, so `toml_edit`
/// places it after the table it follows, and a blank line before it.
fn fresh_table(text: &str, array: &str) -> Option<Table> {
    let doc: DocumentMut = text.parse().ok()?;
    let mut table = doc.get(array)?.as_array_of_tables()?.get(0)?.clone();
    clear_positions(&mut table);
    table.decor_mut().set_prefix("\n");
    Some(table)
}

fn clear_positions(table: &mut Table) {
    table.set_position(None);
    for (_, item) in table.iter_mut() {
        match item {
            Item::Table(t) => clear_positions(t),
            Item::ArrayOfTables(a) => a.iter_mut().for_each(clear_positions),
            _ => {}
        }
    }
}

/// One node as a `[[node]]` table, every value as [`Cluster::to_config`] writes it.
fn node_table(node: &crate::model::Node, dropped: bool) -> Option<Table> {
    #[derive(serde::Serialize)]
    struct Nodes {
        node: [crate::model::config::NodeConfig; 1],
    }
    let text = toml::to_string(&Nodes {
        node: [crate::model::cluster::node_config(node, dropped)],
    })
    .ok()?;
    fresh_table(&text, "node")
}

fn cannot_write(what: String) -> WriteError {
    WriteError::Refused {
        reason: format!("{what} cannot be written as TOML; nothing was written"),
    }
}

/// The `[[node]]` of `id` in `cluster`, member or dropped, with whether it is dropped.
fn config_node(cluster: &Cluster, id: NodeId) -> Option<(&crate::model::Node, bool)> {
    match cluster.nodes.get(&id) {
        Some(node) => Some((node, false)),
        None => cluster.dropped_nodes.get(&id).map(|node| (node, true)),
    }
}

fn update_nodes(doc: &mut DocumentMut, old: &Cluster, next: &Cluster) -> Result<()> {
    let mut present = BTreeSet::new();
    if let Some(nodes) = array_of_tables(doc, "node") {
        nodes.retain(|t| id_of(t).is_none_or(|id| config_node(next, NodeId(id)).is_some()));
        for table in nodes.iter_mut() {
            let Some(id) = id_of(table).map(NodeId) else {
                continue;
            };
            present.insert(id);
            let (Some(was), Some(node)) = (config_node(old, id), config_node(next, id)) else {
                continue;
            };
            if was == node {
                continue;
            }
            // Compare the two nodes key by key as the canonical config writes them, and
            // change only the keys that differ.
            let (Some(before), Some(after)) = (node_table(was.0, was.1), node_table(node.0, node.1)) else {
                return Err(cannot_write(node.0.label()));
            };
            let keys: BTreeSet<String> = before
                .iter()
                .chain(after.iter())
                .map(|(k, _)| k.to_string())
                .collect();
            for key in keys {
                let (b, a) = (before.get(&key), after.get(&key));
                if b.map(item_text) == a.map(item_text) {
                    continue;
                }
                match a {
                    None => {
                        table.remove(&key);
                    }
                    Some(Item::Value(v)) => set_value(table, &key, v.clone()),
                    Some(item) => {
                        table.insert(&key, item.clone());
                    }
                }
            }
        }
    }
    let added: Vec<(&crate::model::Node, bool)> = next
        .config_nodes()
        .filter(|(n, _)| !present.contains(&n.id))
        .collect();
    if added.is_empty() {
        return Ok(());
    }
    if array_of_tables(doc, "node").is_none() {
        doc.insert("node", Item::ArrayOfTables(ArrayOfTables::new()));
    }
    for (node, dropped) in added {
        let table = node_table(node, dropped).ok_or_else(|| cannot_write(node.label()))?;
        if let Some(nodes) = array_of_tables(doc, "node") {
            nodes.push(table);
        }
    }
    Ok(())
}

/// An item's text without its surrounding whitespace and comments, for comparing values.
fn item_text(item: &Item) -> String {
    match item {
        Item::Value(v) => {
            let mut v = v.clone();
            v.decor_mut().clear();
            v.to_string()
        }
        Item::Table(t) => {
            let mut doc = DocumentMut::new();
            doc.insert("t", Item::Table(t.clone()));
            doc.to_string()
        }
        other => other.to_string(),
    }
}

/// `{ name = "t", schema = "s", id = 7 }` (with `key` and `comment` where set): the id is
/// explicit, so ids allocated later in the file never shift.
fn relation_entry(name: &QualifiedName, id: u32, key: Option<&str>, comment: Option<&str>) -> InlineTable {
    let mut entry = InlineTable::new();
    entry.insert("name", Value::from(name.name.as_str()));
    entry.insert("schema", Value::from(name.schema.as_str()));
    entry.insert("id", Value::from(i64::from(id)));
    if let Some(key) = key {
        entry.insert("key", Value::from(key));
    }
    if let Some(comment) = comment {
        entry.insert("comment", Value::from(comment));
    }
    entry
}

fn list_key(kind: ListKind) -> &'static str {
    match kind {
        ListKind::Tables => "tables",
        ListKind::Sequences => "sequences",
    }
}

fn first_key(kind: ListKind) -> &'static str {
    match kind {
        ListKind::Tables => "first_table_id",
        ListKind::Sequences => "first_sequence_id",
    }
}

fn update_sets(doc: &mut DocumentMut, old: &Cluster, next: &Cluster, lists: &mut ListState) -> Result<()> {
    let mut present = BTreeSet::new();
    if let Some(sets) = array_of_tables(doc, "set") {
        sets.retain(|t| id_of(t).is_none_or(|id| next.sets.contains_key(&SetId(id))));
        for table in sets.iter_mut() {
            let Some(id) = id_of(table).map(SetId) else {
                continue;
            };
            present.insert(id);
            let (Some(was), Some(set)) = (old.sets.get(&id), next.sets.get(&id)) else {
                continue;
            };
            if was.name != set.name {
                set_value(table, "name", set.name.as_str());
            }
            match int_of(table, "origin") {
                Some(v) if v != node_value(set.origin) => set_value(table, "origin", node_value(set.origin)),
                None if next.default_origin != set.origin => {
                    set_value(table, "origin", node_value(set.origin))
                }
                _ => {}
            }
            if was.comment != set.comment {
                match &set.comment {
                    Some(c) => set_value(table, "comment", c.as_str()),
                    None => {
                        table.remove("comment");
                    }
                }
            }
            let schema_changed = was.default_schema != set.default_schema;
            if schema_changed {
                set_value(table, "default_schema", set.default_schema.as_str());
            }
            for kind in [ListKind::Tables, ListKind::Sequences] {
                update_list(table, was, set, kind, schema_changed, lists);
            }
        }
    }
    let added: Vec<&crate::model::Set> = next.sets.values().filter(|s| !present.contains(&s.id)).collect();
    if added.is_empty() {
        return Ok(());
    }
    if array_of_tables(doc, "set").is_none() {
        doc.insert("set", Item::ArrayOfTables(ArrayOfTables::new()));
    }
    for set in added {
        let table = fresh_table(&compact::set_text(set), "set").ok_or_else(|| cannot_write(set.label()))?;
        if let Some(sets) = array_of_tables(doc, "set") {
            sets.push(table);
        }
    }
    Ok(())
}

/// Brings one list of a kept set from `was` to `set`: entries no longer there are removed
/// from the list as written, new ones appended with explicit ids. When an entry of the
/// set's list file goes (or the default schema changed), the list is written anew.
fn update_list(
    table: &mut Table,
    was: &crate::model::Set,
    set: &crate::model::Set,
    kind: ListKind,
    schema_changed: bool,
    lists: &mut ListState,
) {
    let (before, after) = (relations(was, kind), relations(set, kind));
    if before == after && !schema_changed {
        return;
    }
    // Keep what is still there in order, drop the rest; what is left of `after` is appended.
    let mut keep = Vec::with_capacity(before.len());
    let mut matched = 0;
    for entry in &before {
        let same = after.get(matched) == Some(entry);
        keep.push(same);
        if same {
            matched += 1;
        }
    }
    let from_file = lists.get(set.id, kind);
    if schema_changed || keep[..from_file.min(keep.len())].iter().any(|k| !k) {
        rewrite_list(table, set, kind, lists);
        return;
    }
    let inline_keep = &keep[from_file.min(keep.len())..];
    if inline_keep.iter().any(|k| !k) {
        remove_entries(table, list_key(kind), inline_keep);
    }
    let new: Vec<InlineTable> = after[matched..]
        .iter()
        .map(|r| relation_entry(r.name, r.id, r.key, r.comment))
        .collect();
    append_entries(table, list_key(kind), new);
}

/// Removes the entries of the list at `key` whose `keep` is false (in the order written).
fn remove_entries(table: &mut Table, key: &str, keep: &[bool]) {
    let mut index = 0;
    let mut next_keep = || {
        let k = keep.get(index).copied().unwrap_or(true);
        index += 1;
        k
    };
    match table.get_mut(key) {
        Some(Item::ArrayOfTables(tables)) => tables.retain(|_| next_keep()),
        Some(Item::Value(Value::Array(array))) => {
            let removed: Vec<usize> = (0..array.len()).filter(|_| !next_keep()).collect();
            // toml_edit keeps a comment written after an entry as the prefix of the entry
            // after it: when an entry goes, that next entry takes over the removed one's
            // prefix (the comment of the line before), so every comment stays on its line.
            // From the end, so that neighbouring removals hand the prefix along.
            for &index in removed.iter().rev() {
                let prefix = array
                    .get(index)
                    .and_then(|v| v.decor().prefix())
                    .and_then(|p| p.as_str())
                    .map(str::to_string);
                if let Some(prefix) = prefix.filter(|p| p.contains('\n')) {
                    match array.get_mut(index + 1) {
                        Some(next) => next.decor_mut().set_prefix(prefix),
                        None => array.set_trailing(prefix.trim_end_matches([' ', '\t'])),
                    }
                }
                array.remove(index);
            }
        }
        _ => {}
    }
}

/// Writes one list of `set` anew, inline and in the compact form, with its first id, and
/// drops the list file key: the list no longer matches the file.
fn rewrite_list(table: &mut Table, set: &crate::model::Set, kind: ListKind, lists: &mut ListState) {
    table.remove(kind.key());
    lists.dropped(set.id, kind);
    let (first, text) = compact::list_text(set, kind);
    if let Some(first) = first {
        set_value(table, first_key(kind), i64::from(first));
    }
    let parsed: Option<Item> = text
        .parse::<DocumentMut>()
        .ok()
        .and_then(|doc| doc.get(list_key(kind)).cloned());
    match parsed {
        Some(item) => {
            table.insert(list_key(kind), item);
        }
        None => {
            table.remove(list_key(kind));
        }
    }
}

fn set_table(doc: &mut DocumentMut, set: SetId) -> Option<&mut Table> {
    array_of_tables(doc, "set").and_then(|sets| sets.iter_mut().find(|t| id_of(t) == Some(set.0)))
}

/// Whether the entry at `index` of an inline list leaves its id to the allocator.
fn allocated(item: Option<&Item>, index: usize) -> bool {
    match item {
        Some(Item::ArrayOfTables(tables)) => tables.get(index).is_some_and(|t| !t.contains_key("id")),
        Some(Item::Value(Value::Array(array))) => match array.get(index) {
            Some(Value::InlineTable(t)) => !t.contains_key("id"),
            Some(_) => true,
            None => false,
        },
        _ => false,
    }
}

/// The first fix for a list whose ids moved: `first_*_id` set to the id its first
/// allocated entry must get, so the list no longer depends on the lists before it.
fn set_first_id(doc: &mut DocumentMut, set: &crate::model::Set, kind: ListKind, lists: &ListState) {
    let Some(table) = set_table(doc, set.id) else {
        return;
    };
    let entries = relations(set, kind);
    let listed = lists.get(set.id, kind).min(entries.len());
    let first = if listed > 0 {
        entries.first()
    } else {
        let list = table.get(list_key(kind));
        (0..entries.len())
            .find(|&i| allocated(list, i))
            .and_then(|i| entries.get(i))
    };
    if let Some(first) = first {
        set_value(table, first_key(kind), i64::from(first.id));
    }
}

/// The last fix: the id of every entry of one list of `set` from index `from` on is
/// written on the entry itself, so the allocator numbers none of them. Entries written
/// inline keep their place and layout; when the list file's entries are among them, they
/// are moved inline in front of the others.
fn pin_ids(
    doc: &mut DocumentMut,
    set: &crate::model::Set,
    kind: ListKind,
    from: usize,
    lists: &mut ListState,
) {
    let Some(table) = set_table(doc, set.id) else {
        return;
    };
    let entries = relations(set, kind);
    let listed = lists.get(set.id, kind).min(entries.len());
    let skip = from.saturating_sub(listed);
    let key = list_key(kind);
    let inline = &entries[listed..];
    match table.get_mut(key) {
        Some(Item::ArrayOfTables(tables)) => {
            for (t, r) in tables.iter_mut().zip(inline).skip(skip) {
                t.insert("id", Item::Value(Value::from(i64::from(r.id))));
            }
        }
        Some(Item::Value(Value::Array(array))) => {
            for (value, r) in array.iter_mut().zip(inline).skip(skip) {
                let decor = value.decor().clone();
                let mut pinned = match value {
                    Value::InlineTable(t) => {
                        let mut t = t.clone();
                        t.insert("id", Value::from(i64::from(r.id)));
                        Value::InlineTable(t)
                    }
                    _ => Value::InlineTable(relation_entry(r.name, r.id, r.key, r.comment)),
                };
                *pinned.decor_mut() = decor;
                *value = pinned;
            }
        }
        _ => {}
    }
    if from < listed {
        table.remove(kind.key());
        lists.dropped(set.id, kind);
        let listed: Vec<InlineTable> = entries[..listed]
            .iter()
            .map(|r| relation_entry(r.name, r.id, r.key, r.comment))
            .collect();
        prepend_entries(table, key, listed);
    }
}

/// Puts `entries` in front of the list at `key` (one a line), creating it if needed.
fn prepend_entries(table: &mut Table, key: &str, entries: Vec<InlineTable>) {
    match table.get_mut(key) {
        Some(Item::ArrayOfTables(tables)) => {
            let mut all = ArrayOfTables::new();
            for entry in entries {
                all.push(entry.into_table());
            }
            for t in tables.iter() {
                all.push(t.clone());
            }
            *tables = all;
        }
        Some(Item::Value(Value::Array(array))) => {
            let mut all = Array::new();
            for entry in entries {
                let mut value = Value::InlineTable(entry);
                value.decor_mut().set_prefix("\n  ");
                all.push_formatted(value);
            }
            for value in array.iter() {
                let mut value = value.clone();
                if !value
                    .decor()
                    .prefix()
                    .and_then(|p| p.as_str())
                    .is_some_and(|p| p.contains('\n'))
                {
                    value.decor_mut().set_prefix("\n  ");
                }
                all.push_formatted(value);
            }
            all.set_trailing_comma(true);
            all.set_trailing("\n");
            *array = all;
        }
        _ => append_entries(table, key, entries),
    }
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
            let (Some(sub), Some(receiver), Some(set)) = (
                next.subscriptions.get(&key),
                next.nodes.get(&key.1),
                next.sets.get(&key.0),
            ) else {
                continue;
            };
            let implied_provider = receiver.provider.unwrap_or(set.origin);
            if written.provider.unwrap_or(implied_provider) != sub.provider {
                set_value(table, "provider", node_value(sub.provider));
            }
            if written.forward.unwrap_or(receiver.forward) != sub.forward {
                set_value(table, "forward", sub.forward);
            }
        }
    }
    let added: Vec<((SetId, NodeId), Table)> = next
        .subscriptions
        .iter()
        .filter(|(key, _)| !covered.contains(key))
        .map(|(key, sub)| {
            let mut table = Table::new();
            let set: Value = match next.sets.get(&sub.set) {
                Some(set) => Value::from(set.name.as_str()),
                None => Value::from(i64::from(sub.set.0)),
            };
            table.insert("set", Item::Value(set));
            table.insert("receiver", Item::Value(Value::from(node_value(sub.receiver))));
            table.insert("provider", Item::Value(Value::from(node_value(sub.provider))));
            table.insert("forward", Item::Value(Value::from(sub.forward)));
            (*key, table)
        })
        .collect();
    if added.is_empty() {
        return;
    }
    if array_of_tables(doc, "subscription").is_none() {
        doc.insert("subscription", Item::ArrayOfTables(ArrayOfTables::new()));
    }
    // In a file that lists its subscriptions by set and receiver, a new one goes where it
    // sorts (a subscription a failover removed comes back to its old place); otherwise at
    // the end.
    let sorted = covered.windows(2).all(|pair| pair[0] < pair[1]);
    if let Some(subs) = array_of_tables(doc, "subscription") {
        for (key, table) in added {
            let at = if sorted {
                covered.iter().position(|k| *k > key).unwrap_or(covered.len())
            } else {
                covered.len()
            };
            subs.insert(at.min(subs.len()), table);
            covered.insert(at, key);
        }
    }
}

/// `[[path]]` entries: those the new state no longer has are removed, the others kept as
/// written, new ones appended; in the full mesh there are none.
fn update_paths(doc: &mut DocumentMut, next: &Cluster) {
    let wanted: std::collections::BTreeMap<(NodeId, NodeId), Option<u32>> = match &next.paths {
        crate::model::Paths::Mesh => Default::default(),
        crate::model::Paths::Explicit(paths) => paths.clone(),
    };
    let mut covered = Vec::new();
    if let Some(paths) = array_of_tables(doc, "path") {
        paths.retain(|table| {
            let key = (
                int_of(table, "server")
                    .and_then(|v| u32::try_from(v).ok())
                    .map(NodeId),
                int_of(table, "client")
                    .and_then(|v| u32::try_from(v).ok())
                    .map(NodeId),
            );
            match key {
                (Some(server), Some(client)) if wanted.contains_key(&(server, client)) => {
                    covered.push((server, client));
                    true
                }
                _ => false,
            }
        });
        if paths.is_empty() {
            doc.remove("path");
        }
    }
    let added: Vec<Table> = wanted
        .iter()
        .filter(|(key, _)| !covered.contains(key))
        .map(|(&(server, client), connretry)| {
            let mut table = Table::new();
            table.insert("server", Item::Value(Value::from(node_value(server))));
            table.insert("client", Item::Value(Value::from(node_value(client))));
            if let Some(retry) = connretry {
                table.insert("connretry", Item::Value(Value::from(i64::from(*retry))));
            }
            table
        })
        .collect();
    if added.is_empty() {
        return;
    }
    if array_of_tables(doc, "path").is_none() {
        doc.insert("path", Item::ArrayOfTables(ArrayOfTables::new()));
    }
    if let Some(paths) = array_of_tables(doc, "path") {
        for table in added {
            paths.push(table);
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
            crate::runbook::catalog::state_summary(&got),
            crate::runbook::catalog::state_summary(&wanted)
        );
        let message = difference(&got, &wanted);
        assert_eq!(
            message,
            "set 1 (set1) tables `geekdb.files=1` instead of `geekdb.files=1 geekdb.additional_roll=2`"
        );
    }
}
