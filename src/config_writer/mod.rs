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
mod edit;

use std::path::{Path, PathBuf};

pub use compact::{compact, compact_file, compact_text};
pub use edit::{edit, edit_to, stage_config, write_config};

use crate::atomic_file::{self, Staged};
use crate::version::SlonyVersion;
use crate::{Cluster, Error, Result};

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
    pub fn load(&self, path: &Path, version: Option<SlonyVersion>) -> Result<Cluster> {
        let mut config: crate::ConfigFile = toml::from_str(&self.text).map_err(|e| Error::ParseConfig {
            message: e.to_string(),
            path: path.to_path_buf(),
        })?;
        let files = &self.list_files;
        crate::model::table_list::expand_list_files_with(
            &mut config,
            path,
            &mut |wanted: &Path| match files.iter().find(|f| f.path == wanted) {
                Some(file) => Ok(file.text.clone().into_bytes()),
                None => std::fs::read(wanted),
            },
        )?;
        if let Some(version) = version {
            config.slony_version = version;
        }
        crate::validate::validate_owned(config).map_err(|problems| Error::InvalidConfig {
            path: path.to_path_buf(),
            problems,
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
            secret: crate::cli_support::holds_password(cluster),
        };
        let stage = |target: &Path, text: &str, mode| {
            atomic_file::stage(target, text.as_bytes(), mode).map_err(|source| Error::WriteConfig {
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
            crate::cli_support::commit_config(staged, &path)?;
        }
        crate::cli_support::commit_config(self.config.0, &self.config.1)
    }
}
