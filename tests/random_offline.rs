//! Randomized checks of the generator against the real slonik 2.2.11.
//!
//! * Random valid clusters (1–20 nodes, cascades, several sets with different origins,
//!   hostile but legal names, explicit and implicit ids, odd conninfo values), every
//!   operation of [`OperationArgs`] with arguments chosen so that most of them succeed: each
//!   2.2 script must be accepted by the real `slonik` (exit 0) through the suite's offline
//!   check, `tests/common/offline.rs`. The same is checked again on the state one operation
//!   leaves behind (failed nodes, moved origins, merged sets), and that state must reload
//!   from its own TOML.
//! * The same clusters for 1.2, 2.0 and 2.1 (no binaries here): every operation renders or
//!   returns a typed error, never panics.
//! * Broken configs (unknown references, duplicate ids, provider cycles, keyword cluster
//!   names, `'` before 2.2, over-long literals, backslashes in stored values, ids 0 and
//!   above 2^31-1, unknown fields, garbage TOML, random bytes) and bad operation arguments:
//!   always a typed error, never a panic, never a script.
//!
//! How to run:
//!
//! ```text
//! cargo test --test random_offline -- --nocapture     # 512 clusters against slonik
//! SLONIK_GEN_PROPTEST_CASES=100000 cargo test --release --test random_offline -- --nocapture
//! ```
//!
//! One case is one random cluster with every operation run on it (and again on the state
//! one of them leaves). By default the slonik property runs 512 cases and the cheaper
//! properties 256 or 512; `SLONIK_GEN_PROPTEST_CASES` (or proptest's own `PROPTEST_CASES`)
//! sets the number for every property, and `--nocapture` shows per-operation counts of
//! scripts and refusals. `PROPTEST_RNG_SEED` fixes the seed. In release mode the slonik
//! property checks about 15 clusters (500 scripts) a second on 2 cores, so 100,000 cases
//! take one to two hours. Without `slonik` on
//! PATH the slonik part is skipped with one line on stderr (the no-panic properties still
//! run); `SLONIK_GEN_E2E=1` turns that into a failure. A failing case is shrunk, printed
//! with its config and script, and saved in `tests/random_offline.proptest-regressions`,
//! which is replayed first on every later run: commit that file.
//!
//! The offline check joins the scripts of one cluster that share a header (same nodes
//! listed) into one slonik run, and checks the parts of a rejected run one by one to name
//! the culprit (`tests/common/offline.rs` says why that is sound); the summary counts the
//! runs.

mod common;

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use proptest::prelude::*;
use proptest::sample::Index;
use proptest::test_runner::{Config, FileFailurePersistence, TestCaseError, TestError, TestRunner};
use slonik_gen::model::{NodeId, SetId};
use slonik_gen::ops::{Change, Ddl, OpError};
use slonik_gen::resolve::OperationArgs;
use slonik_gen::validate::Problem;
use slonik_gen::{load_config_str, Cluster, LoadError, SlonyVersion};

const MAX_ID: u32 = i32::MAX as u32;
const CONFIG_NAME: &str = "random.toml";
const DEFAULT_CASES: u32 = 512;

// ---------------------------------------------------------------------------------------
// Test plumbing
// ---------------------------------------------------------------------------------------

/// Cases per property: `SLONIK_GEN_PROPTEST_CASES`, else `PROPTEST_CASES`, else `default`.
fn cases(default: u32) -> u32 {
    ["SLONIK_GEN_PROPTEST_CASES", "PROPTEST_CASES"]
        .iter()
        .find_map(|var| std::env::var(var).ok()?.trim().parse().ok())
        .unwrap_or(default)
}

fn runner(default_cases: u32) -> TestRunner {
    TestRunner::new(Config {
        cases: cases(default_cases),
        source_file: Some(file!()),
        // Next to this file: tests/random_offline.proptest-regressions.
        failure_persistence: Some(Box::new(FileFailurePersistence::WithSource(
            "proptest-regressions",
        ))),
        ..Config::default()
    })
}

/// Runs a property; a failure panics with the shrunk case and its message.
fn check<S: Strategy>(
    name: &str,
    default_cases: u32,
    strategy: S,
    test: impl Fn(S::Value) -> Result<(), TestCaseError>,
) where
    S::Value: std::fmt::Debug,
{
    let mut runner = runner(default_cases);
    match runner.run(&strategy, test) {
        Ok(()) => {}
        Err(TestError::Fail(reason, value)) => {
            panic!("{name}: {reason}\nminimal failing input: {value:#?}")
        }
        Err(TestError::Abort(reason)) => panic!("{name}: aborted: {reason}"),
    }
}

/// A small deterministic generator for argument choices, seeded by proptest.
#[derive(Debug, Clone)]
struct Picker(u64);

impl Picker {
    fn next(&mut self) -> u64 {
        // splitmix64
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next() % n as u64) as usize
        }
    }

    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }

    fn pick<T: Clone>(&mut self, items: &[T]) -> Option<T> {
        (!items.is_empty()).then(|| items[self.below(items.len())].clone())
    }
}

// ---------------------------------------------------------------------------------------
// Hostile text
// ---------------------------------------------------------------------------------------

/// Pieces that have broken slonik scripts, SQL or shells before.
const ATOMS: &[&str] = &[
    " ",
    "  ",
    "\"",
    "\"\"",
    "#",
    "# not a comment",
    "@x",
    "@",
    ";",
    "(",
    ")",
    ",",
    "=",
    "{",
    "}",
    "%s",
    "%q",
    "$1",
    "$$",
    "*",
    "/",
    "-",
    "--",
    "/*",
    "*/",
    ".",
    "é",
    "Ä",
    "ß",
    "Ж",
    "名前",
    "😀",
    "e\u{301}",
    "\u{a0}",
    "\t",
    "\n",
    "echo",
    "exit 0;",
    "include <x>;",
    "define a b;",
    "'",
    "''",
    "'; exit 1; echo '",
    "\\",
    "\\'",
    "SeT",
    "node",
    "try {",
    "}",
    "Capital Idea",
    "Studly Spacey Schema",
    "public",
    "_",
    "0",
];

/// What a generated text may contain.
#[derive(Debug, Clone, Copy)]
struct Allow {
    quote: bool,
    backslash: bool,
    whitespace: bool,
    newline: bool,
}

impl Allow {
    /// A value slonik stores in its catalog (comments, names, keys): never a backslash,
    /// a `'` only on 2.2, and no control character (validation refuses them in every
    /// text of a config).
    fn stored(version: SlonyVersion) -> Allow {
        Allow {
            quote: version >= SlonyVersion::V2_2,
            backslash: false,
            whitespace: true,
            newline: false,
        }
    }

    /// A value slonik only uses itself (SQL text, file names): backslashes are fine, and
    /// SQL given on the command line may span lines.
    fn local(version: SlonyVersion) -> Allow {
        Allow {
            backslash: true,
            newline: true,
            ..Allow::stored(version)
        }
    }

    fn permits(self, c: char) -> bool {
        c != '\0'
            && (self.quote || c != '\'')
            && (self.backslash || c != '\\')
            && (self.newline || !slonik_gen::escape::is_control(c))
            && (self.whitespace || !c.is_whitespace())
    }
}

fn truncate_bytes(text: &mut String, max: usize) {
    if text.len() > max {
        let mut end = max;
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        text.truncate(end);
    }
}

/// Text made of letters, digits and [`ATOMS`], filtered by `allow`, 1 to `max` bytes.
///
/// Drawn from a seed rather than from per-character strategies: an order of magnitude
/// faster to generate, and shrinking still reduces the number of pieces.
fn hostile(allow: Allow, max: usize) -> impl Strategy<Value = String> {
    const ALNUM: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_";
    (1usize..12, any::<u64>()).prop_map(move |(pieces, seed)| {
        let mut p = Picker(seed);
        let mut text = String::new();
        for _ in 0..pieces {
            if p.chance(60) {
                for _ in 0..=p.below(8) {
                    text.push(char::from(ALNUM[p.below(ALNUM.len())]));
                }
            } else {
                text.push_str(ATOMS[p.below(ATOMS.len())]);
            }
        }
        text.retain(|c| allow.permits(c));
        truncate_bytes(&mut text, max);
        if text.is_empty() {
            text.push('x');
        }
        text
    })
}

/// A PostgreSQL identifier (schema or relation): 1 to 63 bytes, often exactly 63.
fn identifier(version: SlonyVersion) -> impl Strategy<Value = String> {
    let allow = Allow::stored(version);
    prop_oneof![
        4 => hostile(allow, 63),
        1 => (hostile(allow, 63), "[A-Za-z0-9]{63}").prop_map(|(start, fill)| {
            let mut text = start + &fill;
            truncate_bytes(&mut text, 63);
            text
        }),
    ]
}

/// The length of `text` once written as a slonik literal (quotes doubled), without its quotes.
fn escaped_len(text: &str) -> usize {
    text.len() + text.matches('\'').count()
}

/// A comment: short, or filling the version's literal limit exactly.
fn comment(version: SlonyVersion) -> impl Strategy<Value = String> {
    let allow = Allow::stored(version);
    let limit = if version >= SlonyVersion::V2_1 { 511 } else { 900 };
    prop_oneof![
        4 => hostile(allow, 120),
        1 => hostile(allow, 120).prop_map(move |mut text| {
            while escaped_len(&text) > limit {
                text.pop();
            }
            let missing = limit - escaped_len(&text);
            text.push_str(&"a".repeat(missing));
            text
        }),
    ]
}

/// A name for the command line: no surrounding whitespace, never all digits or `set<N>`
/// (those spell set ids), so every set is reachable by its name. Sometimes as long as a
/// literal can be.
fn set_name(version: SlonyVersion) -> impl Strategy<Value = String> {
    prop_oneof![4 => hostile(Allow::stored(version), 40), 1 => comment(version)].prop_map(|text| {
        let trimmed = text.trim();
        let digits = trimmed.strip_prefix("set").unwrap_or(trimmed);
        if trimmed.is_empty() || digits.chars().all(|c| c.is_ascii_digit()) {
            format!("s{trimmed}x")
        } else {
            trimmed.to_string()
        }
    })
}

/// A cluster name slonik can read: a letter, `_` or non-ASCII first, then also digits and
/// `$`; no keyword of any version; at most 46 bytes.
fn cluster_name() -> impl Strategy<Value = String> {
    let tail = prop_oneof![
        4 => "[A-Za-z0-9_$]{1,6}",
        1 => prop::sample::select(&["é", "ß", "Ж", "名前", "😀"][..]).prop_map(str::to_string),
    ];
    (
        prop_oneof![3 => "[A-Za-z_]", 1 => prop::sample::select(&["é", "Ж", "名"][..]).prop_map(str::to_string)],
        prop::collection::vec(tail, 0..10),
    )
        .prop_map(|(head, tail)| {
            let mut name = head + &tail.concat();
            truncate_bytes(&mut name, 46);
            if SlonyVersion::ALL.iter().any(|v| v.is_keyword(&name)) {
                name.push_str("_x");
            }
            name
        })
}

/// `count` distinct ids, ascending: mostly small and close together, sometimes far apart,
/// sometimes ending at the largest id slonik can read. Built from gaps, so no retries.
fn distinct_ids(count: impl Into<prop::collection::SizeRange>) -> impl Strategy<Value = Vec<u32>> {
    let gap = prop_oneof![6 => 1u32..=3, 1 => 1u32..=100_000_000];
    (prop::collection::vec(gap, count), prop::bool::weighted(0.15)).prop_map(|(gaps, at_top)| {
        let mut ids: Vec<u32> = gaps
            .iter()
            .scan(0u32, |sum, gap| {
                *sum += gap;
                Some(*sum)
            })
            .collect();
        if at_top {
            let shift = MAX_ID - ids.last().copied().unwrap_or(MAX_ID);
            ids.iter_mut().for_each(|id| *id += shift);
        }
        ids
    })
}

// ---------------------------------------------------------------------------------------
// Valid cluster configs
// ---------------------------------------------------------------------------------------

const NAMED_KEYS: &[&str] = &[
    "host", "dbname", "user", "password", "passfile", "service", "sslmode",
];
const OPTION_KEYS: &[&str] = &[
    "application_name",
    "connect_timeout",
    "options",
    "target_session_attrs",
    "sslrootcert",
];

#[derive(Debug, Clone)]
struct ParamSpec {
    key: &'static str,
    admin: String,
    /// A different value for `store path`; the admin value may then be anything the header
    /// can carry.
    path: Option<String>,
}

#[derive(Debug, Clone)]
struct NodeSpec {
    id: u32,
    name: Option<String>,
    comment: Option<String>,
    params: Vec<ParamSpec>,
    port: Option<u16>,
    parent: Option<Index>,
    forward: bool,
    fail: bool,
}

#[derive(Debug, Clone)]
struct RelSpec {
    schema: Option<String>,
    name: String,
    explicit_id: bool,
    key: Option<String>,
    comment: Option<String>,
    short: bool,
}

#[derive(Debug, Clone)]
struct SubSpec {
    node: Index,
    provider: Index,
    forward: Option<bool>,
    explicit_provider: bool,
}

#[derive(Debug, Clone)]
struct SetSpec {
    id: u32,
    name: Option<String>,
    origin: Index,
    /// Same origin and subscribers as the first set, so merge-sets has something to merge.
    twin: bool,
    comment: Option<String>,
    default_schema: Option<String>,
    first_table_id: Option<u32>,
    first_sequence_id: Option<u32>,
    tables: Vec<RelSpec>,
    sequences: Vec<RelSpec>,
    subs: Vec<SubSpec>,
}

#[derive(Debug, Clone)]
struct ClusterSpec {
    version: SlonyVersion,
    name: String,
    default_origin: Option<Index>,
    wait_timeout: Option<u32>,
    nodes: Vec<NodeSpec>,
    sets: Vec<SetSpec>,
    table_ids: Vec<u32>,
    sequence_ids: Vec<u32>,
}

/// Makes a conninfo value survive `store path` for `version` (slonik-syntax.md §5): no
/// backslash; before 2.2 no whitespace and no `'`; on 2.2 not both, and no leading `'`.
fn path_safe(value: &str, version: SlonyVersion) -> String {
    let mut v: String = value.chars().filter(|c| *c != '\\' && *c != '\0').collect();
    if version < SlonyVersion::V2_2 {
        v.retain(|c| !c.is_whitespace() && c != '\'');
    } else if v.chars().any(char::is_whitespace) {
        v.retain(|c| c != '\'');
    } else if v.starts_with('\'') {
        v.insert(0, 'x');
    }
    if v.is_empty() {
        v.push('v');
    }
    v
}

fn param_spec(version: SlonyVersion) -> impl Strategy<Value = ParamSpec> {
    let admin_allow = Allow {
        quote: version >= SlonyVersion::V2_2,
        backslash: true,
        whitespace: true,
        newline: false,
    };
    (
        prop::sample::select([NAMED_KEYS, OPTION_KEYS].concat()),
        hostile(admin_allow, 24),
        prop::option::weighted(0.3, hostile(admin_allow, 24)),
    )
        .prop_map(move |(key, admin, path)| match path {
            Some(path) => ParamSpec {
                key,
                admin,
                path: Some(path_safe(&path, version)),
            },
            None => ParamSpec {
                key,
                admin: path_safe(&admin, version),
                path: None,
            },
        })
}

fn node_spec(version: SlonyVersion, id: u32) -> impl Strategy<Value = NodeSpec> {
    let allow = Allow::stored(version);
    (
        // Names fill the literal limit sometimes: every message quoting them must still fit.
        prop::option::of(prop_oneof![4 => hostile(allow, 60), 1 => comment(version)]),
        prop::option::of(comment(version)),
        prop::collection::vec(param_spec(version), 0..=5),
        prop::option::of(any::<u16>()),
        prop::option::weighted(0.3, any::<Index>()),
        prop::bool::weighted(0.8),
        prop::bool::weighted(0.15),
    )
        .prop_map(
            move |(name, comment, params, port, parent, forward, fail)| NodeSpec {
                id,
                name,
                comment,
                params,
                port,
                parent,
                forward,
                fail,
            },
        )
}

fn rel_spec(version: SlonyVersion, keyed: bool) -> impl Strategy<Value = RelSpec> {
    (
        prop::option::of(identifier(version)),
        identifier(version),
        any::<bool>(),
        if keyed {
            prop::option::weighted(0.3, identifier(version)).boxed()
        } else {
            Just(None).boxed()
        },
        prop::option::weighted(0.3, comment(version)),
        any::<bool>(),
    )
        .prop_map(|(schema, name, explicit_id, key, comment, short)| RelSpec {
            schema,
            name,
            explicit_id,
            key,
            comment,
            short,
        })
}

fn set_spec(version: SlonyVersion, id: u32) -> impl Strategy<Value = SetSpec> {
    let sub = (
        any::<Index>(),
        any::<Index>(),
        prop::option::of(any::<bool>()),
        any::<bool>(),
    )
        .prop_map(|(node, provider, forward, explicit_provider)| SubSpec {
            node,
            provider,
            forward,
            explicit_provider,
        });
    (
        prop::option::weighted(0.6, set_name(version)),
        any::<Index>(),
        prop::bool::weighted(0.4),
        prop::option::of(comment(version)),
        prop::option::of(identifier(version)),
        prop::option::weighted(0.3, 1u32..=1000),
        prop::option::weighted(0.3, 1u32..=1000),
        prop::collection::vec(rel_spec(version, true), 0..=6),
        prop::collection::vec(rel_spec(version, false), 0..=3),
        prop::collection::vec(sub, 0..=20),
    )
        .prop_map(
            move |(
                name,
                origin,
                twin,
                comment,
                default_schema,
                first_table_id,
                first_sequence_id,
                tables,
                sequences,
                subs,
            )| SetSpec {
                id,
                name,
                origin,
                twin,
                comment,
                default_schema,
                first_table_id,
                first_sequence_id,
                tables,
                sequences,
                subs,
            },
        )
}

fn cluster_spec(version: SlonyVersion) -> impl Strategy<Value = ClusterSpec> {
    (cluster_name(), distinct_ids(1..=20), distinct_ids(1..=4)).prop_flat_map(
        move |(name, node_ids, set_ids)| {
            let nodes: Vec<_> = node_ids.into_iter().map(|id| node_spec(version, id)).collect();
            let sets: Vec<_> = set_ids.into_iter().map(|id| set_spec(version, id)).collect();
            (
                Just(name),
                nodes.prop_shuffle(),
                sets.prop_shuffle(),
                prop::option::weighted(0.3, any::<Index>()),
                prop::option::of(0u32..=MAX_ID),
                distinct_ids(40).prop_shuffle(),
                distinct_ids(20).prop_shuffle(),
            )
                .prop_map(
                    move |(name, nodes, sets, default_origin, wait_timeout, table_ids, sequence_ids)| {
                        ClusterSpec {
                            version,
                            name,
                            default_origin,
                            wait_timeout,
                            nodes,
                            sets,
                            table_ids,
                            sequence_ids,
                        }
                    },
                )
        },
    )
}

fn int(value: u32) -> toml::Value {
    toml::Value::Integer(value.into())
}

fn string(text: &str) -> toml::Value {
    toml::Value::String(text.to_string())
}

/// One subscription as built: receiver and provider are indexes into the node list.
#[derive(Debug, Clone, Copy)]
struct BuiltSub {
    receiver: usize,
    provider: usize,
    forward: bool,
    write_forward: bool,
    write_provider: bool,
}

/// Turns a spec into a config that is valid by construction.
fn build(spec: &ClusterSpec) -> toml::Table {
    let version = spec.version;
    let n = spec.nodes.len();
    let parent: Vec<Option<usize>> = spec
        .nodes
        .iter()
        .enumerate()
        .map(|(i, node)| node.parent.map(|ix| ix.index(n)).filter(|p| *p != i))
        .collect();

    // Sets: origins and subscription trees (a provider is the origin or an earlier
    // forwarding subscriber, so there are no cycles).
    let mut origins = Vec::new();
    let mut trees: Vec<Vec<BuiltSub>> = Vec::new();
    for (i, set) in spec.sets.iter().enumerate() {
        if set.twin && i > 0 {
            origins.push(origins[0]);
            trees.push(trees[0].clone());
            continue;
        }
        let origin = set.origin.index(n);
        let mut forwarders = vec![origin];
        let mut tree: Vec<BuiltSub> = Vec::new();
        for sub in &set.subs {
            let receiver = sub.node.index(n);
            if receiver == origin || tree.iter().any(|s| s.receiver == receiver) {
                continue;
            }
            let provider = forwarders[sub.provider.index(forwarders.len())];
            let forward = sub.forward.unwrap_or(spec.nodes[receiver].forward);
            let implicit_provider = parent[receiver].unwrap_or(origin);
            tree.push(BuiltSub {
                receiver,
                provider,
                forward,
                write_forward: sub.forward.is_some(),
                write_provider: sub.explicit_provider || implicit_provider != provider,
            });
            if forward {
                forwarders.push(receiver);
            }
        }
        origins.push(origin);
        trees.push(tree);
    }

    let default_origin = spec.default_origin.map(|ix| ix.index(n));
    let lowest = (0..n)
        .min_by_key(|i| spec.nodes[*i].id)
        .expect("at least one node");
    let mut referenced: BTreeSet<usize> = origins.iter().copied().collect();
    referenced.extend(trees.iter().flatten().flat_map(|s| [s.receiver, s.provider]));
    referenced.extend(parent.iter().flatten().copied());
    referenced.extend(default_origin);
    referenced.insert(lowest);

    let mut root = toml::Table::new();
    root.insert("cluster".into(), string(&spec.name));
    if version != SlonyVersion::V2_2 || spec.name.len() % 2 == 0 {
        root.insert("slony_version".into(), string(version.as_str()));
    }
    if let Some(i) = default_origin {
        root.insert("default_origin".into(), int(spec.nodes[i].id));
    }
    if let Some(t) = spec.wait_timeout {
        root.insert("wait_timeout".into(), int(t));
    }

    let mut nodes = Vec::new();
    for (i, node) in spec.nodes.iter().enumerate() {
        let mut t = toml::Table::new();
        t.insert("id".into(), int(node.id));
        if let Some(name) = &node.name {
            t.insert("name".into(), string(name));
        }
        if let Some(c) = &node.comment {
            t.insert("comment".into(), string(c));
        }
        if let Some(port) = node.port {
            t.insert("port".into(), int(port.into()));
        }
        let mut options = toml::Table::new();
        let mut path = toml::Table::new();
        let mut path_options = toml::Table::new();
        let mut seen = BTreeSet::new();
        for p in &node.params {
            if !seen.insert(p.key) {
                continue;
            }
            let named = NAMED_KEYS.contains(&p.key);
            if named {
                t.insert(p.key.into(), string(&p.admin));
            } else {
                options.insert(p.key.into(), string(&p.admin));
            }
            if let Some(v) = &p.path {
                if named {
                    path.insert(p.key.into(), string(v));
                } else {
                    path_options.insert(p.key.into(), string(v));
                }
            }
        }
        if !options.is_empty() {
            t.insert("options".into(), toml::Value::Table(options));
        }
        if !path_options.is_empty() {
            path.insert("options".into(), toml::Value::Table(path_options));
        }
        if !path.is_empty() {
            t.insert("path".into(), toml::Value::Table(path));
        }
        if let Some(p) = parent[i] {
            t.insert("provider".into(), int(spec.nodes[p].id));
        }
        if !node.forward {
            t.insert("forward".into(), toml::Value::Boolean(false));
        }
        if node.fail && !referenced.contains(&i) {
            t.insert("failed".into(), toml::Value::Boolean(true));
        }
        nodes.push(toml::Value::Table(t));
    }
    root.insert("node".into(), toml::Value::Array(nodes));

    let mut table_ids = spec.table_ids.clone();
    let mut sequence_ids = spec.sequence_ids.clone();
    let mut relations = BTreeSet::new();
    let mut names = BTreeSet::new();
    let mut sets = Vec::new();
    let mut subscriptions = Vec::new();
    for (i, set) in spec.sets.iter().enumerate() {
        let mut t = toml::Table::new();
        t.insert("id".into(), int(set.id));
        let name = set.name.clone().filter(|name| names.insert(name.clone()));
        let set_ref = match &name {
            Some(name) => {
                t.insert("name".into(), string(name));
                string(name)
            }
            None => int(set.id),
        };
        if origins[i] != default_origin.unwrap_or(lowest) || set.twin {
            t.insert("origin".into(), int(spec.nodes[origins[i]].id));
        }
        if let Some(c) = &set.comment {
            t.insert("comment".into(), string(c));
        }
        if let Some(s) = &set.default_schema {
            t.insert("default_schema".into(), string(s));
        }
        if let Some(first) = set.first_table_id {
            t.insert("first_table_id".into(), int(first));
        }
        if let Some(first) = set.first_sequence_id {
            t.insert("first_sequence_id".into(), int(first));
        }
        let default_schema = set.default_schema.clone().unwrap_or_else(|| "public".into());
        for (kind, specs, ids) in [
            ("tables", &set.tables, &mut table_ids),
            ("sequences", &set.sequences, &mut sequence_ids),
        ] {
            let mut entries = Vec::new();
            for rel in specs {
                let schema = rel.schema.clone().unwrap_or_else(|| default_schema.clone());
                if !relations.insert((schema, rel.name.clone())) {
                    continue;
                }
                let plain = !rel.explicit_id && rel.key.is_none() && rel.comment.is_none();
                let splits_right = match &rel.schema {
                    Some(schema) => !schema.contains('.'),
                    None => !rel.name.contains('.'),
                };
                if rel.short && plain && splits_right {
                    let text = match &rel.schema {
                        Some(schema) => format!("{schema}.{}", rel.name),
                        None => rel.name.clone(),
                    };
                    entries.push(string(&text));
                    continue;
                }
                let mut e = toml::Table::new();
                e.insert("name".into(), string(&rel.name));
                if let Some(s) = &rel.schema {
                    e.insert("schema".into(), string(s));
                }
                if rel.explicit_id {
                    if let Some(id) = ids.pop() {
                        e.insert("id".into(), int(id));
                    }
                }
                if let Some(k) = &rel.key {
                    e.insert("key".into(), string(k));
                }
                if let Some(c) = &rel.comment {
                    e.insert("comment".into(), string(c));
                }
                entries.push(toml::Value::Table(e));
            }
            if !entries.is_empty() {
                t.insert(kind.into(), toml::Value::Array(entries));
            }
        }
        sets.push(toml::Value::Table(t));
        for sub in &trees[i] {
            let mut s = toml::Table::new();
            s.insert("set".into(), set_ref.clone());
            s.insert("receiver".into(), int(spec.nodes[sub.receiver].id));
            if sub.write_provider {
                s.insert("provider".into(), int(spec.nodes[sub.provider].id));
            }
            if sub.write_forward {
                s.insert("forward".into(), toml::Value::Boolean(sub.forward));
            }
            subscriptions.push(toml::Value::Table(s));
        }
    }
    root.insert("set".into(), toml::Value::Array(sets));
    if !subscriptions.is_empty() {
        root.insert("subscription".into(), toml::Value::Array(subscriptions));
    }
    root
}

fn to_text(table: &toml::Table) -> String {
    toml::to_string(table).expect("a toml::Table always serializes")
}

/// Loads a generated config, which must be valid.
fn load_valid(spec: &ClusterSpec) -> Result<(String, Cluster), TestCaseError> {
    let text = to_text(&build(spec));
    match load_config_str(&text, CONFIG_NAME) {
        Ok(cluster) => Ok((text, cluster)),
        Err(e) => Err(TestCaseError::fail(format!(
            "a config valid by construction was rejected:\n{e}\n--- config ---\n{text}"
        ))),
    }
}

// ---------------------------------------------------------------------------------------
// Operations with sensible arguments
// ---------------------------------------------------------------------------------------

/// Files `execute-script` can name; they exist for the whole test.
struct DdlFiles {
    _dir: tempfile::TempDir,
    /// Paths without `'`, for every version.
    plain: Vec<String>,
    /// Paths with `'`, for 2.2.
    quoted: Vec<String>,
}

impl DdlFiles {
    fn new() -> DdlFiles {
        let dir = tempfile::tempdir().expect("tempdir");
        let make = |name: &str| {
            let path = dir.path().join(name);
            std::fs::write(&path, "alter table t add column c int;\n").expect("writes ddl file");
            path.to_str().expect("utf-8 temp path").to_string()
        };
        let plain = vec![
            make("ddl.sql"),
            make("DDL with spaces #1 @x;.sql"),
            make("é名 \\ back.sql"),
        ];
        let quoted = vec![make("it's ''here''.sql")];
        DdlFiles {
            _dir: dir,
            plain,
            quoted,
        }
    }
}

fn node_arg(p: &mut Picker, id: NodeId) -> String {
    if p.chance(50) {
        id.to_string()
    } else {
        format!("node{id}")
    }
}

fn set_arg(p: &mut Picker, cluster: &Cluster, id: SetId) -> String {
    match p.below(3) {
        0 => cluster
            .sets
            .get(&id)
            .map_or_else(|| id.to_string(), |s| s.name.clone()),
        1 => id.to_string(),
        _ => format!("set{id}"),
    }
}

fn sql_text(p: &mut Picker, version: SlonyVersion) -> String {
    let allow = Allow::local(version);
    let mut sql = String::from("alter table \"Studly Spacey Schema\".\"Capital Idea\" add column x text");
    let pieces = 1 + p.below(12);
    for _ in 0..pieces {
        sql.push_str(ATOMS[p.below(ATOMS.len())]);
    }
    sql.retain(|c| allow.permits(c));
    sql.push(';');
    sql
}

/// Operations kinds in [`OperationArgs`] order, for the statistics.
const OP_KINDS: &[&str] = &[
    "print-preamble",
    "init-cluster",
    "store-node",
    "drop-node",
    "drop-nodes",
    "uninstall-nodes",
    "uninstall-node",
    "restart-node",
    "update-nodes",
    "create-set",
    "drop-set",
    "merge-sets",
    "subscribe-set",
    "resubscribe",
    "unsubscribe-set",
    "move-set",
    "failover",
    "execute-script",
    "drop-table",
    "drop-sequence",
    "move-table",
    "move-sequence",
    "store-path",
    "drop-path",
    "sync",
    "wait",
    "repair-config",
];

fn kind(op: &OperationArgs) -> &'static str {
    match op {
        OperationArgs::PrintPreamble => "print-preamble",
        OperationArgs::InitCluster => "init-cluster",
        OperationArgs::StoreNode { .. } => "store-node",
        OperationArgs::DropNode { .. } => "drop-node",
        OperationArgs::DropNodes { .. } => "drop-nodes",
        OperationArgs::UninstallNodes => "uninstall-nodes",
        OperationArgs::UninstallNode { .. } => "uninstall-node",
        OperationArgs::RestartNodes { .. } => "restart-node",
        OperationArgs::UpdateNodes => "update-nodes",
        OperationArgs::CreateSet { .. } => "create-set",
        OperationArgs::DropSet { .. } => "drop-set",
        OperationArgs::MergeSets { .. } => "merge-sets",
        OperationArgs::SubscribeSet { .. } => "subscribe-set",
        OperationArgs::Resubscribe { .. } => "resubscribe",
        OperationArgs::UnsubscribeSet { .. } => "unsubscribe-set",
        OperationArgs::MoveSet { .. } => "move-set",
        OperationArgs::Failover { .. } => "failover",
        OperationArgs::ExecuteScript { .. } => "execute-script",
        OperationArgs::DropTable { .. } => "drop-table",
        OperationArgs::DropSequence { .. } => "drop-sequence",
        OperationArgs::MoveTable { .. } => "move-table",
        OperationArgs::MoveSequence { .. } => "move-sequence",
        OperationArgs::StorePath { .. } => "store-path",
        OperationArgs::DropPath { .. } => "drop-path",
        OperationArgs::Sync { .. } => "sync",
        OperationArgs::Wait { .. } => "wait",
        OperationArgs::RepairConfig { .. } => "repair-config",
    }
}

/// One operation of every kind, with arguments that should succeed on `cluster` whenever
/// the cluster allows it at all.
fn sensible_ops(cluster: &Cluster, p: &mut Picker, files: &DdlFiles) -> Vec<OperationArgs> {
    let active: Vec<NodeId> = cluster.active_nodes().map(|n| n.id).collect();
    let all_nodes: Vec<NodeId> = cluster.nodes.keys().copied().collect();
    let sets: Vec<SetId> = cluster.sets.keys().copied().collect();
    let is_active = |id: NodeId| cluster.nodes.get(&id).is_some_and(|n| !n.failed);
    let live_sets: Vec<SetId> = sets
        .iter()
        .copied()
        .filter(|s| is_active(cluster.sets[s].origin))
        .collect();
    let any_node = |p: &mut Picker| p.pick(&active).unwrap_or(NodeId(1));
    let any_set = |p: &mut Picker| p.pick(&live_sets).or_else(|| p.pick(&sets)).unwrap_or(SetId(1));
    let other_active = |p: &mut Picker, not: &[NodeId]| {
        let others: Vec<NodeId> = active.iter().copied().filter(|n| !not.contains(n)).collect();
        p.pick(&others)
    };
    let mut ops = vec![OperationArgs::PrintPreamble, OperationArgs::InitCluster];

    // store-node
    let node = any_node(p);
    let event_node = if p.chance(50) {
        None
    } else {
        other_active(p, &[node]).map(|n| node_arg(p, n))
    };
    ops.push(OperationArgs::StoreNode {
        node: node_arg(p, node),
        event_node,
    });

    // drop-node: neither an origin nor anybody's provider; failed nodes too.
    let droppable: Vec<NodeId> = all_nodes
        .iter()
        .copied()
        .filter(|id| {
            !cluster.sets.values().any(|s| s.origin == *id)
                && !cluster
                    .subscriptions
                    .values()
                    .any(|s| s.provider == *id && s.receiver != *id)
        })
        .collect();
    let node = p.pick(&droppable).unwrap_or_else(|| any_node(p));
    let event = other_active(p, &[node]).unwrap_or(node);
    ops.push(OperationArgs::DropNode {
        node: node_arg(p, node),
        event_node: node_arg(p, event),
    });
    // drop-node with several nodes: two or three of those, another live node as event node.
    let mut group = Vec::new();
    for n in &droppable {
        if group.len() < 3 && (group.len() < 2 || p.chance(50)) {
            group.push(*n);
        }
    }
    let event = other_active(p, &group).unwrap_or(NodeId(1));
    ops.push(OperationArgs::DropNodes {
        nodes: group.iter().map(|n| node_arg(p, *n)).collect(),
        event_node: node_arg(p, event),
    });

    ops.push(OperationArgs::UninstallNodes);
    // uninstall-node: a failed node (one still in the cluster is refused).
    let failed: Vec<NodeId> = cluster
        .nodes
        .values()
        .filter(|n| n.failed)
        .map(|n| n.id)
        .collect();
    let node = p.pick(&failed).unwrap_or_else(|| any_node(p));
    ops.push(OperationArgs::UninstallNode {
        node: node_arg(p, node),
    });
    let mut restart = Vec::new();
    for n in &active {
        if p.chance(40) {
            restart.push(node_arg(p, *n));
        }
    }
    ops.push(OperationArgs::RestartNodes { nodes: restart });
    ops.push(OperationArgs::UpdateNodes);

    // create-set / drop-set
    let filled: Vec<SetId> = live_sets
        .iter()
        .copied()
        .filter(|s| !cluster.sets[s].tables.is_empty() || !cluster.sets[s].sequences.is_empty())
        .collect();
    let set = p.pick(&filled).unwrap_or_else(|| any_set(p));
    ops.push(OperationArgs::CreateSet {
        set: set_arg(p, cluster, set),
    });
    let set = any_set(p);
    ops.push(OperationArgs::DropSet {
        set: set_arg(p, cluster, set),
    });

    // merge-sets: same origin, same subscribers.
    let receivers = |s: SetId| cluster.subscribers(s).map(|x| x.receiver).collect::<Vec<_>>();
    let mut pairs = Vec::new();
    for a in &live_sets {
        for b in &live_sets {
            if a != b && cluster.sets[a].origin == cluster.sets[b].origin && receivers(*a) == receivers(*b) {
                pairs.push((*a, *b));
            }
        }
    }
    let (target, source) = p.pick(&pairs).unwrap_or_else(|| (any_set(p), any_set(p)));
    let origin = cluster
        .sets
        .get(&target)
        .map_or_else(|| any_node(p), |s| s.origin);
    ops.push(OperationArgs::MergeSets {
        node: node_arg(p, origin),
        target: set_arg(p, cluster, target),
        source: set_arg(p, cluster, source),
    });

    // subscribe-set: a node whose provider can feed the set; new subscribers first.
    let mut fresh = Vec::new();
    let mut again = Vec::new();
    for s in &live_sets {
        let set = &cluster.sets[s];
        for n in &active {
            if *n == set.origin {
                continue;
            }
            let existing = cluster.subscriptions.get(&(*s, *n));
            let provider = existing.map_or_else(
                || cluster.nodes[n].provider.unwrap_or(set.origin),
                |sub| sub.provider,
            );
            if provider != *n && is_active(provider) && cluster.can_provide(*s, provider) {
                if existing.is_some() {
                    again.push((*s, *n));
                } else {
                    fresh.push((*s, *n));
                }
            }
        }
    }
    let (set, node) = p
        .pick(&fresh)
        .or_else(|| p.pick(&again))
        .unwrap_or_else(|| (any_set(p), any_node(p)));
    ops.push(OperationArgs::SubscribeSet {
        set: set_arg(p, cluster, set),
        node: node_arg(p, node),
        omit_copy: p.chance(25),
    });

    // resubscribe: a provider that can give every set the node receives, without a loop,
    // and that changes at least one of them; sometimes only the sets that change.
    let through = |set: SetId, node: NodeId, via: NodeId| {
        let mut at = node;
        for _ in 0..=cluster.subscriptions.len() {
            match cluster.subscriptions.get(&(set, at)) {
                Some(sub) if sub.provider == via => return true,
                Some(sub) => at = sub.provider,
                None => return false,
            }
        }
        false
    };
    let mut repoints = Vec::new();
    for &receiver in &active {
        let subs: Vec<_> = cluster
            .subscriptions
            .values()
            .filter(|s| s.receiver == receiver)
            .collect();
        for &provider in &active {
            let fits = !subs.is_empty()
                && provider != receiver
                && subs.iter().all(|s| {
                    is_active(cluster.sets[&s.set].origin)
                        && cluster.can_provide(s.set, provider)
                        && !through(s.set, provider, receiver)
                })
                && subs.iter().any(|s| s.provider != provider);
            if fits {
                let changing: Vec<SetId> = subs
                    .iter()
                    .filter(|s| s.provider != provider)
                    .map(|s| s.set)
                    .collect();
                repoints.push((receiver, provider, changing));
            }
        }
    }
    let (receiver, provider, changing) = p
        .pick(&repoints)
        .unwrap_or_else(|| (any_node(p), any_node(p), Vec::new()));
    let sets = if p.chance(30) {
        changing.iter().map(|s| set_arg(p, cluster, *s)).collect()
    } else {
        Vec::new()
    };
    ops.push(OperationArgs::Resubscribe {
        node: node_arg(p, receiver),
        provider: node_arg(p, provider),
        sets,
    });

    // unsubscribe-set: a subscriber nobody receives the set through.
    let leaves: Vec<(SetId, NodeId)> = cluster
        .subscriptions
        .values()
        .filter(|s| is_active(s.receiver))
        .filter(|s| !cluster.subscribers(s.set).any(|o| o.provider == s.receiver))
        .map(|s| (s.set, s.receiver))
        .collect();
    let (set, node) = p.pick(&leaves).unwrap_or_else(|| (any_set(p), any_node(p)));
    ops.push(OperationArgs::UnsubscribeSet {
        set: set_arg(p, cluster, set),
        node: node_arg(p, node),
    });

    // move-set: from the origin to one of its subscribers.
    let moves: Vec<(SetId, NodeId, NodeId)> = cluster
        .subscriptions
        .values()
        .filter(|s| is_active(s.receiver) && live_sets.contains(&s.set))
        .map(|s| (s.set, cluster.sets[&s.set].origin, s.receiver))
        .collect();
    let (set, from, to) = p
        .pick(&moves)
        .unwrap_or_else(|| (any_set(p), any_node(p), any_node(p)));
    ops.push(OperationArgs::MoveSet {
        set: set_arg(p, cluster, set),
        from: node_arg(p, from),
        to: node_arg(p, to),
    });

    // failover: a backup that subscribes to every set of the dead node and can feed every
    // node the dead one fed (Slony-I points them all at the backup); two pairs sometimes on 2.2.
    let backups_for = |dead: NodeId, not: &[NodeId]| -> Vec<NodeId> {
        active
            .iter()
            .copied()
            .filter(|b| *b != dead && !not.contains(b))
            .filter(|b| {
                cluster.sets.values().all(|s| {
                    let backup_sub = cluster.subscriptions.get(&(s.id, *b));
                    if s.origin == dead {
                        return backup_sub.is_some();
                    }
                    let fed_by_dead = cluster
                        .subscribers(s.id)
                        .any(|r| r.provider == dead && r.receiver != *b);
                    let backup_feeds = s.origin == *b || backup_sub.is_some_and(|x| x.forward);
                    // Walk the backup's providers up to the origin: through the dead node, the
                    // redirected subscribers would feed the backup in a loop.
                    let mut upstream = backup_sub.map(|x| x.provider);
                    let mut downstream_of_dead = false;
                    for _ in 0..cluster.subscriptions.len() {
                        let Some(node) = upstream else { break };
                        downstream_of_dead |= node == dead;
                        upstream = cluster.subscriptions.get(&(s.id, node)).map(|x| x.provider);
                    }
                    !downstream_of_dead && (!fed_by_dead || backup_feeds)
                })
            })
            .collect()
    };
    let candidates: Vec<NodeId> = active
        .iter()
        .copied()
        .filter(|d| !backups_for(*d, &[]).is_empty())
        .collect();
    let mut pairs = Vec::new();
    if let Some(dead) = p.pick(&candidates) {
        let backup = p.pick(&backups_for(dead, &[])).expect("a candidate has a backup");
        pairs.push((dead, backup));
        if cluster.version >= SlonyVersion::V2_2 && p.chance(30) {
            let second: Vec<NodeId> = candidates
                .iter()
                .copied()
                .filter(|d| *d != dead && *d != backup && !backups_for(*d, &[dead]).is_empty())
                .collect();
            if let Some(dead2) = p.pick(&second) {
                let backup2 = p.pick(&backups_for(dead2, &[dead])).expect("checked above");
                pairs.push((dead2, backup2));
            }
        }
    } else {
        let dead = any_node(p);
        pairs.push((dead, other_active(p, &[dead]).unwrap_or(dead)));
    }
    ops.push(OperationArgs::Failover {
        pairs: pairs
            .into_iter()
            .map(|(d, b)| (node_arg(p, d), node_arg(p, b)))
            .collect(),
    });

    // execute-script
    let set = any_set(p);
    let ddl = if p.chance(50) && cluster.version >= SlonyVersion::V2_2 {
        Ddl::Sql(sql_text(p, cluster.version))
    } else if cluster.version >= SlonyVersion::V2_2 && p.chance(30) {
        Ddl::File(p.pick(&files.quoted).expect("files"))
    } else {
        Ddl::File(p.pick(&files.plain).expect("files"))
    };
    let node = p.chance(30).then(|| any_node(p)).map(|n| node_arg(p, n));
    // Sometimes only on one or two nodes (the op refuses what the version cannot say).
    let only_on: Vec<String> = if p.chance(25) {
        let first = any_node(p);
        let mut only = vec![node_arg(p, first)];
        if p.chance(50) {
            let second = any_node(p);
            only.push(node_arg(p, second));
        }
        only
    } else {
        Vec::new()
    };
    ops.push(OperationArgs::ExecuteScript {
        set: set_arg(p, cluster, set),
        ddl,
        node,
        only_on,
    });

    // drop-table / drop-sequence
    let tables: Vec<(SetId, u32)> = live_sets
        .iter()
        .flat_map(|s| cluster.sets[s].tables.iter().map(move |t| (*s, t.id.0)))
        .collect();
    let (set, table) = p.pick(&tables).unwrap_or_else(|| (any_set(p), 1));
    ops.push(OperationArgs::DropTable {
        table_id: table.to_string(),
        set: set_arg(p, cluster, set),
    });
    let sequences: Vec<(SetId, u32)> = live_sets
        .iter()
        .flat_map(|s| cluster.sets[s].sequences.iter().map(move |q| (*s, q.id.0)))
        .collect();
    let (set, sequence) = p.pick(&sequences).unwrap_or_else(|| (any_set(p), 1));
    ops.push(OperationArgs::DropSequence {
        sequence_id: sequence.to_string(),
        set: set_arg(p, cluster, set),
    });
    // move-table / move-sequence: to another live set (the op refuses different origins
    // or subscribers, which random clusters often have).
    let (set, table) = p.pick(&tables).unwrap_or_else(|| (any_set(p), 1));
    let others: Vec<SetId> = live_sets.iter().copied().filter(|s| *s != set).collect();
    let new_set = p.pick(&others).unwrap_or(set);
    ops.push(OperationArgs::MoveTable {
        table_id: table.to_string(),
        set: set_arg(p, cluster, set),
        new_set: set_arg(p, cluster, new_set),
    });
    let (set, sequence) = p.pick(&sequences).unwrap_or_else(|| (any_set(p), 1));
    let others: Vec<SetId> = live_sets.iter().copied().filter(|s| *s != set).collect();
    let new_set = p.pick(&others).unwrap_or(set);
    ops.push(OperationArgs::MoveSequence {
        sequence_id: sequence.to_string(),
        set: set_arg(p, cluster, set),
        new_set: set_arg(p, cluster, new_set),
    });
    let server = any_node(p);
    let client = other_active(p, &[server]).unwrap_or(server);
    ops.push(OperationArgs::StorePath {
        server: server.to_string(),
        client: client.to_string(),
    });
    ops.push(OperationArgs::DropPath {
        server: server.to_string(),
        client: client.to_string(),
    });
    let origin = any_node(p);
    ops.push(OperationArgs::Sync {
        node: origin.to_string(),
    });
    ops.push(OperationArgs::Wait {
        origin: origin.to_string(),
        confirmed: other_active(p, &[origin]).map(|n| n.to_string()),
    });
    // repair-config: a live set, sometimes on one node that has it.
    let set = any_set(p);
    let holders: Vec<NodeId> = active
        .iter()
        .copied()
        .filter(|n| {
            cluster.sets.get(&set).is_some_and(|s| s.origin == *n)
                || cluster.subscriptions.contains_key(&(set, *n))
        })
        .collect();
    let only_on = if p.chance(40) { p.pick(&holders) } else { None };
    let event_node = if p.chance(30) { Some(any_node(p)) } else { None };
    ops.push(OperationArgs::RepairConfig {
        set: set_arg(p, cluster, set),
        event_node: event_node.map(|n| node_arg(p, n)),
        only_on: only_on.map(|n| node_arg(p, n)),
    });
    debug_assert_eq!(ops.len(), OP_KINDS.len());
    ops
}

/// Per-kind counts of successes and typed refusals, with a sample refusal each.
#[derive(Default)]
struct Stats {
    ok: BTreeMap<&'static str, usize>,
    refused: BTreeMap<&'static str, usize>,
    reasons: BTreeMap<String, usize>,
    /// Operations that could not render on a valid config with sensible arguments.
    render_errors: Vec<String>,
    scripts_checked: usize,
    slonik_runs: usize,
    clusters: usize,
}

impl Stats {
    fn record(&mut self, op: &OperationArgs, result: &Result<Change, OpError>) {
        let kind = kind(op);
        match result {
            Ok(_) => *self.ok.entry(kind).or_default() += 1,
            Err(e) => {
                *self.refused.entry(kind).or_default() += 1;
                if matches!(e, OpError::Render { .. }) && self.render_errors.len() < 5 {
                    self.render_errors.push(format!("{op:?}: {e}"));
                }
                // The reason without numbers, so similar refusals group together.
                let reason: String = e
                    .to_string()
                    .chars()
                    .map(|c| if c.is_ascii_digit() { '#' } else { c })
                    .take(90)
                    .collect();
                *self.reasons.entry(reason).or_default() += 1;
            }
        }
    }

    fn summary(&self) -> String {
        let ok: usize = self.ok.values().sum();
        let refused: usize = self.refused.values().sum();
        let mut out = format!(
            "{} clusters, {} operations: {ok} scripts, {refused} typed refusals; {} scripts checked by slonik in {} runs\n",
            self.clusters,
            ok + refused,
            self.scripts_checked,
            self.slonik_runs
        );
        for kind in OP_KINDS {
            out.push_str(&format!(
                "  {kind:16} ok {:6}  refused {:6}\n",
                self.ok.get(kind).unwrap_or(&0),
                self.refused.get(kind).unwrap_or(&0)
            ));
        }
        let mut reasons: Vec<_> = self.reasons.iter().collect();
        reasons.sort_by(|a, b| b.1.cmp(a.1));
        out.push_str("  most common refusals:\n");
        for (reason, n) in reasons.into_iter().take(8) {
            out.push_str(&format!("    {n:6}  {reason}\n"));
        }
        out
    }
}

// ---------------------------------------------------------------------------------------
// slonik
// ---------------------------------------------------------------------------------------

/// Checks every `(label, script)` with the suite's offline check (`tests/common/offline.rs`,
/// which joins the scripts that share a header into one slonik run); on a rejection,
/// reports the first rejected script.
fn slonik_accepts_all(
    slonik: &Path,
    scripts: &[(String, String)],
    stats: &RefCell<Stats>,
) -> Result<(), String> {
    let report = common::offline::check(slonik, scripts);
    stats.borrow_mut().scripts_checked += scripts.len();
    stats.borrow_mut().slonik_runs += report.runs;
    let Some((label, why)) = report.rejected.first() else {
        return Ok(());
    };
    let script = scripts.iter().find(|(l, _)| l == label).map(|(_, text)| text);
    Err(format!(
        "slonik rejected the script of {label}: {why}\n--- offline copy ---\n{}",
        script.map(|text| common::offline::copy(text)).unwrap_or_default()
    ))
}

/// The scripts to check (label and text), and the operations that succeeded with their
/// changes.
type OpsRun = (Vec<(String, String)>, Vec<(OperationArgs, Change)>);

/// Runs every operation on `cluster`; every script must render, every refusal be typed.
/// Returns the scripts to check and the successful changes.
fn run_ops(
    cluster: &Cluster,
    round: &str,
    p: &mut Picker,
    files: &DdlFiles,
    stats: &RefCell<Stats>,
) -> Result<OpsRun, TestCaseError> {
    let mut candidates = Vec::new();
    let mut changes = Vec::new();
    for op in sensible_ops(cluster, p, files) {
        let result = op.run(cluster);
        stats.borrow_mut().record(&op, &result);
        let Ok(change) = result else { continue };
        let full = change.script.render();
        let text = full.map_err(|e| {
            TestCaseError::fail(format!("{round}: {op:?} gave a script that does not render: {e}"))
        })?;
        prop_assert!(
            text.ends_with('\n') && !text.ends_with("\n\n"),
            "{round}: {op:?}: script must end in one newline"
        );
        candidates.push((format!("{round} {op:?}"), text));
        changes.push((op, change));
    }
    Ok((candidates, changes))
}

// ---------------------------------------------------------------------------------------
// Properties: valid clusters
// ---------------------------------------------------------------------------------------

#[test]
fn random_clusters_every_operation_passes_the_real_slonik() {
    let slonik = common::slonik_or_skip("random_clusters_every_operation_passes_the_real_slonik");
    let files = DdlFiles::new();
    let stats = RefCell::new(Stats::default());
    let strategy = (cluster_spec(SlonyVersion::V2_2), any::<u64>());
    check("2.2 clusters", DEFAULT_CASES, strategy, |(spec, seed)| {
        let (text, cluster) = load_valid(&spec)?;
        let mut p = Picker(seed);
        stats.borrow_mut().clusters += 1;
        let (mut candidates, changes) = run_ops(&cluster, "first", &mut p, &files, &stats)?;

        // The state one operation leaves behind must reload from its own TOML and take
        // every operation again.
        let changed: Vec<&(OperationArgs, Change)> =
            changes.iter().filter(|(_, c)| c.next != cluster).collect();
        if let Some((op, change)) = p.pick(&changed) {
            let next_text = change.next.to_toml();
            let reloaded = load_config_str(&next_text, "next.toml");
            prop_assert!(
                reloaded.as_ref().is_ok_and(|r| *r == change.next),
                "the state after {op:?} does not reload to itself: {:?}\n--- next ---\n{next_text}\n--- config ---\n{text}",
                reloaded.as_ref().err()
            );
            let (more, _) = run_ops(&change.next, &format!("after {op:?}:"), &mut p, &files, &stats)?;
            candidates.extend(more);
        }
        if let Some(slonik) = &slonik {
            slonik_accepts_all(slonik, &candidates, &stats)
                .map_err(|e| TestCaseError::fail(format!("{e}\n--- config ---\n{text}")))?;
        }
        Ok(())
    });
    let stats = stats.into_inner();
    eprintln!("random_offline 2.2: {}", stats.summary());
    assert!(
        stats.render_errors.is_empty(),
        "valid configs whose operations could not render:\n{}",
        stats.render_errors.join("\n")
    );
    let ok: usize = stats.ok.values().sum();
    let refused: usize = stats.refused.values().sum();
    assert!(
        refused < ok,
        "typed refusals are the majority, so the argument choice no longer exercises the generator:\n{}",
        stats.summary()
    );
    if stats.clusters >= 200 {
        for kind in OP_KINDS {
            assert!(
                stats.ok.get(kind).is_some_and(|n| *n > 0),
                "{kind} never produced a script:\n{}",
                stats.summary()
            );
        }
    }
}

#[test]
fn older_versions_render_or_refuse_without_panicking() {
    let files = DdlFiles::new();
    let stats = RefCell::new(Stats::default());
    let strategy = (
        prop::sample::select(vec![SlonyVersion::V1_2, SlonyVersion::V2_0, SlonyVersion::V2_1]),
        any::<u64>(),
    )
        .prop_flat_map(|(version, seed)| (cluster_spec(version), Just(seed)));
    check(
        "1.2/2.0/2.1 clusters",
        DEFAULT_CASES / 2,
        strategy,
        |(spec, seed)| {
            let (_, cluster) = load_valid(&spec)?;
            prop_assert_eq!(cluster.version, spec.version);
            let mut p = Picker(seed);
            stats.borrow_mut().clusters += 1;
            let (_, changes) = run_ops(&cluster, "first", &mut p, &files, &stats)?;
            if let Some((op, change)) = p.pick(&changes) {
                run_ops(&change.next, &format!("after {op:?}:"), &mut p, &files, &stats)?;
            }
            Ok(())
        },
    );
    let stats = stats.into_inner();
    eprintln!("random_offline 1.2/2.0/2.1: {}", stats.summary());
    assert!(
        stats.render_errors.is_empty(),
        "valid configs whose operations could not render:\n{}",
        stats.render_errors.join("\n")
    );
    let ok: usize = stats.ok.values().sum();
    let refused: usize = stats.refused.values().sum();
    assert!(
        refused < ok,
        "typed refusals are the majority:\n{}",
        stats.summary()
    );
}

// ---------------------------------------------------------------------------------------
// Properties: broken configs
// ---------------------------------------------------------------------------------------

/// A change that makes a valid config invalid.
#[derive(Debug, Clone)]
enum Breakage {
    UnknownOrigin,
    UnknownReceiver,
    UnknownProvider,
    UnknownParent,
    UnknownDefaultOrigin,
    DuplicateNode,
    DuplicateSet,
    DuplicateTableId,
    ProviderCycle,
    SelfProvider,
    OriginSubscribes,
    KeywordClusterName(String),
    BadClusterName(String),
    QuoteBefore22(SlonyVersion),
    LongComment(usize),
    Backslash(usize),
    IdZero(usize),
    IdTooBig(u64, usize),
    UnknownField(usize, String),
    EmptyIdentifier,
    LongIdentifier,
    FailedOrigin,
    UnknownConninfoKeyword,
    EmptyConninfoValue,
    WaitTimeoutTooBig,
    NoNodes,
    UnknownSetInSubscription,
    DuplicateKey,
    UnterminatedString,
    BrokenTableHeader,
    WrongType,
}

fn breakage() -> impl Strategy<Value = Breakage> {
    use Breakage::*;
    let keyword = prop::sample::select(vec![
        "set",
        "SET",
        "Node",
        "sync",
        "try",
        "exit",
        "echo",
        "include",
        "define",
        "cluster",
        "table",
        "sql",
        "date",
        "clone",
        "resubscribe",
    ]);
    prop_oneof![
        Just(UnknownOrigin),
        Just(UnknownReceiver),
        Just(UnknownProvider),
        Just(UnknownParent),
        Just(UnknownDefaultOrigin),
        Just(DuplicateNode),
        Just(DuplicateSet),
        Just(DuplicateTableId),
        Just(ProviderCycle),
        Just(SelfProvider),
        Just(OriginSubscribes),
        keyword.prop_map(|k| KeywordClusterName(k.to_string())),
        prop::sample::select(vec![
            "",
            "1abc",
            "a-b",
            "a b",
            "\"quoted\"",
            "a.b",
            "$x",
            "a'b",
            "x;y"
        ])
        .prop_map(|n| BadClusterName(n.to_string())),
        prop::sample::select(vec![SlonyVersion::V1_2, SlonyVersion::V2_0, SlonyVersion::V2_1])
            .prop_map(QuoteBefore22),
        (0usize..5).prop_map(LongComment),
        (0usize..6).prop_map(Backslash),
        (0usize..4).prop_map(IdZero),
        (
            prop_oneof![
                Just(u64::from(MAX_ID) + 1),
                (u64::from(MAX_ID) + 1)..=u64::from(u32::MAX),
                Just(1u64 << 40)
            ],
            0usize..4
        )
            .prop_map(|(v, w)| IdTooBig(v, w)),
        (0usize..6, "[a-z_]{1,12}").prop_map(|(w, f)| UnknownField(w, format!("x_{f}"))),
        Just(EmptyIdentifier),
        Just(LongIdentifier),
        Just(FailedOrigin),
        Just(UnknownConninfoKeyword),
        Just(EmptyConninfoValue),
        Just(WaitTimeoutTooBig),
        Just(NoNodes),
        Just(UnknownSetInSubscription),
        Just(DuplicateKey),
        Just(UnterminatedString),
        Just(BrokenTableHeader),
        Just(WrongType),
    ]
}

fn array<'a>(root: &'a mut toml::Table, key: &str) -> &'a mut Vec<toml::Value> {
    if !root.contains_key(key) {
        root.insert(key.into(), toml::Value::Array(Vec::new()));
    }
    root.get_mut(key)
        .and_then(toml::Value::as_array_mut)
        .expect("an array")
}

fn entry(value: &mut toml::Value) -> &mut toml::Table {
    value.as_table_mut().expect("a table")
}

fn node_ids(root: &toml::Table) -> Vec<i64> {
    root["node"]
        .as_array()
        .expect("nodes")
        .iter()
        .map(|n| n["id"].as_integer().expect("id"))
        .collect()
}

fn set_ids(root: &toml::Table) -> Vec<i64> {
    root.get("set")
        .and_then(|s| s.as_array())
        .map(|sets| sets.iter().map(|s| s["id"].as_integer().expect("id")).collect())
        .unwrap_or_default()
}

/// The `n`-th smallest node id the config does not define.
fn missing_node(root: &toml::Table, n: usize) -> i64 {
    let taken = node_ids(root);
    (1..).filter(|id| !taken.contains(id)).nth(n).expect("ids left")
}

/// Ids of the nodes not marked failed.
fn active_node_ids(root: &toml::Table) -> Vec<i64> {
    root["node"]
        .as_array()
        .expect("nodes")
        .iter()
        .filter(|n| n.get("failed").and_then(toml::Value::as_bool) != Some(true))
        .map(|n| n["id"].as_integer().expect("id"))
        .collect()
}

/// The origin of the first set.
fn first_origin(root: &toml::Table) -> i64 {
    let set = &root["set"].as_array().expect("sets")[0];
    match set.get("origin") {
        Some(o) => o.as_integer().expect("origin"),
        None => root
            .get("default_origin")
            .and_then(toml::Value::as_integer)
            .unwrap_or_else(|| node_ids(root).into_iter().min().expect("a node")),
    }
}

/// Which problem (or parse error) a breakage must produce.
fn expected(b: &Breakage, e: &LoadError) -> bool {
    use Breakage::*;
    let problems = match e {
        LoadError::InvalidConfig { problems, .. } => &problems.0,
        LoadError::ParseConfig { .. } => {
            return matches!(
                b,
                IdTooBig(..)
                    | UnknownField(..)
                    | DuplicateKey
                    | UnterminatedString
                    | BrokenTableHeader
                    | WrongType
            )
        }
        _ => return false,
    };
    problems.iter().any(|p| match b {
        UnknownOrigin | UnknownReceiver | UnknownProvider | UnknownParent | UnknownDefaultOrigin => {
            matches!(p, Problem::UnknownNode { .. })
        }
        DuplicateNode => matches!(p, Problem::DuplicateNode { .. }),
        DuplicateSet => matches!(p, Problem::DuplicateSet { .. }),
        DuplicateTableId => matches!(p, Problem::DuplicateTableId { .. }),
        ProviderCycle => matches!(
            p,
            Problem::ProviderCycle { .. } | Problem::ProviderCannotForward { .. }
        ),
        SelfProvider => matches!(p, Problem::SelfProvider { .. }),
        OriginSubscribes => matches!(p, Problem::OriginSubscribes { .. }),
        KeywordClusterName(_) | BadClusterName(_) => matches!(p, Problem::BadClusterName { .. }),
        QuoteBefore22(_) | LongComment(_) => matches!(p, Problem::Literal { .. }),
        Backslash(_) => matches!(p, Problem::Literal { .. } | Problem::Conninfo { .. }),
        IdZero(_) | IdTooBig(..) => matches!(p, Problem::IdOutOfRange { .. }),
        EmptyIdentifier | LongIdentifier => matches!(p, Problem::BadIdentifier { .. }),
        FailedOrigin => matches!(p, Problem::FailedNode { .. }),
        UnknownConninfoKeyword | EmptyConninfoValue => matches!(p, Problem::Conninfo { .. }),
        WaitTimeoutTooBig => matches!(p, Problem::BadWaitTimeout { .. }),
        NoNodes => matches!(p, Problem::NoNodes),
        UnknownSetInSubscription => matches!(p, Problem::UnknownSet { .. }),
        UnknownField(..) | DuplicateKey | UnterminatedString | BrokenTableHeader | WrongType => false,
    })
}

/// Applies the breakage; returns the config text.
fn break_config(mut root: toml::Table, b: &Breakage) -> String {
    use Breakage::*;
    let missing = missing_node(&root, 0);
    let sets = set_ids(&root);
    let nodes = node_ids(&root);
    match b {
        UnknownOrigin => {
            entry(&mut array(&mut root, "set")[0]).insert("origin".into(), missing.into());
        }
        UnknownReceiver => array(&mut root, "subscription").push(toml::Value::Table(
            [
                ("set".to_string(), sets[0].into()),
                ("receiver".to_string(), missing.into()),
            ]
            .into_iter()
            .collect(),
        )),
        UnknownProvider => {
            let receiver = nodes
                .iter()
                .copied()
                .find(|n| *n != first_origin(&root))
                .unwrap_or(missing);
            array(&mut root, "subscription").retain(|s| s["receiver"].as_integer() != Some(receiver));
            array(&mut root, "subscription").push(toml::Value::Table(
                [
                    ("set".to_string(), sets[0].into()),
                    ("receiver".to_string(), receiver.into()),
                    ("provider".to_string(), missing.into()),
                ]
                .into_iter()
                .collect(),
            ));
        }
        UnknownParent => {
            // A failed node's provider is not checked, so make the node active.
            let node = entry(&mut array(&mut root, "node")[0]);
            node.remove("failed");
            node.insert("provider".into(), missing.into());
        }
        UnknownDefaultOrigin => {
            root.insert("default_origin".into(), missing.into());
        }
        DuplicateNode => {
            let copy = array(&mut root, "node")[0].clone();
            array(&mut root, "node").push(copy);
        }
        DuplicateSet => {
            let mut copy = array(&mut root, "set")[0].clone();
            entry(&mut copy).remove("name");
            array(&mut root, "set").push(copy);
        }
        DuplicateTableId => {
            for id in 0..2 {
                let mut t = toml::Table::new();
                t.insert("name".into(), format!("dup_{id}").into());
                t.insert("id".into(), 77.into());
                array(entry(&mut array(&mut root, "set")[0]), "tables").push(toml::Value::Table(t));
            }
        }
        ProviderCycle | SelfProvider => {
            // Two active non-origin nodes that feed each other (or one that feeds itself),
            // added to the config when it has too few.
            let origin = first_origin(&root);
            let mut others: Vec<i64> = active_node_ids(&root)
                .into_iter()
                .filter(|n| *n != origin)
                .collect();
            others.extend([missing, missing_node(&root, 1)]);
            let (a, b) = if matches!(b, SelfProvider) {
                (others[0], others[0])
            } else {
                (others[0], others[1])
            };
            // New nodes may have lower ids than the old lowest: keep the default origin.
            let default_origin = root
                .get("default_origin")
                .and_then(toml::Value::as_integer)
                .unwrap_or_else(|| nodes.iter().copied().min().expect("a node"));
            root.insert("default_origin".into(), default_origin.into());
            for id in BTreeSet::from([a, b]) {
                if !nodes.contains(&id) {
                    let mut t = toml::Table::new();
                    t.insert("id".into(), id.into());
                    array(&mut root, "node").push(toml::Value::Table(t));
                }
            }
            array(&mut root, "subscription").retain(|s| {
                let r = s["receiver"].as_integer();
                r != Some(a) && r != Some(b)
            });
            let pairs = if a == b {
                vec![(a, a)]
            } else {
                vec![(a, b), (b, a)]
            };
            for (receiver, provider) in pairs {
                array(&mut root, "subscription").push(toml::Value::Table(
                    [
                        ("set".to_string(), sets[0].into()),
                        ("receiver".to_string(), receiver.into()),
                        ("provider".to_string(), provider.into()),
                        ("forward".to_string(), true.into()),
                    ]
                    .into_iter()
                    .collect(),
                ));
            }
        }
        OriginSubscribes => {
            let origin = first_origin(&root);
            array(&mut root, "subscription").push(toml::Value::Table(
                [
                    ("set".to_string(), sets[0].into()),
                    ("receiver".to_string(), origin.into()),
                ]
                .into_iter()
                .collect(),
            ));
        }
        KeywordClusterName(name) => {
            root.insert("cluster".into(), name.as_str().into());
            // `sql` is a keyword of 2.2 only, `date` from 2.1, `clone` from 2.0.
            root.insert("slony_version".into(), "2.2".into());
        }
        BadClusterName(name) => {
            root.insert("cluster".into(), name.as_str().into());
        }
        QuoteBefore22(version) => {
            root.insert("slony_version".into(), version.as_str().into());
            entry(&mut array(&mut root, "set")[0]).insert("comment".into(), "O'Brien's set".into());
        }
        LongComment(where_) => {
            root.insert("slony_version".into(), "2.1".into());
            let long = "x".repeat(600);
            match where_ {
                0 => {
                    entry(&mut array(&mut root, "set")[0]).insert("comment".into(), long.into());
                }
                1 => {
                    entry(&mut array(&mut root, "node")[0]).insert("comment".into(), long.into());
                }
                2 => {
                    entry(&mut array(&mut root, "node")[0]).insert("name".into(), long.into());
                }
                3 => {
                    entry(&mut array(&mut root, "set")[0]).insert("name".into(), long.into());
                }
                _ => {
                    let mut t = toml::Table::new();
                    t.insert("name".into(), "long_comment".into());
                    t.insert("comment".into(), long.into());
                    array(entry(&mut array(&mut root, "set")[0]), "tables").push(toml::Value::Table(t));
                }
            }
        }
        Backslash(where_) => {
            let value = "a\\b";
            let set = entry(&mut array(&mut root, "set")[0]);
            match where_ {
                0 => {
                    set.insert("comment".into(), value.into());
                }
                1 => {
                    array(set, "tables").push(value.into());
                }
                2 => {
                    let mut t = toml::Table::new();
                    t.insert("name".into(), "keyed".into());
                    t.insert("key".into(), value.into());
                    array(set, "tables").push(toml::Value::Table(t));
                }
                3 => {
                    entry(&mut array(&mut root, "node")[0]).insert("comment".into(), value.into());
                }
                4 => {
                    // A password with a backslash that would be stored by `store path`.
                    let node = entry(&mut array(&mut root, "node")[0]);
                    node.insert("password".into(), value.into());
                    if let Some(path) = node.get_mut("path").and_then(toml::Value::as_table_mut) {
                        path.remove("password");
                    }
                }
                _ => {
                    array(set, "sequences").push("sch.seq\\1".into());
                }
            }
        }
        IdZero(where_) | IdTooBig(_, where_) => {
            let value: toml::Value = match b {
                IdTooBig(v, _) => i64::try_from(*v).expect("fits in TOML").into(),
                _ => 0.into(),
            };
            match where_ {
                0 => {
                    entry(&mut array(&mut root, "node")[0]).insert("id".into(), value);
                }
                1 => {
                    let set = entry(&mut array(&mut root, "set")[0]);
                    set.insert("id".into(), value);
                    set.insert("name".into(), "the_broken_set".into());
                    array(&mut root, "subscription").clear();
                }
                2 => {
                    let mut t = toml::Table::new();
                    t.insert("name".into(), "bad_id".into());
                    t.insert("id".into(), value);
                    array(entry(&mut array(&mut root, "set")[0]), "tables").push(toml::Value::Table(t));
                }
                _ => {
                    let mut t = toml::Table::new();
                    t.insert("name".into(), "bad_seq_id".into());
                    t.insert("id".into(), value);
                    array(entry(&mut array(&mut root, "set")[0]), "sequences").push(toml::Value::Table(t));
                }
            }
        }
        UnknownField(where_, field) => {
            let target: &mut toml::Table = match where_ {
                0 => &mut root,
                1 => entry(&mut array(&mut root, "node")[0]),
                2 => entry(&mut array(&mut root, "set")[0]),
                3 => {
                    array(&mut root, "subscription").push(toml::Value::Table(
                        [
                            ("set".to_string(), sets[0].into()),
                            ("receiver".to_string(), missing.into()),
                        ]
                        .into_iter()
                        .collect(),
                    ));
                    entry(array(&mut root, "subscription").last_mut().expect("pushed"))
                }
                4 => {
                    let node = entry(&mut array(&mut root, "node")[0]);
                    if !node.contains_key("path") {
                        node.insert("path".into(), toml::Value::Table(toml::Table::new()));
                    }
                    node.get_mut("path")
                        .and_then(toml::Value::as_table_mut)
                        .expect("path")
                }
                _ => {
                    let set = entry(&mut array(&mut root, "set")[0]);
                    let mut t = toml::Table::new();
                    t.insert("name".into(), "with_unknown_field".into());
                    array(set, "tables").push(toml::Value::Table(t));
                    entry(array(set, "tables").last_mut().expect("pushed"))
                }
            };
            target.insert(field.clone(), 1.into());
        }
        EmptyIdentifier => {
            let mut t = toml::Table::new();
            t.insert("name".into(), "".into());
            array(entry(&mut array(&mut root, "set")[0]), "tables").push(toml::Value::Table(t));
        }
        LongIdentifier => {
            let mut t = toml::Table::new();
            t.insert("name".into(), "é".repeat(32).into());
            array(entry(&mut array(&mut root, "set")[0]), "tables").push(toml::Value::Table(t));
        }
        FailedOrigin => {
            let origin = first_origin(&root);
            for n in array(&mut root, "node") {
                if n["id"].as_integer() == Some(origin) {
                    entry(n).insert("failed".into(), true.into());
                }
            }
        }
        UnknownConninfoKeyword => {
            let node = entry(&mut array(&mut root, "node")[0]);
            if !node.contains_key("options") {
                node.insert("options".into(), toml::Value::Table(toml::Table::new()));
            }
            let options = node
                .get_mut("options")
                .and_then(toml::Value::as_table_mut)
                .expect("options");
            options.insert("dbnme".into(), "x".into());
        }
        EmptyConninfoValue => {
            entry(&mut array(&mut root, "node")[0]).insert("host".into(), "".into());
        }
        WaitTimeoutTooBig => {
            root.insert("wait_timeout".into(), (i64::from(MAX_ID) + 1).into());
        }
        NoNodes => {
            root.remove("node");
            root.remove("set");
            root.remove("subscription");
            root.remove("default_origin");
        }
        UnknownSetInSubscription => {
            let receiver = nodes[0];
            array(&mut root, "subscription").push(toml::Value::Table(
                [
                    ("set".to_string(), "no such set".into()),
                    ("receiver".to_string(), receiver.into()),
                ]
                .into_iter()
                .collect(),
            ));
        }
        DuplicateKey => {
            let text = to_text(&root);
            return format!("cluster = \"first\"\n{text}");
        }
        UnterminatedString => {
            let text = to_text(&root);
            let cut = text.find("cluster = \"").expect("cluster key") + "cluster = \"".len();
            return format!("{}\n[[node]]\nid = 1\n", &text[..cut]);
        }
        BrokenTableHeader => {
            let text = to_text(&root);
            return text.replacen("[[node]]", "[[node]", 1);
        }
        WrongType => {
            entry(&mut array(&mut root, "node")[0]).insert("id".into(), "one".into());
        }
    }
    to_text(&root)
}

#[test]
fn broken_configs_give_a_typed_error_naming_the_file() {
    let strategy = (
        prop::sample::select(SlonyVersion::ALL.to_vec()).prop_flat_map(cluster_spec),
        breakage(),
    );
    check("broken configs", DEFAULT_CASES, strategy, |(spec, b)| {
        let text = break_config(build(&spec), &b);
        match load_config_str(&text, CONFIG_NAME) {
            Ok(_) => Err(TestCaseError::fail(format!(
                "{b:?}: accepted a broken config:\n{text}"
            ))),
            Err(e) => {
                let message = e.to_string();
                prop_assert!(
                    message.contains(CONFIG_NAME),
                    "{b:?}: the error does not name the file: {message}"
                );
                prop_assert!(
                    expected(&b, &e),
                    "{b:?}: not the expected error: {message}\n--- config ---\n{text}"
                );
                Ok(())
            }
        }
    });
}

#[test]
fn garbage_never_panics_and_random_bytes_never_load() {
    // Random edits of a valid config may still be valid: only no panic, and any cluster
    // that loads must render every operation or refuse it with a type.
    let files = DdlFiles::new();
    let stats = RefCell::new(Stats::default());
    let edits = prop::collection::vec(
        (
            any::<Index>(),
            0usize..4,
            prop::sample::select(vec![
                "", "\"", "'", "[", "]", "=", "\n", "\\", "#", "{", "}", ",", "\u{0}", "\u{feff}", "0", "é",
            ]),
        ),
        1..6,
    );
    let strategy = (cluster_spec(SlonyVersion::V2_2), edits, any::<u64>());
    check(
        "edited configs",
        DEFAULT_CASES / 2,
        strategy,
        |(spec, edits, seed)| {
            let mut text = to_text(&build(&spec));
            for (at, how, piece) in edits {
                let mut i = at.index(text.len() + 1);
                while !text.is_char_boundary(i) {
                    i -= 1;
                }
                match how {
                    0 => text.insert_str(i, piece),
                    1 => text.truncate(i),
                    2 => {
                        let mut end = (i + 7).min(text.len());
                        while !text.is_char_boundary(end) {
                            end -= 1;
                        }
                        text.replace_range(i..end, piece);
                    }
                    _ => {
                        let line_start = text[..i].rfind('\n').map_or(0, |n| n + 1);
                        let line_end = text[i..].find('\n').map_or(text.len(), |n| i + n);
                        let line = text[line_start..line_end].to_string();
                        text.insert_str(line_end, &format!("\n{line}"));
                    }
                }
            }
            if let Ok(cluster) = load_config_str(&text, CONFIG_NAME) {
                run_ops(&cluster, "edited", &mut Picker(seed), &files, &stats)?;
            }
            Ok(())
        },
    );
    check(
        "random bytes",
        DEFAULT_CASES,
        prop::collection::vec(any::<u8>(), 0..400),
        |bytes| {
            let text = String::from_utf8_lossy(&bytes);
            let result = load_config_str(&text, CONFIG_NAME);
            prop_assert!(result.is_err(), "random bytes loaded as a cluster: {text:?}");
            Ok(())
        },
    );
    check(
        "random text",
        DEFAULT_CASES,
        "(cluster = \"[a-z]{1,5}\"\n)?(\\[\\[node\\]\\]\nid = [0-9]{1,3}\n)?.{0,200}",
        |text| {
            // May be valid (the regex can spell a config); must never panic.
            if let Ok(cluster) = load_config_str(&text, CONFIG_NAME) {
                run_ops(&cluster, "random text", &mut Picker(7), &files, &stats)?;
            }
            Ok(())
        },
    );
}

// ---------------------------------------------------------------------------------------
// Properties: bad operation arguments
// ---------------------------------------------------------------------------------------

/// Arguments that name no node of any cluster, or are not node arguments at all.
const NOT_NODES: &[&str] = &[
    "0",
    "node0",
    "-1",
    "",
    " ",
    "node",
    "NODE1",
    "node 1",
    "1.0",
    "0x1",
    "１",
    "2147483648",
    "99999999999",
    "node-2",
    "set1",
    "all",
];

/// Operations whose arguments must be refused, with a reason for the failure message.
fn bad_ops(cluster: &Cluster, p: &mut Picker) -> Vec<(&'static str, OperationArgs)> {
    let active: Vec<NodeId> = cluster.active_nodes().map(|n| n.id).collect();
    let missing = (1..=MAX_ID)
        .map(NodeId)
        .find(|n| !cluster.nodes.contains_key(n))
        .expect("a free id");
    let bad_node = |p: &mut Picker| {
        if p.chance(50) {
            node_arg(p, missing)
        } else {
            p.pick(NOT_NODES).expect("non-empty").to_string()
        }
    };
    let missing_set = (1..=MAX_ID)
        .map(SetId)
        .find(|s| !cluster.sets.contains_key(s))
        .expect("a free id");
    let bad_set = |p: &mut Picker| match p.below(3) {
        0 => missing_set.to_string(),
        1 => format!("set{missing_set}"),
        _ => p
            .pick(&["", " ", "set", "set 1x", "no such set", "-1", "0"])
            .expect("non-empty")
            .to_string(),
    };
    let node = p.pick(&active).unwrap_or(NodeId(1));
    let set = p
        .pick(&cluster.sets.keys().copied().collect::<Vec<_>>())
        .unwrap_or(SetId(1));
    let good_set = |p: &mut Picker| set_arg(p, cluster, set);
    let mut ops = vec![
        (
            "unknown node",
            OperationArgs::StoreNode {
                node: bad_node(p),
                event_node: None,
            },
        ),
        (
            "unknown event node",
            OperationArgs::StoreNode {
                node: node_arg(p, node),
                event_node: Some(bad_node(p)),
            },
        ),
        (
            "node == event node",
            OperationArgs::StoreNode {
                node: node_arg(p, node),
                event_node: Some(node_arg(p, node)),
            },
        ),
        (
            "unknown node",
            OperationArgs::DropNode {
                node: bad_node(p),
                event_node: node_arg(p, node),
            },
        ),
        (
            "unknown event node",
            OperationArgs::DropNode {
                node: node_arg(p, node),
                event_node: bad_node(p),
            },
        ),
        (
            "node == event node",
            OperationArgs::DropNode {
                node: node_arg(p, node),
                event_node: node_arg(p, node),
            },
        ),
        (
            "unknown node",
            OperationArgs::RestartNodes {
                nodes: vec![node_arg(p, node), bad_node(p)],
            },
        ),
        ("unknown set", OperationArgs::CreateSet { set: bad_set(p) }),
        ("unknown set", OperationArgs::DropSet { set: bad_set(p) }),
        (
            "unknown node",
            OperationArgs::MergeSets {
                node: bad_node(p),
                target: good_set(p),
                source: good_set(p),
            },
        ),
        (
            "unknown set",
            OperationArgs::MergeSets {
                node: node_arg(p, node),
                target: bad_set(p),
                source: good_set(p),
            },
        ),
        (
            "merge a set into itself",
            OperationArgs::MergeSets {
                node: node_arg(p, cluster.sets.get(&set).map_or(node, |s| s.origin)),
                target: good_set(p),
                source: good_set(p),
            },
        ),
        (
            "unknown set",
            OperationArgs::SubscribeSet {
                set: bad_set(p),
                node: node_arg(p, node),
                omit_copy: false,
            },
        ),
        (
            "unknown node",
            OperationArgs::SubscribeSet {
                set: good_set(p),
                node: bad_node(p),
                omit_copy: false,
            },
        ),
        (
            "unknown set",
            OperationArgs::UnsubscribeSet {
                set: bad_set(p),
                node: node_arg(p, node),
            },
        ),
        (
            "unknown node",
            OperationArgs::UnsubscribeSet {
                set: good_set(p),
                node: bad_node(p),
            },
        ),
        (
            "unknown set",
            OperationArgs::MoveSet {
                set: bad_set(p),
                from: node_arg(p, node),
                to: node_arg(p, node),
            },
        ),
        (
            "unknown node",
            OperationArgs::MoveSet {
                set: good_set(p),
                from: bad_node(p),
                to: node_arg(p, node),
            },
        ),
        (
            "unknown node",
            OperationArgs::MoveSet {
                set: good_set(p),
                from: node_arg(p, node),
                to: bad_node(p),
            },
        ),
        (
            "move to itself",
            OperationArgs::MoveSet {
                set: good_set(p),
                from: node_arg(p, node),
                to: node_arg(p, node),
            },
        ),
        ("no pairs", OperationArgs::Failover { pairs: vec![] }),
        (
            "unknown dead node",
            OperationArgs::Failover {
                pairs: vec![(bad_node(p), node_arg(p, node))],
            },
        ),
        (
            "unknown backup node",
            OperationArgs::Failover {
                pairs: vec![(node_arg(p, node), bad_node(p))],
            },
        ),
        (
            "own backup",
            OperationArgs::Failover {
                pairs: vec![(node_arg(p, node), node_arg(p, node))],
            },
        ),
        (
            "unknown set",
            OperationArgs::ExecuteScript {
                set: bad_set(p),
                ddl: Ddl::Sql("select 1;".into()),
                node: None,
                only_on: Vec::new(),
            },
        ),
        (
            "unknown node",
            OperationArgs::ExecuteScript {
                set: good_set(p),
                ddl: Ddl::Sql("select 1;".into()),
                node: Some(bad_node(p)),
                only_on: Vec::new(),
            },
        ),
        (
            "unknown set",
            OperationArgs::DropTable {
                table_id: "1".into(),
                set: bad_set(p),
            },
        ),
        (
            "unknown set",
            OperationArgs::DropSequence {
                sequence_id: "1".into(),
                set: bad_set(p),
            },
        ),
    ];
    for id in ["0", "-1", "", "x", "1.5", "4294967296"] {
        ops.push((
            "not a table id",
            OperationArgs::DropTable {
                table_id: id.into(),
                set: good_set(p),
            },
        ));
        ops.push((
            "not a sequence id",
            OperationArgs::DropSequence {
                sequence_id: id.into(),
                set: good_set(p),
            },
        ));
    }
    if let Some(s) = cluster.sets.get(&set) {
        let unused_table = (1..=MAX_ID)
            .find(|id| !s.tables.iter().any(|t| t.id.0 == *id))
            .expect("free");
        let unused_sequence = (1..=MAX_ID)
            .find(|id| !s.sequences.iter().any(|q| q.id.0 == *id))
            .expect("free");
        ops.push((
            "table not in the set",
            OperationArgs::DropTable {
                table_id: unused_table.to_string(),
                set: good_set(p),
            },
        ));
        ops.push((
            "sequence not in the set",
            OperationArgs::DropSequence {
                sequence_id: unused_sequence.to_string(),
                set: good_set(p),
            },
        ));
        ops.push((
            "origin subscribes",
            OperationArgs::SubscribeSet {
                set: good_set(p),
                node: node_arg(p, s.origin),
                omit_copy: false,
            },
        ));
        ops.push((
            "origin unsubscribes",
            OperationArgs::UnsubscribeSet {
                set: good_set(p),
                node: node_arg(p, s.origin),
            },
        ));
        ops.push((
            "drop an origin",
            OperationArgs::DropNode {
                node: node_arg(p, s.origin),
                event_node: node_arg(p, node),
            },
        ));
        if let Some(other) = active.iter().find(|n| **n != s.origin) {
            ops.push((
                "move from a non-origin",
                OperationArgs::MoveSet {
                    set: good_set(p),
                    from: node_arg(p, *other),
                    to: node_arg(p, s.origin),
                },
            ));
            if !cluster.subscriptions.contains_key(&(set, *other)) {
                ops.push((
                    "move to a non-subscriber",
                    OperationArgs::MoveSet {
                        set: good_set(p),
                        from: node_arg(p, s.origin),
                        to: node_arg(p, *other),
                    },
                ));
                ops.push((
                    "backup does not subscribe",
                    OperationArgs::Failover {
                        pairs: vec![(node_arg(p, s.origin), node_arg(p, *other))],
                    },
                ));
            }
        }
        if cluster.version < SlonyVersion::V2_2 {
            ops.push((
                "--sql before 2.2",
                OperationArgs::ExecuteScript {
                    set: good_set(p),
                    ddl: Ddl::Sql("select 1;".into()),
                    node: None,
                    only_on: Vec::new(),
                },
            ));
        }
    }
    if cluster.version < SlonyVersion::V2_2 && active.len() >= 4 {
        ops.push((
            "several failover pairs before 2.2",
            OperationArgs::Failover {
                pairs: vec![
                    (node_arg(p, active[0]), node_arg(p, active[1])),
                    (node_arg(p, active[2]), node_arg(p, active[3])),
                ],
            },
        ));
    }
    for failed in cluster.nodes.values().filter(|n| n.failed) {
        ops.push((
            "failed node",
            OperationArgs::StoreNode {
                node: node_arg(p, failed.id),
                event_node: None,
            },
        ));
        ops.push((
            "failed event node",
            OperationArgs::DropNode {
                node: node_arg(p, node),
                event_node: node_arg(p, failed.id),
            },
        ));
        ops.push((
            "failed node",
            OperationArgs::RestartNodes {
                nodes: vec![node_arg(p, failed.id)],
            },
        ));
    }
    ops
}

/// Any string from a list of troublemakers or random text.
fn wild_arg() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::sample::select(NOT_NODES).prop_map(str::to_string),
        "[0-9]{1,12}",
        "(node|set)?[0-9]{1,3}",
        ".{0,12}",
    ]
}

#[test]
fn bad_operation_arguments_are_refused_with_a_type() {
    let strategy = (
        prop::sample::select(SlonyVersion::ALL.to_vec()).prop_flat_map(cluster_spec),
        any::<u64>(),
    );
    check("bad arguments", DEFAULT_CASES, strategy, |(spec, seed)| {
        let (text, cluster) = load_valid(&spec)?;
        let mut p = Picker(seed);
        for (why, op) in bad_ops(&cluster, &mut p) {
            match op.run(&cluster) {
                Ok(change) => {
                    return Err(TestCaseError::fail(format!(
                        "{why}: {op:?} was accepted:\n{}\n--- config ---\n{text}",
                        change.script.render().unwrap_or_default()
                    )))
                }
                Err(OpError::UnknownNode { .. } | OpError::UnknownSet { .. } | OpError::Refusal { .. }) => {}
                Err(e) => {
                    return Err(TestCaseError::fail(format!(
                        "{why}: {op:?}: unexpected kind of error: {e:?}"
                    )))
                }
            }
        }
        Ok(())
    });

    // Arbitrary arguments: Ok or a typed error, never a panic.
    let wild = (
        cluster_spec(SlonyVersion::V2_2),
        prop::collection::vec(wild_arg(), 8),
        prop::collection::vec((wild_arg(), wild_arg()), 0..3),
    );
    check("wild arguments", DEFAULT_CASES / 2, wild, |(spec, a, pairs)| {
        let (_, cluster) = load_valid(&spec)?;
        let ops = vec![
            OperationArgs::StoreNode {
                node: a[0].clone(),
                event_node: Some(a[1].clone()),
            },
            OperationArgs::DropNode {
                node: a[0].clone(),
                event_node: a[1].clone(),
            },
            OperationArgs::RestartNodes {
                nodes: a[..3].to_vec(),
            },
            OperationArgs::CreateSet { set: a[2].clone() },
            OperationArgs::DropSet { set: a[3].clone() },
            OperationArgs::MergeSets {
                node: a[0].clone(),
                target: a[1].clone(),
                source: a[2].clone(),
            },
            OperationArgs::SubscribeSet {
                set: a[4].clone(),
                node: a[5].clone(),
                omit_copy: false,
            },
            OperationArgs::UnsubscribeSet {
                set: a[4].clone(),
                node: a[5].clone(),
            },
            OperationArgs::MoveSet {
                set: a[5].clone(),
                from: a[6].clone(),
                to: a[7].clone(),
            },
            OperationArgs::Failover { pairs: pairs.clone() },
            OperationArgs::ExecuteScript {
                set: a[1].clone(),
                ddl: Ddl::Sql(a[2].clone()),
                node: Some(a[3].clone()),
                only_on: Vec::new(),
            },
            OperationArgs::ExecuteScript {
                set: a[1].clone(),
                ddl: Ddl::File(a[2].clone()),
                node: None,
                only_on: Vec::new(),
            },
            OperationArgs::DropTable {
                table_id: a[6].clone(),
                set: a[7].clone(),
            },
            OperationArgs::DropSequence {
                sequence_id: a[6].clone(),
                set: a[7].clone(),
            },
        ];
        for op in ops {
            if let Ok(change) = op.run(&cluster) {
                let rendered = change.script.render();
                prop_assert!(
                    rendered.is_ok(),
                    "{op:?} gave a script that does not render: {rendered:?}"
                );
            }
        }
        Ok(())
    });
}
