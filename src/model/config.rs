//! The config file as written by the operator (TOML), mirrored by serde structs.
//!
//! These types only describe the file; [`crate::validate`] turns them into a checked
//! [`crate::Cluster`]. Unknown fields are rejected everywhere, so a typo never silently
//! becomes a default.

use std::fmt;

use serde::de::{self, MapAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::model::conninfo::ConnectionParts;
use crate::model::ids::NodeId;
use crate::version::SlonyVersion;

/// A whole `slonik-gen.toml`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
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
    /// The nodes.
    #[serde(default, rename = "node")]
    pub nodes: Vec<NodeConfig>,
    /// The replication sets.
    #[serde(default, rename = "set", skip_serializing_if = "Vec::is_empty")]
    pub sets: Vec<SetConfig>,
    /// Subscriptions: which node receives which set from which provider.
    #[serde(default, rename = "subscription", skip_serializing_if = "Vec::is_empty")]
    pub subscriptions: Vec<SubscriptionConfig>,
}

/// The default for [`ConfigFile::wait_timeout`]: slonik's own default of 600 seconds.
pub fn default_wait_timeout() -> u32 {
    600
}

/// One `[[node]]`.
///
/// The connection parts are repeated here rather than `#[serde(flatten)]`-ed from
/// [`ConnectionParts`]: serde cannot combine `flatten` with `deny_unknown_fields`, and
/// rejecting typos matters more in a file that is edited during an outage.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
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
    /// Shell command that starts this node's slon daemon (`systemctl start slon@1`,
    /// `slon_start 1`, ...), used by runbooks. Default: a plain `slon` command line in the
    /// background with a pid file in the current directory.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub slon_start: Option<String>,
    /// Shell command that stops this node's slon daemon, used by runbooks. Default: kill the
    /// pid in the pid file the default `slon_start` writes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub slon_stop: Option<String>,
}

impl NodeConfig {
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
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
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

/// A table or sequence: either a plain string (`"files"` or `"geekdb.files"`, split at the
/// first dot) or a table `{ name = "...", schema = "...", id = 7, key = "...", comment = "..." }`
/// whose `name` and `schema` are taken exactly as written.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
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
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
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
