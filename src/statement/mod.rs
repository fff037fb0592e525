//! Typed slonik statements: one struct per statement, one enum over them.
//!
//! A statement is plain data. [`Statement::lower`] turns it into keyword + options for one
//! Slony-I version, refusing statements and options that version lacks (see
//! `slonik-syntax.md` §2), so the renderer can never print text slonik would reject.
//!
//! Every statement struct is `#[non_exhaustive]`, so that a new option does not break code
//! outside the crate: build one with its `new` (the required fields, in order) and its
//! `with_` methods (the optional ones):
//!
//! ```
//! use slonik_gen::model::{NodeId, SetId};
//! use slonik_gen::statement::{Statement, SubscribeSet};
//! use slonik_gen::SlonyVersion;
//!
//! let subscribe: Statement = SubscribeSet::new(SetId(1), NodeId(1), NodeId(2), true)
//!     .with_omit_copy(false)
//!     .into();
//! assert_eq!(
//!     subscribe.lower(SlonyVersion::V2_2)?.to_string(),
//!     "subscribe set (id = 1, provider = 1, receiver = 2, forward = yes, omit copy = no);"
//! );
//! # Ok::<(), slonik_gen::statement::RenderError>(())
//! ```

/// Declares the constructors of statement structs: `new` takes the plain required fields,
/// then the text ones (`impl Into<String>`, after the `;`); each optional field gets a
/// `with_` method (text ones after the `;`), and starts unset.
macro_rules! constructors {
    ($(
        $name:ident ( $($field:ident : $ty:ty),* $(; $($text:ident),+)? )
        $({ $($opt:ident : $opt_ty:ty => $setter:ident),* $(; $($topt:ident => $tsetter:ident),+)? })?;
    )*) => {
        $(impl $name {
            #[doc = concat!("A `", stringify!($name), "` from its required fields; every optional field starts unset.")]
            pub fn new($($field: $ty,)* $($($text: impl Into<String>),+)?) -> Self {
                $name {
                    $($field,)*
                    $($($text: $text.into(),)+)?
                    $($($opt: None,)* $($($topt: None,)+)?)?
                }
            }

            $($(
                #[doc = concat!("Sets `", stringify!($opt), "`.")]
                pub fn $setter(mut self, $opt: $opt_ty) -> Self {
                    self.$opt = Some($opt);
                    self
                }
            )*
            $($(
                #[doc = concat!("Sets `", stringify!($topt), "`.")]
                pub fn $tsetter(mut self, $topt: impl Into<String>) -> Self {
                    self.$topt = Some($topt.into());
                    self
                }
            )+)?)?
        })*
    };
}

mod control;
mod lower;
mod node;
mod set;
mod subscription;
mod walk;

pub use control::{Date, Echo, Exit, NodeOrAll, Sleep, Sync, WaitForEvent};
pub use lower::{Lowered, Opt, RenderError, Value, Versions};
pub use node::{
    CloneFinish, ClonePrepare, DropListen, DropNode, DropPath, InitCluster, RestartNode, StoreListen,
    StoreNode, StorePath, StorePaths, SwitchLog, UninstallNode, UpdateFunctions,
};
pub use set::{
    CreateSet, DropSet, DropTrigger, ExecuteOnlyOn, ExecuteScript, LockSet, MergeSet, MoveSet, RepairConfig,
    ScriptSource, SequenceSelector, SetAddRelations, SetAddSequence, SetAddTable, SetDropSequence,
    SetDropTable, SetMoveSequence, SetMoveTable, StoreTrigger, TableAddKey, TableKey, TableSelector,
    UnlockSet,
};
pub use subscription::{Failover, ResubscribeNode, SubscribeSet, UnsubscribeSet};

use crate::version::SlonyVersion;
pub(crate) use walk::{Bulk, Walker};

/// The `= versions` of an entry of [`statements!`], `Versions::All` when it has none.
macro_rules! versions_or_all {
    () => {
        Versions::All
    };
    ($versions:expr) => {
        $versions
    };
}

/// Declares [`Statement`] with one variant per statement struct, the `From` conversions,
/// and the per-version dispatch, from a single list so they cannot drift apart.
macro_rules! statements {
    ($($variant:ident $(= $versions:expr)?),* $(,)?) => {
        $(impl $variant {
            /// The Slony-I versions that have this statement (the table in
            /// `statement/mod.rs`); lowering it for another version fails with
            /// [`RenderError::Unsupported`].
            pub const VERSIONS: Versions = versions_or_all!($($versions)?);
        })*

        /// Any slonik statement, or a `try` block of them.
        #[derive(Debug, Clone, PartialEq, Eq)]
        #[allow(missing_docs)] // each variant is documented on its struct
        pub enum Statement {
            $($variant($variant),)*
            Try(TryBlock),
            SetAddRelations(SetAddRelations),
            StorePaths(StorePaths),
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

        impl From<StorePaths> for Statement {
            fn from(paths: StorePaths) -> Statement {
                Statement::StorePaths(paths)
            }
        }

        impl Statement {
            /// The Slony-I versions that have the statement (a `try` block and the bulk
            /// statements: every version; what they hold may say otherwise). Options have
            /// their own rules, checked when the statement is lowered.
            pub fn versions(&self) -> Versions {
                match self {
                    $(Statement::$variant(_) => $variant::VERSIONS,)*
                    Statement::Try(_) | Statement::SetAddRelations(_) | Statement::StorePaths(_) => Versions::All,
                }
            }

            /// The statement for one version, or why that version cannot run it.
            /// A `try` block, [`SetAddRelations`] and [`StorePaths`] cannot be lowered
            /// alone: use [`Statement::lines`].
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
                    Statement::StorePaths(_) => Err(RenderError::Invalid {
                        statement: "store path",
                        reason: "storing several paths renders as one line per client".into(),
                    }),
                }
            }
        }
    };
}

// Every statement, and which Slony-I versions have it (slonik-syntax.md §2): the one place
// a statement's own version rule is written. Options are checked where they are lowered.
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
    ClonePrepare = Versions::Since(SlonyVersion::V2_0),
    CloneFinish = Versions::Since(SlonyVersion::V2_0),
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
    TableAddKey = Versions::Only1_2,
    StoreTrigger = Versions::Only1_2,
    DropTrigger = Versions::Only1_2,
    LockSet,
    UnlockSet,
    MoveSet,
    ExecuteScript,
    RepairConfig,
    SubscribeSet,
    UnsubscribeSet,
    ResubscribeNode = Versions::Since(SlonyVersion::V2_2),
    Failover,
    WaitForEvent,
    Sync,
    Sleep,
    Echo,
    Date = Versions::Since(SlonyVersion::V2_1),
    Exit,
);

/// `try { ... } on error { ... } on success { ... }`
///
/// Runs as one transaction per node it touches; slonik commits it when every statement
/// succeeds and otherwise rolls it back and runs `on error`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct TryBlock {
    /// The statements tried (at least one; no `try` directly inside).
    pub body: Vec<Statement>,
    /// Run when the body fails.
    pub on_error: Vec<Statement>,
    /// Run when the body succeeds.
    pub on_success: Vec<Statement>,
}

impl TryBlock {
    /// A block that tries `body`, with no handler.
    pub fn new(body: Vec<Statement>) -> Self {
        TryBlock {
            body,
            ..TryBlock::default()
        }
    }

    /// Sets what runs when the body fails.
    pub fn with_on_error(mut self, on_error: Vec<Statement>) -> Self {
        self.on_error = on_error;
        self
    }

    /// Sets what runs when the body succeeds.
    pub fn with_on_success(mut self, on_success: Vec<Statement>) -> Self {
        self.on_success = on_success;
        self
    }

    /// The punctuation that opens the block and closes it.
    pub(crate) const OPEN: &'static str = "try {";
    /// See [`TryBlock::OPEN`].
    pub(crate) const CLOSE: &'static str = "}";

    /// The handlers that have statements, each with the punctuation that opens it.
    pub(crate) fn handlers(&self) -> impl Iterator<Item = (&'static str, &[Statement])> {
        [
            ("} on error {", &self.on_error),
            ("} on success {", &self.on_success),
        ]
        .into_iter()
        .filter(|(_, handler)| !handler.is_empty())
        .map(|(header, handler)| (header, handler.as_slice()))
    }

    /// What slonik's grammar demands of a try block, checked before any of its lines.
    fn check_shape(&self) -> Result<(), RenderError> {
        let invalid = |reason: &str| RenderError::Invalid {
            statement: "try",
            reason: reason.into(),
        };
        if self.body.is_empty() {
            return Err(invalid("a try block needs at least one statement"));
        }
        if self.body.iter().any(|s| matches!(s, Statement::Try(_))) {
            return Err(invalid("slonik does not allow a try directly inside a try"));
        }
        if self.body.iter().any(|s| matches!(s, Statement::WaitForEvent(_))) {
            return Err(invalid(
                "`wait for event` cannot run inside a try block (a syntax error from 2.0 on); put it before or after the block",
            ));
        }
        Ok(())
    }
}

/// The indentation of a line at `depth` (four spaces a level).
pub(crate) fn indent(depth: usize) -> &'static str {
    const SPACES: &str = "                                ";
    &SPACES[..(depth * 4).min(SPACES.len())]
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

#[cfg(test)]
mod check_tests {
    use std::sync::Arc;

    use super::*;
    use crate::model::{NodeId, QualifiedName, Sequence, SequenceId, SetId, Table, TableId};

    /// What writing the statement would report: the first failing line's error.
    fn by_lines(statement: &Statement, v: SlonyVersion) -> Result<(), RenderError> {
        statement.each_line(v, 0, &mut |_line| Ok::<(), RenderError>(()))
    }

    fn table(id: u32, schema: &str, name: &str, key: Option<&str>, comment: Option<&str>) -> Table {
        Table {
            id: TableId(id),
            name: QualifiedName::new(schema, name),
            key: key.map(str::to_string),
            comment: comment.map(str::to_string),
        }
    }

    #[test]
    fn check_agrees_with_the_lines_for_bulk_statements() {
        let long = "c".repeat(600);
        let tables = [
            table(1, "public", "fine", None, None),
            table(2, "public", "o'brien", None, None),
            table(3, "public", "keyed", Some("it's_key"), None),
            table(4, "public", "commented", None, Some(&long)),
            table(5, "back\\slash", "t", None, None),
        ];
        let sequences = vec![Sequence {
            id: SequenceId(1),
            name: QualifiedName::new("public", "s'q"),
            comment: None,
        }];
        // Each case starts at a different table, so each problem gets its turn to be first.
        for skip in 0..=tables.len() {
            let adds: Statement = SetAddRelations {
                set_id: SetId(1),
                origin: NodeId(1),
                tables: Arc::new(tables[skip..].to_vec()),
                sequences: Arc::new(sequences.clone()),
            }
            .into();
            for v in SlonyVersion::ALL {
                assert_eq!(adds.check(v), by_lines(&adds, v), "from table {skip}, {v}");
            }
        }
        for conninfo in ["host=127.0.0.1 dbname=db", "host=127.0.0.1 password=it's", "a\\b"] {
            for clients in [vec![], vec![NodeId(2)], vec![NodeId(2), NodeId(3)]] {
                let paths: Statement = StorePaths {
                    server: NodeId(1),
                    clients: clients.clone(),
                    conninfo: conninfo.to_string(),
                    connretry: Some(10),
                }
                .into();
                let block: Statement = TryBlock {
                    body: vec![paths.clone()],
                    on_error: vec![Echo::new("failed").into()],
                    on_success: Vec::new(),
                }
                .into();
                for v in SlonyVersion::ALL {
                    assert_eq!(paths.check(v), by_lines(&paths, v), "{conninfo} {clients:?} {v}");
                    assert_eq!(
                        block.check(v),
                        by_lines(&block, v),
                        "try: {conninfo} {clients:?} {v}"
                    );
                }
            }
        }
        // The cases above must include failures, or the comparison proves nothing.
        let bad = StorePaths {
            server: NodeId(1),
            clients: vec![NodeId(2)],
            conninfo: "password=it's".into(),
            connretry: None,
        };
        assert!(Statement::from(bad).check(SlonyVersion::V2_1).is_err());
    }

    /// The generic lines, indented, one per line: what the bulk writers must reproduce.
    fn lowered_text(statement: &Statement, v: SlonyVersion, depth: usize) -> String {
        let mut text = String::new();
        statement
            .each_line(v, depth, &mut |line| {
                if let Line::Statement { depth, lowered } = line {
                    text.push_str(&"    ".repeat(depth));
                    lowered.write_into(&mut text);
                    text.push('\n');
                }
                Ok::<(), RenderError>(())
            })
            .expect("valid");
        text
    }

    #[test]
    fn bulk_writers_write_the_lowered_lines() {
        let tables = vec![
            table(1, "public", "t1", None, None),
            table(20, "Studly Spacey Schema", "we\"ird", None, None),
            table(300, "public", "o'brien", None, None),
            table(4000, "public", "keyed", Some("k_idx"), None),
            table(50000, "public", "commented", None, Some("it's")),
            table(2147483647, "s", "both", Some("k"), Some("c")),
        ];
        let adds = SetAddRelations {
            set_id: SetId(7),
            origin: NodeId(12),
            tables: Arc::new(tables),
            sequences: Arc::new(Vec::new()),
        };
        let mut flushes = 0;
        let mut text = String::new();
        adds.write_lines(SlonyVersion::V2_2, 1, &mut text, &mut |_| {
            flushes += 1;
            Ok::<(), RenderError>(())
        })
        .expect("writes");
        assert_eq!(text, lowered_text(&adds.clone().into(), SlonyVersion::V2_2, 1));
        assert_eq!(flushes, 6);
        for connretry in [None, Some(15)] {
            for conninfo in ["host=127.0.0.1 dbname=db", "password=it's"] {
                let paths = StorePaths {
                    server: NodeId(104),
                    clients: vec![NodeId(1), NodeId(104_000), NodeId(99)],
                    conninfo: conninfo.into(),
                    connretry,
                };
                let mut text = String::new();
                paths
                    .write_lines(SlonyVersion::V2_2, 0, &mut text, &mut |_| {
                        Ok::<(), RenderError>(())
                    })
                    .expect("writes");
                assert_eq!(
                    text,
                    lowered_text(&paths.into(), SlonyVersion::V2_2, 0),
                    "{conninfo} {connretry:?}"
                );
            }
        }
    }
}
