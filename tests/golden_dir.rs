//! `golden DIR` and `--check DIR golden`: the golden files of a whole cluster, on every
//! fixture config, through the binary.

mod common;

use std::path::Path;

use common::{assert_fails, slonik_gen, text, valid_fixtures};

fn golden(config: &Path, dir: &Path, extra: &[&str]) -> std::process::Output {
    let mut args = vec!["--config", config.to_str().unwrap(), "golden"];
    args.extend(extra);
    args.push(dir.to_str().unwrap());
    slonik_gen(&args)
}

fn check(config: &Path, dir: &Path) -> std::process::Output {
    slonik_gen(&[
        "--config",
        config.to_str().unwrap(),
        "--check",
        dir.to_str().unwrap(),
        "golden",
    ])
}

fn names(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// Every fixture: the directory is written, nothing reaches stdout, every file name is
/// made of ids, every next config loads, and a check of the fresh directory passes.
#[test]
fn every_fixture_writes_a_directory_that_checks_clean() {
    for fixture in valid_fixtures() {
        let dir = tempfile::tempdir().unwrap();
        let out = golden(&fixture.path, dir.path(), &[]);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}: {}",
            fixture.name,
            text(&out.stderr)
        );
        assert!(out.stdout.is_empty(), "{}", fixture.name);
        let files = names(dir.path());
        assert!(
            files.iter().any(|n| n.starts_with("init-cluster")),
            "{}: {files:?}",
            fixture.name
        );
        for name in &files {
            assert!(
                name.chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "_.-".contains(c)),
                "{}: {name}",
                fixture.name
            );
            if name.ends_with(".next.toml") {
                let text = std::fs::read_to_string(dir.path().join(name)).unwrap();
                // Relative list files are relative to the fixture's directory.
                slonik_gen::load_config_str(&text, &fixture.path)
                    .unwrap_or_else(|e| panic!("{}: {name} does not load: {e}", fixture.name));
            }
        }
        let out = check(&fixture.path, dir.path());
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}: {}",
            fixture.name,
            text(&out.stderr)
        );
        assert!(out.stdout.is_empty() && out.stderr.is_empty(), "{}", fixture.name);
    }
}

/// The files are what the single commands print and write.
#[test]
fn files_equal_the_single_commands_output() {
    let config = Path::new("examples/geekdb.toml");
    let dir = tempfile::tempdir().unwrap();
    assert!(golden(config, dir.path(), &[]).status.success());
    let read = |name: &str| std::fs::read_to_string(dir.path().join(name)).unwrap();
    let create = slonik_gen(&["--config", "examples/geekdb.toml", "create-set", "set1"]);
    assert_eq!(read("create-set_set1.slonik"), text(&create.stdout));
    let next = dir.path().join("written.toml");
    let failover = slonik_gen(&[
        "--config",
        "examples/geekdb.toml",
        "--write-config",
        next.to_str().unwrap(),
        "failover",
        "1",
        "2",
    ]);
    assert_eq!(read("failover_node1_node2.slonik"), text(&failover.stdout));
    assert_eq!(
        read("failover_node1_node2.next.toml"),
        std::fs::read_to_string(&next).unwrap()
    );
    // Operations that change nothing have no next config.
    assert!(!dir.path().join("create-set_set1.next.toml").exists());
    let runbook = slonik_gen(&[
        "--config",
        "examples/geekdb.toml",
        "runbook",
        "switchover",
        "--from",
        "1",
        "--to",
        "2",
    ]);
    assert_eq!(read("runbook-switchover_node1_node2.md"), text(&runbook.stdout));
}

/// Drift exits 3 and names every changed, missing and extra file; `--update` rewrites just
/// those, after which the check passes.
#[test]
fn drift_is_exit_3_and_update_rewrites_only_what_changed() {
    let config = Path::new("examples/geekdb.toml");
    let dir = tempfile::tempdir().unwrap();
    assert!(golden(config, dir.path(), &[]).status.success());
    let d = dir.path();
    std::fs::write(d.join("init-cluster.slonik"), "# hand edit\n").unwrap();
    std::fs::remove_file(d.join("update-nodes.slonik")).unwrap();
    std::fs::write(d.join("stale.slonik"), "old\n").unwrap();
    std::fs::write(d.join("notes.txt"), "not ours\n").unwrap();
    let untouched = d.join("create-set_set1.slonik");
    let before = std::fs::metadata(&untouched).unwrap().modified().unwrap();

    let out = check(config, d);
    assert_fails(&out, 3, "init-cluster.slonik differs from the generated file");
    let report = text(&out.stderr);
    assert!(report.contains("-# hand edit"), "{report}");
    assert!(report.contains("missing from"), "{report}");
    assert!(report.contains("update-nodes.slonik"), "{report}");
    assert!(report.contains("stale.slonik"), "{report}");
    assert!(!report.contains("notes.txt"), "{report}");
    assert!(report.contains("1 changed, 1 missing, 1 extra"), "{report}");

    let out = golden(config, d, &["--update"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let said = text(&out.stderr);
    assert_eq!(said.lines().count(), 3, "{said}");
    assert!(
        said.contains("updated") && said.contains("wrote") && said.contains("removed"),
        "{said}"
    );
    assert_eq!(std::fs::metadata(&untouched).unwrap().modified().unwrap(), before);
    assert!(d.join("notes.txt").exists());
    assert!(check(config, d).status.success());
    let again = golden(config, d, &["--update"]);
    assert!(
        text(&again.stderr).contains("are up to date"),
        "{}",
        text(&again.stderr)
    );
}

/// A list file chooses the operations and runbooks; its errors name the line.
#[test]
fn a_list_file_chooses_the_commands() {
    let dir = tempfile::tempdir().unwrap();
    let list = dir.path().join("golden.list");
    std::fs::write(
        &list,
        "# what CI keeps\ncreate-set set1\n\nsubscribe-set set1 node2\nexecute-script set1 --sql alter table geekdb.files add column note text;\nexecute-script set1 --sql alter table geekdb.files add column other text;\nrunbook --format sh failover --dead 1 --backup 2\n",
    )
    .unwrap();
    let out_dir = dir.path().join("golden");
    let config = Path::new("examples/geekdb.toml");
    let out = golden(config, &out_dir, &["--list", list.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(
        names(&out_dir),
        [
            "create-set_set1.slonik",
            "execute-script_set1_sql.slonik",
            "execute-script_set1_sql_2.slonik",
            "runbook-failover_node1_node2.sh",
            "subscribe-set_set1_node2.slonik",
        ]
    );
    let second = std::fs::read_to_string(out_dir.join("execute-script_set1_sql_2.slonik")).unwrap();
    assert!(second.contains("other text"), "{second}");

    for (line, needle) in [
        ("create-set set9", "golden.list:1: "),
        ("bogus 1", "golden.list:1: unrecognized subcommand 'bogus'"),
        (
            "show",
            "golden.list:1: only operations and runbooks have golden files",
        ),
        (
            "--config x.toml create-set set1",
            "belong on the golden command itself",
        ),
    ] {
        std::fs::write(&list, format!("{line}\n")).unwrap();
        let out = golden(
            config,
            &dir.path().join("never"),
            &["--list", list.to_str().unwrap()],
        );
        assert_fails(&out, 1, needle);
        assert!(!dir.path().join("never").exists(), "{line}");
    }
}

/// Usage: DIR given twice, none, `--update` with `--check`, `--write-config`.
#[test]
fn usage_errors_exit_2() {
    let config = "examples/geekdb.toml";
    for (args, needle) in [
        (&["--config", config, "golden"][..], "golden needs DIR"),
        (
            &["--config", config, "--check", "a", "golden", "b"][..],
            "give DIR once",
        ),
        (
            &["--config", config, "--check", "a", "golden", "--update"][..],
            "choose one",
        ),
        (
            &["--config", config, "--write-config", "x.toml", "golden", "a"][..],
            "leave out --write-config",
        ),
    ] {
        assert_fails(&slonik_gen(args), 2, needle);
    }
}
