//! What validation reports: one [`Problem`] per thing wrong, all of them in [`Problems`].

use std::fmt;

use crate::literal::LiteralProblem;
use crate::model::conninfo::ConninfoProblem;
use crate::model::ids::{NodeId, SequenceId, SetId, TableId};
use crate::model::names::QualifiedName;

/// One thing wrong with a config. Every variant names the item it is about.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Problem {
    /// A `[[path]]` from a node to itself.
    #[error("[[path]] server = {node}, client = {node}: a path joins two different nodes")]
    PathToItself {
        /// The node.
        node: NodeId,
    },
    /// The same `[[path]]` twice.
    #[error("[[path]] server = {server}, client = {client} is listed twice: list each path once")]
    PathTwice {
        /// The server.
        server: NodeId,
        /// The client.
        client: NodeId,
    },
    /// A subscription whose receiver has no path to its provider.
    #[error("node {receiver} receives set {set} from node {provider}, but no [[path]] has server = {provider}, client = {receiver}: add it (node {receiver}'s slon connects to node {provider} to copy and apply the set)")]
    SubscriptionWithoutPath {
        /// The set.
        set: crate::model::ids::SetId,
        /// The receiver.
        receiver: NodeId,
        /// The provider.
        provider: NodeId,
    },
    /// Explicit paths along which the events of one node cannot reach another.
    #[error("no chain of [[path]] entries leads from node {from} to node {to}, so node {to} never hears node {from}'s events: add a path with server = {from} (or a node that hears it), client = {to}")]
    PathsDoNotReach {
        /// The node whose events do not arrive.
        from: NodeId,
        /// The node that does not hear them.
        to: NodeId,
    },
    /// The config has no `[[node]]`.
    #[error("the config has no [[node]]: add at least one node")]
    NoNodes,
    /// Two nodes share an id.
    #[error("node {node} is defined twice: give each [[node]] its own id")]
    DuplicateNode {
        /// The id.
        node: NodeId,
    },
    /// Two sets share an id.
    #[error("set {set} is defined twice: give each [[set]] its own id")]
    DuplicateSet {
        /// The id.
        set: SetId,
    },
    /// Two sets share a name.
    #[error("two sets are named `{name}`: set names must be unique")]
    DuplicateSetName {
        /// The name.
        name: String,
    },
    /// An id of 0 or above 2^31-1.
    #[error("{item}: {what} id {value} is out of range: slonik ids are 1 to 2147483647")]
    IdOutOfRange {
        /// Where.
        item: String,
        /// `node`, `set`, `table`, `sequence`.
        what: &'static str,
        /// The value given.
        value: u64,
    },
    /// A table id used twice (Slony needs table ids unique across all sets).
    #[error("table id {id} is used by both {first} and {second}: table ids must be unique across all sets")]
    DuplicateTableId {
        /// The id.
        id: TableId,
        /// First user.
        first: String,
        /// Second user.
        second: String,
    },
    /// A sequence id used twice.
    #[error(
        "sequence id {id} is used by both {first} and {second}: sequence ids must be unique across all sets"
    )]
    DuplicateSequenceId {
        /// The id.
        id: SequenceId,
        /// First user.
        first: String,
        /// Second user.
        second: String,
    },
    /// The same relation listed twice.
    #[error("{name} is listed in both {first} and {second}: a table or sequence can belong to one set only")]
    DuplicateRelation {
        /// The relation.
        name: QualifiedName,
        /// First place.
        first: String,
        /// Second place.
        second: String,
    },
    /// A reference to a node that is not defined.
    #[error("{item} refers to node {node}, which is not defined: add a [[node]] with id = {node} or fix the reference")]
    UnknownNode {
        /// Where.
        item: String,
        /// The id.
        node: NodeId,
    },
    /// A reference to a set that is not defined.
    #[error(
        "{item} refers to set `{set}`, which is not defined: use a set id or name from the [[set]] entries"
    )]
    UnknownSet {
        /// Where.
        item: String,
        /// As written.
        set: String,
    },
    /// A reference to a node that was dropped after a failover (`dropped = true`).
    #[error("{item} uses node {node}, which is dropped (`dropped = true`): rebuild it first (runbook failback or rebuild-node), or use another node")]
    DroppedNode {
        /// Where.
        item: String,
        /// The id.
        node: NodeId,
    },
    /// A node marked both failed and dropped.
    #[error("node {node} is marked both `failed` and `dropped`: a dropped node is no longer failed, remove `failed = true`")]
    DroppedAndFailed {
        /// The id.
        node: NodeId,
    },
    /// A reference to a node that failed over.
    #[error("{item} uses node {node}, which is marked failed: drop it or rebuild it first")]
    FailedNode {
        /// Where.
        item: String,
        /// The id.
        node: NodeId,
    },
    /// The origin listed as a subscriber of its own set.
    #[error(
        "{set_label}: node {node} is the set's origin and cannot subscribe to it: remove that subscription"
    )]
    OriginSubscribes {
        /// The set.
        set_label: String,
        /// The node.
        node: NodeId,
    },
    /// Two subscriptions for the same set and receiver.
    #[error("{set_label}: node {receiver} subscribes twice: keep one [[subscription]]")]
    DuplicateSubscription {
        /// The set.
        set_label: String,
        /// The node.
        receiver: NodeId,
    },
    /// A node subscribing from itself.
    #[error("{set_label}: node {receiver} cannot be its own provider")]
    SelfProvider {
        /// The set.
        set_label: String,
        /// The node.
        receiver: NodeId,
    },
    /// A provider that cannot feed the set.
    #[error("{set_label}: node {receiver} receives from node {provider}, which is neither the origin nor a forwarding subscriber of the set: subscribe node {provider} with forward = true, or pick another provider")]
    ProviderCannotForward {
        /// The set.
        set_label: String,
        /// Subscriber.
        receiver: NodeId,
        /// Provider.
        provider: NodeId,
    },
    /// Providers that feed each other in a loop.
    #[error("{set_label}: providers form a cycle ({}): every chain must lead back to the origin", nodes.iter().map(|n| n.to_string()).collect::<Vec<_>>().join(" -> "))]
    ProviderCycle {
        /// The set.
        set_label: String,
        /// The nodes in the loop.
        nodes: Vec<NodeId>,
    },
    /// A cluster name slonik cannot read.
    #[error("cluster name `{name}` {reason}")]
    BadClusterName {
        /// As written.
        name: String,
        /// Why.
        reason: String,
    },
    /// A PostgreSQL name that cannot exist.
    #[error("{item}: name `{name}` {reason}")]
    BadIdentifier {
        /// Where.
        item: String,
        /// The name.
        name: String,
        /// Why.
        reason: &'static str,
    },
    /// A value that cannot be a slonik literal for the target version.
    #[error("{item}: {problem}")]
    Literal {
        /// Where.
        item: String,
        /// Why.
        problem: LiteralProblem,
    },
    /// A connection value that cannot be written where it must go.
    #[error("{item}: {problem}")]
    Conninfo {
        /// Where (`node 2 admin conninfo`, `node 2 path conninfo`).
        item: String,
        /// Why.
        problem: ConninfoProblem,
    },
    /// A shell command (`slon_start`, `slon_stop`) that cannot be run as one line.
    #[error("{item} {reason}")]
    BadCommand {
        /// Where (`node 2 slon_start`).
        item: String,
        /// Why, and what to do.
        reason: &'static str,
    },
    /// Text holding a control character (a line break, an escape, ...): nothing the config
    /// names may hold one, because it would end a line of a script, a comment or a runbook.
    #[error("{item} contains the control character {} at byte {offset}: names, comments, connection values and commands must be one line of printable text; remove it", crate::escape::describe_control(*character))]
    ControlCharacter {
        /// Where (`node 1 name`, `set 1 (set1) comment`, `node 2 path host`).
        item: String,
        /// The first control character.
        character: char,
        /// Its byte offset in the value.
        offset: usize,
    },
    /// A slon runtime option the target version's slon does not have (or that
    /// slonik-gen derives itself, like `conn_info`).
    #[error("{item}: `{option}` is not a slon option of Slony-I {version}: {hint}")]
    UnknownSlonOption {
        /// Where (`[slon]`, `node 2 [node.slon]`).
        item: String,
        /// The name as written.
        option: String,
        /// The target version.
        version: crate::version::SlonyVersion,
        /// What to do instead.
        hint: &'static str,
    },
    /// A slon runtime option with a value of the wrong type or out of slon's range.
    #[error("{item}: slon option `{option}` {reason}")]
    BadSlonValue {
        /// Where (`[slon]`, `node 2 [node.slon]`).
        item: String,
        /// The option.
        option: String,
        /// Why, with what slon accepts.
        reason: String,
    },
    /// A `[daemon]` or `[node.daemon]` key that cannot be used as given.
    #[error("{item} {key}: {reason}")]
    BadDaemon {
        /// Where (`[daemon]`, `node 2 [node.daemon]`).
        item: String,
        /// The key.
        key: &'static str,
        /// Why, and what to do.
        reason: &'static str,
    },
    /// A setting out of the range slonik accepts.
    #[error("wait_timeout = {value} is out of range: use 0 (wait forever) to 2147483647 seconds")]
    BadWaitTimeout {
        /// The value given.
        value: u32,
    },
}

/// All problems found in one config.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problems(pub Vec<Problem>);

impl fmt::Display for Problems {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.0.len();
        write!(f, "{n} problem{}:", if n == 1 { "" } else { "s" })?;
        for p in &self.0 {
            // A message quotes config text, which may hold the control characters it
            // reports: write them as escapes so none reaches the terminal raw.
            write!(f, "\n  - {}", crate::escape::visible(&p.to_string()))?;
        }
        Ok(())
    }
}

impl std::error::Error for Problems {}
#[cfg(test)]
mod tests {
    use crate::model::config::ConfigFile;
    use crate::validate::validate;

    #[test]
    fn problems_never_print_a_control_character() {
        let text = "cluster = \"c\"\n[[node]]\nid = 1\nhost = \"a\"\nname = \"x\\u001b[31m\\ny\"\n";
        let config: ConfigFile = toml::from_str(text).unwrap();
        let shown = validate(&config).unwrap_err().to_string();
        assert!(shown.contains("U+001B (escape)"), "{shown}");
        assert!(!shown.contains('\u{1b}'), "{shown:?}");
        assert_eq!(shown.lines().count(), 2, "{shown:?}");
    }
}
