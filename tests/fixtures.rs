//! Golden snapshots: every operation of every fixture, for every Slony-I version, and the
//! errors of every `err_*.toml`.

mod common;

use slonik_gen::{load_config_str_for, SlonyVersion};

#[test]
fn every_operation_on_every_fixture_and_version() {
    for fixture in common::valid_fixtures() {
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
}

#[test]
fn every_error_fixture_reports_its_problems() {
    let fixtures = common::error_fixtures();
    assert!(fixtures.len() >= 8, "the error fixtures are missing");
    for fixture in fixtures {
        let err = load_config_str_for(&fixture.text, &fixture.path, None)
            .expect_err("an err_ fixture must be rejected");
        insta::with_settings!({
            description => fixture.text.clone(),
            omit_expression => true,
        }, {
            insta::assert_snapshot!(fixture.name.clone(), err.to_string());
        });
    }
}
