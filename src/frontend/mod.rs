//! The command-line front end (feature `cli`): argument parsing (clap, [`args`]), the
//! altperl drop-in ([`altperl`]), golden-file checks ([`golden`]), the import commands
//! ([`import`]), where stdout goes (`--output`, [`output`]), finding and reading the config
//! (`--config -`, the search path: [`ConfigText`]), config writing, printing and exit
//! codes, the completion scripts and the man page. Everything else in the crate
//! returns data and typed errors; only this module prints, exits or reads argv, and
//! `src/main.rs` is the allocator and a call of [`main`].

pub mod altperl;
pub mod args;
pub mod golden;
pub mod golden_dir;
pub mod import;
pub mod output;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use crate::ops::{Ddl, Operation, Refusal};
use output::Sink;

/// Errors only the front end has: the golden file it compares with, the output it writes.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FrontendError {
    /// The golden file of `--check` could not be read.
    #[error("cannot read golden file {}", path.display())]
    Golden {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// `golden DIR` could not read its list or a golden file, or write one.
    #[error(transparent)]
    GoldenDir(#[from] golden_dir::GoldenError),
    /// Writing the output failed.
    #[error("cannot write the script")]
    Output(#[source] std::io::Error),
    /// `slon-conf` could not produce or write a file.
    #[error(transparent)]
    SlonConf(#[from] crate::slon::SlonConfError),
    /// `slon start|stop|status` could not act on a node's slon.
    #[error(transparent)]
    SlonControl(#[from] crate::slon::control::ControlError),
    /// `slon start|stop|status` named a node the config marks failed.
    #[error("{node} has failed (failed = true in the config): it is no longer in the cluster and has no slon to control; rebuild it first (`slonik-gen runbook failback` or `rebuild-node`), or leave it out")]
    SlonOfFailedNode {
        /// `node 1 (MasNod)`.
        node: String,
    },
    /// No `--config`, no `$SLONIK_GEN_CONFIG`, and no config in the places searched.
    #[error("no config: none given and none found at {searched}; choose one with --config FILE (--config - reads it from stdin) or SLONIK_GEN_CONFIG=FILE")]
    NoConfig {
        /// The files looked for, as `./slonik-gen.toml or /etc/slonik-gen/slonik-gen.toml`.
        searched: String,
    },
    /// `--output FILE` could not be written (FILE is left as it was).
    #[error("cannot write --output file {}; it was left as it was", path.display())]
    WriteOutput {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// `slon-unit --all --dir` could not write a unit file.
    #[error("cannot write systemd unit {}", path.display())]
    WriteUnit {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
}

/// `Err(Output)` for a failed write of the output.
pub(crate) fn output(error: std::io::Error) -> crate::Error {
    FrontendError::Output(error).into()
}

/// The file name of the config looked for in the directories of [`config_search_dirs`].
pub const CONFIG_FILE_NAME: &str = "slonik-gen.toml";

/// The system-wide config directory, searched after the current directory.
pub const SYSTEM_CONFIG_DIR: &str = "/etc/slonik-gen";

/// How `--config -` names the config it reads from stdin in messages.
pub const STDIN_CONFIG: &str = "<stdin>";

/// Where a config is looked for when neither `--config` nor `$SLONIK_GEN_CONFIG` names
/// one, in order: the current directory (the empty path, so the file is named
/// `slonik-gen.toml` in messages as before), then [`SYSTEM_CONFIG_DIR`].
pub fn config_search_dirs() -> [&'static Path; 2] {
    [Path::new(""), Path::new(SYSTEM_CONFIG_DIR)]
}

/// The config search: `DIR/slonik-gen.toml` for each of `dirs` in order, the first that
/// exists; else `Err` with every file looked for.
pub fn search_config(dirs: &[&Path]) -> Result<PathBuf, Vec<PathBuf>> {
    let candidates: Vec<PathBuf> = dirs.iter().map(|dir| dir.join(CONFIG_FILE_NAME)).collect();
    match candidates.iter().find(|path| path.exists()) {
        Some(found) => Ok(found.clone()),
        None => Err(candidates),
    }
}

/// The config named by `--config`, else by `$SLONIK_GEN_CONFIG`, else found by
/// [`search_config`] in [`config_search_dirs`]; `Err` with the files looked for when none
/// is found. `-` (stdin) is returned as given.
pub fn find_config(flag: Option<&Path>) -> Result<PathBuf, Vec<PathBuf>> {
    if let Some(flag) = flag {
        return Ok(flag.to_path_buf());
    }
    if let Some(env) = std::env::var_os("SLONIK_GEN_CONFIG").filter(|v| !v.is_empty()) {
        return Ok(PathBuf::from(env));
    }
    search_config(&config_search_dirs())
}

/// The config file to read: [`find_config`], or `slonik-gen.toml` when the search finds
/// none (reading it then fails naming that file; [`ConfigText::read`] names every place
/// searched instead).
pub fn config_path(flag: Option<&Path>) -> PathBuf {
    find_config(flag).unwrap_or_else(|_| PathBuf::from(CONFIG_FILE_NAME))
}

/// A config as read, once: its text and the path that names it in messages and anchors
/// its relative list files (`<stdin>` for `--config -`, whose list files are then relative
/// to the current directory).
#[derive(Debug, Clone)]
pub struct ConfigText {
    /// The file, or [`STDIN_CONFIG`].
    pub path: PathBuf,
    /// Its text.
    pub text: String,
    /// Whether it came from stdin (`--config -`).
    pub from_stdin: bool,
}

impl ConfigText {
    /// Reads the config [`find_config`] names; `-` reads stdin to its end.
    pub fn read(flag: Option<&Path>) -> Result<ConfigText, crate::Error> {
        let path = find_config(flag).map_err(|searched| {
            let shown: Vec<String> = searched
                .iter()
                .map(|p| match p.parent() {
                    Some(dir) if dir.as_os_str().is_empty() => format!("./{}", p.display()),
                    _ => p.display().to_string(),
                })
                .collect();
            FrontendError::NoConfig {
                searched: shown.join(" or "),
            }
        })?;
        if path.as_os_str() == "-" {
            let mut text = String::new();
            std::io::Read::read_to_string(&mut std::io::stdin().lock(), &mut text).map_err(|source| {
                crate::load::LoadError::ReadConfig {
                    path: PathBuf::from(STDIN_CONFIG),
                    source,
                }
            })?;
            return Ok(ConfigText {
                path: PathBuf::from(STDIN_CONFIG),
                text,
                from_stdin: true,
            });
        }
        let text = std::fs::read_to_string(&path).map_err(|source| crate::load::LoadError::ReadConfig {
            path: path.clone(),
            source,
        })?;
        Ok(ConfigText {
            path,
            text,
            from_stdin: false,
        })
    }

    /// The cluster it describes, validated, with the version overridden.
    pub fn load(&self, version: Option<crate::SlonyVersion>) -> Result<crate::Cluster, crate::Error> {
        Ok(crate::load::load_config_str_for(&self.text, &self.path, version)?)
    }

    /// `--write-config FILE`: the config edited to describe `next`, staged beside `out`
    /// ([`crate::config_writer::stage_config`], from the text read rather than the file
    /// again, so `--config -` works too; a config from stdin lends no mode).
    pub fn stage_next(
        &self,
        version: Option<crate::SlonyVersion>,
        next: &crate::Cluster,
        out: &Path,
    ) -> Result<crate::atomic_file::Staged, crate::Error> {
        let text = crate::config_writer::edit_to(&self.text, &self.path, out, version, next)?;
        let like = (!self.from_stdin).then_some(self.path.as_path());
        Ok(crate::config_writer::stage_text(&text, next, like, out)?)
    }
}

/// Reads and loads the config of `--config` (see [`ConfigText::read`]).
fn load(
    flag: &Option<PathBuf>,
    version: Option<crate::SlonyVersion>,
) -> Result<crate::Cluster, crate::Error> {
    ConfigText::read(flag.as_deref())?.load(version)
}

/// Checks made on the generating machine before anything is printed: an `execute-script`
/// file must exist (slonik would only find out when it runs).
pub fn preflight(operation: &Operation) -> crate::Result<()> {
    if let Operation::ExecuteScript {
        ddl: Ddl::File(file), ..
    } = operation
    {
        if !Path::new(file).is_file() {
            let refusal = Refusal::SqlFileMissing { file: file.clone() };
            return Err(crate::ops::refuse("execute-script", refusal).into());
        }
    }
    Ok(())
}

/// The whole `slonik-gen` binary: runs the command named by the process's arguments (or,
/// through a link named like an altperl tool, that tool's command line), prints what it
/// produces and every error, and returns the exit status: 0, 1 for an error, 2 for a
/// usage error (clap's own included, printed with the same `slonik-gen: ` prefix as every
/// other message), 3 for drift or a slon that does not run. With `--output FILE` what
/// would go to stdout is written to FILE once the command has run to its end.
pub fn main() -> ExitCode {
    ignore_file_size_signal();
    // Run through a link named like an altperl tool (slonik_failover, ...): take its arguments.
    if let Some(code) = altperl::run_if_invoked_as_altperl() {
        return code;
    }
    let mut cli = args::parse();
    if cli.output.as_deref() == Some(Path::new("-")) {
        cli.output = None;
    }
    use clap::error::ErrorKind;
    if cli.check.is_some() && cli.write_config.is_some() {
        args::exit(args::usage_error(
            ErrorKind::ArgumentConflict,
            "--check and --write-config cannot be used together: --check compares the script with a file and prints nothing, so there is no script whose state --write-config could record; run the check, then the command with --write-config",
        ));
    }
    if cli.check.is_some() && cli.output.is_some() {
        args::exit(args::usage_error(
            ErrorKind::ArgumentConflict,
            "--check and --output cannot be used together: --check compares with a file and prints nothing, so there is nothing to write to --output",
        ));
    }
    if cli.output.is_some() && cli.output == cli.write_config {
        args::exit(args::usage_error(
            ErrorKind::ArgumentConflict,
            "--output and --write-config name the same file: give the script and the next config a file each",
        ));
    }
    let mut sink = Sink::new(cli.output.clone());
    match run(cli, &mut sink).and_then(|code| sink.finish().map(|()| code)) {
        Ok(code) => code,
        Err(err) => {
            eprintln!("slonik-gen: error: {}", crate::error::Report(&err));
            ExitCode::FAILURE
        }
    }
}

/// `slonik-gen man`: the man page of slonik-gen, then those of its commands
/// (`slonik-gen-create-set(1)`, `slonik-gen-slon-start(1)`, ...) that its SUBCOMMANDS
/// section names, as one roff document (`man -l` shows them one after the other), all
/// generated from the command the binary parses with.
pub fn man_pages(out: &mut dyn Write) -> std::io::Result<()> {
    fn pages(command: &clap::Command, out: &mut dyn Write) -> std::io::Result<()> {
        clap_mangen::Man::new(command.clone()).render(out)?;
        for sub in command.get_subcommands().filter(|sub| !sub.is_hide_set()) {
            pages(sub, out)?;
        }
        Ok(())
    }
    use clap::CommandFactory;
    let mut command = args::Cli::command().disable_help_subcommand(true);
    command.build();
    let mut roff = Vec::new();
    pages(&command, &mut roff)?;
    // clap_mangen writes help text as it is; troff wants ASCII input (`man -l -` warns
    // "invalid input character" on UTF-8), so every other character becomes groff's
    // `\[uXXXX]` escape, which mandoc reads too.
    let mut ascii = String::with_capacity(roff.len());
    for c in String::from_utf8_lossy(&roff).chars() {
        if c.is_ascii() {
            ascii.push(c);
        } else {
            ascii.push_str(&format!("\\[u{:04X}]", u32::from(c)));
        }
    }
    out.write_all(ascii.as_bytes())
}

/// `--output` is a usage error for a command that prints nothing on stdout.
fn no_output(given: bool, command: &str) {
    if given {
        args::exit(args::usage_error(
            clap::error::ErrorKind::ArgumentConflict,
            format!(
                "{command} prints nothing on stdout, so there is nothing to write to --output: leave it out"
            ),
        ));
    }
}

/// A write past the file-size limit (`ulimit -f`) raises SIGXFSZ, which by default kills
/// the process in the middle of writing a config's temporary file. Ignored, the write fails
/// with EFBIG instead: the error is reported, the temporary file removed, the old config
/// left as it was.
fn ignore_file_size_signal() {
    #[cfg(unix)]
    // SAFETY: setting a signal's disposition to SIG_IGN installs no handler code and
    // happens before any other thread exists.
    unsafe {
        libc::signal(libc::SIGXFSZ, libc::SIG_IGN);
    }
}

fn run(cli: args::Cli, out: &mut Sink) -> Result<ExitCode, crate::Error> {
    let quiet = cli.quiet;
    let to_file = cli.output.is_some();
    // Usage errors first (exit 2), before the config is read.
    let job = match cli.command {
        args::Command::Import(command) => {
            no_output(
                to_file && cli.write_config.is_some(),
                "import with --write-config",
            );
            return import::run_with(
                &command.request(),
                cli.slony_version,
                cli.write_config.as_deref(),
                quiet,
                out,
                &mut std::io::stderr().lock(),
            );
        }
        args::Command::ImportTool(tool) => {
            return import::run_with(
                &tool.request(cli.config),
                cli.slony_version,
                cli.write_config.as_deref(),
                quiet,
                out,
                &mut std::io::stderr().lock(),
            )
        }
        args::Command::Show => return run_show(cli, out),
        args::Command::Golden(args) => {
            no_output(to_file, "golden");
            return run_golden(
                &cli.config,
                cli.slony_version,
                cli.check,
                cli.write_config.is_some(),
                quiet,
                &args,
            );
        }
        args::Command::SlonConf(args) => {
            no_output(to_file && args.all, "slon-conf --all");
            return run_slon_conf(&cli.config, cli.slony_version, &args, out);
        }
        args::Command::Slon(command) => {
            no_script_flags(cli.check.is_some() || cli.write_config.is_some(), "slon");
            return run_slon(&cli.config, cli.slony_version, &command, out);
        }
        args::Command::SlonUnit(args) => {
            no_script_flags(cli.check.is_some() || cli.write_config.is_some(), "slon-unit");
            no_output(to_file && args.all, "slon-unit --all");
            return run_slon_unit(&cli.config, cli.slony_version, &args, quiet, out);
        }
        #[cfg(feature = "import-live")]
        args::Command::Status(args) => {
            return run_status(
                &cli.config,
                cli.slony_version,
                cli.check.is_some() || cli.write_config.is_some(),
                quiet,
                &args,
                out,
            )
        }
        #[cfg(feature = "import-live")]
        args::Command::Compare(args) => {
            no_script_flags(cli.check.is_some() || cli.write_config.is_some(), "compare");
            return run_compare(&cli.config, cli.slony_version, quiet, &args, out);
        }
        #[cfg(feature = "import-live")]
        args::Command::Discover(args) => {
            no_script_flags(cli.check.is_some() || cli.write_config.is_some(), "discover");
            return run_discover(&cli.config, cli.slony_version, quiet, &args, out);
        }
        args::Command::Completions(args) => {
            no_script_flags(cli.check.is_some() || cli.write_config.is_some(), "completions");
            let mut command = args::command();
            clap_complete::generate(args.shell.generator(), &mut command, args::PROGRAM, out);
            out.flush().map_err(output)?;
            return Ok(ExitCode::SUCCESS);
        }
        args::Command::Man => {
            no_script_flags(cli.check.is_some() || cli.write_config.is_some(), "man");
            man_pages(out).map_err(output)?;
            out.flush().map_err(output)?;
            return Ok(ExitCode::SUCCESS);
        }
        args::Command::Runbook(args) => Err(args),
        args::Command::Operation(command) => Ok(command.operation().unwrap_or_else(|e| args::exit(e))),
    };
    let config = ConfigText::read(cli.config.as_deref())?;
    let cluster = config.load(cli.slony_version)?;
    let check = cli.check;
    let write_config = cli.write_config;
    let operation = match job {
        Ok(words) => words.resolve(&cluster)?,
        Err(args) => {
            return run_runbook(
                &cluster,
                &config,
                cli.slony_version,
                args,
                check,
                write_config,
                out,
            )
        }
    };
    preflight(&operation)?;
    let change = operation.run(&cluster)?;
    if let Some(golden) = check {
        return golden::check(&change.script.render()?, &golden, "script");
    }
    // The next config is written and synced under a temporary name first, the script is
    // written in full, and only then does the new config take the old one's place: a
    // failed write of either leaves the old config as it was.
    let staged = match &write_config {
        Some(path) => Some(config.stage_next(cli.slony_version, &change.next, path)?),
        None => None,
    };
    change.write_to(out)?;
    out.finish()?;
    if let (Some(staged), Some(path)) = (staged, &write_config) {
        crate::config_writer::commit(staged, path)?;
    }
    // The process ends here. Freeing 100,000 tables and statements one by one costs more
    // (measured: 5% of a large create-set) than letting the OS take the pages back at exit.
    std::mem::forget((change, cluster));
    Ok(ExitCode::SUCCESS)
}

/// `slonik-gen golden DIR` (write), `golden --update DIR` (write what changed) and
/// `--check DIR golden` (compare: exit 0 equal, 3 drift).
fn run_golden(
    config: &Option<std::path::PathBuf>,
    version: Option<crate::SlonyVersion>,
    check: Option<std::path::PathBuf>,
    write_config: bool,
    quiet: bool,
    args: &args::GoldenArgs,
) -> Result<ExitCode, crate::Error> {
    use clap::error::ErrorKind;
    if write_config {
        args::exit(args::usage_error(
            ErrorKind::ArgumentConflict,
            "golden writes the next configs into DIR itself (`*.next.toml`); leave out --write-config",
        ));
    }
    let (dir, checking) = match (&args.dir, check) {
        (Some(_), Some(_)) => args::exit(args::usage_error(
            ErrorKind::ArgumentConflict,
            "give DIR once: `golden DIR` writes it, `--check DIR golden` compares with it",
        )),
        (None, None) => args::exit(args::usage_error(
            ErrorKind::MissingRequiredArgument,
            "golden needs DIR: `golden DIR` writes the files, `--check DIR golden` compares with them",
        )),
        (Some(dir), None) => (dir.clone(), false),
        (None, Some(dir)) => (dir, true),
    };
    if checking && args.update {
        args::exit(args::usage_error(
            ErrorKind::ArgumentConflict,
            "--check compares and --update rewrites: choose one",
        ));
    }
    let config = ConfigText::read(config.as_deref())?;
    let cluster = config.load(version)?;
    let (path, text) = (&config.path, &config.text);
    let list = match &args.list {
        Some(list) => Some((
            list.clone(),
            std::fs::read_to_string(list).map_err(|source| {
                FrontendError::from(golden_dir::GoldenError::Io {
                    action: "read",
                    path: list.clone(),
                    source,
                })
            })?,
        )),
        None => None,
    };
    let files = golden_dir::golden_files(
        &cluster,
        text,
        path,
        list.as_ref().map(|(p, t)| (p.as_path(), t.as_str())),
    )?;
    if checking {
        let drift = golden_dir::compare(&files, &dir)?;
        if drift.is_empty() {
            return Ok(ExitCode::SUCCESS);
        }
        eprint!("{}", drift.report(&dir));
        return Ok(ExitCode::from(golden::DRIFT));
    }
    let said = golden_dir::write(&files, &dir, args.update)?;
    if quiet {
        return Ok(ExitCode::SUCCESS);
    }
    for line in &said {
        eprintln!("slonik-gen: {line}");
    }
    if said.is_empty() {
        eprintln!(
            "slonik-gen: {} files in {} are up to date",
            files.len(),
            crate::escape::visible(&dir.display().to_string())
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// `slonik-gen show`: the configuration as a person reads it on stdout, or with `--check`
/// compared with a golden file. `--write-config` is a usage error: show changes no state,
/// and silently writing nothing would surprise whoever asked for a file.
fn run_show(cli: args::Cli, out: &mut Sink) -> Result<ExitCode, crate::Error> {
    if cli.write_config.is_some() {
        args::exit(args::usage_error(
            clap::error::ErrorKind::ArgumentConflict,
            "show changes nothing, so --write-config has no state to write; copy the config file instead",
        ));
    }
    let cluster = load(&cli.config, cli.slony_version)?;
    let text = crate::show::show(&cluster);
    if let Some(golden) = cli.check {
        return golden::check(&text, &golden, "overview");
    }
    out.write_all(text.as_bytes()).map_err(output)?;
    out.flush().map_err(output)?;
    Ok(ExitCode::SUCCESS)
}

/// `slonik-gen runbook ...`: the plan in the asked format on stdout, nothing else; the
/// config written with the state after the plan, keeping the user's comments, once the
/// plan is on stdout in full.
fn run_runbook(
    cluster: &crate::Cluster,
    config: &ConfigText,
    version: Option<crate::SlonyVersion>,
    args: args::RunbookArgs,
    check: Option<std::path::PathBuf>,
    write_config: Option<std::path::PathBuf>,
    out: &mut Sink,
) -> Result<ExitCode, crate::Error> {
    let plan = args.plan.request().run(cluster)?;
    let text = plan.render(args.format)?;
    if let Some(golden) = check {
        return golden::check(&text, &golden, "runbook");
    }
    let staged = match &write_config {
        Some(path) => Some(config.stage_next(version, &plan.next, path)?),
        None => None,
    };
    out.write_all(text.as_bytes()).map_err(output)?;
    out.finish()?;
    if let (Some(staged), Some(path)) = (staged, &write_config) {
        crate::config_writer::commit(staged, path)?;
    }
    Ok(ExitCode::SUCCESS)
}

/// `slonik-gen slon-conf NODE` (the file on stdout) or `slon-conf --all --dir DIR` (one
/// `DIR/node<ID>.conf` per active node, each replaced atomically, 0600 when its conninfo
/// holds a password). Every file is rendered before the first is written, so a node
/// whose file cannot be produced leaves DIR as it was.
fn run_slon_conf(
    config: &Option<PathBuf>,
    version: Option<crate::SlonyVersion>,
    args: &args::SlonConfArgs,
    out: &mut Sink,
) -> Result<ExitCode, crate::Error> {
    use crate::slon::{conf, SlonConfError};
    let cluster = load(config, version)?;
    let settings_of = |id: crate::model::ids::NodeId| {
        cluster.slon_settings(id).ok_or_else(|| {
            let node = cluster
                .nodes
                .get(&id)
                .map(|n| n.label())
                .unwrap_or_else(|| format!("node {id}"));
            FrontendError::from(SlonConfError::NoConninfo { node })
        })
    };
    match (&args.node, &args.dir) {
        (Some(node), _) => {
            let id = crate::resolve::node(&cluster, node)?;
            let text = conf::render(&settings_of(id)?);
            out.write_all(text.as_bytes()).map_err(output)?;
            out.flush().map_err(output)?;
        }
        (None, Some(dir)) => {
            let mut files = Vec::new();
            for node in cluster.active_nodes() {
                let settings = settings_of(node.id)?;
                files.push((dir.join(format!("node{}.conf", node.id)), settings));
            }
            for (path, settings) in files {
                let mode = crate::atomic_file::Mode {
                    like: None,
                    secret: settings.holds_password(),
                };
                crate::atomic_file::write(&path, conf::render(&settings).as_bytes(), mode)
                    .map_err(|source| FrontendError::from(SlonConfError::Write { path, source }))?;
            }
        }
        // clap requires NODE or --all --dir; nothing to do is not reachable.
        (None, None) => {}
    }
    Ok(ExitCode::SUCCESS)
}

/// `--check` and `--write-config` are usage errors for commands that print no script.
fn no_script_flags(given: bool, command: &str) {
    if given {
        args::exit(args::usage_error(
            clap::error::ErrorKind::ArgumentConflict,
            format!("{command} prints no script and changes no state: leave out --check and --write-config"),
        ));
    }
}

/// The nodes a `slon` command names: each as `2` or `node2`, or with `--all` every node that
/// has not failed. A failed node named explicitly is refused. All are resolved before any
/// is acted on, so a typo starts or stops nothing.
pub fn slon_nodes(
    cluster: &crate::Cluster,
    nodes: &[String],
    all: bool,
) -> Result<Vec<crate::model::ids::NodeId>, crate::Error> {
    if all {
        return Ok(cluster.active_nodes().map(|n| n.id).collect());
    }
    let mut ids = Vec::new();
    for word in nodes {
        let id = crate::resolve::node(cluster, word)?;
        if let Some(node) = cluster.nodes.get(&id).filter(|n| n.failed) {
            return Err(FrontendError::SlonOfFailedNode { node: node.label() }.into());
        }
        if !ids.contains(&id) {
            ids.push(id);
        }
    }
    Ok(ids)
}

/// Which `slon` command runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SlonAction {
    /// `slon start`.
    Start,
    /// `slon stop`.
    Stop,
    /// `slon status`.
    Status,
}

/// The outcome of one node's `slon` command: the line for stdout and whether the node is
/// as the command wants it (started/running: running; stopped: gone), or the error.
pub fn slon_act(
    cluster: &crate::Cluster,
    node: crate::model::ids::NodeId,
    action: SlonAction,
) -> Result<(String, bool), crate::Error> {
    use crate::slon::control::{self, ControlError, Started, Stopped};
    let ctl_err = |e: ControlError| crate::Error::from(FrontendError::from(e));
    let run = crate::slon::run::SlonRun::of(cluster, node).ok_or_else(|| {
        ctl_err(ControlError::Incomplete {
            node: format!("node {node}"),
        })
    })?;
    let who = crate::escape::visible(&run.node_label).into_owned();
    Ok(match action {
        SlonAction::Start => {
            let (what, pid, written) = match control::start(cluster, &run).map_err(ctl_err)? {
                Started::Started { pid, conf_written } => ("started", pid, conf_written),
                Started::AlreadyRunning { pid, conf_written } => ("already running", pid, conf_written),
            };
            let mut line = format!("{who}: slon {what}");
            if let Some(pid) = pid {
                line.push_str(&format!(", pid {pid}"));
            }
            if written {
                line.push_str(&format!(
                    "; wrote its config {}",
                    crate::escape::visible(&run.conf_file)
                ));
            }
            (line, true)
        }
        SlonAction::Stop => {
            let line = match control::stop(&run).map_err(ctl_err)? {
                Stopped::Stopped { pid: Some(pid), by } => format!("{who}: slon stopped, pid {pid} ({by})"),
                Stopped::Stopped { pid: None, by } => format!("{who}: slon stopped ({by})"),
                Stopped::NotRunning { removed_stale: true } => format!(
                    "{who}: slon not running; removed the stale pid file {}",
                    crate::escape::visible(run.pid_file.as_deref().unwrap_or(""))
                ),
                Stopped::NotRunning { removed_stale: false } => format!("{who}: slon not running"),
            };
            (line, true)
        }
        SlonAction::Status => {
            let status = control::status(&run).map_err(ctl_err)?;
            (
                format!("{who}: slon {}", crate::escape::visible(&status.line())),
                status.running,
            )
        }
    })
}

/// `slonik-gen slon start|stop|status`: one line per node on stdout, errors on stderr.
/// Exit: start and stop 0 when every node is as asked, 1 otherwise; status 0 when every
/// slon runs, 3 when one does not, 1 on an error.
fn run_slon(
    config: &Option<PathBuf>,
    version: Option<crate::SlonyVersion>,
    command: &args::SlonCommand,
    out: &mut Sink,
) -> Result<ExitCode, crate::Error> {
    let (action, which) = match command {
        args::SlonCommand::Start(which) => (SlonAction::Start, which),
        args::SlonCommand::Stop(which) => (SlonAction::Stop, which),
        args::SlonCommand::Status(which) => (SlonAction::Status, which),
    };
    let cluster = load(config, version)?;
    let nodes = slon_nodes(&cluster, &which.nodes, which.all)?;
    let mut failed = false;
    let mut not_running = false;
    for node in nodes {
        match slon_act(&cluster, node, action) {
            Ok((line, as_asked)) => {
                writeln!(out, "{line}").map_err(output)?;
                out.flush().map_err(output)?;
                not_running |= !as_asked;
            }
            Err(e) => {
                eprintln!("slonik-gen: error: {}", crate::error::Report(&e));
                failed = true;
            }
        }
    }
    Ok(if failed {
        ExitCode::FAILURE
    } else if not_running {
        ExitCode::from(3)
    } else {
        ExitCode::SUCCESS
    })
}

/// `slonik-gen slon-unit NODE` (the unit on stdout) or `slon-unit --all --dir DIR` (one
/// `DIR/<unit name>` per active node, each replaced atomically, mode 0644, each named on
/// stderr). Every unit is rendered before the first is written.
fn run_slon_unit(
    config: &Option<PathBuf>,
    version: Option<crate::SlonyVersion>,
    args: &args::SlonUnitArgs,
    quiet: bool,
    out: &mut Sink,
) -> Result<ExitCode, crate::Error> {
    use crate::slon::unit;
    let cluster = load(config, version)?;
    let not_a_node = |id: crate::model::ids::NodeId| -> crate::Error {
        crate::resolve::node(&cluster, &id.to_string())
            .err()
            .map(crate::Error::from)
            .unwrap_or_else(|| output(std::io::Error::other(format!("node {id} has no unit"))))
    };
    match (&args.node, &args.dir) {
        (Some(node), _) => {
            let id = crate::resolve::node(&cluster, node)?;
            let text = unit::render(&cluster, id).ok_or_else(|| not_a_node(id))?;
            out.write_all(text.as_bytes()).map_err(output)?;
            out.flush().map_err(output)?;
        }
        (None, Some(dir)) => {
            let mut files = Vec::new();
            for node in cluster.active_nodes() {
                let text = unit::render(&cluster, node.id).ok_or_else(|| not_a_node(node.id))?;
                let name = unit::unit_name(&cluster, node.id).ok_or_else(|| not_a_node(node.id))?;
                files.push((dir.join(name), text));
            }
            for (path, text) in files {
                let failed = |source| FrontendError::WriteUnit {
                    path: path.clone(),
                    source,
                };
                crate::atomic_file::write(&path, text.as_bytes(), crate::atomic_file::Mode::default())
                    .map_err(failed)?;
                #[cfg(unix)]
                {
                    use std::os::unix::fs::PermissionsExt;
                    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644))
                        .map_err(failed)?;
                }
                if !quiet {
                    eprintln!(
                        "slonik-gen: wrote {}",
                        crate::escape::visible(&path.display().to_string())
                    );
                }
            }
        }
        // clap requires NODE or --all --dir.
        (None, None) => {}
    }
    Ok(ExitCode::SUCCESS)
}

/// `slonik-gen status`: the cluster's status on stdout (text or JSON) and a one-line
/// verdict on stderr; exit 0 ok, 1 a node could not be read (the rest is still shown),
/// 3 lag over `--max-lag` with every node read.
#[cfg(feature = "import-live")]
fn run_status(
    config: &Option<PathBuf>,
    version: Option<crate::SlonyVersion>,
    check_or_write: bool,
    quiet: bool,
    args: &args::StatusArgs,
    out: &mut Sink,
) -> Result<ExitCode, crate::Error> {
    use crate::import::live::status::{read_status, StatusOptions, Verdict};
    // Usage errors exit 2 before the config is read, like every other command's.
    let seconds = |flag: &str, value: f64| {
        std::time::Duration::try_from_secs_f64(value).unwrap_or_else(|_| {
            args::exit(args::usage_error(
                clap::error::ErrorKind::ValueValidation,
                format!("{flag}: give a number of seconds, 0 or more"),
            ))
        })
    };
    if check_or_write {
        args::exit(args::usage_error(
            clap::error::ErrorKind::ArgumentConflict,
            "status prints a report, not a script: leave out --check and --write-config",
        ));
    }
    let max_lag = args.max_lag.map(|v| seconds("--max-lag", v));
    let timeout = seconds("--connect-timeout", args.connect_timeout);
    let cluster = load(config, version)?;
    let status = read_status(&cluster, StatusOptions::default().connect_timeout(timeout));
    let text = match args.format.as_str() {
        "json" => status.to_json(),
        _ => status.to_text(),
    };
    out.write_all(text.as_bytes()).map_err(output)?;
    out.flush().map_err(output)?;
    let verdict = status.verdict(max_lag);
    // The verdict line is information when all is well, a report otherwise.
    if !(quiet && matches!(verdict, Verdict::Ok)) {
        eprintln!("slonik-gen: {}", status.check_line(max_lag));
    }
    Ok(match verdict {
        Verdict::Ok => ExitCode::SUCCESS,
        Verdict::OverLag => ExitCode::from(3),
        _ => ExitCode::FAILURE,
    })
}

/// `slonik-gen compare SET`: the report on stdout (text or JSON), a one-line summary on
/// stderr; exit 0 equal, 3 a difference, 1 an error (nothing on stdout).
#[cfg(feature = "import-live")]
fn run_compare(
    config: &Option<PathBuf>,
    version: Option<crate::SlonyVersion>,
    quiet: bool,
    args: &args::CompareArgs,
    out: &mut Sink,
) -> Result<ExitCode, crate::Error> {
    use crate::import::live::compare::{compare_set, CompareOptions};
    let cluster = load(config, version)?;
    let set = crate::resolve::set(&cluster, &args.set)?;
    let nodes = args
        .nodes
        .iter()
        .map(|n| crate::resolve::node(&cluster, n))
        .collect::<Result<Vec<_>, _>>()?;
    let options = CompareOptions::default()
        .chunk_rows(args.chunk_rows)
        .retries(args.retries)
        .nodes(nodes);
    let report = compare_set(&cluster, set, &options)?;
    let text = match args.format.as_str() {
        "json" => report.to_json(),
        _ => report.to_text(),
    };
    out.write_all(text.as_bytes()).map_err(output)?;
    out.flush().map_err(output)?;
    let equal = report.equal();
    if !(quiet && equal) {
        eprintln!("slonik-gen: {}", crate::escape::visible(&report.summary()));
    }
    Ok(if equal {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(3)
    })
}

/// `slonik-gen discover`: a `[[set]]` of the database's tables and sequences on stdout
/// (the refused tables named on stderr), or with `--missing` the relations no set of the
/// config holds (exit 3 when any).
#[cfg(feature = "import-live")]
fn run_discover(
    config: &Option<PathBuf>,
    version: Option<crate::SlonyVersion>,
    quiet: bool,
    args: &args::DiscoverArgs,
    out: &mut Sink,
) -> Result<ExitCode, crate::Error> {
    use crate::import::live::discover::{self, Relation, Scope, SetHeader};
    use crate::import::live::shown_conninfo;
    use crate::import::ImportError;
    let timeout = std::time::Duration::try_from_secs_f64(args.connect_timeout).unwrap_or_else(|_| {
        args::exit(args::usage_error(
            clap::error::ErrorKind::ValueValidation,
            "--connect-timeout: give a number of seconds, 0 or more",
        ))
    });
    let shown = shown_conninfo(&args.conninfo);
    let live = |message: String| -> crate::Error {
        ImportError::Live {
            conninfo: shown.clone(),
            message: crate::escape::visible(&crate::model::conninfo::redact_secrets(&message)).into_owned(),
        }
        .into()
    };
    if args.missing {
        let cluster = load(config, version)?;
        let mut in_sets = std::collections::BTreeSet::new();
        let mut schemas: std::collections::BTreeSet<String> = args.schemas.iter().cloned().collect();
        let from_sets = schemas.is_empty();
        for set in cluster.sets.values() {
            let names = set
                .tables
                .iter()
                .map(|t| &t.name)
                .chain(set.sequences.iter().map(|s| &s.name));
            for name in names {
                if from_sets {
                    schemas.insert(name.schema.clone());
                }
                in_sets.insert(Relation::new(name.schema.clone(), name.name.clone()));
            }
        }
        if schemas.is_empty() {
            return Err(ImportError::Usage(
                "discover --missing: the config's sets name no table or sequence, so there is no schema to check: give --schema".into(),
            )
            .into());
        }
        let snapshot = discover::read_snapshot(&args.conninfo, Some(timeout)).map_err(live)?;
        let lines = discover::missing(&snapshot, &schemas, &in_sets);
        let mut text = String::new();
        for line in &lines {
            text.push_str(line);
            text.push('\n');
        }
        out.write_all(text.as_bytes()).map_err(output)?;
        out.flush().map_err(output)?;
        if lines.is_empty() {
            if !quiet {
                eprintln!("slonik-gen: every table and sequence of the sets' schemas is in a set");
            }
            return Ok(ExitCode::SUCCESS);
        }
        eprintln!(
            "slonik-gen: {} relation(s) in no set: add them to a set (add-tables) or leave them out knowingly",
            lines.len()
        );
        return Ok(ExitCode::from(3));
    }
    let schemas = if args.schemas.is_empty() {
        vec!["public".to_string()]
    } else {
        args.schemas.clone()
    };
    let scope = if args.from.is_empty() {
        Scope::Schemas(schemas)
    } else {
        Scope::From(
            args.from
                .iter()
                .map(|t| Relation::parse(t, &schemas[0]))
                .collect(),
        )
    };
    let snapshot = discover::read_snapshot(&args.conninfo, Some(timeout)).map_err(live)?;
    let found = discover::discover(&snapshot, &scope).map_err(live)?;
    let set = SetHeader {
        name: args.set.clone(),
        id: args.id,
    };
    let list = args
        .tables_file
        .as_ref()
        .map(|p| p.to_string_lossy().into_owned());
    let text = found.to_toml(&set, &shown, list.as_deref());
    if let Some(path) = &args.tables_file {
        crate::atomic_file::write(path, found.tables_file().as_bytes(), Default::default()).map_err(|e| {
            crate::Error::from(ImportError::Links {
                path: path.clone(),
                message: format!("cannot write the tables file: {e}"),
            })
        })?;
        if !quiet {
            eprintln!(
                "slonik-gen: wrote {}",
                crate::escape::visible(&path.to_string_lossy())
            );
        }
    }
    out.write_all(text.as_bytes()).map_err(output)?;
    out.flush().map_err(output)?;
    for line in found.refused_lines() {
        eprintln!("slonik-gen: {line}");
    }
    for schema in &found.empty_schemas {
        eprintln!(
            "slonik-gen: schema {} holds no table or sequence: check its spelling (names are case-sensitive)",
            crate::escape::visible(schema)
        );
    }
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_config_search_takes_the_first_directory_holding_the_file() {
        let here = tempfile::tempdir().unwrap();
        let system = tempfile::tempdir().unwrap();
        let dirs = [here.path(), system.path()];
        let expected = |dir: &Path| dir.join(CONFIG_FILE_NAME);
        assert_eq!(
            search_config(&dirs),
            Err(vec![expected(here.path()), expected(system.path())])
        );
        std::fs::write(expected(system.path()), "").unwrap();
        assert_eq!(search_config(&dirs), Ok(expected(system.path())));
        std::fs::write(expected(here.path()), "").unwrap();
        assert_eq!(search_config(&dirs), Ok(expected(here.path())));
    }

    #[test]
    fn the_search_looks_in_the_current_directory_then_etc() {
        assert_eq!(
            config_search_dirs(),
            [Path::new(""), Path::new("/etc/slonik-gen")]
        );
        assert_eq!(Path::new("").join(CONFIG_FILE_NAME), Path::new("slonik-gen.toml"));
    }

    #[test]
    fn usage_errors_carry_the_program_name_and_help_does_not() {
        let error = args::parse_from(["slonik-gen", "frobnicate"]).unwrap_err();
        let text = args::rendered(&error);
        assert!(
            text.starts_with("slonik-gen: error: unrecognized subcommand 'frobnicate'\n"),
            "{text}"
        );
        assert!(text.contains("\nUsage: slonik-gen"), "{text}");
        assert_eq!(error.exit_code(), 2);
        let help = args::parse_from(["slonik-gen", "--help"]).unwrap_err();
        assert!(args::rendered(&help).starts_with("Generate slonik scripts"));
        assert_eq!(help.exit_code(), 0);
    }

    #[test]
    fn the_man_page_is_ascii_roff_with_a_page_per_command() {
        let mut roff = Vec::new();
        man_pages(&mut roff).unwrap();
        let roff = String::from_utf8(roff).unwrap();
        assert!(roff.is_ascii());
        assert!(roff.contains("\n.TH slonik-gen 1 "), "{}", &roff[..200]);
        assert!(roff.contains("\n.TH slonik-gen-create-set 1 "));
        assert!(roff.contains("\n.TH slonik-gen-slon-start 1 "));
        assert!(roff.contains("\\[u2026]next.toml"));
    }
}
