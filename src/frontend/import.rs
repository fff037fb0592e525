//! The import commands of the command line (`import altperl`, `import cluster`,
//! `check-cluster`, `install-links`): run them, print or write what they produce.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use super::altperl;
use crate::import::altperl::{import_altperl, AltperlOptions};
#[cfg(feature = "import-live")]
use crate::import::live;
#[cfg(feature = "import-live")]
use crate::import::shown;
use crate::import::{schema_map, shown_path, ImportError};
use crate::version::SlonyVersion;

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
        /// `--config` (`-` for stdin), else the usual search ([`super::find_config`]).
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
    run_with(request, version, write_config, false, out, err)
}

/// [`run_writing_to`], with `quiet` (`--quiet`) leaving out the `slonik-gen: wrote FILE`
/// lines; perl's own messages and errors still go to `err`.
pub fn run_with(
    request: &Request,
    version: Option<SlonyVersion>,
    write_config: Option<&Path>,
    quiet: bool,
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
                .map_err(super::output)?;
            match write_config {
                Some(path) => {
                    let written = imported.written(beside(path));
                    let notes: &mut dyn Write = if quiet { &mut std::io::sink() } else { err };
                    write_imported(&written, &imported.cluster, path, notes)?;
                }
                None => {
                    out.write_all(imported.to_toml().as_bytes())
                        .map_err(super::output)?;
                    out.flush().map_err(super::output)?;
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
                    let notes: &mut dyn Write = if quiet { &mut std::io::sink() } else { err };
                    write_imported(&written, &imported.cluster, path, notes)?;
                }
                None => {
                    out.write_all(text.as_bytes()).map_err(super::output)?;
                    out.flush().map_err(super::output)?;
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        #[cfg(feature = "import-live")]
        Request::CheckCluster { .. } if write_config.is_some() => Err(no_config_to_write("check-cluster")),
        Request::InstallLinks { .. } if write_config.is_some() => Err(no_config_to_write("install-links")),
        #[cfg(feature = "import-live")]
        Request::CheckCluster { config, conninfo } => {
            let read = super::ConfigText::read(config.as_deref())?;
            let wanted = read.load(version)?;
            let path = read.path;
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
                .map_err(super::output)?;
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
            .map_err(super::output)?;
            for difference in found {
                writeln!(out, "- {}", shown(&difference)).map_err(super::output)?;
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
            for outcome in altperl::install_links(dir, &target, *force)? {
                let line = match outcome {
                    altperl::LinkOutcome::Created(link) => format!("created {}", shown_path(&link)),
                    altperl::LinkOutcome::Present(link) => format!("already there {}", shown_path(&link)),
                    altperl::LinkOutcome::Replaced(link) => format!("replaced {}", shown_path(&link)),
                };
                writeln!(out, "{line} -> {}", shown_path(&target)).map_err(super::output)?;
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
        writeln!(err, "slonik-gen: wrote {}", shown_path(&file.path)).map_err(super::output)?;
    }
    writeln!(err, "slonik-gen: wrote {}", shown_path(path)).map_err(super::output)?;
    Ok(())
}

/// `--write-config` given to an import command that makes no config.
fn no_config_to_write(command: &str) -> crate::Error {
    ImportError::Usage(format!(
        "--write-config: {command} writes no config; leave --write-config out"
    ))
    .into()
}
