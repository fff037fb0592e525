//! Why an operation or a runbook is refused, as data a caller can match. Each variant's
//! message is the text the command line prints after `operation: `.

use crate::model::conninfo::ConninfoProblem;
use crate::model::{NodeId, QualifiedName, SequenceId, SetId, TableId};
use crate::runbook::text::and_list;
use crate::version::SlonyVersion;

/// One reason to refuse. A set appears as its id and its name (`set 1 (set1)` in the
/// message); what the operator should do instead is part of each message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Refusal {
    /// The node was failed over and not yet dropped.
    #[error("node {node} is marked failed (after a failover): drop it with drop-node, then rebuild it")]
    NodeFailed {
        /// The node.
        node: NodeId,
    },
    /// `wait ORIGIN --confirmed ORIGIN`: a node confirms its own events at once.
    #[error("node {node} confirms its own events at once: name the node that must catch up with --confirmed, or leave it out to wait for every node")]
    WaitForItself {
        /// The node.
        node: NodeId,
    },
    /// The origin of a set the operation needs is marked failed.
    #[error("the origin of set {set} ({name}), node {origin}, is marked failed: fail over first")]
    OriginFailed {
        /// The set.
        set: SetId,
        /// Its name.
        name: String,
        /// Its failed origin.
        origin: NodeId,
    },
    /// `init-cluster` with a failed default origin.
    #[error("the default origin, node {node}, is marked failed")]
    DefaultOriginFailed {
        /// The default origin.
        node: NodeId,
    },
    /// A node's connection for `store path` cannot be written for the target version.
    #[error("node {node} path conninfo: {}", first_problem(problems))]
    PathConninfo {
        /// The server node.
        node: NodeId,
        /// Every problem; the message names the first.
        problems: Vec<ConninfoProblem>,
    },
    /// A node's admin connection cannot be written for the target version.
    #[error("{node_label} admin connection: {}", first_problem(problems))]
    AdminConninfo {
        /// The node.
        node: NodeId,
        /// `node 1` or `node 1 (MasNod)`, as the message names it.
        node_label: String,
        /// Every problem; the message names the first.
        problems: Vec<ConninfoProblem>,
    },
    /// The maintenance connection of `--prepare recreate` cannot be written.
    #[error("node {node} maintenance connection: {}", first_problem(problems))]
    MaintenanceConninfo {
        /// The node.
        node: NodeId,
        /// Every problem; the message names the first.
        problems: Vec<ConninfoProblem>,
    },
    /// `store-node` with no other node to be the event node.
    #[error("node {node} is the only node: use init-cluster")]
    OnlyNode {
        /// The node.
        node: NodeId,
    },
    /// `store-node` with NODE == EVENT_NODE.
    #[error("node {node} cannot be its own event node: give an existing node of the cluster as EVENT_NODE")]
    OwnEventNode {
        /// The node.
        node: NodeId,
    },
    /// `drop-node` with NODE == EVENT_NODE.
    #[error("node {node} cannot be dropped with itself as event node: give another node of the cluster as EVENT_NODE")]
    DropWithItselfAsEventNode {
        /// The node.
        node: NodeId,
    },
    /// Dropping a node that is still a set origin.
    #[error("node {node} is the origin of set {set} ({name}): move the set away (move-set) or fail over (failover) first")]
    DropOrigin {
        /// The node.
        node: NodeId,
        /// A set it originates.
        set: SetId,
        /// The set's name.
        name: String,
    },
    /// Dropping a node another node receives a set from.
    #[error("node {receiver} receives set {set} from node {node}: resubscribe it to another provider or unsubscribe it first")]
    DropProvider {
        /// The node to drop.
        node: NodeId,
        /// The node it feeds.
        receiver: NodeId,
        /// The set.
        set: SetId,
    },
    /// `create-set` of a set with nothing in it.
    #[error("set {set} ({name}) has no tables or sequences: Slony-I cannot subscribe an empty set; list them in the config")]
    EmptySet {
        /// The set.
        set: SetId,
        /// Its name.
        name: String,
    },
    /// `merge-sets` with TARGET == SOURCE.
    #[error("TARGET and SOURCE are both set {set}: name two different sets")]
    MergeWithItself {
        /// The set.
        set: SetId,
    },
    /// `merge-sets` of a set whose origin is not NODE.
    #[error(
        "the origin of set {set} ({name}) is node {origin}, not node {node}: both sets must have origin NODE"
    )]
    MergeOriginMismatch {
        /// The set.
        set: SetId,
        /// Its name.
        name: String,
        /// Its origin.
        origin: NodeId,
        /// NODE as given.
        node: NodeId,
    },
    /// `merge-sets` of sets with different subscribers.
    #[error("set {target} is subscribed by nodes {target_receivers:?} but set {source_set} by nodes {source_receivers:?}: Slony-I merges only sets with the same subscribers")]
    MergeSubscribersDiffer {
        /// TARGET.
        target: SetId,
        /// Its receivers.
        target_receivers: Vec<NodeId>,
        /// SOURCE (not `source`, which thiserror takes for an error's cause).
        source_set: SetId,
        /// Its receivers.
        source_receivers: Vec<NodeId>,
    },
    /// `execute-script --only-on` that the version's `execute only on` cannot say.
    #[error("on Slony-I {version} `execute only on` takes {}, or leave --only-on out to run it everywhere", if *version < SlonyVersion::V2_2 { format!("only the event node: pass --only-on {event_node} alone") } else { format!("nodes that include the event node (one node alone is its own event node when --node is left out): add --only-on {event_node}, pass one node alone") })]
    OnlyOnNeedsEventNode {
        /// The target version.
        version: SlonyVersion,
        /// The event node.
        event_node: NodeId,
    },
    /// `move-table`/`move-sequence` into the set it is in.
    #[error("SET and NEW_SET are both set {set}: name the set it should move to")]
    MoveWithinSet {
        /// The set.
        set: SetId,
    },
    /// `move-table`/`move-sequence` between sets of different origins.
    #[error("set {set} originates on node {origin} but set {new_set} on node {new_origin}: Slony-I moves tables and sequences only between sets of one origin (move-set one of them first)")]
    MoveOriginMismatch {
        /// The set it is in.
        set: SetId,
        /// Its origin.
        origin: NodeId,
        /// The set it should move to.
        new_set: SetId,
        /// That set's origin.
        new_origin: NodeId,
    },
    /// `move-table`/`move-sequence` between sets with different subscribers.
    #[error("set {set} is subscribed by nodes {receivers:?} but set {new_set} by nodes {new_receivers:?}: Slony-I moves tables and sequences only between sets with the same subscribers")]
    MoveSubscribersDiffer {
        /// The set it is in.
        set: SetId,
        /// Its receivers.
        receivers: Vec<NodeId>,
        /// The set it should move to.
        new_set: SetId,
        /// That set's receivers.
        new_receivers: Vec<NodeId>,
    },
    /// `execute script` before 2.2 on a node that is not the set's origin.
    #[error("on Slony-I {version} `execute script` runs only on the origin of the set, and set {set} ({name}) originates on node {origin}, not node {node}: leave out --node (the origin is the default) or pass --node {origin}")]
    ExecuteScriptOffOrigin {
        /// The target version.
        version: SlonyVersion,
        /// The set.
        set: SetId,
        /// Its name.
        name: String,
        /// Its origin.
        origin: NodeId,
        /// The event node asked for.
        node: NodeId,
    },
    /// `--sql` before 2.2.
    #[error("--sql needs Slony-I 2.2 (the target is {version}): write the SQL to a file and pass its path")]
    InlineSqlNeedsV2_2 {
        /// The target version.
        version: SlonyVersion,
    },
    /// `execute-script FILE` with a FILE that does not exist where the script is made.
    #[error("SQL file {file} does not exist here; slonik reads it from its working directory when the script runs, so give a path that exists (an absolute one is safest)")]
    SqlFileMissing {
        /// The path as given.
        file: String,
    },
    /// A table or sequence id argument that is not a positive number.
    #[error("`{arg}` is not a {what} id: give the number Slony knows it by")]
    NotAMemberId {
        /// `table` or `sequence`.
        what: &'static str,
        /// As given.
        arg: String,
    },
    /// `drop-table` of a table the set does not have.
    #[error("set {set} ({name}) has no table with id {table} (its tables: {known})")]
    NoSuchTable {
        /// The set.
        set: SetId,
        /// Its name.
        name: String,
        /// The table id asked for.
        table: TableId,
        /// The set's tables, `1 = public.t, ...` or `none`.
        known: String,
    },
    /// `drop-sequence` of a sequence the set does not have.
    #[error("set {set} ({name}) has no sequence with id {sequence} (its sequences: {known})")]
    NoSuchSequence {
        /// The set.
        set: SetId,
        /// Its name.
        name: String,
        /// The sequence id asked for.
        sequence: SequenceId,
        /// The set's sequences, `1 = public.s, ...` or `none`.
        known: String,
    },
    /// Subscribing a set's origin to it.
    #[error("node {node} is the origin of set {set} ({name}): an origin cannot subscribe to its own set")]
    OriginSubscribes {
        /// The node.
        node: NodeId,
        /// The set.
        set: SetId,
        /// Its name.
        name: String,
    },
    /// A node configured as its own provider.
    #[error("node {node} is configured as its own provider")]
    OwnProvider {
        /// The node.
        node: NodeId,
    },
    /// The provider of a subscription is missing or failed.
    #[error("the provider of node {receiver}, node {provider}, is not an active node")]
    ProviderInactive {
        /// The subscriber.
        receiver: NodeId,
        /// Its provider.
        provider: NodeId,
    },
    /// The provider of a subscription cannot feed the set.
    #[error("node {provider} neither is the origin of set {set} ({name}) nor subscribes to it with forward = true: subscribe node {provider} first, or change node {receiver}'s provider")]
    ProviderCannotForward {
        /// The provider.
        provider: NodeId,
        /// The subscriber.
        receiver: NodeId,
        /// The set.
        set: SetId,
        /// Its name.
        name: String,
    },
    /// Unsubscribing a set's origin.
    #[error("node {node} is the origin of set {set} ({name}), not a subscriber")]
    UnsubscribeOrigin {
        /// The node.
        node: NodeId,
        /// The set.
        set: SetId,
        /// Its name.
        name: String,
    },
    /// Unsubscribing a node other nodes receive the set through.
    #[error("node {dependent} receives set {set} ({name}) through node {node}: unsubscribe it or give it another provider first")]
    FeedsOthers {
        /// The node to unsubscribe.
        node: NodeId,
        /// A node it feeds.
        dependent: NodeId,
        /// The set.
        set: SetId,
        /// Its name.
        name: String,
    },
    /// `move-set` with FROM == TO.
    #[error("FROM and TO are both node {node}: name the current origin and a subscriber")]
    MoveToItself {
        /// The node.
        node: NodeId,
    },
    /// `move-set` whose FROM is not the origin.
    #[error(
        "the origin of set {set} ({name}) is node {origin}, not node {node}: FROM must be the current origin"
    )]
    NotTheOrigin {
        /// The set.
        set: SetId,
        /// Its name.
        name: String,
        /// FROM.
        node: NodeId,
        /// The actual origin.
        origin: NodeId,
    },
    /// `move-set` to a node that does not subscribe to the set.
    #[error("node {node} does not subscribe to set {set} ({name}): subscribe it first (subscribe-set)")]
    NotSubscribed {
        /// The set.
        set: SetId,
        /// Its name.
        name: String,
        /// The node.
        node: NodeId,
    },
    /// `failover` with no pair.
    #[error("give at least one DEAD BACKUP pair")]
    NoFailoverPairs,
    /// Several failover pairs before 2.2.
    #[error("failing over several nodes in one command needs Slony-I 2.2 (target is {version}): run one failover per node")]
    MultiNodeFailoverNeedsV2_2 {
        /// The target version.
        version: SlonyVersion,
    },
    /// A failover pair with DEAD == BACKUP.
    #[error("node {node} cannot be its own backup node")]
    OwnBackup {
        /// The node.
        node: NodeId,
    },
    /// A backup node that is also listed as dead.
    #[error("backup node {backup} is itself listed as failed")]
    BackupListedFailed {
        /// The backup.
        backup: NodeId,
    },
    /// A dead node listed in two failover pairs.
    #[error("node {node} is listed twice")]
    DeadListedTwice {
        /// The node.
        node: NodeId,
    },
    /// A failover backup that does not subscribe to a set of the dead origin.
    #[error("backup node {backup} does not subscribe to set {set} ({name}), whose origin is node {dead}: pick a subscriber of the set as backup")]
    BackupNotSubscribed {
        /// The backup.
        backup: NodeId,
        /// The set.
        set: SetId,
        /// Its name.
        name: String,
        /// Its dead origin.
        dead: NodeId,
    },
    /// A failover of every live node.
    #[error("no node would survive")]
    NoSurvivor,
    /// After the failover the backup would receive a set from nobody.
    #[error("backup node {receiver} receives set {set} ({name}) from failed node {failed}, and nothing would feed it afterwards: resubscribe node {receiver} to another provider first, or pick another backup")]
    WouldOrphanBackup {
        /// The backup.
        receiver: NodeId,
        /// The set.
        set: SetId,
        /// Its name.
        name: String,
        /// The failed provider.
        failed: NodeId,
    },
    /// After the failover a subscriber and its new provider would feed each other.
    #[error("node {receiver} receives set {set} ({name}) from failed node {failed}; Slony-I would point it at backup node {provider}, which itself receives set {set} ({name}) through node {receiver}: pick a backup that does not receive set {set} ({name}) through node {failed}, or resubscribe node {provider} to another provider first")]
    WouldOrphanInLoop {
        /// The subscriber.
        receiver: NodeId,
        /// The set.
        set: SetId,
        /// Its name.
        name: String,
        /// The failed provider.
        failed: NodeId,
        /// The backup it would be pointed at.
        provider: NodeId,
    },
    /// After the failover a subscriber would be pointed at a backup that does not forward.
    #[error("node {receiver} receives set {set} ({name}) from failed node {failed}; Slony-I would point it at backup node {provider}, which does not forward set {set} ({name}): pick a backup that subscribes to set {set} ({name}) with forward = true, or resubscribe node {receiver} to another provider first")]
    WouldOrphanWithoutForwarding {
        /// The subscriber.
        receiver: NodeId,
        /// The set.
        set: SetId,
        /// Its name.
        name: String,
        /// The failed provider.
        failed: NodeId,
        /// The backup it would be pointed at.
        provider: NodeId,
    },
    /// The failover runbook with no `--dead`.
    #[error("name the dead node(s) with --dead NODE")]
    NoDeadNodes,
    /// The failover runbook with a node named twice in `--dead`.
    #[error("node {node} is named twice with --dead")]
    DeadNamedTwice {
        /// The node.
        node: NodeId,
    },
    /// On 2.2 the backup must be in `sl_failover_targets` for every set of the dead origin.
    #[error("Slony-I 2.2 fails over only to a node that receives every set of the failed origin directly from it with forward = yes (sl_failover_targets), but node {backup} receives set {set} ({name}) {}: pick such a subscriber as --backup", provider.map_or_else(|| "with forward = no".to_string(), |p| format!("from node {p}")))]
    NotAFailoverTarget {
        /// The backup.
        backup: NodeId,
        /// The set.
        set: SetId,
        /// Its name.
        name: String,
        /// The provider it receives the set from when that is not the dead origin; `None`
        /// when it does receive it from the origin, but without forwarding.
        provider: Option<NodeId>,
    },
    /// The switchover runbook with both `--set` and `--from`.
    #[error("give either --set (one or more sets) or --from (every set of that node), not both")]
    SetsAndFrom,
    /// The switchover runbook with neither `--set` nor `--from`.
    #[error("say which sets move: --set SET (repeatable) or --from NODE for every set whose origin is NODE")]
    NoSetsNamed,
    /// The switchover runbook `--from` a node that originates nothing.
    #[error("node {node} is the origin of no set: nothing to switch over")]
    OriginOfNoSet {
        /// The node.
        node: NodeId,
    },
    /// A switchover to the set's current origin.
    #[error("node {node} is already the origin of set {set} ({name})")]
    AlreadyOrigin {
        /// The node.
        node: NodeId,
        /// The set.
        set: SetId,
        /// Its name.
        name: String,
    },
    /// A switchover away from a failed origin.
    #[error("the origin of set {set} ({name}), node {origin}, is marked failed: a switchover needs a live origin; use the failover runbook")]
    SwitchoverFromFailedOrigin {
        /// The set.
        set: SetId,
        /// Its name.
        name: String,
        /// The failed origin.
        origin: NodeId,
    },
    /// A switchover to a node that does not subscribe to the set.
    #[error("node {node} does not subscribe to set {set} ({name}): subscribe it first (subscribe-set), then switch over")]
    SwitchoverTargetNotSubscribed {
        /// The node.
        node: NodeId,
        /// The set.
        set: SetId,
        /// Its name.
        name: String,
    },
    /// A switchover to a cascaded subscriber.
    #[error("node {node} receives set {set} ({name}) from node {provider}, not directly from the origin node {origin}: Slony-I moves a set only to a direct subscriber; give node {node} the origin as provider first, or switch over to a direct subscriber")]
    NotADirectSubscriber {
        /// The node.
        node: NodeId,
        /// The set.
        set: SetId,
        /// Its name.
        name: String,
        /// Its provider.
        provider: NodeId,
        /// The set's origin.
        origin: NodeId,
    },
    /// Rebuilding a node that is still an origin in the config.
    #[error("node {node} is the origin of set {set} ({name}) in this config: if node {node} died, run the failover runbook first and rebuild with the config it writes (--write-config), where node {node} is marked failed; if it is healthy, move its sets away first (switchover)")]
    RebuildOrigin {
        /// The node.
        node: NodeId,
        /// A set it originates.
        set: SetId,
        /// The set's name.
        name: String,
    },
    /// Rebuilding a node when the config has no set.
    #[error("the config has no set for the node to subscribe to")]
    NoSetToSubscribe,
    /// A failback of every set when the sets have several origins.
    #[error(
        "the sets have different origins (nodes {}): say which sets node {node} gets back with --set",
        and_list(origins)
    )]
    SetsHaveDifferentOrigins {
        /// The node failing back.
        node: NodeId,
        /// The origins.
        origins: Vec<NodeId>,
    },
    /// Rebuilding the only live node.
    #[error("node {node} is the only live node: there is nothing to rebuild it from")]
    NothingToRebuildFrom {
        /// The node.
        node: NodeId,
    },
    /// `--prepare recreate` for a node with no `dbname`.
    #[error("--prepare recreate drops and creates node {node}'s database, so its dbname must be in the config; add dbname to node {node}, or use --prepare drop-schema")]
    RecreateNeedsDbname {
        /// The node.
        node: NodeId,
    },
    /// add-node with an id the cluster already has.
    #[error("node {node} is already in the cluster: give the new node a free id (rebuild-node rebuilds an existing node)")]
    NodeIdTaken {
        /// The id.
        node: NodeId,
    },
    /// add-node with the id of a node kept in the config as dropped.
    #[error("node {node} was dropped after a failover and is kept in the config with its settings: bring it back with `runbook rebuild-node --node {node}` (or failback), or give the new node another id")]
    NodeIdDropped {
        /// The id.
        node: NodeId,
    },
    /// add-node with a node description that a config could not hold.
    #[error("the new node {node}: {problems}")]
    NewNodeInvalid {
        /// The id.
        node: NodeId,
        /// What validation found, as it prints it.
        problems: String,
    },
    /// add-node with a `--conninfo` that is not libpq's syntax.
    #[error("the new node {node}'s {what}: {problem}; write it as psql takes it (`host=db3 port=5432 dbname=geekdb user=slony`)")]
    NewNodeConninfo {
        /// The id.
        node: NodeId,
        /// `--conninfo` or `--path-conninfo`.
        what: &'static str,
        /// What is wrong.
        problem: String,
    },
    /// retire-node of a set origin without a node to take its sets.
    #[error("node {node} is the origin of set {set} ({name}): say which subscriber takes its sets over with --to NODE (a direct subscriber of it with forward = true)")]
    RetireOriginWithoutTarget {
        /// The node.
        node: NodeId,
        /// A set it is the origin of.
        set: SetId,
        /// Its name.
        name: String,
    },
    /// retire-node --to naming the node being retired.
    #[error("--to names node {node}, the node being retired: name the subscriber that takes its sets over")]
    RetireToItself {
        /// The node.
        node: NodeId,
    },
    /// retire-node of a node that is neither an origin nor needs --to, with --to given.
    #[error("node {node} is the origin of no set, so nothing moves to node {to}: leave out --to")]
    RetireToNotNeeded {
        /// The node.
        node: NodeId,
        /// The node given with --to.
        to: NodeId,
    },
    /// retire-node or upgrade-postgres that would leave the cluster one node or none.
    #[error("node {node} is one of the cluster's last two live nodes: retiring it leaves nothing to replicate to; use uninstall-nodes to end replication")]
    RetireLastNodes {
        /// The node.
        node: NodeId,
    },
    /// A path from a node to itself.
    #[error("SERVER and CLIENT are both node {node}: a path joins two different nodes")]
    PathToItself {
        /// The node.
        node: NodeId,
    },
    /// drop-path of a path the cluster does not have.
    #[error(
        "the cluster has no path from node {client} to node {server} (server {server}, client {client})"
    )]
    NoSuchPath {
        /// The server.
        server: NodeId,
        /// The client.
        client: NodeId,
    },
    /// drop-path of a path a subscription uses.
    #[error("node {client} receives set {set} from node {server} over this path: resubscribe node {client} to another provider first")]
    PathFeedsSubscription {
        /// The server.
        server: NodeId,
        /// The client.
        client: NodeId,
        /// The set.
        set: SetId,
    },
    /// drop-path that would cut the event flow between two nodes.
    #[error("without the path from node {client} to node {server}, no chain of paths carries node {from}'s events to node {to}: store another path first (store-path)")]
    PathGap {
        /// The server.
        server: NodeId,
        /// The client.
        client: NodeId,
        /// The node whose events would not arrive.
        from: NodeId,
        /// The node that would not hear them.
        to: NodeId,
    },
    /// drop-node of a node the explicit paths route other nodes' events through.
    #[error("without node {node}, no chain of [[path]]s carries node {from}'s events to node {to}: store a path for them first (store-path {from} {to}), or use the retire-node runbook, which does")]
    DropCutsPaths {
        /// The node dropped.
        node: NodeId,
        /// The node whose events would not arrive.
        from: NodeId,
        /// The node that would not hear them.
        to: NodeId,
    },
    /// clone-node on Slony-I 1.2.
    #[error("clone prepare and clone finish need Slony-I 2.0 or later (the target is {version}): use the add-node runbook")]
    CloneNeeds20 {
        /// The target version.
        version: SlonyVersion,
    },
    /// clone-node of a set origin.
    #[error("node {node} is the origin of set {set} ({name}): Slony-I clones a subscriber; clone one of its subscribers, or use add-node")]
    CloneOrigin {
        /// The node.
        node: NodeId,
        /// A set it is the origin of.
        set: SetId,
        /// Its name.
        name: String,
    },
    /// clone-node of a node that subscribes to nothing.
    #[error("node {node} subscribes to no set: a clone of it would receive nothing; clone a subscriber, or use add-node")]
    CloneNothingSubscribed {
        /// The node.
        node: NodeId,
    },
    /// upgrade-slony to a version older than the cluster's.
    #[error("the cluster runs Slony-I {from}; --to {to} is older (going back to an older version is a reinstall: uninstall-nodes, then build the cluster again)")]
    UpgradeNotNewer {
        /// The cluster's version.
        from: SlonyVersion,
        /// The version asked for.
        to: SlonyVersion,
    },
    /// upgrade-postgres of a node that is not in the cluster as a live node.
    #[error("node {node} is marked failed: there is nothing to copy from it; rebuild it (rebuild-node) or fail over")]
    UpgradeFailedNode {
        /// The node.
        node: NodeId,
    },
    /// The add-tables runbook with nothing to add.
    #[error("name at least one table to add (schema.table, or table in the set's default schema)")]
    NothingToAdd,
    /// A table or sequence name that is not a valid identifier.
    #[error("{what} `{arg}`: name `{part}` {reason}")]
    BadRelationName {
        /// `table` or `sequence`.
        what: &'static str,
        /// As given.
        arg: String,
        /// The schema or name part that is wrong.
        part: String,
        /// Why.
        reason: &'static str,
    },
    /// A table or sequence that some set already replicates.
    #[error("{relation} is already replicated in set {set} ({name})")]
    AlreadyReplicated {
        /// The table or sequence.
        relation: QualifiedName,
        /// The set that has it.
        set: SetId,
        /// Its name.
        name: String,
    },
    /// A plan (built through its public fields) whose recovery action the shell
    /// renderer cannot run: only a slonik script can be.
    #[error("a recovery action must be a slonik script, not {action}")]
    RecoveryNotSlonik {
        /// The action, as Rust prints it (`Debug`).
        action: String,
    },
    /// A table or sequence named twice.
    #[error("{relation} is named twice")]
    NamedTwice {
        /// The table or sequence.
        relation: QualifiedName,
    },
    /// `resubscribe NODE --provider P` where NODE subscribes to no set (or to none of
    /// those named).
    #[error("node {receiver} subscribes to no set: there is nothing to re-point; subscribe it first (subscribe-set)")]
    ResubscribeNoSubscription {
        /// The node.
        receiver: NodeId,
    },
    /// `resubscribe` where every set named already comes from the provider.
    #[error("node {receiver} already receives {sets} from node {provider}: nothing to re-point (to change only where it should receive from when every node is up, edit its `[[node]] provider` in the config)")]
    ResubscribeNothingToDo {
        /// The node.
        receiver: NodeId,
        /// The new provider.
        provider: NodeId,
        /// The sets, as the message names them.
        sets: String,
    },
    /// `resubscribe` would feed a set in a loop: the provider receives it through the node.
    #[error("node {provider} receives set {set} ({name}) through node {receiver}: feeding node {receiver} from it would make a loop; re-point node {provider} first, or pick another provider")]
    ResubscribeLoop {
        /// The node re-pointed.
        receiver: NodeId,
        /// The provider asked for.
        provider: NodeId,
        /// The set.
        set: SetId,
        /// Its name.
        name: String,
    },
    /// 2.2's `resubscribe node` re-points every set of one origin at once, and `--set`
    /// named only some of them.
    #[error("Slony-I 2.2's resubscribe node re-points every set of origin node {origin} that node {receiver} receives, and --set leaves out {missing}: name those too, or leave --set out")]
    ResubscribePartOfOrigin {
        /// The node re-pointed.
        receiver: NodeId,
        /// The origin whose sets go together.
        origin: NodeId,
        /// The sets left out, as the message names them.
        missing: String,
    },
    /// `subscribe-set --omit-copy` before 2.0.
    #[error("omit copy needs Slony-I 2.0 or later (target is {version}): subscribe without --omit-copy (the initial copy runs)")]
    OmitCopyNeedsV2_0 {
        /// The target version.
        version: SlonyVersion,
    },
    /// `uninstall-node` on a node that is still in the cluster.
    #[error("node {node} is still in the cluster: removing its Slony-I schema would leave every other node waiting for it; drop it first (drop-node), or remove Slony-I from every node (uninstall-nodes). uninstall-node is for a node marked failed (`failed = true`, as a failover leaves it)")]
    UninstallActiveNode {
        /// The node.
        node: NodeId,
    },
    /// `drop-node` with no node.
    #[error("no node to drop: name at least one")]
    NoNodeToDrop,
    /// `drop-node` naming a node twice.
    #[error("node {node} is named twice: name each node to drop once")]
    DropListedTwice {
        /// The node.
        node: NodeId,
    },
    /// `drop-node A B --event-node A`: the event node is among the nodes dropped.
    #[error("node {node} is both dropped and the event node: give a surviving node with --event-node")]
    DropEventNodeListed {
        /// The node.
        node: NodeId,
    },
    /// `repair-config --only-on N` where N has no copy of the set: slonik would do nothing.
    #[error("node {node} neither is the origin of set {set} ({name}) nor subscribes to it: repair config would do nothing there; give the origin or a subscriber with --only-on")]
    RepairConfigNoCopy {
        /// The node.
        node: NodeId,
        /// The set.
        set: SetId,
        /// Its name.
        name: String,
    },
}

/// The first of a connection's problems, which the message names.
fn first_problem(problems: &[ConninfoProblem]) -> String {
    problems.first().map(ToString::to_string).unwrap_or_default()
}
