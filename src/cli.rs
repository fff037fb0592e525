//! Command-line arguments (clap). Parsing only: every decision lives in the library.

use std::path::PathBuf;

use clap::error::ErrorKind;
use clap::{Args, CommandFactory, Parser, Subcommand};
use slonik_gen::ops::Ddl;
use slonik_gen::resolve::OperationArgs;
use slonik_gen::SlonyVersion;

/// Generate slonik scripts for a Slony-I cluster described in a TOML config.
///
/// The script goes to stdout and nothing else, so `slonik-gen ... | slonik` never runs
/// half a script: on any error stdout stays empty, the reason goes to stderr, exit code 1
/// (2 for usage errors).
#[derive(Debug, Parser)]
#[command(name = "slonik-gen", version, after_help = EXAMPLES)]
pub struct Cli {
    /// Config file [default: $SLONIK_GEN_CONFIG, else ./slonik-gen.toml]
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Target Slony-I version (1.2, 2.0, 2.1, 2.2), overriding the config's `slony_version`
    #[arg(long, global = true, value_name = "V")]
    pub slony_version: Option<SlonyVersion>,
    /// Compare the script with FILE instead of printing it; exit 1 with a diff on drift.
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
    /// The operation.
    #[command(subcommand)]
    pub command: Command,
}

const EXAMPLES: &str = "Examples:
  slonik-gen --config examples/geekdb.toml create-set set1 | slonik
  slonik-gen --config examples/geekdb.toml failover 1 2 --write-config after-failover.toml | slonik
  slonik-gen --config examples/geekdb.toml --check golden/create-set.slonik create-set set1";

/// One operation per altperl tool.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// The script header only (slonik_print_preamble)
    #[command(after_help = "Example: slonik-gen print-preamble > header.slonik")]
    PrintPreamble,
    /// Initialise the cluster: first node, every other node, all paths (slonik_init_cluster)
    #[command(after_help = "Example: slonik-gen init-cluster | slonik")]
    InitCluster,
    /// Add a node with paths to and from every node (slonik_store_node, slonik_add_node)
    #[command(after_help = "Example: slonik-gen store-node 3 1 | slonik")]
    StoreNode {
        /// The node to add (`3` or `node3`)
        node: String,
        /// Existing node that generates the event [default: the default origin]
        event_node: Option<String>,
    },
    /// Remove a node from the cluster (slonik_drop_node)
    #[command(after_help = "Example: slonik-gen drop-node 1 2 | slonik")]
    DropNode {
        /// The node to drop
        node: String,
        /// A surviving node that generates the event
        event_node: String,
    },
    /// Remove Slony-I from every node (slonik_uninstall_nodes)
    #[command(after_help = "Example: slonik-gen uninstall-nodes | slonik")]
    UninstallNodes,
    /// Tell slon daemons to restart (slonik_restart_node)
    #[command(
        after_help = "Example: slonik-gen restart-node 1 2 | slonik\n         slonik-gen restart-node --all | slonik"
    )]
    RestartNode(RestartArgs),
    /// Reload Slony-I's functions on every node (slonik_update_nodes)
    #[command(after_help = "Example: slonik-gen update-nodes | slonik")]
    UpdateNodes,
    /// Create a set and add its tables and sequences (slonik_create_set)
    #[command(after_help = "Example: slonik-gen create-set set1 | slonik")]
    CreateSet {
        /// The set (name, id or `set1`)
        set: String,
    },
    /// Drop a set (slonik_drop_set)
    #[command(after_help = "Example: slonik-gen drop-set set1 | slonik")]
    DropSet {
        /// The set
        set: String,
    },
    /// Merge SOURCE into TARGET, both with origin NODE (slonik_merge_sets)
    #[command(after_help = "Example: slonik-gen merge-sets 1 set1 set2 | slonik")]
    MergeSets {
        /// Origin of both sets
        node: String,
        /// The set that remains
        target: String,
        /// The set merged into TARGET
        source: String,
    },
    /// Subscribe a node to a set (slonik_subscribe_set)
    #[command(after_help = "Example: slonik-gen subscribe-set set1 2 | slonik")]
    SubscribeSet {
        /// The set
        set: String,
        /// The subscribing node
        node: String,
    },
    /// Unsubscribe a node from a set (slonik_unsubscribe_set)
    #[command(after_help = "Example: slonik-gen unsubscribe-set set1 2 | slonik")]
    UnsubscribeSet {
        /// The set
        set: String,
        /// The node
        node: String,
    },
    /// Switch a set's origin to a subscriber, never leaving it locked (slonik_move_set)
    #[command(after_help = "Example: slonik-gen move-set set1 2 1 | slonik")]
    MoveSet {
        /// The set
        set: String,
        /// Current origin
        from: String,
        /// New origin (a subscriber)
        to: String,
    },
    /// Give the sets of failed nodes to backup nodes (slonik_failover)
    #[command(
        after_help = "Example: slonik-gen failover 1 2 --write-config after.toml | slonik\n         slonik-gen failover 1 2 3 2 | slonik   # 2.2: two failed nodes at once"
    )]
    Failover {
        /// DEAD BACKUP pairs
        #[arg(required = true, num_args = 2.., value_names = ["DEAD", "BACKUP"])]
        nodes: Vec<String>,
    },
    /// Run DDL through Slony-I and wait until every node has it (slonik_execute_script)
    #[command(
        after_help = "Example: slonik-gen execute-script set1 /srv/ddl/add-note.sql | slonik\n         slonik-gen execute-script set1 --sql 'alter table geekdb.files add column note text;' | slonik"
    )]
    ExecuteScript(ExecuteArgs),
    /// Stop replicating one table (slonik_drop_table)
    #[command(after_help = "Example: slonik-gen drop-table 2 set1 | slonik")]
    DropTable {
        /// The table's id
        table_id: String,
        /// The set
        set: String,
    },
    /// Stop replicating one sequence (slonik_drop_sequence)
    #[command(after_help = "Example: slonik-gen drop-sequence 1 set1 | slonik")]
    DropSequence {
        /// The sequence's id
        sequence_id: String,
        /// The set
        set: String,
    },
    /// Multi-step runbooks from the model: switchover, failover, failback, rebuild-node,
    /// add-tables (docs/runbooks.md)
    #[command(
        after_help = "Example: slonik-gen --config geekdb.toml runbook --format sh failover --dead 1 --backup 2 > failover.sh\n         slonik-gen --config after-failover.toml runbook failback --node 1   # read it first (Markdown)"
    )]
    Runbook(RunbookArgs),
    /// Print the config of an existing cluster: `import altperl slon_tools.conf` (docs/import.md)
    #[command(
        subcommand,
        after_help = "Example: slonik-gen import altperl /etc/slony1/slon_tools.conf > slonik-gen.toml"
    )]
    Import(ImportCommand),
    #[command(flatten)]
    ImportTool(ImportTool),
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
        /// How to reach one node (libpq key=value or postgresql:// URI; no service/passfile)
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
        /// How to reach one node (libpq key=value or postgresql:// URI; no service/passfile)
        #[arg(long)]
        conninfo: String,
    },
}

impl ImportCommand {
    /// The library request this command asks for.
    pub fn request(self) -> slonik_gen::import::Request {
        match self {
            ImportCommand::Altperl { file, map_schema } => {
                slonik_gen::import::Request::Altperl { file, map_schema }
            }
            #[cfg(feature = "import-live")]
            ImportCommand::Cluster { conninfo, cluster } => {
                slonik_gen::import::Request::Cluster { conninfo, cluster }
            }
        }
    }
}

impl ImportTool {
    /// The library request this command asks for; `config` is the global `--config`.
    #[cfg_attr(not(feature = "import-live"), allow(unused_variables))]
    pub fn request(self, config: Option<PathBuf>) -> slonik_gen::import::Request {
        match self {
            #[cfg(feature = "import-live")]
            ImportTool::CheckCluster { conninfo } => {
                slonik_gen::import::Request::CheckCluster { config, conninfo }
            }
            ImportTool::InstallLinks { dir, force } => {
                slonik_gen::import::Request::InstallLinks { dir, force }
            }
        }
    }
}

/// `runbook` arguments.
#[derive(Debug, Args)]
pub struct RunbookArgs {
    /// Output: md (a numbered runbook), sh (one bash script that runs it), json (the plan as data)
    #[arg(long, global = true, default_value = "md", value_name = "md|sh|json")]
    pub format: slonik_gen::runbook::Format,
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
    pub prepare: slonik_gen::runbook::Prepare,
}

impl RunbookCommand {
    /// The library request this command asks for.
    pub fn request(self) -> slonik_gen::runbook::Request {
        use slonik_gen::runbook::Request;
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
        }
    }
}

/// `restart-node` arguments.
#[derive(Debug, Args)]
pub struct RestartArgs {
    /// Nodes to restart
    #[arg(required_unless_present = "all", conflicts_with = "all")]
    pub nodes: Vec<String>,
    /// Restart every node
    #[arg(long)]
    pub all: bool,
}

/// `execute-script` arguments.
#[derive(Debug, Args)]
pub struct ExecuteArgs {
    /// The set whose origin runs the DDL
    pub set: String,
    /// SQL file, read by slonik where it runs
    #[arg(required_unless_present = "sql", conflicts_with = "sql")]
    pub file: Option<String>,
    /// Inline SQL (Slony-I 2.2, at most 511 bytes)
    #[arg(long)]
    pub sql: Option<String>,
    /// Event node [default: the set's origin]
    #[arg(long, short = 'n')]
    pub node: Option<String>,
}

impl Command {
    /// The library operation this command asks for, as words to resolve against the config, or a usage error for what clap's
    /// grammar cannot say (an unpaired `failover` node).
    pub fn operation(self) -> Result<OperationArgs, clap::Error> {
        Ok(match self {
            Command::PrintPreamble => OperationArgs::PrintPreamble,
            Command::InitCluster => OperationArgs::InitCluster,
            Command::StoreNode { node, event_node } => OperationArgs::StoreNode { node, event_node },
            Command::DropNode { node, event_node } => OperationArgs::DropNode { node, event_node },
            Command::UninstallNodes => OperationArgs::UninstallNodes,
            Command::RestartNode(args) => OperationArgs::RestartNodes { nodes: args.nodes },
            Command::UpdateNodes => OperationArgs::UpdateNodes,
            Command::CreateSet { set } => OperationArgs::CreateSet { set },
            Command::DropSet { set } => OperationArgs::DropSet { set },
            Command::MergeSets { node, target, source } => OperationArgs::MergeSets { node, target, source },
            Command::SubscribeSet { set, node } => OperationArgs::SubscribeSet { set, node },
            Command::UnsubscribeSet { set, node } => OperationArgs::UnsubscribeSet { set, node },
            Command::MoveSet { set, from, to } => OperationArgs::MoveSet { set, from, to },
            Command::Failover { nodes } => {
                if let [.., unpaired] = &nodes[..] {
                    if nodes.len() % 2 == 1 {
                        return Err(usage_error(
                            ErrorKind::WrongNumberOfValues,
                            format!(
                                "failover takes DEAD BACKUP pairs: dead node `{unpaired}` has no backup node; give one after it (e.g. `failover 1 2 3 2`)"
                            ),
                        ));
                    }
                }
                OperationArgs::Failover {
                    pairs: nodes
                        .chunks_exact(2)
                        .map(|p| (p[0].clone(), p[1].clone()))
                        .collect(),
                }
            }
            Command::ExecuteScript(args) => OperationArgs::ExecuteScript {
                set: args.set,
                ddl: match (args.file, args.sql) {
                    (_, Some(sql)) => Ddl::Sql(sql),
                    (Some(file), None) => Ddl::File(file),
                    (None, None) => unreachable!("clap requires FILE or --sql"),
                },
                node: args.node,
            },
            Command::DropTable { table_id, set } => OperationArgs::DropTable { table_id, set },
            Command::DropSequence { sequence_id, set } => OperationArgs::DropSequence { sequence_id, set },
            Command::Import(_) | Command::ImportTool(_) => {
                unreachable!("main runs import commands before reading a config")
            }
            Command::Runbook(_) => unreachable!("main runs runbooks before asking for an operation"),
        })
    }
}

/// A usage error in clap's form (`error: ...`, the usage line, exit code 2).
pub fn usage_error(kind: ErrorKind, message: impl std::fmt::Display) -> clap::Error {
    Cli::command().error(kind, message)
}
