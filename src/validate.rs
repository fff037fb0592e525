//! Turns a [`ConfigFile`] into a checked [`Cluster`], reporting every problem at once.

use std::collections::hash_map::Entry;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt;
use std::hash::{BuildHasherDefault, Hasher};

use crate::literal::{self, LiteralProblem, Storage};
use crate::model::config::{ConfigFile, SetConfig, SetRef, TableEntry};
use crate::model::conninfo::ConninfoProblem;
use crate::model::ids::{NodeId, SequenceId, SetId, TableId, MAX_ID};
use crate::model::names::{identifier_problem, QualifiedName, MAX_IDENTIFIER_BYTES};
use crate::model::{Cluster, Node, Sequence, Set, Subscription, Table};
use crate::version::SlonyVersion;

/// One thing wrong with a config. Every variant names the item it is about.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Problem {
    /// The config has no `[[node]]`.
    #[error("the config has no [[node]]: add at least one node")]
    NoNodes,
    /// Two nodes share an id.
    #[error("node {node} is defined twice: give each [[node]] its own id")]
    DuplicateNode {
        /// The id.
        node: NodeId,
    },
    /// Two sets share an id.
    #[error("set {set} is defined twice: give each [[set]] its own id")]
    DuplicateSet {
        /// The id.
        set: SetId,
    },
    /// Two sets share a name.
    #[error("two sets are named `{name}`: set names must be unique")]
    DuplicateSetName {
        /// The name.
        name: String,
    },
    /// An id of 0 or above 2^31-1.
    #[error("{item}: {what} id {value} is out of range: slonik ids are 1 to 2147483647")]
    IdOutOfRange {
        /// Where.
        item: String,
        /// `node`, `set`, `table`, `sequence`.
        what: &'static str,
        /// The value given.
        value: u64,
    },
    /// A table id used twice (Slony needs table ids unique across all sets).
    #[error("table id {id} is used by both {first} and {second}: table ids must be unique across all sets")]
    DuplicateTableId {
        /// The id.
        id: TableId,
        /// First user.
        first: String,
        /// Second user.
        second: String,
    },
    /// A sequence id used twice.
    #[error(
        "sequence id {id} is used by both {first} and {second}: sequence ids must be unique across all sets"
    )]
    DuplicateSequenceId {
        /// The id.
        id: SequenceId,
        /// First user.
        first: String,
        /// Second user.
        second: String,
    },
    /// The same relation listed twice.
    #[error("{name} is listed in both {first} and {second}: a table or sequence can belong to one set only")]
    DuplicateRelation {
        /// The relation.
        name: QualifiedName,
        /// First place.
        first: String,
        /// Second place.
        second: String,
    },
    /// A reference to a node that is not defined.
    #[error("{item} refers to node {node}, which is not defined: add a [[node]] with id = {node} or fix the reference")]
    UnknownNode {
        /// Where.
        item: String,
        /// The id.
        node: NodeId,
    },
    /// A reference to a set that is not defined.
    #[error(
        "{item} refers to set `{set}`, which is not defined: use a set id or name from the [[set]] entries"
    )]
    UnknownSet {
        /// Where.
        item: String,
        /// As written.
        set: String,
    },
    /// A reference to a node that failed over.
    #[error("{item} uses node {node}, which is marked failed: drop it or rebuild it first")]
    FailedNode {
        /// Where.
        item: String,
        /// The id.
        node: NodeId,
    },
    /// The origin listed as a subscriber of its own set.
    #[error(
        "{set_label}: node {node} is the set's origin and cannot subscribe to it: remove that subscription"
    )]
    OriginSubscribes {
        /// The set.
        set_label: String,
        /// The node.
        node: NodeId,
    },
    /// Two subscriptions for the same set and receiver.
    #[error("{set_label}: node {receiver} subscribes twice: keep one [[subscription]]")]
    DuplicateSubscription {
        /// The set.
        set_label: String,
        /// The node.
        receiver: NodeId,
    },
    /// A node subscribing from itself.
    #[error("{set_label}: node {receiver} cannot be its own provider")]
    SelfProvider {
        /// The set.
        set_label: String,
        /// The node.
        receiver: NodeId,
    },
    /// A provider that cannot feed the set.
    #[error("{set_label}: node {receiver} receives from node {provider}, which is neither the origin nor a forwarding subscriber of the set: subscribe node {provider} with forward = true, or pick another provider")]
    ProviderCannotForward {
        /// The set.
        set_label: String,
        /// Subscriber.
        receiver: NodeId,
        /// Provider.
        provider: NodeId,
    },
    /// Providers that feed each other in a loop.
    #[error("{set_label}: providers form a cycle ({}): every chain must lead back to the origin", nodes.iter().map(|n| n.to_string()).collect::<Vec<_>>().join(" -> "))]
    ProviderCycle {
        /// The set.
        set_label: String,
        /// The nodes in the loop.
        nodes: Vec<NodeId>,
    },
    /// A cluster name slonik cannot read.
    #[error("cluster name `{name}` {reason}")]
    BadClusterName {
        /// As written.
        name: String,
        /// Why.
        reason: String,
    },
    /// A PostgreSQL name that cannot exist.
    #[error("{item}: name `{name}` {reason}")]
    BadIdentifier {
        /// Where.
        item: String,
        /// The name.
        name: String,
        /// Why.
        reason: &'static str,
    },
    /// A value that cannot be a slonik literal for the target version.
    #[error("{item}: {problem}")]
    Literal {
        /// Where.
        item: String,
        /// Why.
        problem: LiteralProblem,
    },
    /// A connection value that cannot be written where it must go.
    #[error("{item}: {problem}")]
    Conninfo {
        /// Where (`node 2 admin conninfo`, `node 2 path conninfo`).
        item: String,
        /// Why.
        problem: ConninfoProblem,
    },
    /// A shell command (`slon_start`, `slon_stop`) that cannot be run as one line.
    #[error("{item} {reason}")]
    BadCommand {
        /// Where (`node 2 slon_start`).
        item: String,
        /// Why, and what to do.
        reason: &'static str,
    },
    /// Text holding a control character (a line break, an escape, ...): nothing the config
    /// names may hold one, because it would end a line of a script, a comment or a runbook.
    #[error("{item} contains the control character {} at byte {offset}: names, comments, connection values and commands must be one line of printable text; remove it", crate::escape::describe_control(*character))]
    ControlCharacter {
        /// Where (`node 1 name`, `set 1 (set1) comment`, `node 2 path host`).
        item: String,
        /// The first control character.
        character: char,
        /// Its byte offset in the value.
        offset: usize,
    },
    /// A setting out of the range slonik accepts.
    #[error("wait_timeout = {value} is out of range: use 0 (wait forever) to 2147483647 seconds")]
    BadWaitTimeout {
        /// The value given.
        value: u32,
    },
}

/// All problems found in one config.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problems(pub Vec<Problem>);

impl fmt::Display for Problems {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.0.len();
        write!(f, "{n} problem{}:", if n == 1 { "" } else { "s" })?;
        for p in &self.0 {
            // A message quotes config text, which may hold the control characters it
            // reports: write them as escapes so none reaches the terminal raw.
            write!(f, "\n  - {}", crate::escape::visible(&p.to_string()))?;
        }
        Ok(())
    }
}

impl std::error::Error for Problems {}

/// Checks a config and builds the cluster it describes, or returns every problem found.
pub fn validate(config: &ConfigFile) -> Result<Cluster, Problems> {
    let relations = config
        .sets
        .iter()
        .map(|s| SetEntries {
            tables: Entries::Borrowed(&s.tables),
            sequences: Entries::Borrowed(&s.sequences),
        })
        .collect();
    validate_entries(config, relations)
}

/// Like [`validate`], but takes the config so that the names of its tables and sequences
/// move into the cluster instead of being copied; what loading a config file uses.
pub fn validate_owned(mut config: ConfigFile) -> Result<Cluster, Problems> {
    let relations = config
        .sets
        .iter_mut()
        .map(|s| SetEntries {
            tables: Entries::Owned(std::mem::take(&mut s.tables)),
            sequences: Entries::Owned(std::mem::take(&mut s.sequences)),
        })
        .collect();
    validate_entries(&config, relations)
}

/// `relations[i]` holds the tables and sequences of `config.sets[i]`; the lists inside
/// `config.sets` are not read, because [`validate_owned`] has moved them out.
fn validate_entries(config: &ConfigFile, relations: Vec<SetEntries<'_>>) -> Result<Cluster, Problems> {
    let mut p = Vec::new();
    let version = config.slony_version;
    check_cluster_name(&config.cluster, version, &mut p);
    if config.wait_timeout > MAX_ID {
        p.push(Problem::BadWaitTimeout {
            value: config.wait_timeout,
        });
    }

    check_control_characters(config, &mut p);
    let nodes = build_nodes(config, &mut p);
    let default_origin = config
        .default_origin
        .or_else(|| nodes.keys().next().copied())
        .unwrap_or(NodeId(1));
    if config.default_origin.is_some() {
        check_node_ref(&nodes, "default_origin", default_origin, &mut p);
    }
    let (sets, suspects) = build_sets(config, relations, &nodes, default_origin, &mut p);
    let subscriptions = build_subscriptions(config, &nodes, &sets, &mut p);

    let cluster = Cluster {
        name: config.cluster.clone(),
        version,
        default_origin,
        wait_timeout: config.wait_timeout,
        nodes,
        sets,
        subscriptions,
    };
    check_provider_graph(&cluster, &mut p);
    check_literals(&cluster, &suspects, &mut p);
    if p.is_empty() {
        Ok(cluster)
    } else {
        Err(Problems(p))
    }
}

/// Reports `value` if it holds a control character; `item` is written only then.
fn check_control(value: &str, item: impl FnOnce() -> String, p: &mut Vec<Problem>) {
    if let Some((offset, character)) = crate::escape::control_character(value) {
        p.push(Problem::ControlCharacter {
            item: item(),
            character,
            offset,
        });
    }
}

/// Every text of the nodes, sets and subscriptions that holds a control character. The
/// tables and sequences are checked with their other literal rules ([`check_literals`]),
/// only where they are not plain text.
fn check_control_characters(config: &ConfigFile, p: &mut Vec<Problem>) {
    // The cluster name is checked as a slonik identifier, which no control character is.
    for n in &config.nodes {
        let node = format!("node {}", n.id);
        let texts = [
            ("name", &n.name),
            ("comment", &n.comment),
            ("slon_start", &n.slon_start),
            ("slon_stop", &n.slon_stop),
        ];
        for (key, value) in texts {
            if let Some(value) = value {
                check_control(value, || format!("{node} {key}"), p);
            }
        }
        let mut parts = vec![("", n.connection())];
        if let Some(path) = &n.path {
            parts.push(("path ", path.clone()));
        }
        for (prefix, parts) in parts {
            for (key, value) in parts.params() {
                check_control(&key, || format!("{node} {prefix}option name {key:?}"), p);
                check_control(&value, || format!("{node} {prefix}{key}"), p);
            }
        }
    }
    for s in &config.sets {
        let set = format!("set {}", s.id);
        let texts = [
            ("name", &s.name),
            ("comment", &s.comment),
            ("default_schema", &s.default_schema),
            ("tables_file", &s.tables_file),
            ("sequences_file", &s.sequences_file),
        ];
        for (key, value) in texts {
            if let Some(value) = value {
                check_control(value, || format!("{set} {key}"), p);
            }
        }
    }
    for (i, sub) in config.subscriptions.iter().enumerate() {
        if let SetRef::Name(name) = &sub.set {
            check_control(name, || format!("subscription {} set", i + 1), p);
        }
    }
}

fn check_cluster_name(name: &str, version: SlonyVersion, p: &mut Vec<Problem>) {
    let bad = |reason: String| Problem::BadClusterName {
        name: name.to_string(),
        reason,
    };
    let mut chars = name.chars();
    let first_ok = chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || !c.is_ascii());
    let rest_ok = chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '$' || !c.is_ascii());
    if !first_ok || !rest_ok {
        p.push(bad(
            "is not a slonik identifier: use letters, digits, `_` and `$`, starting with a letter or `_`"
                .into(),
        ));
    } else if version.is_keyword(name) {
        p.push(bad(format!(
            "is a keyword of slonik {version} and cannot be a cluster name: pick another name"
        )));
    } else if name.len() > 46 {
        p.push(bad(
            "is longer than 46 bytes: Slony builds names such as `_<cluster>_truncatetrigger` that must fit PostgreSQL's 63-byte limit".into(),
        ));
    }
}

fn check_id(item: &str, what: &'static str, value: u64, p: &mut Vec<Problem>) {
    if id_out_of_range(value) {
        p.push(Problem::IdOutOfRange {
            item: item.to_string(),
            what,
            value,
        });
    }
}

fn check_node_ref(nodes: &BTreeMap<NodeId, Node>, item: &str, node: NodeId, p: &mut Vec<Problem>) {
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

fn build_nodes(config: &ConfigFile, p: &mut Vec<Problem>) -> BTreeMap<NodeId, Node> {
    if config.nodes.is_empty() {
        p.push(Problem::NoNodes);
    }
    let mut nodes = BTreeMap::new();
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
        };
        for (key, command) in [("slon_start", &n.slon_start), ("slon_stop", &n.slon_stop)] {
            if let Some(reason) = command.as_deref().and_then(command_problem) {
                p.push(Problem::BadCommand {
                    item: format!("node {} {key}", n.id),
                    reason,
                });
            }
        }
        if nodes.insert(n.id, node).is_some() {
            p.push(Problem::DuplicateNode { node: n.id });
        }
    }
    for n in nodes.values() {
        if let Some(provider) = n.provider {
            if !n.failed {
                check_node_ref(&nodes, &format!("node {} provider", n.id), provider, p);
            }
        }
    }
    nodes
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

/// The tables or the sequences of one set: borrowed from the config (their names are copied
/// into the cluster) or taken from it (their names are moved).
enum Entries<'a> {
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
struct SetEntries<'a> {
    tables: Entries<'a>,
    sequences: Entries<'a>,
}

/// Whether a relation is a table or a sequence: they have separate ids, but share names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
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

/// Hashing for the maps of ids and name hashes that find duplicates: the keys come from the
/// operator's own file, so resisting crafted collisions (what the default SipHash is for)
/// buys nothing. The maps are only looked up, never iterated into anything rendered.
#[derive(Default)]
struct FastHasher(u64);

impl Hasher for FastHasher {
    fn write(&mut self, bytes: &[u8]) {
        for &byte in bytes {
            self.write_u64(byte.into());
        }
    }

    fn write_u32(&mut self, i: u32) {
        self.write_u64(i.into());
    }

    fn write_u64(&mut self, i: u64) {
        self.0 = fold(self.0 ^ i ^ 0x243f_6a88_85a3_08d3, 0x9e37_79b9_7f4a_7c15);
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

/// The two halves of the 128-bit product xor-ed: the mixing step of wyhash.
fn fold(a: u64, b: u64) -> u64 {
    let product = u128::from(a) * u128::from(b);
    (product as u64) ^ ((product >> 64) as u64)
}

/// A hash of `name` for finding repeated names. Equal names hash alike, and a repeat is
/// only reported after comparing the names, so the hash only has to be fast and spread
/// well: wyhash-style, each part of up to 16 bytes (nearly every name) read with two loads.
fn name_hash(name: &QualifiedName) -> u64 {
    let schema = part_hash(name.schema.as_bytes(), 0x8ebc_6af0_9c88_c6e3);
    part_hash(name.name.as_bytes(), schema)
}

fn part_hash(bytes: &[u8], seed: u64) -> u64 {
    const K1: u64 = 0xa076_1d64_78bd_642f;
    const K2: u64 = 0xe703_7ed1_a0b4_28db;
    let word = |at: usize| {
        let mut buf = [0; 8];
        buf.copy_from_slice(&bytes[at..at + 8]);
        u64::from_le_bytes(buf)
    };
    let half = |at: usize| {
        let mut buf = [0; 4];
        buf.copy_from_slice(&bytes[at..at + 4]);
        u64::from(u32::from_le_bytes(buf))
    };
    let len = bytes.len();
    let mut seed = seed;
    // The first and the last bytes, overlapping when the part is shorter than their sum.
    let (a, b) = match len {
        0 => (0, 0),
        1..=3 => (
            u64::from(bytes[0]) << 16 | u64::from(bytes[len / 2]) << 8 | u64::from(bytes[len - 1]),
            0,
        ),
        4..=7 => (half(0), half(len - 4)),
        8..=16 => (word(0), word(len - 8)),
        _ => {
            let mut at = 0;
            while len - at > 16 {
                seed = fold(word(at) ^ K1, word(at + 8) ^ seed);
                at += 16;
            }
            (word(len - 16), word(len - 8))
        }
    };
    fold(a ^ K1 ^ seed, b ^ K2 ^ len as u64)
}

type FastMap<K, V> = HashMap<K, V, BuildHasherDefault<FastHasher>>;

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

fn id_out_of_range(value: u64) -> bool {
    value == 0 || value > u64::from(MAX_ID)
}

fn build_sets(
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
type Suspects = BTreeMap<SetId, Vec<(Kind, usize)>>;

/// Whether `text` is printable ASCII without `'`, `\` or `"`, and at most 255 bytes long:
/// such text is a good literal for every version (and so is a name quoted from two such
/// parts), so the exact checks, and their messages, are left to the rare text that is not.
fn plain_text(text: &str) -> bool {
    // No early exit: the loop then compiles to vector compares, which matter for comments.
    text.len() <= 255
        && text.bytes().fold(true, |plain, b| {
            plain & (b' '..=b'~').contains(&b) & (b != b'\'') & (b != b'\\') & (b != b'"')
        })
}

/// Whether both parts of `name` are plain text and good PostgreSQL identifiers.
fn plain_name(name: &QualifiedName) -> bool {
    let part = |part: &str| (1..=MAX_IDENTIFIER_BYTES).contains(&part.len()) && plain_text(part);
    part(&name.schema) && part(&name.name)
}

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

/// Which of `hashes` may belong to a repeated name: a hash alone in its slot of a table
/// eight times larger than `hashes` cannot, and that is over 90% of them. Only the rest go
/// through the map that finds the first of each name; the bit sets fit in the L2 cache, the
/// map of all 100,000 names did not.
fn shared_hash_slots(hashes: &[u64]) -> HashSlots {
    let slots = (hashes.len() * 8).next_power_of_two().max(64);
    let mut seen = vec![0u64; slots / 64];
    let mut shared = HashSlots {
        bits: vec![0u64; slots / 64],
        mask: slots as u64 - 1,
    };
    for &hash in hashes {
        let (word, bit) = shared.position(hash);
        if seen[word] & bit != 0 {
            shared.bits[word] |= bit;
        } else {
            seen[word] |= bit;
        }
    }
    shared
}

/// A set of hash slots (the low bits of a hash).
struct HashSlots {
    bits: Vec<u64>,
    mask: u64,
}

impl HashSlots {
    fn position(&self, hash: u64) -> (usize, u64) {
        let slot = hash & self.mask;
        ((slot / 64) as usize, 1 << (slot % 64))
    }

    fn contains(&self, hash: u64) -> bool {
        let (word, bit) = self.position(hash);
        self.bits[word] & bit != 0
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

fn find_set(sets: &BTreeMap<SetId, Set>, set: &SetRef) -> Option<SetId> {
    match set {
        SetRef::Id(id) => sets.contains_key(&SetId(*id)).then_some(SetId(*id)),
        SetRef::Name(name) => sets.values().find(|s| &s.name == name).map(|s| s.id).or_else(|| {
            let id: u32 = name.strip_prefix("set")?.parse().ok()?;
            sets.contains_key(&SetId(id)).then_some(SetId(id))
        }),
    }
}

fn build_subscriptions(
    config: &ConfigFile,
    nodes: &BTreeMap<NodeId, Node>,
    sets: &BTreeMap<SetId, Set>,
    p: &mut Vec<Problem>,
) -> BTreeMap<(SetId, NodeId), Subscription> {
    let mut subscriptions = BTreeMap::new();
    for sub in &config.subscriptions {
        let Some(set_id) = find_set(sets, &sub.set) else {
            p.push(Problem::UnknownSet {
                item: format!("subscription of node {}", sub.receiver),
                set: sub.set.to_string(),
            });
            continue;
        };
        let set = &sets[&set_id];
        let item = format!("{} subscription of node {}", set.label(), sub.receiver);
        check_node_ref(nodes, &item, sub.receiver, p);
        let Some(receiver) = nodes.get(&sub.receiver) else {
            continue;
        };
        let provider = sub.provider.or(receiver.provider).unwrap_or(set.origin);
        check_node_ref(nodes, &format!("{item} provider"), provider, p);
        if sub.receiver == set.origin {
            p.push(Problem::OriginSubscribes {
                set_label: set.label(),
                node: sub.receiver,
            });
            continue;
        }
        if provider == sub.receiver {
            p.push(Problem::SelfProvider {
                set_label: set.label(),
                receiver: sub.receiver,
            });
            continue;
        }
        let subscription = Subscription {
            set: set_id,
            receiver: sub.receiver,
            provider,
            forward: sub.forward.unwrap_or(receiver.forward),
        };
        if subscriptions
            .insert((set_id, sub.receiver), subscription)
            .is_some()
        {
            p.push(Problem::DuplicateSubscription {
                set_label: set.label(),
                receiver: sub.receiver,
            });
        }
    }
    subscriptions
}

fn check_provider_graph(cluster: &Cluster, p: &mut Vec<Problem>) {
    let mut reported_cycles = BTreeSet::new();
    for sub in cluster.subscriptions.values() {
        let Some(set) = cluster.sets.get(&sub.set) else {
            continue;
        };
        if sub.provider != set.origin
            && cluster.nodes.contains_key(&sub.provider)
            && !cluster.can_provide(sub.set, sub.provider)
        {
            p.push(Problem::ProviderCannotForward {
                set_label: set.label(),
                receiver: sub.receiver,
                provider: sub.provider,
            });
            continue;
        }
        // Follow providers towards the origin; a repeat means a loop.
        let mut seen = vec![sub.receiver];
        let mut current = sub.provider;
        while current != set.origin {
            if let Some(pos) = seen.iter().position(|n| *n == current) {
                let mut cycle = seen[pos..].to_vec();
                let smallest = *cycle.iter().min().expect("non-empty");
                if reported_cycles.insert((sub.set, smallest)) {
                    let start = cycle.iter().position(|n| *n == smallest).expect("present");
                    cycle.rotate_left(start);
                    cycle.push(smallest);
                    p.push(Problem::ProviderCycle {
                        set_label: set.label(),
                        nodes: cycle,
                    });
                }
                break;
            }
            seen.push(current);
            match cluster.subscriptions.get(&(sub.set, current)) {
                Some(next) => current = next.provider,
                None => break,
            }
        }
    }
}

/// Reports the literal problems of `text`, writing the item's name only when there is one:
/// naming each of 100,000 tables would cost more than checking them.
fn check_literal(
    text: &str,
    storage: Storage,
    version: SlonyVersion,
    item: impl FnOnce() -> String,
    p: &mut Vec<Problem>,
) {
    let mut problems = literal::problems(text, storage, version);
    // A NUL is a control character, reported with the item's other texts.
    problems.retain(|problem| *problem != LiteralProblem::Nul);
    if problems.is_empty() {
        return;
    }
    let item = item();
    p.extend(problems.into_iter().map(|problem| Problem::Literal {
        item: item.clone(),
        problem,
    }));
}

fn check_literals(cluster: &Cluster, suspects: &Suspects, p: &mut Vec<Problem>) {
    let version = cluster.version;
    for node in cluster.nodes.values() {
        let label = format!("node {}", node.id);
        if let Some(name) = &node.name {
            check_literal(name, Storage::Stored, version, || format!("{label} name"), p);
        }
        if let Some(comment) = &node.comment {
            check_literal(
                comment,
                Storage::Stored,
                version,
                || format!("{label} comment"),
                p,
            );
        }
    }
    let mut quoted = String::new();
    for set in cluster.sets.values() {
        let label = set.label();
        check_literal(&set.name, Storage::Stored, version, || format!("{label} name"), p);
        if let Some(comment) = &set.comment {
            check_literal(
                comment,
                Storage::Stored,
                version,
                || format!("{label} comment"),
                p,
            );
        }
        for (kind, name, key, comment) in suspect_relations(set, suspects) {
            let item = |what: &str| format!("{label} {kind} {name} {what}");
            check_control(&name.schema, || item("schema"), p);
            check_control(&name.name, || item("name"), p);
            for (what, text) in [("key", key), ("comment", comment)] {
                if let Some(text) = text {
                    check_control(text, || item(what), p);
                }
            }
            quoted.clear();
            name.quoted_into(&mut quoted);
            check_literal(&quoted, Storage::Stored, version, || item("name"), p);
            if let Some(key) = key {
                check_literal(key, Storage::Stored, version, || item("key"), p);
            }
            if let Some(comment) = comment {
                check_literal(comment, Storage::Stored, version, || item("comment"), p);
            }
        }
    }
    p.append(&mut identifier_problems(cluster, suspects));
    for node in cluster.nodes.values() {
        let admin = node.admin_conninfo(version);
        // The path inherits the admin parts, so report a problem they share only once.
        let admin_problems = admin.as_ref().err().cloned().unwrap_or_default();
        let conninfos = [
            ("admin conninfo", admin, Storage::Local),
            ("path conninfo", node.path_conninfo(version), Storage::Stored),
        ];
        for (what, text, storage) in conninfos {
            let item = || format!("node {} {what}", node.id);
            match text {
                Ok(text) => check_literal(&text, storage, version, item, p),
                Err(problems) => {
                    let item = item();
                    p.extend(
                        problems
                            .into_iter()
                            .filter(|problem| storage == Storage::Local || !admin_problems.contains(problem))
                            .map(|problem| Problem::Conninfo {
                                item: item.clone(),
                                problem,
                            }),
                    )
                }
            }
        }
    }
}

/// The kind, name, key and comment of the tables and sequences of `set` that `suspects` lists,
/// in order: every other one is plain and has no problem to report.
fn suspect_relations<'a>(
    set: &'a Set,
    suspects: &'a Suspects,
) -> impl Iterator<
    Item = (
        &'static str,
        &'a QualifiedName,
        Option<&'a String>,
        Option<&'a String>,
    ),
> {
    let listed = suspects.get(&set.id).map_or(&[][..], Vec::as_slice);
    listed.iter().map(|&(kind, index)| match kind {
        Kind::Table => {
            let t = &set.tables[index];
            ("table", &t.name, t.key.as_ref(), t.comment.as_ref())
        }
        Kind::Sequence => {
            let s = &set.sequences[index];
            ("sequence", &s.name, None, s.comment.as_ref())
        }
    })
}

fn identifier_problems(cluster: &Cluster, suspects: &Suspects) -> Vec<Problem> {
    let mut out = Vec::new();
    for set in cluster.sets.values() {
        for (kind, name, _, _) in suspect_relations(set, suspects) {
            for part in [&name.schema, &name.name] {
                // A NUL is reported as a control character.
                if let Some(reason) = identifier_problem(part).filter(|_| !part.contains('\0')) {
                    out.push(Problem::BadIdentifier {
                        item: format!("{} {kind} {name}", set.label()),
                        name: part.clone(),
                        reason,
                    });
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use std::hash::BuildHasher;

    use super::*;

    /// Validates both ways, checking that they agree, and returns the result.
    fn check(text: &str) -> Result<Cluster, Vec<String>> {
        let config: ConfigFile = toml::from_str(text).expect("test configs parse");
        let borrowed = validate(&config);
        assert_eq!(
            borrowed,
            validate_owned(config),
            "validate and validate_owned differ"
        );
        borrowed.map_err(|problems| problems.0.iter().map(ToString::to_string).collect())
    }

    fn messages(text: &str) -> Vec<String> {
        check(text).expect_err("the config has problems")
    }

    #[test]
    fn control_characters_are_refused_in_every_text_with_the_item_named() {
        let hostile = [
            ('\n', "\\n"),
            ('\r', "\\r"),
            ('\u{1b}', "\\u001b"),
            ('\u{7f}', "\\u007f"),
            ('\u{85}', "\\u0085"),
            ('\u{2028}', "\\u2028"),
            ('\u{2029}', "\\u2029"),
            ('\0', "\\u0000"),
        ];
        let fields = [
            ("node 1 name", "[[node]]\nid = 1\nhost = \"a\"\nname = \"X\"\n"),
            ("node 1 comment", "[[node]]\nid = 1\nhost = \"a\"\ncomment = \"X\"\n"),
            ("node 1 host", "[[node]]\nid = 1\nhost = \"X\"\n"),
            ("node 1 dbname", "[[node]]\nid = 1\nhost = \"a\"\ndbname = \"X\"\n"),
            ("node 1 user", "[[node]]\nid = 1\nhost = \"a\"\nuser = \"X\"\n"),
            ("node 1 password", "[[node]]\nid = 1\nhost = \"a\"\npassword = \"X\"\n"),
            ("node 1 passfile", "[[node]]\nid = 1\nhost = \"a\"\npassfile = \"X\"\n"),
            ("node 1 application_name", "[[node]]\nid = 1\nhost = \"a\"\n[node.options]\napplication_name = \"X\"\n"),
            ("node 1 path host", "[[node]]\nid = 1\nhost = \"a\"\n[node.path]\nhost = \"X\"\n"),
            ("node 1 slon_start", "[[node]]\nid = 1\nhost = \"a\"\nslon_start = \"X\"\n"),
            ("node 1 slon_stop", "[[node]]\nid = 1\nhost = \"a\"\nslon_stop = \"X\"\n"),
            ("set 1 name", "[[node]]\nid = 1\nhost = \"a\"\n[[set]]\nid = 1\nname = \"X\"\n"),
            ("set 1 comment", "[[node]]\nid = 1\nhost = \"a\"\n[[set]]\nid = 1\ncomment = \"X\"\n"),
            ("set 1 default_schema", "[[node]]\nid = 1\nhost = \"a\"\n[[set]]\nid = 1\ndefault_schema = \"X\"\n"),
            ("table", "[[node]]\nid = 1\nhost = \"a\"\n[[set]]\nid = 1\ntables = [\"X\"]\n"),
            ("key", "[[node]]\nid = 1\nhost = \"a\"\n[[set]]\nid = 1\ntables = [{ name = \"t\", key = \"X\" }]\n"),
            ("sequence", "[[node]]\nid = 1\nhost = \"a\"\n[[set]]\nid = 1\nsequences = [\"X\"]\n"),
            ("subscription 1 set", "[[node]]\nid = 1\nhost = \"a\"\n[[node]]\nid = 2\nhost = \"b\"\n[[set]]\nid = 1\n[[subscription]]\nset = \"X\"\nreceiver = 2\n"),
        ];
        for (c, toml_escape) in hostile {
            for (item, template) in fields {
                let text = format!(
                    "cluster = \"c\"\nslony_version = \"2.2\"\n{}",
                    template.replace('X', &format!("a{toml_escape}b"))
                );
                let found = messages(&text);
                let hit = found
                    .iter()
                    .find(|m| m.contains("control character"))
                    .unwrap_or_else(|| panic!("{item} with {c:?} was not refused: {found:?}"));
                assert!(hit.contains(item), "{item}: {hit}");
                assert!(hit.contains(&describe(c)), "{item}: {hit}");
            }
        }

        fn describe(c: char) -> String {
            crate::escape::describe_control(c)
        }
    }

    #[test]
    fn problems_never_print_a_control_character() {
        let text = "cluster = \"c\"\n[[node]]\nid = 1\nhost = \"a\"\nname = \"x\\u001b[31m\\ny\"\n";
        let config: ConfigFile = toml::from_str(text).unwrap();
        let shown = validate(&config).unwrap_err().to_string();
        assert!(shown.contains("U+001B (escape)"), "{shown}");
        assert!(!shown.contains('\u{1b}'), "{shown:?}");
        assert_eq!(shown.lines().count(), 2, "{shown:?}");
    }

    fn ids(cluster: &Cluster, set: u32) -> (Vec<u32>, Vec<u32>) {
        let set = &cluster.sets[&SetId(set)];
        (
            set.tables.iter().map(|t| t.id.0).collect(),
            set.sequences.iter().map(|s| s.id.0).collect(),
        )
    }

    const NODE: &str = "cluster = \"c\"\n[[node]]\nid = 1\nhost = \"127.0.0.1\"\n";

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
    fn literal_problems_name_the_entry() {
        let text = format!(
            "slony_version = \"2.1\"\n{NODE}[[set]]\nid = 1\n\
             tables = [\"ok\", {{ name = \"o'k\", key = \"k\\\\\", comment = \"c'\" }}]\nsequences = [\"x\\\\y.s\"]\n"
        );
        assert_eq!(
            messages(&text),
            [
                "set 1 (set1) table public.o'k name: contains a single quote ('), which slonik 2.1 cannot express in a literal (only 2.2 can); remove it or target Slony-I 2.2",
                "set 1 (set1) table public.o'k key: contains a backslash (\\), which slonik doubles when it stores the value in the catalog; remove it",
                "set 1 (set1) table public.o'k comment: contains a single quote ('), which slonik 2.1 cannot express in a literal (only 2.2 can); remove it or target Slony-I 2.2",
                "set 1 (set1) sequence x\\y.s name: contains a backslash (\\), which slonik doubles when it stores the value in the catalog; remove it",
            ]
        );
    }

    #[test]
    fn plain_text_is_a_good_literal_and_identifier_for_every_version() {
        // The exact checks are skipped for plain text: this is what makes that safe.
        let plain: Vec<u8> = (b' '..=b'~')
            .filter(|b| !matches!(b, b'\'' | b'\\' | b'"'))
            .collect();
        let text: String = plain.iter().cycle().take(255).map(|&b| char::from(b)).collect();
        assert!(plain_text(&text));
        let part = &text[..MAX_IDENTIFIER_BYTES];
        let name = QualifiedName::new(part, part);
        assert!(plain_name(&name));
        for version in SlonyVersion::ALL {
            for storage in [Storage::Stored, Storage::Local] {
                assert_eq!(literal::problems(&text, storage, version), []);
                assert_eq!(literal::problems(&name.quoted(), storage, version), []);
            }
        }
        assert_eq!(identifier_problem(part), None);
        assert_eq!(identifier_problem(&part[..1]), None);
        for not_plain in ["a'b", "a\\b", "a\"b", "a\0b", "é", "a\nb", &"x".repeat(256)] {
            assert!(!plain_text(not_plain), "{not_plain:?}");
        }
        assert!(!plain_name(&QualifiedName::new("", "t")));
        assert!(!plain_name(&QualifiedName::new("s", "x".repeat(64))));
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

    #[test]
    fn name_hashes_spread_over_the_slots() {
        let mut names = Vec::new();
        for len in [1, 3, 5, 7, 8, 12, 16, 17, 40] {
            for i in 0..512 {
                let name = format!("{i:0>len$}");
                names.push(QualifiedName::new("public", name.clone()));
                names.push(QualifiedName::new(name, "t"));
            }
        }
        names.sort();
        names.dedup();
        for bits in [12, 16] {
            let slots: BTreeSet<u64> = names.iter().map(|n| name_hash(n) & ((1 << bits) - 1)).collect();
            // Random hashes would fill about 1 - e^-(names/slots) of the slots; a weak mix far fewer.
            let expected =
                (1.0 - (-(names.len() as f64) / f64::from(1 << bits)).exp()) * f64::from(1 << bits);
            assert!(
                slots.len() as f64 > 0.9 * expected,
                "{} of ~{expected} slots",
                slots.len()
            );
        }
        assert_ne!(
            name_hash(&QualifiedName::new("ab", "c")),
            name_hash(&QualifiedName::new("a", "bc"))
        );
        let ids = BuildHasherDefault::<FastHasher>::default();
        let slots: BTreeSet<u64> = (0..4096u32).map(|id| ids.hash_one(id) & 0xfff).collect();
        assert!(slots.len() > 2400, "{} slots", slots.len());
    }

    #[test]
    fn shared_hash_slots_hold_every_repeated_hash() {
        let slots = 1 << 6; // eight per hash, at least 64
        let hashes = [1, 2, 3, 1 + slots, 5, 2];
        let shared = shared_hash_slots(&hashes);
        let flagged: Vec<bool> = hashes.iter().map(|&h| shared.contains(h)).collect();
        assert_eq!(flagged, [true, true, false, true, false, true]);
    }
}
