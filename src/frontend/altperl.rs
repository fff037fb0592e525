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
    let specs = command.options();
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
    let command = AltperlCommand::from_program(&argv.next()?)?;
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

/// Creates a symlink `DIR/slonik_*` → `target` for every altperl command. Refuses to replace
/// anything that is not already such a link unless `force` (it may be altperl itself).
pub fn install_links(dir: &Path, target: &Path, force: bool) -> Result<Vec<LinkOutcome>, ImportError> {
    let failed = |path: &Path, what: String| ImportError::Links {
        path: path.to_path_buf(),
        message: what,
    };
    std::fs::create_dir_all(dir).map_err(|e| failed(dir, format!("cannot create the directory: {e}")))?;
    // Check every link first, so a refusal changes nothing.
    let mut plan = Vec::new();
    for command in AltperlCommand::all() {
        let link = dir.join(command.name());
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
                node: Some("2".into())
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
                node: Some("3".into())
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
