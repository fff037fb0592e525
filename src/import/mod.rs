//! Bringing existing clusters in: altperl's `slon_tools.conf` ([`altperl`]) and the altperl
//! command line itself ([`altperl_cli`], the `slonik_*` drop-in).
//!
//! An import never guesses silently: what slon_tools.conf cannot say (subscriptions) or
//! what altperl leaves to chance (the ids of keyed tables) is decided deterministically and
//! written as a `#` note at the top of the imported config.

pub mod altperl;
pub mod altperl_cli;
pub mod live;
pub mod names;

use std::collections::BTreeMap;
use std::fmt;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use crate::validate::Problems;
use crate::version::SlonyVersion;

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
fn shown_path(path: &std::path::Path) -> String {
    crate::escape::visible(&path.display().to_string()).into_owned()
}

/// A line of text as printed: passwords redacted, control characters escaped.
#[cfg(feature = "import-live")]
fn shown(text: &str) -> String {
    crate::escape::visible(&crate::model::conninfo::redact_secrets(text)).into_owned()
}

/// A command of the import side of the CLI, as data: the binary maps its arguments onto
/// it and hands it to [`run`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Request {
    /// `import altperl FILE [--map-schema FROM=TO]...`
    Altperl {
        /// The slon_tools.conf.
        file: PathBuf,
        /// `FROM=TO` schema renames.
        map_schema: Vec<String>,
    },
    /// `import cluster --conninfo C --cluster NAME`
    #[cfg(feature = "import-live")]
    Cluster {
        /// How to reach one node.
        conninfo: String,
        /// The Slony-I cluster name.
        cluster: String,
    },
    /// `--config FILE check-cluster --conninfo C`
    #[cfg(feature = "import-live")]
    CheckCluster {
        /// `--config`, else the usual default.
        config: Option<PathBuf>,
        /// How to reach one node.
        conninfo: String,
    },
    /// `install-links DIR [--force]`
    InstallLinks {
        /// Where the links go.
        dir: PathBuf,
        /// Replace files that are not already links to this binary.
        force: bool,
    },
}

/// Runs an import command: the result on `out`, perl's own messages on `err`.
pub fn run_to(
    request: &Request,
    version: Option<SlonyVersion>,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> Result<ExitCode, crate::Error> {
    run_writing_to(request, version, None, out, err)
}

/// [`run_to`], with `--write-config FILE`: an imported config goes to FILE instead of
/// `out`, written atomically, with the tables of big sets in list files beside it
/// ([`crate::config_writer::Lists::Beside`]); `err` says which files were written.
pub fn run_writing_to(
    request: &Request,
    version: Option<SlonyVersion>,
    write_config: Option<&Path>,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> Result<ExitCode, crate::Error> {
    match request {
        Request::Altperl { file, map_schema } => {
            let options = AltperlOptions {
                slony_version: version.unwrap_or_default(),
                schema_map: schema_map(map_schema)?,
                ..AltperlOptions::default()
            };
            let imported = import_altperl(file, &options)?;
            err.write_all(imported.perl_output.as_bytes())
                .map_err(crate::Error::Io)?;
            match write_config {
                Some(path) => {
                    let written = imported.written(beside(path));
                    write_imported(&written, &imported.cluster, path, err)?;
                }
                None => {
                    out.write_all(imported.to_toml().as_bytes())
                        .map_err(crate::Error::Io)?;
                    out.flush().map_err(crate::Error::Io)?;
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        #[cfg(feature = "import-live")]
        Request::Cluster { conninfo, cluster } => {
            let imported = live::import_cluster(conninfo, cluster, version)?;
            let text = imported.to_toml();
            match write_config {
                Some(path) => {
                    // The header is what `to_toml` puts before the compact config.
                    let inline = crate::config_writer::compact_text(&imported.config, &imported.cluster);
                    let written = match text.strip_suffix(inline.as_str()) {
                        Some(header) => {
                            let mut written = crate::config_writer::compact_file(
                                &imported.config,
                                &imported.cluster,
                                beside(path),
                            );
                            written.text.insert_str(0, header);
                            written
                        }
                        None => crate::config_writer::Written {
                            text,
                            list_files: Vec::new(),
                        },
                    };
                    write_imported(&written, &imported.cluster, path, err)?;
                }
                None => {
                    out.write_all(text.as_bytes()).map_err(crate::Error::Io)?;
                    out.flush().map_err(crate::Error::Io)?;
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        #[cfg(feature = "import-live")]
        Request::CheckCluster { .. } if write_config.is_some() => Err(no_config_to_write("check-cluster")),
        Request::InstallLinks { .. } if write_config.is_some() => Err(no_config_to_write("install-links")),
        #[cfg(feature = "import-live")]
        Request::CheckCluster { config, conninfo } => {
            let path = crate::cli_support::config_path(config.as_deref());
            let wanted = crate::load_config(&path, version)?;
            let imported = live::import_cluster(conninfo, &wanted.name, Some(wanted.version))?;
            let found = live::differences(&wanted, &imported.cluster);
            if found.is_empty() {
                writeln!(
                    out,
                    "{} matches cluster {} as read from {}",
                    shown_path(&path),
                    shown(&wanted.name),
                    imported.source
                )
                .map_err(crate::Error::Io)?;
                return Ok(ExitCode::SUCCESS);
            }
            writeln!(
                out,
                "{} differs from cluster {} as read from {} ({} difference{}):",
                shown_path(&path),
                shown(&wanted.name),
                imported.source,
                found.len(),
                if found.len() == 1 { "" } else { "s" }
            )
            .map_err(crate::Error::Io)?;
            for difference in found {
                writeln!(out, "- {}", shown(&difference)).map_err(crate::Error::Io)?;
            }
            Ok(ExitCode::FAILURE)
        }
        Request::InstallLinks { dir, force } => {
            let target = std::env::current_exe()
                .and_then(|exe| exe.canonicalize())
                .map_err(|e| ImportError::Links {
                    path: dir.clone(),
                    message: format!("cannot tell where this binary is: {e}"),
                })?;
            for outcome in altperl_cli::install_links(dir, &target, *force)? {
                let line = match outcome {
                    altperl_cli::LinkOutcome::Created(link) => format!("created {}", shown_path(&link)),
                    altperl_cli::LinkOutcome::Present(link) => format!("already there {}", shown_path(&link)),
                    altperl_cli::LinkOutcome::Replaced(link) => format!("replaced {}", shown_path(&link)),
                };
                writeln!(out, "{line} -> {}", shown_path(&target)).map_err(crate::Error::Io)?;
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// [`run_to`] on the process's stdout and stderr.
pub fn run(request: &Request, version: Option<SlonyVersion>) -> Result<ExitCode, crate::Error> {
    run_writing(request, version, None)
}

/// [`run_writing_to`] on the process's stdout and stderr.
pub fn run_writing(
    request: &Request,
    version: Option<SlonyVersion>,
    write_config: Option<&Path>,
) -> Result<ExitCode, crate::Error> {
    run_writing_to(
        request,
        version,
        write_config,
        &mut std::io::stdout().lock(),
        &mut std::io::stderr().lock(),
    )
}

/// List files for sets of [`crate::config_writer::LIST_FILE_MIN_ENTRIES`] tables or more,
/// beside the config at `path`.
fn beside(path: &Path) -> crate::config_writer::Lists<'_> {
    crate::config_writer::Lists::Beside {
        config: path,
        min_entries: crate::config_writer::LIST_FILE_MIN_ENTRIES,
    }
}

/// Checks that the imported config loads to the imported cluster as it will be on disk,
/// then writes its list files and the config atomically, and names them on `err`.
fn write_imported(
    written: &crate::config_writer::Written,
    cluster: &crate::Cluster,
    path: &Path,
    err: &mut dyn Write,
) -> Result<(), crate::Error> {
    let reloaded = written.load(path, None)?;
    if reloaded != *cluster {
        return Err(ImportError::Config {
            path: path.to_path_buf(),
            line: None,
            message: "the written config would not load to the imported cluster; nothing was written, please report this".into(),
        }
        .into());
    }
    written.write(cluster, path)?;
    for file in &written.list_files {
        writeln!(err, "slonik-gen: wrote {}", shown_path(&file.path)).map_err(crate::Error::Io)?;
    }
    writeln!(err, "slonik-gen: wrote {}", shown_path(path)).map_err(crate::Error::Io)?;
    Ok(())
}

/// `--write-config` given to an import command that makes no config.
fn no_config_to_write(command: &str) -> crate::Error {
    ImportError::Usage(format!(
        "--write-config: {command} writes no config; leave --write-config out"
    ))
    .into()
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
