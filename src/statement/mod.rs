//! Typed slonik statements: one struct per statement, one enum over them.
//!
//! A statement is plain data. [`Statement::lower`] turns it into keyword + options for one
//! Slony-I version, refusing statements and options that version lacks (see
//! `slonik-syntax.md` §2), so the renderer can never print text slonik would reject.

mod control;
mod lower;
mod node;
mod set;
mod subscription;

pub use control::{Date, Echo, Exit, NodeOrAll, Sleep, Sync, WaitForEvent};
pub use lower::{Lowered, Opt, RenderError, Value};
pub use node::{
    CloneFinish, ClonePrepare, DropListen, DropNode, DropPath, InitCluster, RestartNode, StoreListen,
    StoreNode, StorePath, SwitchLog, UninstallNode, UpdateFunctions,
};
pub use set::{
    CreateSet, DropSet, DropTrigger, ExecuteOnlyOn, ExecuteScript, LockSet, MergeSet, MoveSet, RepairConfig,
    ScriptSource, SequenceSelector, SetAddSequence, SetAddTable, SetDropSequence, SetDropTable,
    SetMoveSequence, SetMoveTable, StoreTrigger, TableAddKey, TableKey, TableSelector, UnlockSet,
};
pub use subscription::{Failover, ResubscribeNode, SubscribeSet, UnsubscribeSet};

use crate::version::SlonyVersion;

/// Any slonik statement, or a `try` block of them.
#[derive(Debug, Clone, PartialEq, Eq)]
#[allow(missing_docs)] // each variant is documented on its struct
pub enum Statement {
    InitCluster(InitCluster),
    StoreNode(StoreNode),
    DropNode(DropNode),
    UninstallNode(UninstallNode),
    RestartNode(RestartNode),
    StorePath(StorePath),
    DropPath(DropPath),
    StoreListen(StoreListen),
    DropListen(DropListen),
    UpdateFunctions(UpdateFunctions),
    ClonePrepare(ClonePrepare),
    CloneFinish(CloneFinish),
    SwitchLog(SwitchLog),
    CreateSet(CreateSet),
    DropSet(DropSet),
    MergeSet(MergeSet),
    SetAddTable(SetAddTable),
    SetAddSequence(SetAddSequence),
    SetDropTable(SetDropTable),
    SetDropSequence(SetDropSequence),
    SetMoveTable(SetMoveTable),
    SetMoveSequence(SetMoveSequence),
    TableAddKey(TableAddKey),
    StoreTrigger(StoreTrigger),
    DropTrigger(DropTrigger),
    LockSet(LockSet),
    UnlockSet(UnlockSet),
    MoveSet(MoveSet),
    ExecuteScript(ExecuteScript),
    RepairConfig(RepairConfig),
    SubscribeSet(SubscribeSet),
    UnsubscribeSet(UnsubscribeSet),
    ResubscribeNode(ResubscribeNode),
    Failover(Failover),
    WaitForEvent(WaitForEvent),
    Sync(Sync),
    Sleep(Sleep),
    Echo(Echo),
    Date(Date),
    Exit(Exit),
    Try(TryBlock),
}

/// `try { ... } on error { ... } on success { ... }`
///
/// Runs as one transaction per node it touches; slonik commits it when every statement
/// succeeds and otherwise rolls it back and runs `on error`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TryBlock {
    /// The statements tried (at least one; no `try` directly inside).
    pub body: Vec<Statement>,
    /// Run when the body fails.
    pub on_error: Vec<Statement>,
    /// Run when the body succeeds.
    pub on_success: Vec<Statement>,
}

macro_rules! lower_each {
    ($self:ident, $v:ident, $($variant:ident),*) => {
        match $self {
            $(Statement::$variant(s) => s.lower($v),)*
            Statement::Try(_) => unreachable!("try blocks are flattened by Statement::lines"),
        }
    };
}

/// One line of a rendered script body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Line {
    /// A statement at some nesting depth.
    Statement {
        /// Nesting depth (0 = top level).
        depth: usize,
        /// The statement.
        lowered: Lowered,
    },
    /// Block punctuation (`try {`, `} on error {`, `}`).
    Block {
        /// Nesting depth.
        depth: usize,
        /// The text.
        text: &'static str,
    },
}

impl Statement {
    /// The statement for one version, or why that version cannot run it.
    /// A `try` block cannot be lowered alone: use [`Statement::lines`].
    pub fn lower(&self, v: SlonyVersion) -> Result<Lowered, RenderError> {
        if let Statement::Try(_) = self {
            return Err(RenderError::Invalid {
                statement: "try",
                reason: "a try block renders as several lines".into(),
            });
        }
        lower_each!(
            self,
            v,
            InitCluster,
            StoreNode,
            DropNode,
            UninstallNode,
            RestartNode,
            StorePath,
            DropPath,
            StoreListen,
            DropListen,
            UpdateFunctions,
            ClonePrepare,
            CloneFinish,
            SwitchLog,
            CreateSet,
            DropSet,
            MergeSet,
            SetAddTable,
            SetAddSequence,
            SetDropTable,
            SetDropSequence,
            SetMoveTable,
            SetMoveSequence,
            TableAddKey,
            StoreTrigger,
            DropTrigger,
            LockSet,
            UnlockSet,
            MoveSet,
            ExecuteScript,
            RepairConfig,
            SubscribeSet,
            UnsubscribeSet,
            ResubscribeNode,
            Failover,
            WaitForEvent,
            Sync,
            Sleep,
            Echo,
            Date,
            Exit
        )
    }

    /// Appends this statement's lines (a try block gives several) for version `v`.
    pub fn lines(&self, v: SlonyVersion, depth: usize, out: &mut Vec<Line>) -> Result<(), RenderError> {
        let Statement::Try(block) = self else {
            out.push(Line::Statement {
                depth,
                lowered: self.lower(v)?,
            });
            return Ok(());
        };
        let invalid = |reason: &str| RenderError::Invalid {
            statement: "try",
            reason: reason.into(),
        };
        if block.body.is_empty() {
            return Err(invalid("a try block needs at least one statement"));
        }
        if block.body.iter().any(|s| matches!(s, Statement::Try(_))) {
            return Err(invalid("slonik does not allow a try directly inside a try"));
        }
        if block.body.iter().any(|s| matches!(s, Statement::WaitForEvent(_))) {
            return Err(invalid(
                "`wait for event` cannot run inside a try block (a syntax error from 2.0 on); put it before or after the block",
            ));
        }
        out.push(Line::Block { depth, text: "try {" });
        for s in &block.body {
            s.lines(v, depth + 1, out)?;
        }
        for (header, handler) in [
            ("} on error {", &block.on_error),
            ("} on success {", &block.on_success),
        ] {
            if handler.is_empty() {
                continue;
            }
            out.push(Line::Block { depth, text: header });
            for s in handler {
                s.lines(v, depth + 1, out)?;
            }
        }
        out.push(Line::Block { depth, text: "}" });
        Ok(())
    }
}
