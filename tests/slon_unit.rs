//! `slon-unit`: the generated systemd units are accepted by systemd's own checker
//! (`systemd-analyze verify`), also for names full of systemd's specials.

mod common;

use std::path::Path;
use std::process::Command;

use common::{slonik_gen, text, valid_fixtures};

/// Writes every active node's unit of `config` into a new directory and runs
/// `systemd-analyze verify` on each; returns the units' texts.
fn verify_units(config: &Path) -> Vec<String> {
    let dir = tempfile::tempdir().unwrap();
    let out = slonik_gen(&[
        "--config",
        config.to_str().unwrap(),
        "slon-unit",
        "--all",
        "--dir",
        dir.path().to_str().unwrap(),
    ]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}: {}",
        config.display(),
        text(&out.stderr)
    );
    let mut units = Vec::new();
    for entry in std::fs::read_dir(dir.path()).unwrap() {
        let path = entry.unwrap().path();
        let verify = Command::new("systemd-analyze")
            .arg("verify")
            .arg(&path)
            .output()
            .unwrap();
        let complaints = text(&verify.stderr);
        assert!(
            verify.status.success() && complaints.trim().is_empty(),
            "{}: systemd-analyze verify {}:\n{complaints}",
            config.display(),
            path.display()
        );
        units.push(std::fs::read_to_string(&path).unwrap());
    }
    assert!(!units.is_empty(), "{}: no unit written", config.display());
    units
}

fn systemd_analyze_or_skip() -> bool {
    let found = Command::new("systemd-analyze")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !found {
        eprintln!("skipped: systemd-analyze is not installed (apt-get install systemd)");
    }
    found
}

#[test]
fn every_fixtures_units_pass_systemd_analyze_verify() {
    if !systemd_analyze_or_skip() {
        return;
    }
    for fixture in valid_fixtures() {
        verify_units(&fixture.path);
    }
}

/// `%` specifiers, `$` variables, quotes, backslashes and spaces in the names and paths a
/// unit carries stay literal: systemd accepts the unit and the text shows them escaped.
#[test]
fn hostile_names_and_paths_are_escaped_for_systemd() {
    if !systemd_analyze_or_skip() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("hostile.toml");
    std::fs::write(
        &config,
        "cluster = \"c\"\n[daemon]\nconf_dir = \"/etc/slony1/50% \\\"off\\\" $HOME \\\\x\"\nuser = \"postgres\"\n[[node]]\nid = 1\nname = \"Mas%n $USER \\\"q\\\"\"\nhost = \"127.0.0.1\"\n",
    )
    .unwrap();
    let units = verify_units(&config);
    let unit = &units[0];
    assert!(
        unit.contains(r#"ExecStart="/usr/bin/slon" -f "/etc/slony1/50%% \"off\" $$HOME \\x/node1.conf""#),
        "{unit}"
    );
    assert!(
        unit.contains("Description=Slony-I slon daemon for cluster c, node 1 (Mas%%n $USER \"q\")"),
        "{unit}"
    );
}
