//! `slonik-gen runbook ...` as an operator runs it: stdout, stderr, exit codes, files.

mod common;

use common::{assert_fails, slonik_gen, text};

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
    assert_fails(&out, 1, "differs from the generated runbook");
}
