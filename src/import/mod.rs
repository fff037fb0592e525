//! Bringing existing clusters in: altperl's `slon_tools.conf` ([`altperl`]) and a running
//! cluster's catalog ([`live`]). The commands that print or write them are the front end's
//! (`crate::frontend`, feature `cli`).
//!
//! An import never guesses silently: what slon_tools.conf cannot say (subscriptions) or
//! what altperl leaves to chance (the ids of keyed tables) is decided deterministically and
//! written as a `#` note at the top of the imported config.

pub mod altperl;
pub mod live;
pub mod names;
pub mod slon_conf;

use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;

use crate::validate::Problems;

pub use altperl::{import_altperl, AltperlOptions, Imported};

/// Why an import failed. Every variant names the file, and the line where one is known.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ImportError {
    /// `perl` could not be started.
    #[error("cannot run `{}` to read {}; install perl (the altperl tools need it too) or point SLONIK_GEN_PERL at it", shown_path(perl), shown_path(path))]
    PerlNotRun {
        /// The perl binary tried.
        perl: PathBuf,
        /// The config being imported.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The config cannot be evaluated or has a shape the import does not support.
    #[error("{}: {message}", Location { path, line: *line })]
    Config {
        /// The file the problem is in (the config or a file it loads).
        path: PathBuf,
        /// The line, where Perl or the recorded `add_node` call says it.
        line: Option<u32>,
        /// What is wrong and what to do.
        message: String,
    },
    /// A live cluster could not be read.
    #[error("{conninfo}: {message}")]
    Live {
        /// The conninfo, passwords removed and control characters escaped ([`live::shown_conninfo`]).
        conninfo: String,
        /// What went wrong and what to do.
        message: String,
    },
    /// `install-links` could not create a link.
    #[error("{}: {message}", shown_path(path))]
    Links {
        /// The link (or directory).
        path: PathBuf,
        /// What went wrong and what to do.
        message: String,
    },
    /// A command-line value that cannot be used.
    #[error("{0}")]
    Usage(String),
    /// The imported config describes an impossible cluster.
    #[error(
        "{}: the config imported from it is not valid: {problems}\n{hint}",
        shown_path(path)
    )]
    Invalid {
        /// The imported file.
        path: PathBuf,
        /// Every problem found.
        problems: Problems,
        /// Where the values in the problems came from.
        hint: String,
    },
}

/// `file:line` or `file`.
struct Location<'a> {
    path: &'a PathBuf,
    line: Option<u32>,
}

impl fmt::Display for Location<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(line) => write!(f, "{}:{line}", shown_path(self.path)),
            None => write!(f, "{}", shown_path(self.path)),
        }
    }
}

/// A path as messages show it: control characters (from a file name) escaped.
pub(crate) fn shown_path(path: &std::path::Path) -> String {
    crate::escape::visible(&path.display().to_string()).into_owned()
}

/// A line of text as printed: passwords redacted, control characters escaped.
#[cfg(all(feature = "import-live", feature = "cli"))]
pub(crate) fn shown(text: &str) -> String {
    crate::escape::visible(&crate::model::conninfo::redact_secrets(text)).into_owned()
}

/// Parses `FROM=TO` schema renames (refusing control characters, which no schema name in
/// a config may hold).
pub fn schema_map(pairs: &[String]) -> Result<BTreeMap<String, String>, ImportError> {
    let mut map = BTreeMap::new();
    for pair in pairs {
        if let Some((_, c)) = crate::escape::control_character(pair) {
            return Err(ImportError::Usage(format!(
                "--map-schema {}: holds the control character {}, which no schema name may hold; write the names without it",
                crate::escape::visible(pair),
                crate::escape::describe_control(c)
            )));
        }
        match pair.split_once('=') {
            Some((from, to)) if !from.is_empty() && !to.is_empty() => {
                if map.insert(from.to_string(), to.to_string()).is_some() {
                    return Err(ImportError::Usage(format!(
                        "--map-schema {pair}: schema `{from}` is mapped twice; give one mapping per schema"
                    )));
                }
            }
            _ => {
                return Err(ImportError::Usage(format!(
                    "--map-schema {pair}: write FROM=TO, e.g. --map-schema public=geekdb"
                )))
            }
        }
    }
    Ok(map)
}
