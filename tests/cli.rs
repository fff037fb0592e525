//! The binary as an operator runs it: stdout, stderr and exit codes.

mod common;

use std::path::Path;

use common::{
    assert_fails, large_example, run_in, slonik_gen, slonik_gen_to_dev_full, slonik_gen_with_file_limit,
    temp_files_in, text,
};

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
    assert_fails(&drift, 3, "differs from the generated script");
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
    // The example is edited, not rewritten: its comments and short table list stay.
    let written = std::fs::read_to_string(&after).unwrap();
    let example = std::fs::read_to_string(EXAMPLE).unwrap();
    for line in example.lines().filter(|l| l.trim_start().starts_with('#')) {
        assert!(written.contains(line), "lost {line:?}:\n{written}");
    }
    assert!(!written.contains("[[set.tables]]"), "{written}");
    // And the next step of the failback runs from that file, with no hand edit.
    let drop = slonik_gen(&["--config", after.to_str().unwrap(), "drop-node", "1", "2"]);
    assert_eq!(drop.status.code(), Some(0), "{}", text(&drop.stderr));
    assert!(text(&drop.stdout).contains("drop node (id = 1, event node = 2);"));
}

#[test]
fn move_set_and_the_switchover_runbook_write_the_same_state() {
    let dir = tempfile::tempdir().unwrap();
    let moved = dir.path().join("moved.toml");
    let switched = dir.path().join("switched.toml");
    let single = slonik_gen(&[
        "--config",
        EXAMPLE,
        "--write-config",
        moved.to_str().unwrap(),
        "move-set",
        "set1",
        "1",
        "2",
    ]);
    assert_eq!(single.status.code(), Some(0), "{}", text(&single.stderr));
    let runbook = slonik_gen(&[
        "--config",
        EXAMPLE,
        "--write-config",
        switched.to_str().unwrap(),
        "runbook",
        "switchover",
        "--set",
        "set1",
        "--to",
        "2",
    ]);
    assert_eq!(runbook.status.code(), Some(0), "{}", text(&runbook.stderr));
    let (moved, switched) = (slonik_gen_config(&moved), slonik_gen_config(&switched));
    // Node 1 originated only set 1, so altperl's $MASTERNODE follows it to node 2 in both.
    assert_eq!(moved.default_origin, slonik_gen::model::NodeId(2));
    assert_eq!(moved, switched);
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

/// 2.2's `ddlCapture()` refuses an `execute only on` list without the event node, which
/// slonik's checker lets through: a single `--only-on` node is its own event node, and a
/// list that leaves out an explicit `--node` is refused before anything is printed.
#[test]
fn execute_script_only_on_includes_the_event_node() {
    let sql = "create table geekdb.t (id int);";
    let out = slonik_gen(&[
        "--config",
        EXAMPLE,
        "execute-script",
        "set1",
        "--sql",
        sql,
        "--only-on",
        "2",
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("event node = 2, execute only on = 2);"),
        "{}",
        text(&out.stdout)
    );
    assert_fails(
        &slonik_gen(&[
            "--config",
            EXAMPLE,
            "execute-script",
            "set1",
            "--sql",
            sql,
            "--node",
            "1",
            "--only-on",
            "2",
        ]),
        1,
        "nodes that include the event node",
    );
}

#[test]
fn help_lists_every_command_with_an_example() {
    let out = slonik_gen(&["--help"]);
    assert_eq!(out.status.code(), Some(0));
    insta::assert_snapshot!("help", text(&out.stdout));
    let operations = slonik_gen::ops::table::OPERATIONS.iter().map(|spec| spec.name);
    let commands = operations.chain([
        "runbook",
        "import",
        "install-links",
        "check-cluster",
        "slon-conf",
        "slon",
        "slon start",
        "slon stop",
        "slon status",
        "slon-unit",
        "status",
        "compare",
        "discover",
        "show",
        "golden",
        "completions",
        "man",
    ]);
    for command in commands {
        let mut words: Vec<&str> = command.split(' ').collect();
        words.push("--help");
        let help = text(&slonik_gen(&words).stdout);
        assert!(
            help.contains("Example: slonik-gen"),
            "{command} --help has no example:\n{help}"
        );
    }
}

#[test]
fn a_write_config_cut_short_by_the_file_size_limit_leaves_the_old_file_as_it_was() {
    let dir = tempfile::tempdir().unwrap();
    // 400 tables: the config is about 20 kB, far over a 4 kB limit.
    let config = large_example(dir.path(), "large.toml", 400);
    let target = dir.path().join("after.toml");
    let mut old = std::fs::read(&config).unwrap();
    old.extend_from_slice(b"# the previous file\n");
    std::fs::write(&target, &old).unwrap();
    let out = slonik_gen_with_file_limit(
        4,
        &[
            "--config",
            config.to_str().unwrap(),
            "--write-config",
            target.to_str().unwrap(),
            "create-set",
            "set1",
        ],
    );
    assert_fails(&out, 1, "cannot write config");
    assert!(
        text(&out.stderr).contains(target.to_str().unwrap()),
        "{}",
        text(&out.stderr)
    );
    assert!(std::fs::read(&target).unwrap() == old, "the old config changed");
    assert_eq!(temp_files_in(dir.path()), Vec::<String>::new());

    // Without the limit the same command replaces it.
    let out = slonik_gen(&[
        "--config",
        config.to_str().unwrap(),
        "--write-config",
        target.to_str().unwrap(),
        "create-set",
        "set1",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    // create-set changes no state: the config is written as it was read, byte for byte.
    assert_eq!(std::fs::read(&target).unwrap(), std::fs::read(&config).unwrap());
    slonik_gen::load_config(&target, None).unwrap();
}

#[cfg(unix)]
#[test]
fn write_config_through_a_symlink_replaces_the_file_it_points_to() {
    let dir = tempfile::tempdir().unwrap();
    let real = dir.path().join("real.toml");
    std::fs::write(&real, "# an older state\n").unwrap();
    let link = dir.path().join("current.toml");
    std::os::unix::fs::symlink("real.toml", &link).unwrap();
    let large = large_example(dir.path(), "large.toml", 400);
    let write = |config: &str, limit: Option<u32>| {
        let args = [
            "--config",
            config,
            "--write-config",
            link.to_str().unwrap(),
            "failover",
            "1",
            "2",
        ];
        match limit {
            Some(blocks) => slonik_gen_with_file_limit(blocks, &args),
            None => slonik_gen(&args),
        }
    };
    // A failed write through the link leaves the file it points to as it was.
    assert_fails(&write(large.to_str().unwrap(), Some(4)), 1, "cannot write config");
    assert_eq!(std::fs::read_to_string(&real).unwrap(), "# an older state\n");
    assert_eq!(temp_files_in(dir.path()), Vec::<String>::new());
    // A successful one replaces that file and keeps the link.
    let out = write(EXAMPLE, None);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(std::fs::symlink_metadata(&link).unwrap().file_type().is_symlink());
    assert!(slonik_gen_config(&real).nodes[&slonik_gen::model::NodeId(1)].failed);
    assert_eq!(temp_files_in(dir.path()), Vec::<String>::new());
}

#[cfg(unix)]
#[test]
fn a_config_with_a_password_is_never_written_more_open_than_0600() {
    use common::{mode_of, set_mode};
    let dir = tempfile::tempdir().unwrap();
    let example = std::fs::read_to_string(EXAMPLE).unwrap();
    let secret = dir.path().join("secret.toml");
    std::fs::write(
        &secret,
        example.replace(
            "passfile = \"/var/lib/postgresql/.pgpass\"   # no password in any script",
            "password = \"s3cret\"",
        ),
    )
    .unwrap();
    assert!(std::fs::read_to_string(&secret).unwrap().contains("s3cret"));
    let write = |from: &Path, to: &Path| {
        let out = slonik_gen(&[
            "--config",
            from.to_str().unwrap(),
            "--write-config",
            to.to_str().unwrap(),
            "failover",
            "1",
            "2",
        ]);
        assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    };
    // A 0600 config with a password: the new file is 0600 too, not 0666 & umask.
    set_mode(&secret, 0o600);
    let after = dir.path().join("after.toml");
    write(&secret, &after);
    assert!(std::fs::read_to_string(&after).unwrap().contains("s3cret"));
    assert_eq!(mode_of(&after), 0o600);
    // Even from a world-readable config, and over a world-readable file.
    set_mode(&secret, 0o644);
    set_mode(&after, 0o644);
    write(&secret, &after);
    assert_eq!(mode_of(&after), 0o600);

    // Without a password the mode of the config read is kept.
    let plain = dir.path().join("plain.toml");
    std::fs::copy(EXAMPLE, &plain).unwrap();
    set_mode(&plain, 0o640);
    let plain_after = dir.path().join("plain-after.toml");
    write(&plain, &plain_after);
    assert_eq!(mode_of(&plain_after), 0o640);
}

#[test]
fn the_next_config_is_not_written_when_the_script_cannot_be() {
    let dir = tempfile::tempdir().unwrap();
    let after = dir.path().join("after.toml");
    let args = [
        "--config",
        EXAMPLE,
        "--write-config",
        after.to_str().unwrap(),
        "failover",
        "1",
        "2",
    ];
    let out = slonik_gen_to_dev_full(&args);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("cannot write the script"),
        "{}",
        text(&out.stderr)
    );
    assert!(
        !after.exists(),
        "the config says node 1 failed, but no script was written"
    );
    // An existing file is left as it was.
    std::fs::write(&after, "# before\n").unwrap();
    let out = slonik_gen_to_dev_full(&args);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    assert_eq!(std::fs::read_to_string(&after).unwrap(), "# before\n");
    assert_eq!(temp_files_in(dir.path()), Vec::<String>::new());
}

#[test]
fn check_with_write_config_is_a_usage_error() {
    let dir = tempfile::tempdir().unwrap();
    let golden = dir.path().join("golden.slonik");
    std::fs::write(
        &golden,
        slonik_gen(&["--config", EXAMPLE, "failover", "1", "2"]).stdout,
    )
    .unwrap();
    let after = dir.path().join("after.toml");
    let out = slonik_gen(&[
        "--config",
        EXAMPLE,
        "--check",
        golden.to_str().unwrap(),
        "--write-config",
        after.to_str().unwrap(),
        "failover",
        "1",
        "2",
    ]);
    assert_fails(&out, 2, "--check and --write-config cannot be used together");
    assert!(
        text(&out.stderr).contains("prints nothing"),
        "{}",
        text(&out.stderr)
    );
    assert!(!after.exists());
}

#[test]
fn an_unpaired_failover_node_is_a_usage_error() {
    let out = slonik_gen(&["--config", EXAMPLE, "failover", "1", "2", "3"]);
    assert_fails(&out, 2, "dead node `3` has no backup node");
    let out = slonik_gen(&["--config", EXAMPLE, "failover", "1", "2", "3", "2", "node4"]);
    assert_fails(&out, 2, "dead node `node4` has no backup node");
}

#[test]
fn an_os_error_is_printed_once() {
    let out = slonik_gen(&["--config", "nope.toml", "init-cluster"]);
    assert_fails(&out, 1, "cannot read config nope.toml");
    let stderr = text(&out.stderr);
    assert_eq!(stderr.matches("No such file or directory").count(), 1, "{stderr}");
    assert_eq!(
        stderr,
        "slonik-gen: error: cannot read config nope.toml\n  caused by: No such file or directory (os error 2)\n"
    );
}

/// `--check` prints a diff of scripts whose header holds the nodes' conninfos: a password
/// there is redacted on both sides, and a drift only in the password says so.
#[test]
fn check_diffs_never_print_a_password() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("secret.toml");
    let example = std::fs::read_to_string(EXAMPLE).unwrap();
    std::fs::write(
        &config,
        example.replace(
            "passfile = \"/var/lib/postgresql/.pgpass\"   # no password in any script",
            "password = \"new s3cret\"",
        ),
    )
    .unwrap();
    let config = config.to_str().unwrap();
    let script = text(&slonik_gen(&["--config", config, "create-set", "set1"]).stdout);
    assert!(
        script.contains("s3cret"),
        "the script needs the password: {script}"
    );
    let golden = dir.path().join("create-set.slonik");
    let golden_arg = golden.to_str().unwrap();

    std::fs::write(&golden, script.replace("new s3cret", "old pa55word")).unwrap();
    let drift = slonik_gen(&["--config", config, "--check", golden_arg, "create-set", "set1"]);
    assert_fails(&drift, 3, "only in a password, which is not shown");
    let shown = text(&drift.stderr);
    for secret in ["s3cret", "pa55word"] {
        assert!(!shown.contains(secret), "{secret} printed:\n{shown}");
    }
    assert!(shown.contains("password=''***''"), "{shown}");

    std::fs::write(
        &golden,
        script
            .replace("new s3cret", "old pa55word")
            .replace("id = 2,", "id = 7,"),
    )
    .unwrap();
    let drift = slonik_gen(&["--config", config, "--check", golden_arg, "create-set", "set1"]);
    let shown = text(&drift.stderr);
    assert!(!shown.contains("only in a password"), "{shown}");
    assert!(
        shown.contains("+    set add table (set id = 1, origin = 1, id = 2,"),
        "{shown}"
    );
    for secret in ["s3cret", "pa55word"] {
        assert!(!shown.contains(secret), "{secret} printed:\n{shown}");
    }
}

/// The `Example:` lines of `slon status --help` and `slon-unit --help` run as written on
/// examples/geekdb.toml: no slon of it runs here, so status exits 3 (its documented exit
/// for "not running") and says so; slon-unit prints node 1's unit.
#[test]
fn slon_status_and_slon_unit_examples_run_as_written() {
    for (command, code, needle) in [
        ("status", 3, "node 1 (MasNod): slon not running (a process: config /etc/slony1/replication/node1.conf, pid file /var/run/slony1/replication_node1.pid"),
        ("unit", 0, "ExecStart=\"/usr/bin/slon\" -f \"/etc/slony1/replication/node1.conf\""),
    ] {
        let help_args: &[&str] = if command == "status" { &["slon", "status", "--help"] } else { &["slon-unit", "--help"] };
        let help = text(&slonik_gen(help_args).stdout);
        let line = help
            .lines()
            .find_map(|line| line.trim().strip_prefix("Example: slonik-gen "))
            .unwrap_or_else(|| panic!("no Example line in:\n{help}"));
        let line = line.split("   #").next().unwrap_or(line).trim();
        let words: Vec<&str> = line.split(' ').collect();
        let out = slonik_gen(&words);
        assert_eq!(out.status.code(), Some(code), "{line}: {}", text(&out.stderr));
        assert!(text(&out.stdout).contains(needle), "{line}: {}", text(&out.stdout));
    }
}

#[test]
fn slon_unit_all_writes_one_unit_per_active_node_0644_and_names_them_on_stderr() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let out = slonik_gen(&[
        "--config",
        EXAMPLE,
        "slon-unit",
        "--all",
        "--dir",
        dir.path().to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(out.stdout.is_empty(), "{}", text(&out.stdout));
    let mut names: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(
        names,
        ["slon-replication-node1.service", "slon-replication-node2.service"]
    );
    for name in &names {
        let path = dir.path().join(name);
        assert_eq!(
            std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
            0o644
        );
        assert!(
            text(&out.stderr).contains(&format!("slonik-gen: wrote {}", path.display())),
            "{}",
            text(&out.stderr)
        );
    }
    let one = slonik_gen(&["--config", EXAMPLE, "slon-unit", "node2"]);
    assert_eq!(
        one.stdout,
        std::fs::read(dir.path().join("slon-replication-node2.service")).unwrap()
    );
    assert_fails(
        &slonik_gen(&["--config", EXAMPLE, "slon-unit", "9"]),
        1,
        "no node `9`",
    );
    assert_fails(
        &slonik_gen(&["--config", EXAMPLE, "slon-unit", "--all"]),
        2,
        "--dir",
    );
    assert_fails(
        &slonik_gen(&["--config", EXAMPLE, "--check", "x", "slon", "status", "1"]),
        2,
        "--check",
    );
}
