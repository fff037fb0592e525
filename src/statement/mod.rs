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
    ScriptSource, SequenceSelector, SetAddRelations, SetAddSequence, SetAddTable, SetDropSequence,
    SetDropTable, SetMoveSequence, SetMoveTable, StoreTrigger, TableAddKey, TableKey, TableSelector,
    UnlockSet,
};
pub use subscription::{Failover, ResubscribeNode, SubscribeSet, UnsubscribeSet};

use crate::version::SlonyVersion;

/// Declares [`Statement`] with one variant per statement struct, the `From` conversions,
/// and the per-version dispatch, from a single list so they cannot drift apart.
macro_rules! statements {
    ($($variant:ident),* $(,)?) => {
        /// Any slonik statement, or a `try` block of them.
        #[derive(Debug, Clone, PartialEq, Eq)]
        #[allow(missing_docs)] // each variant is documented on its struct
        pub enum Statement {
            $($variant($variant),)*
            Try(TryBlock),
            SetAddRelations(SetAddRelations),
        }

        $(impl From<$variant> for Statement {
            fn from(s: $variant) -> Statement {
                Statement::$variant(s)
            }
        })*

        impl From<TryBlock> for Statement {
            fn from(block: TryBlock) -> Statement {
                Statement::Try(block)
            }
        }

        impl From<SetAddRelations> for Statement {
            fn from(adds: SetAddRelations) -> Statement {
                Statement::SetAddRelations(adds)
            }
        }

        impl Statement {
            /// The statement for one version, or why that version cannot run it.
            /// A `try` block or [`SetAddRelations`] cannot be lowered alone: use
            /// [`Statement::lines`].
            pub fn lower(&self, v: SlonyVersion) -> Result<Lowered<'_>, RenderError> {
                match self {
                    $(Statement::$variant(s) => s.lower(v),)*
                    Statement::Try(_) => Err(RenderError::Invalid {
                        statement: "try",
                        reason: "a try block renders as several lines".into(),
                    }),
                    Statement::SetAddRelations(_) => Err(RenderError::Invalid {
                        statement: "set add table",
                        reason: "adding a set's relations renders as one line per table and sequence".into(),
                    }),
                }
            }
        }
    };
}

statements!(
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
    Exit,
);

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

/// One line of a rendered script body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Line<'a> {
    /// A statement at some nesting depth.
    Statement {
        /// Nesting depth (0 = top level).
        depth: usize,
        /// The statement.
        lowered: Lowered<'a>,
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
    /// Appends this statement's lines (a try block gives several) for version `v`.
    pub fn lines<'a>(
        &'a self,
        v: SlonyVersion,
        depth: usize,
        out: &mut Vec<Line<'a>>,
    ) -> Result<(), RenderError> {
        self.each_line(v, depth, &mut |line| {
            out.push(line);
            Ok(())
        })
    }

    /// Hands this statement's lines to `f` one at a time, in order, with the same checks and
    /// errors as [`Statement::lines`], so a long try block can be checked or written without
    /// holding all of its lines.
    pub fn each_line<'a, E: From<RenderError>>(
        &'a self,
        v: SlonyVersion,
        depth: usize,
        f: &mut impl FnMut(Line<'a>) -> Result<(), E>,
    ) -> Result<(), E> {
        let block = match self {
            Statement::Try(block) => block,
            Statement::SetAddRelations(adds) => {
                for table in adds.tables.iter() {
                    f(Line::Statement {
                        depth,
                        lowered: adds.lower_table(table, v)?,
                    })?;
                }
                for sequence in adds.sequences.iter() {
                    f(Line::Statement {
                        depth,
                        lowered: adds.lower_sequence(sequence, v)?,
                    })?;
                }
                return Ok(());
            }
            _ => {
                return f(Line::Statement {
                    depth,
                    lowered: self.lower(v)?,
                })
            }
        };
        let invalid = |reason: &str| RenderError::Invalid {
            statement: "try",
            reason: reason.into(),
        };
        if block.body.is_empty() {
            return Err(invalid("a try block needs at least one statement").into());
        }
        if block.body.iter().any(|s| matches!(s, Statement::Try(_))) {
            return Err(invalid("slonik does not allow a try directly inside a try").into());
        }
        if block.body.iter().any(|s| matches!(s, Statement::WaitForEvent(_))) {
            return Err(invalid(
                "`wait for event` cannot run inside a try block (a syntax error from 2.0 on); put it before or after the block",
            )
            .into());
        }
        f(Line::Block { depth, text: "try {" })?;
        for s in &block.body {
            s.each_line(v, depth + 1, f)?;
        }
        for (header, handler) in [
            ("} on error {", &block.on_error),
            ("} on success {", &block.on_success),
        ] {
            if handler.is_empty() {
                continue;
            }
            f(Line::Block { depth, text: header })?;
            for s in handler {
                s.each_line(v, depth + 1, f)?;
            }
        }
        f(Line::Block { depth, text: "}" })
    }
}
