//! Golden snapshots, one fixture file at a time (`insta::glob!`, each snapshot's header
//! names its `input_file`): every `tests/inputs/*.toml` runs the operations of its own `#>`
//! lines for every Slony-I version, every `tests/inputs/err_*.toml` snapshots its errors,
//! and the shipped example runs `common::GEEKDB_OPS` (kept out of `examples/geekdb.toml`
//! because `runbook_plans__write_config_after_failover.diff` pins that file's line
//! numbers).

mod common;

use std::path::Path;

use slonik_gen::{load_config_str_for, SlonyVersion};

#[test]
fn every_input_fixture_gives_its_snapshots() {
    let mut seen = 0;
    insta::glob!("inputs/*.toml", |path| {
        snapshot(path);
        seen += 1;
    });
    let errors = common::error_fixtures().len();
    assert!(errors >= 8, "the error fixtures are missing");
    // Every fixture but the example comes from tests/inputs.
    assert_eq!(seen, common::valid_fixtures().len() - 1 + errors);
}

#[test]
fn the_shipped_example_gives_its_snapshots() {
    insta::glob!("../examples", "geekdb.toml", snapshot);
}

/// The fixture `common` reads from `path` (absolute, as `glob!` gives it).
fn fixture(path: &Path) -> common::Fixture {
    let root = std::fs::canonicalize(env!("CARGO_MANIFEST_DIR")).expect("the crate root");
    let relative = path.strip_prefix(&root).expect("a fixture inside the crate");
    common::valid_fixtures()
        .into_iter()
        .chain(common::error_fixtures())
        .find(|f| f.path == relative)
        .unwrap_or_else(|| panic!("{} is not a fixture", relative.display()))
}

fn snapshot(path: &Path) {
    let fixture = fixture(path);
    if fixture.name.starts_with("err_") {
        let err = load_config_str_for(&fixture.text, &fixture.path, None)
            .expect_err("an err_ fixture must be rejected");
        insta::with_settings!({
            description => fixture.text.clone(),
            omit_expression => true,
            snapshot_suffix => "",
        }, {
            insta::assert_snapshot!(fixture.name.clone(), err.to_string());
        });
        return;
    }
    for version in SlonyVersion::ALL {
        let mut out = String::new();
        match load_config_str_for(&fixture.text, &fixture.path, Some(version)) {
            Err(err) => out.push_str(&format!("config rejected for {version}:\n{err}\n")),
            Ok(cluster) => {
                for line in &fixture.ops {
                    out.push_str(&format!("### slonik-gen {line}\n"));
                    match common::parse_op(line).run(&cluster) {
                        Ok(change) => match change.script.render() {
                            Ok(text) => out.push_str(&text),
                            Err(err) => out.push_str(&format!("render error: {err}\n")),
                        },
                        Err(err) => out.push_str(&format!("error: {err}\n")),
                    }
                    out.push('\n');
                }
            }
        }
        insta::with_settings!({
            description => format!("{} rendered for Slony-I {version}", fixture.path.display()),
            omit_expression => true,
            snapshot_suffix => version.as_str(),
        }, {
            insta::assert_snapshot!(fixture.name.clone(), out);
        });
    }
}
