//! The crate's top-level error.
//!
//! An error that wraps another (an OS error, a parser's) returns it from
//! [`std::error::Error::source`] and does not repeat it in its own message; [`Report`]
//! prints the whole chain, each cause once.

use std::path::PathBuf;

use crate::ops::OpError;
use crate::statement::RenderError;
use crate::validate::Problems;

/// Anything that can go wrong between reading a config and writing a script.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The config file could not be read.
    #[error("cannot read config {}", path.display())]
    ReadConfig {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The config is not valid TOML or does not match the schema.
    #[error("{}: {message}", path.display())]
    ParseConfig {
        /// The file.
        path: PathBuf,
        /// The parser's message (with line and column), plus a suggestion for typos.
        message: String,
    },
    /// A set's `tables_file` or `sequences_file` could not be read.
    #[error(
        "{}: cannot read the {key} of {set}, {}; create it (one `schema.name` a line, e.g. psql -Atc \"{}\" > {}) or fix the path, which is relative to the config file's directory",
        config.display(),
        file.display(),
        crate::model::table_list::psql_list_query(key),
        file.file_name().map_or_else(|| "FILE".into(), |name| name.to_string_lossy())
    )]
    ReadListFile {
        /// The config file naming the list.
        config: PathBuf,
        /// The set, as `set 1 (set1)`.
        set: String,
        /// `tables_file` or `sequences_file`.
        key: &'static str,
        /// The list file, resolved against the config's directory.
        file: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// A line of a `tables_file` or `sequences_file` is not a table or sequence name.
    #[error("{}:{line}: {problem}", file.display())]
    ListFileLine {
        /// The list file, resolved against the config's directory.
        file: PathBuf,
        /// 1-based line number.
        line: usize,
        /// What is wrong, which set's list it is, and what to do.
        problem: String,
    },
    /// The config parsed but describes an impossible cluster.
    #[error("{}: {problems}", path.display())]
    InvalidConfig {
        /// The file.
        path: PathBuf,
        /// Every problem found.
        problems: Problems,
    },
    /// A config that came from no file, such as one built in code with
    /// [`crate::ConfigFile::new`], describes an impossible cluster: what `?` makes of the
    /// [`Problems`] of [`crate::validate::validate`]. A config loaded from a file gives
    /// [`Error::InvalidConfig`], which names the file.
    #[error("invalid config: {0}")]
    Invalid(Problems),
    /// The operation cannot be done on this cluster.
    #[error(transparent)]
    Operation(#[from] OpError),
    /// An import (`slonik-gen import ...`, the altperl drop-in) failed.
    #[error(transparent)]
    Import(#[from] crate::import::ImportError),
    /// A statement cannot be rendered for the target version.
    #[error(transparent)]
    Render(#[from] RenderError),
    /// The golden file of `--check` could not be read.
    #[error("cannot read golden file {}", path.display())]
    Golden {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// `--write-config` could not write its file.
    #[error("cannot write config {}; it is unchanged", path.display())]
    WriteConfig {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// `--write-config` wrote and synced the new config, and the script was written in
    /// full, but the new file could not be put in place of the old one.
    #[error(
        "the output was written in full, but the new config could not be put in place at {}: run the same command again with --write-config and its output sent to /dev/null to write the state",
        path.display()
    )]
    CommitConfig {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// Writing the output failed.
    #[error("cannot write the script")]
    Io(#[source] std::io::Error),
}

/// So that `validate(&config)?` works in a function returning [`Result`]. The problems are
/// part of the message, as in [`Error::InvalidConfig`], not a [`std::error::Error::source`].
impl From<Problems> for Error {
    fn from(problems: Problems) -> Self {
        Error::Invalid(problems)
    }
}

/// `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// An error with its causes, as the binary prints it: the message, then one
/// `caused by: ...` line per [`std::error::Error::source`], each cause once.
pub struct Report<'a>(pub &'a dyn std::error::Error);

impl std::fmt::Display for Report<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.0)?;
        let mut source = self.0.source();
        while let Some(cause) = source {
            write!(f, "\n  caused by: {cause}")?;
            source = cause.source();
        }
        Ok(())
    }
}

/// An error and its causes on one line, `message: cause: cause`, for embedding in
/// another message.
pub fn one_line(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
