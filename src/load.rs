//! Reading a config: TOML text → [`ConfigFile`] → list files read → [`validate`]d
//! [`Cluster`]. Every way a config comes in (a file, text, a config written in memory by
//! [`crate::config_writer`]) goes through [`load_config_str_with`].
//!
//! [`validate`]: crate::validate

use std::path::{Path, PathBuf};

use crate::model::config::ConfigFile;
use crate::model::Cluster;
use crate::validate::Problems;
use crate::version::SlonyVersion;

/// Why a config cannot be loaded. Every variant names the file (except a config built in
/// code, which has none) and what to do.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LoadError {
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
    /// [`LoadError::InvalidConfig`], which names the file.
    #[error("invalid config: {0}")]
    Invalid(Problems),
}

/// So that `validate(&config)?` works where a [`LoadError`] is expected.
impl From<Problems> for LoadError {
    fn from(problems: Problems) -> Self {
        LoadError::Invalid(problems)
    }
}

/// Parses and validates a config given as text; `path` names it in messages, and a set's
/// `tables_file` / `sequences_file` is read relative to its directory.
pub fn load_config_str(text: &str, path: impl AsRef<Path>) -> Result<Cluster, LoadError> {
    load_config_str_for(text, path, None)
}

/// Like [`load_config_str`], with the target version overridden (the CLI's `--slony-version`).
pub fn load_config_str_for(
    text: &str,
    path: impl AsRef<Path>,
    version: Option<SlonyVersion>,
) -> Result<Cluster, LoadError> {
    load_config_str_with(text, path.as_ref(), version, &mut |file: &Path| {
        std::fs::read(file)
    })
}

/// [`load_config_str_for`] with the list files' bytes from `read` (given the resolved
/// path), so that a config and the list files written with it can be loaded before they
/// are on disk ([`crate::config_writer::Written::load`]).
pub fn load_config_str_with(
    text: &str,
    path: &Path,
    version: Option<SlonyVersion>,
    read: &mut dyn FnMut(&Path) -> std::io::Result<Vec<u8>>,
) -> Result<Cluster, LoadError> {
    let path = path.to_path_buf();
    let mut config: ConfigFile = toml::from_str(text).map_err(|e| LoadError::ParseConfig {
        message: parse_message(&e),
        path: path.clone(),
    })?;
    crate::model::table_list::expand_list_files_with(&mut config, &path, read)?;
    if let Some(version) = version {
        config.slony_version = version;
    }
    crate::validate::validate_owned(config).map_err(|problems| LoadError::InvalidConfig { path, problems })
}

/// Reads, parses and validates a config file.
pub fn load_config(path: impl AsRef<Path>, version: Option<SlonyVersion>) -> Result<Cluster, LoadError> {
    let path = path.as_ref();
    let text = std::fs::read_to_string(path).map_err(|source| LoadError::ReadConfig {
        path: path.to_path_buf(),
        source,
    })?;
    load_config_str_for(&text, path, version)
}

/// The TOML parser's message, with "did you mean" added for unknown fields.
pub(crate) fn parse_message(e: &toml::de::Error) -> String {
    let message = e.to_string();
    let Some(rest) = message.split("unknown field `").nth(1) else {
        return message;
    };
    let Some((field, expected)) = rest.split_once('`') else {
        return message;
    };
    let candidates: Vec<&str> = expected.split('`').skip(1).step_by(2).collect();
    match crate::suggest::closest(field, candidates) {
        Some(best) => format!("{}\ndid you mean `{best}`?", message.trim_end()),
        None => message,
    }
}
