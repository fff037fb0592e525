//! The binary as an operator runs it: stdout, stderr and exit codes.

mod common;

use std::path::Path;

use common::{assert_fails, run_in, slonik_gen, text};

const EXAMPLE: &str = "examples/geekdb.toml";

#[test]
fn main_job_names_the_geekdb_schema_without_sed() {
    let out = slonik_gen(&["--config", EXAMPLE, "create-set", "set1"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(out.stderr.is_empty());
    let script = text(&out.stdout);
    assert!(
        script.contains(r#"fully qualified name = '"geekdb"."additional_roll"'"#),
        "{script}"
    );
    assert!(!script.contains("public"), "{script}");
    assert!(script.ends_with(";\n") && !script.ends_with("\n\n"));
}

#[test]
fn two_processes_print_the_same_bytes() {
    for args in [
        &["--config", EXAMPLE, "init-cluster"][..],
        &["--config", "tests/inputs/keyed.toml", "create-set", "set1"][..],
        &[
            "--config",
            "tests/inputs/cascade.toml",
            "subscribe-set",
            "accounts",
            "3",
        ][..],
    ] {
        let first = slonik_gen(args);
        let second = slonik_gen(args);
        assert_eq!(first.status.code(), Some(0));
        assert_eq!(first.stdout, second.stdout, "{args:?}");
    }
}

#[test]
fn unknown_set_fails_with_empty_stdout() {
    assert_fails(
        &slonik_gen(&["--config", EXAMPLE, "create-set", "set7"]),
        1,
        "no set `set7`",
    );
}

#[test]
fn drop_node_refuses_its_own_event_node() {
    assert_fails(
        &slonik_gen(&["--config", EXAMPLE, "drop-node", "2", "2"]),
        1,
        "cannot be dropped with itself",
    );
}

#[test]
fn invalid_config_lists_every_problem_and_names_the_file() {
    let out = slonik_gen(&["--config", "tests/inputs/err_references.toml", "init-cluster"]);
    assert_fails(&out, 1, "tests/inputs/err_references.toml: 6 problems");
}

#[test]
fn missing_config_names_the_file() {
    assert_fails(
        &slonik_gen(&["--config", "nope.toml", "init-cluster"]),
        1,
        "cannot read config nope.toml",
    );
}

#[test]
fn usage_errors_exit_2_with_empty_stdout() {
    assert_fails(
        &slonik_gen(&["--config", EXAMPLE, "move-set", "set1"]),
        2,
        "required",
    );
    assert_fails(&slonik_gen(&["--config", EXAMPLE, "failover", "1"]), 2, "BACKUP");
    assert_fails(
        &slonik_gen(&["--config", EXAMPLE, "frobnicate"]),
        2,
        "unrecognized subcommand",
    );
    assert_fails(
        &slonik_gen(&["--config", EXAMPLE, "--slony-version", "3.0", "init-cluster"]),
        2,
        "3.0",
    );
}

#[test]
fn config_comes_from_env_then_current_directory() {
    let dir = tempfile::tempdir().unwrap();
    let example = std::fs::read_to_string(EXAMPLE).unwrap();
    let from_env = dir.path().join("elsewhere.toml");
    std::fs::write(&from_env, &example).unwrap();
    let out = run_in(
        dir.path(),
        &["print-preamble"],
        &[("SLONIK_GEN_CONFIG", from_env.to_str().unwrap())],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(text(&out.stdout).starts_with("cluster name = replication;\n"));

    assert_fails(
        &run_in(dir.path(), &["print-preamble"], &[]),
        1,
        "slonik-gen.toml",
    );
    std::fs::write(dir.path().join("slonik-gen.toml"), &example).unwrap();
    let out = run_in(dir.path(), &["print-preamble"], &[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
}

#[test]
fn check_passes_on_a_match_and_shows_a_diff_on_drift() {
    let dir = tempfile::tempdir().unwrap();
    let golden = dir.path().join("create-set.slonik");
    let script = slonik_gen(&["--config", EXAMPLE, "create-set", "set1"]).stdout;
    std::fs::write(&golden, &script).unwrap();
    let golden_arg = golden.to_str().unwrap();

    let ok = slonik_gen(&["--config", EXAMPLE, "--check", golden_arg, "create-set", "set1"]);
    assert_eq!(ok.status.code(), Some(0), "{}", text(&ok.stderr));
    assert!(ok.stdout.is_empty());

    std::fs::write(&golden, text(&script).replace("id = 2,", "id = 7,")).unwrap();
    let drift = slonik_gen(&["--config", EXAMPLE, "--check", golden_arg, "create-set", "set1"]);
    assert_fails(&drift, 1, "differs from the generated script");
    let diff = text(&drift.stderr);
    assert!(
        diff.contains("-    set add table (set id = 1, origin = 1, id = 7,"),
        "{diff}"
    );
    assert!(
        diff.contains("+    set add table (set id = 1, origin = 1, id = 2,"),
        "{diff}"
    );
}

#[test]
fn write_config_records_the_state_after_failover() {
    let dir = tempfile::tempdir().unwrap();
    let after = dir.path().join("after.toml");
    let out = slonik_gen(&[
        "--config",
        EXAMPLE,
        "--write-config",
        after.to_str().unwrap(),
        "failover",
        "1",
        "2",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(
        !text(&out.stdout).contains("node 1 admin conninfo"),
        "a dead node stays out of the header"
    );
    let next = slonik_gen_config(&after);
    assert_eq!(
        next.sets[&slonik_gen::model::SetId(1)].origin,
        slonik_gen::model::NodeId(2)
    );
    assert!(next.nodes[&slonik_gen::model::NodeId(1)].failed);
    // And the next step of the failback runs from that file, with no hand edit.
    let drop = slonik_gen(&["--config", after.to_str().unwrap(), "drop-node", "1", "2"]);
    assert_eq!(drop.status.code(), Some(0), "{}", text(&drop.stderr));
    assert!(text(&drop.stdout).contains("drop node (id = 1, event node = 2);"));
}

fn slonik_gen_config(path: &Path) -> slonik_gen::Cluster {
    slonik_gen::load_config(path, None).unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn version_override_changes_the_syntax() {
    let dir = tempfile::tempdir().unwrap();
    let sql = dir.path().join("ddl.sql");
    std::fs::write(&sql, "select 1;\n").unwrap();
    let sql = sql.to_str().unwrap();
    let v22 = text(&slonik_gen(&["--config", EXAMPLE, "execute-script", "set1", sql]).stdout);
    let v21 = text(
        &slonik_gen(&[
            "--config",
            EXAMPLE,
            "--slony-version",
            "2.1",
            "execute-script",
            "set1",
            sql,
        ])
        .stdout,
    );
    assert!(
        v22.contains(&format!("execute script (filename = '{sql}', event node = 1);")),
        "{v22}"
    );
    assert!(
        v21.contains(&format!(
            "execute script (set id = 1, filename = '{sql}', event node = 1);"
        )),
        "{v21}"
    );
    assert_fails(
        &slonik_gen(&[
            "--config",
            EXAMPLE,
            "--slony-version",
            "2.1",
            "execute-script",
            "set1",
            "--sql",
            "select 1",
        ]),
        1,
        "--sql needs Slony-I 2.2",
    );
}

#[test]
fn execute_script_refuses_a_missing_file() {
    assert_fails(
        &slonik_gen(&["--config", EXAMPLE, "execute-script", "set1", "/no/such/file.sql"]),
        1,
        "/no/such/file.sql does not exist",
    );
}

#[test]
fn help_lists_every_command_with_an_example() {
    let out = slonik_gen(&["--help"]);
    assert_eq!(out.status.code(), Some(0));
    insta::assert_snapshot!("help", text(&out.stdout));
    let commands = [
        "print-preamble",
        "init-cluster",
        "store-node",
        "drop-node",
        "uninstall-nodes",
        "restart-node",
        "update-nodes",
        "create-set",
        "drop-set",
        "merge-sets",
        "subscribe-set",
        "unsubscribe-set",
        "move-set",
        "failover",
        "execute-script",
        "drop-table",
        "drop-sequence",
        "runbook",
        "import",
        "install-links",
        "check-cluster",
    ];
    for command in commands {
        let help = text(&slonik_gen(&[command, "--help"]).stdout);
        assert!(
            help.contains("Example: slonik-gen"),
            "{command} --help has no example:\n{help}"
        );
    }
}
