//! Random command lines never crash the binary: for every subcommand (the runbooks, the
//! imports and the altperl drop-in names too), random argument vectors — wrong arity,
//! empty strings, huge and negative numbers, `--`, unicode, flags in odd places, `--config`
//! naming the example or a missing file — exit 0, 1 or 2, never 101 (a panic) or by a
//! signal, and print nothing on stdout unless they exit 0.
//!
//! Each case runs the real binary in a scratch directory holding copies of every file a
//! case may name (restored before each case), so no case can touch the repository.
//! 384 cases by default; more with `SLONIK_GEN_ARGS_CASES=5000 cargo test --test
//! cli_args_random`.

#![cfg(unix)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use proptest::prelude::*;
use proptest::test_runner::{Config, FileFailurePersistence, TestCaseError, TestRunner};
use slonik_gen::frontend::altperl::AltperlCommand;
use slonik_gen::ops::table::{self, Repeat};

const DEFAULT_CASES: u32 = 384;

/// A process that has not finished after this long is reported as hung (not a speed check:
/// a healthy case takes milliseconds).
const HANG: Duration = Duration::from_secs(120);

/// Every subcommand: the operations (from the operation table), the runbooks, the
/// imports, and words that are none.
fn subcommands() -> Vec<Vec<&'static str>> {
    let mut all: Vec<Vec<&'static str>> = table::OPERATIONS.iter().map(|spec| vec![spec.name]).collect();
    all.extend(
        [
            &["runbook"][..],
            &["runbook", "switchover"],
            &["runbook", "failover"],
            &["runbook", "failback"],
            &["runbook", "rebuild-node"],
            &["runbook", "add-tables"],
            &["import"],
            &["import", "altperl"],
            &["import", "cluster"],
            &["install-links"],
            &["check-cluster"],
            &["discover"],
            &["show"],
            &["completions"],
            &["man"],
            &["help"],
            &["frobnicate"],
            &[],
        ]
        .map(<[&str]>::to_vec),
    );
    all
}

/// The altperl tools the binary answers to when run under their names.
fn drop_ins() -> Vec<&'static str> {
    AltperlCommand::all().map(AltperlCommand::name).collect()
}

/// Single words: operands, flags (also misplaced ones), odd values.
const WORDS: &[&str] = &[
    "1",
    "2",
    "3",
    "0",
    "-1",
    "node1",
    "node2",
    "node",
    "node-1",
    "4294967295",
    "4294967296",
    "18446744073709551616",
    "99999999999999999999999999999999",
    "-9223372036854775808",
    "1e9",
    "0x10",
    "set1",
    "set2",
    "set7",
    "set",
    "set4294967296",
    "geekdb.files",
    "geekdb.audit_log",
    "files",
    ".",
    "a.b.c",
    "\"quoted\".name",
    "",
    " ",
    "-",
    "--",
    "---",
    "-x",
    "--all",
    "--set",
    "--from",
    "--to",
    "--dead",
    "--backup",
    "--drop-dead",
    "--node",
    "-n",
    "--sql",
    "-c",
    "--sequence",
    "--prepare",
    "drop-schema",
    "recreate",
    "--format",
    "md",
    "sh",
    "json",
    "html",
    "--force",
    "--map-schema",
    "public=geekdb",
    "=",
    "--slony-version",
    "2.2",
    "1.2",
    "3.0",
    "--config",
    "--write-config",
    "--check",
    "--conninfo",
    "--cluster",
    "--help",
    "-h",
    "--version",
    "--config=",
    "--sql=",
    "ñandú",
    "日本語",
    "\u{202e}evil",
    "a\nb",
    "tab\there",
    "'; drop table x; --",
    "$(touch pwned)",
    "`id`",
];

/// Files (relative to the scratch directory, which is the working directory).
const EXAMPLE: &str = "geekdb.toml";
const ALTPERL_CONF: &str = "slon_tools.conf";
const DDL: &str = "ddl.sql";
const GOLDEN: &str = "golden.slonik";

/// Values that follow a flag: files that exist, files that do not, the scratch dir.
fn path_value() -> impl Strategy<Value = String> {
    prop_oneof![
        Just(EXAMPLE.to_string()),
        Just(ALTPERL_CONF.to_string()),
        Just(DDL.to_string()),
        Just(GOLDEN.to_string()),
        Just("missing.toml".to_string()),
        Just("no/such/dir/x.toml".to_string()),
        Just("out.toml".to_string()),
        Just("links".to_string()),
        Just(".".to_string()),
        Just(String::new()),
    ]
}

/// A conninfo that can never reach a server (closed port, or not parseable).
fn conninfo_value() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("host=127.0.0.1 port=1 dbname=x connect_timeout=2".to_string()),
        Just("postgresql://127.0.0.1:1/x?connect_timeout=2".to_string()),
        Just("host=127.0.0.1 port=1 password=se'cret".to_string()),
        Just("===".to_string()),
        Just(String::new()),
    ]
}

/// One argument, or a flag with its value; sometimes in `--flag=value` form.
fn chunk() -> impl Strategy<Value = Vec<String>> {
    let word = prop::sample::select(WORDS).prop_map(|w| vec![w.to_string()]);
    let file_flag = (
        prop::sample::select(&["--config", "--write-config", "--check", "--sql", "-c"][..]),
        path_value(),
        any::<bool>(),
    )
        .prop_map(|(flag, value, joined)| pair(flag, value, joined));
    let conninfo = (conninfo_value(), any::<bool>()).prop_map(|(v, joined)| pair("--conninfo", v, joined));
    let number = prop_oneof![
        any::<u32>().prop_map(|n| n.to_string()),
        any::<i64>().prop_map(|n| n.to_string()),
        any::<u64>().prop_map(|n| format!("node{n}")),
    ]
    .prop_map(|n| vec![n]);
    let text = "\\PC{0,12}".prop_map(|s| vec![s]);
    prop_oneof![
        6 => word,
        3 => file_flag,
        1 => conninfo,
        2 => number,
        1 => text,
    ]
}

fn pair(flag: &str, value: String, joined: bool) -> Vec<String> {
    if joined {
        vec![format!("{flag}={value}")]
    } else {
        vec![flag.to_string(), value]
    }
}

/// Operands close to what an operator types, so that many cases get past the parser into
/// the operations.
const OPERANDS: &[&str] = &[
    "1",
    "2",
    "3",
    "node1",
    "node2",
    "set1",
    "1",
    "geekdb.files",
    "geekdb.new_table",
    "",
    "4294967296",
    "-1",
    "ddl.sql",
];

/// Flags every command takes, with plausible values.
const GLOBAL_FLAGS: &[&[&str]] = &[
    &["--write-config", "out.toml"],
    &["--write-config", EXAMPLE],
    &["--slony-version", "2.1"],
    &["--slony-version", "1.2"],
];

/// The runbooks' flags, with plausible values.
const RUNBOOK_FLAGS: &[&[&str]] = &[
    &["--set", "set1"],
    &["--set", "1"],
    &["--to", "2"],
    &["--to", "1"],
    &["--from", "1"],
    &["--dead", "1"],
    &["--dead", "2"],
    &["--backup", "2"],
    &["--backup", "1"],
    &["--node", "1"],
    &["--node", "2"],
    &["--drop-dead"],
    &["--dead", "1"],
    &["--backup", "2"],
    &["--to", "2"],
    &["--sequence", "geekdb.s"],
    &["--prepare", "recreate"],
    &["--format", "sh"],
    &["--format", "json"],
    &["--write-config", "out.toml"],
];

/// Each subcommand with the least and most operands it takes (cases give up to one more):
/// the operations' from their rows in the table, then the runbooks'.
fn grammar() -> Vec<(Vec<&'static str>, usize, usize)> {
    let mut all: Vec<(Vec<&'static str>, usize, usize)> = table::OPERATIONS
        .iter()
        .map(|spec| {
            let (mut min, mut max) = (0, 0);
            for arg in spec.args.iter().filter(|a| a.long.is_none()) {
                let (least, most) = match arg.repeat {
                    Repeat::One => (1, 1),
                    Repeat::Optional => (0, 1),
                    Repeat::Many => (1, 3),
                    Repeat::Pairs => (2, 5),
                    Repeat::OneOrMore => (1, 3),
                };
                min += least;
                max += most;
            }
            (vec![spec.name], min, max)
        })
        .collect();
    all.extend([
        (vec!["runbook", "switchover"], 0, 0),
        (vec!["runbook", "failover"], 0, 0),
        (vec!["runbook", "failback"], 0, 0),
        (vec!["runbook", "rebuild-node"], 0, 0),
        (vec!["runbook", "add-tables"], 0, 2),
    ]);
    all
}

/// A command line an operator might type: the example config first, about the right
/// number of operands, a few flags.
fn plausible_line() -> impl Strategy<Value = (Option<&'static str>, Vec<String>)> {
    (
        prop::sample::select(grammar()),
        any::<prop::sample::Index>(),
        prop::collection::vec(prop::sample::select(OPERANDS), 6),
        prop::collection::vec(prop::sample::select(RUNBOOK_FLAGS), 0..5),
        prop::collection::vec(prop::sample::select(GLOBAL_FLAGS), 0..2),
    )
        .prop_map(
            |((words, min, max), count, operands, runbook_flags, global_flags)| {
                let mut flags = global_flags;
                if words[0] == "runbook" {
                    flags.extend(runbook_flags);
                }
                let mut args = vec!["--config".to_string(), EXAMPLE.to_string()];
                args.extend(words.iter().map(|w| w.to_string()));
                let count = min + count.index(max - min + 2); // up to one too many
                args.extend(operands.iter().take(count).map(|w| w.to_string()));
                args.extend(flags.iter().flat_map(|c| c.iter().map(|w| w.to_string())));
                (None, args)
            },
        )
}

/// Half odd, half plausible command lines.
fn any_line() -> impl Strategy<Value = (Option<&'static str>, Vec<String>)> {
    prop_oneof![command_line(), plausible_line()]
}

/// A whole command line: the subcommand's words at a random place among random chunks;
/// most cases name the example config somewhere, as an operator would.
fn command_line() -> impl Strategy<Value = (Option<&'static str>, Vec<String>)> {
    let program = prop_oneof![
        4 => Just(None),
        1 => prop::sample::select(drop_ins()).prop_map(Some),
    ];
    (
        program,
        prop::sample::select(subcommands()),
        prop::collection::vec(chunk(), 0..8),
        any::<prop::sample::Index>(),
        prop_oneof![3 => Just(Some(EXAMPLE)), 1 => Just(Some(ALTPERL_CONF)), 1 => Just(Some("missing.toml")), 2 => Just(None)],
        any::<prop::sample::Index>(),
    )
        .prop_map(|(program, subcommand, chunks, at, config, config_at)| {
            let mut chunks = chunks;
            if let Some(config) = config {
                let i = config_at.index(chunks.len() + 1);
                chunks.insert(i, vec!["--config".to_string(), config.to_string()]);
            }
            if program.is_none() {
                let i = at.index(chunks.len() + 1);
                chunks.insert(i, subcommand.iter().map(|w| w.to_string()).collect());
            }
            (program, chunks.into_iter().flatten().collect())
        })
}

/// The scratch directory: copies of every file a case may name, and the drop-in links.
struct Scratch {
    dir: tempfile::TempDir,
    files: Vec<(PathBuf, Vec<u8>)>,
}

impl Scratch {
    fn new() -> Scratch {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let dir = tempfile::tempdir().expect("temp dir");
        let files = [
            (EXAMPLE, root.join("examples/geekdb.toml")),
            (ALTPERL_CONF, root.join("tests/fixtures/altperl/geekdb.conf")),
            (DDL, root.join("tests/inputs/ddl.sql")),
        ]
        .into_iter()
        .map(|(name, from)| {
            (
                dir.path().join(name),
                std::fs::read(&from).expect("fixture exists"),
            )
        })
        .chain(std::iter::once((
            dir.path().join(GOLDEN),
            b"cluster name = replication;\n".to_vec(),
        )))
        .collect();
        let bin = dir.path().join("bin");
        std::fs::create_dir(&bin).unwrap();
        for name in drop_ins() {
            std::os::unix::fs::symlink(env!("CARGO_BIN_EXE_slonik-gen"), bin.join(name)).unwrap();
        }
        let scratch = Scratch { dir, files };
        scratch.reset();
        scratch
    }

    /// Puts every input file back as it was, and removes what earlier cases wrote.
    fn reset(&self) {
        for entry in std::fs::read_dir(self.dir.path()).unwrap() {
            let path = entry.unwrap().path();
            if path.file_name().is_some_and(|n| n != "bin") {
                let _ = std::fs::remove_dir_all(&path).or_else(|_| std::fs::remove_file(&path));
            }
        }
        for (path, bytes) in &self.files {
            std::fs::write(path, bytes).unwrap();
        }
    }

    fn run(&self, program: Option<&str>, args: &[String]) -> Output {
        let exe = match program {
            Some(name) => self.dir.path().join("bin").join(name),
            None => PathBuf::from(env!("CARGO_BIN_EXE_slonik-gen")),
        };
        let mut child = Command::new(exe)
            .args(args)
            .current_dir(self.dir.path())
            .env_remove("SLONIK_GEN_CONFIG")
            .env_remove("SLONYNODES")
            .env("PGCONNECT_TIMEOUT", "2")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the binary runs");
        // Drain the pipes on threads so a chatty case cannot block on a full pipe.
        let mut stdout = child.stdout.take().unwrap();
        let mut stderr = child.stderr.take().unwrap();
        let out = std::thread::spawn(move || {
            let mut buf = Vec::new();
            std::io::Read::read_to_end(&mut stdout, &mut buf).map(|_| buf)
        });
        let err = std::thread::spawn(move || {
            let mut buf = Vec::new();
            std::io::Read::read_to_end(&mut stderr, &mut buf).map(|_| buf)
        });
        let started = Instant::now();
        let status = loop {
            if let Some(status) = child.try_wait().unwrap() {
                break status;
            }
            if started.elapsed() > HANG {
                let _ = child.kill();
                panic!("{program:?} {args:?} did not finish within {HANG:?}");
            }
            std::thread::sleep(Duration::from_millis(2));
        };
        Output {
            status,
            stdout: out.join().unwrap().unwrap(),
            stderr: err.join().unwrap().unwrap(),
        }
    }
}

fn cases() -> u32 {
    std::env::var("SLONIK_GEN_ARGS_CASES")
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(DEFAULT_CASES)
}

fn check(scratch: &Scratch, program: Option<&str>, args: &[String]) -> Result<(), TestCaseError> {
    scratch.reset();
    let out = scratch.run(program, args);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let code = out.status.code();
    prop_assert!(
        matches!(code, Some(0..=2)),
        "{program:?} {args:?}: exit {:?} (a panic is 101, None a signal)\nstderr: {stderr}",
        out.status
    );
    if code != Some(0) {
        prop_assert!(
            out.stdout.is_empty(),
            "{program:?} {args:?}: exit {code:?} with stdout {:?}\nstderr: {stderr}",
            String::from_utf8_lossy(&out.stdout)
        );
    }
    prop_assert!(!stderr.contains("panicked"), "{program:?} {args:?}: {stderr}");
    Ok(())
}

#[test]
fn random_command_lines_exit_0_1_or_2_with_an_empty_stdout_on_error() {
    let scratch = Scratch::new();
    let mut runner = TestRunner::new(Config {
        cases: cases(),
        source_file: Some(file!()),
        failure_persistence: Some(Box::new(FileFailurePersistence::WithSource(
            "proptest-regressions",
        ))),
        ..Config::default()
    });
    let result = runner.run(&any_line(), |(program, args)| check(&scratch, program, &args));
    if let Err(e) = result {
        panic!("{e}");
    }
}

/// The command lines the issue reported, and their neighbours, every run.
#[test]
fn known_crashers_are_usage_errors() {
    let scratch = Scratch::new();
    let lines: &[(Option<&str>, &[&str])] = &[
        (None, &["--config", EXAMPLE, "failover", "1", "2", "3"]),
        (None, &["--config", EXAMPLE, "failover", "1", "2", "3", "2", "4"]),
        (Some("slonik_failover"), &["--config", EXAMPLE, "1", "2", "3"]),
        (Some("slonik_failover"), &["--config", EXAMPLE, "1"]),
        (Some("slonik_failover"), &["--config", EXAMPLE]),
    ];
    for (program, args) in lines {
        let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
        check(&scratch, *program, &args).unwrap();
        let out = scratch.run(*program, &args);
        assert_eq!(out.status.code(), Some(2), "{program:?} {args:?}");
    }
}
