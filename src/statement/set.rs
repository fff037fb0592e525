//! Statements about sets and their tables and sequences.

use std::sync::Arc;

use super::lower::{Lower, Lowered, RenderError, Value};
use crate::literal::{Literal, Storage};
use crate::model::{NodeId, Sequence, SequenceId, SetId, Table, TableId};
use crate::version::SlonyVersion;

/// `create set (id = 1, origin = 1, comment = 'Set 1 (set1)');`
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct CreateSet {
    /// Set id.
    pub id: SetId,
    /// Origin node.
    pub origin: NodeId,
    /// Comment.
    pub comment: Option<String>,
}

impl CreateSet {
    pub(crate) fn lower(&self, v: SlonyVersion) -> Result<Lowered<'_>, RenderError> {
        Ok(Lower::new("create set", v)
            .int("id", self.id.0)
            .int("origin", self.origin.0)
            .opt_lit("comment", self.comment.as_deref(), Storage::Stored)?
            .done())
    }
}

/// `drop set (id = 1, origin = 1);`
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct DropSet {
    /// Set id.
    pub id: SetId,
    /// Its origin.
    pub origin: NodeId,
}

impl DropSet {
    pub(crate) fn lower(&self, v: SlonyVersion) -> Result<Lowered<'_>, RenderError> {
        Ok(Lower::new("drop set", v)
            .int("id", self.id.0)
            .int("origin", self.origin.0)
            .done())
    }
}

/// `merge set (id = 1, add id = 2, origin = 1);`
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct MergeSet {
    /// The set that remains.
    pub id: SetId,
    /// The set merged into it (and dropped).
    pub add_id: SetId,
    /// Origin of both.
    pub origin: NodeId,
}

impl MergeSet {
    pub(crate) fn lower(&self, v: SlonyVersion) -> Result<Lowered<'_>, RenderError> {
        let l = Lower::new("merge set", v);
        if self.id == self.add_id {
            return Err(l.invalid("a set cannot be merged into itself"));
        }
        Ok(l.int("id", self.id.0)
            .int("add id", self.add_id.0)
            .int("origin", self.origin.0)
            .done())
    }
}

/// How `set add table` picks the table(s).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TableSelector {
    /// `fully qualified name = '"schema"."table"'`, with an explicit id.
    Name {
        /// Table id.
        id: TableId,
        /// The quoted SQL name.
        fully_qualified_name: String,
    },
    /// 2.1 and later: `tables = 'regex'` (ids assigned by slonik).
    Pattern(String),
}

/// The key of a table without a primary key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TableKey {
    /// `key = 'index_name'`: a unique, not-null index.
    Index(String),
    /// 1.2 only: `key = serial`, a key column added by Slony.
    Serial,
}

/// `set add table (set id = 1, origin = 1, id = 1, fully qualified name = '"geekdb"."files"');`
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct SetAddTable {
    /// The set.
    pub set_id: SetId,
    /// The set's origin (2.1 and later can look it up).
    pub origin: Option<NodeId>,
    /// Which table(s).
    pub table: TableSelector,
    /// Key other than the primary key.
    pub key: Option<TableKey>,
    /// Comment.
    pub comment: Option<String>,
    /// 2.1 and later: also add the tables' sequences.
    pub add_sequences: Option<bool>,
}

impl SetAddTable {
    pub(crate) fn lower(&self, v: SlonyVersion) -> Result<Lowered<'_>, RenderError> {
        let mut l = Lower::new("set add table", v).int("set id", self.set_id.0);
        match self.origin {
            Some(origin) => l = l.int("origin", origin.0),
            None => l.since("leaving out `origin`", SlonyVersion::V2_1)?,
        }
        l = match &self.table {
            TableSelector::Name {
                id,
                fully_qualified_name,
            } => l.int("id", id.0).lit(
                "fully qualified name",
                fully_qualified_name.as_str(),
                Storage::Stored,
            )?,
            TableSelector::Pattern(regex) => {
                l.since("option `tables`", SlonyVersion::V2_1)?;
                if self.key.is_some() {
                    return Err(l.invalid("`key` cannot be combined with `tables`"));
                }
                let regex = pattern(&l, regex)?;
                l.lit("tables", regex, Storage::Local)?
            }
        };
        l = match &self.key {
            Some(TableKey::Index(name)) => l.lit("key", name.as_str(), Storage::Stored)?,
            Some(TableKey::Serial) => {
                l.only_1_2("`key = serial`")?;
                l.value("key", Value::Word("serial"))
            }
            None => l,
        };
        l = l.opt_lit("comment", self.comment.as_deref(), Storage::Stored)?;
        if let Some(add) = self.add_sequences {
            l.since("option `add sequences`", SlonyVersion::V2_1)?;
            l = l.bool("add sequences", add);
        }
        Ok(l.done())
    }
}

/// How `set add sequence` picks the sequence(s).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SequenceSelector {
    /// By name, with an explicit id.
    Name {
        /// Sequence id.
        id: SequenceId,
        /// The quoted SQL name.
        fully_qualified_name: String,
    },
    /// 2.1 and later: `sequences = 'regex'`.
    Pattern(String),
}

/// `set add sequence (set id = 1, origin = 1, id = 1, fully qualified name = '"geekdb"."files_id_seq"');`
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct SetAddSequence {
    /// The set.
    pub set_id: SetId,
    /// The set's origin.
    pub origin: Option<NodeId>,
    /// Which sequence(s).
    pub sequence: SequenceSelector,
    /// Comment.
    pub comment: Option<String>,
}

impl SetAddSequence {
    pub(crate) fn lower(&self, v: SlonyVersion) -> Result<Lowered<'_>, RenderError> {
        let mut l = Lower::new("set add sequence", v).int("set id", self.set_id.0);
        match self.origin {
            Some(origin) => l = l.int("origin", origin.0),
            None => l.since("leaving out `origin`", SlonyVersion::V2_1)?,
        }
        l = match &self.sequence {
            SequenceSelector::Name {
                id,
                fully_qualified_name,
            } => l.int("id", id.0).lit(
                "fully qualified name",
                fully_qualified_name.as_str(),
                Storage::Stored,
            )?,
            SequenceSelector::Pattern(regex) => {
                l.since("option `sequences`", SlonyVersion::V2_1)?;
                let regex = pattern(&l, regex)?;
                l.lit("sequences", regex, Storage::Local)?
            }
        };
        Ok(l.opt_lit("comment", self.comment.as_deref(), Storage::Stored)?
            .done())
    }
}

/// Every table, then every sequence of a set, added by name with its id: one
/// `set add table` / `set add sequence` line each, the same lines [`SetAddTable`] and
/// [`SetAddSequence`] give. create-set's body, kept as one statement over the model's shared
/// lists, so a set of 100,000 tables costs no statement per table: the lines are made while
/// the script is checked or written (the walk's `Bulk`, src/statement/walk.rs).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct SetAddRelations {
    /// The set.
    pub set_id: SetId,
    /// The set's origin.
    pub origin: NodeId,
    /// The tables, in order (shared with the [`crate::model::Set`]).
    pub tables: Arc<Vec<Table>>,
    /// The sequences, in order.
    pub sequences: Arc<Vec<Sequence>>,
}

impl SetAddRelations {
    /// The `set add table` line of one of the tables.
    pub(crate) fn lower_table<'a>(
        &self,
        table: &'a Table,
        v: SlonyVersion,
    ) -> Result<Lowered<'a>, RenderError> {
        Lower::new("set add table", v)
            .int("set id", self.set_id.0)
            .int("origin", self.origin.0)
            .int("id", table.id.0)
            .quoted_name("fully qualified name", &table.name, Storage::Stored)?
            .opt_lit("key", table.key.as_deref(), Storage::Stored)?
            .opt_lit("comment", table.comment.as_deref(), Storage::Stored)
            .map(Lower::done)
    }

    /// Fails exactly when one of the lines fails, with that line's error. Every line is
    /// valid but for its name, key and comment literals, so those are checked without
    /// lowering the line; a line is lowered only to report its problem.
    pub(crate) fn check(&self, v: SlonyVersion) -> Result<(), RenderError> {
        let fine =
            |text: Option<&str>| text.is_none_or(|text| Literal::new(text, Storage::Stored, v).is_ok());
        for table in self.tables.iter() {
            if Literal::quoted_name(&table.name, Storage::Stored, v).is_err()
                || !fine(table.key.as_deref())
                || !fine(table.comment.as_deref())
            {
                self.lower_table(table, v)?;
            }
        }
        for sequence in self.sequences.iter() {
            if Literal::quoted_name(&sequence.name, Storage::Stored, v).is_err()
                || !fine(sequence.comment.as_deref())
            {
                self.lower_sequence(sequence, v)?;
            }
        }
        Ok(())
    }

    /// Writes every line into `text` (each indented for `depth`, ending in a newline),
    /// calling `flush` after each: the bytes of [`SetAddRelations::lower_table`] and
    /// [`SetAddRelations::lower_sequence`], without lowering the table lines that have no key
    /// or comment (nearly all of a large set). Only for a script that passed its check.
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
        let mut prefix = String::from("set add table (set id = ");
        super::lower::push_decimal(&mut prefix, self.set_id.0.into());
        prefix.push_str(", origin = ");
        super::lower::push_decimal(&mut prefix, self.origin.0.into());
        prefix.push_str(", id = ");
        let indent = super::indent(depth);
        for table in self.tables.iter() {
            text.push_str(indent);
            // The name goes through the literal escaper like every other literal, unchecked:
            // the check pass accepted it, and checking it again would repeat that pass's
            // work for every table of the set.
            if table.key.is_none() && table.comment.is_none() {
                text.push_str(&prefix);
                super::lower::push_decimal(text, table.id.0.into());
                text.push_str(", fully qualified name = ");
                Literal::checked_quoted_name(&table.name).write_into(text);
                text.push_str(");");
            } else {
                self.lower_table(table, v)?.write_into(text);
            }
            text.push('\n');
            flush(text)?;
        }
        for sequence in self.sequences.iter() {
            text.push_str(indent);
            self.lower_sequence(sequence, v)?.write_into(text);
            text.push('\n');
            flush(text)?;
        }
        Ok(())
    }

    /// The `set add sequence` line of one of the sequences.
    pub(crate) fn lower_sequence<'a>(
        &self,
        sequence: &'a Sequence,
        v: SlonyVersion,
    ) -> Result<Lowered<'a>, RenderError> {
        Lower::new("set add sequence", v)
            .int("set id", self.set_id.0)
            .int("origin", self.origin.0)
            .int("id", sequence.id.0)
            .quoted_name("fully qualified name", &sequence.name, Storage::Stored)?
            .opt_lit("comment", sequence.comment.as_deref(), Storage::Stored)
            .map(Lower::done)
    }
}

/// slonik pastes `tables =` / `sequences =` unescaped into `E'...'` (slonik-syntax.md §2):
/// backslashes are regex escapes there, but a single quote would end the SQL string.
fn pattern(l: &Lower, regex: &str) -> Result<String, RenderError> {
    if regex.contains('\'') {
        return Err(l.invalid("a `tables`/`sequences` pattern cannot contain a single quote: slonik pastes it unescaped into SQL"));
    }
    Ok(regex.to_string())
}

/// `set drop table (origin = 1, id = 3);` (there is no `set id` option)
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct SetDropTable {
    /// Origin of the table's set.
    pub origin: NodeId,
    /// Table id.
    pub id: TableId,
}

impl SetDropTable {
    pub(crate) fn lower(&self, v: SlonyVersion) -> Result<Lowered<'_>, RenderError> {
        Ok(Lower::new("set drop table", v)
            .int("origin", self.origin.0)
            .int("id", self.id.0)
            .done())
    }
}

/// `set drop sequence (origin = 1, id = 2);`
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct SetDropSequence {
    /// Origin of the sequence's set.
    pub origin: NodeId,
    /// Sequence id.
    pub id: SequenceId,
}

impl SetDropSequence {
    pub(crate) fn lower(&self, v: SlonyVersion) -> Result<Lowered<'_>, RenderError> {
        Ok(Lower::new("set drop sequence", v)
            .int("origin", self.origin.0)
            .int("id", self.id.0)
            .done())
    }
}

/// `set move table (origin = 1, id = 3, new set = 2);`
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct SetMoveTable {
    /// Origin of both sets.
    pub origin: NodeId,
    /// Table id.
    pub id: TableId,
    /// Destination set.
    pub new_set: SetId,
}

impl SetMoveTable {
    pub(crate) fn lower(&self, v: SlonyVersion) -> Result<Lowered<'_>, RenderError> {
        Ok(Lower::new("set move table", v)
            .int("origin", self.origin.0)
            .int("id", self.id.0)
            .int("new set", self.new_set.0)
            .done())
    }
}

/// `set move sequence (origin = 1, id = 2, new set = 2);`
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct SetMoveSequence {
    /// Origin of both sets.
    pub origin: NodeId,
    /// Sequence id.
    pub id: SequenceId,
    /// Destination set.
    pub new_set: SetId,
}

impl SetMoveSequence {
    pub(crate) fn lower(&self, v: SlonyVersion) -> Result<Lowered<'_>, RenderError> {
        Ok(Lower::new("set move sequence", v)
            .int("origin", self.origin.0)
            .int("id", self.id.0)
            .int("new set", self.new_set.0)
            .done())
    }
}

/// 1.2 only: `table add key (node id = 1, fully qualified name = 'public.t');`
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct TableAddKey {
    /// The origin node.
    pub node_id: NodeId,
    /// The quoted SQL name.
    pub fully_qualified_name: String,
}

impl TableAddKey {
    pub(crate) fn lower(&self, v: SlonyVersion) -> Result<Lowered<'_>, RenderError> {
        let l = Lower::statement("table add key", Self::VERSIONS, v)?;
        Ok(l.int("node id", self.node_id.0)
            .lit(
                "fully qualified name",
                self.fully_qualified_name.as_str(),
                Storage::Stored,
            )?
            .done())
    }
}

/// 1.2 only: `store trigger (table id = 3, trigger name = 'audit', event node = 1);`
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct StoreTrigger {
    /// Table id.
    pub table_id: TableId,
    /// Trigger name.
    pub trigger_name: String,
    /// Event node.
    pub event_node: Option<NodeId>,
}

impl StoreTrigger {
    pub(crate) fn lower(&self, v: SlonyVersion) -> Result<Lowered<'_>, RenderError> {
        trigger(
            Lower::statement("store trigger", Self::VERSIONS, v)?,
            self.table_id,
            &self.trigger_name,
            self.event_node,
        )
    }
}

/// 1.2 only: `drop trigger (table id = 3, trigger name = 'audit', event node = 1);`
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct DropTrigger {
    /// Table id.
    pub table_id: TableId,
    /// Trigger name.
    pub trigger_name: String,
    /// Event node.
    pub event_node: Option<NodeId>,
}

impl DropTrigger {
    pub(crate) fn lower(&self, v: SlonyVersion) -> Result<Lowered<'_>, RenderError> {
        trigger(
            Lower::statement("drop trigger", Self::VERSIONS, v)?,
            self.table_id,
            &self.trigger_name,
            self.event_node,
        )
    }
}

fn trigger<'a>(
    l: Lower<'a>,
    table: TableId,
    name: &'a str,
    event_node: Option<NodeId>,
) -> Result<Lowered<'a>, RenderError> {
    Ok(l.int("table id", table.0)
        .lit("trigger name", name, Storage::Stored)?
        .opt_int("event node", event_node.map(|n| n.0))
        .done())
}

/// `lock set (id = 1, origin = 1);`
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct LockSet {
    /// Set id.
    pub id: SetId,
    /// Its origin.
    pub origin: NodeId,
}

impl LockSet {
    pub(crate) fn lower(&self, v: SlonyVersion) -> Result<Lowered<'_>, RenderError> {
        Ok(Lower::new("lock set", v)
            .int("id", self.id.0)
            .int("origin", self.origin.0)
            .done())
    }
}

/// `unlock set (id = 1, origin = 1);`
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct UnlockSet {
    /// Set id.
    pub id: SetId,
    /// Its origin.
    pub origin: NodeId,
}

impl UnlockSet {
    pub(crate) fn lower(&self, v: SlonyVersion) -> Result<Lowered<'_>, RenderError> {
        Ok(Lower::new("unlock set", v)
            .int("id", self.id.0)
            .int("origin", self.origin.0)
            .done())
    }
}

/// `move set (id = 1, old origin = 1, new origin = 2);`
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct MoveSet {
    /// Set id.
    pub id: SetId,
    /// Current origin.
    pub old_origin: NodeId,
    /// New origin.
    pub new_origin: NodeId,
}

impl MoveSet {
    pub(crate) fn lower(&self, v: SlonyVersion) -> Result<Lowered<'_>, RenderError> {
        let l = Lower::new("move set", v);
        if self.old_origin == self.new_origin {
            return Err(l.invalid("old and new origin must differ"));
        }
        Ok(l.int("id", self.id.0)
            .int("old origin", self.old_origin.0)
            .int("new origin", self.new_origin.0)
            .done())
    }
}

/// Where `execute script` takes its SQL from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ScriptSource {
    /// `filename = '/path/to/file.sql'` (read by slonik on the machine it runs on).
    File(String),
    /// 2.2: `sql = '...'` (at most 511 bytes).
    Sql(String),
}

/// Which nodes `execute script` runs on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExecuteOnlyOn {
    /// One node.
    Node(NodeId),
    /// 2.2: a list, which must include the event node.
    Nodes(Vec<NodeId>),
}

/// `execute script (filename = '/tmp/ddl.sql', event node = 1);` on 2.2, or
/// `execute script (set id = 1, filename = '/tmp/ddl.sql', event node = 1);` before it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ExecuteScript {
    /// The set (required before 2.2, rejected by 2.2).
    pub set_id: Option<SetId>,
    /// The SQL.
    pub source: ScriptSource,
    /// The node where it runs first (the set's origin).
    pub event_node: NodeId,
    /// Restrict to some nodes.
    pub execute_only_on: Option<ExecuteOnlyOn>,
}

impl ExecuteScript {
    pub(crate) fn lower(&self, v: SlonyVersion) -> Result<Lowered<'_>, RenderError> {
        let mut l = Lower::new("execute script", v);
        match (self.set_id, v >= SlonyVersion::V2_2) {
            (Some(_), true) => {
                return Err(l.unsupported("option `set id`", "1.2, 2.0 or 2.1 (2.2 removed it)"))
            }
            (None, false) => return Err(l.invalid(format!("slonik {v} requires `set id`"))),
            (Some(set), false) => l = l.int("set id", set.0),
            (None, true) => {}
        }
        l = match &self.source {
            ScriptSource::File(path) => l.lit("filename", path.as_str(), Storage::Local)?,
            ScriptSource::Sql(sql) => {
                l.since("option `sql`", SlonyVersion::V2_2)?;
                l.lit("sql", sql.as_str(), Storage::Local)?
            }
        };
        l = l.int("event node", self.event_node.0);
        l = match &self.execute_only_on {
            None => l,
            Some(ExecuteOnlyOn::Node(node)) => {
                if v < SlonyVersion::V2_2 && *node != self.event_node {
                    return Err(l.invalid("before 2.2, `execute only on` must be the event node"));
                }
                l.int("execute only on", node.0)
            }
            Some(ExecuteOnlyOn::Nodes(nodes)) => {
                l.since("a node list in `execute only on`", SlonyVersion::V2_2)?;
                if !nodes.contains(&self.event_node) {
                    return Err(l.invalid("the `execute only on` list must include the event node"));
                }
                let list = nodes.iter().map(|n| n.to_string()).collect::<Vec<_>>().join(",");
                l.lit("execute only on", list, Storage::Local)?
            }
        };
        Ok(l.done())
    }
}

/// `repair config (set id = 1, event node = 1);`
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct RepairConfig {
    /// The set.
    pub set_id: SetId,
    /// Event node.
    pub event_node: Option<NodeId>,
    /// Only on this node.
    pub execute_only_on: Option<NodeId>,
}

impl RepairConfig {
    pub(crate) fn lower(&self, v: SlonyVersion) -> Result<Lowered<'_>, RenderError> {
        Ok(Lower::new("repair config", v)
            .int("set id", self.set_id.0)
            .opt_int("event node", self.event_node.map(|n| n.0))
            .opt_int("execute only on", self.execute_only_on.map(|n| n.0))
            .done())
    }
}

constructors! {
    CreateSet(id: SetId, origin: NodeId) { ; comment => with_comment };
    DropSet(id: SetId, origin: NodeId);
    MergeSet(id: SetId, add_id: SetId, origin: NodeId);
    SetAddTable(set_id: SetId, table: TableSelector) {
        origin: NodeId => with_origin,
        key: TableKey => with_key,
        add_sequences: bool => with_add_sequences;
        comment => with_comment
    };
    SetAddSequence(set_id: SetId, sequence: SequenceSelector) {
        origin: NodeId => with_origin;
        comment => with_comment
    };
    SetAddRelations(set_id: SetId, origin: NodeId, tables: Arc<Vec<Table>>, sequences: Arc<Vec<Sequence>>);
    SetDropTable(origin: NodeId, id: TableId);
    SetDropSequence(origin: NodeId, id: SequenceId);
    SetMoveTable(origin: NodeId, id: TableId, new_set: SetId);
    SetMoveSequence(origin: NodeId, id: SequenceId, new_set: SetId);
    TableAddKey(node_id: NodeId; fully_qualified_name);
    StoreTrigger(table_id: TableId; trigger_name) { event_node: NodeId => with_event_node };
    DropTrigger(table_id: TableId; trigger_name) { event_node: NodeId => with_event_node };
    LockSet(id: SetId, origin: NodeId);
    UnlockSet(id: SetId, origin: NodeId);
    MoveSet(id: SetId, old_origin: NodeId, new_origin: NodeId);
    ExecuteScript(source: ScriptSource, event_node: NodeId) {
        set_id: SetId => with_set_id,
        execute_only_on: ExecuteOnlyOn => with_execute_only_on
    };
    RepairConfig(set_id: SetId) {
        event_node: NodeId => with_event_node,
        execute_only_on: NodeId => with_execute_only_on
    };
}
