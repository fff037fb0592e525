//! Command-line arguments (clap). Parsing only: every decision lives in the library.

use std::path::PathBuf;

use crate::ops::table::{self, OperationSpec, Words, WordsError};
use crate::resolve::OperationArgs;
use crate::SlonyVersion;
use clap::error::ErrorKind;
use clap::{ArgMatches, Args, CommandFactory, FromArgMatches, Parser, Subcommand};

/// Generate slonik scripts for a Slony-I cluster described in a TOML config.
///
/// The script goes to stdout and nothing else, so `slonik-gen ... | slonik` never runs
/// half a script: on any error stdout stays empty, the reason goes to stderr, exit code 1
/// (2 for usage errors).
#[derive(Debug, Parser)]
#[command(name = "slonik-gen", version, after_help = EXAMPLES)]
pub struct Cli {
    /// Config file; `-` reads it from stdin (its relative list files are then relative to the
    /// current directory) [default: $SLONIK_GEN_CONFIG, else ./slonik-gen.toml, else
    /// /etc/slonik-gen/slonik-gen.toml]
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Target Slony-I version (1.2, 2.0, 2.1, 2.2), overriding the config's `slony_version`
    #[arg(long, global = true, value_name = "V")]
    pub slony_version: Option<SlonyVersion>,
    /// Compare the script with FILE instead of printing it; exit 3 with a diff on drift (1 is an error).
    /// Not together with --write-config (a usage error): a check prints no script whose state
    /// could be recorded
    #[arg(long, global = true, value_name = "FILE")]
    pub check: Option<PathBuf>,
    /// Also write the cluster's state after the script (origins, subscriptions, failed and
    /// dropped nodes) as a config file to FILE. Runbooks and single operations edit a copy of
    /// your file, changing only what the state changed and keeping its comments and layout;
    /// `import` writes the imported config to FILE (big sets' tables in list files beside it). FILE
    /// is replaced only once the script is on stdout in full, and atomically (a temporary
    /// file beside it, synced, then renamed over it): a failed write leaves the old FILE as
    /// it was. The new file has the permissions of the config read, narrowed to those of
    /// the FILE it replaces, and at most 0600 when it holds a password. If FILE is a
    /// symbolic link, the file it points to is replaced and the link is kept
    #[arg(long, global = true, value_name = "FILE")]
    pub write_config: Option<PathBuf>,
    /// Write what the command prints on stdout to FILE instead, atomically (a temporary file
    /// beside it, synced, then renamed over it; at most 0600 when it holds a password), and
    /// only once the command has run to its end: on an error FILE is left as it was. Not
    /// with --check, nor for commands that print nothing on stdout (a usage error); `-` is
    /// stdout
    #[arg(long, global = true, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Print no informational lines on stderr (`slonik-gen: wrote ...`); errors and drift
    /// reports are still printed
    #[arg(long, short, global = true)]
    pub quiet: bool,
    /// The operation.
    #[command(subcommand)]
    pub command: Command,
}

const EXAMPLES: &str = "Examples:
  slonik-gen --config examples/geekdb.toml create-set set1 | slonik
  slonik-gen --config examples/geekdb.toml failover 1 2 --write-config after-failover.toml | slonik
  slonik-gen --config examples/geekdb.toml --check golden/create-set.slonik create-set set1";

/// The subcommands: every operation (from [`crate::ops::table`]), then the rest.
#[derive(Debug, Subcommand)]
pub enum Command {
    // `///` on a flattened variant would become clap's help text, so these two carry
    // their docs on their types instead.
    #[allow(missing_docs)]
    #[command(flatten)]
    Operation(OperationCommand),
    /// Multi-step runbooks from the model: switchover, failover, failback, rebuild-node,
    /// add-tables (docs/runbooks.md)
    #[command(
        after_help = "Example: slonik-gen --config geekdb.toml runbook --format sh failover --dead 1 --backup 2 > failover.sh\n         slonik-gen --config after-failover.toml runbook failback --node 1   # read it first (Markdown)"
    )]
    Runbook(RunbookArgs),
    /// Print a node's slon config file (what `slon -f FILE` reads), or write one per node
    #[command(
        after_help = "Example: slonik-gen --config examples/geekdb.toml slon-conf 1\n         slonik-gen --config examples/geekdb.toml slon-conf --all --dir /etc/slony1/replication   # node1.conf, node2.conf"
    )]
    SlonConf(SlonConfArgs),
    /// Start, stop or ask after the slon daemons of nodes on this machine, the way `[daemon]`
    /// says each runs (a process, a Debian instance, a systemd unit)
    #[command(
        subcommand,
        after_help = "Example: slonik-gen --config examples/geekdb.toml slon status 1\n         slonik-gen --config examples/geekdb.toml slon stop --all   # exit 0: none was running"
    )]
    Slon(SlonCommand),
    /// Print a node's systemd unit (slon on its generated config, restarted on failure), or
    /// write one per node
    #[command(
        after_help = "Example: slonik-gen --config examples/geekdb.toml slon-unit 1\n         slonik-gen --config examples/geekdb.toml slon-unit --all --dir /etc/systemd/system"
    )]
    SlonUnit(SlonUnitArgs),
    /// Print the config of an existing cluster: `import altperl slon_tools.conf` (docs/import.md)
    #[command(
        subcommand,
        after_help = "Example: slonik-gen import altperl /etc/slony1/slon_tools.conf > slonik-gen.toml"
    )]
    Import(ImportCommand),
    #[allow(missing_docs)]
    #[command(flatten)]
    ImportTool(ImportTool),
    /// Print the resolved configuration for a person to read (altperl's slony_show_configuration)
    ///
    /// Nodes with their conninfo (passwords hidden), sets with their table and sequence ids,
    /// subscriptions and each set's cascade tree from the origin down. Prints no script.
    #[command(after_help = "Example: slonik-gen --config examples/geekdb.toml show")]
    Show,
    /// Write the golden files of the whole cluster into DIR: every operation's script, the
    /// next config of each that changes the cluster, the default runbooks; or compare them
    ///
    /// One file per operation and arguments, named from ids (`subscribe-set_set1_node2.slonik`,
    /// `…next.toml`, `runbook-switchover_node1_node2.md`), each written atomically. With
    /// `--check DIR`: exit 0 when DIR holds exactly these files, 3 on drift (a diff per
    /// file, missing and extra files listed on stderr), 1 on an error. `--update` rewrites
    /// only what changed and says what.
    #[command(
        after_help = "Example: slonik-gen --config examples/geekdb.toml golden /tmp/golden
         slonik-gen --config examples/geekdb.toml --check /tmp/golden golden   # in CI: exit 3 on drift"
    )]
    Golden(GoldenArgs),
    /// Read every node's Slony catalog: nodes, slons, sets, subscriptions, lag, pending
    /// rows. Exit 0 ok, 1 a node could not be read, 3 lag over --max-lag
    #[cfg(feature = "import-live")]
    #[command(
        after_help = "Example: slonik-gen --config examples/geekdb.toml status --max-lag 60\n         slonik-gen --config examples/geekdb.toml status --format json"
    )]
    Status(StatusArgs),
    /// Compare a set's tables (row count and checksum, chunked by key) and sequences on its
    /// origin and subscribers at the same replicated point. Exit 0 equal, 3 a difference, 1
    /// an error
    ///
    /// A SYNC is made on the origin and each subscriber is read once it has applied it; a
    /// chunk that differs (rows written between the reads) is read again at one exact
    /// point: with the origin's sl_event_lock held, a SYNC whose snapshot the origin's read
    /// uses, each subscriber read at exactly that SYNC. Writes go on throughout; the lock
    /// only delays the origin's next SYNC while a chunk is re-read.
    #[cfg(feature = "import-live")]
    #[command(
        after_help = "Example: slonik-gen --config examples/geekdb.toml compare set1\n         slonik-gen --config examples/geekdb.toml compare set1 --node 2 --format json"
    )]
    Compare(CompareArgs),
    /// Print a `[[set]]` of a database's tables (with their key) and sequences, from its
    /// catalog (altperl's slonik_build_env); `--missing`: what no set of the config holds
    ///
    /// Tables need a primary key or a unique index on NOT NULL columns (not partial, not on
    /// expressions, not deferrable), used as `key`; tables with neither are left out, listed
    /// as comments and on stderr. Partitioned parents, views and foreign tables are skipped.
    /// `--missing` prints one `table schema.name` / `sequence schema.name` line for each
    /// relation of the sets' schemas (or `--schema`) that no set contains: exit 3 when any,
    /// 0 when none, 1 on an error.
    #[cfg(feature = "import-live")]
    #[command(
        after_help = "Example: slonik-gen discover --conninfo 'host=MasNod dbname=geekdb user=postgres' --schema geekdb > set1.toml\n         slonik-gen --config geekdb.toml discover --missing --conninfo 'host=MasNod dbname=geekdb user=postgres'   # exit 3: some"
    )]
    Discover(DiscoverArgs),
    /// Print the shell completion script for bash, zsh or fish
    ///
    /// bash: save it as /usr/share/bash-completion/completions/slonik-gen (or source it from
    /// ~/.bashrc); zsh: as `_slonik-gen` in a directory of $fpath; fish: as
    /// ~/.config/fish/completions/slonik-gen.fish.
    #[command(
        after_help = "Example: slonik-gen completions bash --output slonik-gen.bash   # then: source slonik-gen.bash"
    )]
    Completions(CompletionsArgs),
    /// Print the man page (roff) of slonik-gen and its commands
    #[command(after_help = "Example: slonik-gen man --output slonik-gen.1   # then: man -l slonik-gen.1")]
    Man,
}

/// `completions` arguments.
#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell
    #[arg(value_name = "SHELL")]
    pub shell: CompletionShell,
}

/// The shells `completions` writes a script for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum CompletionShell {
    /// GNU bash (bash-completion).
    Bash,
    /// zsh (compsys).
    Zsh,
    /// fish.
    Fish,
}

impl CompletionShell {
    /// The generator of `clap_complete` for this shell.
    pub fn generator(self) -> clap_complete::Shell {
        match self {
            CompletionShell::Bash => clap_complete::Shell::Bash,
            CompletionShell::Zsh => clap_complete::Shell::Zsh,
            CompletionShell::Fish => clap_complete::Shell::Fish,
        }
    }
}

/// `golden` arguments.
#[derive(Debug, Args)]
pub struct GoldenArgs {
    /// The directory of golden files (created if missing); with the global `--check DIR`,
    /// leave it out
    #[arg(value_name = "DIR")]
    pub dir: Option<PathBuf>,
    /// Rewrite only the files whose contents changed (and remove stale ones), saying which
    #[arg(long)]
    pub update: bool,
    /// Take the operations and runbooks from FILE, one command line a line as given to
    /// slonik-gen (`subscribe-set set1 2`, `runbook switchover --from 1 --to 2`; `#` comments),
    /// instead of every operation that applies to the config
    #[arg(long, value_name = "FILE")]
    pub list: Option<PathBuf>,
}

/// `status` arguments.
#[cfg(feature = "import-live")]
#[derive(Debug, Args)]
pub struct StatusArgs {
    /// Output: text (for a person) or json
    #[arg(long, default_value = "text", value_name = "text|json", value_parser = ["text", "json"])]
    pub format: String,
    /// Exit 3 when any receiver is more than SECONDS behind an origin (sl_status.st_lag_time)
    #[arg(long, value_name = "SECONDS")]
    pub max_lag: Option<f64>,
    /// How long each node may take to connect and answer (nodes are read at once, so this
    /// bounds the whole run); a node that does not answer in time is reported unreachable
    #[arg(long, value_name = "SECONDS", default_value_t = 5.0)]
    pub connect_timeout: f64,
}

/// `compare` arguments.
#[cfg(feature = "import-live")]
#[derive(Debug, Args)]
pub struct CompareArgs {
    /// The set: its name, its id or `set<N>`
    #[arg(value_name = "SET")]
    pub set: String,
    /// Compare only this subscriber (repeatable) [default: every subscriber of the set]
    #[arg(long = "node", value_name = "NODE")]
    pub nodes: Vec<String>,
    /// Rows per chunk: each node sums one key range at a time, so memory and each query
    /// stay bounded on large tables
    #[arg(long, value_name = "ROWS", default_value_t = 10_000, value_parser = clap::value_parser!(u64).range(1..))]
    pub chunk_rows: u64,
    /// How many times a chunk that differs is read again at one exact point (0: report
    /// the first reading)
    #[arg(long, value_name = "N", default_value_t = 3)]
    pub retries: u32,
    /// Output: text (for a person) or json
    #[arg(long, default_value = "text", value_name = "text|json", value_parser = ["text", "json"])]
    pub format: String,
}

/// `discover` arguments.
#[cfg(feature = "import-live")]
#[derive(Debug, Args)]
pub struct DiscoverArgs {
    /// The database to read (libpq key=value or a postgresql:// URI; service, passfile and
    /// PG* variables work as with libpq)
    #[arg(long, value_name = "CONNINFO")]
    pub conninfo: String,
    /// A schema whose tables and sequences to list (repeatable) [default: public; with
    /// --missing: the schemas of the config's sets]
    #[arg(long = "schema", value_name = "SCHEMA")]
    pub schemas: Vec<String>,
    /// Instead of every table of the schemas: TABLE (`schema.name`, or `name` in the first
    /// --schema) and the tables it is linked to by foreign keys, either way, transitively
    /// (repeatable), with the sequences their columns own
    #[arg(long = "from", value_name = "TABLE", conflicts_with = "missing")]
    pub from: Vec<String>,
    /// The set's `name`
    #[arg(long, value_name = "NAME", default_value = "set1", conflicts_with = "missing")]
    pub set: String,
    /// The set's `id`
    #[arg(long, value_name = "N", default_value_t = 1, conflicts_with = "missing",
          value_parser = clap::value_parser!(u32).range(1..))]
    pub id: u32,
    /// Write the tables (those a list file can name) to FILE, one `schema.name` a line,
    /// atomically, and print `tables_file = "FILE"` instead of them
    #[arg(long, value_name = "FILE", conflicts_with = "missing")]
    pub tables_file: Option<PathBuf>,
    /// List the tables and sequences of the sets' schemas (or --schema) that no set of the
    /// config (--config) contains; exit 3 when any
    #[arg(long)]
    pub missing: bool,
    /// How long the connection may take
    #[arg(long, value_name = "SECONDS", default_value_t = 5.0)]
    pub connect_timeout: f64,
}

/// `slon-conf`: one node to stdout, or every active node into a directory.
#[derive(Debug, Args)]
#[command(group = clap::ArgGroup::new("which").required(true).args(["node", "all"]))]
pub struct SlonConfArgs {
    /// The node (id or name) whose file is printed
    pub node: Option<String>,
    /// Write the file of every active node as DIR/nodeN.conf, N the node id (atomically; 0600 when its
    /// conn_info holds a password) instead of printing one
    #[arg(long, requires = "dir")]
    pub all: bool,
    /// The directory --all writes into (it must exist)
    #[arg(long, value_name = "DIR", requires = "all")]
    pub dir: Option<PathBuf>,
}

/// `slon start|stop|status`.
#[derive(Debug, Subcommand)]
pub enum SlonCommand {
    /// Write each node's slon config if it is missing or changed, then start its slon unless
    /// one runs. Exit 0 when every slon runs afterwards, 1 otherwise
    #[command(after_help = "Example: slonik-gen --config examples/geekdb.toml slon start 1")]
    Start(SlonNodes),
    /// Stop each node's slon: SIGTERM, `[daemon] stop_timeout` seconds, SIGQUIT, 10 seconds
    /// (or systemctl stop). Exit 0 when every one is gone, 1 if any still runs
    #[command(after_help = "Example: slonik-gen --config examples/geekdb.toml slon stop 1")]
    Stop(SlonNodes),
    /// Say whether each node's slon runs, its pid, since when and how it runs. Exit 0 when
    /// all run, 3 when any does not, 1 on an error
    #[command(
        after_help = "Example: slonik-gen --config examples/geekdb.toml slon status 1   # exit 3: not running"
    )]
    Status(SlonNodes),
}

/// The nodes a `slon` command acts on.
#[derive(Debug, Args)]
#[command(group = clap::ArgGroup::new("which").required(true).args(["nodes", "all"]))]
pub struct SlonNodes {
    /// The nodes (2 or node2)
    #[arg(value_name = "NODE")]
    pub nodes: Vec<String>,
    /// Every node that has not failed
    #[arg(long, conflicts_with = "nodes")]
    pub all: bool,
}

/// `slon-unit`: one node's unit to stdout, or every active node's into a directory.
#[derive(Debug, Args)]
#[command(group = clap::ArgGroup::new("which").required(true).args(["node", "all"]))]
pub struct SlonUnitArgs {
    /// The node (id or name) whose unit is printed
    pub node: Option<String>,
    /// Write the unit of every active node as `DIR/<unit name>` (atomically, 0644) instead of
    /// printing one
    #[arg(long, requires = "dir")]
    pub all: bool,
    /// The directory --all writes into (it must exist)
    #[arg(long, value_name = "DIR", requires = "all")]
    pub dir: Option<PathBuf>,
}

/// `import` sources.
#[derive(Debug, Subcommand)]
pub enum ImportCommand {
    /// Evaluate altperl's slon_tools.conf with perl and print the equivalent config (TOML)
    #[command(
        after_help = "Example: slonik-gen import altperl /etc/slony1/slon_tools.conf > slonik-gen.toml\n         slonik-gen import altperl --map-schema public=geekdb slon_tools.conf > slonik-gen.toml"
    )]
    Altperl {
        /// The slon_tools.conf ($SLONYNODES is honoured as under altperl)
        file: PathBuf,
        /// Rename a schema of the imported table and sequence names (repeatable)
        #[arg(long, value_name = "FROM=TO")]
        map_schema: Vec<String>,
    },
    /// Read a running cluster's Slony catalog on one node and print the config it describes
    #[cfg(feature = "import-live")]
    #[command(
        after_help = "Example: slonik-gen import cluster --conninfo 'host=SlaNod dbname=geekdb user=postgres' --cluster replication > now.toml"
    )]
    Cluster {
        /// How to reach one node (libpq key=value or postgresql:// URI; service, passfile, ~/.pgpass, PG* variables and sslmode as libpq reads them)
        #[arg(long)]
        conninfo: String,
        /// The Slony-I cluster name (catalog schema `_NAME`)
        #[arg(long)]
        cluster: String,
    },
}

/// Commands of the import side that are not sources (flattened into [`Command`]).
#[derive(Debug, Subcommand)]
pub enum ImportTool {
    /// Create links named like the altperl tools (slonik_failover, ...) to this binary in DIR
    #[command(
        after_help = "Example: slonik-gen install-links /usr/local/bin\n         slonik_failover --config /etc/slony1/slon_tools.conf 1 2 | slonik"
    )]
    InstallLinks {
        /// The directory (created if missing)
        dir: PathBuf,
        /// Replace files there that are not already links to this binary
        #[arg(long)]
        force: bool,
    },
    /// Compare the config with a running cluster's catalog; list every difference, exit 1 if any
    #[cfg(feature = "import-live")]
    #[command(
        after_help = "Example: slonik-gen --config geekdb.toml check-cluster --conninfo 'host=SlaNod dbname=geekdb user=postgres'"
    )]
    CheckCluster {
        /// How to reach one node (libpq key=value or postgresql:// URI; service, passfile, ~/.pgpass, PG* variables and sslmode as libpq reads them)
        #[arg(long)]
        conninfo: String,
    },
}

impl ImportCommand {
    /// The library request this command asks for.
    pub fn request(self) -> crate::frontend::import::Request {
        match self {
            ImportCommand::Altperl { file, map_schema } => {
                crate::frontend::import::Request::Altperl { file, map_schema }
            }
            #[cfg(feature = "import-live")]
            ImportCommand::Cluster { conninfo, cluster } => {
                crate::frontend::import::Request::Cluster { conninfo, cluster }
            }
        }
    }
}

impl ImportTool {
    /// The library request this command asks for; `config` is the global `--config`.
    #[cfg_attr(not(feature = "import-live"), allow(unused_variables))]
    pub fn request(self, config: Option<PathBuf>) -> crate::frontend::import::Request {
        match self {
            #[cfg(feature = "import-live")]
            ImportTool::CheckCluster { conninfo } => {
                crate::frontend::import::Request::CheckCluster { config, conninfo }
            }
            ImportTool::InstallLinks { dir, force } => {
                crate::frontend::import::Request::InstallLinks { dir, force }
            }
        }
    }
}

/// `runbook` arguments.
#[derive(Debug, Args)]
pub struct RunbookArgs {
    /// Output: md (a numbered runbook), sh (one bash script that runs it), json (the plan as data)
    #[arg(long, global = true, default_value = "md", value_name = "md|sh|json")]
    pub format: crate::runbook::Format,
    /// The plan.
    #[command(subcommand)]
    pub plan: RunbookCommand,
}

/// The runbooks.
#[derive(Debug, Subcommand)]
pub enum RunbookCommand {
    /// Move sets to a direct subscriber: checks, lock, sync, wait, move; never leaves a set locked
    #[command(
        after_help = "Example: slonik-gen runbook --format sh switchover --set set1 --to 2 > switchover.sh\n         slonik-gen runbook switchover --from 1 --to 2   # every set of node 1"
    )]
    Switchover {
        /// A set to move (repeatable)
        #[arg(
            long = "set",
            value_name = "SET",
            required_unless_present = "from",
            conflicts_with = "from"
        )]
        sets: Vec<String>,
        /// Move every set whose origin is NODE
        #[arg(long, value_name = "NODE")]
        from: Option<String>,
        /// The new origin
        #[arg(long, value_name = "NODE")]
        to: String,
    },
    /// Give the sets of dead nodes to a backup node, optionally dropping the dead nodes
    #[command(
        after_help = "Example: slonik-gen --write-config after-failover.toml runbook --format sh failover --dead 1 --backup 2 > failover.sh"
    )]
    Failover {
        /// A dead node (repeatable; several use Slony-I 2.2's one-command form)
        #[arg(long, value_name = "NODE", required = true, num_args = 1..)]
        dead: Vec<String>,
        /// The node that takes over their sets
        #[arg(long, value_name = "NODE")]
        backup: String,
        /// Also drop the dead nodes from the cluster
        #[arg(long)]
        drop_dead: bool,
    },
    /// Rebuild a failed node and make it the origin of its sets again (the scenario's case 2)
    #[command(
        after_help = "Example: slonik-gen --config after-failover.toml --write-config geekdb.toml runbook --format sh failback --node 1 > failback.sh"
    )]
    Failback(RebuildArgs),
    /// Rebuild a node as a subscriber: drop it, prepare its database, store it, subscribe it
    #[command(after_help = "Example: slonik-gen runbook --format sh rebuild-node --node 3 > rebuild.sh")]
    RebuildNode(RebuildArgs),
    /// Add tables (and sequences) to a live set through a temporary set that is then merged
    #[command(
        after_help = "Example: slonik-gen --write-config geekdb.toml runbook --format sh add-tables --set set1 geekdb.audit_log > add-tables.sh"
    )]
    AddTables {
        /// The set that receives the tables
        #[arg(long, value_name = "SET")]
        set: String,
        /// Tables: schema.table, or table in the set's default schema
        #[arg(value_name = "TABLE", required_unless_present = "sequences")]
        tables: Vec<String>,
        /// A sequence to add as well (repeatable)
        #[arg(long = "sequence", value_name = "SEQ")]
        sequences: Vec<String>,
    },
    /// Add a node: check its database, copy the schema, store it, start its slon, subscribe it, wait until it caught up
    #[command(
        after_help = "Example: slonik-gen --config examples/geekdb.toml runbook add-node --id 3 --name Node3 --conninfo 'host=Node3 dbname=geekdb user=postgres passfile=/var/lib/postgresql/.pgpass' --provider 2"
    )]
    AddNode {
        /// The new node
        #[command(flatten)]
        node: NewNodeCli,
        /// The node it receives every set from [default: each set's origin]
        #[arg(long, value_name = "NODE")]
        provider: Option<String>,
        /// A set it subscribes to (repeatable) [default: every set]
        #[arg(long = "set", value_name = "SET")]
        sets: Vec<String>,
        /// copy: copy the schema (no data) from its provider, into an empty database;
        /// present: the tables are already there (checked)
        #[arg(long, default_value = "copy", value_name = "copy|present")]
        schema: crate::runbook::SchemaSource,
    },
    /// Retire a node: move its sets away, re-point its receivers, unsubscribe, drop it, stop its slon, uninstall Slony-I from it
    #[command(
        after_help = "Example: slonik-gen --config examples/geekdb.toml runbook retire-node --node 1 --to 2"
    )]
    RetireNode {
        /// The node to retire
        #[arg(long, value_name = "NODE")]
        node: String,
        /// The subscriber that takes its sets over (needed when it is an origin)
        #[arg(long, value_name = "NODE")]
        to: Option<String>,
    },
    /// Move a node to a new PostgreSQL server: add the new node, switch its sets over, re-point the others, retire the old one
    #[command(
        after_help = "Example: slonik-gen --config examples/geekdb.toml runbook upgrade-postgres --node 1 --id 11 --name MasNod16 --conninfo 'host=MasNod16 dbname=geekdb user=postgres passfile=/var/lib/postgresql/.pgpass'"
    )]
    UpgradePostgres {
        /// The node whose server is replaced
        #[arg(long = "node", value_name = "NODE")]
        old: String,
        /// The node on the new server
        #[command(flatten)]
        node: NewNodeCli,
        /// copy: copy the schema from the old node; present: the tables are already there
        #[arg(long, default_value = "copy", value_name = "copy|present")]
        schema: crate::runbook::SchemaSource,
    },
    /// Add a node as a clone of a subscriber (2.0+): clone prepare, full dump and restore, clone finish; no initial copy
    #[command(
        after_help = "Example: slonik-gen --config examples/geekdb.toml runbook clone-node --from 2 --id 3 --name SlaNod2 --conninfo 'host=SlaNod2 dbname=geekdb user=postgres passfile=/var/lib/postgresql/.pgpass'"
    )]
    CloneNode {
        /// The subscriber to clone
        #[arg(long, value_name = "NODE")]
        from: String,
        /// The clone
        #[command(flatten)]
        node: NewNodeCli,
    },
    /// Upgrade Slony-I on every node: update functions, with the 2.1 to 2.2 log-format checks; from 1.2, uninstall, install and subscribe again with omit copy
    #[command(
        after_help = "Example: slonik-gen --config examples/geekdb.toml --slony-version 2.1 runbook upgrade-slony --to 2.2
Example: slonik-gen --config examples/geekdb.toml --slony-version 1.2 runbook upgrade-slony --to 2.2"
    )]
    UpgradeSlony {
        /// The Slony-I version to upgrade to (newer than the config's slony_version)
        #[arg(long, value_name = "VERSION")]
        to: crate::version::SlonyVersion,
    },
}

/// The node a runbook adds, as `[[node]]` would describe it.
#[derive(Debug, Args)]
pub struct NewNodeCli {
    /// Its Slony-I id (a number no node of the cluster has)
    #[arg(long, value_name = "ID", value_parser = clap::value_parser!(u32).range(1..))]
    pub id: u32,
    /// Its admin connection as psql takes it ('host=db3 port=5432 dbname=geekdb user=slony')
    #[arg(long, value_name = "CONNINFO")]
    pub conninfo: String,
    /// What the slons use to reach it, where that differs (written as its [node.path])
    #[arg(long, value_name = "CONNINFO")]
    pub path_conninfo: Option<String>,
    /// Its human name
    #[arg(long, value_name = "NAME")]
    pub name: Option<String>,
    /// Its store node comment
    #[arg(long, value_name = "TEXT")]
    pub comment: Option<String>,
    /// It does not forward what it receives (it can then never feed another node or become an origin)
    #[arg(long)]
    pub no_forward: bool,
}

impl NewNodeCli {
    fn args(self) -> crate::runbook::NewNodeArgs {
        crate::runbook::NewNodeArgs {
            id: self.id,
            conninfo: self.conninfo,
            path_conninfo: self.path_conninfo,
            name: self.name,
            comment: self.comment,
            forward: !self.no_forward,
        }
    }
}

/// `failback` / `rebuild-node` arguments.
#[derive(Debug, Args)]
pub struct RebuildArgs {
    /// The node to rebuild
    #[arg(long, value_name = "NODE")]
    pub node: String,
    /// A set it carries (repeatable) [default: every set]
    #[arg(long = "set", value_name = "SET")]
    pub sets: Vec<String>,
    /// How its database is prepared: drop-schema (drop Slony's schema) or recreate (new
    /// database with the schema copied from the current origin)
    #[arg(long, default_value = "drop-schema", value_name = "drop-schema|recreate")]
    pub prepare: crate::runbook::Prepare,
}

impl RunbookCommand {
    /// The library request this command asks for.
    pub fn request(self) -> crate::runbook::Request {
        use crate::runbook::Request;
        match self {
            RunbookCommand::Switchover { sets, from, to } => Request::Switchover { sets, from, to },
            RunbookCommand::Failover {
                dead,
                backup,
                drop_dead,
            } => Request::Failover {
                dead,
                backup,
                drop_dead,
            },
            RunbookCommand::Failback(args) => Request::Failback {
                node: args.node,
                sets: args.sets,
                prepare: args.prepare,
            },
            RunbookCommand::RebuildNode(args) => Request::RebuildNode {
                node: args.node,
                sets: args.sets,
                prepare: args.prepare,
            },
            RunbookCommand::AddTables {
                set,
                tables,
                sequences,
            } => Request::AddTables {
                set,
                tables,
                sequences,
            },
            RunbookCommand::AddNode {
                node,
                provider,
                sets,
                schema,
            } => Request::AddNode {
                node: node.args(),
                provider,
                sets,
                schema,
            },
            RunbookCommand::RetireNode { node, to } => Request::RetireNode { node, to },
            RunbookCommand::UpgradePostgres { old, node, schema } => Request::UpgradePostgres {
                old,
                node: node.args(),
                schema,
            },
            RunbookCommand::CloneNode { from, node } => Request::CloneNode {
                from,
                node: node.args(),
            },
            RunbookCommand::UpgradeSlony { to } => Request::UpgradeSlony { to },
        }
    }
}

/// One operation's subcommand: its row of [`crate::ops::table::OPERATIONS`] and the
/// words clap matched. Written by hand where the rest is derived, because its subcommands
/// come from the table rather than from Rust items.
#[derive(Debug)]
pub struct OperationCommand {
    /// The row.
    pub spec: &'static OperationSpec,
    /// Its words.
    pub words: Words,
}

impl OperationCommand {
    /// The library operation this command asks for, as words to resolve against the
    /// config, or a usage error for what clap's grammar cannot say (an unpaired
    /// `failover` node).
    pub fn operation(&self) -> Result<OperationArgs, clap::Error> {
        self.spec.operation_args(&self.words).map_err(|e| {
            let kind = match e {
                WordsError::Unpaired { .. } => ErrorKind::WrongNumberOfValues,
                _ => ErrorKind::MissingRequiredArgument,
            };
            usage_error(kind, e)
        })
    }
}

impl FromArgMatches for OperationCommand {
    fn from_arg_matches(matches: &ArgMatches) -> Result<Self, clap::Error> {
        let found = matches
            .subcommand()
            .and_then(|(name, sub)| Some((table::find(name)?, sub)));
        match found {
            Some((spec, sub)) => Ok(OperationCommand {
                spec,
                words: spec.words_from_matches(sub),
            }),
            None => Err(clap::Error::new(ErrorKind::InvalidSubcommand)),
        }
    }

    fn update_from_arg_matches(&mut self, matches: &ArgMatches) -> Result<(), clap::Error> {
        *self = OperationCommand::from_arg_matches(matches)?;
        Ok(())
    }
}

impl Subcommand for OperationCommand {
    fn augment_subcommands(cmd: clap::Command) -> clap::Command {
        cmd.subcommands(table::clap_commands())
    }

    fn augment_subcommands_for_update(cmd: clap::Command) -> clap::Command {
        OperationCommand::augment_subcommands(cmd)
    }

    fn has_subcommand(name: &str) -> bool {
        table::find(name).is_some()
    }
}

/// A usage error in clap's form (`error: ...`, the usage line, exit code 2); print it with
/// [`exit`], which adds the program's name in front like every other message.
pub fn usage_error(kind: ErrorKind, message: impl std::fmt::Display) -> clap::Error {
    command().error(kind, message)
}

/// The program's name, in front of every message it prints on stderr.
pub const PROGRAM: &str = "slonik-gen";

/// The features compiled into this binary, as `cfg!(feature = ...)` says.
pub fn features() -> Vec<&'static str> {
    [
        ("cli", cfg!(feature = "cli")),
        ("json", cfg!(feature = "json")),
        ("import", cfg!(feature = "import")),
        ("import-live", cfg!(feature = "import-live")),
        ("edit-config", cfg!(feature = "edit-config")),
    ]
    .into_iter()
    .filter_map(|(name, on)| on.then_some(name))
    .collect()
}

/// What `--version` prints after `slonik-gen `: the version, the Slony-I versions scripts
/// are generated for, and the features compiled in.
pub fn long_version() -> String {
    let versions: Vec<&str> = SlonyVersion::ALL.iter().map(|v| v.as_str()).collect();
    format!(
        "{}\ngenerates for Slony-I {}\nfeatures: {}",
        env!("CARGO_PKG_VERSION"),
        versions.join(", "),
        features().join(", ")
    )
}

/// The whole command as clap sees it (the derived [`Cli`], the operations from the table,
/// the long `--version`): what the binary parses with, and what `completions` and `man`
/// are generated from.
pub fn command() -> clap::Command {
    static LONG_VERSION: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    Cli::command().long_version(LONG_VERSION.get_or_init(long_version).as_str())
}

/// The process's arguments parsed; a usage error is printed as [`exit`] does (exit 2),
/// `--help` and `--version` as clap prints them (exit 0).
pub fn parse() -> Cli {
    parse_from(std::env::args_os()).unwrap_or_else(|e| exit(e))
}

/// `args` (with the program name first) parsed, or clap's error.
pub fn parse_from<I, T>(args: I) -> Result<Cli, clap::Error>
where
    I: IntoIterator<Item = T>,
    T: Into<std::ffi::OsString> + Clone,
{
    let matches = command().try_get_matches_from(args)?;
    Cli::from_arg_matches(&matches)
}

/// A clap error as the binary prints it: a usage error with `slonik-gen: ` before its
/// first line (`slonik-gen: error: unrecognized subcommand 'x'`), the usage and tip lines
/// kept; help and version text unchanged.
pub fn rendered(error: &clap::Error) -> String {
    let text = error.render().to_string();
    if error.use_stderr() && !is_help(error.kind()) {
        format!("{PROGRAM}: {text}")
    } else {
        text
    }
}

/// Whether clap's "error" is help it was asked for, or help shown for a missing command.
fn is_help(kind: ErrorKind) -> bool {
    matches!(
        kind,
        ErrorKind::DisplayHelp
            | ErrorKind::DisplayVersion
            | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand
    )
}

/// Prints a clap error as [`rendered`] says (usage errors on stderr, help and version on
/// stdout) and ends the process with clap's exit code (2 for a usage error, 0 for help).
pub fn exit(error: clap::Error) -> ! {
    use std::io::{IsTerminal, Write};
    let text = rendered(&error);
    if error.use_stderr() {
        // On a terminal, clap's colours as `Error::exit` would show them (unless NO_COLOR).
        let color = std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none();
        let text = if color && !is_help(error.kind()) {
            format!("{PROGRAM}: {}", error.render().ansi())
        } else {
            text
        };
        let _ = std::io::stderr().write_all(text.as_bytes());
    } else {
        let mut out = std::io::stdout().lock();
        let _ = out.write_all(text.as_bytes());
        let _ = out.flush();
    }
    std::process::exit(error.exit_code())
}
