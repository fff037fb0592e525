//! The operations' command-line grammar, written once: one [`OperationSpec`] row per
//! operation in [`OPERATIONS`], with its command name, help text and example, its
//! arguments, and the altperl tools it stands in for (their names, operands and options).
//!
//! Every front end reads this table: the `slonik-gen` binary builds its subcommands from it
//! (with the `cli` feature, [`OperationSpec::clap_command`]), the altperl drop-in
//! (`crate::frontend::altperl`, feature `cli`) takes its tool names, Getopt options and usage texts
//! from it, and the tests parse their fixture lines through the same clap commands. Each
//! front end collects the words it was given into [`Words`], keyed by [`ArgSpec::name`], and
//! one call, [`OperationSpec::operation_args`], turns them into the [`OperationArgs`] that
//! [`crate::resolve`] resolves. A new command is a new [`Operation`](crate::ops::Operation)
//! and [`OperationArgs`] variant plus one row here; nothing else lists the commands.
//!
//! ```
//! use slonik_gen::ops::table::{self, Words};
//! use slonik_gen::resolve::OperationArgs;
//!
//! let spec = table::find("subscribe-set").unwrap();
//! assert_eq!(spec.altperl[0].name, "slonik_subscribe_set");
//! let mut words = Words::new();
//! words.push("set", "set1");
//! words.push("node", "2");
//! assert_eq!(
//!     spec.operation_args(&words).unwrap(),
//!     OperationArgs::SubscribeSet { set: "set1".into(), node: "2".into(), omit_copy: false }
//! );
//! ```

use crate::ops::Ddl;
use crate::resolve::OperationArgs;

/// One operation's command-line grammar: what `slonik-gen NAME --help` shows and what the
/// altperl tools standing in for it take.
#[derive(Debug)]
pub struct OperationSpec {
    /// The subcommand (`subscribe-set`).
    pub name: &'static str,
    /// One line for `--help` (the subcommand list and the top of `NAME --help`).
    pub about: &'static str,
    /// The text after the arguments in `NAME --help`: `Example: slonik-gen ...`.
    pub example: &'static str,
    /// The arguments, in the order `--help` lists them (positionals in command-line order).
    pub args: &'static [ArgSpec],
    /// The altperl tools this operation stands in for, in the order `install-links`
    /// creates them.
    pub altperl: &'static [AltperlTool],
    /// The operation's arguments from the words: the one place that knows which
    /// [`OperationArgs`] variant a row makes. Reached through
    /// [`OperationSpec::operation_args`], after the checks every row shares.
    build: fn(&Words) -> Result<OperationArgs, WordsError>,
}

/// One argument of an operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ArgSpec {
    /// The key of its words in [`Words`] (and clap's argument id): `event_node`.
    pub name: &'static str,
    /// What a value is written as in usage lines: `["EVENT_NODE"]`, or two names for an
    /// argument taken in pairs (`["DEAD", "BACKUP"]`); empty for a flag.
    pub value_names: &'static [&'static str],
    /// What a value names.
    pub kind: ArgKind,
    /// How many values it takes.
    pub repeat: Repeat,
    /// `--long` for an option; `None` for a positional.
    pub long: Option<&'static str>,
    /// `-s` for an option that also has a short form.
    pub short: Option<char>,
    /// The help line.
    pub help: &'static str,
    /// Required unless this other argument (by [`ArgSpec::name`]) is given.
    pub required_unless: Option<&'static str>,
    /// Not together with this other argument (by [`ArgSpec::name`]): a usage error.
    pub conflicts_with: Option<&'static str>,
}

/// What an argument's value names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ArgKind {
    /// A node: `2` or `node2`.
    Node,
    /// A set: its name, its id or `set1`.
    Set,
    /// A table id.
    TableId,
    /// A sequence id.
    SequenceId,
    /// A file path.
    File,
    /// SQL text.
    Sql,
    /// A flag without a value.
    Flag,
}

/// How many values an argument takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Repeat {
    /// Exactly one (required, unless [`ArgSpec::required_unless`] says otherwise).
    One,
    /// At most one.
    Optional,
    /// Any number.
    Many,
    /// At least one.
    OneOrMore,
    /// One or more pairs of values (`DEAD BACKUP [DEAD BACKUP]...`).
    Pairs,
}

impl ArgSpec {
    /// A required positional argument.
    const fn positional(
        name: &'static str,
        value_name: &'static [&'static str],
        kind: ArgKind,
        help: &'static str,
    ) -> Self {
        ArgSpec {
            name,
            value_names: value_name,
            kind,
            repeat: Repeat::One,
            long: None,
            short: None,
            help,
            required_unless: None,
            conflicts_with: None,
        }
    }

    /// An option taking one value (`--sql SQL`); at most once.
    const fn option(
        name: &'static str,
        value_name: &'static [&'static str],
        kind: ArgKind,
        help: &'static str,
    ) -> Self {
        ArgSpec {
            long: Some(name),
            repeat: Repeat::Optional,
            ..ArgSpec::positional(name, value_name, kind, help)
        }
    }

    /// A flag (`--all`).
    const fn flag(name: &'static str, help: &'static str) -> Self {
        ArgSpec {
            long: Some(name),
            repeat: Repeat::Optional,
            ..ArgSpec::positional(name, &[], ArgKind::Flag, help)
        }
    }

    const fn repeat(self, repeat: Repeat) -> Self {
        ArgSpec { repeat, ..self }
    }

    const fn short(self, short: char) -> Self {
        ArgSpec {
            short: Some(short),
            ..self
        }
    }

    /// Required unless `other` is given, and not together with it.
    const fn or_else(self, other: &'static str) -> Self {
        ArgSpec {
            required_unless: Some(other),
            conflicts_with: Some(other),
            ..self
        }
    }
}

/// An altperl tool the drop-in stands in for, as that tool reads its command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AltperlTool {
    /// Its file name (`slonik_add_node`).
    pub name: &'static str,
    /// Its operands and own options as its usage line writes them, after
    /// `[--config file]`: `" node# event_node#"`.
    pub usage: &'static str,
    /// What it reads, in the order altperl checks it (which decides which of two wrong
    /// operands is reported); each fills one argument of the row.
    pub reads: &'static [AltperlRead],
}

/// One thing an altperl tool reads from its command line, and the row argument it fills.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AltperlRead {
    /// Where it is on the command line.
    pub from: AltperlSource,
    /// Its name in messages (`event_node#`, `--node`).
    pub label: &'static str,
    /// The row's argument ([`ArgSpec::name`]) it fills; its [`ArgKind`] decides the
    /// check (a node is `^(?:node)?(\d+)$` and gives the digits, a file must be an
    /// existing full path).
    pub fills: &'static str,
    /// Which values count as not given.
    pub absent: Absent,
    /// Whether it must be given.
    pub need: Need,
    /// Not read when this argument of the row was filled already: altperl's precedence
    /// (`--all` wins over listed nodes, a file over `-c`).
    pub unless: Option<&'static str>,
}

/// Where an altperl tool finds something on its command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AltperlSource {
    /// The operand at this index (options removed).
    Operand(usize),
    /// Every operand.
    Operands,
    /// Every operand, as pairs; the second of a pair is called `second` in messages,
    /// and an odd number of operands (beyond the first pair) is refused with `unpaired`.
    Pairs {
        /// The second operand's label.
        second: &'static str,
        /// The message for a last operand without its partner.
        unpaired: &'static str,
    },
    /// A Getopt::Long option with a value; the first name is the one kept.
    Option(&'static [&'static str]),
    /// A Getopt::Long flag.
    Flag(&'static [&'static str]),
}

/// Which values of an altperl operand or option count as not given.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Absent {
    /// Only a missing one (an empty node operand is given, and not a node).
    Missing,
    /// A missing or empty one.
    Empty,
    /// One Perl finds false: missing, empty or `0` (altperl's `die $USAGE unless $set`).
    PerlFalse,
}

/// Whether an altperl tool requires something.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Need {
    /// It may be absent.
    Optional,
    /// It must be given: `missing LABEL` otherwise.
    Required,
    /// It must be given, and this message says so.
    RequiredOr(&'static str),
}

const fn read(from: AltperlSource, label: &'static str, fills: &'static str) -> AltperlRead {
    AltperlRead {
        from,
        label,
        fills,
        absent: Absent::Missing,
        need: Need::Required,
        unless: None,
    }
}

/// A node operand, checked as altperl checks it.
const fn node_at(at: usize, label: &'static str, fills: &'static str) -> AltperlRead {
    read(AltperlSource::Operand(at), label, fills)
}

/// A set or id operand that Perl must find true.
const fn word_at(at: usize, label: &'static str, fills: &'static str) -> AltperlRead {
    AltperlRead {
        absent: Absent::PerlFalse,
        ..read(AltperlSource::Operand(at), label, fills)
    }
}

/// A tool whose command line holds nothing but `--config` and `--help`.
const fn bare(name: &'static str) -> AltperlTool {
    AltperlTool {
        name,
        usage: "",
        reads: &[],
    }
}

/// The words a front end parsed for one operation, keyed by [`ArgSpec::name`]: each
/// argument's values in command-line order; a given flag has an entry without values.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Words {
    values: Vec<(&'static str, Vec<String>)>,
}

impl Words {
    /// No words.
    pub fn new() -> Self {
        Words::default()
    }

    /// Adds a value to the argument `name`.
    pub fn push(&mut self, name: &'static str, value: impl Into<String>) {
        self.entry(name).push(value.into());
    }

    /// Marks the flag (or argument) `name` as given.
    pub fn set(&mut self, name: &'static str) {
        self.entry(name);
    }

    /// Whether the argument `name` was given (a flag, or any value).
    pub fn has(&self, name: &str) -> bool {
        self.values.iter().any(|(n, _)| *n == name)
    }

    /// The values of `name`, in command-line order.
    pub fn values(&self, name: &str) -> &[String] {
        self.values
            .iter()
            .find(|(n, _)| *n == name)
            .map_or(&[], |(_, v)| v.as_slice())
    }

    fn entry(&mut self, name: &'static str) -> &mut Vec<String> {
        let at = match self.values.iter().position(|(n, _)| *n == name) {
            Some(at) => at,
            None => {
                self.values.push((name, Vec::new()));
                self.values.len() - 1
            }
        };
        &mut self.values[at].1
    }

    /// The last value of `name`, if any.
    fn optional(&self, name: &str) -> Option<String> {
        self.values(name).last().cloned()
    }

    /// The value of a required argument (checked by [`OperationSpec::operation_args`]
    /// before the row's builder runs).
    fn one(&self, name: &'static str) -> Result<String, WordsError> {
        self.optional(name).ok_or(WordsError::Missing { argument: name })
    }
}

/// Words that make no operation: a front end passed less than the row needs. clap's
/// grammar and the drop-in's reads rule out all but [`WordsError::Unpaired`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum WordsError {
    /// A required argument has no value.
    #[error("the argument {argument} is required")]
    Missing {
        /// Its [`ArgSpec::name`].
        argument: &'static str,
    },
    /// The words given do not say which operation to make (`drop-node 2 3 1` without
    /// `--event-node`).
    #[error("{operation}: {message}")]
    Ambiguous {
        /// The operation.
        operation: &'static str,
        /// What to give.
        message: &'static str,
    },
    /// An argument taken in pairs has an odd number of values.
    #[error(
        "{operation} takes {first} {second} pairs: {} node `{unpaired}` has no {} node; give one after it (e.g. `{operation} 1 2 3 2`)",
        .first.to_lowercase(),
        .second.to_lowercase()
    )]
    Unpaired {
        /// The operation (`failover`).
        operation: &'static str,
        /// The first value's name (`DEAD`).
        first: &'static str,
        /// The second value's name (`BACKUP`).
        second: &'static str,
        /// The value without a partner.
        unpaired: String,
    },
}

impl OperationSpec {
    /// The operation's arguments from the words a front end parsed: checks what every row
    /// shares (required arguments are there, pairs are whole), then builds the row's
    /// [`OperationArgs`].
    pub fn operation_args(&self, words: &Words) -> Result<OperationArgs, WordsError> {
        for arg in self.args {
            let values = words.values(arg.name);
            let excused = arg.required_unless.is_some_and(|other| words.has(other));
            match arg.repeat {
                Repeat::One | Repeat::OneOrMore if values.is_empty() && !excused => {
                    return Err(WordsError::Missing { argument: arg.name })
                }
                Repeat::Pairs if values.len() % 2 == 1 => {
                    let [first, second] = match arg.value_names {
                        [first, second] => [*first, *second],
                        _ => [arg.name, arg.name],
                    };
                    return Err(WordsError::Unpaired {
                        operation: self.name,
                        first,
                        second,
                        unpaired: values[values.len() - 1].clone(),
                    });
                }
                _ => {}
            }
        }
        (self.build)(words)
    }

    /// The argument called `name`.
    pub fn arg(&self, name: &str) -> Option<&'static ArgSpec> {
        self.args.iter().find(|a| a.name == name)
    }
}

/// The row of the operation called `name` (`subscribe-set`).
pub fn find(name: &str) -> Option<&'static OperationSpec> {
    OPERATIONS.iter().find(|spec| spec.name == name)
}

/// Every altperl tool, with its row, in the order `install-links` creates them.
pub fn altperl_tools() -> impl Iterator<Item = (&'static OperationSpec, &'static AltperlTool)> {
    OPERATIONS
        .iter()
        .flat_map(|spec| spec.altperl.iter().map(move |tool| (spec, tool)))
}

const SET: &[&str] = &["SET"];
const NODE: &[&str] = &["NODE"];

/// Every operation, in the order `slonik-gen --help` lists them.
pub const OPERATIONS: &[OperationSpec] = &[
    OperationSpec {
        name: "print-preamble",
        about: "The script header only (slonik_print_preamble)",
        example: "Example: slonik-gen print-preamble > header.slonik",
        args: &[],
        altperl: &[bare("slonik_print_preamble")],
        build: |_| Ok(OperationArgs::PrintPreamble),
    },
    OperationSpec {
        name: "init-cluster",
        about: "Initialise the cluster: first node, every other node, all paths (slonik_init_cluster)",
        example: "Example: slonik-gen init-cluster | slonik",
        args: &[],
        altperl: &[bare("slonik_init_cluster")],
        build: |_| Ok(OperationArgs::InitCluster),
    },
    OperationSpec {
        name: "store-node",
        about: "Add a node with paths to and from every node (slonik_store_node, slonik_add_node)",
        example: "Example: slonik-gen store-node 3 1 | slonik",
        args: &[
            ArgSpec::positional("node", NODE, ArgKind::Node, "The node to add (`3` or `node3`)"),
            ArgSpec::positional(
                "event_node",
                &["EVENT_NODE"],
                ArgKind::Node,
                "Existing node that generates the event [default: the default origin]",
            )
            .repeat(Repeat::Optional),
        ],
        altperl: &[
            AltperlTool {
                name: "slonik_store_node",
                usage: " node#",
                reads: &[node_at(0, "node#", "node")],
            },
            AltperlTool {
                name: "slonik_add_node",
                usage: " node# event_node#",
                reads: &[node_at(0, "node#", "node"), node_at(1, "event_node#", "event_node")],
            },
        ],
        build: |w| {
            Ok(OperationArgs::StoreNode {
                node: w.one("node")?,
                event_node: w.optional("event_node"),
            })
        },
    },
    OperationSpec {
        name: "drop-node",
        about: "Remove nodes from the cluster (slonik_drop_node)",
        example: "Example: slonik-gen drop-node 2 1 | slonik\n         slonik-gen drop-node 3 4 --event-node 1 | slonik   # several nodes: 2.2 drops them in one statement",
        args: &[
            ArgSpec::positional(
                "node",
                NODE,
                ArgKind::Node,
                "The nodes to drop; without --event-node, exactly NODE EVENT_NODE (as slonik_drop_node)",
            )
            .repeat(Repeat::OneOrMore),
            ArgSpec::option(
                "event-node",
                &["EVENT_NODE"],
                ArgKind::Node,
                "A surviving node that generates the event",
            ),
        ],
        altperl: &[AltperlTool {
            name: "slonik_drop_node",
            usage: " node# event_node#",
            reads: &[node_at(0, "node#", "node"), node_at(1, "event_node#", "event-node")],
        }],
        build: |w| {
            let nodes = w.values("node");
            match (w.optional("event-node"), nodes) {
                (Some(event_node), [node]) => Ok(OperationArgs::DropNode {
                    node: node.clone(),
                    event_node,
                }),
                (Some(event_node), _) => Ok(OperationArgs::DropNodes {
                    nodes: nodes.to_vec(),
                    event_node,
                }),
                (None, [node, event_node]) => Ok(OperationArgs::DropNode {
                    node: node.clone(),
                    event_node: event_node.clone(),
                }),
                (None, []) => Err(WordsError::Missing { argument: "node" }),
                (None, [_]) => Err(WordsError::Ambiguous {
                    operation: "drop-node",
                    message: "name the event node, a surviving node that generates the event: drop-node NODE EVENT_NODE, or drop-node NODE... --event-node EVENT_NODE",
                }),
                (None, _) => Err(WordsError::Ambiguous {
                    operation: "drop-node",
                    message: "give the event node with --event-node when dropping several nodes (drop-node 2 3 --event-node 1)",
                }),
            }
        },
    },
    OperationSpec {
        name: "uninstall-nodes",
        about: "Remove Slony-I from every node (slonik_uninstall_nodes)",
        example: "Example: slonik-gen uninstall-nodes | slonik",
        args: &[],
        altperl: &[bare("slonik_uninstall_nodes")],
        build: |_| Ok(OperationArgs::UninstallNodes),
    },
    OperationSpec {
        name: "uninstall-node",
        about: "Remove Slony-I from one node marked failed, e.g. before rebuilding it",
        example: "Example: slonik-gen --config after-failover.toml uninstall-node 1 | slonik   # after failover 1 2 --write-config after-failover.toml",
        args: &[ArgSpec::positional(
            "node",
            NODE,
            ArgKind::Node,
            "The node (marked failed; a node still in the cluster is dropped first)",
        )],
        altperl: &[],
        build: |w| Ok(OperationArgs::UninstallNode { node: w.one("node")? }),
    },
    OperationSpec {
        name: "restart-node",
        about: "Tell slon daemons to restart (slonik_restart_node)",
        example: "Example: slonik-gen restart-node 1 2 | slonik\n         slonik-gen restart-node --all | slonik",
        args: &[
            ArgSpec::positional("nodes", &["NODES"], ArgKind::Node, "Nodes to restart")
                .repeat(Repeat::Many)
                .or_else("all"),
            ArgSpec::flag("all", "Restart every node"),
        ],
        altperl: &[AltperlTool {
            name: "slonik_restart_node",
            usage: " [--all] [node# ...]",
            reads: &[
                read(AltperlSource::Flag(&["all"]), "--all", "all"),
                AltperlRead {
                    need: Need::RequiredOr("give the nodes to restart, or --all"),
                    unless: Some("all"),
                    ..read(AltperlSource::Operands, "node#", "nodes")
                },
            ],
        }],
        // An empty list means every node; clap refuses nodes with --all, altperl ignores them.
        build: |w| {
            Ok(OperationArgs::RestartNodes {
                nodes: if w.has("all") {
                    Vec::new()
                } else {
                    w.values("nodes").to_vec()
                },
            })
        },
    },
    OperationSpec {
        name: "update-nodes",
        about: "Reload Slony-I's functions on every node (slonik_update_nodes)",
        example: "Example: slonik-gen update-nodes | slonik",
        args: &[],
        altperl: &[bare("slonik_update_nodes")],
        build: |_| Ok(OperationArgs::UpdateNodes),
    },
    OperationSpec {
        name: "create-set",
        about: "Create a set and add its tables and sequences (slonik_create_set)",
        example: "Example: slonik-gen create-set set1 | slonik",
        args: &[ArgSpec::positional("set", SET, ArgKind::Set, "The set (name, id or `set1`)")],
        altperl: &[AltperlTool {
            name: "slonik_create_set",
            usage: " set",
            reads: &[word_at(0, "set", "set")],
        }],
        build: |w| Ok(OperationArgs::CreateSet { set: w.one("set")? }),
    },
    OperationSpec {
        name: "drop-set",
        about: "Drop a set (slonik_drop_set)",
        example: "Example: slonik-gen drop-set set1 | slonik",
        args: &[ArgSpec::positional("set", SET, ArgKind::Set, "The set")],
        altperl: &[AltperlTool {
            name: "slonik_drop_set",
            usage: " set",
            reads: &[word_at(0, "set", "set")],
        }],
        build: |w| Ok(OperationArgs::DropSet { set: w.one("set")? }),
    },
    OperationSpec {
        name: "merge-sets",
        about: "Merge SOURCE into TARGET, both with origin NODE (slonik_merge_sets)",
        example: "Example: slonik-gen merge-sets 1 set1 set2 | slonik",
        args: &[
            ArgSpec::positional("node", NODE, ArgKind::Node, "Origin of both sets"),
            ArgSpec::positional("target", &["TARGET"], ArgKind::Set, "The set that remains"),
            ArgSpec::positional("source", &["SOURCE"], ArgKind::Set, "The set merged into TARGET"),
        ],
        altperl: &[AltperlTool {
            name: "slonik_merge_sets",
            usage: " node# targetset srcset",
            reads: &[
                node_at(0, "node#", "node"),
                word_at(1, "targetset", "target"),
                word_at(2, "srcset", "source"),
            ],
        }],
        build: |w| {
            Ok(OperationArgs::MergeSets {
                node: w.one("node")?,
                target: w.one("target")?,
                source: w.one("source")?,
            })
        },
    },
    OperationSpec {
        name: "subscribe-set",
        about: "Subscribe a node to a set (slonik_subscribe_set)",
        example: "Example: slonik-gen subscribe-set set1 2 | slonik\n         slonik-gen subscribe-set set1 2 --omit-copy | slonik   # node 2's tables were loaded from a dump",
        args: &[
            ArgSpec::positional("set", SET, ArgKind::Set, "The set"),
            ArgSpec::positional("node", NODE, ArgKind::Node, "The subscribing node"),
            ArgSpec::flag(
                "omit-copy",
                "Skip the initial copy: the node's tables already hold the set's data (Slony-I 2.0 and later)",
            ),
        ],
        altperl: &[AltperlTool {
            name: "slonik_subscribe_set",
            usage: " set node#",
            // altperl checks the node before the set.
            reads: &[node_at(1, "node#", "node"), word_at(0, "set", "set")],
        }],
        build: |w| {
            Ok(OperationArgs::SubscribeSet {
                set: w.one("set")?,
                node: w.one("node")?,
                omit_copy: w.has("omit-copy"),
            })
        },
    },
    OperationSpec {
        name: "resubscribe",
        about: "Change the provider a node receives its sets from, without copying them again",
        example: "Example: slonik-gen --config tests/inputs/cascade.toml resubscribe 3 --provider 1 | slonik   # needs a third node: geekdb's node 2 can only receive from node 1",
        args: &[
            ArgSpec::positional("node", NODE, ArgKind::Node, "The node re-pointed"),
            ArgSpec::option(
                "provider",
                &["PROVIDER"],
                ArgKind::Node,
                "The new provider: the origin or a forwarding subscriber of each set",
            )
            .repeat(Repeat::One),
            ArgSpec::option(
                "set",
                SET,
                ArgKind::Set,
                "Re-point only this set (repeatable) [default: every set NODE receives]",
            )
            .repeat(Repeat::Many),
        ],
        altperl: &[],
        build: |w| {
            Ok(OperationArgs::Resubscribe {
                node: w.one("node")?,
                provider: w.one("provider")?,
                sets: w.values("set").to_vec(),
            })
        },
    },
    OperationSpec {
        name: "unsubscribe-set",
        about: "Unsubscribe a node from a set (slonik_unsubscribe_set)",
        example: "Example: slonik-gen unsubscribe-set set1 2 | slonik",
        args: &[
            ArgSpec::positional("set", SET, ArgKind::Set, "The set"),
            ArgSpec::positional("node", NODE, ArgKind::Node, "The node"),
        ],
        altperl: &[AltperlTool {
            name: "slonik_unsubscribe_set",
            usage: " set node#",
            // altperl checks the node before the set.
            reads: &[node_at(1, "node#", "node"), word_at(0, "set", "set")],
        }],
        build: |w| {
            Ok(OperationArgs::UnsubscribeSet {
                set: w.one("set")?,
                node: w.one("node")?,
            })
        },
    },
    OperationSpec {
        name: "move-set",
        about: "Switch a set's origin to a subscriber, never leaving it locked (slonik_move_set)",
        example: "Example: slonik-gen move-set set1 2 1 | slonik",
        args: &[
            ArgSpec::positional("set", SET, ArgKind::Set, "The set"),
            ArgSpec::positional("from", &["FROM"], ArgKind::Node, "Current origin"),
            ArgSpec::positional("to", &["TO"], ArgKind::Node, "New origin (a subscriber)"),
        ],
        altperl: &[AltperlTool {
            name: "slonik_move_set",
            usage: " set from_node# to_node#",
            reads: &[
                word_at(0, "set", "set"),
                node_at(1, "from_node#", "from"),
                node_at(2, "to_node#", "to"),
            ],
        }],
        build: |w| {
            Ok(OperationArgs::MoveSet {
                set: w.one("set")?,
                from: w.one("from")?,
                to: w.one("to")?,
            })
        },
    },
    OperationSpec {
        name: "failover",
        about: "Give the sets of failed nodes to backup nodes (slonik_failover)",
        example: "Example: slonik-gen failover 1 2 --write-config after.toml | slonik\n         slonik-gen failover 1 2 3 2 | slonik   # 2.2: two failed nodes at once",
        args: &[ArgSpec::positional("nodes", &["DEAD", "BACKUP"], ArgKind::Node, "DEAD BACKUP pairs").repeat(Repeat::Pairs)],
        altperl: &[AltperlTool {
            name: "slonik_failover",
            usage: " dead_node# backup_node# [dead_node# backup_node#]...",
            reads: &[read(
                AltperlSource::Pairs {
                    second: "backup_node#",
                    unpaired: "give dead_node backup_node pairs: the last dead node has no backup node",
                },
                "dead_node#",
                "nodes",
            )],
        }],
        build: |w| {
            Ok(OperationArgs::Failover {
                pairs: w
                    .values("nodes")
                    .chunks_exact(2)
                    .map(|p| (p[0].clone(), p[1].clone()))
                    .collect(),
            })
        },
    },
    OperationSpec {
        name: "execute-script",
        about: "Run DDL through Slony-I and wait until every node has it (slonik_execute_script)",
        example: "Example: slonik-gen execute-script set1 /srv/ddl/add-note.sql | slonik\n         slonik-gen execute-script set1 --sql 'alter table geekdb.files add column note text;' | slonik",
        args: &[
            ArgSpec::positional("set", SET, ArgKind::Set, "The set whose origin runs the DDL"),
            ArgSpec::positional("file", &["FILE"], ArgKind::File, "SQL file, read by slonik where it runs")
                .repeat(Repeat::Optional)
                .or_else("sql"),
            ArgSpec::option("sql", &["SQL"], ArgKind::Sql, "Inline SQL (Slony-I 2.2, at most 511 bytes)"),
            ArgSpec::option("node", NODE, ArgKind::Node, "Event node [default: the set's origin]").short('n'),
            ArgSpec::option(
                "only-on",
                NODE,
                ArgKind::Node,
                "Run the DDL on this node only (repeatable; the list must include the event node; 2.2: one node alone is its own event node)",
            )
            .repeat(Repeat::Many),
        ],
        altperl: &[AltperlTool {
            name: "slonik_execute_script",
            usage: " [-c SQL] [-n|--node node#] set [/full/path/to/script.sql]",
            reads: &[
                word_at(0, "set", "set"),
                AltperlRead {
                    absent: Absent::Empty,
                    need: Need::Optional,
                    ..read(AltperlSource::Operand(1), "SQL script path", "file")
                },
                // A file wins over -c, as in altperl.
                AltperlRead {
                    absent: Absent::Empty,
                    need: Need::RequiredOr("give either a filename or a SQL statement (-c SQL) to be run"),
                    unless: Some("file"),
                    ..read(AltperlSource::Option(&["c"]), "-c", "sql")
                },
                AltperlRead {
                    absent: Absent::PerlFalse,
                    need: Need::Optional,
                    ..read(AltperlSource::Option(&["n", "node"]), "--node", "node")
                },
            ],
        }],
        build: |w| {
            Ok(OperationArgs::ExecuteScript {
                set: w.one("set")?,
                ddl: match (w.optional("file"), w.optional("sql")) {
                    (_, Some(sql)) => Ddl::Sql(sql),
                    (Some(file), None) => Ddl::File(file),
                    (None, None) => return Err(WordsError::Missing { argument: "file" }),
                },
                node: w.optional("node"),
                only_on: w.values("only-on").to_vec(),
            })
        },
    },
    OperationSpec {
        name: "drop-table",
        about: "Stop replicating one table (slonik_drop_table)",
        example: "Example: slonik-gen drop-table 2 set1 | slonik",
        args: &[
            ArgSpec::positional("table_id", &["TABLE_ID"], ArgKind::TableId, "The table's id"),
            ArgSpec::positional("set", SET, ArgKind::Set, "The set"),
        ],
        altperl: &[AltperlTool {
            name: "slonik_drop_table",
            usage: " table_id set",
            reads: &[word_at(0, "table_id", "table_id"), word_at(1, "set", "set")],
        }],
        build: |w| {
            Ok(OperationArgs::DropTable {
                table_id: w.one("table_id")?,
                set: w.one("set")?,
            })
        },
    },
    OperationSpec {
        name: "drop-sequence",
        about: "Stop replicating one sequence (slonik_drop_sequence)",
        example: "Example: slonik-gen drop-sequence 1 set1 | slonik",
        args: &[
            ArgSpec::positional("sequence_id", &["SEQUENCE_ID"], ArgKind::SequenceId, "The sequence's id"),
            ArgSpec::positional("set", SET, ArgKind::Set, "The set"),
        ],
        altperl: &[AltperlTool {
            name: "slonik_drop_sequence",
            usage: " sequence_id set",
            reads: &[word_at(0, "sequence_id", "sequence_id"), word_at(1, "set", "set")],
        }],
        build: |w| {
            Ok(OperationArgs::DropSequence {
                sequence_id: w.one("sequence_id")?,
                set: w.one("set")?,
            })
        },
    },
    OperationSpec {
        name: "move-table",
        about: "Move one table to another set of the same origin and subscribers",
        example: "Example: slonik-gen move-table 3 set1 set2 | slonik",
        args: &[
            ArgSpec::positional("table_id", &["TABLE_ID"], ArgKind::TableId, "The table's id"),
            ArgSpec::positional("set", SET, ArgKind::Set, "The set it is in"),
            ArgSpec::positional("new_set", &["NEW_SET"], ArgKind::Set, "The set it moves to"),
        ],
        altperl: &[],
        build: |w| {
            Ok(OperationArgs::MoveTable {
                table_id: w.one("table_id")?,
                set: w.one("set")?,
                new_set: w.one("new_set")?,
            })
        },
    },
    OperationSpec {
        name: "move-sequence",
        about: "Move one sequence to another set of the same origin and subscribers",
        example: "Example: slonik-gen move-sequence 1 set1 set2 | slonik",
        args: &[
            ArgSpec::positional("sequence_id", &["SEQUENCE_ID"], ArgKind::SequenceId, "The sequence's id"),
            ArgSpec::positional("set", SET, ArgKind::Set, "The set it is in"),
            ArgSpec::positional("new_set", &["NEW_SET"], ArgKind::Set, "The set it moves to"),
        ],
        altperl: &[],
        build: |w| {
            Ok(OperationArgs::MoveSequence {
                sequence_id: w.one("sequence_id")?,
                set: w.one("set")?,
                new_set: w.one("new_set")?,
            })
        },
    },
    OperationSpec {
        name: "store-path",
        about: "Tell CLIENT's slon how to reach SERVER (store path with SERVER's path connection)",
        example: "Example: slonik-gen store-path 1 2 | slonik",
        args: &[
            ArgSpec::positional("server", &["SERVER"], ArgKind::Node, "The node connected to"),
            ArgSpec::positional("client", &["CLIENT"], ArgKind::Node, "The node whose slon connects"),
        ],
        altperl: &[],
        build: |w| {
            Ok(OperationArgs::StorePath {
                server: w.one("server")?,
                client: w.one("client")?,
            })
        },
    },
    OperationSpec {
        name: "drop-path",
        about: "Make CLIENT's slon forget SERVER (drop path); refused while a subscription or the event flow needs it",
        example: "Example: slonik-gen drop-path 4 1 | slonik   # on a cluster where node 1 hears node 4 through another node",
        args: &[
            ArgSpec::positional("server", &["SERVER"], ArgKind::Node, "The node connected to"),
            ArgSpec::positional("client", &["CLIENT"], ArgKind::Node, "The node whose slon connects"),
        ],
        altperl: &[],
        build: |w| {
            Ok(OperationArgs::DropPath {
                server: w.one("server")?,
                client: w.one("client")?,
            })
        },
    },
    OperationSpec {
        name: "sync",
        about: "Generate a SYNC event on a node, without waiting",
        example: "Example: slonik-gen sync 1 | slonik",
        args: &[ArgSpec::positional("node", NODE, ArgKind::Node, "The node (usually a set's origin)")],
        altperl: &[],
        build: |w| Ok(OperationArgs::Sync { node: w.one("node")? }),
    },
    OperationSpec {
        name: "wait",
        about: "A catch-up point: SYNC on ORIGIN, then wait until every node (or one) has confirmed it",
        example: "Example: slonik-gen wait 1 | slonik\n         slonik-gen wait 1 --confirmed 2 | slonik   # only node 2 must catch up",
        args: &[
            ArgSpec::positional("origin", &["ORIGIN"], ArgKind::Node, "The node whose changes must have arrived"),
            ArgSpec::option(
                "confirmed",
                NODE,
                ArgKind::Node,
                "The node that must have caught up [default: every node]",
            ),
        ],
        altperl: &[],
        build: |w| {
            Ok(OperationArgs::Wait {
                origin: w.one("origin")?,
                confirmed: w.optional("confirmed"),
            })
        },
    },
    OperationSpec {
        name: "repair-config",
        about: "Look up a set's table and sequence OIDs again by name (after a dump and restore or pg_upgrade)",
        example: "Example: slonik-gen repair-config set1 | slonik\n         slonik-gen repair-config set1 --only-on 2 | slonik   # node 2 only",
        args: &[
            ArgSpec::positional("set", SET, ArgKind::Set, "The set"),
            ArgSpec::option("event-node", &["EVENT_NODE"], ArgKind::Node, "Event node [default: the set's origin]"),
            ArgSpec::option(
                "only-on",
                NODE,
                ArgKind::Node,
                "Only on this node (the origin or a subscriber) [default: every node that has the set]",
            ),
        ],
        altperl: &[],
        build: |w| {
            Ok(OperationArgs::RepairConfig {
                set: w.one("set")?,
                event_node: w.optional("event-node"),
                only_on: w.optional("only-on"),
            })
        },
    },
];

#[cfg(feature = "cli")]
mod clap_front {
    use clap::{Arg, ArgAction, ArgMatches, Command};

    use super::{ArgKind, ArgSpec, OperationSpec, Repeat, Words, OPERATIONS};

    impl OperationSpec {
        /// The clap subcommand for this row: `slonik-gen NAME --help` shows exactly this.
        pub fn clap_command(&self) -> Command {
            Command::new(self.name)
                .about(self.about)
                .long_about(None)
                .after_help(self.example)
                .args(self.args.iter().map(clap_arg))
        }

        /// The words clap matched for this row's subcommand (`matches` of the subcommand).
        pub fn words_from_matches(&self, matches: &ArgMatches) -> Words {
            let mut words = Words::new();
            for arg in self.args {
                if arg.kind == ArgKind::Flag {
                    if matches.try_get_one::<bool>(arg.name).ok().flatten() == Some(&true) {
                        words.set(arg.name);
                    }
                } else if let Ok(Some(values)) = matches.try_get_many::<String>(arg.name) {
                    for value in values {
                        words.push(arg.name, value.clone());
                    }
                }
            }
            words
        }
    }

    /// Every row's clap subcommand, in table order.
    pub fn clap_commands() -> impl Iterator<Item = Command> {
        OPERATIONS.iter().map(OperationSpec::clap_command)
    }

    /// The clap argument of one row argument, as the derive macro made it before the
    /// table existed (the `--help` snapshots hold it to every byte).
    fn clap_arg(spec: &ArgSpec) -> Arg {
        let mut arg = Arg::new(spec.name).help(spec.help).long_help(None);
        if let Some(long) = spec.long {
            arg = arg.long(long);
        }
        if let Some(short) = spec.short {
            arg = arg.short(short);
        }
        if spec.kind == ArgKind::Flag {
            return arg.action(ArgAction::SetTrue);
        }
        arg = arg
            .value_parser(clap::value_parser!(String))
            .value_names(spec.value_names.iter().copied());
        arg = match spec.repeat {
            Repeat::One => arg
                .required(spec.required_unless.is_none())
                .action(ArgAction::Set),
            Repeat::Optional => arg.required(false).action(ArgAction::Set),
            Repeat::Many => arg.required(false).action(ArgAction::Append),
            Repeat::OneOrMore => arg.required(true).num_args(1..).action(ArgAction::Append),
            Repeat::Pairs => arg.required(true).num_args(2..).action(ArgAction::Append),
        };
        if let Some(other) = spec.required_unless {
            arg = arg.required_unless_present(other);
        }
        if let Some(other) = spec.conflicts_with {
            arg = arg.conflicts_with(other);
        }
        arg
    }
}

#[cfg(feature = "cli")]
pub use clap_front::clap_commands;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_every_fill_names_an_argument() {
        let mut names: Vec<&str> = OPERATIONS.iter().map(|s| s.name).collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), OPERATIONS.len());
        let mut tools: Vec<&str> = altperl_tools().map(|(_, t)| t.name).collect();
        tools.sort();
        tools.dedup();
        assert_eq!(tools.len(), altperl_tools().count());
        for spec in OPERATIONS {
            for arg in spec.args {
                for other in arg.required_unless.iter().chain(&arg.conflicts_with) {
                    assert!(spec.arg(other).is_some(), "{}: {other}", spec.name);
                }
            }
            for tool in spec.altperl {
                for read in tool.reads {
                    assert!(spec.arg(read.fills).is_some(), "{}: {}", tool.name, read.fills);
                    if let Some(other) = read.unless {
                        assert!(spec.arg(other).is_some(), "{}: {other}", tool.name);
                    }
                }
            }
        }
    }

    #[cfg(feature = "cli")]
    #[test]
    fn every_rows_clap_command_is_well_formed() {
        let all = clap::Command::new("slonik-gen").subcommands(clap_commands());
        all.debug_assert();
    }

    #[test]
    fn missing_words_are_an_error_not_a_panic() {
        for spec in OPERATIONS {
            let result = spec.operation_args(&Words::new());
            let required = spec
                .args
                .iter()
                .any(|a| matches!(a.repeat, Repeat::One | Repeat::OneOrMore) && a.required_unless.is_none());
            assert_eq!(
                result.is_err(),
                required || spec.name == "execute-script",
                "{}",
                spec.name
            );
        }
        let mut words = Words::new();
        for node in ["1", "2", "3"] {
            words.push("nodes", node);
        }
        let error = find("failover").unwrap().operation_args(&words).unwrap_err();
        assert_eq!(
            error.to_string(),
            "failover takes DEAD BACKUP pairs: dead node `3` has no backup node; give one after it (e.g. `failover 1 2 3 2`)"
        );
    }
}
