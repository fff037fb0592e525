//! `slonik-gen import altperl`: every slon_tools.conf fixture imports to the config pinned in
//! its snapshot, reloads to the same cluster, and gives scripts the real slonik accepts;
//! the unsupported shapes fail with the file and line.

mod altperl_support;
mod common;

use std::path::Path;
use std::process::Command;

use altperl_support::{assert_loads, clean_options, error_fixtures, fixtures, import, stem};
use slonik_gen::import::{import_altperl, AltperlOptions};
use slonik_gen::model::{Cluster, NodeId, SetId};
use slonik_gen::ops::Ddl;
use slonik_gen::resolve::OperationArgs;

#[test]
fn there_are_at_least_ten_fixtures() {
    let names: Vec<String> = fixtures().iter().map(|p| stem(p)).collect();
    assert!(names.len() >= 10, "{names:?}");
    for needed in [
        "debian-sample",
        "geekdb",
        "geekdb-unqualified",
        "cascade",
        "keyed",
        "multi-origin",
        "quoting",
        "slonynodes",
    ] {
        assert!(
            names.iter().any(|n| n == needed),
            "missing fixture {needed}: {names:?}"
        );
    }
}

#[test]
fn every_fixture_imports_to_its_snapshot() {
    for path in fixtures() {
        let imported = import(&path);
        insta::assert_snapshot!(stem(&path), imported.to_toml());
    }
}

#[test]
fn the_imported_toml_reloads_to_the_same_cluster() {
    for path in fixtures() {
        let imported = import(&path);
        let reloaded = slonik_gen::load_config_str(&imported.to_toml(), "imported.toml")
            .unwrap_or_else(|e| panic!("{}: the imported TOML does not load: {e}", path.display()));
        assert_eq!(reloaded, imported.cluster, "{}", path.display());
    }
}

#[test]
fn debians_sample_keeps_altperls_meaning() {
    let cluster = import(Path::new("tests/fixtures/altperl/debian-sample.conf")).cluster;
    assert_eq!(cluster.name, "replication");
    assert_eq!(cluster.nodes.len(), 4);
    assert_eq!(cluster.nodes[&NodeId(4)].provider, Some(NodeId(3)));
    let set1 = cluster
        .sets
        .values()
        .find(|s| s.name == "set1_name")
        .expect("set1_name");
    let tables: Vec<(u32, String, Option<String>)> = set1
        .tables
        .iter()
        .map(|t| (t.id.0, t.name.quoted(), t.key.clone()))
        .collect();
    assert_eq!(
        tables,
        vec![
            // No foldCase: Slony quotes TABLE1 as written.
            (1, r#""public"."TABLE1""#.to_string(), None),
            (2, r#""public"."table2""#.to_string(), None),
            (
                3,
                r#""public"."table3""#.to_string(),
                Some("index_on_table3".to_string())
            ),
            (
                4,
                r#""public"."table4""#.to_string(),
                Some("index_on_table4".to_string())
            ),
        ]
    );
    let set2 = cluster.sets.values().find(|s| s.name == "set2").expect("set2");
    assert_eq!(set2.tables[0].id.0, 6, "table_id => 6");
}

#[test]
fn the_scenario_config_names_the_geekdb_schema() {
    let cluster = import(Path::new("tests/fixtures/altperl/geekdb.conf")).cluster;
    let set = &cluster.sets.values().next().expect("set1");
    let names: Vec<String> = set
        .tables
        .iter()
        .map(|t| t.name.quoted())
        .chain(set.sequences.iter().map(|s| s.name.quoted()))
        .collect();
    assert_eq!(
        names,
        [
            r#""geekdb"."files""#,
            r#""geekdb"."additional_roll""#,
            r#""geekdb"."files_id_seq""#
        ]
    );
    assert_eq!(cluster.nodes[&NodeId(1)].admin.host.as_deref(), Some("MasNod"));
    assert_eq!(cluster.nodes[&NodeId(2)].admin.host.as_deref(), Some("SlaNod"));
    assert_eq!(
        cluster.nodes[&NodeId(1)].admin.password,
        None,
        "password => '' is no password"
    );
}

#[test]
fn unqualified_names_are_in_public_unless_the_schema_is_mapped() {
    let path = Path::new("tests/fixtures/altperl/geekdb-unqualified.conf");
    let plain = import(path).cluster;
    assert!(plain
        .sets
        .values()
        .flat_map(|s| s.tables.iter())
        .all(|t| t.name.schema == "public"));

    let options = AltperlOptions {
        schema_map: [("public".to_string(), "geekdb".to_string())].into(),
        ..clean_options()
    };
    let mapped = import_altperl(path, &options).expect("imports");
    assert_loads(&mapped.to_toml(), "--map-schema");
    let qualified = import(Path::new("tests/fixtures/altperl/geekdb.conf")).cluster;
    assert_eq!(
        mapped.cluster.sets, qualified.sets,
        "--map-schema public=geekdb equals the qualified config"
    );
    assert!(
        mapped.to_toml().contains("public -> geekdb"),
        "{}",
        mapped.to_toml()
    );
}

#[test]
fn cascades_keep_parent_and_only_noforward_yes() {
    let imported = import(Path::new("tests/fixtures/altperl/cascade.conf"));
    let nodes = &imported.cluster.nodes;
    let provider = |n: u32| nodes[&NodeId(n)].provider.map(|p| p.0);
    let forward = |n: u32| nodes[&NodeId(n)].forward;
    assert_eq!(
        (provider(3), provider(4), provider(5)),
        (Some(2), Some(3), Some(2))
    );
    assert!(!forward(4), "noforward => \"yes\"");
    assert!(forward(5), "noforward => 1 is ignored by altperl");
    assert!(
        imported.notes.iter().any(|n| n.contains("noforward => '1'")),
        "{:?}",
        imported.notes
    );
    // Table ids start at the set's table_id.
    let ids: Vec<u32> = imported
        .cluster
        .sets
        .values()
        .next()
        .unwrap()
        .tables
        .iter()
        .map(|t| t.id.0)
        .collect();
    assert_eq!(ids, [10, 11, 12]);
}

#[test]
fn keyed_tables_get_ids_in_sorted_order_whatever_perls_hash_seed() {
    let path = Path::new("tests/fixtures/altperl/keyed.conf");
    let outputs: Vec<String> = ["1", "2", "12345"]
        .iter()
        .map(|seed| {
            let mut options = clean_options();
            options.env.push(("PERL_HASH_SEED".into(), Some(seed.into())));
            import_altperl(path, &options).expect("imports").to_toml()
        })
        .collect();
    for output in &outputs {
        assert_loads(output, "keyed.conf");
    }
    assert_eq!(outputs[0], outputs[1]);
    assert_eq!(outputs[0], outputs[2]);
    let cluster = import(path).cluster;
    let keyed: Vec<(u32, String)> = cluster.sets.values().next().unwrap().tables[1..]
        .iter()
        .map(|t| (t.id.0, t.name.to_string()))
        .collect();
    assert_eq!(
        keyed,
        [
            (2, "public.legacy".to_string()),
            (3, "shop.audit".to_string()),
            (4, "shop.price_rules".to_string()),
            (5, "shop.stock".to_string())
        ]
    );
    assert!(
        outputs[0].contains("keyedtables is a Perl hash"),
        "{}",
        outputs[0]
    );
}

#[test]
fn per_set_origin_wins_over_masternode() {
    let cluster = import(Path::new("tests/fixtures/altperl/multi-origin.conf")).cluster;
    let origins: Vec<(String, u32)> = cluster
        .sets
        .values()
        .map(|s| (s.name.clone(), s.origin.0))
        .collect();
    assert_eq!(
        origins,
        [
            ("billing".to_string(), 1),
            ("hr".to_string(), 2),
            ("stock".to_string(), 3),
            ("audit".to_string(), 1)
        ]
    );
    // Every node subscribes to every set it is not the origin of.
    assert_eq!(cluster.subscriptions.len(), 4 * 2);
    assert!(!cluster.subscriptions.contains_key(&(SetId(2), NodeId(2))));
}

#[test]
fn names_are_read_the_way_slony_reads_them() {
    let cluster = import(Path::new("tests/fixtures/altperl/quoting.conf")).cluster;
    let names: Vec<String> = cluster
        .sets
        .values()
        .flat_map(|s| s.tables.iter().map(|t| t.name.quoted()))
        .collect();
    assert_eq!(
        names,
        [
            r#""public"."Capital Idea""#,
            r#""Studly Spacey Schema"."user""#,
            r#""CamelSchema"."CamelTable""#,
            r#""dotted.schema"."a ""quoted"" name""#,
            r#""public"."Odd Table""#,
            // foldCase => 1
            r#""public"."accounts""#,
            r#""public"."ledger""#,
        ]
    );
}

#[test]
fn slonynodes_chooses_the_node_list_as_under_altperl() {
    let path = Path::new("tests/fixtures/altperl/slonynodes.conf");
    let without = import(path).cluster;
    assert_eq!(without.nodes.len(), 2);
    let nodes_file = std::path::absolute("tests/fixtures/altperl/slonynodes-nodes.pl").unwrap();
    let mut options = clean_options();
    options.env[0].1 = Some(nodes_file.into_os_string());
    let with = import_altperl(path, &options).expect("imports");
    assert_loads(&with.to_toml(), "slonynodes.conf with SLONYNODES");
    assert_eq!(with.cluster.nodes.len(), 3);
    assert_eq!(with.cluster.default_origin.0, 2);
    insta::assert_snapshot!("slonynodes-with-env", with.to_toml());
}

#[test]
fn unsupported_shapes_fail_with_file_and_line() {
    let mut messages = String::new();
    for path in error_fixtures() {
        let err = import_altperl(&path, &clean_options()).expect_err("an error fixture must fail");
        messages.push_str(&format!("{}:\n{err}\n\n", stem(&path)));
    }
    insta::assert_snapshot!("import-errors", messages);
    // Spot checks that do not depend on reading the snapshot.
    assert!(messages.contains("errors/missing-host.conf:3: "), "{messages}");
    assert!(messages.contains("errors/duplicate-node.conf:4: "), "{messages}");
    assert!(messages.contains("errors/dies.conf:2: "), "{messages}");
}

#[test]
fn the_cli_prints_toml_on_success_and_nothing_on_error() {
    let bin = env!("CARGO_BIN_EXE_slonik-gen");
    let ok = Command::new(bin)
        .args(["import", "altperl", "tests/fixtures/altperl/geekdb.conf"])
        .env_remove("SLONYNODES")
        .output()
        .expect("runs");
    assert_eq!(
        ok.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    let toml = String::from_utf8(ok.stdout).unwrap();
    assert_loads(&toml, "import altperl geekdb.conf");
    assert_eq!(
        toml,
        import(Path::new("tests/fixtures/altperl/geekdb.conf")).to_toml()
    );

    let bad = Command::new(bin)
        .args([
            "import",
            "altperl",
            "tests/fixtures/altperl/errors/syntax-error.conf",
        ])
        .output()
        .expect("runs");
    assert_eq!(bad.status.code(), Some(1));
    assert!(bad.stdout.is_empty(), "{}", String::from_utf8_lossy(&bad.stdout));
    let stderr = String::from_utf8_lossy(&bad.stderr);
    assert!(
        stderr.contains("tests/fixtures/altperl/errors/syntax-error.conf:3: "),
        "{stderr}"
    );

    let mapped = Command::new(bin)
        .args([
            "import",
            "altperl",
            "--map-schema",
            "public",
            "tests/fixtures/altperl/geekdb.conf",
        ])
        .output()
        .expect("runs");
    assert_eq!(mapped.status.code(), Some(1));
    assert!(mapped.stdout.is_empty());
    assert!(String::from_utf8_lossy(&mapped.stderr).contains("FROM=TO"));
}

#[test]
fn a_missing_perl_is_a_clear_error() {
    let options = AltperlOptions {
        perl: "/nonexistent/perl".into(),
        ..clean_options()
    };
    let err = import_altperl(Path::new("tests/fixtures/altperl/geekdb.conf"), &options).unwrap_err();
    assert!(
        err.to_string().contains("cannot run `/nonexistent/perl`"),
        "{err}"
    );
}

/// Operations that exercise every statement kind an imported config can produce.
fn operations(cluster: &Cluster, sql_file: &Path) -> Vec<OperationArgs> {
    let mut ops = vec![
        OperationArgs::PrintPreamble,
        OperationArgs::InitCluster,
        OperationArgs::UninstallNodes,
        OperationArgs::UpdateNodes,
        OperationArgs::RestartNodes { nodes: Vec::new() },
    ];
    for node in cluster.nodes.keys() {
        ops.push(OperationArgs::StoreNode {
            node: node.to_string(),
            event_node: None,
        });
        ops.push(OperationArgs::DropNode {
            node: node.to_string(),
            event_node: cluster.default_origin.to_string(),
        });
        ops.push(OperationArgs::Failover {
            pairs: vec![(cluster.default_origin.to_string(), node.to_string())],
        });
    }
    for set in cluster.sets.values() {
        let name = set.name.clone();
        ops.push(OperationArgs::CreateSet { set: name.clone() });
        ops.push(OperationArgs::DropSet { set: name.clone() });
        for other in cluster.sets.values() {
            ops.push(OperationArgs::MergeSets {
                node: set.origin.to_string(),
                target: name.clone(),
                source: other.name.clone(),
            });
        }
        ops.push(OperationArgs::ExecuteScript {
            set: name.clone(),
            ddl: Ddl::File(sql_file.display().to_string()),
            node: None,
            only_on: Vec::new(),
        });
        ops.push(OperationArgs::ExecuteScript {
            set: name.clone(),
            ddl: Ddl::Sql("alter table t add column c int;".into()),
            node: None,
            only_on: Vec::new(),
        });
        for node in cluster.nodes.keys() {
            ops.push(OperationArgs::SubscribeSet {
                set: name.clone(),
                node: node.to_string(),
                omit_copy: false,
            });
            ops.push(OperationArgs::UnsubscribeSet {
                set: name.clone(),
                node: node.to_string(),
            });
            ops.push(OperationArgs::MoveSet {
                set: name.clone(),
                from: set.origin.to_string(),
                to: node.to_string(),
            });
        }
        for table in set.tables.iter() {
            ops.push(OperationArgs::DropTable {
                table_id: table.id.to_string(),
                set: name.clone(),
            });
        }
        for sequence in set.sequences.iter() {
            ops.push(OperationArgs::DropSequence {
                sequence_id: sequence.id.to_string(),
                set: name.clone(),
            });
        }
    }
    ops
}

#[test]
fn every_imported_config_gives_scripts_the_real_slonik_accepts() {
    let Some(slonik) = common::slonik_or_skip("every_imported_config_gives_scripts_the_real_slonik_accepts")
    else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let sql_file = dir.path().join("ddl.sql");
    std::fs::write(&sql_file, "alter table t add column c int;\n").unwrap();
    let mut scripts: Vec<(String, String)> = Vec::new();
    for path in fixtures() {
        let cluster = import(&path).cluster;
        let before = scripts.len();
        for op in operations(&cluster, &sql_file) {
            if let Ok(change) = op.run(&cluster) {
                let text = change.script.render().expect("renders");
                scripts.push((format!("{} {op:?}", stem(&path)), text));
            }
        }
        assert!(
            scripts.len() - before >= 10,
            "{}: only {} operations succeeded",
            path.display(),
            scripts.len() - before
        );
    }
    common::offline::assert_accepted(&slonik, &scripts);
}

#[test]
fn control_characters_in_noted_values_and_printed_text_come_out_escaped() {
    let path = Path::new("tests/fixtures/altperl/hostile/notes.conf");
    let imported = import(path); // also asserts that the output loads, control-free
    let toml = imported.to_toml();
    for needle in [
        "$LOGDIR (/var/log/slony\\u{001B}[31m)",
        "options => '-s 1\\u{0002}'",
        "config => '/etc/slony1/node1\\u{0007}.conf'",
        "noforward => 'maybe\\u{0001}'",
        "`col\\u{001B}[8mour`",
        "`comm\\u{001B}ent`",
    ] {
        assert!(
            imported.notes.iter().any(|n| n.contains(needle)),
            "missing {needle} in {:#?}",
            imported.notes
        );
    }
    insta::assert_snapshot!("hostile-notes", toml);
    // What the config prints reaches stderr escaped, passwords redacted.
    assert!(
        imported
            .perl_output
            .contains("loading \\u{001B}]0;owned\\u{0007} the config\n"),
        "{:?}",
        imported.perl_output
    );
    assert!(
        imported.perl_output.contains("password=***"),
        "{:?}",
        imported.perl_output
    );

    let out = Command::new(env!("CARGO_BIN_EXE_slonik-gen"))
        .args(["import", "altperl", path.to_str().unwrap()])
        .env_remove("SLONYNODES")
        .output()
        .expect("runs");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(String::from_utf8(out.stdout).unwrap(), toml);
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(
        !stderr
            .chars()
            .any(|c| c != '\n' && slonik_gen::escape::is_control(c)),
        "{stderr:?}"
    );
    assert!(!stderr.contains("pw_printed_secret"), "{stderr}");
}

#[test]
fn control_characters_in_config_fields_fail_the_import_naming_the_item() {
    let expect = [
        ("control-host", "control-host.conf:3: add_node: host of node 1 (`db\\u{001B}[2J1`) holds the control character U+001B (escape)"),
        ("control-password", "control-password.conf:3: add_node: password of node 1 holds the control character U+0001"),
        ("control-table", "$SLONY_SETS->{\"main\"}: a table or sequence name (`public.ord\\u{0002}ers`) holds the control character U+0002"),
        ("control-set-name", "$SLONY_SETS->{\"ma\\u{000A}in\"}: the set name (`ma\\u{000A}in`) holds the control character U+000A (line feed)"),
    ];
    for (fixture, needle) in expect {
        let path = format!("tests/fixtures/altperl/errors/{fixture}.conf");
        let out = Command::new(env!("CARGO_BIN_EXE_slonik-gen"))
            .args(["import", "altperl", &path])
            .env_remove("SLONYNODES")
            .output()
            .expect("runs");
        assert_eq!(out.status.code(), Some(1), "{fixture}");
        assert!(
            out.stdout.is_empty(),
            "{fixture}: {}",
            String::from_utf8_lossy(&out.stdout)
        );
        let stderr = String::from_utf8(out.stderr).unwrap();
        assert!(stderr.contains(needle), "{fixture}: missing {needle} in {stderr}");
        assert!(
            !stderr
                .chars()
                .any(|c| c != '\n' && slonik_gen::escape::is_control(c)),
            "{stderr:?}"
        );
        assert!(!stderr.contains("pw_ctl_secret"), "{stderr}");
    }
    let out = Command::new(env!("CARGO_BIN_EXE_slonik-gen"))
        .args([
            "import",
            "altperl",
            "--map-schema",
            "public=ge\u{1b}ekdb",
            "tests/fixtures/altperl/geekdb.conf",
        ])
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(
        stderr.contains("--map-schema public=ge\\u{001B}ekdb: holds the control character U+001B"),
        "{stderr}"
    );
}

/// `--write-config FILE import altperl`: the config goes to FILE, a big set's tables to a
/// list file beside it, nothing to stdout; the two load to the cluster the import printed,
/// and together they are smaller than the slon_tools.conf.
#[test]
fn import_with_write_config_puts_a_big_set_in_a_list_file() {
    let dir = tempfile::tempdir().unwrap();
    let conf = dir.path().join("slon_tools.conf");
    let mut text = String::from(
        "$CLUSTER_NAME = 'big';\n$MASTERNODE = 1;\n\
         add_node(node => 1, host => 'a', dbname => 'db');\n\
         add_node(node => 2, host => 'b', dbname => 'db');\n\
         $SLONY_SETS = { 'set1' => { 'set_id' => 1, 'table_id' => 1, 'pkeyedtables' => [\n",
    );
    for i in 0..slonik_gen::config_writer::LIST_FILE_MIN_ENTRIES {
        text.push_str(&format!("  'public.t{i:06}',\n"));
    }
    text.push_str("], 'keyedtables' => { 'public.keyed' => 'keyed_idx' } } };\n1;\n");
    std::fs::write(&conf, &text).unwrap();
    let printed = common::slonik_gen(&["import", "altperl", conf.to_str().unwrap()]);
    assert_eq!(
        printed.status.code(),
        Some(0),
        "{}",
        common::text(&printed.stderr)
    );
    let inline = common::assert_loads(&common::text(&printed.stdout), "the printed import");

    let target = dir.path().join("imported.toml");
    let out = common::slonik_gen(&[
        "--write-config",
        target.to_str().unwrap(),
        "import",
        "altperl",
        conf.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", common::text(&out.stderr));
    assert!(out.stdout.is_empty(), "{}", common::text(&out.stdout));
    let list = dir.path().join("imported.set1.tables");
    let config = std::fs::read_to_string(&target).unwrap();
    assert!(
        config.contains("tables_file = \"imported.set1.tables\""),
        "{config}"
    );
    assert!(
        config.contains("{ name = \"keyed\", schema = \"public\", key = \"keyed_idx\" }"),
        "a table with a key stays inline: {config}"
    );
    assert!(
        common::text(&out.stderr).contains("wrote"),
        "{}",
        common::text(&out.stderr)
    );
    assert_eq!(slonik_gen::load_config(&target, None).unwrap(), inline);
    let written = config.len() + std::fs::metadata(&list).unwrap().len() as usize;
    assert!(
        written < text.len(),
        "{written} bytes for a {}-byte slon_tools.conf",
        text.len()
    );
    assert!(
        common::text(&printed.stdout).len() < 2 * text.len(),
        "the printed form is compact too"
    );
    assert_eq!(common::temp_files_in(dir.path()), Vec::<String>::new());
}
