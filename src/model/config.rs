//! The config file as written by the operator (TOML), mirrored by serde structs.
//!
//! These types only describe the file; [`crate::validate`] turns them into a checked
//! [`crate::Cluster`]. Unknown fields are rejected everywhere, so a typo never silently
//! becomes a default.
//!
//! To build a config in Rust instead of TOML, start from [`ConfigFile::new`] and chain the
//! builders ([`NodeConfig::new`], [`SetConfig::new`], [`SubscriptionConfig::new`]); each
//! key left out gets the default a TOML file that leaves it out gets. The structs are
//! `#[non_exhaustive]`, so that a key added to the file is not a breaking change for code
//! that builds configs: outside this crate they are built with these constructors, never
//! with struct literals. A built config is checked like a file: the only way to a
//! [`crate::Cluster`] is [`crate::validate::validate`].
//!
//! ```
//! use slonik_gen::model::config::{ConfigFile, NodeConfig, SetConfig, SubscriptionConfig};
//!
//! # fn main() -> slonik_gen::Result<()> {
//! let config = ConfigFile::new("replication")
//!     .node(NodeConfig::new(1).name("MasNod").host("db1").dbname("app"))
//!     .node(NodeConfig::new(2).name("SlaNod").host("db2").dbname("app"))
//!     .set(SetConfig::new(1, "set1").default_schema("app").tables(["accounts", "audit.log"]))
//!     .subscription(SubscriptionConfig::new("set1", 2));
//! let cluster = slonik_gen::validate::validate(&config)?;
//! assert_eq!(cluster.sets[&1.into()].tables[1].name.to_string(), "audit.log");
//! # Ok(())
//! # }
//! ```

use std::fmt;

use serde::de::{self, MapAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::model::conninfo::ConnectionParts;
use crate::model::ids::{NodeId, SetId};
use crate::version::SlonyVersion;

/// Builder methods that set `Option` fields of the same name: `field: parameter type`.
macro_rules! option_setters {
    ($($(#[$doc:meta])* $field:ident: $param:ty),* $(,)?) => {
        $(
            $(#[$doc])*
            pub fn $field(mut self, $field: $param) -> Self {
                self.$field = Some($field.into());
                self
            }
        )*
    };
}

/// The builder methods of the libpq connection parts, shared by [`NodeConfig`] (its admin
/// connection) and [`ConnectionParts`] (a path's overrides), whose fields are the same.
macro_rules! connection_setters {
    () => {
        $crate::model::config::option_setters!(
            /// Sets libpq `service`: a section of `pg_service.conf`.
            service: impl Into<String>,
            /// Sets libpq `host`: host name, address or socket directory.
            host: impl Into<String>,
            /// Sets libpq `port`.
            port: u16,
            /// Sets libpq `dbname`.
            dbname: impl Into<String>,
            /// Sets libpq `user`.
            user: impl Into<String>,
            /// Sets libpq `password`. Prefer [`Self::passfile`] or [`Self::service`]: a
            /// password here ends up in every script and in the `sl_path` catalog.
            password: impl Into<String>,
            /// Sets libpq `passfile`: a pgpass file, so no password appears in any script.
            passfile: impl Into<String>,
            /// Sets libpq `sslmode`.
            sslmode: impl Into<String>,
        );

        /// Adds any other libpq keyword (`connect_timeout`, `application_name`, ...);
        /// a key given twice keeps the last value.
        pub fn option(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
            self.options.insert(key.into(), value.into());
            self
        }
    };
}
pub(crate) use {connection_setters, option_setters};

/// A whole `slonik-gen.toml`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct ConfigFile {
    /// The Slony-I cluster name (the catalog lives in schema `_<cluster>`).
    pub cluster: String,
    /// Target Slony-I version: `1.2`, `2.0`, `2.1` or `2.2` (default).
    #[serde(default)]
    pub slony_version: SlonyVersion,
    /// altperl's `$MASTERNODE`: origin of sets that name none, event node by default.
    /// Defaults to the lowest node id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_origin: Option<NodeId>,
    /// Seconds every generated `wait for event` waits before failing (0 waits forever).
    #[serde(default = "default_wait_timeout")]
    pub wait_timeout: u32,
    /// Cluster-wide slon runtime options (`[slon]`), which every node's `[node.slon]`
    /// overrides one by one; checked per target version by [`crate::validate::validate`].
    #[serde(default, skip_serializing_if = "SlonOptions::is_empty")]
    pub slon: SlonOptions,
    /// How every node's slon runs (`[daemon]`): a plain process, a Debian init-script
    /// instance or a systemd unit, and where its files are; `[node.daemon]` overrides it
    /// key by key. Read by `slon start|stop|status`, `slon-unit` and the runbooks.
    #[serde(default, skip_serializing_if = "DaemonConfig::is_empty")]
    pub daemon: DaemonConfig,
    /// The nodes.
    #[serde(default, rename = "node")]
    pub nodes: Vec<NodeConfig>,
    /// The replication sets.
    #[serde(default, rename = "set", skip_serializing_if = "Vec::is_empty")]
    pub sets: Vec<SetConfig>,
    /// Subscriptions: which node receives which set from which provider.
    #[serde(default, rename = "subscription", skip_serializing_if = "Vec::is_empty")]
    pub subscriptions: Vec<SubscriptionConfig>,
    /// The paths (`store path`), when not every node should connect to every other: with
    /// at least one `[[path]]`, exactly these are stored; with none, every ordered pair.
    #[serde(default, rename = "path", skip_serializing_if = "Vec::is_empty")]
    pub paths: Vec<PathConfig>,
}

/// One `[[path]]`: the slon of `client` connects to `server` with the server's path
/// connection (its `[node.path]`, else its admin connection).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct PathConfig {
    /// The node connected to.
    pub server: NodeId,
    /// The node whose slon connects.
    pub client: NodeId,
    /// Seconds the client's slon waits before it tries again after a failed connection
    /// (slonik's default: 10).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub connretry: Option<u32>,
}

impl PathConfig {
    /// The path from `client` to `server`, with slonik's default `connretry`.
    pub fn new(server: NodeId, client: NodeId) -> Self {
        PathConfig {
            server,
            client,
            connretry: None,
        }
    }
}

/// The default for [`ConfigFile::wait_timeout`]: slonik's own default of 600 seconds.
pub fn default_wait_timeout() -> u32 {
    600
}

/// What a file with only `cluster = ""` holds: the empty cluster name is the one value
/// that is not a file's default, and [`crate::validate::validate`] rejects it.
impl Default for ConfigFile {
    fn default() -> Self {
        ConfigFile {
            cluster: String::new(),
            slony_version: SlonyVersion::default(),
            default_origin: None,
            wait_timeout: default_wait_timeout(),
            slon: SlonOptions::new(),
            daemon: DaemonConfig::default(),
            nodes: Vec::new(),
            sets: Vec::new(),
            subscriptions: Vec::new(),
            paths: Vec::new(),
        }
    }
}

impl ConfigFile {
    /// A config for the cluster `cluster`, with no nodes, sets or subscriptions yet and
    /// every other key at its default.
    pub fn new(cluster: impl Into<String>) -> Self {
        ConfigFile {
            cluster: cluster.into(),
            ..ConfigFile::default()
        }
    }

    /// Sets the target Slony-I version (default 2.2).
    pub fn slony_version(mut self, version: SlonyVersion) -> Self {
        self.slony_version = version;
        self
    }

    option_setters!(
        /// Sets altperl's `$MASTERNODE` (default: the lowest node id).
        default_origin: impl Into<NodeId>,
    );

    /// Sets the seconds every generated `wait for event` waits (default 600, 0 = forever).
    pub fn wait_timeout(mut self, seconds: u32) -> Self {
        self.wait_timeout = seconds;
        self
    }

    /// Sets a cluster-wide slon runtime option (`[slon]`); a name given twice keeps the
    /// last value.
    pub fn slon(mut self, name: impl Into<String>, value: impl Into<SlonValue>) -> Self {
        self.slon.insert(name.into(), value.into());
        self
    }

    /// Adds a node (a `[[node]]`), after those added before.
    pub fn node(mut self, node: NodeConfig) -> Self {
        self.nodes.push(node);
        self
    }

    /// Adds a set (a `[[set]]`), after those added before.
    pub fn set(mut self, set: SetConfig) -> Self {
        self.sets.push(set);
        self
    }

    /// Adds a subscription (a `[[subscription]]`), after those added before.
    pub fn subscription(mut self, subscription: SubscriptionConfig) -> Self {
        self.subscriptions.push(subscription);
        self
    }
}

/// One `[[node]]`.
///
/// The connection parts are repeated here rather than `#[serde(flatten)]`-ed from
/// [`ConnectionParts`]: serde cannot combine `flatten` with `deny_unknown_fields`, and
/// rejecting typos matters more in a file that is edited during an outage.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct NodeConfig {
    /// Slony-I node id.
    pub id: NodeId,
    /// A short human name (`MasNod`); shown in echoes and comments.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// `store node` / `init cluster` comment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    /// libpq `service`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service: Option<String>,
    /// libpq `host`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
    /// libpq `port`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port: Option<u16>,
    /// libpq `dbname`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dbname: Option<String>,
    /// libpq `user`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    /// libpq `password` (prefer `passfile` or `service`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password: Option<String>,
    /// libpq `passfile`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub passfile: Option<String>,
    /// libpq `sslmode`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sslmode: Option<String>,
    /// Other libpq keywords.
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub options: std::collections::BTreeMap<String, String>,
    /// What the slon daemons use to reach this node (`store path`), where it differs from
    /// the admin connection; unset parts are taken from the admin connection.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<ConnectionParts>,
    /// altperl's `parent`: the node this one receives sets from (cascading).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provider: Option<NodeId>,
    /// Whether this node forwards what it receives (altperl's `noforward` inverted).
    #[serde(default = "yes", skip_serializing_if = "is_true")]
    pub forward: bool,
    /// Set after a failover: the node is out of the cluster until it is dropped and rebuilt.
    #[serde(default, skip_serializing_if = "is_false")]
    pub failed: bool,
    /// Set once the node has been dropped from the cluster after a failover
    /// (`runbook failover --drop-dead`): it is no member (no script, path or status uses
    /// it), and its entry keeps its connection and slon settings for `runbook failback` or
    /// `rebuild-node`, which take it back. Nothing may use it as an origin, subscriber or
    /// subscription provider; another node's `provider` may still name it (where that node
    /// receives from once it is back).
    #[serde(default, skip_serializing_if = "is_false")]
    pub dropped: bool,
    /// Shell command that starts this node's slon (`ssh db2 sudo systemctl start slon@2`,
    /// ...), used by runbooks instead of the one `[daemon]`/`[node.daemon]` describe
    /// ([`crate::slon::run::SlonRun::start_shell`]). It must exit non-zero unless the slon
    /// runs afterwards.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub slon_start: Option<String>,
    /// Shell command that stops this node's slon, used by runbooks instead of
    /// [`crate::slon::run::SlonRun::stop_shell`]. It must exit 0 only when the slon is gone
    /// (also when it was not running) and non-zero otherwise: rebuild-node, failback and
    /// `failover --drop-dead` go no further until it succeeds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub slon_stop: Option<String>,
    /// This node's slon runtime options (`[node.slon]`), each replacing the cluster-wide
    /// `[slon]` value of the same name.
    #[serde(default, skip_serializing_if = "SlonOptions::is_empty")]
    pub slon: SlonOptions,
    /// How this node's slon runs (`[node.daemon]`), each key replacing the cluster-wide
    /// `[daemon]` one.
    #[serde(default, skip_serializing_if = "DaemonConfig::is_empty")]
    pub daemon: DaemonConfig,
}

/// What a `[[node]]` with only `id = 0` holds: id 0 means "not given" to slonik, and
/// [`crate::validate::validate`] rejects it.
impl Default for NodeConfig {
    fn default() -> Self {
        NodeConfig {
            id: NodeId(0),
            name: None,
            comment: None,
            service: None,
            host: None,
            port: None,
            dbname: None,
            user: None,
            password: None,
            passfile: None,
            sslmode: None,
            options: std::collections::BTreeMap::new(),
            path: None,
            provider: None,
            forward: true,
            failed: false,
            dropped: false,
            slon_start: None,
            slon_stop: None,
            slon: SlonOptions::new(),
            daemon: DaemonConfig::default(),
        }
    }
}

impl NodeConfig {
    /// A node with the id `id` and every other key at its default (forwarding, no
    /// provider, no connection parts yet).
    ///
    /// ```
    /// use slonik_gen::model::config::NodeConfig;
    /// use slonik_gen::model::conninfo::ConnectionParts;
    ///
    /// let node = NodeConfig::new(2)
    ///     .name("SlaNod")
    ///     .host("SlaNod")
    ///     .dbname("geekdb")
    ///     .passfile("/var/lib/postgresql/.pgpass")
    ///     .option("connect_timeout", "5")
    ///     .path(ConnectionParts::new().host("10.0.0.2"))
    ///     .provider(1);
    /// assert_eq!(node.connection().params()[0], ("host".into(), "SlaNod".into()));
    /// ```
    pub fn new(id: impl Into<NodeId>) -> Self {
        NodeConfig {
            id: id.into(),
            ..NodeConfig::default()
        }
    }

    option_setters!(
        /// Sets the short human name shown in echoes and comments (`MasNod`).
        name: impl Into<String>,
        /// Sets the `store node` / `init cluster` comment.
        comment: impl Into<String>,
        /// Sets the shell command that starts this node's slon daemon (runbooks).
        slon_start: impl Into<String>,
        /// Sets the shell command that stops this node's slon daemon (runbooks).
        slon_stop: impl Into<String>,
        /// Sets what the slon daemons use to reach this node (`store path`), where it
        /// differs from the admin connection; parts left unset are taken from the admin
        /// connection.
        path: ConnectionParts,
        /// Sets altperl's `parent`: the node this one receives sets from (cascading).
        provider: impl Into<NodeId>,
    );

    connection_setters!();

    /// Sets whether this node forwards what it receives (default `true`; altperl's
    /// `noforward` inverted).
    pub fn forward(mut self, forward: bool) -> Self {
        self.forward = forward;
        self
    }

    /// Marks the node as failed over: out of the cluster until it is dropped and rebuilt.
    pub fn failed(mut self, failed: bool) -> Self {
        self.failed = failed;
        self
    }

    /// Marks the node as dropped after a failover: kept in the config with its settings,
    /// out of the cluster until failback or rebuild-node takes it back.
    pub fn dropped(mut self, dropped: bool) -> Self {
        self.dropped = dropped;
        self
    }

    /// Sets one of this node's slon runtime options (`[node.slon]`), replacing the
    /// cluster-wide `[slon]` value of that name; a name given twice keeps the last value.
    pub fn slon(mut self, name: impl Into<String>, value: impl Into<SlonValue>) -> Self {
        self.slon.insert(name.into(), value.into());
        self
    }

    /// The admin connection parts of this node.
    pub fn connection(&self) -> ConnectionParts {
        ConnectionParts {
            service: self.service.clone(),
            host: self.host.clone(),
            port: self.port,
            dbname: self.dbname.clone(),
            user: self.user.clone(),
            password: self.password.clone(),
            passfile: self.passfile.clone(),
            sslmode: self.sslmode.clone(),
            options: self.options.clone(),
        }
    }
}

/// How a slon daemon is run, as `[daemon]` or `[node.daemon]` writes it: every key is
/// optional, a node's keys replace the cluster's, and [`crate::slon::run::SlonRun`] is the
/// resolved result with every default filled in. Paths must be absolute: a slon started
/// from one directory must be found from any other.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct DaemonConfig {
    /// `process` (default: `slonik-gen slon start` runs it), `debian` (an instance of
    /// Debian's `/etc/init.d/slony1`) or `systemd` (a unit `slon-unit` writes).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run: Option<RunKind>,
    /// The slon program (default `slon`, found on `PATH`; Debian: `/usr/bin/slon`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub program: Option<String>,
    /// Directory of the generated config files `node<N>.conf` (process and systemd;
    /// default `/etc/slony1/<cluster>`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conf_dir: Option<String>,
    /// Directory of the pid files (process; default altperl's `/var/run/slony1`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pid_dir: Option<String>,
    /// Directory of the log files (process; default `/var/log/slony1`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub log_dir: Option<String>,
    /// Stem of the pid and log file names, `<prefix>_node<N>.pid` (process; default the
    /// cluster name, altperl's `$PIDFILE_PREFIX`, so a slon altperl started is found).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file_prefix: Option<String>,
    /// The Debian instance name: `/etc/slony1/<instance>/slon.conf` (debian; default
    /// `<cluster>_node<N>`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instance: Option<String>,
    /// The systemd unit name (systemd; default `slon-<cluster>-node<N>.service`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unit: Option<String>,
    /// The OS user the unit runs slon as (systemd; default `postgres`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    /// Seconds a stop waits after SIGTERM before it sends SIGQUIT (default 30).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stop_timeout: Option<u32>,
}

/// How a slon daemon is run ([`DaemonConfig::run`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RunKind {
    /// A plain background process with a pid file and a log file.
    Process,
    /// An instance of Debian's `/etc/init.d/slony1`, which keeps its files in fixed places.
    Debian,
    /// A systemd service unit.
    Systemd,
}

impl fmt::Display for RunKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            RunKind::Process => "process",
            RunKind::Debian => "debian",
            RunKind::Systemd => "systemd",
        })
    }
}

impl DaemonConfig {
    /// Whether no key is set.
    pub fn is_empty(&self) -> bool {
        *self == DaemonConfig::default()
    }

    /// `self` with every key `over` sets replacing this one's.
    pub fn overlaid(&self, over: &DaemonConfig) -> DaemonConfig {
        fn pick<T: Clone>(base: &Option<T>, over: &Option<T>) -> Option<T> {
            over.clone().or_else(|| base.clone())
        }
        DaemonConfig {
            run: pick(&self.run, &over.run),
            program: pick(&self.program, &over.program),
            conf_dir: pick(&self.conf_dir, &over.conf_dir),
            pid_dir: pick(&self.pid_dir, &over.pid_dir),
            log_dir: pick(&self.log_dir, &over.log_dir),
            file_prefix: pick(&self.file_prefix, &over.file_prefix),
            instance: pick(&self.instance, &over.instance),
            unit: pick(&self.unit, &over.unit),
            user: pick(&self.user, &over.user),
            stop_timeout: pick(&self.stop_timeout, &over.stop_timeout),
        }
    }

    /// Every text key with its name, for validation.
    pub fn texts(&self) -> [(&'static str, Option<&str>); 8] {
        [
            ("program", self.program.as_deref()),
            ("conf_dir", self.conf_dir.as_deref()),
            ("pid_dir", self.pid_dir.as_deref()),
            ("log_dir", self.log_dir.as_deref()),
            ("file_prefix", self.file_prefix.as_deref()),
            ("instance", self.instance.as_deref()),
            ("unit", self.unit.as_deref()),
            ("user", self.user.as_deref()),
        ]
    }
}

/// slon runtime options by name, as written in `[slon]` or `[node.slon]` (sorted, so the
/// generated file never depends on hash order).
pub type SlonOptions = std::collections::BTreeMap<String, SlonValue>;

/// One slon runtime option's value as TOML holds it: which names exist in which version,
/// and the type and range each takes, are checked by [`crate::validate::validate`]
/// against [`crate::slon::OPTIONS`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum SlonValue {
    /// `log_pid = true`.
    Bool(bool),
    /// `sync_interval = 2000`.
    Int(i64),
    /// `cleanup_interval = "10 minutes"`.
    Text(String),
}

impl fmt::Display for SlonValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SlonValue::Bool(b) => write!(f, "{b}"),
            SlonValue::Int(i) => write!(f, "{i}"),
            SlonValue::Text(t) => write!(f, "{t:?}"),
        }
    }
}

impl From<bool> for SlonValue {
    fn from(value: bool) -> Self {
        SlonValue::Bool(value)
    }
}

impl From<i64> for SlonValue {
    fn from(value: i64) -> Self {
        SlonValue::Int(value)
    }
}

impl From<i32> for SlonValue {
    fn from(value: i32) -> Self {
        SlonValue::Int(value.into())
    }
}

impl From<&str> for SlonValue {
    fn from(value: &str) -> Self {
        SlonValue::Text(value.to_string())
    }
}

impl From<String> for SlonValue {
    fn from(value: String) -> Self {
        SlonValue::Text(value)
    }
}

fn yes() -> bool {
    true
}
fn is_true(b: &bool) -> bool {
    *b
}
fn is_false(b: &bool) -> bool {
    !*b
}

/// One `[[set]]`.
///
/// Its `Default` is what a `[[set]]` with only `id = 0` holds: id 0 means "not given" to
/// slonik, and [`crate::validate::validate`] rejects it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct SetConfig {
    /// Slony-I set id.
    pub id: crate::model::ids::SetId,
    /// The name the operator uses on the command line (`set1`). Defaults to `set<ID>`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The origin node; defaults to the cluster's `default_origin`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub origin: Option<NodeId>,
    /// `create set` comment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    /// Schema for table and sequence names written without one (default `public`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_schema: Option<String>,
    /// First id for tables without an explicit id (default: one past the highest id of the
    /// sets before this one).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_table_id: Option<u32>,
    /// First id for sequences without an explicit id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_sequence_id: Option<u32>,
    /// A file listing tables, one `schema.name` (or `name`) a line, as
    /// `psql -Atc "select schemaname||'.'||tablename from pg_tables ..."` prints them;
    /// a relative path is relative to the config file's directory. Its tables come before
    /// the inline `tables`, in file order. [`crate::load_config`] and
    /// [`crate::load_config_str`] read it ([`crate::model::table_list::expand_list_files`]);
    /// [`crate::validate::validate`] alone reads no file and ignores this key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tables_file: Option<String>,
    /// Like `tables_file`, for sequences; they come before the inline `sequences`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sequences_file: Option<String>,
    /// The replicated tables, in the order they are added (after those of `tables_file`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tables: Vec<TableEntry>,
    /// The replicated sequences (after those of `sequences_file`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sequences: Vec<TableEntry>,
}

impl SetConfig {
    /// A set with the id `id`, named `name` on the command line, and every other key at
    /// its default (origin: the cluster's `default_origin`; schema `public`).
    ///
    /// ```
    /// use slonik_gen::model::config::{SetConfig, TableEntry};
    ///
    /// let set = SetConfig::new(1, "set1")
    ///     .origin(1)
    ///     .default_schema("geekdb")
    ///     .tables(["files", "additional_roll"])
    ///     .table(TableEntry::new("public", "Capital Idea").id(40).key("capital_uniq"))
    ///     .sequences(["files_id_seq"]);
    /// assert_eq!(set.tables[1].schema, None); // the set's default schema
    /// assert_eq!(set.tables[2].name, "Capital Idea");
    /// ```
    pub fn new(id: impl Into<SetId>, name: impl Into<String>) -> Self {
        SetConfig {
            id: id.into(),
            name: Some(name.into()),
            ..SetConfig::default()
        }
    }

    option_setters!(
        /// Sets the origin node (default: the cluster's `default_origin`).
        origin: impl Into<NodeId>,
        /// Sets the `create set` comment.
        comment: impl Into<String>,
        /// Sets the schema for table and sequence names given without one (default `public`).
        default_schema: impl Into<String>,
        /// Sets the first id for tables without an explicit id.
        first_table_id: u32,
        /// Sets the first id for sequences without an explicit id.
        first_sequence_id: u32,
    );

    /// Adds tables, after those added before: each a [`TableEntry`], or a name written as
    /// in TOML (`"files"` in the set's default schema, `"audit.log"` split at the first dot).
    pub fn tables<T: Into<TableEntry>>(mut self, tables: impl IntoIterator<Item = T>) -> Self {
        self.tables.extend(tables.into_iter().map(Into::into));
        self
    }

    /// Adds one table, after those added before (see [`SetConfig::tables`]).
    pub fn table(self, table: impl Into<TableEntry>) -> Self {
        self.tables([table])
    }

    /// Adds sequences, after those added before (names as in [`SetConfig::tables`]).
    pub fn sequences<T: Into<TableEntry>>(mut self, sequences: impl IntoIterator<Item = T>) -> Self {
        self.sequences.extend(sequences.into_iter().map(Into::into));
        self
    }

    /// Adds one sequence, after those added before.
    pub fn sequence(self, sequence: impl Into<TableEntry>) -> Self {
        self.sequences([sequence])
    }
}

/// A table or sequence: either a plain string (`"files"` or `"geekdb.files"`, split at the
/// first dot) or a table `{ name = "...", schema = "...", id = 7, key = "...", comment = "..." }`
/// whose `name` and `schema` are taken exactly as written.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct TableEntry {
    /// Schema, exactly as PostgreSQL spells it; `None` means the set's default schema.
    pub schema: Option<String>,
    /// Relation name, exactly as PostgreSQL spells it.
    pub name: String,
    /// Explicit Slony id.
    pub id: Option<u32>,
    /// A unique, not-null index to use instead of the primary key (tables only).
    pub key: Option<String>,
    /// Comment stored with the table.
    pub comment: Option<String>,
}

#[derive(Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
struct TableEntryFull {
    name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    schema: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    id: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    key: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    comment: Option<String>,
}

impl TableEntry {
    /// The relation `name` in `schema`, both exactly as PostgreSQL spells them (a dot in
    /// either is part of the name), like the TOML table form `{ schema = ..., name = ... }`.
    pub fn new(schema: impl Into<String>, name: impl Into<String>) -> Self {
        TableEntry {
            schema: Some(schema.into()),
            name: name.into(),
            ..TableEntry::default()
        }
    }

    option_setters!(
        /// Sets an explicit Slony id (default: the next free one, in file order).
        id: u32,
        /// Sets a unique, not-null index to use instead of the primary key (tables only).
        key: impl Into<String>,
        /// Sets the comment stored with the table or sequence.
        comment: impl Into<String>,
    );

    /// Parses the short string form: `schema.name` or `name`.
    pub fn from_short(text: &str) -> TableEntry {
        match text.split_once('.') {
            Some((schema, name)) => TableEntry {
                schema: Some(schema.to_string()),
                name: name.to_string(),
                ..TableEntry::default()
            },
            None => TableEntry {
                name: text.to_string(),
                ..TableEntry::default()
            },
        }
    }
}

/// The short string form, as in TOML: `"files"` or `"geekdb.files"` (split at the first dot).
impl From<&str> for TableEntry {
    fn from(text: &str) -> Self {
        TableEntry::from_short(text)
    }
}

/// The short string form, as in TOML (see [`TableEntry::from_short`]).
impl From<String> for TableEntry {
    fn from(text: String) -> Self {
        TableEntry::from_short(&text)
    }
}

impl<'de> Deserialize<'de> for TableEntry {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct EntryVisitor;
        impl<'de> Visitor<'de> for EntryVisitor {
            type Value = TableEntry;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a name such as \"geekdb.files\" or a table { name = ..., schema = ..., id = ..., key = ..., comment = ... }")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<TableEntry, E> {
                Ok(TableEntry::from_short(v))
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<TableEntry, A::Error> {
                let full = TableEntryFull::deserialize(de::value::MapAccessDeserializer::new(map))?;
                Ok(TableEntry {
                    schema: full.schema,
                    name: full.name,
                    id: full.id,
                    key: full.key,
                    comment: full.comment,
                })
            }
        }
        deserializer.deserialize_any(EntryVisitor)
    }
}

impl Serialize for TableEntry {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        TableEntryFull {
            name: self.name.clone(),
            schema: self.schema.clone(),
            id: self.id,
            key: self.key.clone(),
            comment: self.comment.clone(),
        }
        .serialize(serializer)
    }
}

/// A set named in the config or on the command line: by id (`1`), as `set1`, or by name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SetRef {
    /// By numeric id.
    Id(u32),
    /// By name (or `set<N>`).
    Name(String),
}

impl fmt::Display for SetRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SetRef::Id(id) => write!(f, "{id}"),
            SetRef::Name(name) => f.write_str(name),
        }
    }
}

/// A set by id, as `set = 1` in TOML.
impl From<u32> for SetRef {
    fn from(id: u32) -> Self {
        SetRef::Id(id)
    }
}

impl From<SetId> for SetRef {
    fn from(id: SetId) -> Self {
        SetRef::Id(id.0)
    }
}

/// A set by name (or `set<N>`), as `set = "set1"` in TOML.
impl From<&str> for SetRef {
    fn from(name: &str) -> Self {
        SetRef::Name(name.to_string())
    }
}

impl From<String> for SetRef {
    fn from(name: String) -> Self {
        SetRef::Name(name)
    }
}

impl<'de> Deserialize<'de> for SetRef {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct RefVisitor;
        impl Visitor<'_> for RefVisitor {
            type Value = SetRef;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a set id (1) or a set name (\"set1\")")
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<SetRef, E> {
                u32::try_from(v)
                    .map(SetRef::Id)
                    .map_err(|_| E::custom(format!("set id {v} is out of range")))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<SetRef, E> {
                u32::try_from(v)
                    .map(SetRef::Id)
                    .map_err(|_| E::custom(format!("set id {v} is out of range")))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<SetRef, E> {
                Ok(SetRef::Name(v.to_string()))
            }
        }
        deserializer.deserialize_any(RefVisitor)
    }
}

impl Serialize for SetRef {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            SetRef::Id(id) => serializer.serialize_u32(*id),
            SetRef::Name(name) => serializer.serialize_str(name),
        }
    }
}

/// One `[[subscription]]`.
///
/// No `Default`: a subscription is its set and its receiver, and neither has a default
/// that means anything; [`SubscriptionConfig::new`] takes both.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct SubscriptionConfig {
    /// The set, by id or name.
    pub set: SetRef,
    /// The subscribing node.
    pub receiver: NodeId,
    /// Where it receives the set from; defaults to the receiver's `provider`, else the origin.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provider: Option<NodeId>,
    /// Whether the receiver keeps a log to forward the set; defaults to the node's `forward`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub forward: Option<bool>,
}

impl SubscriptionConfig {
    /// `receiver` subscribes to `set` (an id, a name or `set<N>`), from its node's
    /// `provider` (else the origin) and forwarding as its node does, unless changed below.
    ///
    /// ```
    /// use slonik_gen::model::config::SubscriptionConfig;
    ///
    /// let cascaded = SubscriptionConfig::new("set1", 3).provider(2).forward(false);
    /// let by_id = SubscriptionConfig::new(1, 2);
    /// # assert_eq!(cascaded.provider, Some(2.into()));
    /// # assert_eq!(by_id.set.to_string(), "1");
    /// ```
    pub fn new(set: impl Into<SetRef>, receiver: impl Into<NodeId>) -> Self {
        SubscriptionConfig {
            set: set.into(),
            receiver: receiver.into(),
            provider: None,
            forward: None,
        }
    }

    option_setters!(
        /// Sets the node the set is received from.
        provider: impl Into<NodeId>,
        /// Sets whether the receiver keeps a log to forward the set to others.
        forward: bool,
    );
}
