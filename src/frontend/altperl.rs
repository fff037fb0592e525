//! The altperl drop-in: `slonik-gen` run through a link named `slonik_failover`,
//! `slonik_create_set`, ... takes that tool's arguments and prints our script, so an
//! existing `slonik_failover 1 2 | slonik` keeps working and gets correct output.
//!
//! Arguments are read the way altperl reads them (Getopt::Long with its defaults: options
//! before or after the operands, `--opt=value` or `--opt value`, one or two dashes, unique
//! abbreviations, any case, `--` ends the options; `node2` or `2` for a node). Where altperl
//! is sloppy we are strict, and only ever on stderr: an unknown option or a malformed
//! operand is a usage error (exit 2) instead of a warning followed by a broken script, and
//! the usage text never goes into the pipe.
//!
//! Links named `slon_start`, `slon_kill` and `slon_status` ([`SlonTool`]) take those tools'
//! command lines and start, stop or report the node's slon through
//! [`crate::slon::control`]; no `slon_watchdog` is forked.
//!
//! `--config FILE` (default `/etc/slony1/slon_tools.conf`, as altperl's) is read as a
//! slonik-gen TOML config when its name ends in `.toml`, otherwise as a slon_tools.conf
//! through [`super::altperl`].

use std::ffi::{OsStr, OsString};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use crate::import::altperl::{import_altperl, AltperlOptions};
use crate::import::ImportError;
use crate::model::Cluster;
use crate::ops::table::{
    self, Absent, AltperlRead, AltperlSource, AltperlTool, ArgKind, Need, OperationSpec, Words,
};
use crate::resolve::OperationArgs;

/// altperl's default config file.
pub const DEFAULT_CONFIG: &str = "/etc/slony1/slon_tools.conf";

/// An altperl script generator that the binary can stand in for: one [`AltperlTool`] of a
/// row of [`crate::ops::table::OPERATIONS`], where its name, operands and options live.
#[derive(Debug, Clone, Copy)]
pub struct AltperlCommand {
    operation: &'static OperationSpec,
    tool: &'static AltperlTool,
}

impl PartialEq for AltperlCommand {
    fn eq(&self, other: &Self) -> bool {
        self.tool.name == other.tool.name
    }
}

impl Eq for AltperlCommand {}

impl AltperlCommand {
    /// Every command, in the order `install-links` creates them (the table's).
    pub fn all() -> impl Iterator<Item = AltperlCommand> {
        table::altperl_tools().map(|(operation, tool)| AltperlCommand { operation, tool })
    }

    /// The command called `name` (`slonik_failover`).
    pub fn from_name(name: &str) -> Option<AltperlCommand> {
        AltperlCommand::all().find(|c| c.name() == name)
    }

    /// The command's file name (`slonik_create_set`).
    pub fn name(self) -> &'static str {
        self.tool.name
    }

    /// The operation it stands in for.
    pub fn operation(self) -> &'static OperationSpec {
        self.operation
    }

    /// How it reads its command line.
    pub fn tool(self) -> &'static AltperlTool {
        self.tool
    }

    /// The command a program path (`argv[0]`) names: its file name, with or without the
    /// `.pl` of an upstream source install.
    pub fn from_program(argv0: &OsStr) -> Option<AltperlCommand> {
        let name = Path::new(argv0).file_name()?.to_str()?;
        AltperlCommand::from_name(name.strip_suffix(".pl").unwrap_or(name))
    }

    /// The usage text (for `--help` on stdout, and after usage errors on stderr).
    pub fn usage(self) -> String {
        format!(
            "Usage: {} [--config file]{}\n\n\
             slonik-gen standing in for altperl's {}: prints the slonik script on stdout.\n\
             --config takes a slon_tools.conf (default {DEFAULT_CONFIG}) or a slonik-gen\n\
             config whose name ends in .toml. See `slonik-gen --help` and docs/import.md.\n",
            self.name(),
            self.tool.usage,
            self.name()
        )
    }

    /// Getopt::Long option specs: (names, takes a value); `--config` and `--help` first,
    /// then the tool's own in the order it reads them.
    fn options(self) -> Vec<(&'static [&'static str], bool)> {
        let mut specs: Vec<(&'static [&'static str], bool)> = vec![(&["config"], true), (&["help"], false)];
        specs.extend(self.tool.reads.iter().filter_map(|read| match read.from {
            AltperlSource::Option(names) => Some((names, true)),
            AltperlSource::Flag(names) => Some((names, false)),
            _ => None,
        }));
        specs
    }
}

/// A command line the drop-in cannot use: the message, shown with the usage on stderr.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct UsageError {
    /// What is wrong.
    pub message: String,
}

fn usage_error(message: impl Into<String>) -> UsageError {
    UsageError {
        message: message.into(),
    }
}

/// What a command line asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Request {
    /// `--help`.
    Help,
    /// Generate a script.
    Run {
        /// `--config`, else altperl's default.
        config: PathBuf,
        /// The operation with its arguments, as words; resolved once the config is read.
        operation: OperationArgs,
    },
}

/// Options and operands after Getopt::Long-style parsing.
#[derive(Debug, Default)]
struct Parsed {
    values: Vec<(&'static str, Option<String>)>,
    operands: Vec<String>,
}

impl Parsed {
    /// The last value given for an option (Getopt::Long keeps the last one).
    fn value(&self, key: &str) -> Option<&str> {
        self.values
            .iter()
            .rev()
            .find(|(k, _)| *k == key)
            .and_then(|(_, v)| v.as_deref())
    }

    fn flag(&self, key: &str) -> bool {
        self.values.iter().any(|(k, _)| *k == key)
    }
}

fn getopt(command: AltperlCommand, args: &[String]) -> Result<Parsed, UsageError> {
    getopt_with(&command.options(), args)
}

/// Getopt::Long over `specs`: (names, takes a value), the first name the key.
fn getopt_with(specs: &[(&'static [&'static str], bool)], args: &[String]) -> Result<Parsed, UsageError> {
    let mut parsed = Parsed::default();
    let mut rest = args.iter();
    while let Some(arg) = rest.next() {
        if arg == "--" {
            parsed.operands.extend(rest.by_ref().cloned());
            break;
        }
        let Some(body) = arg.strip_prefix("--").or_else(|| arg.strip_prefix('-')) else {
            parsed.operands.push(arg.clone());
            continue;
        };
        if body.is_empty() {
            // A lone `-` is an operand for Getopt::Long.
            parsed.operands.push(arg.clone());
            continue;
        }
        let (name, inline) = match body.split_once('=') {
            Some((name, value)) => (name, Some(value.to_string())),
            None => (body, None),
        };
        let wanted = name.to_ascii_lowercase();
        let all_names = specs
            .iter()
            .flat_map(|(names, takes)| names.iter().map(move |n| (*n, names[0], *takes)));
        let exact = all_names.clone().find(|(n, _, _)| *n == wanted);
        let (key, takes_value) = match exact {
            Some((_, key, takes)) => (key, takes),
            None => {
                let matches: Vec<(&str, bool)> = all_names
                    .filter(|(n, _, _)| n.starts_with(&wanted))
                    .map(|(_, key, takes)| (key, takes))
                    .collect();
                let mut keys: Vec<&str> = matches.iter().map(|(k, _)| *k).collect();
                keys.dedup();
                match keys.as_slice() {
                    [key] => (*key, matches[0].1),
                    [] => return Err(usage_error(format!("unknown option: {arg}"))),
                    _ => {
                        return Err(usage_error(format!(
                            "option {arg} is ambiguous ({})",
                            keys.join(", ")
                        )))
                    }
                }
            }
        };
        let value = if takes_value {
            match inline {
                Some(value) => Some(value),
                None => Some(
                    rest.next()
                        .cloned()
                        .ok_or_else(|| usage_error(format!("option {arg} requires an argument")))?,
                ),
            }
        } else if inline.is_some() {
            return Err(usage_error(format!("option --{key} does not take an argument")));
        } else {
            None
        };
        parsed.values.push((key, value));
    }
    Ok(parsed)
}

/// altperl's node operand: `^(?:node)?(\d+)$`, giving the digits.
fn node_operand(arg: Option<&String>, what: &str) -> Result<String, UsageError> {
    let arg = arg.ok_or_else(|| usage_error(format!("missing {what} (a node id such as 2 or node2)")))?;
    let digits = arg.strip_prefix("node").unwrap_or(arg);
    if !digits.is_empty() && digits.chars().all(|c| c.is_ascii_digit()) {
        Ok(digits.to_string())
    } else {
        Err(usage_error(format!(
            "{what} `{arg}` is not a node: write it as 2 or node2"
        )))
    }
}

/// One value as the tool checks it, by the kind of argument it fills: a node as altperl's
/// regex reads it, a SQL file as a full path to an existing file, anything else as given.
fn checked(kind: ArgKind, value: &String, label: &str) -> Result<String, UsageError> {
    match kind {
        ArgKind::Node => node_operand(Some(value), label),
        ArgKind::File if !value.starts_with('/') || !Path::new(value).is_file() => Err(usage_error(format!(
            "{label} `{value}` needs to be a full path to an existing file, e.g. /tmp/my_script.sql"
        ))),
        _ => Ok(value.clone()),
    }
}

/// Whether a value counts as given.
fn present(value: &str, absent: Absent) -> bool {
    match absent {
        Absent::Missing => true,
        Absent::Empty => !value.is_empty(),
        Absent::PerlFalse => !value.is_empty() && value != "0",
    }
}

/// The error for something required that is not there.
fn missing(read: &AltperlRead, kind: ArgKind) -> UsageError {
    match (read.need, kind) {
        (Need::RequiredOr(message), _) => usage_error(message),
        (_, ArgKind::Node) => usage_error(format!("missing {} (a node id such as 2 or node2)", read.label)),
        _ => usage_error(format!("missing {}", read.label)),
    }
}

/// Reads one thing the tool takes into `words`, checked as the tool checks it.
fn read_into(
    read: &AltperlRead,
    kind: ArgKind,
    parsed: &Parsed,
    words: &mut Words,
) -> Result<(), UsageError> {
    if read.unless.is_some_and(|other| words.has(other)) {
        return Ok(());
    }
    let ops = &parsed.operands;
    let single = match read.from {
        AltperlSource::Operand(at) => ops.get(at).map(String::as_str),
        AltperlSource::Option(names) => parsed.value(names[0]),
        AltperlSource::Flag(names) => {
            if parsed.flag(names[0]) {
                words.set(read.fills);
            }
            return Ok(());
        }
        AltperlSource::Operands => {
            if ops.is_empty() && read.need != Need::Optional {
                return Err(missing(read, kind));
            }
            for value in ops {
                words.push(read.fills, checked(kind, value, read.label)?);
            }
            return Ok(());
        }
        AltperlSource::Pairs { second, unpaired } => {
            if ops.len() > 2 && ops.len() % 2 == 1 {
                return Err(usage_error(unpaired));
            }
            // Fewer than one pair: the first missing one is reported by name.
            for at in 0..ops.len().max(2) {
                let label = if at % 2 == 0 { read.label } else { second };
                words.push(read.fills, node_operand(ops.get(at), label)?);
            }
            return Ok(());
        }
    };
    match single.filter(|value| present(value, read.absent)) {
        Some(value) => words.push(read.fills, checked(kind, &value.to_string(), read.label)?),
        None if read.need == Need::Optional => {}
        None => return Err(missing(read, kind)),
    }
    Ok(())
}

/// Parses the arguments (after `argv[0]`) of one altperl command.
pub fn parse_args(command: AltperlCommand, args: &[String]) -> Result<Request, UsageError> {
    let parsed = getopt(command, args)?;
    if parsed.flag("help") {
        return Ok(Request::Help);
    }
    let config = PathBuf::from(parsed.value("config").unwrap_or(DEFAULT_CONFIG));
    let spec = command.operation();
    let mut words = Words::new();
    for read in command.tool.reads {
        // Every fill names an argument of its row (the table's tests check it); were one
        // not to, its value would be passed on unchecked, as plain text.
        let kind = spec.arg(read.fills).map_or(ArgKind::Sql, |arg| arg.kind);
        read_into(read, kind, &parsed, &mut words)?;
    }
    let operation = spec
        .operation_args(&words)
        .map_err(|e| usage_error(e.to_string()))?;
    Ok(Request::Run { config, operation })
}

/// Loads `--config`: a slonik-gen TOML when the name ends in `.toml`, else a
/// slon_tools.conf through the importer. Returns the cluster and what perl printed.
pub fn load_config(path: &Path) -> Result<(Cluster, String), crate::Error> {
    if path.extension().is_some_and(|e| e == "toml") {
        return Ok((crate::load_config(path, None)?, String::new()));
    }
    let imported = import_altperl(path, &AltperlOptions::default())?;
    Ok((imported.cluster, imported.perl_output))
}

fn print_error(err: &mut dyn Write, program: &str, error: &dyn std::error::Error) {
    let _ = writeln!(err, "{program}: error: {}", crate::error::Report(error));
}

/// Runs one altperl command line (`args` without `argv[0]`). The script goes to `out` and
/// nothing else does; messages go to `err`. Exit codes: 0, 1 (cannot generate), 2 (usage).
pub fn run_command(
    command: AltperlCommand,
    args: &[OsString],
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> u8 {
    let program = command.name();
    let args: Vec<String> = match args
        .iter()
        .map(|a| a.to_str().map(str::to_string))
        .collect::<Option<_>>()
    {
        Some(args) => args,
        None => {
            let _ = writeln!(
                err,
                "{program}: an argument is not valid UTF-8\n\n{}",
                command.usage()
            );
            return 2;
        }
    };
    let (config, operation) = match parse_args(command, &args) {
        Ok(Request::Help) => {
            let _ = out.write_all(command.usage().as_bytes());
            return 0;
        }
        Ok(Request::Run { config, operation }) => (config, operation),
        Err(e) => {
            let _ = writeln!(err, "{program}: {e}\n\n{}", command.usage());
            return 2;
        }
    };
    let result = load_config(&config).and_then(|(cluster, perl_output)| {
        let _ = err.write_all(perl_output.as_bytes());
        let operation = operation.resolve(&cluster)?;
        super::preflight(&operation)?;
        let change = operation.run(&cluster)?;
        // Rendered fully before the first byte is written, so a failure leaves stdout empty.
        let text = change.script.render()?;
        out.write_all(text.as_bytes()).map_err(super::output)?;
        out.flush().map_err(super::output)
    });
    match result {
        Ok(()) => 0,
        Err(e) => {
            print_error(err, program, &e);
            1
        }
    }
}

/// The drop-in entry point for `main`: `Some(exit code)` when `argv[0]` names an altperl
/// command (the command has then run), `None` otherwise.
pub fn run_if_invoked_as_altperl() -> Option<ExitCode> {
    let mut argv = std::env::args_os();
    let program = argv.next()?;
    if let Some(tool) = SlonTool::from_program(&program) {
        let args: Vec<OsString> = argv.collect();
        let code = run_slon_tool(
            tool,
            &args,
            &mut std::io::stdout().lock(),
            &mut std::io::stderr().lock(),
        );
        return Some(ExitCode::from(code));
    }
    let command = AltperlCommand::from_program(&program)?;
    let args: Vec<OsString> = argv.collect();
    let code = run_command(
        command,
        &args,
        &mut std::io::stdout().lock(),
        &mut std::io::stderr().lock(),
    );
    Some(ExitCode::from(code))
}

/// What [`install_links`] did with one link.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LinkOutcome {
    /// Created.
    Created(PathBuf),
    /// Already a link to the binary.
    Present(PathBuf),
    /// Replaced an existing file (`--force`).
    Replaced(PathBuf),
}

/// Creates a symlink `DIR/slonik_*` → `target` for every altperl command, and
/// `DIR/slon_start`, `slon_kill`, `slon_status` for the [`SlonTool`]s. Refuses to replace
/// anything that is not already such a link unless `force` (it may be altperl itself).
pub fn install_links(dir: &Path, target: &Path, force: bool) -> Result<Vec<LinkOutcome>, ImportError> {
    let failed = |path: &Path, what: String| ImportError::Links {
        path: path.to_path_buf(),
        message: what,
    };
    std::fs::create_dir_all(dir).map_err(|e| failed(dir, format!("cannot create the directory: {e}")))?;
    // Check every link first, so a refusal changes nothing.
    let mut plan = Vec::new();
    let names = AltperlCommand::all()
        .map(AltperlCommand::name)
        .chain(SlonTool::ALL.iter().map(|t| t.name()));
    for name in names {
        let link = dir.join(name);
        let existing = std::fs::symlink_metadata(&link).ok();
        let outcome = match existing {
            None => LinkOutcome::Created(link),
            Some(_) if std::fs::read_link(&link).is_ok_and(|to| to == target) => LinkOutcome::Present(link),
            Some(_) if force => LinkOutcome::Replaced(link),
            Some(_) => {
                return Err(failed(
                    &link,
                    format!(
                        "exists and is not a link to {} (altperl's own tool?): move it away, pick another directory, or pass --force",
                        target.display()
                    ),
                ))
            }
        };
        plan.push(outcome);
    }
    for outcome in &plan {
        let (link, replace) = match outcome {
            LinkOutcome::Created(link) => (link, false),
            LinkOutcome::Replaced(link) => (link, true),
            LinkOutcome::Present(_) => continue,
        };
        if replace {
            std::fs::remove_file(link).map_err(|e| failed(link, format!("cannot remove it: {e}")))?;
        }
        symlink(target, link).map_err(|e| failed(link, format!("cannot create the link: {e}")))?;
    }
    Ok(plan)
}

#[cfg(unix)]
fn symlink(target: &Path, link: &Path) -> std::io::Result<()> {
    std::os::unix::fs::symlink(target, link)
}

#[cfg(not(unix))]
fn symlink(_target: &Path, _link: &Path) -> std::io::Result<()> {
    Err(std::io::Error::new(
        std::io::ErrorKind::Unsupported,
        "symbolic links are only created on Unix; copy the binary under the altperl names instead",
    ))
}

/// altperl's slon daemon tools the binary stands in for: `slon_start`, `slon_kill`,
/// `slon_status`, mapped onto [`crate::slon::control`] and run the way the node's
/// `[daemon]` says (a process on altperl's own pid files by default, so a slon that
/// altperl started is found and stopped too).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SlonTool {
    /// `slon_start [--config file] [--watchdog|--nowatchdog] [--sleep seconds] node#`.
    Start,
    /// `slon_kill [--config file] [-w|--watchdog] [--only-node=i]`.
    Kill,
    /// `slon_status [--config file] node#`.
    Status,
}

const SLON_START_USAGE: &str = "Usage: slon_start [--config file] [--watchdog|--nowatchdog]
       [--sleep seconds] node#

    --config file    Location of the slon_tools.conf file

    --watchdog       Start a watchdog process after starting the slon
                     daemon (default)

    --nowatchdog     Do not start a watchdog process

    --sleep seconds  Number of seconds for the watchdog process to sleep
                     between checks (default 30)

";

const SLON_KILL_USAGE: &str = "Usage: slon_kill [--config file] [-w|--watchdog] 

    --config file  Location of the slon_tools.conf file

    -w
    --watchdog     Only kill the watchdog process(es)

    Kills all running slon and slon_watchdog on this machine for every
    node in the cluster.

    --only-node=i Only kill slon processes for the indicated node
";

const SLON_STATUS_USAGE: &str = "Usage: slon_status [--config file] node#

    --config file    Location of the slon_tools.conf file

";

/// What `--watchdog` gets: slonik-gen starts no watchdog process.
pub const NO_WATCHDOG: &str = "slonik-gen starts no slon_watchdog: slon's own watchdog process restarts its worker, and `slonik-gen slon-unit` gives a systemd unit with Restart=on-failure to restart slon itself";

impl SlonTool {
    /// Every tool, in the order `install-links` creates them.
    pub const ALL: [SlonTool; 3] = [SlonTool::Start, SlonTool::Kill, SlonTool::Status];

    /// The tool's file name.
    pub fn name(self) -> &'static str {
        match self {
            SlonTool::Start => "slon_start",
            SlonTool::Kill => "slon_kill",
            SlonTool::Status => "slon_status",
        }
    }

    /// The tool called `name`.
    pub fn from_name(name: &str) -> Option<SlonTool> {
        SlonTool::ALL.into_iter().find(|t| t.name() == name)
    }

    /// The tool a program path (`argv[0]`) names, with or without `.pl`.
    pub fn from_program(argv0: &OsStr) -> Option<SlonTool> {
        let name = Path::new(argv0).file_name()?.to_str()?;
        SlonTool::from_name(name.strip_suffix(".pl").unwrap_or(name))
    }

    /// altperl's usage text, then what slonik-gen does differently.
    pub fn usage(self) -> String {
        let (text, ours) = match self {
            SlonTool::Start => (
                SLON_START_USAGE,
                "slonik-gen standing in for altperl's slon_start: writes the node's slon config and\n\
                 starts slon as [daemon] says (`slonik-gen slon start --help`); it starts no\n\
                 watchdog (slon's own restarts its worker; `slonik-gen slon-unit` gives a systemd\n\
                 unit). Exit 0 when the slon runs, 1 when it did not start, 2 usage.\n",
            ),
            SlonTool::Kill => (
                SLON_KILL_USAGE,
                "\nslonik-gen standing in for altperl's slon_kill: stops each slon with SIGTERM, then\n\
                 SIGQUIT, and waits until it is gone (`slonik-gen slon stop --help`). There are no\n\
                 watchdogs to kill. Exit 0 when every slon is gone, 1 if one still runs, 2 usage.\n",
            ),
            SlonTool::Status => (
                SLON_STATUS_USAGE,
                "slonik-gen standing in for altperl's slon_status: exit 0 when the slon runs, 3 when\n\
                 it does not, 1 on an error, 2 usage.\n",
            ),
        };
        let config = format!(
            "--config takes a slon_tools.conf (default {DEFAULT_CONFIG}) or a slonik-gen\n\
             config whose name ends in .toml.\n"
        );
        format!("{text}{ours}{config}")
    }

    fn options(self) -> Vec<(&'static [&'static str], bool)> {
        let mut specs: Vec<(&'static [&'static str], bool)> = vec![(&["config"], true), (&["help"], false)];
        match self {
            SlonTool::Start => specs.extend([
                (&["watchdog"][..], false),
                (&["nowatchdog", "no-watchdog"][..], false),
                (&["sleep"][..], true),
            ]),
            SlonTool::Kill => specs.extend([(&["watchdog", "w"][..], false), (&["only-node"][..], true)]),
            SlonTool::Status => {}
        }
        specs
    }
}

/// What a slon tool's command line asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SlonRequest {
    /// `--help`.
    Help,
    /// Run it.
    Run {
        /// `--config`, else altperl's default.
        config: PathBuf,
        /// The node operand (`slon_start`, `slon_status`) or `--only-node` (`slon_kill`),
        /// as digits.
        node: Option<String>,
        /// `slon_start`: whether a watchdog was asked for (the default); `slon_kill`:
        /// `-w`, only the watchdogs.
        watchdog: bool,
    },
}

/// Parses the arguments (after `argv[0]`) of one slon tool.
pub fn parse_slon_args(tool: SlonTool, args: &[String]) -> Result<SlonRequest, UsageError> {
    let parsed = getopt_with(&tool.options(), args)?;
    if parsed.flag("help") {
        return Ok(SlonRequest::Help);
    }
    let config = PathBuf::from(parsed.value("config").unwrap_or(DEFAULT_CONFIG));
    let integer = |key: &str| -> Result<Option<String>, UsageError> {
        match parsed.value(key) {
            Some(v) if v.parse::<u32>().is_ok() => Ok(Some(v.to_string())),
            Some(v) => Err(usage_error(format!("--{key} takes a whole number, not `{v}`"))),
            None => Ok(None),
        }
    };
    let (node, watchdog) = match tool {
        SlonTool::Start | SlonTool::Status => {
            if parsed.operands.len() != 1 {
                return Err(usage_error(
                    "give exactly one node# (a node id such as 2 or node2)",
                ));
            }
            integer("sleep")?;
            // Getopt::Long's negatable flag: the last of --watchdog / --nowatchdog wins.
            let watchdog = parsed
                .values
                .iter()
                .rev()
                .find_map(|(k, _)| match *k {
                    "watchdog" => Some(true),
                    "nowatchdog" => Some(false),
                    _ => None,
                })
                .unwrap_or(true);
            (Some(node_operand(parsed.operands.first(), "node#")?), watchdog)
        }
        SlonTool::Kill => {
            if let Some(extra) = parsed.operands.first() {
                return Err(usage_error(format!(
                    "slon_kill takes no operands (`{extra}`): use --only-node=i for one node"
                )));
            }
            // altperl's `--only-node=0` is its default: every node.
            let node = integer("only-node")?.filter(|n| n.parse::<u32>().is_ok_and(|n| n != 0));
            (node, parsed.flag("watchdog"))
        }
    };
    Ok(SlonRequest::Run {
        config,
        node,
        watchdog,
    })
}

/// Runs one slon tool's command line (`args` without `argv[0]`): its report on `out`,
/// errors on `err`. Exit codes: 0 as asked (started / all gone / running), 1 an error or a
/// slon still running, 2 usage, 3 (`slon_status`) not running.
pub fn run_slon_tool(tool: SlonTool, args: &[OsString], out: &mut dyn Write, err: &mut dyn Write) -> u8 {
    let program = tool.name();
    let Some(args) = args
        .iter()
        .map(|a| a.to_str().map(str::to_string))
        .collect::<Option<Vec<String>>>()
    else {
        let _ = writeln!(
            err,
            "{program}: an argument is not valid UTF-8\n\n{}",
            tool.usage()
        );
        return 2;
    };
    let (config, node, watchdog) = match parse_slon_args(tool, &args) {
        Ok(SlonRequest::Help) => {
            let _ = out.write_all(tool.usage().as_bytes());
            return 0;
        }
        Ok(SlonRequest::Run {
            config,
            node,
            watchdog,
        }) => (config, node, watchdog),
        Err(e) => {
            let _ = writeln!(err, "{program}: {e}\n\n{}", tool.usage());
            return 2;
        }
    };
    let cluster = match load_config(&config) {
        Ok((cluster, perl_output)) => {
            let _ = err.write_all(perl_output.as_bytes());
            cluster
        }
        Err(e) => {
            print_error(err, program, &e);
            return 1;
        }
    };
    let nodes = match super::slon_nodes(&cluster, node.as_slice(), node.is_none()) {
        Ok(nodes) => nodes,
        Err(e) => {
            print_error(err, program, &e);
            return 1;
        }
    };
    let name = crate::escape::visible(&cluster.name).into_owned();
    match (tool, nodes.first()) {
        (SlonTool::Kill, _) => slon_kill(&cluster, &name, &nodes, watchdog, out, err),
        (SlonTool::Start, Some(&node)) => slon_start(&cluster, &name, node, watchdog, out, err),
        (SlonTool::Status, Some(&node)) => slon_status(&cluster, &name, node, out, err),
        // A node operand resolves to one node or fails above.
        (_, None) => 2,
    }
}

fn run_of(
    cluster: &Cluster,
    node: crate::model::ids::NodeId,
) -> Result<crate::slon::run::SlonRun, crate::slon::control::ControlError> {
    crate::slon::run::SlonRun::of(cluster, node).ok_or_else(|| {
        crate::slon::control::ControlError::Incomplete {
            node: format!("node {node}"),
        }
    })
}

fn control_error(err: &mut dyn Write, program: &str, e: crate::slon::control::ControlError) {
    let e: crate::Error = super::FrontendError::from(e).into();
    print_error(err, program, &e);
}

fn slon_start(
    cluster: &Cluster,
    name: &str,
    node: crate::model::ids::NodeId,
    watchdog: bool,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> u8 {
    use crate::slon::control::{start, Started};
    let result = run_of(cluster, node).and_then(|run| start(cluster, &run));
    let code = match result {
        Ok(Started::Started { pid, .. }) => {
            let _ = writeln!(
                out,
                "Slon successfully started for cluster {name}, node node{node}"
            );
            if let Some(pid) = pid {
                let _ = writeln!(out, "PID [{pid}]");
            }
            0
        }
        Ok(Started::AlreadyRunning { pid, .. }) => {
            let _ = writeln!(
                out,
                "Slon is already running for the '{name}' cluster, node node{node}"
            );
            if let Some(pid) = pid {
                let _ = writeln!(out, "PID [{pid}]");
            }
            0
        }
        Err(e) => {
            let _ = writeln!(err, "Slon failed to start for cluster {name}, node node{node}");
            control_error(err, "slon_start", e);
            return 1;
        }
    };
    if watchdog {
        let _ = writeln!(err, "slon_start: {NO_WATCHDOG}");
    }
    code
}

fn slon_status(
    cluster: &Cluster,
    name: &str,
    node: crate::model::ids::NodeId,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> u8 {
    match run_of(cluster, node).and_then(|run| crate::slon::control::status(&run)) {
        Ok(status) if status.running => {
            let _ = writeln!(out, "Slon is running for the '{name}' cluster on node{node}.");
            if let Some(pid) = status.pid {
                let _ = writeln!(out, "PID [{pid}]");
            }
            0
        }
        Ok(_) => {
            let _ = writeln!(out, "slon is not running for the '{name}' cluster on node{node}.");
            3
        }
        Err(e) => {
            control_error(err, "slon_status", e);
            1
        }
    }
}

fn slon_kill(
    cluster: &Cluster,
    name: &str,
    nodes: &[crate::model::ids::NodeId],
    watchdog_only: bool,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> u8 {
    use crate::slon::control::{stop, Stopped};
    let _ = writeln!(
        out,
        "slon_kill.pl...   Killing all slon and slon_watchdog instances for the cluster {name}\n1.  Kill slon watchdogs\nNo watchdogs found"
    );
    if watchdog_only {
        let _ = writeln!(err, "slon_kill: {NO_WATCHDOG}");
        return 0;
    }
    let _ = writeln!(out, "\n2. Kill slon processes");
    let mut found = false;
    let mut code = 0;
    for &node in nodes {
        match run_of(cluster, node).and_then(|run| stop(&run)) {
            Ok(Stopped::Stopped { pid, .. }) => {
                found = true;
                let pid = pid.map_or_else(String::new, |p| format!(" - PID [{p}]"));
                let _ = writeln!(out, "slon for cluster {name} node {node} killed{pid}");
            }
            Ok(Stopped::NotRunning { .. }) => {
                let _ = writeln!(out, "No slon is running for the cluster {name}, node {node}!");
            }
            Err(e) => {
                found = true;
                control_error(err, "slon_kill", e);
                code = 1;
            }
        }
    }
    if !found {
        let _ = writeln!(out, "No slon processes found");
    }
    let _ = out.flush();
    code
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ops::Ddl;

    fn tool(name: &str) -> AltperlCommand {
        AltperlCommand::from_name(name).unwrap()
    }

    fn args(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    fn run(command: AltperlCommand, list: &[&str]) -> Result<Request, UsageError> {
        parse_args(command, &args(list))
    }

    fn op(command: AltperlCommand, list: &[&str]) -> OperationArgs {
        match run(command, list) {
            Ok(Request::Run { operation, .. }) => operation,
            other => panic!("{list:?}: {other:?}"),
        }
    }

    #[test]
    fn program_names_are_recognised_by_file_name() {
        assert_eq!(
            AltperlCommand::from_program(OsStr::new("/usr/local/bin/slonik_failover")),
            Some(tool("slonik_failover"))
        );
        assert_eq!(
            AltperlCommand::from_program(OsStr::new("slonik_create_set.pl")),
            Some(tool("slonik_create_set"))
        );
        assert_eq!(AltperlCommand::from_program(OsStr::new("slonik-gen")), None);
        assert_eq!(AltperlCommand::from_program(OsStr::new("slonik_build_env")), None);
        assert_eq!(AltperlCommand::all().count(), 18);
    }

    #[test]
    fn config_may_come_anywhere_in_any_getopt_spelling() {
        for list in [
            &["--config", "/x.conf", "1", "2"][..],
            &["1", "2", "--config=/x.conf"],
            &["-config", "/x.conf", "1", "2"],
            &["--conf", "/x.conf", "1", "2"],
            &["--CONFIG", "/x.conf", "1", "2"],
        ] {
            match run(tool("slonik_failover"), list) {
                Ok(Request::Run { config, operation }) => {
                    assert_eq!(config, PathBuf::from("/x.conf"), "{list:?}");
                    assert_eq!(
                        operation,
                        OperationArgs::Failover {
                            pairs: vec![("1".into(), "2".into())]
                        }
                    );
                }
                other => panic!("{list:?}: {other:?}"),
            }
        }
        match run(tool("slonik_create_set"), &["set1"]) {
            Ok(Request::Run { config, .. }) => assert_eq!(config, PathBuf::from(DEFAULT_CONFIG)),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn nodes_are_checked_like_altperl() {
        assert_eq!(
            op(tool("slonik_drop_node"), &["node3", "1"]),
            OperationArgs::DropNode {
                node: "3".into(),
                event_node: "1".into()
            }
        );
        assert!(run(tool("slonik_drop_node"), &["3"])
            .unwrap_err()
            .message
            .contains("event_node#"));
        assert!(run(tool("slonik_subscribe_set"), &["set1", "two"])
            .unwrap_err()
            .message
            .contains("`two`"));
        assert!(run(tool("slonik_failover"), &["1", "2", "3"]).is_err());
        assert_eq!(
            op(tool("slonik_failover"), &["1", "2", "3", "2"]),
            OperationArgs::Failover {
                pairs: vec![("1".into(), "2".into()), ("3".into(), "2".into())]
            }
        );
    }

    #[test]
    fn execute_script_takes_c_n_and_node() {
        let dir = std::env::temp_dir();
        let file = dir.join(format!("slonik-gen-altperl-cli-{}.sql", std::process::id()));
        std::fs::write(&file, "select 1;").unwrap();
        let path = file.display().to_string();
        assert_eq!(
            op(
                tool("slonik_execute_script"),
                &["-c", "select 1;", "-n", "node2", "set1"]
            ),
            OperationArgs::ExecuteScript {
                set: "set1".into(),
                ddl: Ddl::Sql("select 1;".into()),
                node: Some("2".into()),
                only_on: Vec::new(),
            }
        );
        // A file wins over -c, as in altperl.
        assert_eq!(
            op(
                tool("slonik_execute_script"),
                &["--node=3", "set1", &path, "-c", "x"]
            ),
            OperationArgs::ExecuteScript {
                set: "set1".into(),
                ddl: Ddl::File(path.clone()),
                node: Some("3".into()),
                only_on: Vec::new(),
            }
        );
        assert!(run(tool("slonik_execute_script"), &["set1", "relative.sql"])
            .unwrap_err()
            .message
            .contains("full path"));
        assert!(run(tool("slonik_execute_script"), &["set1"]).is_err());
        std::fs::remove_file(file).unwrap();
    }

    #[test]
    fn slon_tools_read_altperls_options() {
        let parse = |tool, list: &[&str]| parse_slon_args(tool, &args(list));
        assert_eq!(
            parse(SlonTool::Start, &["--nowatchdog", "--sleep", "5", "node2"]),
            Ok(SlonRequest::Run {
                config: PathBuf::from(DEFAULT_CONFIG),
                node: Some("2".into()),
                watchdog: false
            })
        );
        assert!(matches!(
            parse(SlonTool::Start, &["--no-watchdog", "--watchdog", "1"]),
            Ok(SlonRequest::Run { watchdog: true, .. })
        ));
        assert!(parse(SlonTool::Start, &["1", "2"]).is_err());
        assert!(parse(SlonTool::Start, &["--sleep=x", "1"])
            .unwrap_err()
            .message
            .contains("whole number"));
        assert!(parse(SlonTool::Status, &["two"])
            .unwrap_err()
            .message
            .contains("`two`"));
        assert!(matches!(
            parse(SlonTool::Kill, &["-w", "--config=/x.conf"]),
            Ok(SlonRequest::Run {
                watchdog: true,
                node: None,
                ..
            })
        ));
        assert!(matches!(
            parse(SlonTool::Kill, &["--only-node=3"]),
            Ok(SlonRequest::Run { node: Some(n), watchdog: false, .. }) if n == "3"
        ));
        assert!(matches!(
            parse(SlonTool::Kill, &["--only-node", "0"]),
            Ok(SlonRequest::Run { node: None, .. })
        ));
        assert!(parse(SlonTool::Kill, &["1"]).is_err());
        assert_eq!(parse(SlonTool::Status, &["--help"]), Ok(SlonRequest::Help));
        assert_eq!(
            SlonTool::from_program(OsStr::new("/usr/bin/slon_kill.pl")),
            Some(SlonTool::Kill)
        );
        assert!(SlonTool::Start.usage().starts_with(SLON_START_USAGE));
    }

    #[test]
    fn unknown_and_incomplete_options_are_usage_errors() {
        assert!(run(tool("slonik_create_set"), &["--force", "set1"])
            .unwrap_err()
            .message
            .contains("unknown option"));
        assert!(run(tool("slonik_create_set"), &["set1", "--config"])
            .unwrap_err()
            .message
            .contains("requires an argument"));
        assert!(run(tool("slonik_create_set"), &["--help=yes"]).is_err());
        assert_eq!(run(tool("slonik_create_set"), &["--he"]), Ok(Request::Help));
        assert!(run(tool("slonik_create_set"), &[]).is_err());
        assert!(run(tool("slonik_restart_node"), &[]).is_err());
        assert_eq!(
            op(tool("slonik_restart_node"), &["--all"]),
            OperationArgs::RestartNodes { nodes: vec![] }
        );
        // `--` ends the options.
        assert_eq!(
            op(tool("slonik_drop_set"), &["--", "--odd-name"]),
            OperationArgs::DropSet {
                set: "--odd-name".into()
            }
        );
    }
}
