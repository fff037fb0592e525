//! Shared by the fixture-driven tests: the fixtures, their `#>` operation lines, and a
//! parser from those lines (command-line syntax) to library operations.

#![allow(dead_code)] // each test file uses part of this module

use std::path::{Path, PathBuf};

use slonik_gen::ops::table;
use slonik_gen::resolve::OperationArgs;

pub mod offline;

/// The operations run on the shipped example (every command of the CLI).
pub const GEEKDB_OPS: &[&str] = &[
    "print-preamble",
    "init-cluster",
    "store-node 2",
    "store-node node2 1",
    "drop-node 2 1",
    "uninstall-nodes",
    "restart-node 1 node2",
    "restart-node --all",
    "update-nodes",
    "create-set set1",
    "drop-set set1",
    "subscribe-set set1 2",
    "unsubscribe-set 1 node2",
    "move-set set1 1 2",
    "failover 1 2",
    "execute-script set1 tests/inputs/ddl.sql",
    "execute-script set1 --sql alter table geekdb.files add column note text;",
    "drop-table 1 set1",
    "drop-sequence 1 set1",
    "store-path 1 2",
    "sync 1",
    "wait 1 --confirmed 2",
    "drop-node 2 --event-node 1",
    "uninstall-node 2",
    "subscribe-set set1 2 --omit-copy",
    "resubscribe 2 --provider 1",
    "repair-config set1",
    "repair-config set1 --only-on 2",
];

/// A config used as a test input, with the operations to run on it.
pub struct Fixture {
    /// Path relative to the crate root.
    pub path: PathBuf,
    /// Short name for snapshots.
    pub name: String,
    /// The file's text.
    pub text: String,
    /// Operation lines.
    pub ops: Vec<String>,
}

/// Every valid fixture: the shipped example plus `tests/inputs/*.toml` without `err_`.
pub fn valid_fixtures() -> Vec<Fixture> {
    let mut fixtures = vec![fixture(Path::new("examples/geekdb.toml"))];
    fixtures[0].ops = GEEKDB_OPS.iter().map(|s| s.to_string()).collect();
    fixtures.extend(
        input_files()
            .into_iter()
            .filter(|p| !is_error_fixture(p))
            .map(|p| fixture(&p)),
    );
    fixtures
}

/// Every `tests/inputs/err_*.toml`.
pub fn error_fixtures() -> Vec<Fixture> {
    input_files()
        .into_iter()
        .filter(|p| is_error_fixture(p))
        .map(|p| fixture(&p))
        .collect()
}

fn is_error_fixture(path: &Path) -> bool {
    path.file_name()
        .and_then(|n| n.to_str())
        .is_some_and(|n| n.starts_with("err_"))
}

fn input_files() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir("tests/inputs")
        .expect("tests/inputs exists")
        .map(|e| e.expect("readable dir entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    files.sort();
    files
}

fn fixture(path: &Path) -> Fixture {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let ops = text
        .lines()
        .filter_map(|l| l.strip_prefix("#> "))
        .map(str::to_string)
        .collect();
    Fixture {
        path: path.to_path_buf(),
        name: path.file_stem().unwrap().to_string_lossy().into_owned(),
        text,
        ops,
    }
}

/// Parses one operation line written in command-line syntax, through the clap
/// subcommands the binary builds from the operation table: the fixtures use the real
/// grammar. A bad line fails the test.
pub fn parse_op(line: &str) -> OperationArgs {
    let parsed = clap::Command::new("slonik-gen")
        .subcommands(table::clap_commands())
        .try_get_matches_from(std::iter::once("slonik-gen".to_string()).chain(fixture_words(line)))
        .unwrap_or_else(|e| panic!("`{line}` does not parse:\n{e}"));
    let Some((name, matches)) = parsed.subcommand() else {
        panic!("`{line}` names no operation");
    };
    let spec = table::find(name).unwrap_or_else(|| panic!("`{line}`: no row `{name}`"));
    spec.operation_args(&spec.words_from_matches(matches))
        .unwrap_or_else(|e| panic!("`{line}`: {e}"))
}

/// The words of a fixture line: split at blanks, except that everything after `--sql` is
/// one value (fixture SQL has blanks and no shell quoting).
pub fn fixture_words(line: &str) -> Vec<String> {
    let (head, sql) = match line.split_once(" --sql ") {
        Some((head, sql)) => (head, Some(sql)),
        None => (line, None),
    };
    let mut words: Vec<String> = head.split_whitespace().map(str::to_string).collect();
    if let Some(sql) = sql {
        words.extend(["--sql".to_string(), sql.to_string()]);
    }
    words
}

/// Every operation line of the fixtures: [`GEEKDB_OPS`] and the `#>` lines of
/// `tests/inputs/*.toml`.
pub fn fixture_lines() -> Vec<String> {
    valid_fixtures().into_iter().flat_map(|f| f.ops).collect()
}

/// Finds `slonik` on PATH. With `SLONIK_GEN_E2E=1` a missing slonik is a failure.
pub fn slonik_or_skip(test: &str) -> Option<PathBuf> {
    let found = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|dir| dir.join("slonik"))
            .find(|p| p.is_file())
    });
    if found.is_none() {
        if std::env::var("SLONIK_GEN_E2E").as_deref() == Ok("1") {
            panic!("{test}: SLONIK_GEN_E2E=1 but `slonik` is not on PATH: apt-get install slony1-2-bin");
        }
        eprintln!("skipping {test}: needs the real slonik (apt-get install slony1-2-bin); set SLONIK_GEN_E2E=1 to make this a failure");
    }
    found
}

/// Runs the `slonik-gen` binary from the crate root.
pub fn slonik_gen(args: &[&str]) -> std::process::Output {
    run_in(Path::new(env!("CARGO_MANIFEST_DIR")), args, &[])
}

/// Runs the `slonik-gen` binary in `dir` with extra environment variables.
pub fn run_in(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> std::process::Output {
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_slonik-gen"));
    cmd.current_dir(dir).args(args).env_remove("SLONIK_GEN_CONFIG");
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().expect("slonik-gen runs")
}

/// Output bytes as text.
pub fn text(bytes: &[u8]) -> String {
    String::from_utf8(bytes.to_vec()).expect("utf-8")
}

/// Asserts a failed run: the exit code, nothing on stdout, and stderr mentioning `needle`.
pub fn assert_fails(out: &std::process::Output, code: i32, needle: &str) {
    assert_eq!(out.status.code(), Some(code), "stderr: {}", text(&out.stderr));
    assert!(
        out.stdout.is_empty(),
        "stdout must stay empty on error, got: {}",
        text(&out.stdout)
    );
    assert!(
        text(&out.stderr).contains(needle),
        "stderr lacks `{needle}`: {}",
        text(&out.stderr)
    );
}

/// Runs `slonik-gen` from the crate root under `ulimit -f blocks` (bash counts 1024-byte
/// blocks): every file it writes is cut off at that size.
pub fn slonik_gen_with_file_limit(blocks: u32, args: &[&str]) -> std::process::Output {
    std::process::Command::new("bash")
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .arg("-c")
        .arg(format!("ulimit -f {blocks}; exec \"$0\" \"$@\""))
        .arg(env!("CARGO_BIN_EXE_slonik-gen"))
        .args(args)
        .env_remove("SLONIK_GEN_CONFIG")
        .output()
        .expect("bash runs")
}

/// Runs `slonik-gen` from the crate root with stdout on `/dev/full` (every write fails).
pub fn slonik_gen_to_dev_full(args: &[&str]) -> std::process::Output {
    let full = std::fs::OpenOptions::new()
        .write(true)
        .open("/dev/full")
        .expect("/dev/full exists");
    std::process::Command::new(env!("CARGO_BIN_EXE_slonik-gen"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(args)
        .env_remove("SLONIK_GEN_CONFIG")
        .stdout(full)
        .output()
        .expect("slonik-gen runs")
}

/// The example config with `tables` extra tables in set1 (about 50 bytes of config each),
/// written to `dir/name`.
pub fn large_example(dir: &Path, name: &str, tables: usize) -> PathBuf {
    let example = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/geekdb.toml"))
        .expect("the example exists");
    let names: Vec<String> = (0..tables).map(|i| format!("\"extra_table_{i:05}\"")).collect();
    let text = example.replace(
        "tables = [\"files\", \"additional_roll\"]",
        &format!("tables = [\"files\", \"additional_roll\", {}]", names.join(", ")),
    );
    assert_ne!(text, example, "the example's tables line moved");
    let path = dir.join(name);
    std::fs::write(&path, text).expect("temp dir is writable");
    path
}

/// Files in `dir` that look like the atomic writer's temporary files.
pub fn temp_files_in(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .expect("readable dir")
        .map(|e| e.expect("dir entry").file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains(".slonik-gen-") || n.ends_with(".tmp"))
        .collect()
}

/// The permission bits of a file.
#[cfg(unix)]
pub fn mode_of(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).expect("file exists").permissions().mode() & 0o777
}

/// Sets the permission bits of a file.
#[cfg(unix)]
pub fn set_mode(path: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).expect("chmod");
}

/// Fails the test unless `toml` (an import's output) loads and holds no control character
/// but line feeds (none may appear in a config's names, comments and connection values).
pub fn assert_loads(toml: &str, what: &str) -> slonik_gen::Cluster {
    assert!(
        !toml
            .chars()
            .any(|c| c != '\n' && slonik_gen::escape::is_control(c)),
        "{what}: a control character in the imported config:\n{toml:?}"
    );
    slonik_gen::load_config_str(toml, "imported.toml")
        .unwrap_or_else(|e| panic!("{what}: the imported config does not load: {e}\n{toml}"))
}
