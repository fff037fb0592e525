//! slon's runtime options: which exist in which Slony-I version, what type each takes,
//! and the settings one node's daemon runs with ([`SlonSettings`]); [`conf`] writes them
//! as the file `slon -f FILE` reads, [`run`] says how the daemon is run and [`unit`](mod@unit)
//! writes its systemd unit.
//!
//! The 2.2 column was checked against the installed slon 2.2.11: every name below is
//! accepted by it, and every integer range is the one it reports for an out-of-range
//! value. The 1.2, 2.0 and 2.1 columns come from the option tables in `confoptions.c` of
//! the last release of each branch (`REL_1_2_STABLE`, `REL_2_0_STABLE`, `REL_2_1_STABLE`),
//! whose config scanner (`conf-file.l`) reads files the same way as 2.2's. A setting the
//! version's slon lacks is refused while generating: slon would log `unrecognized
//! configuration parameter` and ignore the whole file.

pub mod conf;
pub mod control;
pub mod run;
pub mod unit;

use crate::model::config::SlonValue;
use crate::model::ids::NodeId;
use crate::version::SlonyVersion;
use crate::Cluster;

/// Why a slon config file cannot be produced or written.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SlonConfError {
    /// The node's path conninfo cannot be written (validation reports why).
    #[error("{node}: its path connection cannot be written as a conninfo; `slonik-gen check` style validation reports why")]
    NoConninfo {
        /// `node 2 (SlaNod)`.
        node: String,
    },
    /// A file could not be written; the one at that path, if any, is unchanged.
    #[error("cannot write slon config {}", path.display())]
    Write {
        /// The file.
        path: std::path::PathBuf,
        /// Why.
        source: std::io::Error,
    },
}

/// The type and range slon gives an option.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OptionKind {
    /// An integer from `min` to `max` inclusive.
    Int {
        /// Smallest value slon accepts.
        min: i64,
        /// Largest value slon accepts.
        max: i64,
    },
    /// A boolean.
    Bool,
    /// Any one line of text.
    Text,
    /// One of a fixed list of words.
    Enum(&'static [&'static str]),
}

/// One slon runtime option.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SlonOption {
    /// The name in a slon config file.
    pub name: &'static str,
    /// Its type.
    pub kind: OptionKind,
    /// The versions whose slon is known to accept it.
    pub versions: &'static [SlonyVersion],
}

use SlonyVersion::{V1_2, V2_0, V2_1, V2_2};

const ALL: &[SlonyVersion] = &[V1_2, V2_0, V2_1, V2_2];
const FROM_2_0: &[SlonyVersion] = &[V2_0, V2_1, V2_2];
const FROM_2_1: &[SlonyVersion] = &[V2_1, V2_2];
const ONLY_2_2: &[SlonyVersion] = &[V2_2];
const ONLY_2_0: &[SlonyVersion] = &[V2_0];
const UP_TO_2_0: &[SlonyVersion] = &[V1_2, V2_0];
const UP_TO_2_1: &[SlonyVersion] = &[V1_2, V2_0, V2_1];

const fn int(name: &'static str, min: i64, max: i64, versions: &'static [SlonyVersion]) -> SlonOption {
    SlonOption {
        name,
        kind: OptionKind::Int { min, max },
        versions,
    }
}

const fn flag(name: &'static str, versions: &'static [SlonyVersion]) -> SlonOption {
    SlonOption {
        name,
        kind: OptionKind::Bool,
        versions,
    }
}

const fn text(name: &'static str, versions: &'static [SlonyVersion]) -> SlonOption {
    SlonOption {
        name,
        kind: OptionKind::Text,
        versions,
    }
}

/// Every slon runtime option slonik-gen can write, sorted by name, with the versions whose
/// slon has it. `cluster_name` and `conn_info` are not here: they come from the cluster and
/// the node's path connection.
pub const OPTIONS: &[SlonOption] = &[
    int("apply_cache_size", 10, 2000, ONLY_2_2),
    text("archive_dir", ALL),
    flag("cleanup_deletelogs", ONLY_2_0),
    text("cleanup_interval", FROM_2_0),
    text("command_on_logarchive", ALL),
    int("desired_sync_time", 0, 6000000, UP_TO_2_1),
    flag("enable_version_check", ONLY_2_2),
    int("explain_interval", 0, 86400, FROM_2_1),
    text("lag_interval", ALL),
    int("log_level", -1, 4, ALL),
    flag("log_pid", ALL),
    flag("log_timestamp", ALL),
    text("log_timestamp_format", ALL),
    int("monitor_interval", 10, 12000, FROM_2_1),
    flag("monitor_threads", ONLY_2_2),
    text("pid_file", ALL),
    int("quit_sync_finalsync", 0, 2147483647, UP_TO_2_0),
    int("quit_sync_provider", 0, 2147483647, ALL),
    flag("remote_listen_serializable_transactions", ONLY_2_2),
    int("remote_listen_timeout", 30, 30000, ALL),
    text("sql_on_connection", ALL),
    int("sync_group_maxsize", 0, 10000, ALL),
    int("sync_interval", 10, 60000, ALL),
    int("sync_interval_timeout", 0, 1200000, ALL),
    int("sync_max_largemem", 1048576, 1073741824, UP_TO_2_1),
    int("sync_max_rowsize", 1024, 32768, UP_TO_2_1),
    int("syslog", 0, 2, ALL),
    SlonOption {
        name: "syslog_facility",
        kind: OptionKind::Enum(&[
            "LOCAL0", "LOCAL1", "LOCAL2", "LOCAL3", "LOCAL4", "LOCAL5", "LOCAL6", "LOCAL7",
        ]),
        versions: ALL,
    },
    text("syslog_ident", ALL),
    flag("tcp_keepalive", ONLY_2_2),
    int("tcp_keepalive_count", 0, 1073741824, ONLY_2_2),
    int("tcp_keepalive_idle", 0, 1073741824, ONLY_2_2),
    int("tcp_keepalive_interval", 0, 1073741824, ONLY_2_2),
    int("vac_frequency", 0, 100, ALL),
];

/// The option `name`, whatever the version.
pub fn option(name: &str) -> Option<&'static SlonOption> {
    OPTIONS.iter().find(|o| o.name == name)
}

impl SlonOption {
    /// Whether `version`'s slon accepts this option.
    pub fn exists_in(&self, version: SlonyVersion) -> bool {
        self.versions.contains(&version)
    }

    /// Why `value` cannot be this option's value, if it cannot.
    pub fn value_problem(&self, value: &SlonValue) -> Option<String> {
        match (self.kind, value) {
            (OptionKind::Int { min, max }, SlonValue::Int(v)) => {
                (*v < min || *v > max).then(|| format!("{v} is out of range: slon accepts {min} to {max}"))
            }
            (OptionKind::Int { .. }, _) => Some("must be an integer".into()),
            (OptionKind::Bool, SlonValue::Bool(_)) => None,
            (OptionKind::Bool, _) => Some("must be true or false".into()),
            (OptionKind::Text, SlonValue::Text(_)) => None,
            (OptionKind::Text, _) => Some("must be a string".into()),
            (OptionKind::Enum(words), SlonValue::Text(t)) => {
                (!words.contains(&t.as_str())).then(|| format!("`{t}` is not one of {}", words.join(", ")))
            }
            (OptionKind::Enum(words), _) => Some(format!("must be one of {}", words.join(", "))),
        }
    }
}

/// What one node's slon daemon runs with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SlonSettings {
    /// The cluster name (`cluster_name`).
    pub cluster_name: String,
    /// The node it serves.
    pub node: NodeId,
    /// `node 1 (MasNod)`, for the file's header.
    pub node_label: String,
    /// The libpq conninfo of the node's path connection (`conn_info`).
    pub conn_info: String,
    /// Every option set for the node, sorted by name: `[slon]` with `[node.slon]` over it.
    pub options: Vec<(String, SlonValue)>,
}

impl SlonSettings {
    /// The settings of `node` in `cluster`; `None` for a node not in it. The conninfo is
    /// the path conninfo validation has checked; should it not render, the admin
    /// connection's problems are the ones validation would have reported, so `None` too.
    pub fn of(cluster: &Cluster, node: NodeId) -> Option<SlonSettings> {
        let n = cluster.nodes.get(&node)?;
        let conn_info = n.path_conninfo(cluster.version).ok()?;
        let mut merged = cluster.slon.clone();
        merged.extend(n.slon.iter().map(|(k, v)| (k.clone(), v.clone())));
        Some(SlonSettings {
            cluster_name: cluster.name.clone(),
            node,
            node_label: n.label(),
            conn_info,
            options: merged.into_iter().collect(),
        })
    }

    /// Whether the conninfo carries a password: the file must then be private (0600).
    pub fn holds_password(&self) -> bool {
        self.conn_info.split_whitespace().any(|word| {
            let key = word.split('=').next().unwrap_or("");
            key.eq_ignore_ascii_case("password") || key.eq_ignore_ascii_case("sslpassword")
        })
    }
}
