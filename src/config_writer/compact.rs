//! A whole config written anew (imports, `--write-config` without a file to edit), with
//! every set's tables in the compact form.
//!
//! A table is one line: `"schema.name"` when it needs nothing else, an inline table
//! `{ name = "n", schema = "s", id = 7, key = "k", comment = "c" }` with only the keys it
//! needs otherwise. Ids are left to the allocator (validation hands them out in file order,
//! skipping ids taken explicitly anywhere) wherever it gives the right one: each set says
//! `first_table_id` where its run does not continue the one before, and only a table off
//! that run carries an explicit `id`. An imported 100,000-table set is 100,000 short lines,
//! about 20 bytes each, instead of five lines and 60 bytes a table.
//!
//! With [`Lists::Beside`], a set whose run of plain names is long is written as a list file
//! beside the config (`tables_file`, one `schema.name` a line), which loads several times
//! faster than the same names as TOML strings (BENCHMARKS.md).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

use serde::Serialize;

use crate::model::config::{ConfigFile, SubscriptionConfig};
use crate::model::table_list::{self, ListKind};
use crate::model::{Cluster, QualifiedName, Set};

use super::{ListFile, Lists, Written};

/// One relation as the writer needs it: name, id and the rare extras.
#[derive(PartialEq)]
pub(super) struct Relation<'a> {
    pub(super) name: &'a QualifiedName,
    pub(super) id: u32,
    pub(super) key: Option<&'a str>,
    pub(super) comment: Option<&'a str>,
}

/// How one list of a set (its tables or its sequences) is written.
struct ListLayout {
    /// `first_table_id` / `first_sequence_id`, where the run does not continue the last one.
    first_id: Option<u32>,
    /// Which entries the allocator numbers (the others carry their id).
    implicit: Vec<bool>,
    /// How many leading entries go to a list file.
    in_file: usize,
}

/// Plans the ids of one list given where the allocator stands (`cursor`: the id it would
/// hand out next if nothing is taken), and moves `cursor` past it.
///
/// An entry can be left to the allocator exactly when the allocator stands at its id: ids
/// are unique, so that id is neither explicit elsewhere nor handed out before, and the
/// allocator gives it out unchanged, whatever the rest of the file says. So the implicit
/// entries are a run `start, start + 1, ...` in list order (other entries may sit between
/// them: an explicit id does not move the allocator). The run is the longer of the one that
/// continues at `cursor` (no `first_*_id` needed) and the longest one anywhere.
fn plan(ids: &[u32], cursor: &mut u64) -> (Option<u32>, Vec<bool>) {
    let run_from = |start: u64| -> (usize, Vec<bool>) {
        let mut expect = start;
        let mut implicit = vec![false; ids.len()];
        let mut count = 0;
        for (i, &id) in ids.iter().enumerate() {
            if u64::from(id) == expect {
                implicit[i] = true;
                expect += 1;
                count += 1;
            }
        }
        (count, implicit)
    };
    // The longest run anywhere: the run ending at each id is one longer than the run
    // ending at the id before it, if that one came earlier in the list.
    let mut run_end: BTreeMap<u32, usize> = BTreeMap::new();
    let mut best: Option<(usize, u32)> = None;
    for &id in ids {
        let len = id
            .checked_sub(1)
            .and_then(|before| run_end.get(&before))
            .map_or(1, |l| l + 1);
        run_end.insert(id, len);
        if best.is_none_or(|(l, _)| len > l) {
            best = Some((len, id));
        }
    }
    let (here, here_implicit) = run_from(*cursor);
    let elsewhere = best.map(|(len, end)| (len, end + 1 - len as u32));
    match elsewhere {
        Some((len, start)) if len > here => {
            let (count, implicit) = run_from(u64::from(start));
            *cursor = u64::from(start) + count as u64;
            (Some(start), implicit)
        }
        _ => {
            *cursor += here as u64;
            (None, here_implicit)
        }
    }
}

fn layout(relations: &[Relation<'_>], cursor: &mut u64, list_min: Option<usize>) -> ListLayout {
    let ids: Vec<u32> = relations.iter().map(|r| r.id).collect();
    let (first_id, implicit) = plan(&ids, cursor);
    let in_file = match list_min {
        Some(min) => {
            let listable = relations
                .iter()
                .zip(&implicit)
                .take_while(|(r, &implicit)| {
                    implicit
                        && r.key.is_none()
                        && r.comment.is_none()
                        && table_list::is_listable(&r.name.schema, &r.name.name)
                })
                .count();
            if listable >= min.max(1) {
                listable
            } else {
                0
            }
        }
        None => 0,
    };
    ListLayout {
        first_id,
        implicit,
        in_file,
    }
}

/// A TOML string (quoted and escaped by [`crate::escape::toml::string`]).
fn string(text: &str) -> String {
    crate::escape::toml::string(text)
}

/// One entry of an inline list, without indentation or comma.
fn entry(out: &mut String, r: &Relation<'_>, implicit: bool) {
    let short = implicit
        && r.key.is_none()
        && r.comment.is_none()
        && !r.name.schema.is_empty()
        && !r.name.schema.contains('.')
        && !r.name.name.is_empty();
    if short {
        let text = format!("{}.{}", r.name.schema, r.name.name);
        out.push_str(&string(&text));
        return;
    }
    out.push_str("{ name = ");
    out.push_str(&string(&r.name.name));
    out.push_str(", schema = ");
    out.push_str(&string(&r.name.schema));
    if !implicit {
        let _ = write!(out, ", id = {}", r.id);
    }
    if let Some(k) = r.key {
        out.push_str(", key = ");
        out.push_str(&string(k));
    }
    if let Some(c) = r.comment {
        out.push_str(", comment = ");
        out.push_str(&string(c));
    }
    out.push_str(" }");
}

/// The relations of one list of `set`.
pub(super) fn relations(set: &Set, kind: ListKind) -> Vec<Relation<'_>> {
    match kind {
        ListKind::Tables => set
            .tables
            .iter()
            .map(|t| Relation {
                name: &t.name,
                id: t.id.0,
                key: t.key.as_deref(),
                comment: t.comment.as_deref(),
            })
            .collect(),
        ListKind::Sequences => set
            .sequences
            .iter()
            .map(|s| Relation {
                name: &s.name,
                id: s.id.0,
                key: None,
                comment: s.comment.as_deref(),
            })
            .collect(),
    }
}

/// One list of `set` written anew inside a file whose allocator state is unknown (an
/// edit): `first_*_id` (where any entry is left to the allocator) and the `key = [...]`
/// text. Writing the first id makes the list's ids independent of what comes before it.
#[cfg(feature = "edit-config")]
pub(super) fn list_text(set: &Set, kind: ListKind) -> (Option<u32>, String) {
    let relations = relations(set, kind);
    // A cursor no id can equal: the run is always the longest one, with its first id.
    let mut cursor = u64::MAX / 2;
    let planned = layout(&relations, &mut cursor, None);
    let first = planned.first_id;
    let bare = ListLayout {
        first_id: None,
        ..planned
    };
    let mut out = String::new();
    write_list(
        &mut out,
        &mut Vec::new(),
        &relations,
        &bare,
        kind,
        set,
        &Lists::Inline,
    );
    (first, out)
}

/// A new `[[set]]` for an edit: every value explicit, each list with its first id.
#[cfg(feature = "edit-config")]
pub(super) fn set_text(set: &Set) -> String {
    let mut out = String::from("[[set]]\n");
    let _ = writeln!(out, "id = {}", set.id);
    let _ = writeln!(out, "name = {}", string(&set.name));
    let _ = writeln!(out, "origin = {}", set.origin);
    if let Some(comment) = &set.comment {
        let _ = writeln!(out, "comment = {}", string(comment));
    }
    let _ = writeln!(out, "default_schema = {}", string(&set.default_schema));
    for kind in [ListKind::Tables, ListKind::Sequences] {
        let (first, list) = list_text(set, kind);
        if let Some(first) = first {
            let key = match kind {
                ListKind::Tables => "first_table_id",
                ListKind::Sequences => "first_sequence_id",
            };
            let _ = writeln!(out, "{key} = {first}");
        }
        out.push_str(&list);
    }
    out
}

/// Writes one list of a set: its `first_*_id`, its list file and its inline entries.
fn write_list(
    out: &mut String,
    files: &mut Vec<ListFile>,
    relations: &[Relation<'_>],
    layout: &ListLayout,
    kind: ListKind,
    set: &Set,
    lists: &Lists<'_>,
) {
    let (first_key, list_key) = match kind {
        ListKind::Tables => ("first_table_id", "tables"),
        ListKind::Sequences => ("first_sequence_id", "sequences"),
    };
    if let Some(first) = layout.first_id {
        let _ = writeln!(out, "{first_key} = {first}");
    }
    if layout.in_file > 0 {
        if let Lists::Beside { config, .. } = lists {
            let name = list_file_name(config, set, kind);
            let mut text = String::with_capacity(layout.in_file * 24);
            for r in &relations[..layout.in_file] {
                text.push_str(&r.name.schema);
                text.push('.');
                text.push_str(&r.name.name);
                text.push('\n');
            }
            let _ = writeln!(out, "{} = {}", kind.key(), string(&name));
            files.push(ListFile {
                path: table_list::resolve(config, &name),
                text,
            });
        }
    }
    let inline = &relations[layout.in_file..];
    if inline.is_empty() {
        return;
    }
    let _ = writeln!(out, "{list_key} = [");
    for (r, &implicit) in inline.iter().zip(&layout.implicit[layout.in_file..]) {
        out.push_str("  ");
        entry(out, r, implicit);
        out.push_str(",\n");
    }
    out.push_str("]\n");
}

/// `<config stem>.set<ID>.tables` (or `.sequences`): beside the config, named after it so
/// two configs in one directory do not share a list, and after the set's id, which (unlike
/// its name) is always a safe file name.
fn list_file_name(config: &Path, set: &Set, kind: ListKind) -> String {
    let stem = config
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "slonik-gen".into());
    let what = match kind {
        ListKind::Tables => "tables",
        ListKind::Sequences => "sequences",
    };
    format!("{stem}.set{}.{what}", set.id)
}

/// Serializes with the `toml` crate. The config types hold only strings, integers,
/// booleans and string maps, which always serialize; should that ever change, the text
/// says so and fails to load rather than the writer panicking.
fn toml_text(value: &impl Serialize) -> String {
    toml::to_string(value).unwrap_or_else(|e| format!("# slonik-gen could not write this part: {e}\n"))
}

/// The whole cluster as a new config file: [`Cluster::to_config`]'s values (every id,
/// origin, provider and forwarding written out) with the tables in the compact form.
/// `load(compact(c)) == c`.
pub fn compact(cluster: &Cluster, lists: Lists<'_>) -> Written {
    compact_file(&cluster.to_config(), cluster, lists)
}

/// [`compact_file`] with every table inline, as text: what an import prints.
pub fn compact_text(config: &ConfigFile, cluster: &Cluster) -> String {
    compact_file(config, cluster, Lists::Inline).text
}

/// `config` as a new file, its sets' tables and sequences written in the compact form from
/// `cluster`, which must be what `config` validates to (an import has both). Everything
/// else is written as `config` says it (an imported `default_origin` left unset stays
/// unset, a subscription's provider left to the node stays so).
pub fn compact_file(config: &ConfigFile, cluster: &Cluster, lists: Lists<'_>) -> Written {
    let head = ConfigFile {
        sets: Vec::new(),
        subscriptions: Vec::new(),
        paths: Vec::new(),
        ..config.clone()
    };
    let mut out = toml_text(&head);
    let mut files = Vec::new();
    let list_min = match lists {
        Lists::Inline => None,
        Lists::Beside { min_entries, .. } => Some(min_entries),
    };
    let (mut table_cursor, mut sequence_cursor) = (1u64, 1u64);
    for written in &config.sets {
        let Some(set) = cluster.sets.get(&written.id) else {
            continue;
        };
        out.push_str("\n[[set]]\n");
        let _ = writeln!(out, "id = {}", set.id);
        if let Some(name) = &written.name {
            let _ = writeln!(out, "name = {}", string(name));
        }
        if let Some(origin) = written.origin {
            let _ = writeln!(out, "origin = {origin}");
        }
        if let Some(comment) = &written.comment {
            let _ = writeln!(out, "comment = {}", string(comment));
        }
        if let Some(schema) = &written.default_schema {
            let _ = writeln!(out, "default_schema = {}", string(schema));
        }
        let tables = relations(set, ListKind::Tables);
        let sequences = relations(set, ListKind::Sequences);
        let table_layout = layout(&tables, &mut table_cursor, list_min);
        let sequence_layout = layout(&sequences, &mut sequence_cursor, list_min);
        write_list(
            &mut out,
            &mut files,
            &tables,
            &table_layout,
            ListKind::Tables,
            set,
            &lists,
        );
        write_list(
            &mut out,
            &mut files,
            &sequences,
            &sequence_layout,
            ListKind::Sequences,
            set,
            &lists,
        );
    }
    if !config.subscriptions.is_empty() {
        #[derive(Serialize)]
        struct Subscriptions<'a> {
            subscription: &'a [SubscriptionConfig],
        }
        out.push('\n');
        out.push_str(&toml_text(&Subscriptions {
            subscription: &config.subscriptions,
        }));
    }
    if !config.paths.is_empty() {
        #[derive(Serialize)]
        struct Paths<'a> {
            path: &'a [crate::model::config::PathConfig],
        }
        out.push('\n');
        out.push_str(&toml_text(&Paths { path: &config.paths }));
    }
    Written {
        text: out,
        list_files: files,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn planned(ids: &[u32], cursor: u64) -> (Option<u32>, Vec<bool>, u64) {
        let mut c = cursor;
        let (first, implicit) = plan(ids, &mut c);
        (first, implicit, c)
    }

    #[test]
    fn a_run_that_continues_needs_no_first_id() {
        assert_eq!(planned(&[1, 2, 3], 1), (None, vec![true; 3], 4));
        assert_eq!(planned(&[4, 5], 4), (None, vec![true; 2], 6));
    }

    #[test]
    fn a_run_elsewhere_gets_a_first_id_and_the_rest_explicit_ids() {
        assert_eq!(
            planned(&[10, 11, 12, 3], 1),
            (Some(10), vec![true, true, true, false], 13)
        );
        // An explicit id between two of the run does not break it.
        assert_eq!(
            planned(&[1, 2, 40, 3], 1),
            (None, vec![true, true, false, true], 4)
        );
        assert_eq!(planned(&[], 7), (None, vec![], 7));
    }
}
