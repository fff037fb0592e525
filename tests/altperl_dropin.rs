//! The altperl drop-in, run for real: `slonik-gen install-links DIR`, then the links
//! (`DIR/slonik_failover ...`) with altperl's arguments.

mod altperl_support;
mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use altperl_support::{fixtures, import, invocations, stem};
use slonik_gen::frontend::altperl::{parse_args, AltperlCommand, Request};

const BIN: &str = env!("CARGO_BIN_EXE_slonik-gen");

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// A directory with every altperl link, made by the binary itself.
fn links() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = Command::new(BIN)
        .args(["install-links"])
        .arg(dir.path())
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    dir
}

fn run_link(dir: &Path, command: &str, args: &[String]) -> Output {
    Command::new(dir.join(command))
        .args(args)
        .env_remove("SLONYNODES")
        .env_remove("SLONYSET")
        .output()
        .expect("the link runs")
}

fn absolute(path: &Path) -> PathBuf {
    std::path::absolute(path).expect("absolute path")
}

#[test]
fn install_links_creates_every_altperl_name_and_refuses_to_clobber() {
    let dir = links();
    let target = Path::new(BIN).canonicalize().unwrap();
    for command in AltperlCommand::all() {
        let link = dir.path().join(command.name());
        assert_eq!(
            std::fs::read_link(&link).ok().as_deref(),
            Some(target.as_path()),
            "{}",
            link.display()
        );
    }
    // Again: nothing to do.
    let again = Command::new(BIN)
        .arg("install-links")
        .arg(dir.path())
        .output()
        .unwrap();
    assert_eq!(again.status.code(), Some(0));
    assert!(
        text(&again.stdout).contains("already there"),
        "{}",
        text(&again.stdout)
    );

    // A real file under an altperl name (altperl itself, say) is left alone.
    let other = tempfile::tempdir().unwrap();
    let altperl = other.path().join("slonik_failover");
    std::fs::write(&altperl, "#!/usr/bin/perl\n").unwrap();
    let refused = Command::new(BIN)
        .arg("install-links")
        .arg(other.path())
        .output()
        .unwrap();
    assert_eq!(refused.status.code(), Some(1));
    assert!(refused.stdout.is_empty());
    assert!(
        text(&refused.stderr).contains("--force"),
        "{}",
        text(&refused.stderr)
    );
    assert_eq!(std::fs::read_to_string(&altperl).unwrap(), "#!/usr/bin/perl\n");
    assert!(
        !other.path().join("slonik_create_set").exists(),
        "a refusal creates nothing"
    );

    let forced = Command::new(BIN)
        .args(["install-links", "--force"])
        .arg(other.path())
        .output()
        .unwrap();
    assert_eq!(forced.status.code(), Some(0), "{}", text(&forced.stderr));
    assert_eq!(std::fs::read_link(&altperl).unwrap(), target);
}

#[test]
fn the_scenarios_failover_pipe_gets_the_same_script_as_slonik_gen() {
    let dir = links();
    let conf = absolute(Path::new("tests/fixtures/altperl/geekdb.conf"));
    let out = run_link(
        dir.path(),
        "slonik_failover",
        &[
            "--config".into(),
            conf.display().to_string(),
            "1".into(),
            "2".into(),
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(out.stderr.is_empty(), "{}", text(&out.stderr));

    // The same cluster as a TOML file, through the drop-in and through the normal CLI.
    let toml_dir = tempfile::tempdir().unwrap();
    let toml = toml_dir.path().join("geekdb.toml");
    std::fs::write(&toml, import(&conf).to_toml()).unwrap();
    let via_toml = run_link(
        dir.path(),
        "slonik_failover",
        &[
            format!("--config={}", toml.display()),
            "node1".into(),
            "node2".into(),
        ],
    );
    assert_eq!(text(&via_toml.stdout), text(&out.stdout));
    let cli = Command::new(BIN)
        .arg("--config")
        .arg(&toml)
        .args(["failover", "1", "2"])
        .output()
        .unwrap();
    assert_eq!(text(&cli.stdout), text(&out.stdout));
    let script = text(&out.stdout);
    assert!(script.contains("failover (id = 1, backup node = 2);"), "{script}");
    assert!(
        !script.contains("node 1 admin conninfo"),
        "the dead node is left out of the header: {script}"
    );
}

#[test]
fn every_fixture_and_generator_prints_what_the_library_generates() {
    let dir = links();
    let sql = tempfile::tempdir().unwrap();
    let sql_file = sql.path().join("ddl.sql");
    std::fs::write(&sql_file, "alter table t add column c int;\n").unwrap();
    let mut generated = 0;
    let mut commands_seen = std::collections::BTreeSet::new();
    for path in fixtures() {
        let conf = absolute(&path);
        let cluster = import(&path).cluster;
        for invocation in invocations(&cluster, &sql_file) {
            let mut args = vec!["--config".to_string(), conf.display().to_string()];
            args.extend(invocation.args.iter().cloned());
            let out = run_link(dir.path(), invocation.command, &args);
            let label = format!("{}: {}", stem(&path), invocation.label());
            let command = AltperlCommand::from_name(invocation.command).unwrap();
            let Ok(Request::Run { operation, .. }) = parse_args(command, &args) else {
                panic!("{label}: the arguments do not parse");
            };
            match operation.run(&cluster) {
                Ok(change) => {
                    assert_eq!(out.status.code(), Some(0), "{label}: {}", text(&out.stderr));
                    assert_eq!(text(&out.stdout), change.script.render().unwrap(), "{label}");
                    generated += 1;
                    commands_seen.insert(invocation.command);
                }
                Err(e) => {
                    assert_eq!(out.status.code(), Some(1), "{label}: expected a refusal ({e})");
                    assert!(out.stdout.is_empty(), "{label}: {}", text(&out.stdout));
                    assert!(
                        text(&out.stderr).contains(&e.to_string()),
                        "{label}: {}",
                        text(&out.stderr)
                    );
                }
            }
        }
    }
    assert!(generated >= 150, "only {generated} scripts");
    assert_eq!(commands_seen.len(), 18, "{commands_seen:?}");
}

#[test]
fn usage_errors_go_to_stderr_with_exit_2() {
    let dir = links();
    let conf = absolute(Path::new("tests/fixtures/altperl/geekdb.conf"))
        .display()
        .to_string();
    for (command, args) in [
        (
            "slonik_failover",
            vec!["--config".to_string(), conf.clone(), "1".into()],
        ),
        (
            "slonik_subscribe_set",
            vec!["--config".into(), conf.clone(), "set1".into(), "two".into()],
        ),
        (
            "slonik_create_set",
            vec!["--config".into(), conf.clone(), "--bogus".into(), "set1".into()],
        ),
        (
            "slonik_execute_script",
            vec![
                "--config".into(),
                conf.clone(),
                "set1".into(),
                "relative.sql".into(),
            ],
        ),
    ] {
        let out = run_link(dir.path(), command, &args);
        assert_eq!(
            out.status.code(),
            Some(2),
            "{command} {args:?}: {}",
            text(&out.stderr)
        );
        assert!(
            out.stdout.is_empty(),
            "{command}: usage went to stdout: {}",
            text(&out.stdout)
        );
        assert!(
            text(&out.stderr).contains(&format!("Usage: {command}")),
            "{}",
            text(&out.stderr)
        );
    }
    let help = run_link(dir.path(), "slonik_move_set", &["--help".into()]);
    assert_eq!(help.status.code(), Some(0));
    assert!(text(&help.stdout).starts_with("Usage: slonik_move_set [--config file] set from_node# to_node#"));
}

#[test]
fn generation_errors_leave_stdout_empty() {
    let dir = links();
    let conf = absolute(Path::new("tests/fixtures/altperl/geekdb.conf"))
        .display()
        .to_string();
    // altperl prints a script slonik rejects for `drop_node 1 1`; we refuse.
    let out = run_link(
        dir.path(),
        "slonik_drop_node",
        &["--config".into(), conf.clone(), "1".into(), "1".into()],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
    assert!(
        text(&out.stderr).starts_with("slonik_drop_node: error: "),
        "{}",
        text(&out.stderr)
    );

    let missing = run_link(
        dir.path(),
        "slonik_create_set",
        &[
            "--config".into(),
            "/nonexistent/slon_tools.conf".into(),
            "set1".into(),
        ],
    );
    assert_eq!(missing.status.code(), Some(1));
    assert!(missing.stdout.is_empty());
    assert!(
        text(&missing.stderr).contains("/nonexistent/slon_tools.conf"),
        "{}",
        text(&missing.stderr)
    );

    let broken = absolute(Path::new("tests/fixtures/altperl/errors/missing-host.conf"))
        .display()
        .to_string();
    let out = run_link(dir.path(), "slonik_init_cluster", &["--config".into(), broken]);
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
    assert!(
        text(&out.stderr).contains("missing-host.conf:3: "),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn what_the_config_prints_never_reaches_the_pipe() {
    let dir = links();
    let conf_dir = tempfile::tempdir().unwrap();
    let conf = conf_dir.path().join("chatty.conf");
    std::fs::write(
        &conf,
        "print \"loading nodes\\n\";\n$CLUSTER_NAME = 'chatty';\nadd_node(node => 1, host => 'a', dbname => 'db');\n1;\n",
    )
    .unwrap();
    let out = run_link(
        dir.path(),
        "slonik_print_preamble",
        &["--config".into(), conf.display().to_string()],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).starts_with("cluster name = chatty;\n"),
        "{}",
        text(&out.stdout)
    );
    assert!(!text(&out.stdout).contains("loading nodes"));
    assert!(text(&out.stderr).contains("loading nodes"));
}
