//! The command-line conventions operators expect: `--config -`, `--output FILE`,
//! `--quiet`, `--version`, `completions`, `man`, clap's errors with the program's name,
//! the config search path.

mod common;

use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};

use common::{assert_fails, mode_of, run_in, slonik_gen, text};

const EXAMPLE: &str = "examples/geekdb.toml";

fn example() -> String {
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(EXAMPLE)).unwrap()
}

/// Runs the binary in `dir` with `input` on stdin (no `$SLONIK_GEN_CONFIG`).
fn with_stdin(dir: &Path, args: &[&str], input: &str) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_slonik-gen"))
        .current_dir(dir)
        .args(args)
        .env_remove("SLONIK_GEN_CONFIG")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("slonik-gen runs");
    // A command that fails before reading stdin closes the pipe: ignore that write error.
    let _ = child.stdin.take().unwrap().write_all(input.as_bytes());
    child.wait_with_output().unwrap()
}

fn ok(out: &Output) {
    assert_eq!(out.status.code(), Some(0), "stderr: {}", text(&out.stderr));
}

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

// 1. --config -

#[test]
fn config_from_stdin_gives_the_same_script_as_the_file() {
    let from_file = slonik_gen(&["--config", EXAMPLE, "create-set", "set1"]);
    ok(&from_file);
    let from_stdin = with_stdin(root(), &["--config", "-", "create-set", "set1"], &example());
    ok(&from_stdin);
    assert!(!from_stdin.stdout.is_empty());
    assert_eq!(from_stdin.stdout, from_file.stdout);
}

#[test]
fn a_config_from_stdin_is_named_stdin_in_errors() {
    let out = with_stdin(root(), &["--config", "-", "init-cluster"], "cluster = \n");
    assert_fails(&out, 1, "<stdin>:");
    let invalid = example().replace("origin = 1\ncomment", "origin = 9\ncomment");
    assert_ne!(invalid, example());
    assert_fails(
        &with_stdin(root(), &["--config", "-", "init-cluster"], &invalid),
        1,
        "<stdin>: ",
    );
}

#[test]
fn list_files_of_a_config_from_stdin_are_relative_to_the_current_directory() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("set1.tables"),
        "geekdb.files\ngeekdb.additional_roll\n",
    )
    .unwrap();
    let config = example().replace(
        "tables = [\"files\", \"additional_roll\"]",
        "tables_file = \"set1.tables\"",
    );
    assert_ne!(config, example());
    let out = with_stdin(dir.path(), &["--config", "-", "create-set", "set1"], &config);
    ok(&out);
    assert!(
        text(&out.stdout).contains(r#"fully qualified name = '"geekdb"."additional_roll"'"#),
        "{}",
        text(&out.stdout)
    );
    let elsewhere = tempfile::tempdir().unwrap();
    assert_fails(
        &with_stdin(
            elsewhere.path(),
            &["--config", "-", "create-set", "set1"],
            &config,
        ),
        1,
        "set1.tables",
    );
}

#[test]
fn write_config_edits_the_config_read_from_stdin() {
    let dir = tempfile::tempdir().unwrap();
    let out = with_stdin(
        dir.path(),
        &[
            "--config",
            "-",
            "move-set",
            "set1",
            "1",
            "2",
            "--write-config",
            "after.toml",
        ],
        &example(),
    );
    ok(&out);
    assert!(text(&out.stdout).contains("move set"), "{}", text(&out.stdout));
    let after = std::fs::read_to_string(dir.path().join("after.toml")).unwrap();
    // The edit keeps the comments of the text read.
    assert!(after.contains("# altperl's $MASTERNODE"), "{after}");
    let cluster = slonik_gen::load_config(dir.path().join("after.toml"), None).unwrap();
    let set = cluster.sets.values().next().unwrap();
    assert_eq!(set.origin.to_string(), "2");
}

#[test]
fn golden_reads_the_config_from_stdin() {
    let from_file = tempfile::tempdir().unwrap();
    let from_stdin = tempfile::tempdir().unwrap();
    let a = from_file.path().to_str().unwrap();
    let b = from_stdin.path().to_str().unwrap();
    ok(&slonik_gen(&["--config", EXAMPLE, "golden", a]));
    ok(&with_stdin(root(), &["--config", "-", "golden", b], &example()));
    // The same files, byte for byte: the stdin config's golden dir checks clean against
    // the file's.
    ok(&with_stdin(
        root(),
        &["--config", "-", "--check", a, "golden"],
        &example(),
    ));
    let count = std::fs::read_dir(from_stdin.path()).unwrap().count();
    assert!(count > 10, "{count} files");
}

// 2. --output FILE

#[test]
fn output_writes_the_script_to_the_file_and_nothing_on_stdout() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("create-set.slonik");
    let expected = slonik_gen(&["--config", EXAMPLE, "create-set", "set1"]).stdout;
    let out = slonik_gen(&[
        "--config",
        EXAMPLE,
        "--output",
        file.to_str().unwrap(),
        "create-set",
        "set1",
    ]);
    ok(&out);
    assert!(out.stdout.is_empty());
    assert!(out.stderr.is_empty(), "{}", text(&out.stderr));
    assert_eq!(std::fs::read(&file).unwrap(), expected);
    assert!(common::temp_files_in(dir.path()).is_empty());

    // `--output -` is stdout, as for most tools.
    let out = run_in(
        dir.path(),
        &[
            "--config",
            &format!("{}/{EXAMPLE}", env!("CARGO_MANIFEST_DIR")),
            "--output",
            "-",
            "create-set",
            "set1",
        ],
        &[],
    );
    ok(&out);
    assert_eq!(out.stdout, expected);
    assert!(!dir.path().join("-").exists());
}

#[test]
fn a_failed_run_leaves_the_output_file_as_it_was() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("golden.slonik");
    std::fs::write(&file, "the golden script\n").unwrap();
    let out = slonik_gen(&[
        "--config",
        EXAMPLE,
        "--output",
        file.to_str().unwrap(),
        "create-set",
        "set7",
    ]);
    assert_fails(&out, 1, "no set `set7`");
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "the golden script\n");
    assert!(common::temp_files_in(dir.path()).is_empty());
}

#[test]
fn output_holding_a_password_is_0600() {
    let dir = tempfile::tempdir().unwrap();
    let config = example().replace(
        "passfile = \"/var/lib/postgresql/.pgpass\"   # no password in any script",
        "password = \"s3cret\"",
    );
    assert_ne!(config, example());
    let file = dir.path().join("preamble.slonik");
    let out = with_stdin(
        dir.path(),
        &["--config", "-", "--output", "preamble.slonik", "print-preamble"],
        &config,
    );
    ok(&out);
    assert!(std::fs::read_to_string(&file).unwrap().contains("s3cret"));
    assert_eq!(mode_of(&file) & 0o077, 0, "{:o}", mode_of(&file));

    let plain = dir.path().join("plain.slonik");
    ok(&slonik_gen(&[
        "--config",
        EXAMPLE,
        "--output",
        plain.to_str().unwrap(),
        "print-preamble",
    ]));
    assert!(!std::fs::read_to_string(&plain).unwrap().contains("password"));
}

#[test]
fn output_works_for_runbooks_show_and_write_config_together() {
    let dir = tempfile::tempdir().unwrap();
    let runbook = dir.path().join("failover.sh");
    let next = dir.path().join("after.toml");
    let out = slonik_gen(&[
        "--config",
        EXAMPLE,
        "--output",
        runbook.to_str().unwrap(),
        "--write-config",
        next.to_str().unwrap(),
        "runbook",
        "--format",
        "sh",
        "failover",
        "--dead",
        "1",
        "--backup",
        "2",
    ]);
    ok(&out);
    assert!(out.stdout.is_empty());
    assert!(std::fs::read_to_string(&runbook).unwrap().starts_with("#!"));
    assert!(std::fs::read_to_string(&next).unwrap().contains("failed = true"));

    let shown = dir.path().join("show.txt");
    ok(&slonik_gen(&[
        "--config",
        EXAMPLE,
        "--output",
        shown.to_str().unwrap(),
        "show",
    ]));
    assert_eq!(
        std::fs::read(&shown).unwrap(),
        slonik_gen(&["--config", EXAMPLE, "show"]).stdout
    );
}

#[test]
fn output_is_a_usage_error_with_check_and_for_commands_that_print_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("out");
    let f = file.to_str().unwrap();
    let d = dir.path().to_str().unwrap();
    for (args, needle) in [
        (
            vec![
                "--config",
                EXAMPLE,
                "--output",
                f,
                "--check",
                f,
                "create-set",
                "set1",
            ],
            "--check and --output",
        ),
        (
            vec!["--config", EXAMPLE, "--output", f, "golden", d],
            "golden prints nothing",
        ),
        (
            vec![
                "--config",
                EXAMPLE,
                "--output",
                f,
                "slon-unit",
                "--all",
                "--dir",
                d,
            ],
            "slon-unit --all prints nothing",
        ),
        (
            vec![
                "--config",
                EXAMPLE,
                "--output",
                f,
                "slon-conf",
                "--all",
                "--dir",
                d,
            ],
            "slon-conf --all prints nothing",
        ),
        (
            vec![
                "--config",
                EXAMPLE,
                "--output",
                f,
                "--write-config",
                f,
                "create-set",
                "set1",
            ],
            "the same file",
        ),
    ] {
        let out = slonik_gen(&args);
        assert_fails(&out, 2, needle);
        assert!(
            text(&out.stderr).starts_with("slonik-gen: error: "),
            "{}",
            text(&out.stderr)
        );
        assert!(!file.exists(), "{args:?}");
    }
}

// 3. --quiet

#[test]
fn quiet_drops_the_wrote_lines_but_not_errors() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap();
    let loud = slonik_gen(&["--config", EXAMPLE, "slon-unit", "--all", "--dir", d]);
    ok(&loud);
    assert!(
        text(&loud.stderr).contains("slonik-gen: wrote "),
        "{}",
        text(&loud.stderr)
    );
    let quiet = slonik_gen(&["--config", EXAMPLE, "--quiet", "slon-unit", "--all", "--dir", d]);
    ok(&quiet);
    assert!(quiet.stderr.is_empty(), "{}", text(&quiet.stderr));

    let golden = dir.path().join("golden");
    let g = golden.to_str().unwrap();
    let out = slonik_gen(&["--config", EXAMPLE, "-q", "golden", g]);
    ok(&out);
    assert!(out.stderr.is_empty(), "{}", text(&out.stderr));
    assert!(std::fs::read_dir(&golden).unwrap().count() > 10);
    let again = slonik_gen(&["--config", EXAMPLE, "-q", "golden", "--update", g]);
    ok(&again);
    assert!(again.stderr.is_empty(), "{}", text(&again.stderr));

    assert_fails(
        &slonik_gen(&["--config", EXAMPLE, "--quiet", "create-set", "set7"]),
        1,
        "slonik-gen: error: no set `set7`",
    );
    // A drift report is not information: it is still printed.
    let script = dir.path().join("create-set.slonik");
    std::fs::write(&script, "not the script\n").unwrap();
    let drift = slonik_gen(&[
        "--config",
        EXAMPLE,
        "--quiet",
        "--check",
        script.to_str().unwrap(),
        "create-set",
        "set1",
    ]);
    assert_fails(&drift, 3, "differs from the generated script");
}

// 4. --version

#[test]
fn version_names_the_slony_versions_and_features() {
    let out = slonik_gen(&["--version"]);
    ok(&out);
    let version = text(&out.stdout);
    let mut lines = version.lines();
    assert_eq!(
        lines.next(),
        Some(format!("slonik-gen {}", env!("CARGO_PKG_VERSION")).as_str())
    );
    let versions: Vec<&str> = slonik_gen::SlonyVersion::ALL.iter().map(|v| v.as_str()).collect();
    assert_eq!(
        lines.next(),
        Some(format!("generates for Slony-I {}", versions.join(", ")).as_str())
    );
    let features = lines.next().unwrap();
    assert!(features.starts_with("features: cli, json, import"), "{features}");
    assert_eq!(
        features.contains("import-live"),
        cfg!(feature = "import-live"),
        "{features}"
    );
    assert!(out.stderr.is_empty());
    // -V stays the one line.
    assert_eq!(
        text(&slonik_gen(&["-V"]).stdout),
        format!("slonik-gen {}\n", env!("CARGO_PKG_VERSION"))
    );
}

// 5. completions and man

fn installed(program: &str) -> bool {
    Command::new("sh")
        .arg("-c")
        .arg(format!("command -v {program}"))
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Runs `shell -n` on `script` (syntax check only).
fn syntax_check(shell: &str, script: &str) -> Output {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("completion");
    std::fs::write(&file, script).unwrap();
    Command::new(shell).arg("-n").arg(&file).output().unwrap()
}

#[test]
fn completion_scripts_parse_in_their_shells() {
    let bash = slonik_gen(&["completions", "bash"]);
    ok(&bash);
    let script = text(&bash.stdout);
    for word in ["create-set", "runbook", "slon-conf", "completions", "--config"] {
        assert!(script.contains(word), "bash completion lacks {word}");
    }
    let checked = syntax_check("bash", &script);
    assert!(checked.status.success(), "bash -n: {}", text(&checked.stderr));
    for shell in ["zsh", "fish"] {
        let out = slonik_gen(&["completions", shell]);
        ok(&out);
        let script = text(&out.stdout);
        assert!(
            script.contains("create-set"),
            "{shell} completion lacks create-set"
        );
        if !installed(shell) {
            println!("skipped `{shell} -n`: {shell} is not installed");
            continue;
        }
        let checked = syntax_check(shell, &script);
        assert!(checked.status.success(), "{shell} -n: {}", text(&checked.stderr));
    }
    assert_fails(
        &slonik_gen(&["completions", "tcsh"]),
        2,
        "slonik-gen: error: invalid value 'tcsh'",
    );
}

#[test]
fn the_man_page_renders_without_warnings() {
    let out = slonik_gen(&["man"]);
    ok(&out);
    let roff = text(&out.stdout);
    let first_macro = roff
        .lines()
        .find(|l| l.starts_with(".TH") || l.starts_with(".SH"));
    assert_eq!(
        first_macro.map(|l| l.split(' ').take(3).collect::<Vec<_>>().join(" ")),
        Some(".TH slonik-gen 1".to_string())
    );
    assert!(roff.contains(".SH NAME\nslonik\\-gen \\- Generate slonik scripts"));
    let renderers: [(&str, &[&str]); 2] =
        [("groff", &["-man", "-Tutf8", "-ww", "-z"]), ("man", &["-l", "-"])];
    let mut rendered = false;
    for (program, args) in renderers {
        if !installed(program) {
            println!("skipped rendering with {program}: not installed");
            continue;
        }
        let mut child = Command::new(program)
            .args(args)
            .env("MANPAGER", "cat")
            .env("MANWIDTH", "80")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        child.stdin.take().unwrap().write_all(roff.as_bytes()).unwrap();
        let done = child.wait_with_output().unwrap();
        assert!(done.status.success(), "{program}: {}", text(&done.stderr));
        assert!(done.stderr.is_empty(), "{program} warns: {}", text(&done.stderr));
        if program == "man" {
            let page = text(&done.stdout);
            assert!(page.contains("slonik-gen-create-set"), "{page}");
        }
        rendered = true;
    }
    if !rendered {
        println!("skipped rendering the man page: neither groff nor man is installed");
    }
}

/// The `Example:` lines of `completions --help` and `man --help` run as written (with the
/// binary on PATH, in an empty directory) and write the file they name.
#[test]
fn completions_and_man_examples_run_as_written() {
    let bin_dir = Path::new(env!("CARGO_BIN_EXE_slonik-gen")).parent().unwrap();
    let path = format!(
        "{}:{}",
        bin_dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    for (command, file) in [("completions", "slonik-gen.bash"), ("man", "slonik-gen.1")] {
        let help = text(&slonik_gen(&[command, "--help"]).stdout);
        let line = help
            .lines()
            .find_map(|l| l.strip_prefix("Example: "))
            .unwrap_or_else(|| panic!("no Example line in:\n{help}"));
        let dir = tempfile::tempdir().unwrap();
        let out = Command::new("bash")
            .arg("-c")
            .arg(line)
            .current_dir(dir.path())
            .env("PATH", &path)
            .env_remove("SLONIK_GEN_CONFIG")
            .output()
            .unwrap();
        ok(&out);
        let written = std::fs::read_to_string(dir.path().join(file)).unwrap();
        assert!(written.contains("create-set"), "{command}: {line}");
    }
}

// 6. clap's errors carry the program's name

#[test]
fn clap_errors_start_with_the_program_name_and_keep_usage_and_tip() {
    let out = slonik_gen(&["frobnicate"]);
    assert_fails(&out, 2, "Usage: slonik-gen");
    let err = text(&out.stderr);
    assert!(
        err.starts_with("slonik-gen: error: unrecognized subcommand 'frobnicate'\n"),
        "{err}"
    );
    assert!(err.contains("For more information, try '--help'."), "{err}");

    let out = slonik_gen(&["--config", EXAMPLE, "move-set", "set1"]);
    assert_fails(&out, 2, "<FROM>");
    assert!(text(&out.stderr).starts_with("slonik-gen: error: the following required arguments"));

    let out = slonik_gen(&["--config", EXAMPLE, "create-set", "set1", "--bogus"]);
    assert_fails(&out, 2, "tip: to pass '--bogus' as a value");
    assert!(text(&out.stderr).starts_with("slonik-gen: error: unexpected argument '--bogus'"));

    // The front end's own usage errors look the same.
    let out = slonik_gen(&[
        "--config",
        EXAMPLE,
        "--check",
        "x",
        "--write-config",
        "y",
        "create-set",
        "set1",
    ]);
    assert_fails(&out, 2, "Usage: slonik-gen");
    assert!(text(&out.stderr).starts_with("slonik-gen: error: --check and --write-config"));

    // Help is not an error.
    let help = slonik_gen(&["--help"]);
    ok(&help);
    assert!(text(&help.stdout).starts_with("Generate slonik scripts"));
    assert!(help.stderr.is_empty());
}

// 7. the config search path

#[test]
fn without_a_config_the_error_names_every_place_searched() {
    if Path::new("/etc/slonik-gen/slonik-gen.toml").exists() {
        println!("skipped: /etc/slonik-gen/slonik-gen.toml exists on this machine");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let out = run_in(dir.path(), &["print-preamble"], &[]);
    assert_fails(&out, 1, "./slonik-gen.toml or /etc/slonik-gen/slonik-gen.toml");
    let err = text(&out.stderr);
    assert!(err.starts_with("slonik-gen: error: no config"), "{err}");
    assert!(
        err.contains("--config FILE") && err.contains("SLONIK_GEN_CONFIG"),
        "{err}"
    );

    std::fs::write(dir.path().join("slonik-gen.toml"), example()).unwrap();
    ok(&run_in(dir.path(), &["print-preamble"], &[]));
}
