//! `slonik-gen runbook ...` as an operator runs it: stdout, stderr, exit codes, files.

mod common;

use std::path::Path;

use common::{
    assert_fails, large_example, slonik_gen, slonik_gen_to_dev_full, slonik_gen_with_file_limit,
    temp_files_in, text,
};

use slonik_gen::runbook::{Format, Request};

const EXAMPLE: &str = "examples/geekdb.toml";

fn example() -> slonik_gen::Cluster {
    slonik_gen::load_config(EXAMPLE, None).unwrap()
}

#[test]
fn prints_the_plan_in_the_asked_format() {
    let plan = Request::Switchover {
        sets: vec!["set1".into()],
        from: None,
        to: "2".into(),
    }
    .run(&example())
    .unwrap();
    for (flag, format) in [
        ("md", Format::Markdown),
        ("sh", Format::Shell),
        ("json", Format::Json),
    ] {
        let out = slonik_gen(&[
            "--config",
            EXAMPLE,
            "runbook",
            "--format",
            flag,
            "switchover",
            "--set",
            "set1",
            "--to",
            "2",
        ]);
        assert!(out.status.success(), "{}", text(&out.stderr));
        assert_eq!(text(&out.stdout), plan.render(format).unwrap(), "--format {flag}");
        assert!(out.stderr.is_empty());
    }
    // --format after the plan's name works too (it is a global option of `runbook`).
    let out = slonik_gen(&[
        "--config",
        EXAMPLE,
        "runbook",
        "switchover",
        "--from",
        "1",
        "--to",
        "2",
        "--format",
        "sh",
    ]);
    assert_eq!(text(&out.stdout), plan.render(Format::Shell).unwrap());
}

#[test]
fn refusals_print_nothing_on_stdout() {
    let out = slonik_gen(&["--config", EXAMPLE, "runbook", "failback", "--node", "1"]);
    assert_fails(
        &out,
        1,
        "failback: node 1 is the origin of set 1 (set1) in this config",
    );
    let out = slonik_gen(&[
        "--config", EXAMPLE, "runbook", "failover", "--dead", "7", "--backup", "2",
    ]);
    assert_fails(&out, 1, "no node `7` in the config");
    let out = slonik_gen(&[
        "--config", EXAMPLE, "runbook", "--format", "html", "failover", "--dead", "1", "--backup", "2",
    ]);
    assert_fails(&out, 2, "unknown runbook format `html`: use md, sh or json");
    let out = slonik_gen(&["--config", EXAMPLE, "runbook", "switchover", "--to", "2"]);
    assert_fails(&out, 2, "--set");
    let out = slonik_gen(&[
        "--config",
        EXAMPLE,
        "runbook",
        "rebuild-node",
        "--node",
        "2",
        "--prepare",
        "wipe",
    ]);
    assert_fails(&out, 2, "unknown --prepare `wipe`");
}

#[test]
fn write_config_updates_the_users_file_and_failback_reads_it() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("geekdb.toml");
    std::fs::copy(EXAMPLE, &config).unwrap();
    let config = config.to_str().unwrap();
    let out = slonik_gen(&[
        "--config",
        config,
        "--write-config",
        config,
        "runbook",
        "--format",
        "sh",
        "failover",
        "--dead",
        "1",
        "--backup",
        "2",
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).starts_with("#!/usr/bin/env bash\n"));
    let after = std::fs::read_to_string(config).unwrap();
    assert!(
        after.contains("default_origin = 2        # altperl's $MASTERNODE"),
        "{after}"
    );
    assert!(after.contains("failed = true"), "{after}");

    let out = slonik_gen(&[
        "--config",
        config,
        "--write-config",
        config,
        "runbook",
        "failback",
        "--node",
        "1",
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(
        std::fs::read_to_string(config).unwrap(),
        std::fs::read_to_string(EXAMPLE).unwrap()
    );
}

#[test]
fn check_compares_with_a_golden_runbook() {
    let dir = tempfile::tempdir().unwrap();
    let golden = dir.path().join("failover.md");
    let args = [
        "--config", EXAMPLE, "runbook", "failover", "--dead", "1", "--backup", "2",
    ];
    std::fs::write(&golden, slonik_gen(&args).stdout).unwrap();
    let golden = golden.to_str().unwrap();
    let mut checked = vec!["--check", golden];
    checked.extend(args);
    let out = slonik_gen(&checked);
    assert!(
        out.status.success() && out.stdout.is_empty(),
        "{}",
        text(&out.stderr)
    );

    std::fs::write(golden, "# an older runbook\n").unwrap();
    let out = slonik_gen(&checked);
    assert_fails(&out, 3, "differs from the generated runbook");
}

fn args_of<'a>(config: &'a Path, out: &'a Path, plan: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec![
        "--config",
        config.to_str().unwrap(),
        "--write-config",
        out.to_str().unwrap(),
        "runbook",
    ];
    args.extend(plan);
    args
}

const ADD_AUDIT_LOG: &[&str] = &["add-tables", "--set", "set1", "geekdb.audit_log"];

fn table_names(cluster: &slonik_gen::Cluster) -> Vec<String> {
    cluster.sets[&slonik_gen::model::SetId(1)]
        .tables
        .iter()
        .map(|t| t.name.to_string())
        .collect()
}

#[test]
fn an_in_place_edit_cut_short_by_the_file_size_limit_leaves_the_config_as_it_was() {
    let dir = tempfile::tempdir().unwrap();
    let config = large_example(dir.path(), "large.toml", 400);
    let old = std::fs::read(&config).unwrap();
    let out = slonik_gen_with_file_limit(4, &args_of(&config, &config, ADD_AUDIT_LOG));
    assert_fails(&out, 1, "cannot write config");
    assert!(std::fs::read(&config).unwrap() == old, "the config changed");
    assert_eq!(temp_files_in(dir.path()), Vec::<String>::new());
}

#[test]
fn the_config_is_not_edited_when_the_runbook_cannot_be_written() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("geekdb.toml");
    std::fs::copy(EXAMPLE, &config).unwrap();
    let out = slonik_gen_to_dev_full(&args_of(
        &config,
        &config,
        &["failover", "--dead", "1", "--backup", "2"],
    ));
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    assert_eq!(
        std::fs::read_to_string(&config).unwrap(),
        std::fs::read_to_string(EXAMPLE).unwrap(),
        "the config says node 1 failed, but no runbook was written"
    );
    assert_eq!(temp_files_in(dir.path()), Vec::<String>::new());
}

#[test]
fn check_with_write_config_is_a_usage_error_for_runbooks_too() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("geekdb.toml");
    std::fs::copy(EXAMPLE, &config).unwrap();
    let golden = dir.path().join("failover.md");
    let plan = ["failover", "--dead", "1", "--backup", "2"];
    std::fs::write(&golden, "# a runbook\n").unwrap();
    let mut args = vec!["--check", golden.to_str().unwrap()];
    args.extend(args_of(&config, &config, &plan));
    assert_fails(
        &slonik_gen(&args),
        2,
        "--check and --write-config cannot be used together",
    );
    assert_eq!(
        std::fs::read_to_string(&config).unwrap(),
        std::fs::read_to_string(EXAMPLE).unwrap()
    );
}

#[cfg(unix)]
#[test]
fn an_edited_config_keeps_its_mode_and_never_opens_a_password() {
    use common::{mode_of, set_mode};
    let dir = tempfile::tempdir().unwrap();
    let example = std::fs::read_to_string(EXAMPLE).unwrap();
    let config = dir.path().join("secret.toml");
    std::fs::write(
        &config,
        example.replace(
            "passfile = \"/var/lib/postgresql/.pgpass\"   # no password in any script",
            "password = \"s3cret\"",
        ),
    )
    .unwrap();
    set_mode(&config, 0o600);
    let copy = dir.path().join("after.toml");
    let out = slonik_gen(&args_of(&config, &copy, ADD_AUDIT_LOG));
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(mode_of(&copy), 0o600);
    set_mode(&config, 0o644);
    let out = slonik_gen(&args_of(
        &config,
        &config,
        &["add-tables", "--set", "set1", "geekdb.t2"],
    ));
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(mode_of(&config), 0o600, "a password is never left world-readable");

    let plain = dir.path().join("plain.toml");
    std::fs::copy(EXAMPLE, &plain).unwrap();
    set_mode(&plain, 0o640);
    let plain_after = dir.path().join("plain-after.toml");
    let out = slonik_gen(&args_of(&plain, &plain_after, ADD_AUDIT_LOG));
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(mode_of(&plain_after), 0o640);
}

#[test]
fn add_tables_edits_the_layout_that_write_config_itself_writes() {
    let dir = tempfile::tempdir().unwrap();
    let written = dir.path().join("after-failover.toml");
    // `failover --write-config` edits the example, keeping its short table list.
    let out = slonik_gen(&[
        "--config",
        EXAMPLE,
        "--write-config",
        written.to_str().unwrap(),
        "failover",
        "1",
        "2",
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let text_written = std::fs::read_to_string(&written).unwrap();
    assert!(
        text_written.contains("tables = [\"files\", \"additional_roll\"]"),
        "{text_written}"
    );
    assert!(!text_written.contains("[[set.tables]]"), "{text_written}");
    let before = slonik_gen::load_config(&written, None).unwrap();

    let next = dir.path().join("next.toml");
    let out = slonik_gen(&args_of(&written, &next, ADD_AUDIT_LOG));
    assert!(out.status.success(), "{}", text(&out.stderr));
    let after = slonik_gen::load_config(&next, None).unwrap();
    let mut expected = table_names(&before);
    expected.push("geekdb.audit_log".into());
    assert_eq!(table_names(&after), expected);
    assert!(after.nodes[&slonik_gen::model::NodeId(1)].failed);

    // And in place, twice: every result stays editable.
    for table in ["geekdb.t2", "geekdb.t3"] {
        let out = slonik_gen(&args_of(&next, &next, &["add-tables", "--set", "set1", table]));
        assert!(out.status.success(), "{}", text(&out.stderr));
        expected.push(table.into());
    }
    assert_eq!(
        table_names(&slonik_gen::load_config(&next, None).unwrap()),
        expected
    );
}

#[test]
fn add_tables_edits_the_layout_that_import_writes() {
    if std::process::Command::new("perl").arg("-v").output().is_err() {
        eprintln!("skipping: needs perl for `import altperl` (apt-get install perl)");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let imported = dir.path().join("imported.toml");
    let out = slonik_gen(&["import", "altperl", "tests/fixtures/altperl/geekdb.conf"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    std::fs::write(&imported, &out.stdout).unwrap();
    let before = slonik_gen::load_config(&imported, None).unwrap();
    let out = slonik_gen(&args_of(&imported, &imported, ADD_AUDIT_LOG));
    assert!(out.status.success(), "{}", text(&out.stderr));
    let mut expected = table_names(&before);
    expected.push("geekdb.audit_log".into());
    assert_eq!(
        table_names(&slonik_gen::load_config(&imported, None).unwrap()),
        expected
    );
}

#[test]
fn a_new_entry_of_a_multi_line_list_goes_on_its_own_line() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("geekdb.toml");
    let example = std::fs::read_to_string(EXAMPLE).unwrap();
    let multi_line = example
        .replace(
            "tables = [\"files\", \"additional_roll\"]",
            "tables = [\n    \"files\",\n    \"additional_roll\",\n]",
        )
        .replace(
            "sequences = [\"files_id_seq\"]",
            "sequences = [\n  \"files_id_seq\"\n]",
        );
    assert_ne!(multi_line, example);
    std::fs::write(&config, &multi_line).unwrap();
    let out = slonik_gen(&args_of(
        &config,
        &config,
        &[
            "add-tables",
            "--set",
            "set1",
            "geekdb.audit_log",
            "--sequence",
            "geekdb.audit_log_id_seq",
        ],
    ));
    assert!(out.status.success(), "{}", text(&out.stderr));
    let after = std::fs::read_to_string(&config).unwrap();
    assert!(
        after.contains(
            "tables = [\n    \"files\",\n    \"additional_roll\",\n    { name = \"audit_log\", schema = \"geekdb\", id = 3 },\n]"
        ),
        "{after}"
    );
    assert!(
        after.contains(
            "sequences = [\n  \"files_id_seq\",\n  { name = \"audit_log_id_seq\", schema = \"geekdb\", id = 2 }\n]"
        ),
        "{after}"
    );
    slonik_gen::load_config(&config, None).unwrap();
}
