//! The checked cluster: every reference resolved, every id assigned, ready to render.

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::model::config::{
    ConfigFile, DaemonConfig, NodeConfig, PathConfig, SetConfig, SetRef, SlonOptions, SubscriptionConfig,
    TableEntry,
};
use crate::model::conninfo::{conninfo_text, ConnectionParts, ConninfoProblem, ConninfoUse};
use crate::model::ids::{NodeId, SequenceId, SetId, TableId};
use crate::model::names::QualifiedName;
use crate::version::SlonyVersion;

/// A validated Slony-I cluster. Build it with [`crate::validate::validate`] or
/// [`crate::load_config_str`]; operations take it by reference and return the next state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cluster {
    /// Cluster name (catalog schema `_<name>`), a valid slonik identifier.
    pub name: String,
    /// Target Slony-I version.
    pub version: SlonyVersion,
    /// altperl's `$MASTERNODE`.
    pub default_origin: NodeId,
    /// Seconds each generated `wait for event` waits (0 = forever).
    pub wait_timeout: u32,
    /// Cluster-wide slon runtime options (`[slon]`), checked for `version`.
    pub slon: SlonOptions,
    /// How slons run by default (`[daemon]`), checked.
    pub daemon: DaemonConfig,
    /// Nodes by id.
    pub nodes: BTreeMap<NodeId, Node>,
    /// Nodes dropped from the cluster after a failover (`failover --drop-dead`) and kept
    /// for a later failback or rebuild-node, by id; written to the config as `[[node]]`
    /// with `dropped = true`. They are no members: nothing but [`crate::transition::add_node`]
    /// (which takes one back) and the config writers looks here, and no set, subscription
    /// or id of `nodes` refers to them. Another node's `provider` may name one.
    pub dropped_nodes: BTreeMap<NodeId, Node>,
    /// Sets by id.
    pub sets: BTreeMap<SetId, Set>,
    /// Subscriptions by (set, receiver).
    pub subscriptions: BTreeMap<(SetId, NodeId), Subscription>,
    /// Which paths the cluster stores: every pair, or the config's `[[path]]`s.
    pub paths: crate::model::Paths,
}

/// A node of the cluster.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Node {
    /// Node id.
    pub id: NodeId,
    /// Human name (`MasNod`).
    pub name: Option<String>,
    /// Comment for `store node` / `init cluster`.
    pub comment: Option<String>,
    /// Admin connection (script header).
    pub admin: ConnectionParts,
    /// Overrides for the connection slon daemons use (`store path`).
    pub path_overrides: Option<ConnectionParts>,
    /// Default provider for its subscriptions (altperl `parent`).
    pub provider: Option<NodeId>,
    /// Whether it forwards by default.
    pub forward: bool,
    /// Failed over and not yet dropped: left out of every script header.
    pub failed: bool,
    /// Shell command that starts its slon (runbooks); `None` means the default command line.
    pub slon_start: Option<String>,
    /// Shell command that stops its slon (runbooks); `None` means the default.
    pub slon_stop: Option<String>,
    /// Its own slon runtime options (`[node.slon]`), checked; they replace the cluster's.
    pub slon: SlonOptions,
    /// How its slon runs (`[node.daemon]`), checked; its keys replace the cluster's.
    pub daemon: DaemonConfig,
}

impl Node {
    /// The connection slon daemons use to reach this node.
    pub fn path_connection(&self) -> ConnectionParts {
        match &self.path_overrides {
            Some(over) => self.admin.overlaid(over),
            None => self.admin.clone(),
        }
    }

    /// The libpq text of the admin conninfo for `version`.
    pub fn admin_conninfo(&self, version: SlonyVersion) -> Result<String, Vec<ConninfoProblem>> {
        conninfo_text(&self.admin.params(), ConninfoUse::Admin, version)
    }

    /// The libpq text stored by `store path` for `version`.
    pub fn path_conninfo(&self, version: SlonyVersion) -> Result<String, Vec<ConninfoProblem>> {
        conninfo_text(&self.path_connection().params(), ConninfoUse::Path, version)
    }

    /// `node 2 (SlaNod)` for messages.
    pub fn label(&self) -> String {
        match &self.name {
            Some(name) => format!("node {} ({name})", self.id),
            None => format!("node {}", self.id),
        }
    }
}

/// A replication set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Set {
    /// Set id.
    pub id: SetId,
    /// Name used on the command line.
    pub name: String,
    /// Current origin.
    pub origin: NodeId,
    /// `create set` comment.
    pub comment: Option<String>,
    /// Schema for unqualified names given later (e.g. by add-tables).
    pub default_schema: String,
    /// Tables in the order they are added. Shared, so that handing out the next state of an
    /// operation that leaves the tables alone does not copy 100,000 of them; change them
    /// with [`Arc::make_mut`].
    pub tables: Arc<Vec<Table>>,
    /// Sequences in the order they are added (shared like `tables`).
    pub sequences: Arc<Vec<Sequence>>,
}

impl Set {
    /// `set 1 (set1)` for messages.
    pub fn label(&self) -> String {
        format!("set {} ({})", self.id, self.name)
    }
}

/// A replicated table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Table {
    /// Slony table id.
    pub id: TableId,
    /// Exact name.
    pub name: QualifiedName,
    /// Unique not-null index used instead of the primary key.
    pub key: Option<String>,
    /// Comment.
    pub comment: Option<String>,
}

/// A replicated sequence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sequence {
    /// Slony sequence id.
    pub id: SequenceId,
    /// Exact name.
    pub name: QualifiedName,
    /// Comment.
    pub comment: Option<String>,
}

/// A node receiving a set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Subscription {
    /// The set.
    pub set: SetId,
    /// The subscriber.
    pub receiver: NodeId,
    /// The node it receives from (the origin or a forwarding subscriber).
    pub provider: NodeId,
    /// Whether the receiver can act as a provider for this set.
    pub forward: bool,
}

impl Cluster {
    /// Nodes still in the cluster (not failed), by id.
    pub fn active_nodes(&self) -> impl Iterator<Item = &Node> {
        self.nodes.values().filter(|n| !n.failed)
    }

    /// The subscriptions of one set, by receiver id.
    pub fn subscribers(&self, set: SetId) -> impl Iterator<Item = &Subscription> {
        self.subscriptions
            .range((set, NodeId(0))..=(set, NodeId(u32::MAX)))
            .map(|(_, s)| s)
    }

    /// Whether `node` can feed `set` to another node: it is the origin, or a forwarding subscriber.
    pub fn can_provide(&self, set: SetId, node: NodeId) -> bool {
        self.sets.get(&set).is_some_and(|s| s.origin == node)
            || self.subscriptions.get(&(set, node)).is_some_and(|s| s.forward)
    }

    /// Resolves a set word (name, id or `set<N>`) with [`crate::resolve`]'s rule, for the
    /// config writer, which looks up a `[[subscription]]`'s `set` the way validation does.
    pub fn set_arg(&self, arg: &str) -> Option<SetId> {
        crate::resolve::set_word(self, arg)
    }

    /// The config file that describes this cluster exactly: ids, schemas, providers and
    /// forwarding all written out, so it reloads to an equal `Cluster`. Every table and
    /// sequence is written inline with its id, also those a `tables_file` listed: the result
    /// stands alone, wherever it is written.
    pub fn to_config(&self) -> ConfigFile {
        ConfigFile {
            cluster: self.name.clone(),
            slony_version: self.version,
            default_origin: Some(self.default_origin),
            wait_timeout: self.wait_timeout,
            slon: self.slon.clone(),
            daemon: self.daemon.clone(),
            nodes: self
                .config_nodes()
                .map(|(node, dropped)| node_config(node, dropped))
                .collect(),
            sets: self.sets.values().map(set_config).collect(),
            subscriptions: self
                .subscriptions
                .values()
                .map(|s| SubscriptionConfig {
                    set: SetRef::Id(s.set.0),
                    receiver: s.receiver,
                    provider: Some(s.provider),
                    forward: Some(s.forward),
                })
                .collect(),
            paths: match &self.paths {
                crate::model::Paths::Mesh => Vec::new(),
                crate::model::Paths::Explicit(paths) => paths
                    .iter()
                    .map(|(&(server, client), &connretry)| PathConfig {
                        server,
                        client,
                        connretry,
                    })
                    .collect(),
            },
        }
    }

    /// Every `[[node]]` the config holds, members and dropped nodes, by id, each with
    /// whether it is dropped.
    pub(crate) fn config_nodes(&self) -> impl Iterator<Item = (&Node, bool)> {
        let mut all: Vec<(&Node, bool)> = self
            .nodes
            .values()
            .map(|n| (n, false))
            .chain(self.dropped_nodes.values().map(|n| (n, true)))
            .collect();
        all.sort_by_key(|(n, _)| n.id);
        all.into_iter()
    }

    /// What `node`'s slon daemon runs with: the cluster name, the node's path conninfo and
    /// every option set in `[slon]` or the node's `[node.slon]` (the node's value wins),
    /// sorted by name; `None` for a node not in the cluster.
    pub fn slon_settings(&self, node: NodeId) -> Option<crate::slon::SlonSettings> {
        crate::slon::SlonSettings::of(self, node)
    }

    /// The cluster as a new config file: [`Cluster::to_config`]'s values with every table
    /// on one short line ([`crate::config_writer::compact`], all inline).
    pub fn to_toml(&self) -> String {
        crate::config_writer::compact(self, crate::config_writer::Lists::Inline).text
    }
}

/// One node as the canonical config writes it (every value of the checked node), with
/// `dropped = true` for a node of [`Cluster::dropped_nodes`].
pub(crate) fn node_config(node: &Node, dropped: bool) -> NodeConfig {
    let a = &node.admin;
    NodeConfig {
        id: node.id,
        name: node.name.clone(),
        comment: node.comment.clone(),
        service: a.service.clone(),
        host: a.host.clone(),
        port: a.port,
        dbname: a.dbname.clone(),
        user: a.user.clone(),
        password: a.password.clone(),
        passfile: a.passfile.clone(),
        sslmode: a.sslmode.clone(),
        options: a.options.clone(),
        path: node.path_overrides.clone(),
        provider: node.provider,
        forward: node.forward,
        failed: node.failed && !dropped,
        dropped,
        slon_start: node.slon_start.clone(),
        slon_stop: node.slon_stop.clone(),
        slon: node.slon.clone(),
        daemon: node.daemon.clone(),
    }
}

fn set_config(set: &Set) -> SetConfig {
    let entry = |name: &QualifiedName, id: u32, key: Option<String>, comment: Option<String>| TableEntry {
        schema: Some(name.schema.clone()),
        name: name.name.clone(),
        id: Some(id),
        key,
        comment,
    };
    SetConfig {
        id: set.id,
        name: Some(set.name.clone()),
        origin: Some(set.origin),
        comment: set.comment.clone(),
        default_schema: Some(set.default_schema.clone()),
        first_table_id: None,
        first_sequence_id: None,
        tables_file: None,
        sequences_file: None,
        tables: set
            .tables
            .iter()
            .map(|t| entry(&t.name, t.id.0, t.key.clone(), t.comment.clone()))
            .collect(),
        sequences: set
            .sequences
            .iter()
            .map(|s| entry(&s.name, s.id.0, None, s.comment.clone()))
            .collect(),
    }
}
