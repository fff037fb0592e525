//! The command-line front end (feature `cli`): argument parsing (clap, [`args`]), the
//! altperl drop-in ([`altperl`]), golden-file checks ([`golden`]), the import commands
//! ([`import`]), config writing, printing and exit codes. Everything else in the crate
//! returns data and typed errors; only this module prints, exits or reads argv, and
//! `src/main.rs` is the allocator and a call of [`main`].

pub mod altperl;
pub mod args;
pub mod golden;
pub mod golden_dir;
pub mod import;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Parser;

use crate::ops::{Ddl, Operation, Refusal};

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

/// The config file to read: `--config`, else `$SLONIK_GEN_CONFIG`, else `./slonik-gen.toml`.
pub fn config_path(flag: Option<&Path>) -> PathBuf {
    flag.map(Path::to_path_buf)
        .or_else(|| {
            std::env::var_os("SLONIK_GEN_CONFIG")
                .filter(|v| !v.is_empty())
                .map(PathBuf::from)
        })
        .unwrap_or_else(|| PathBuf::from("slonik-gen.toml"))
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
/// usage error.
pub fn main() -> ExitCode {
    ignore_file_size_signal();
    // Run through a link named like an altperl tool (slonik_failover, ...): take its arguments.
    if let Some(code) = altperl::run_if_invoked_as_altperl() {
        return code;
    }
    let cli = args::Cli::parse();
    if cli.check.is_some() && cli.write_config.is_some() {
        args::usage_error(
            clap::error::ErrorKind::ArgumentConflict,
            "--check and --write-config cannot be used together: --check compares the script with a file and prints nothing, so there is no script whose state --write-config could record; run the check, then the command with --write-config",
        )
        .exit();
    }
    match run(cli) {
        Ok(code) => code,
        Err(err) => {
            eprintln!("slonik-gen: error: {}", crate::error::Report(&err));
            ExitCode::FAILURE
        }
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

fn run(cli: args::Cli) -> Result<ExitCode, crate::Error> {
    // Usage errors first (exit 2), before the config is read.
    let job = match cli.command {
        args::Command::Import(command) => {
            return import::run_writing(&command.request(), cli.slony_version, cli.write_config.as_deref())
        }
        args::Command::ImportTool(tool) => {
            return import::run_writing(
                &tool.request(cli.config),
                cli.slony_version,
                cli.write_config.as_deref(),
            )
        }
        args::Command::Show => return run_show(cli),
        args::Command::Golden(args) => {
            return run_golden(
                &cli.config,
                cli.slony_version,
                cli.check,
                cli.write_config.is_some(),
                &args,
            )
        }
        args::Command::SlonConf(args) => return run_slon_conf(&cli.config, cli.slony_version, &args),
        args::Command::Slon(command) => {
            no_script_flags(cli.check.is_some() || cli.write_config.is_some(), "slon");
            return run_slon(&cli.config, cli.slony_version, &command);
        }
        args::Command::SlonUnit(args) => {
            no_script_flags(cli.check.is_some() || cli.write_config.is_some(), "slon-unit");
            return run_slon_unit(&cli.config, cli.slony_version, &args);
        }
        #[cfg(feature = "import-live")]
        args::Command::Status(args) => {
            return run_status(
                &cli.config,
                cli.slony_version,
                cli.check.is_some() || cli.write_config.is_some(),
                &args,
            )
        }
        args::Command::Runbook(args) => Err(args),
        args::Command::Operation(command) => Ok(command.operation().unwrap_or_else(|e| e.exit())),
    };
    let config = config_path(cli.config.as_deref());
    let cluster = crate::load_config(&config, cli.slony_version)?;
    let check = cli.check;
    let write_config = cli.write_config;
    let operation = match job {
        Ok(words) => words.resolve(&cluster)?,
        Err(args) => return run_runbook(&cluster, &config, cli.slony_version, args, check, write_config),
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
        Some(path) => Some(crate::config_writer::stage_config(
            &config,
            cli.slony_version,
            &change.next,
            path,
        )?),
        None => None,
    };
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    change.write_to(&mut out)?;
    out.flush().map_err(output)?;
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
    args: &args::GoldenArgs,
) -> Result<ExitCode, crate::Error> {
    use clap::error::ErrorKind;
    if write_config {
        args::usage_error(
            ErrorKind::ArgumentConflict,
            "golden writes the next configs into DIR itself (`*.next.toml`); leave out --write-config",
        )
        .exit();
    }
    let (dir, checking) = match (&args.dir, check) {
        (Some(_), Some(_)) => args::usage_error(
            ErrorKind::ArgumentConflict,
            "give DIR once: `golden DIR` writes it, `--check DIR golden` compares with it",
        )
        .exit(),
        (None, None) => args::usage_error(
            ErrorKind::MissingRequiredArgument,
            "golden needs DIR: `golden DIR` writes the files, `--check DIR golden` compares with them",
        )
        .exit(),
        (Some(dir), None) => (dir.clone(), false),
        (None, Some(dir)) => (dir, true),
    };
    if checking && args.update {
        args::usage_error(
            ErrorKind::ArgumentConflict,
            "--check compares and --update rewrites: choose one",
        )
        .exit();
    }
    let path = config_path(config.as_deref());
    let cluster = crate::load_config(&path, version)?;
    let text = std::fs::read_to_string(&path).map_err(|source| crate::load::LoadError::ReadConfig {
        path: path.clone(),
        source,
    })?;
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
        &text,
        &path,
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
fn run_show(cli: args::Cli) -> Result<ExitCode, crate::Error> {
    if cli.write_config.is_some() {
        args::usage_error(
            clap::error::ErrorKind::ArgumentConflict,
            "show changes nothing, so --write-config has no state to write; copy the config file instead",
        )
        .exit();
    }
    let cluster = crate::load_config(config_path(cli.config.as_deref()), cli.slony_version)?;
    let text = crate::show::show(&cluster);
    if let Some(golden) = cli.check {
        return golden::check(&text, &golden, "overview");
    }
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    out.write_all(text.as_bytes()).map_err(output)?;
    out.flush().map_err(output)?;
    Ok(ExitCode::SUCCESS)
}

/// `slonik-gen runbook ...`: the plan in the asked format on stdout, nothing else; the
/// config written with the state after the plan, keeping the user's comments, once the
/// plan is on stdout in full.
fn run_runbook(
    cluster: &crate::Cluster,
    config: &std::path::Path,
    version: Option<crate::SlonyVersion>,
    args: args::RunbookArgs,
    check: Option<std::path::PathBuf>,
    write_config: Option<std::path::PathBuf>,
) -> Result<ExitCode, crate::Error> {
    let plan = args.plan.request().run(cluster)?;
    let text = plan.render(args.format)?;
    if let Some(golden) = check {
        return golden::check(&text, &golden, "runbook");
    }
    let staged = match &write_config {
        Some(path) => Some(crate::config_writer::stage_config(
            config, version, &plan.next, path,
        )?),
        None => None,
    };
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    out.write_all(text.as_bytes()).map_err(output)?;
    out.flush().map_err(output)?;
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
) -> Result<ExitCode, crate::Error> {
    use crate::slon::{conf, SlonConfError};
    let cluster = crate::load_config(config_path(config.as_deref()), version)?;
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
            let stdout = std::io::stdout();
            let mut out = stdout.lock();
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
        args::usage_error(
            clap::error::ErrorKind::ArgumentConflict,
            format!("{command} prints no script and changes no state: leave out --check and --write-config"),
        )
        .exit();
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
) -> Result<ExitCode, crate::Error> {
    let (action, which) = match command {
        args::SlonCommand::Start(which) => (SlonAction::Start, which),
        args::SlonCommand::Stop(which) => (SlonAction::Stop, which),
        args::SlonCommand::Status(which) => (SlonAction::Status, which),
    };
    let cluster = crate::load_config(config_path(config.as_deref()), version)?;
    let nodes = slon_nodes(&cluster, &which.nodes, which.all)?;
    let mut failed = false;
    let mut not_running = false;
    for node in nodes {
        match slon_act(&cluster, node, action) {
            Ok((line, as_asked)) => {
                let stdout = std::io::stdout();
                let mut out = stdout.lock();
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
) -> Result<ExitCode, crate::Error> {
    use crate::slon::unit;
    let cluster = crate::load_config(config_path(config.as_deref()), version)?;
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
            let stdout = std::io::stdout();
            let mut out = stdout.lock();
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
                eprintln!(
                    "slonik-gen: wrote {}",
                    crate::escape::visible(&path.display().to_string())
                );
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
    args: &args::StatusArgs,
) -> Result<ExitCode, crate::Error> {
    use crate::import::live::status::{read_status, StatusOptions, Verdict};
    // Usage errors exit 2 before the config is read, like every other command's.
    let seconds = |flag: &str, value: f64| {
        std::time::Duration::try_from_secs_f64(value).unwrap_or_else(|_| {
            args::usage_error(
                clap::error::ErrorKind::ValueValidation,
                format!("{flag}: give a number of seconds, 0 or more"),
            )
            .exit()
        })
    };
    if check_or_write {
        args::usage_error(
            clap::error::ErrorKind::ArgumentConflict,
            "status prints a report, not a script: leave out --check and --write-config",
        )
        .exit();
    }
    let max_lag = args.max_lag.map(|v| seconds("--max-lag", v));
    let timeout = seconds("--connect-timeout", args.connect_timeout);
    let cluster = crate::load_config(config_path(config.as_deref()), version)?;
    let status = read_status(&cluster, StatusOptions::default().connect_timeout(timeout));
    let text = match args.format.as_str() {
        "json" => status.to_json(),
        _ => status.to_text(),
    };
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    out.write_all(text.as_bytes()).map_err(output)?;
    out.flush().map_err(output)?;
    eprintln!("slonik-gen: {}", status.check_line(max_lag));
    Ok(match status.verdict(max_lag) {
        Verdict::Ok => ExitCode::SUCCESS,
        Verdict::OverLag => ExitCode::from(3),
        _ => ExitCode::FAILURE,
    })
}
