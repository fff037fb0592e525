//! Control statements: waiting, syncing, messages, exit codes.

use super::lower::{Lower, Lowered, RenderError, Value};
use crate::literal::Storage;
use crate::model::NodeId;
use crate::version::SlonyVersion;

/// A node id or `all`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NodeOrAll {
    /// One node.
    Node(NodeId),
    /// Every node.
    All,
}

impl From<NodeId> for NodeOrAll {
    fn from(node: NodeId) -> Self {
        NodeOrAll::Node(node)
    }
}

impl NodeOrAll {
    fn value(self) -> Value<'static> {
        match self {
            NodeOrAll::Node(n) => Value::Int(n.0),
            NodeOrAll::All => Value::All,
        }
    }
}

/// `wait for event (origin = 1, confirmed = all, wait on = 1, timeout = 600);`
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct WaitForEvent {
    /// Node whose events are awaited.
    pub origin: NodeOrAll,
    /// Node(s) that must confirm them.
    pub confirmed: NodeOrAll,
    /// Node whose catalog is polled.
    pub wait_on: NodeId,
    /// Seconds before giving up (0 = forever).
    pub timeout: Option<u32>,
}

impl WaitForEvent {
    pub(crate) fn lower(&self, v: SlonyVersion) -> Result<Lowered<'_>, RenderError> {
        Ok(Lower::new("wait for event", v)
            .value("origin", self.origin.value())
            .value("confirmed", self.confirmed.value())
            .int("wait on", self.wait_on.0)
            .opt_int("timeout", self.timeout)
            .done())
    }
}

/// `sync (id = 1);`
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Sync {
    /// The node that generates a SYNC event.
    pub id: NodeId,
}

impl Sync {
    pub(crate) fn lower(&self, v: SlonyVersion) -> Result<Lowered<'_>, RenderError> {
        Ok(Lower::new("sync", v).int("id", self.id.0).done())
    }
}

/// `sleep (seconds = 5);`
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Sleep {
    /// Seconds.
    pub seconds: u32,
}

impl Sleep {
    pub(crate) fn lower(&self, v: SlonyVersion) -> Result<Lowered<'_>, RenderError> {
        Ok(Lower::new("sleep", v).int("seconds", self.seconds).done())
    }
}

/// `echo 'text';`
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Echo {
    /// The message.
    pub text: String,
}

impl Echo {
    /// An echo of `text`.
    pub fn new(text: impl Into<String>) -> Self {
        Echo { text: text.into() }
    }

    pub(crate) fn lower(&self, v: SlonyVersion) -> Result<Lowered<'_>, RenderError> {
        let l = Lower::new("echo", v);
        let text = l.literal("message", self.text.as_str(), Storage::Local)?;
        Ok(l.positional(Value::Literal(text)).done())
    }
}

/// `date;` or `date (format = '%F %T');` (2.1 and later)
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Date {
    /// strftime format.
    pub format: Option<String>,
}

impl Date {
    pub(crate) fn lower(&self, v: SlonyVersion) -> Result<Lowered<'_>, RenderError> {
        let l = Lower::statement("date", Self::VERSIONS, v)?;
        Ok(l.opt_lit("format", self.format.as_deref(), Storage::Local)?
            .done())
    }
}

/// `exit 1;`
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Exit {
    /// Exit code: 0–255 from 2.1 on; 1.2 and 2.0 also take negative values.
    pub code: i32,
}

impl Exit {
    pub(crate) fn lower(&self, v: SlonyVersion) -> Result<Lowered<'_>, RenderError> {
        let l = Lower::new("exit", v);
        if v >= SlonyVersion::V2_1 && !(0..=255).contains(&self.code) {
            return Err(l.invalid(format!(
                "slonik {v} accepts exit codes 0 to 255 only, not {}",
                self.code
            )));
        }
        Ok(l.positional(Value::Signed(self.code)).done())
    }
}

constructors! {
    WaitForEvent(origin: NodeOrAll, confirmed: NodeOrAll, wait_on: NodeId) { timeout: u32 => with_timeout };
    Sync(id: NodeId);
    Sleep(seconds: u32);
    Date() { ; format => with_format };
    Exit(code: i32);
}
