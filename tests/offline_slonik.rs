//! Every script the fixtures produce must pass the real slonik's own parser and checker,
//! through the suite's one offline check (`tests/common/offline.rs`: `exit 0;` first, every
//! conninfo pointing at a closed port; exit 0 = accepted, 255 = rejected); and that check
//! must catch the scripts slonik rejects. Slony-I 2.2's scripts go through the slonik on
//! PATH (2.2.11); an older version's through the slonik named for it
//! (`SLONIK_GEN_SLONIK_1_2`, ...: README, "Older sloniks").

mod common;

use common::offline;
use slonik_gen::{load_config_str_for, SlonyVersion};

#[test]
fn every_fixture_script_passes_the_real_slonik_of_its_version() {
    let Some(slonik) = common::slonik_or_skip("every_fixture_script_passes_the_real_slonik_of_its_version")
    else {
        return;
    };
    let mut scripts = Vec::new();
    for version in SlonyVersion::ALL {
        if version != SlonyVersion::V2_2 && offline::slonik_named_for(version).is_none() {
            eprintln!(
                "fixture scripts for Slony-I {version} are not run through a slonik: set {} to check them",
                offline::slonik_variable(version)
            );
            continue;
        }
        for fixture in common::valid_fixtures() {
            // A fixture may use what an older version cannot say (its snapshot shows the error).
            let cluster = match load_config_str_for(&fixture.text, &fixture.path, Some(version)) {
                Ok(cluster) => cluster,
                Err(_) if version != SlonyVersion::V2_2 => continue,
                Err(e) => panic!("{e}"),
            };
            for line in &fixture.ops {
                if let Ok(change) = common::parse_op(line).run(&cluster) {
                    let text = change.script.render().expect("renders");
                    scripts.push((format!("{}: {line}", fixture.name), version, text));
                }
            }
        }
    }
    assert!(
        scripts.len() >= 50,
        "only {} scripts were generated",
        scripts.len()
    );
    offline::assert_accepted_by_version(&slonik, &scripts);
}

const HEADER: &str = "cluster name = replication;\n\
    node 1 admin conninfo = 'host=db1.example.net dbname=app';\n\
    node 2 admin conninfo = 'host=db2.example.net dbname=app';\n";

fn script(name: &str, body: &str) -> (String, String) {
    (name.to_string(), format!("{HEADER}{body}"))
}

#[test]
fn the_offline_check_catches_a_script_slonik_rejects() {
    let Some(slonik) = common::slonik_or_skip("the_offline_check_catches_a_script_slonik_rejects") else {
        return;
    };
    let scripts = [
        script("sync", "sync (id = 1);\n"),
        // altperl's execute-script output, which slonik 2.2's parser rejects.
        script(
            "altperl execute script",
            "execute script (set id = 1, filename = '/tmp/x.sql', event node = 1);\n",
        ),
        script("echo", "echo 'fine';\n"),
        // Parsed, but rejected by slonik 2.2's checker: node 3 has no admin conninfo.
        script(
            "store path to node 3",
            "store path (server = 1, client = 3, conninfo = 'host=a');\n",
        ),
        script("preamble only", ""),
    ];
    let bad = offline::rejected(&slonik, &scripts);
    let names: Vec<&str> = bad.iter().map(|(name, _)| name.as_str()).collect();
    assert_eq!(
        names,
        ["altperl execute script", "store path to node 3"],
        "{bad:#?}"
    );
    assert!(bad[0].1.starts_with("exit Some(255): "), "{bad:#?}");
    assert!(
        bad[1].1.contains("No admin conninfo provided for node 3"),
        "{bad:#?}"
    );
    assert!(
        !bad.iter().any(|(_, why)| why.contains("Connection refused")),
        "the closed port's messages are noise: {bad:#?}"
    );

    // The scripts share a header, so slonik ran once for all five, then once for each.
    let report = offline::check(&slonik, &scripts);
    assert_eq!(report.runs, 1 + scripts.len(), "{report:?}");
    let good = [
        script("sync", "sync (id = 1);\n"),
        script("echo", "echo 'fine';\n"),
    ];
    assert_eq!(offline::check(&slonik, &good).rejected, []);
    assert_eq!(offline::check(&slonik, &good).runs, 1);
}

#[test]
fn the_offline_copy_never_names_the_real_hosts_and_keeps_line_numbers() {
    let text = format!("# a comment\n{HEADER}\n# set 1\ncreate set (id = 1, origin = 1);\n");
    let copy = offline::copy(&text);
    assert_eq!(
        copy,
        "# a comment\ncluster name = replication;\n\
         node 1 admin conninfo = 'host=127.0.0.1 port=1';\n\
         node 2 admin conninfo = 'host=127.0.0.1 port=1'; exit 0;\n\
         \n# set 1\ncreate set (id = 1, origin = 1);\n"
    );
    assert_eq!(copy.lines().count(), text.lines().count());
    // altperl's header style, and a script without a header.
    assert_eq!(
        offline::copy("cluster name = r;\n node 1 admin conninfo='host=a';\n\n  echo 'x';\n"),
        "cluster name = r;\nnode 1 admin conninfo = 'host=127.0.0.1 port=1'; exit 0;\n\n  echo 'x';\n"
    );
    assert_eq!(offline::copy("echo 'x';\n"), "exit 0;\necho 'x';\n");
}
