//! Statements about subscriptions and origins.

use super::lower::{Lower, Lowered, RenderError};
use crate::model::{NodeId, SetId};
use crate::version::SlonyVersion;

/// `subscribe set (id = 1, provider = 1, receiver = 2, forward = yes);`
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct SubscribeSet {
    /// The set.
    pub id: SetId,
    /// Where the data comes from.
    pub provider: NodeId,
    /// The subscriber.
    pub receiver: NodeId,
    /// Whether the receiver keeps a log to forward the set.
    pub forward: bool,
    /// 2.0 and later: skip the initial copy.
    pub omit_copy: Option<bool>,
}

impl SubscribeSet {
    pub(crate) fn lower(&self, v: SlonyVersion) -> Result<Lowered<'_>, RenderError> {
        let l = Lower::new("subscribe set", v);
        if self.provider == self.receiver {
            return Err(l.invalid("provider and receiver must differ"));
        }
        let l = l
            .int("id", self.id.0)
            .int("provider", self.provider.0)
            .int("receiver", self.receiver.0)
            .bool("forward", self.forward);
        Ok(match self.omit_copy {
            Some(omit) => {
                l.since("option `omit copy`", SlonyVersion::V2_0)?;
                l.bool("omit copy", omit)
            }
            None => l,
        }
        .done())
    }
}

/// `unsubscribe set (id = 1, receiver = 2);`
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct UnsubscribeSet {
    /// The set.
    pub id: SetId,
    /// The subscriber leaving.
    pub receiver: NodeId,
}

impl UnsubscribeSet {
    pub(crate) fn lower(&self, v: SlonyVersion) -> Result<Lowered<'_>, RenderError> {
        Ok(Lower::new("unsubscribe set", v)
            .int("id", self.id.0)
            .int("receiver", self.receiver.0)
            .done())
    }
}

/// 2.2 only: `resubscribe node (origin = 1, provider = 2, receiver = 3);`
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ResubscribeNode {
    /// Origin of the sets concerned.
    pub origin: NodeId,
    /// The new provider.
    pub provider: NodeId,
    /// The node re-pointed.
    pub receiver: NodeId,
}

impl ResubscribeNode {
    pub(crate) fn lower(&self, v: SlonyVersion) -> Result<Lowered<'_>, RenderError> {
        let l = Lower::statement("resubscribe node", Self::VERSIONS, v)?;
        Ok(l.int("origin", self.origin.0)
            .int("provider", self.provider.0)
            .int("receiver", self.receiver.0)
            .done())
    }
}

/// `failover (id = 1, backup node = 2);`, or on 2.2 with several failed nodes
/// `failover (node = (id = 1, backup node = 2), node = (id = 3, backup node = 2));`
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Failover {
    /// (failed node, backup node) pairs.
    pub nodes: Vec<(NodeId, NodeId)>,
}

impl Failover {
    pub(crate) fn lower(&self, v: SlonyVersion) -> Result<Lowered<'_>, RenderError> {
        let l = Lower::new("failover", v);
        if let Some((dead, _)) = self.nodes.iter().find(|(d, b)| d == b) {
            return Err(l.invalid(format!("node {dead} cannot be its own backup node")));
        }
        match self.nodes.as_slice() {
            [] => Err(l.invalid("no failed node given")),
            [(dead, backup)] => Ok(l.int("id", dead.0).int("backup node", backup.0).done()),
            many => {
                l.since("failing over several nodes at once", SlonyVersion::V2_2)?;
                let mut l = l;
                for (dead, backup) in many {
                    l = l.value("node", super::node::failover_group(*dead, *backup));
                }
                Ok(l.done())
            }
        }
    }
}

constructors! {
    SubscribeSet(id: SetId, provider: NodeId, receiver: NodeId, forward: bool) { omit_copy: bool => with_omit_copy };
    UnsubscribeSet(id: SetId, receiver: NodeId);
    ResubscribeNode(origin: NodeId, provider: NodeId, receiver: NodeId);
    Failover(nodes: Vec<(NodeId, NodeId)>);
}
