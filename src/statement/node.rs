//! Statements about nodes, paths and listens.

use super::lower::{Lower, Lowered, RenderError, Value};
use crate::literal::Storage;
use crate::model::NodeId;
use crate::version::SlonyVersion;

/// `init cluster (id = 1, comment = 'Node 1 - MasNod');`
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct InitCluster {
    /// The first node.
    pub id: NodeId,
    /// Its comment.
    pub comment: Option<String>,
}

impl InitCluster {
    pub(crate) fn lower(&self, v: SlonyVersion) -> Result<Lowered<'_>, RenderError> {
        Ok(Lower::new("init cluster", v)
            .int("id", self.id.0)
            .opt_lit("comment", self.comment.as_deref(), Storage::Stored)?
            .done())
    }
}

/// `store node (id = 2, comment = 'Node 2', event node = 1);`
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct StoreNode {
    /// The new node.
    pub id: NodeId,
    /// Its comment.
    pub comment: Option<String>,
    /// The existing node that generates the event.
    pub event_node: NodeId,
    /// 1.2 only: a log-shipping spool node (`spoolnode = no` is the only value 1.2 accepts).
    pub spoolnode: Option<bool>,
}

impl StoreNode {
    pub(crate) fn lower(&self, v: SlonyVersion) -> Result<Lowered<'_>, RenderError> {
        let l = Lower::new("store node", v);
        if self.id == self.event_node {
            return Err(l.invalid(format!("node {} cannot be its own event node", self.id)));
        }
        if self.spoolnode.is_some() {
            l.only_1_2("option `spoolnode`")?;
        }
        let l = l
            .int("id", self.id.0)
            .opt_lit("comment", self.comment.as_deref(), Storage::Stored)?
            .int("event node", self.event_node.0);
        Ok(match self.spoolnode {
            Some(spool) => l.bool("spoolnode", spool),
            None => l,
        }
        .done())
    }
}

/// `drop node (id = 1, event node = 2);` or, on 2.2, `drop node (id = '1,3', event node = 2);`
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct DropNode {
    /// Nodes to drop (more than one needs 2.2).
    pub ids: Vec<NodeId>,
    /// A surviving node that generates the event.
    pub event_node: NodeId,
}

impl DropNode {
    pub(crate) fn lower(&self, v: SlonyVersion) -> Result<Lowered<'_>, RenderError> {
        let l = Lower::new("drop node", v);
        if self.ids.contains(&self.event_node) {
            return Err(l.invalid(format!(
                "the event node {} cannot be one of the nodes being dropped",
                self.event_node
            )));
        }
        let l = match self.ids.as_slice() {
            [] => return Err(l.invalid("no node to drop")),
            [one] => l.int("id", one.0),
            many => {
                l.since("dropping several nodes at once", SlonyVersion::V2_2)?;
                let list = many.iter().map(|n| n.to_string()).collect::<Vec<_>>().join(",");
                l.lit("id", list, Storage::Local)?
            }
        };
        Ok(l.int("event node", self.event_node.0).done())
    }
}

/// `uninstall node (id = 2);`
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct UninstallNode {
    /// The node whose Slony schema is removed.
    pub id: NodeId,
}

impl UninstallNode {
    pub(crate) fn lower(&self, v: SlonyVersion) -> Result<Lowered<'_>, RenderError> {
        Ok(Lower::new("uninstall node", v).int("id", self.id.0).done())
    }
}

/// `restart node 2;` (the positional form: the documented `restart node (id = 2)` is a
/// syntax error in every version).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct RestartNode {
    /// The node whose slon is told to restart.
    pub id: NodeId,
}

impl RestartNode {
    pub(crate) fn lower(&self, v: SlonyVersion) -> Result<Lowered<'_>, RenderError> {
        Ok(Lower::new("restart node", v)
            .positional(Value::Int(self.id.0))
            .done())
    }
}

/// `store path (server = 1, client = 2, conninfo = 'host=...', connretry = 10);`
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct StorePath {
    /// The node connected to.
    pub server: NodeId,
    /// The node whose slon connects.
    pub client: NodeId,
    /// libpq conninfo the client's slon uses (stored in `sl_path`).
    pub conninfo: String,
    /// Seconds between retries.
    pub connretry: Option<u32>,
}

impl StorePath {
    pub(crate) fn lower(&self, v: SlonyVersion) -> Result<Lowered<'_>, RenderError> {
        store_path(v, self.server, self.client, &self.conninfo, self.connretry)
    }
}

/// The same path to one server from several clients: one `store path` line each, the lines
/// [`StorePath`] gives. init-cluster at 200 nodes is 200 of these instead of 39,800
/// statements, each server's conninfo held once.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct StorePaths {
    /// The node connected to.
    pub server: NodeId,
    /// The nodes whose slons connect, in order.
    pub clients: Vec<NodeId>,
    /// libpq conninfo the clients' slons use (stored in `sl_path`).
    pub conninfo: String,
    /// Seconds between retries.
    pub connretry: Option<u32>,
}

impl StorePaths {
    /// The `store path` line of one client.
    pub(crate) fn lower_path(&self, client: NodeId, v: SlonyVersion) -> Result<Lowered<'_>, RenderError> {
        store_path(v, self.server, client, &self.conninfo, self.connretry)
    }

    /// Writes every client's line into `text` (each indented for `depth`, ending in a newline),
    /// calling `flush` after each: the bytes of [`StorePaths::lower_path`], with everything
    /// but the client number lowered once. Only for a script that passed its check.
    pub(crate) fn write_lines<E>(
        &self,
        v: SlonyVersion,
        depth: usize,
        text: &mut String,
        flush: &mut impl FnMut(&mut String) -> Result<(), E>,
    ) -> Result<(), E>
    where
        E: From<RenderError>,
    {
        let Some(&first) = self.clients.first() else {
            return Ok(());
        };
        // `store path (server = S, client = ` + C + `, conninfo = '…'[, connretry = N]);`
        let mut line = String::new();
        self.lower_path(first, v)?.write_into(&mut line);
        let mut prefix = String::from("store path (server = ");
        super::lower::push_decimal(&mut prefix, self.server.0.into());
        prefix.push_str(", client = ");
        let mut first_number = String::new();
        super::lower::push_decimal(&mut first_number, first.0.into());
        let suffix = line
            .strip_prefix(prefix.as_str())
            .and_then(|rest| rest.strip_prefix(first_number.as_str()))
            .expect("a store path line starts with its server and client")
            .to_string();
        let indent = super::indent(depth);
        for &client in &self.clients {
            text.push_str(indent);
            text.push_str(&prefix);
            super::lower::push_decimal(text, client.0.into());
            text.push_str(&suffix);
            text.push('\n');
            flush(text)?;
        }
        Ok(())
    }
}

fn store_path(
    v: SlonyVersion,
    server: NodeId,
    client: NodeId,
    conninfo: &str,
    connretry: Option<u32>,
) -> Result<Lowered<'_>, RenderError> {
    Ok(Lower::new("store path", v)
        .int("server", server.0)
        .int("client", client.0)
        .lit("conninfo", conninfo, Storage::Stored)?
        .opt_int("connretry", connretry)
        .done())
}

/// `drop path (server = 1, client = 2, event node = 2);`
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct DropPath {
    /// Server side.
    pub server: NodeId,
    /// Client side.
    pub client: NodeId,
    /// Event node (default: the client).
    pub event_node: Option<NodeId>,
}

impl DropPath {
    pub(crate) fn lower(&self, v: SlonyVersion) -> Result<Lowered<'_>, RenderError> {
        Ok(Lower::new("drop path", v)
            .int("server", self.server.0)
            .int("client", self.client.0)
            .opt_int("event node", self.event_node.map(|n| n.0))
            .done())
    }
}

/// `store listen (origin = 1, receiver = 3, provider = 2);`
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct StoreListen {
    /// Event origin.
    pub origin: NodeId,
    /// Listening node.
    pub receiver: NodeId,
    /// Node it listens on (default: the origin).
    pub provider: Option<NodeId>,
}

impl StoreListen {
    pub(crate) fn lower(&self, v: SlonyVersion) -> Result<Lowered<'_>, RenderError> {
        Ok(listen(
            Lower::new("store listen", v),
            self.origin,
            self.receiver,
            self.provider,
        ))
    }
}

/// `drop listen (origin = 1, receiver = 3, provider = 2);`
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct DropListen {
    /// Event origin.
    pub origin: NodeId,
    /// Listening node.
    pub receiver: NodeId,
    /// Node it listened on.
    pub provider: Option<NodeId>,
}

impl DropListen {
    pub(crate) fn lower(&self, v: SlonyVersion) -> Result<Lowered<'_>, RenderError> {
        Ok(listen(
            Lower::new("drop listen", v),
            self.origin,
            self.receiver,
            self.provider,
        ))
    }
}

fn listen(l: Lower, origin: NodeId, receiver: NodeId, provider: Option<NodeId>) -> Lowered {
    l.int("origin", origin.0)
        .int("receiver", receiver.0)
        .opt_int("provider", provider.map(|n| n.0))
        .done()
}

/// `update functions (id = 2);`
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct UpdateFunctions {
    /// The node whose stored procedures are reloaded.
    pub id: NodeId,
}

impl UpdateFunctions {
    pub(crate) fn lower(&self, v: SlonyVersion) -> Result<Lowered<'_>, RenderError> {
        Ok(Lower::new("update functions", v).int("id", self.id.0).done())
    }
}

/// `clone prepare (id = 4, provider = 2, comment = 'clone of node 2');` (2.0 and later)
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ClonePrepare {
    /// The new node id.
    pub id: NodeId,
    /// The node being cloned.
    pub provider: NodeId,
    /// Comment.
    pub comment: Option<String>,
}

impl ClonePrepare {
    pub(crate) fn lower(&self, v: SlonyVersion) -> Result<Lowered<'_>, RenderError> {
        let l = Lower::statement("clone prepare", Self::VERSIONS, v)?;
        Ok(l.int("id", self.id.0)
            .int("provider", self.provider.0)
            .opt_lit("comment", self.comment.as_deref(), Storage::Stored)?
            .done())
    }
}

/// `clone finish (id = 4, provider = 2);` (2.0 and later)
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct CloneFinish {
    /// The new node id.
    pub id: NodeId,
    /// The node that was cloned.
    pub provider: NodeId,
}

impl CloneFinish {
    pub(crate) fn lower(&self, v: SlonyVersion) -> Result<Lowered<'_>, RenderError> {
        let l = Lower::statement("clone finish", Self::VERSIONS, v)?;
        Ok(l.int("id", self.id.0).int("provider", self.provider.0).done())
    }
}

/// `switch log (id = 1);`
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct SwitchLog {
    /// The node whose log table is switched.
    pub id: NodeId,
}

impl SwitchLog {
    pub(crate) fn lower(&self, v: SlonyVersion) -> Result<Lowered<'_>, RenderError> {
        Ok(Lower::new("switch log", v).int("id", self.id.0).done())
    }
}

/// Builds `(id = A, backup node = B)` for the 2.2 multi-node failover.
pub(crate) fn failover_group(dead: NodeId, backup: NodeId) -> Value<'static> {
    Value::Group(vec![
        super::lower::Opt {
            key: "id",
            value: Value::Int(dead.0),
        },
        super::lower::Opt {
            key: "backup node",
            value: Value::Int(backup.0),
        },
    ])
}

constructors! {
    InitCluster(id: NodeId) { ; comment => with_comment };
    StoreNode(id: NodeId, event_node: NodeId) { spoolnode: bool => with_spoolnode; comment => with_comment };
    DropNode(ids: Vec<NodeId>, event_node: NodeId);
    UninstallNode(id: NodeId);
    RestartNode(id: NodeId);
    StorePath(server: NodeId, client: NodeId; conninfo) { connretry: u32 => with_connretry };
    StorePaths(server: NodeId, clients: Vec<NodeId>; conninfo) { connretry: u32 => with_connretry };
    DropPath(server: NodeId, client: NodeId) { event_node: NodeId => with_event_node };
    StoreListen(origin: NodeId, receiver: NodeId) { provider: NodeId => with_provider };
    DropListen(origin: NodeId, receiver: NodeId) { provider: NodeId => with_provider };
    UpdateFunctions(id: NodeId);
    ClonePrepare(id: NodeId, provider: NodeId) { ; comment => with_comment };
    CloneFinish(id: NodeId, provider: NodeId);
    SwitchLog(id: NodeId);
}
