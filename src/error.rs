//! The crate's top-level error.

use std::path::PathBuf;

use crate::ops::OpError;
use crate::statement::RenderError;
use crate::validate::Problems;

/// Anything that can go wrong between reading a config and writing a script.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The config file could not be read.
    #[error("cannot read config {}: {source}", path.display())]
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
    /// The config parsed but describes an impossible cluster.
    #[error("{}: {problems}", path.display())]
    InvalidConfig {
        /// The file.
        path: PathBuf,
        /// Every problem found.
        problems: Problems,
    },
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
    #[error("cannot read golden file {}: {source}", path.display())]
    Golden {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// `--write-config` could not write its file.
    #[error("cannot write config {}: {source}", path.display())]
    WriteConfig {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// Writing the output failed.
    #[error("cannot write the script: {0}")]
    Io(#[source] std::io::Error),
}

/// `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
