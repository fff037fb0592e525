//! The command-line grammar of every operation, pinned: each operation's `--help`, `-h` and
//! `help OP` text, and what a corpus of small argument lists does (usage errors with
//! clap's exact wording); the same for every altperl drop-in name (its `--help` and its
//! usage errors). The snapshots were taken from the hand-written clap enum and drop-in
//! match before the operation table replaced them, so they prove the table changed no
//! byte of either front end. A new row gets its snapshots here (`cargo insta review`).
//!
//! And the table cannot grow without the rest: every row is in the README's command
//! table, has a fixture line and an altperl tool.

mod common;

use std::collections::BTreeMap;
use std::ffi::OsString;

use common::{slonik_gen, text};
use slonik_gen::frontend::altperl::{run_command, AltperlCommand};
use slonik_gen::ops::table;

/// Every operation's subcommand name, in table order.
fn operations() -> Vec<&'static str> {
    table::OPERATIONS.iter().map(|spec| spec.name).collect()
}

/// Words the corpus combines: operands, each operation's flags, and things that are neither.
const CLI_WORDS: &[&str] = &["1", "x", "--all", "--sql", "--node", "-n", "--", "--bogus", ""];

/// Every list of up to two [`CLI_WORDS`], and a few longer ones that reach the pair and
/// conflict rules.
fn cli_corpus() -> Vec<Vec<&'static str>> {
    let mut lists = up_to_two(CLI_WORDS);
    lists.extend([
        vec!["1", "2", "3"],
        vec!["1", "2", "3", "4"],
        vec!["1", "2", "3", "4", "5"],
        vec!["1", "2", "--all"],
        vec!["set1", "f.sql", "--sql", "select 1;"],
        vec!["set1", "--sql", "select 1;", "--node", "2"],
        vec!["set1", "f.sql", "-n", "2", "extra"],
    ]);
    lists
}

/// Every list of no, one or two of `words`, in a fixed order.
fn up_to_two(words: &'static [&'static str]) -> Vec<Vec<&'static str>> {
    let mut lists = vec![vec![]];
    for a in words {
        lists.push(vec![*a]);
        for b in words {
            lists.push(vec![*a, *b]);
        }
    }
    lists
}

/// Groups outcomes by what was printed, so each message shows once with the argument
/// lists that produce it.
fn grouped(outcomes: impl IntoIterator<Item = (String, String)>) -> String {
    let mut by_output: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (args, output) in outcomes {
        by_output.entry(output).or_default().push(args);
    }
    let mut out = String::new();
    for (output, args) in by_output {
        out.push_str("=== for:\n");
        for a in args {
            out.push_str(&format!("  {a}\n"));
        }
        out.push_str(&output);
        out.push('\n');
    }
    out
}

#[test]
fn every_operations_help_is_unchanged() {
    for op in operations() {
        let long = slonik_gen(&[op, "--help"]);
        assert_eq!(long.status.code(), Some(0), "{op} --help");
        let short = slonik_gen(&[op, "-h"]);
        assert_eq!(short.status.code(), Some(0), "{op} -h");
        let help = slonik_gen(&["help", op]);
        assert_eq!(help.stdout, long.stdout, "help {op} differs from {op} --help");
        insta::assert_snapshot!(
            format!("help@{op}"),
            format!("--help:\n{}\n-h:\n{}", text(&long.stdout), text(&short.stdout))
        );
    }
}

#[test]
fn every_operations_usage_errors_are_unchanged() {
    for op in operations() {
        let outcomes = cli_corpus().into_iter().map(|list| {
            let mut args = vec!["--config", "/nonexistent/slonik-gen.toml", op];
            args.extend(&list);
            let out = slonik_gen(&args);
            // A line that parses fails on the missing config (exit 1): only usage errors
            // (exit 2) are the grammar's, so only theirs is shown.
            let shown = match out.status.code() {
                Some(2) => format!("exit 2\n{}", text(&out.stderr)),
                code => format!("exit {code:?}\n"),
            };
            (format!("{list:?}"), shown)
        });
        insta::assert_snapshot!(format!("usage@{op}"), grouped(outcomes));
    }
}

/// Words for the drop-in's corpus: operands in altperl's forms, its options, Perl-false
/// values, an absolute file that exists and one that does not.
const ALTPERL_WORDS: &[&str] = &[
    "1",
    "node2",
    "x",
    "",
    "0",
    "--all",
    "-c",
    "-n",
    "/etc/passwd",
    "--",
];

fn altperl_corpus() -> Vec<Vec<&'static str>> {
    let mut lists = up_to_two(ALTPERL_WORDS);
    lists.extend([
        vec!["1", "2", "3"],
        vec!["1", "2", "3", "4"],
        vec!["1", "2", "3", "x"],
        vec!["x", "2", "3", "4"],
        vec!["set1", "2", "3"],
        vec!["set1", "/etc/passwd", "-c", "select 1;"],
        vec!["set1", "-c", "select 1;", "--node=3"],
        vec!["set1", "-c", "select 1;", "-n", "x"],
        vec!["set1", "relative.sql"],
        vec!["--help"],
        vec!["--he"],
        vec!["--help=yes"],
        vec!["--config"],
        vec!["--CONFIG=/x.toml", "1", "2"],
        vec!["--bogus", "1"],
    ]);
    lists
}

fn altperl_run(command: AltperlCommand, args: &[&str]) -> (u8, String, String) {
    let args: Vec<OsString> = args.iter().map(OsString::from).collect();
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let code = run_command(command, &args, &mut out, &mut err);
    (code, text(&out), text(&err))
}

#[test]
fn every_altperl_tools_help_and_usage_errors_are_unchanged() {
    for command in AltperlCommand::all() {
        let (code, help, _) = altperl_run(command, &["--help"]);
        assert_eq!(code, 0);
        let outcomes = altperl_corpus().into_iter().map(|list| {
            let mut args = vec!["--config", "/nonexistent/slonik-gen.toml"];
            args.extend(&list);
            let (code, out, err) = altperl_run(command, &args);
            let shown = match code {
                0 => format!("exit 0\n{out}"),
                2 => format!("exit 2\n{err}"),
                code => format!("exit {code}\n"),
            };
            (format!("{list:?}"), shown)
        });
        insta::assert_snapshot!(
            format!("altperl@{}", command.name()),
            format!("--help:\n{help}\n{}", grouped(outcomes))
        );
    }
}

/// The README's "## Commands" section.
fn readme_commands() -> String {
    let readme = std::fs::read_to_string("README.md").expect("README.md exists");
    let start = readme
        .find("\n## Commands\n")
        .expect("README has a Commands section");
    let section = &readme[start + 1..];
    let end = section[3..].find("\n## ").map_or(section.len(), |i| i + 3);
    section[..end].to_string()
}

/// The command of each row of the section's first table (the operations; the second is
/// the commands beyond altperl's): `| \`create-set SET\` | ...` gives `create-set`.
fn readme_rows() -> Vec<String> {
    readme_commands()
        .lines()
        .skip_while(|line| !line.starts_with('|'))
        .take_while(|line| line.starts_with('|'))
        .filter_map(|line| line.strip_prefix("| `"))
        .filter_map(|rest| rest.split(['`', ' ']).next())
        .map(str::to_string)
        .collect()
}

/// Operations altperl has no tool for.
const BEYOND_ALTPERL: &[&str] = &[
    "store-path",
    "drop-path",
    "move-table",
    "move-sequence",
    "sync",
    "wait",
    "uninstall-node",
    "resubscribe",
    "repair-config",
];

#[test]
fn every_row_has_docs_a_fixture_line_and_an_altperl_tool() {
    let documented = readme_rows();
    let lines = common::fixture_lines();
    for spec in table::OPERATIONS {
        assert!(
            documented.iter().any(|c| c == spec.name),
            "{}: not in README.md's \"## Commands\" table (| `{} ...` | example | what the script does |)",
            spec.name,
            spec.name
        );
        assert!(
            lines
                .iter()
                .any(|line| line.split_whitespace().next() == Some(spec.name)),
            "{}: no fixture line runs it (add `#> {} ...` to a tests/inputs/*.toml, or a line to GEEKDB_OPS)",
            spec.name,
            spec.name
        );
        assert!(
            !spec.altperl.is_empty() || BEYOND_ALTPERL.contains(&spec.name),
            "{}: no altperl tool (an operation altperl never had goes into BEYOND_ALTPERL)",
            spec.name
        );
        assert!(
            spec.example.starts_with("Example: slonik-gen "),
            "{}: its --help needs an example",
            spec.name
        );
    }
    for command in &documented {
        assert!(
            table::find(command).is_some(),
            "README.md's Commands table lists `{command}`, which is no operation"
        );
    }
}

#[test]
fn every_fixture_line_parses_with_the_clap_grammar() {
    for line in common::fixture_lines() {
        common::parse_op(&line);
    }
}

#[test]
fn every_altperl_tool_is_found_by_its_program_name() {
    for (spec, tool) in table::altperl_tools() {
        let command = AltperlCommand::from_program(std::ffi::OsStr::new(&format!("/usr/bin/{}", tool.name)))
            .unwrap_or_else(|| panic!("{}", tool.name));
        assert_eq!(command.operation().name, spec.name);
        assert!(command
            .usage()
            .starts_with(&format!("Usage: {} [--config file]", tool.name)));
    }
}
