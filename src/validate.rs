//! Turns a [`ConfigFile`] into a checked [`Cluster`], reporting every problem at once.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use crate::literal::{self, LiteralProblem, Storage};
use crate::model::config::{ConfigFile, SetRef, TableEntry};
use crate::model::conninfo::ConninfoProblem;
use crate::model::ids::{NodeId, SequenceId, SetId, TableId, MAX_ID};
use crate::model::names::{identifier_problem, QualifiedName};
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
            write!(f, "\n  - {p}")?;
        }
        Ok(())
    }
}

impl std::error::Error for Problems {}

/// Checks a config and builds the cluster it describes, or returns every problem found.
pub fn validate(config: &ConfigFile) -> Result<Cluster, Problems> {
    let mut p = Vec::new();
    let version = config.slony_version;
    check_cluster_name(&config.cluster, version, &mut p);
    if config.wait_timeout > MAX_ID {
        p.push(Problem::BadWaitTimeout {
            value: config.wait_timeout,
        });
    }

    let nodes = build_nodes(config, &mut p);
    let default_origin = config
        .default_origin
        .or_else(|| nodes.keys().next().copied())
        .unwrap_or(NodeId(1));
    if config.default_origin.is_some() {
        check_node_ref(&nodes, "default_origin", default_origin, &mut p);
    }
    let sets = build_sets(config, &nodes, default_origin, &mut p);
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
    check_literals(&cluster, &mut p);
    if p.is_empty() {
        Ok(cluster)
    } else {
        Err(Problems(p))
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

fn check_id(item: &str, what: &'static str, value: u32, p: &mut Vec<Problem>) {
    if value == 0 || value > MAX_ID {
        p.push(Problem::IdOutOfRange {
            item: item.to_string(),
            what,
            value: value.into(),
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
        check_id(&format!("node {}", n.id), "node", n.id.0, p);
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

/// Why a configured shell command cannot be used, if it cannot: runbooks print it as one
/// line of a shell script and of a Markdown code block.
fn command_problem(command: &str) -> Option<&'static str> {
    if command.trim().is_empty() {
        Some("is empty: give the command, or leave the key out to use the default slon command line")
    } else if command.contains(['\n', '\r']) {
        Some("spans several lines: write one command line (join commands with `&&`, or call a script)")
    } else if command.contains('\0') {
        Some("contains a NUL byte, which no shell command can carry")
    } else {
        None
    }
}

fn relation_name(entry: &TableEntry, default_schema: &str) -> QualifiedName {
    QualifiedName::new(
        entry.schema.clone().unwrap_or_else(|| default_schema.to_string()),
        entry.name.clone(),
    )
}

/// Hands out ids in file order, skipping ids that are taken explicitly anywhere.
struct IdAllocator {
    taken: BTreeSet<u32>,
    next: u32,
}

impl IdAllocator {
    fn new(explicit: impl Iterator<Item = u32>) -> Self {
        IdAllocator {
            taken: explicit.collect(),
            next: 1,
        }
    }

    fn start_at(&mut self, first: Option<u32>) {
        if let Some(first) = first {
            self.next = first.max(1);
        }
    }

    fn allocate(&mut self) -> u32 {
        while self.taken.contains(&self.next) {
            self.next = self.next.saturating_add(1);
        }
        let id = self.next;
        self.taken.insert(id);
        self.next = self.next.saturating_add(1);
        id
    }
}

fn build_sets(
    config: &ConfigFile,
    nodes: &BTreeMap<NodeId, Node>,
    default_origin: NodeId,
    p: &mut Vec<Problem>,
) -> BTreeMap<SetId, Set> {
    let mut ordered: Vec<_> = config.sets.iter().collect();
    ordered.sort_by_key(|s| s.id);
    let mut tables_ids = IdAllocator::new(ordered.iter().flat_map(|s| s.tables.iter().filter_map(|t| t.id)));
    let mut sequence_ids = IdAllocator::new(
        ordered
            .iter()
            .flat_map(|s| s.sequences.iter().filter_map(|t| t.id)),
    );
    let mut table_owner: BTreeMap<u32, String> = BTreeMap::new();
    let mut sequence_owner: BTreeMap<u32, String> = BTreeMap::new();
    let mut relation_owner: BTreeMap<QualifiedName, String> = BTreeMap::new();
    let mut names = BTreeSet::new();
    let mut sets = BTreeMap::new();

    for s in ordered {
        let name = s.name.clone().unwrap_or_else(|| format!("set{}", s.id));
        let label = format!("set {} ({name})", s.id);
        check_id(&label, "set", s.id.0, p);
        if !names.insert(name.clone()) {
            p.push(Problem::DuplicateSetName { name: name.clone() });
        }
        let origin = s.origin.unwrap_or(default_origin);
        check_node_ref(nodes, &format!("{label} origin"), origin, p);
        let default_schema = s.default_schema.clone().unwrap_or_else(|| "public".into());

        tables_ids.start_at(s.first_table_id);
        let mut tables = Vec::new();
        for entry in &s.tables {
            let qname = relation_name(entry, &default_schema);
            let item = format!("{label} table {qname}");
            let id = entry.id.unwrap_or_else(|| tables_ids.allocate());
            check_id(&item, "table", id, p);
            claim(&mut table_owner, id, &item, p, |first, second| {
                Problem::DuplicateTableId {
                    id: TableId(id),
                    first,
                    second,
                }
            });
            claim_relation(&mut relation_owner, &qname, &item, p);
            tables.push(Table {
                id: TableId(id),
                name: qname,
                key: entry.key.clone(),
                comment: entry.comment.clone(),
            });
        }
        sequence_ids.start_at(s.first_sequence_id);
        let mut sequences = Vec::new();
        for entry in &s.sequences {
            let qname = relation_name(entry, &default_schema);
            let item = format!("{label} sequence {qname}");
            if entry.key.is_some() {
                p.push(Problem::BadIdentifier {
                    item: item.clone(),
                    name: entry.key.clone().unwrap_or_default(),
                    reason: "is a key, but sequences have no key: remove it",
                });
            }
            let id = entry.id.unwrap_or_else(|| sequence_ids.allocate());
            check_id(&item, "sequence", id, p);
            claim(&mut sequence_owner, id, &item, p, |first, second| {
                Problem::DuplicateSequenceId {
                    id: SequenceId(id),
                    first,
                    second,
                }
            });
            claim_relation(&mut relation_owner, &qname, &item, p);
            sequences.push(Sequence {
                id: SequenceId(id),
                name: qname,
                comment: entry.comment.clone(),
            });
        }
        let set = Set {
            id: s.id,
            name,
            origin,
            comment: s.comment.clone(),
            default_schema,
            tables,
            sequences,
        };
        if sets.insert(s.id, set).is_some() {
            p.push(Problem::DuplicateSet { set: s.id });
        }
    }
    sets
}

fn claim(
    owners: &mut BTreeMap<u32, String>,
    id: u32,
    item: &str,
    p: &mut Vec<Problem>,
    problem: impl FnOnce(String, String) -> Problem,
) {
    if let Some(first) = owners.get(&id) {
        p.push(problem(first.clone(), item.to_string()));
    } else {
        owners.insert(id, item.to_string());
    }
}

fn claim_relation(
    owners: &mut BTreeMap<QualifiedName, String>,
    name: &QualifiedName,
    item: &str,
    p: &mut Vec<Problem>,
) {
    if let Some(first) = owners.get(name) {
        p.push(Problem::DuplicateRelation {
            name: name.clone(),
            first: first.clone(),
            second: item.to_string(),
        });
    } else {
        owners.insert(name.clone(), item.to_string());
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

fn check_literals(cluster: &Cluster, p: &mut Vec<Problem>) {
    let version = cluster.version;
    let mut lit = |item: String, text: &str, storage: Storage| {
        for problem in literal::problems(text, storage, version) {
            p.push(Problem::Literal {
                item: item.clone(),
                problem,
            });
        }
    };
    for node in cluster.nodes.values() {
        let label = format!("node {}", node.id);
        if let Some(name) = &node.name {
            lit(format!("{label} name"), name, Storage::Stored);
        }
        if let Some(comment) = &node.comment {
            lit(format!("{label} comment"), comment, Storage::Stored);
        }
    }
    for set in cluster.sets.values() {
        let label = set.label();
        lit(format!("{label} name"), &set.name, Storage::Stored);
        if let Some(comment) = &set.comment {
            lit(format!("{label} comment"), comment, Storage::Stored);
        }
        let relations = set
            .tables
            .iter()
            .map(|t| ("table", &t.name, t.key.as_ref(), t.comment.as_ref()))
            .chain(
                set.sequences
                    .iter()
                    .map(|s| ("sequence", &s.name, None, s.comment.as_ref())),
            );
        for (kind, name, key, comment) in relations {
            let item = format!("{label} {kind} {name}");
            lit(format!("{item} name"), &name.quoted(), Storage::Stored);
            if let Some(key) = key {
                lit(format!("{item} key"), key, Storage::Stored);
            }
            if let Some(comment) = comment {
                lit(format!("{item} comment"), comment, Storage::Stored);
            }
        }
    }
    p.append(&mut identifier_problems(cluster));
    for node in cluster.nodes.values() {
        // The path inherits the admin parts, so report a problem they share only once.
        let admin_problems = node.admin_conninfo(version).err().unwrap_or_default();
        let conninfos = [
            ("admin conninfo", node.admin_conninfo(version), Storage::Local),
            ("path conninfo", node.path_conninfo(version), Storage::Stored),
        ];
        for (what, text, storage) in conninfos {
            let item = format!("node {} {what}", node.id);
            match text {
                Ok(text) => {
                    for problem in literal::problems(&text, storage, version) {
                        p.push(Problem::Literal {
                            item: item.clone(),
                            problem,
                        });
                    }
                }
                Err(problems) => p.extend(
                    problems
                        .into_iter()
                        .filter(|problem| storage == Storage::Local || !admin_problems.contains(problem))
                        .map(|problem| Problem::Conninfo {
                            item: item.clone(),
                            problem,
                        }),
                ),
            }
        }
    }
}

fn identifier_problems(cluster: &Cluster) -> Vec<Problem> {
    let mut out = Vec::new();
    for set in cluster.sets.values() {
        let names = set
            .tables
            .iter()
            .map(|t| ("table", &t.name))
            .chain(set.sequences.iter().map(|s| ("sequence", &s.name)));
        for (kind, name) in names {
            for part in [&name.schema, &name.name] {
                if let Some(reason) = identifier_problem(part) {
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
