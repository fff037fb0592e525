//! The tables and sequences of every `[[set]]`: their ids (explicit or handed out in file
//! order), repeated ids and names, and the sets' own checks.

use std::collections::hash_map::Entry;
use std::collections::{BTreeMap, BTreeSet, HashMap};

use super::hash::{name_hash, shared_hash_slots, FastMap};
use super::literals::{plain_name, plain_text};
use super::nodes::check_node_ref;
use super::{check_id, id_out_of_range, Problem};
use crate::model::config::{ConfigFile, SetConfig, TableEntry};
use crate::model::ids::{NodeId, SequenceId, SetId, TableId};
use crate::model::names::QualifiedName;
use crate::model::{Node, Sequence, Set, Table};

/// The tables or the sequences of one set: borrowed from the config (their names are copied
/// into the cluster) or taken from it (their names are moved).
pub(super) enum Entries<'a> {
    Borrowed(&'a [TableEntry]),
    Owned(Vec<TableEntry>),
}

impl Entries<'_> {
    fn as_slice(&self) -> &[TableEntry] {
        match self {
            Entries::Borrowed(entries) => entries,
            Entries::Owned(entries) => entries,
        }
    }

    /// Turns every entry, in order, into what `each` makes of its index, name (in
    /// `default_schema` when it names none), explicit id, key and comment. Owned entries
    /// become tables in place (a `TableEntry` and a `Table` have the same size), so 100,000
    /// tables do not need a second 10 MB array, freshly faulted in page by page.
    fn map<T>(
        self,
        default_schema: &str,
        mut each: impl FnMut(usize, QualifiedName, Option<u32>, Option<String>, Option<String>) -> T,
    ) -> Vec<T> {
        let schema = |schema: Option<String>| schema.unwrap_or_else(|| default_schema.to_string());
        match self {
            Entries::Borrowed(entries) => entries
                .iter()
                .enumerate()
                .map(|(index, e)| {
                    let name = QualifiedName::new(schema(e.schema.clone()), e.name.clone());
                    each(index, name, e.id, e.key.clone(), e.comment.clone())
                })
                .collect(),
            Entries::Owned(entries) => entries
                .into_iter()
                .enumerate()
                .map(|(index, e)| {
                    each(
                        index,
                        QualifiedName::new(schema(e.schema), e.name),
                        e.id,
                        e.key,
                        e.comment,
                    )
                })
                .collect(),
        }
    }
}

/// The tables and sequences of one `[[set]]`.
pub(super) struct SetEntries<'a> {
    pub(super) tables: Entries<'a>,
    pub(super) sequences: Entries<'a>,
}

/// Whether a relation is a table or a sequence: they have separate ids, but share names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Kind {
    Table,
    Sequence,
}

impl Kind {
    fn word(self) -> &'static str {
        match self {
            Kind::Table => "table",
            Kind::Sequence => "sequence",
        }
    }
}

/// Where a table or sequence is: its set's place in id order and its place in that set's list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Place {
    set: usize,
    kind: Kind,
    index: usize,
}

/// What is wrong with the tables (or the sequences) of one set, each list in file order,
/// kept apart so that messages are only written for the few entries that have a problem.
#[derive(Default)]
struct Findings {
    /// Entries with a `key`, which sequences cannot have: (index, key).
    keys: Vec<(usize, String)>,
    /// Ids out of range: (index, id).
    ids_out_of_range: Vec<(usize, u64)>,
    /// Explicit ids an earlier entry already has: (index, id, that entry).
    duplicate_ids: Vec<(usize, u32, Place)>,
    /// Names an earlier table or sequence already has: (index, that one).
    duplicate_names: Vec<(usize, Place)>,
}

/// One set on its way into the cluster.
struct SetDraft<'c> {
    config: &'c SetConfig,
    name: String,
    /// `set 1 (set1)`.
    label: String,
    origin: NodeId,
    default_schema: String,
    tables: Vec<Table>,
    sequences: Vec<Sequence>,
    table_findings: Findings,
    sequence_findings: Findings,
    /// See [`Suspects`].
    suspects: Vec<(Kind, usize)>,
}

impl SetDraft<'_> {
    fn relation_name(&self, kind: Kind, index: usize) -> &QualifiedName {
        match kind {
            Kind::Table => &self.tables[index].name,
            Kind::Sequence => &self.sequences[index].name,
        }
    }
}

/// `set 1 (set1) table public.t1`: how messages name a table or sequence.
fn relation_item(drafts: &[SetDraft<'_>], place: Place) -> String {
    let draft = &drafts[place.set];
    format!(
        "{} {} {}",
        draft.label,
        place.kind.word(),
        draft.relation_name(place.kind, place.index)
    )
}

/// Hands out ids in file order, skipping ids given explicitly anywhere and ids it handed out
/// before (so a handed-out id never collides with another id). It counts in `u64` so that
/// running past 2^32-1 yields an out-of-range id rather than a wrap or an endless loop.
struct IdAllocator {
    /// Every explicit id, sorted.
    explicit: Vec<u32>,
    /// Ids handed out before the current run, as disjoint ranges (start → end, exclusive).
    earlier_runs: BTreeMap<u64, u64>,
    /// Where the current run began: every id from here to `next` is taken.
    run_start: u64,
    next: u64,
}

impl IdAllocator {
    fn new(explicit: impl Iterator<Item = u32>) -> Self {
        let mut explicit: Vec<u32> = explicit.collect();
        explicit.sort_unstable();
        explicit.dedup();
        IdAllocator {
            explicit,
            earlier_runs: BTreeMap::new(),
            run_start: 1,
            next: 1,
        }
    }

    fn start_at(&mut self, first: Option<u32>) {
        if let Some(first) = first {
            self.close_run();
            self.next = first.max(1).into();
            self.run_start = self.next;
        }
    }

    fn close_run(&mut self) {
        let (mut start, mut end) = (self.run_start, self.next);
        if start == end {
            return;
        }
        while let Some((&earlier_start, &earlier_end)) = self.earlier_runs.range(..=end).next_back() {
            if earlier_end < start {
                break;
            }
            self.earlier_runs.remove(&earlier_start);
            start = start.min(earlier_start);
            end = end.max(earlier_end);
        }
        self.earlier_runs.insert(start, end);
    }

    /// The end of the earlier run that `id` is in, if it is in one.
    fn earlier_run_end(&self, id: u64) -> Option<u64> {
        if self.earlier_runs.is_empty() {
            return None;
        }
        let (_, &end) = self.earlier_runs.range(..=id).next_back()?;
        (end > id).then_some(end)
    }

    fn allocate(&mut self) -> u64 {
        loop {
            let in_earlier_run = self.earlier_run_end(self.next);
            if let Some(end) = in_earlier_run {
                self.next = end;
            } else if u32::try_from(self.next).is_ok_and(|id| self.explicit.binary_search(&id).is_ok()) {
                self.next += 1;
            } else {
                break;
            }
        }
        let id = self.next;
        self.next += 1;
        id
    }
}

pub(super) fn build_sets(
    config: &ConfigFile,
    mut relations: Vec<SetEntries<'_>>,
    nodes: &BTreeMap<NodeId, Node>,
    default_origin: NodeId,
    p: &mut Vec<Problem>,
) -> (BTreeMap<SetId, Set>, Suspects) {
    // Sets are numbered in id order (file order among equal ids), whatever order the file has.
    let mut ordered: Vec<usize> = (0..config.sets.len()).collect();
    ordered.sort_by_key(|&i| config.sets[i].id);
    let explicit = |entries: &Entries<'_>| entries.as_slice().iter().filter_map(|e| e.id).collect::<Vec<_>>();
    let total = relations
        .iter()
        .map(|r| r.tables.as_slice().len() + r.sequences.as_slice().len())
        .sum();
    let mut claims = Claims {
        table_ids: IdAllocator::new(relations.iter().flat_map(|r| explicit(&r.tables))),
        sequence_ids: IdAllocator::new(relations.iter().flat_map(|r| explicit(&r.sequences))),
        table_owners: FastMap::default(),
        sequence_owners: FastMap::default(),
        name_owners: FastMap::default(),
        colliding_names: HashMap::new(),
    };
    let mut drafts: Vec<SetDraft<'_>> = Vec::with_capacity(ordered.len());
    // In the order `find_duplicate_names` visits the names, hashed while each entry is read.
    let mut name_hashes = Vec::with_capacity(total);
    for (set, &i) in ordered.iter().enumerate() {
        let s = &config.sets[i];
        let entries = std::mem::replace(
            &mut relations[i],
            SetEntries {
                tables: Entries::Owned(Vec::new()),
                sequences: Entries::Owned(Vec::new()),
            },
        );
        let name = s.name.clone().unwrap_or_else(|| format!("set{}", s.id));
        let mut draft = SetDraft {
            config: s,
            label: format!("set {} ({name})", s.id),
            name,
            origin: s.origin.unwrap_or(default_origin),
            default_schema: s.default_schema.clone().unwrap_or_else(|| "public".into()),
            tables: Vec::new(),
            sequences: Vec::new(),
            table_findings: Findings::default(),
            sequence_findings: Findings::default(),
            suspects: Vec::new(),
        };

        claims.table_ids.start_at(s.first_table_id);
        let default_schema = draft.default_schema.as_str();
        let findings = &mut draft.table_findings;
        let suspects = &mut draft.suspects;
        draft.tables = entries
            .tables
            .map(default_schema, |index, name, explicit, key, comment| {
                let place = Place {
                    set,
                    kind: Kind::Table,
                    index,
                };
                let id = claims.claim_id(explicit, place, findings);
                name_hashes.push(name_hash(&name));
                if !plain_name(&name)
                    || !key.as_deref().is_none_or(plain_text)
                    || !comment.as_deref().is_none_or(plain_text)
                {
                    suspects.push((Kind::Table, index));
                }
                Table {
                    id: TableId(id),
                    name,
                    key,
                    comment,
                }
            });

        claims.sequence_ids.start_at(s.first_sequence_id);
        let findings = &mut draft.sequence_findings;
        draft.sequences = entries
            .sequences
            .map(default_schema, |index, name, explicit, key, comment| {
                let place = Place {
                    set,
                    kind: Kind::Sequence,
                    index,
                };
                if let Some(key) = key {
                    findings.keys.push((index, key));
                }
                let id = claims.claim_id(explicit, place, findings);
                name_hashes.push(name_hash(&name));
                if !plain_name(&name) || !comment.as_deref().is_none_or(plain_text) {
                    suspects.push((Kind::Sequence, index));
                }
                Sequence {
                    id: SequenceId(id),
                    name,
                    comment,
                }
            });
        drafts.push(draft);
    }
    find_duplicate_names(&mut drafts, &name_hashes, &mut claims);
    report_set_problems(&drafts, nodes, p);

    let mut sets = BTreeMap::new();
    let mut suspects = BTreeMap::new();
    for draft in drafts {
        let set = Set {
            id: draft.config.id,
            name: draft.name,
            origin: draft.origin,
            comment: draft.config.comment.clone(),
            default_schema: draft.default_schema,
            tables: draft.tables.into(),
            sequences: draft.sequences.into(),
        };
        // A set id given twice is reported; the last such set stands for it.
        suspects.insert(set.id, draft.suspects);
        sets.insert(set.id, set);
    }
    (sets, suspects)
}

/// Per set, the tables and sequences (in order) whose name, key or comment is not plain
/// text: the only ones that can have a literal or identifier problem.
pub(super) type Suspects = BTreeMap<SetId, Vec<(Kind, usize)>>;

/// Notes every table or sequence whose name an earlier one already has (in set id order,
/// tables before sequences, file order within each); `hashes` are their names' hashes in
/// that order.
fn find_duplicate_names(drafts: &mut [SetDraft<'_>], hashes: &[u64], claims: &mut Claims) {
    let places = drafts.iter().enumerate().flat_map(|(set, draft)| {
        let place = move |kind, index| Place { set, kind, index };
        (0..draft.tables.len())
            .map(move |index| place(Kind::Table, index))
            .chain((0..draft.sequences.len()).map(move |index| place(Kind::Sequence, index)))
    });
    let name_at = |place: Place| drafts[place.set].relation_name(place.kind, place.index);
    let shared = shared_hash_slots(hashes);
    // Sized once: growing the map step by step made the allocator hand out (and the kernel
    // zero) fresh memory at every step, a fifth of a 100k-table create-set.
    let candidates = hashes.iter().filter(|&&hash| shared.contains(hash)).count();
    claims.name_owners.reserve(candidates);
    let mut duplicates = Vec::new();
    for (place, &hash) in places.zip(hashes) {
        if !shared.contains(hash) {
            continue;
        }
        let name = name_at(place);
        if let Some(first) = claims.claim_name(hash, name, place, |first| name_at(first) == name) {
            duplicates.push((place, first));
        }
    }
    for (place, first) in duplicates {
        let draft = &mut drafts[place.set];
        let findings = match place.kind {
            Kind::Table => &mut draft.table_findings,
            Kind::Sequence => &mut draft.sequence_findings,
        };
        findings.duplicate_names.push((place.index, first));
    }
}

/// The ids and names claimed so far, in set id order, to find the ones given twice.
struct Claims {
    table_ids: IdAllocator,
    sequence_ids: IdAllocator,
    /// The first table with each explicit id.
    table_owners: FastMap<u32, Place>,
    /// The first sequence with each explicit id.
    sequence_owners: FastMap<u32, Place>,
    /// The first table or sequence with each name, by the name's hash.
    name_owners: FastMap<u64, Place>,
    /// The first one with each name whose hash an earlier, different name already has.
    colliding_names: HashMap<QualifiedName, Place>,
}

impl Claims {
    /// The id of the entry at `place` (its own, or the next free one), noting whether it is
    /// out of range or already taken. Only explicit ids can be taken: the allocator skips them.
    fn claim_id(&mut self, explicit: Option<u32>, place: Place, findings: &mut Findings) -> u32 {
        let (allocator, owners) = match place.kind {
            Kind::Table => (&mut self.table_ids, &mut self.table_owners),
            Kind::Sequence => (&mut self.sequence_ids, &mut self.sequence_owners),
        };
        let id = match explicit {
            Some(id) => {
                match owners.entry(id) {
                    Entry::Occupied(first) => findings.duplicate_ids.push((place.index, id, *first.get())),
                    Entry::Vacant(slot) => {
                        slot.insert(place);
                    }
                }
                id.into()
            }
            None => allocator.allocate(),
        };
        if id_out_of_range(id) {
            findings.ids_out_of_range.push((place.index, id));
        }
        // Past u32::MAX the config is rejected anyway; the id only has to be out of range.
        u32::try_from(id).unwrap_or(u32::MAX)
    }

    /// Where an earlier table or sequence named `name` (whose hash is `hash`) is, if one is;
    /// `same_name(place)` says whether the one at `place` has the same name.
    fn claim_name(
        &mut self,
        hash: u64,
        name: &QualifiedName,
        place: Place,
        same_name: impl FnOnce(Place) -> bool,
    ) -> Option<Place> {
        match self.name_owners.entry(hash) {
            Entry::Vacant(slot) => {
                slot.insert(place);
                None
            }
            Entry::Occupied(first) if same_name(*first.get()) => Some(*first.get()),
            Entry::Occupied(_) => match self.colliding_names.entry(name.clone()) {
                Entry::Vacant(slot) => {
                    slot.insert(place);
                    None
                }
                Entry::Occupied(first) => Some(*first.get()),
            },
        }
    }
}

/// Reports the problems of every set in id order, in the order they were always reported:
/// the set's own, then per table and per sequence, then a repeated set id.
fn report_set_problems(drafts: &[SetDraft<'_>], nodes: &BTreeMap<NodeId, Node>, p: &mut Vec<Problem>) {
    let mut names = BTreeSet::new();
    let mut ids = BTreeSet::new();
    for (set, draft) in drafts.iter().enumerate() {
        let id = draft.config.id;
        check_id(&draft.label, "set", id.0.into(), p);
        if !names.insert(draft.name.as_str()) {
            p.push(Problem::DuplicateSetName {
                name: draft.name.clone(),
            });
        }
        check_node_ref(nodes, &format!("{} origin", draft.label), draft.origin, p);
        report_relation_problems(drafts, set, Kind::Table, &draft.table_findings, p);
        report_relation_problems(drafts, set, Kind::Sequence, &draft.sequence_findings, p);
        if !ids.insert(id) {
            p.push(Problem::DuplicateSet { set: id });
        }
    }
}

fn report_relation_problems(
    drafts: &[SetDraft<'_>],
    set: usize,
    kind: Kind,
    findings: &Findings,
    p: &mut Vec<Problem>,
) {
    let mut keys = findings.keys.iter().peekable();
    let mut out_of_range = findings.ids_out_of_range.iter().peekable();
    let mut duplicate_ids = findings.duplicate_ids.iter().peekable();
    let mut duplicate_names = findings.duplicate_names.iter().peekable();
    loop {
        let next = [
            keys.peek().map(|f| f.0),
            out_of_range.peek().map(|f| f.0),
            duplicate_ids.peek().map(|f| f.0),
            duplicate_names.peek().map(|f| f.0),
        ]
        .into_iter()
        .flatten()
        .min();
        let Some(index) = next else {
            break;
        };
        let place = Place { set, kind, index };
        let item = relation_item(drafts, place);
        if let Some((_, key)) = keys.next_if(|f| f.0 == index) {
            p.push(Problem::BadIdentifier {
                item: item.clone(),
                name: key.clone(),
                reason: "is a key, but sequences have no key: remove it",
            });
        }
        if let Some(&(_, value)) = out_of_range.next_if(|f| f.0 == index) {
            check_id(&item, kind.word(), value, p);
        }
        if let Some(&(_, id, first)) = duplicate_ids.next_if(|f| f.0 == index) {
            let first = relation_item(drafts, first);
            let second = item.clone();
            p.push(match kind {
                Kind::Table => Problem::DuplicateTableId {
                    id: TableId(id),
                    first,
                    second,
                },
                Kind::Sequence => Problem::DuplicateSequenceId {
                    id: SequenceId(id),
                    first,
                    second,
                },
            });
        }
        if let Some(&(_, first)) = duplicate_names.next_if(|f| f.0 == index) {
            p.push(Problem::DuplicateRelation {
                name: drafts[set].relation_name(kind, index).clone(),
                first: relation_item(drafts, first),
                second: item,
            });
        }
    }
}
#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Cluster;
    use crate::validate::test_support::{check, messages, NODE};

    fn ids(cluster: &Cluster, set: u32) -> (Vec<u32>, Vec<u32>) {
        let set = &cluster.sets[&SetId(set)];
        (
            set.tables.iter().map(|t| t.id.0).collect(),
            set.sequences.iter().map(|s| s.id.0).collect(),
        )
    }
    #[test]
    fn duplicate_names_are_reported_with_both_places_in_set_id_order() {
        let text = format!(
            "{NODE}[[set]]\nid = 2\ntables = [\"public.a\"]\nsequences = [\"b\"]\n\
             [[set]]\nid = 1\ntables = [\"a\", \"b\"]\nsequences = [\"a\"]\n"
        );
        assert_eq!(
            messages(&text),
            [
                "public.a is listed in both set 1 (set1) table public.a and set 1 (set1) sequence public.a: a table or sequence can belong to one set only",
                "public.a is listed in both set 1 (set1) table public.a and set 2 (set2) table public.a: a table or sequence can belong to one set only",
                "public.b is listed in both set 1 (set1) table public.b and set 2 (set2) sequence public.b: a table or sequence can belong to one set only",
            ]
        );
    }

    #[test]
    fn the_problems_of_one_entry_keep_their_order() {
        let text = format!(
            "{NODE}[[set]]\nid = 1\ntables = [{{ name = \"t\", id = 0 }}]\n\
             sequences = [{{ name = \"s\", id = 0 }}]\n\
             [[set]]\nid = 2\nsequences = [{{ name = \"s\", id = 0, key = \"k\" }}]\n\
             tables = [\"u\", {{ name = \"t\", id = 0 }}]\n"
        );
        let range = "is out of range: slonik ids are 1 to 2147483647";
        assert_eq!(
            messages(&text),
            [
                format!("set 1 (set1) table public.t: table id 0 {range}"),
                format!("set 1 (set1) sequence public.s: sequence id 0 {range}"),
                format!("set 2 (set2) table public.t: table id 0 {range}"),
                "table id 0 is used by both set 1 (set1) table public.t and set 2 (set2) table public.t: table ids must be unique across all sets".into(),
                "public.t is listed in both set 1 (set1) table public.t and set 2 (set2) table public.t: a table or sequence can belong to one set only".into(),
                "set 2 (set2) sequence public.s: name `k` is a key, but sequences have no key: remove it".into(),
                format!("set 2 (set2) sequence public.s: sequence id 0 {range}"),
                "sequence id 0 is used by both set 1 (set1) sequence public.s and set 2 (set2) sequence public.s: sequence ids must be unique across all sets".into(),
                "public.s is listed in both set 1 (set1) sequence public.s and set 2 (set2) sequence public.s: a table or sequence can belong to one set only".into(),
            ]
        );
    }

    #[test]
    fn allocated_ids_never_collide_with_explicit_ones() {
        // Explicit ids anywhere, even in a later set, are skipped by the allocator.
        let text = format!(
            "{NODE}[[set]]\nid = 1\ntables = [{{ name = \"a\", id = 2 }}, \"b\", \"c\"]\n\
             [[set]]\nid = 2\ntables = [\"d\", {{ name = \"e\", id = 4 }}, {{ name = \"f\", id = 7 }}, \"g\"]\n"
        );
        let cluster = check(&text).expect("valid");
        assert_eq!(ids(&cluster, 1).0, [2, 1, 3]);
        assert_eq!(ids(&cluster, 2).0, [5, 4, 7, 6]);
    }

    #[test]
    fn duplicate_explicit_ids_are_reported_once_per_repeat() {
        let text = format!(
            "{NODE}[[set]]\nid = 1\ntables = [{{ name = \"a\", id = 3 }}, \"b\", {{ name = \"c\", id = 3 }}]\n\
             [[set]]\nid = 2\ntables = [{{ name = \"d\", id = 3 }}]\n"
        );
        assert_eq!(
            messages(&text),
            [
                "table id 3 is used by both set 1 (set1) table public.a and set 1 (set1) table public.c: table ids must be unique across all sets",
                "table id 3 is used by both set 1 (set1) table public.a and set 2 (set2) table public.d: table ids must be unique across all sets",
            ]
        );
    }

    #[test]
    fn restarting_ids_skips_every_id_handed_out_before() {
        let text = format!(
            "{NODE}[[set]]\nid = 1\ntables = [\"a\", \"b\", \"c\"]\nsequences = [\"s1\", \"s2\"]\n\
             [[set]]\nid = 2\nfirst_table_id = 10\ntables = [\"d\", {{ name = \"e\", id = 13 }}, \"f\", \"g\"]\n\
             [[set]]\nid = 3\nfirst_table_id = 2\nfirst_sequence_id = 1\ntables = [\"h\", \"i\", \"j\"]\nsequences = [\"s3\"]\n\
             [[set]]\nid = 4\nfirst_table_id = 9\ntables = [\"k\", \"l\", \"m\"]\n"
        );
        let cluster = check(&text).expect("valid");
        assert_eq!(ids(&cluster, 1), (vec![1, 2, 3], vec![1, 2]));
        assert_eq!(ids(&cluster, 2).0, [10, 13, 11, 12]);
        assert_eq!(ids(&cluster, 3), (vec![4, 5, 6], vec![3]));
        assert_eq!(ids(&cluster, 4).0, [9, 14, 15]);
    }

    #[test]
    fn allocator_merges_the_runs_it_jumps_over() {
        let mut ids = IdAllocator::new([5].into_iter());
        let take = |ids: &mut IdAllocator, n| (0..n).map(|_| ids.allocate()).collect::<Vec<_>>();
        assert_eq!(take(&mut ids, 3), [1, 2, 3]);
        ids.start_at(Some(8));
        assert_eq!(take(&mut ids, 2), [8, 9]);
        ids.start_at(Some(2));
        // 4 is free, 5 is explicit, 6 and 7 are free, 8 and 9 were handed out.
        assert_eq!(take(&mut ids, 4), [4, 6, 7, 10]);
        ids.start_at(Some(1));
        assert_eq!(take(&mut ids, 1), [11]);
        assert_eq!(ids.earlier_runs, BTreeMap::from([(1, 11)]));
    }

    #[test]
    fn allocating_past_u32_max_reports_instead_of_hanging() {
        let text = format!("{NODE}[[set]]\nid = 1\nfirst_table_id = 4294967295\ntables = [\"a\", \"b\"]\n");
        let range = "is out of range: slonik ids are 1 to 2147483647";
        assert_eq!(
            messages(&text),
            [
                format!("set 1 (set1) table public.a: table id 4294967295 {range}"),
                format!("set 1 (set1) table public.b: table id 4294967296 {range}"),
            ]
        );
    }

    #[test]
    fn names_with_equal_hashes_are_told_apart() {
        let mut claims = Claims {
            table_ids: IdAllocator::new(std::iter::empty()),
            sequence_ids: IdAllocator::new(std::iter::empty()),
            table_owners: FastMap::default(),
            sequence_owners: FastMap::default(),
            name_owners: FastMap::default(),
            colliding_names: HashMap::new(),
        };
        let names = ["a", "b", "a", "c", "b", "c"].map(|n| QualifiedName::new("s", n));
        let place = |index| Place {
            set: 0,
            kind: Kind::Table,
            index,
        };
        // Every name gets the same hash, as if they all collided.
        let firsts: Vec<Option<usize>> = (0..names.len())
            .map(|i| {
                let same = |first: Place| names[first.index] == names[i];
                claims.claim_name(7, &names[i], place(i), same).map(|p| p.index)
            })
            .collect();
        assert_eq!(firsts, [None, None, Some(0), None, Some(1), Some(3)]);
    }

    #[test]
    fn owned_entries_become_tables_in_place() {
        let entries: Vec<TableEntry> = ["a", "s.b"].map(TableEntry::from_short).into();
        let buffer = entries.as_ptr() as usize;
        let tables = Entries::Owned(entries).map("public", |index, name, _, key, comment| Table {
            id: TableId(index as u32 + 1),
            name,
            key,
            comment,
        });
        assert_eq!(tables.as_ptr() as usize, buffer, "a second array was allocated");
        assert_eq!(tables[1].name, QualifiedName::new("s", "b"));
        assert_eq!(tables[0].name, QualifiedName::new("public", "a"));
    }
}
