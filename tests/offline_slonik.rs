//! Every Slony-I 2.2 script the fixtures produce must pass the real slonik 2.2.11's own
//! parser and checker (the offline method of slonik-syntax.md: `exit 0;` first, every
//! conninfo pointing at a closed port; exit 0 = accepted, 255 = rejected).

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use slonik_gen::{load_config_str_for, Script, SlonyVersion};

/// Runs slonik on each file; returns the files it rejected, with its messages.
///
/// One process per file: slonik runs the files it is given one after another, and the
/// `exit 0;` at the top of the first file ends the process before the next one is parsed.
fn rejected(slonik: &Path, files: &[PathBuf]) -> Vec<(PathBuf, String)> {
    files
        .iter()
        .filter_map(|f| {
            let out = Command::new(slonik).arg(f).output().expect("slonik runs");
            (out.status.code() != Some(0)).then(|| {
                let stderr = String::from_utf8_lossy(&out.stderr)
                    .lines()
                    .filter(|l| !l.contains("connection refused") && !l.contains("Is the server running"))
                    .collect::<Vec<_>>()
                    .join("\n");
                (f.clone(), format!("exit {:?}: {stderr}", out.status.code()))
            })
        })
        .collect()
}

fn write_offline_copy(dir: &Path, name: &str, script: &Script) -> PathBuf {
    let path = dir.join(format!("{name}.slonik"));
    std::fs::write(&path, script.offline_check_copy().render().expect("renders")).expect("writes");
    path
}

#[test]
fn every_2_2_fixture_script_passes_the_real_slonik() {
    let Some(slonik) = common::slonik_or_skip("every_2_2_fixture_script_passes_the_real_slonik") else {
        return;
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let mut files = Vec::new();
    for fixture in common::valid_fixtures() {
        let cluster = load_config_str_for(&fixture.text, &fixture.path, Some(SlonyVersion::V2_2))
            .unwrap_or_else(|e| panic!("{e}"));
        for (i, line) in fixture.ops.iter().enumerate() {
            if let Ok(change) = common::parse_op(line).run(&cluster) {
                files.push(write_offline_copy(
                    dir.path(),
                    &format!("{}-{i:02}", fixture.name),
                    &change.script,
                ));
            }
        }
    }
    assert!(files.len() >= 50, "only {} scripts were generated", files.len());
    let bad = rejected(&slonik, &files);
    assert!(
        bad.is_empty(),
        "slonik rejected {} of {} scripts:\n{bad:#?}",
        bad.len(),
        files.len()
    );
}

#[test]
fn the_offline_check_catches_a_script_slonik_rejects() {
    let Some(slonik) = common::slonik_or_skip("the_offline_check_catches_a_script_slonik_rejects") else {
        return;
    };
    // altperl's execute-script output, which slonik 2.2 rejects: proves the check can fail.
    let dir = tempfile::tempdir().expect("tempdir");
    let bad = dir.path().join("altperl.slonik");
    std::fs::write(
        &bad,
        "cluster name = replication;\nnode 1 admin conninfo = 'host=127.0.0.1 port=1';\nexit 0;\n\
         execute script (set id = 1, filename = '/tmp/x.sql', event node = 1);\n",
    )
    .unwrap();
    let good = dir.path().join("good.slonik");
    std::fs::write(
        &good,
        "cluster name = replication;\nnode 1 admin conninfo = 'host=127.0.0.1 port=1';\nexit 0;\n",
    )
    .unwrap();
    let found = rejected(&slonik, &[good, bad.clone()]);
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].0, bad);
}
