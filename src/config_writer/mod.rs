//! The one producer of config text: every `--write-config` (single operations and
//! runbooks) and every import goes through here.
//!
//! * [`edit`] changes the user's own file to describe a new state, through `toml_edit`:
//!   comments, key order and the layout of everything that did not change stay as written.
//!   Any difference between two clusters can be expressed (nodes added, dropped, failed or
//!   back, providers and forwarding, sets added, dropped or merged, origins, tables and
//!   sequences added or dropped, subscriptions added, removed or changed, the default
//!   origin). The result is loaded again and must describe exactly the new state, or
//!   nothing is written.
//! * [`compact`] / [`compact_file`] write a whole config anew (imports, and a cluster built
//!   in code) with every table on one short line, ids left to the allocator where it gives
//!   the right one, and optionally the tables of big sets in a list file beside the config.
//!
//! Round trips, tested over every fixture and every operation's next state:
//! `load(compact(c)) == c` and `load(edit(text_of(c), next)) == next`.

mod compact;
#[cfg(feature = "edit-config")]
mod edit;

use std::path::{Path, PathBuf};

pub use compact::{compact, compact_file, compact_text};
#[cfg(feature = "edit-config")]
pub use edit::{edit, edit_to, stage_config, write_config};

use crate::atomic_file::{self, Staged};
use crate::load::LoadError;
use crate::model::conninfo::ConnectionParts;
use crate::version::SlonyVersion;
use crate::Cluster;

/// Why a config cannot be written. Whatever it is, the target file is left as it was
/// (except [`WriteError::Commit`], which says what state things are in).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum WriteError {
    /// The config to edit cannot be read, parsed or validated.
    #[error(transparent)]
    Load(#[from] LoadError),
    /// The new state cannot be written into the user's file (a layout the editor does
    /// not know, a value TOML cannot hold, a path that is not UTF-8).
    #[error("write-config: {reason}")]
    Refused {
        /// What cannot be written, naming the file, and what to do.
        reason: String,
    },
    /// A file could not be written under its temporary name.
    #[error("cannot write config {}; it is unchanged", path.display())]
    Stage {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// Every file was written and synced, and the script or plan was written in full,
    /// but a new file could not be put in place of the old one.
    #[error(
        "the output was written in full, but the new config could not be put in place at {}: run the same command again with --write-config and its output sent to /dev/null to write the state",
        path.display()
    )]
    Commit {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
}

type Result<T, E = WriteError> = std::result::Result<T, E>;

/// Whether any node's admin or path connection carries a password (`password`, or
/// `password` / `sslpassword` among its other libpq keywords): a config holding one is
/// never written more open than 0600.
pub fn holds_password(cluster: &Cluster) -> bool {
    let secret = |parts: &ConnectionParts| {
        parts.password.is_some()
            || parts
                .options
                .keys()
                .any(|k| k.eq_ignore_ascii_case("password") || k.eq_ignore_ascii_case("sslpassword"))
    };
    cluster
        .nodes
        .values()
        .any(|n| secret(&n.admin) || n.path_overrides.as_ref().is_some_and(secret))
}

/// Writes `text` (a config describing `cluster`) to `path` under a temporary name, synced
/// and with its final mode (that of `path` if it exists, narrowed to that of `like`, the
/// config it was made from; at most 0600 when `cluster` holds a password), ready for
/// [`commit`]. Until then `path` is untouched; dropping the result removes the temporary
/// file. See [`crate::atomic_file`].
pub fn stage_text(text: &str, cluster: &Cluster, like: Option<&Path>, path: &Path) -> Result<Staged> {
    let mode = atomic_file::Mode {
        like,
        secret: holds_password(cluster),
    };
    atomic_file::stage(path, text.as_bytes(), mode).map_err(|source| WriteError::Stage {
        path: path.to_path_buf(),
        source,
    })
}

/// Puts a staged file in place of its target (after the script or plan was written).
pub fn commit(staged: Staged, path: &Path) -> Result<()> {
    staged.commit().map_err(|source| WriteError::Commit {
        path: path.to_path_buf(),
        source,
    })
}

/// Sets with at least this many plain tables (or sequences) go to a list file when the
/// writer may write one ([`Lists::Beside`]). Below it the TOML is as fast to load and one
/// file is easier to handle; from tens of thousands of names a list loads several times
/// faster than TOML strings (BENCHMARKS.md).
pub const LIST_FILE_MIN_ENTRIES: usize = 10_000;

/// Where [`compact`] may put the tables of a big set.
#[derive(Debug, Clone, Copy)]
pub enum Lists<'a> {
    /// Every table in the TOML (the text goes to stdout, with no directory to put files in).
    Inline,
    /// A list file beside `config` (the path the config will be written to) for every set
    /// list of at least `min_entries` plain names, named `<config stem>.set<ID>.tables` or
    /// `.sequences`.
    Beside {
        /// Where the config itself will be written.
        config: &'a Path,
        /// The fewest entries that get a list file ([`LIST_FILE_MIN_ENTRIES`] by default).
        min_entries: usize,
    },
}

/// A list file that belongs with a written config.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListFile {
    /// Where it goes (resolved against the config's path, as loading resolves it).
    pub path: PathBuf,
    /// Its contents: one `schema.name` a line.
    pub text: String,
}

/// A config as written: its text and the list files it names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Written {
    /// The TOML.
    pub text: String,
    /// List files to write beside it (empty unless [`Lists::Beside`] found a big set).
    pub list_files: Vec<ListFile>,
}

impl Written {
    /// Loads the written config as if it and its list files were on disk at `path` (list
    /// files it does not carry are read from disk), with the version overridden like
    /// [`crate::load_config_str_for`].
    pub fn load(&self, path: &Path, version: Option<SlonyVersion>) -> Result<Cluster, LoadError> {
        let files = &self.list_files;
        crate::load::load_config_str_with(&self.text, path, version, &mut |wanted: &Path| match files
            .iter()
            .find(|f| f.path == wanted)
        {
            Some(file) => Ok(file.text.clone().into_bytes()),
            None => std::fs::read(wanted),
        })
    }

    /// Writes the list files, then the config at `path`, each atomically
    /// ([`crate::atomic_file`]). The list files are new names that nothing reads yet, so a
    /// failure at any point leaves the old config (and what it reads) as it was.
    pub fn write(&self, cluster: &Cluster, path: &Path) -> Result<()> {
        let staged = self.stage(cluster, None, path)?;
        staged.commit()
    }

    /// [`Written::write`] up to the last step: every file is written and synced under a
    /// temporary name; [`StagedWrite::commit`] puts them in place (list files first).
    pub fn stage(&self, cluster: &Cluster, like: Option<&Path>, path: &Path) -> Result<StagedWrite> {
        let mode = atomic_file::Mode {
            like,
            secret: holds_password(cluster),
        };
        let stage = |target: &Path, text: &str, mode| {
            atomic_file::stage(target, text.as_bytes(), mode).map_err(|source| WriteError::Stage {
                path: target.to_path_buf(),
                source,
            })
        };
        let mut lists = Vec::new();
        for file in &self.list_files {
            // A list holds no password: only the config's own mode rules apply.
            let list_mode = atomic_file::Mode { like, secret: false };
            lists.push((stage(&file.path, &file.text, list_mode)?, file.path.clone()));
        }
        Ok(StagedWrite {
            lists,
            config: (stage(path, &self.text, mode)?, path.to_path_buf()),
        })
    }
}

/// A [`Written`] config staged beside its targets, waiting for [`StagedWrite::commit`];
/// dropping it removes the temporary files.
#[derive(Debug)]
pub struct StagedWrite {
    lists: Vec<(Staged, PathBuf)>,
    config: (Staged, PathBuf),
}

impl StagedWrite {
    /// Renames the list files into place, then the config.
    pub fn commit(self) -> Result<()> {
        for (staged, path) in self.lists {
            commit(staged, &path)?;
        }
        commit(self.config.0, &self.config.1)
    }
}
