//! The lifecycle runbooks without a cluster: add-node, retire-node, clone-node,
//! upgrade-postgres and upgrade-slony on every fixture config for every Slony-I version where they build:
//! every slonik step through slonik's offline check, every shell script through `bash -n`
//! and shellcheck, the same bytes twice; snapshots on the scenario's config; add-node then
//! retire-node gives back the config byte for byte through `--write-config`; the
//! refusals; the order of the upgrade's irreversible steps; and the `Example:` line of
//! each runbook's `--help`, run as written. The real-cluster runs are in
//! `tests/e2e_lifecycle.rs`.

mod common;

use std::process::Command;

use slonik_gen::model::NodeId;
use slonik_gen::runbook::{Action, Format, NewNodeArgs, Plan, Request, SchemaSource};
use slonik_gen::{load_config_str, load_config_str_for, Cluster, SlonyVersion};

const GEEKDB: &str = "examples/geekdb.toml";
const THREE: &str = "tests/fixtures/runbook/three_nodes.toml";
const DAEMONS: &str = "tests/fixtures/runbook/daemons.toml";

fn read(path: &str) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn load(path: &str) -> Cluster {
    load_config_str(&read(path), path).unwrap_or_else(|e| panic!("{e}"))
}

fn new_node(id: u32) -> NewNodeArgs {
    NewNodeArgs {
        id,
        conninfo: format!("host=127.0.0.1 port=1 dbname=new{id} user=postgres"),
        name: Some(format!("new{id}")),
        forward: true,
        ..NewNodeArgs::default()
    }
}

/// Every config the lifecycle runbooks are tried on.
fn configs() -> Vec<(String, String)> {
    let mut configs: Vec<(String, String)> = common::valid_fixtures()
        .into_iter()
        .map(|f| (f.path.display().to_string(), f.text))
        .collect();
    for path in [THREE, DAEMONS] {
        configs.push((path.to_string(), read(path)));
    }
    configs
}

/// Every lifecycle request that makes sense on `cluster`: add a node fed by each node that
/// can feed it (and by the origins), both schema modes; retire each node (an origin with
/// each direct subscriber as --to); move each node to a new server; upgrade Slony-I to
/// each version not older than the cluster's.
fn requests(cluster: &Cluster) -> Vec<(String, Request)> {
    let free = cluster.nodes.keys().map(|n| n.0).max().unwrap_or(0) + 1;
    let mut out = Vec::new();
    for schema in [SchemaSource::Copy, SchemaSource::Present] {
        out.push((
            format!("add-node {free} --schema {schema}"),
            Request::AddNode {
                node: new_node(free),
                provider: None,
                sets: Vec::new(),
                schema,
            },
        ));
    }
    for node in cluster.active_nodes() {
        out.push((
            format!("add-node {free} --provider {}", node.id),
            Request::AddNode {
                node: new_node(free),
                provider: Some(node.id.to_string()),
                sets: Vec::new(),
                schema: SchemaSource::Copy,
            },
        ));
        let origin_of: Vec<_> = cluster.sets.values().filter(|s| s.origin == node.id).collect();
        if origin_of.is_empty() {
            out.push((
                format!("retire-node {}", node.id),
                Request::RetireNode {
                    node: node.id.to_string(),
                    to: None,
                },
            ));
        } else {
            for sub in cluster
                .subscriptions
                .values()
                .filter(|s| s.set == origin_of[0].id)
            {
                out.push((
                    format!("retire-node {} --to {}", node.id, sub.receiver),
                    Request::RetireNode {
                        node: node.id.to_string(),
                        to: Some(sub.receiver.to_string()),
                    },
                ));
            }
        }
        out.push((
            format!("clone-node --from {} --id {free}", node.id),
            Request::CloneNode {
                from: node.id.to_string(),
                node: new_node(free),
            },
        ));
        out.push((
            format!("upgrade-postgres {} --id {free}", node.id),
            Request::UpgradePostgres {
                old: node.id.to_string(),
                node: new_node(free),
                schema: SchemaSource::Copy,
            },
        ));
    }
    for to in SlonyVersion::ALL {
        out.push((format!("upgrade-slony --to {to}"), Request::UpgradeSlony { to }));
    }
    out
}

/// Every lifecycle plan that builds, on every config, for every version.
fn every_plan() -> Vec<(String, Plan)> {
    let mut plans = Vec::new();
    for (path, text) in configs() {
        for version in SlonyVersion::ALL {
            let Ok(cluster) = load_config_str_for(&text, &path, Some(version)) else {
                continue;
            };
            for (name, request) in requests(&cluster) {
                if let Ok(plan) = request.run(&cluster) {
                    plans.push((format!("{path} ({version}): {name}"), plan));
                }
            }
        }
    }
    plans
}

fn slonik_scripts(plan: &Plan) -> Vec<&slonik_gen::Script> {
    let mut scripts = Vec::new();
    for step in &plan.steps {
        if let Action::Slonik(script) = &step.action {
            scripts.push(script);
        }
        if let Some(recovery) = &step.on_failure {
            if let Action::Slonik(script) = &recovery.action {
                scripts.push(script);
            }
        }
    }
    scripts
}

#[test]
fn every_lifecycle_runbook_builds_somewhere_for_every_version() {
    let plans = every_plan();
    for runbook in [
        "add-node",
        "retire-node",
        "upgrade-postgres",
        "upgrade-slony",
        "clone-node",
    ] {
        for version in SlonyVersion::ALL {
            // 1.2 has no clone.
            if runbook == "clone-node" && version == SlonyVersion::V1_2 {
                continue;
            }
            let tag = format!("({version}): {runbook}");
            assert!(
                plans.iter().any(|(name, _)| name.contains(&tag)),
                "no {runbook} plan builds for Slony-I {version}"
            );
        }
    }
    assert!(plans.len() > 150, "only {} plans", plans.len());
}

#[test]
fn every_slonik_step_passes_the_offline_check() {
    let Some(slonik) = common::slonik_or_skip("every_slonik_step_passes_the_offline_check") else {
        return;
    };
    let mut scripts = Vec::new();
    for (name, plan) in every_plan() {
        for (i, script) in slonik_scripts(&plan).into_iter().enumerate() {
            scripts.push((
                format!("{name} script {i}"),
                script.version,
                script.render().unwrap(),
            ));
        }
    }
    assert!(scripts.len() > 300, "only {} scripts", scripts.len());
    common::offline::assert_accepted_by_version(&slonik, &scripts);
}

#[test]
fn every_shell_script_parses_passes_shellcheck_and_renders_the_same_twice() {
    let dir = tempfile::tempdir().unwrap();
    let mut paths = Vec::new();
    for (i, (name, plan)) in every_plan().iter().enumerate() {
        for format in [Format::Markdown, Format::Shell, Format::Json] {
            let text = plan.render(format).unwrap();
            assert_eq!(text, plan.render(format).unwrap(), "{name} {format}: same bytes");
            assert!(text.ends_with('\n') && !text.ends_with("\n\n"), "{name} {format}");
        }
        let path = dir.path().join(format!("plan{i}.sh"));
        std::fs::write(&path, plan.render(Format::Shell).unwrap()).unwrap();
        let out = Command::new("bash").arg("-n").arg(&path).output().unwrap();
        assert!(
            out.status.success(),
            "{name}: bash -n: {}",
            common::text(&out.stderr)
        );
        paths.push((name.clone(), path));
    }
    if !Command::new("shellcheck")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
    {
        eprintln!("shellcheck not installed: only `bash -n` ran (apt-get install shellcheck)");
        return;
    }
    // A few hundred files per shellcheck run.
    for chunk in paths.chunks(200) {
        let out = Command::new("shellcheck")
            .args(chunk.iter().map(|(_, p)| p))
            .output()
            .unwrap();
        if !out.status.success() {
            let report = common::text(&out.stdout);
            let failed: Vec<&str> = chunk
                .iter()
                .filter(|(_, p)| report.contains(&p.display().to_string()))
                .map(|(n, _)| n.as_str())
                .collect();
            panic!("shellcheck fails on {failed:?}:\n{report}");
        }
    }
}

fn run(cluster: &Cluster, request: Request) -> Plan {
    request.run(cluster).unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn snapshots_on_the_scenario_config() {
    let geekdb = load(GEEKDB);
    let three = load(THREE);
    let v21 = load_config_str_for(&read(GEEKDB), GEEKDB, Some(SlonyVersion::V2_1)).unwrap();
    let v12 = load_config_str_for(&read(THREE), THREE, Some(SlonyVersion::V1_2)).unwrap();
    let cases: Vec<(&str, &Cluster, Request)> = vec![
        (
            "add_node_cascaded",
            &geekdb,
            Request::AddNode {
                node: NewNodeArgs {
                    id: 3,
                    conninfo: "host=Node3 dbname=geekdb user=postgres passfile=/var/lib/postgresql/.pgpass"
                        .into(),
                    name: Some("Node3".into()),
                    forward: true,
                    ..NewNodeArgs::default()
                },
                provider: Some("2".into()),
                sets: Vec::new(),
                schema: SchemaSource::Copy,
            },
        ),
        (
            "add_node_schema_present",
            &three,
            Request::AddNode {
                node: new_node(4),
                provider: None,
                sets: vec!["1".into()],
                schema: SchemaSource::Present,
            },
        ),
        (
            "retire_origin",
            &geekdb,
            Request::RetireNode {
                node: "1".into(),
                to: Some("2".into()),
            },
        ),
        (
            "retire_provider",
            &three,
            Request::RetireNode {
                node: three
                    .subscriptions
                    .values()
                    .find(|s| three.subscriptions.values().any(|o| o.provider == s.receiver))
                    .map(|s| s.receiver.to_string())
                    .expect("three_nodes.toml has a cascade"),
                to: None,
            },
        ),
        (
            "upgrade_postgres_origin",
            &geekdb,
            Request::UpgradePostgres {
                old: "1".into(),
                node: new_node(11),
                schema: SchemaSource::Copy,
            },
        ),
        (
            "upgrade_slony_2_1_to_2_2",
            &v21,
            Request::UpgradeSlony {
                to: SlonyVersion::V2_2,
            },
        ),
        (
            "clone_subscriber",
            &geekdb,
            Request::CloneNode {
                from: "2".into(),
                node: new_node(3),
            },
        ),
        (
            "upgrade_slony_1_2_to_2_2",
            &v12,
            Request::UpgradeSlony {
                to: SlonyVersion::V2_2,
            },
        ),
        (
            "upgrade_slony_patch",
            &geekdb,
            Request::UpgradeSlony {
                to: SlonyVersion::V2_2,
            },
        ),
    ];
    for (name, cluster, request) in cases {
        let plan = run(cluster, request);
        insta::assert_snapshot!(
            format!("lifecycle_{name}.md"),
            plan.render(Format::Markdown).unwrap()
        );
    }
}

/// `--write-config` through the CLI, from `config` to `out`.
fn write_config(config: &std::path::Path, out: &std::path::Path, runbook: &[&str]) {
    let mut args = vec![
        "--config",
        config.to_str().unwrap(),
        "--write-config",
        out.to_str().unwrap(),
        "runbook",
    ];
    args.extend_from_slice(runbook);
    let result = common::slonik_gen(&args);
    assert!(
        result.status.success(),
        "{args:?}: {}",
        common::text(&result.stderr)
    );
}

#[test]
fn add_node_then_retire_node_gives_back_the_config_byte_for_byte() {
    let dir = tempfile::tempdir().unwrap();
    for path in [GEEKDB, THREE] {
        let original = dir.path().join("original.toml");
        std::fs::write(&original, read(path)).unwrap();
        let added = dir.path().join("added.toml");
        let cluster = load(path);
        let id = (cluster.nodes.keys().map(|n| n.0).max().unwrap() + 1).to_string();
        let provider = cluster
            .subscriptions
            .values()
            .find(|s| s.forward)
            .map(|s| s.receiver.to_string())
            .unwrap();
        write_config(
            &original,
            &added,
            &[
                "add-node",
                "--id",
                &id,
                "--name",
                "added",
                "--conninfo",
                "host=db9 port=5433 dbname=geekdb user=slony",
                "--provider",
                &provider,
            ],
        );
        let with_node = load(added.to_str().unwrap());
        let node = &with_node.nodes[&NodeId(id.parse().unwrap())];
        assert_eq!(node.admin.host.as_deref(), Some("db9"), "{path}");
        assert_eq!(node.admin.port, Some(5433), "{path}");
        assert_eq!(node.provider, Some(NodeId(provider.parse().unwrap())), "{path}");
        for set in with_node.sets.keys() {
            let sub = with_node.subscriptions[&(*set, node.id)];
            assert_eq!(sub.provider.to_string(), provider, "{path}: set {set}");
        }
        let text = read(added.to_str().unwrap());
        assert!(
            text.starts_with(&read(path)[..40]),
            "{path}: the user's text stays first"
        );
        let retired = dir.path().join("retired.toml");
        write_config(&added, &retired, &["retire-node", "--node", &id]);
        assert_eq!(
            read(retired.to_str().unwrap()),
            read(path),
            "{path}: byte for byte"
        );
    }
}

#[test]
fn upgrade_postgres_leaves_the_new_node_in_the_old_ones_place() {
    for (path, old) in [(GEEKDB, "1"), (GEEKDB, "2"), (THREE, "1")] {
        let cluster = load(path);
        let plan = run(
            &cluster,
            Request::UpgradePostgres {
                old: old.into(),
                node: new_node(11),
                schema: SchemaSource::Copy,
            },
        );
        let old = NodeId(old.parse().unwrap());
        let new = NodeId(11);
        let next = &plan.next;
        assert!(!next.nodes.contains_key(&old), "{path}: node {old} is gone");
        for set in cluster.sets.values() {
            let now = &next.sets[&set.id];
            if set.origin == old {
                assert_eq!(now.origin, new, "{path}: set {} moved to the new node", set.id);
            } else {
                assert_eq!(now.origin, set.origin, "{path}: set {} stays", set.id);
            }
            for sub in cluster.subscribers(set.id).filter(|s| s.receiver != old) {
                let provider = next.subscriptions[&(set.id, sub.receiver)].provider;
                if sub.provider == old {
                    assert_eq!(provider, new, "{path}: node {} of set {}", sub.receiver, set.id);
                } else if set.origin == old {
                    // The switchover re-points a cascade to the node's configured provider,
                    // else to the new origin.
                    assert!(
                        [sub.provider, new].contains(&provider),
                        "{path}: node {} of set {}",
                        sub.receiver,
                        set.id
                    );
                } else {
                    assert_eq!(
                        provider, sub.provider,
                        "{path}: node {} of set {}",
                        sub.receiver, set.id
                    );
                }
            }
        }
        assert_eq!(
            next.nodes.len(),
            cluster.nodes.len(),
            "{path}: one node for another"
        );
    }
}

fn step_index(plan: &Plan, what: impl Fn(&Action, &str) -> bool) -> Option<usize> {
    plan.steps.iter().position(|s| what(&s.action, &s.title))
}

#[test]
fn the_2_1_to_2_2_upgrade_locks_and_checks_before_anything_irreversible() {
    let v21 = load_config_str_for(&read(THREE), THREE, Some(SlonyVersion::V2_1)).unwrap();
    let plan = run(
        &v21,
        Request::UpgradeSlony {
            to: SlonyVersion::V2_2,
        },
    );
    let slonik = |plan: &Plan, needle: &str| {
        step_index(plan, |a, _| match a {
            Action::Slonik(s) => s.render().unwrap().contains(needle),
            _ => false,
        })
    };
    let lock = slonik(&plan, "lock set").expect("the sets are locked");
    let confirmed = step_index(&plan, |a, t| {
        matches!(a, Action::Check { .. }) && t.contains("hold nothing unconfirmed")
    })
    .unwrap();
    let not_locked = step_index(&plan, |a, t| {
        matches!(a, Action::Check { .. }) && t.contains("is locked")
    })
    .expect("the lock is preceded by a check that no set is locked already");
    let long_transactions = step_index(&plan, |a, t| {
        matches!(a, Action::Check { .. }) && t.contains("older than")
    })
    .expect("the lock is preceded by a check for long transactions");
    assert!(not_locked < lock && long_transactions < lock);
    let first_stop = step_index(&plan, |a, t| {
        matches!(a, Action::Shell { .. }) && t.starts_with("Stop the slon")
    })
    .unwrap();
    let update = slonik(&plan, "update functions").unwrap();
    let first_start = step_index(&plan, |a, t| {
        matches!(a, Action::Shell { .. }) && t.starts_with("Start the slon")
    })
    .unwrap();
    let unlock = slonik(&plan, "unlock set").expect("the sets are unlocked at the end");
    assert!(
        lock < confirmed
            && confirmed < first_stop
            && first_stop < update
            && update < first_start
            && first_start < unlock
    );
    let Action::Slonik(lock_script) = &plan.steps[lock].action else {
        unreachable!()
    };
    assert_eq!(
        lock_script.version,
        SlonyVersion::V2_1,
        "the lock runs with the old slonik"
    );
    let Action::Slonik(update_script) = &plan.steps[update].action else {
        unreachable!()
    };
    assert_eq!(
        update_script.version,
        SlonyVersion::V2_2,
        "update functions runs with the new slonik"
    );
    // From the lock to the last slon stop, a failed step unlocks the sets; a failed
    // `update functions` leaves them locked on purpose; a failed start unlocks them.
    for (index, step) in plan.steps.iter().enumerate().take(update).skip(lock) {
        if matches!(step.action, Action::Manual { .. }) {
            continue;
        }
        let Some(recovery) = &step.on_failure else {
            panic!("step {index} ({}) has no recovery", step.title)
        };
        let Action::Slonik(script) = &recovery.action else {
            panic!("step {index} recovers with a slonik script")
        };
        assert!(script.render().unwrap().contains("unlock set"), "{}", step.title);
    }
    assert!(plan.steps[update].on_failure.is_none());
    for step in plan.steps.iter().skip(update) {
        if step.title.starts_with("Start the slon") {
            assert!(step.on_failure.is_some(), "{}", step.title);
        }
    }
    assert_eq!(plan.next.version, SlonyVersion::V2_2);
    // Every slon stop is confirmed: none may fail.
    for step in &plan.steps {
        if let Action::Shell { may_fail, .. } = step.action {
            assert!(!may_fail, "{}", step.title);
        }
    }

    let v20 = load_config_str_for(&read(THREE), THREE, Some(SlonyVersion::V2_0)).unwrap();
    let plan = run(
        &v20,
        Request::UpgradeSlony {
            to: SlonyVersion::V2_1,
        },
    );
    assert!(slonik(&plan, "lock set").is_none(), "2.0 to 2.1 needs no lock");
    assert!(slonik(&plan, "update functions").is_some());
}

#[test]
fn add_node_checks_for_pending_ddl_only_where_sl_log_script_exists() {
    for version in SlonyVersion::ALL {
        let cluster = load_config_str_for(&read(GEEKDB), GEEKDB, Some(version)).unwrap();
        let plan = run(
            &cluster,
            Request::AddNode {
                node: new_node(3),
                provider: None,
                sets: Vec::new(),
                schema: SchemaSource::Copy,
            },
        );
        let checks = plan
            .steps
            .iter()
            .filter(|s| matches!(&s.action, Action::Check { sql, .. } if sql.contains("sl_log_script")))
            .count();
        let expected = if version >= SlonyVersion::V2_2 { 2 } else { 0 };
        assert_eq!(checks, expected, "{version}");
        // The checks come before anything changes.
        let first_change = plan
            .steps
            .iter()
            .position(|s| !matches!(s.action, Action::Check { .. }))
            .unwrap();
        assert!(plan.steps[..first_change].len() >= 3 + expected, "{version}");
        assert!(plan.next.nodes.contains_key(&NodeId(3)));
    }
}

#[test]
fn a_slon_config_holding_a_password_is_never_printed() {
    let cluster = load(GEEKDB);
    let mut node = new_node(3);
    node.conninfo = "host=db3 dbname=geekdb user=slony password=s3cret-pw".into();
    let plan = run(
        &cluster,
        Request::AddNode {
            node,
            provider: None,
            sets: Vec::new(),
            schema: SchemaSource::Copy,
        },
    );
    let conf_step = plan
        .steps
        .iter()
        .find(|s| s.title.contains("slon config"))
        .expect("a step puts the slon config in place");
    match &conf_step.action {
        Action::Manual { instruction } => {
            assert!(instruction.contains("slon-conf 3 --output"), "{instruction}");
            assert!(!instruction.contains("s3cret-pw"));
        }
        other => panic!("expected a manual step, got {other:?}"),
    }
}

fn refusal(cluster: &Cluster, request: Request) -> String {
    request.run(cluster).map(|_| ()).unwrap_err().to_string()
}

#[test]
fn refusals_say_what_to_do() {
    let geekdb = load(GEEKDB);
    let add = |id: u32, conninfo: &str| Request::AddNode {
        node: NewNodeArgs {
            conninfo: conninfo.into(),
            ..new_node(id)
        },
        provider: None,
        sets: Vec::new(),
        schema: SchemaSource::Copy,
    };
    let cases: Vec<(Request, &str)> = vec![
        (
            add(2, "host=x"),
            "node 2 is already in the cluster: give the new node a free id",
        ),
        (add(3, "host='x"), "the new node 3's --conninfo: the quoted value"),
        (add(3, "host=x port=http"), "port `http` is not a port number"),
        (add(3, "hots=x"), "`hots` is not a libpq connection keyword"),
        (add(3, "host=a\u{1b}b"), "control character"),
        (
            Request::RetireNode {
                node: "1".into(),
                to: None,
            },
            "say which subscriber takes its sets over with --to NODE",
        ),
        (
            Request::RetireNode {
                node: "2".into(),
                to: Some("1".into()),
            },
            "node 2 is the origin of no set, so nothing moves to node 1: leave out --to",
        ),
        (
            Request::RetireNode {
                node: "1".into(),
                to: Some("1".into()),
            },
            "--to names node 1, the node being retired",
        ),
        (
            Request::UpgradePostgres {
                old: "1".into(),
                node: new_node(2),
                schema: SchemaSource::Copy,
            },
            "node 2 is already in the cluster",
        ),
        (
            Request::UpgradeSlony {
                to: SlonyVersion::V2_1,
            },
            "--to 2.1 is older",
        ),
        (
            Request::CloneNode {
                from: "1".into(),
                node: new_node(3),
            },
            "node 1 is the origin of set 1 (set1): Slony-I clones a subscriber",
        ),
    ];
    for (request, needle) in cases {
        let message = refusal(&geekdb, request.clone());
        assert!(message.contains(needle), "{request:?}: {message}");
        assert!(!message.contains('\u{1b}'), "{message}");
    }
    let v12 = load_config_str_for(&read(GEEKDB), GEEKDB, Some(SlonyVersion::V1_2)).unwrap();
    let message = refusal(
        &v12,
        Request::CloneNode {
            from: "2".into(),
            node: new_node(3),
        },
    );
    assert!(message.contains("need Slony-I 2.0 or later"), "{message}");
}

/// The `Example:` line of each lifecycle runbook's `--help`, run as written from the
/// crate root: it succeeds and prints a runbook.
#[test]
fn help_examples_run_as_written() {
    let bin = env!("CARGO_BIN_EXE_slonik-gen");
    for runbook in [
        "add-node",
        "retire-node",
        "upgrade-postgres",
        "upgrade-slony",
        "clone-node",
    ] {
        let help = Command::new(bin)
            .args(["runbook", runbook, "--help"])
            .output()
            .unwrap();
        let help = common::text(&help.stdout);
        let lines: Vec<&str> = help
            .lines()
            .filter_map(|l| l.trim().strip_prefix("Example: slonik-gen "))
            .collect();
        assert!(!lines.is_empty(), "{runbook}: no Example line in:\n{help}");
        for line in lines {
            let out = Command::new("bash")
                .arg("-c")
                .arg(format!("\"$SLONIK_GEN\" {line}"))
                .env("SLONIK_GEN", bin)
                .output()
                .unwrap();
            assert!(
                out.status.success(),
                "{runbook}: {line}: {}",
                common::text(&out.stderr)
            );
            assert!(
                common::text(&out.stdout).starts_with("# Runbook: "),
                "{runbook}: {line}"
            );
        }
    }
}

/// The README's walk-through of a cluster's life, run as written on a copy of the shipped
/// example (each `| slonik` and `&& bash` left out): every command generates, and each
/// `--write-config` leaves a config the next command reads.
#[test]
fn the_readme_walk_through_generates_every_step() {
    let readme = read("README.md");
    let start = readme
        .find("### Walk-through: a cluster's whole life")
        .expect("the README has the walk-through");
    let block = &readme[start..];
    let block = &block[block.find("```sh\n").unwrap() + 6..];
    let block = &block[..block.find("```").unwrap()];
    let joined = block.replace("\\\n", " ");
    let commands: Vec<&str> = joined
        .lines()
        .map(str::trim)
        .filter(|l| l.starts_with("slonik-gen ") || l.starts_with("C="))
        .collect();
    assert!(commands.len() >= 12, "{commands:?}");
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(GEEKDB, dir.path().join("geekdb.toml")).unwrap();
    let bin = std::path::Path::new(env!("CARGO_BIN_EXE_slonik-gen"));
    let mut script = String::from("set -e\n");
    for command in &commands {
        let command = command.split(" | slonik").next().unwrap();
        let command = command.split(" > ").next().unwrap();
        script.push_str(command);
        if command.starts_with("slonik-gen ") {
            script.push_str(" >/dev/null");
        }
        script.push('\n');
    }
    let out = Command::new("bash")
        .arg("-c")
        .arg(&script)
        .current_dir(dir.path())
        .env(
            "PATH",
            format!(
                "{}:{}",
                bin.parent().unwrap().display(),
                std::env::var("PATH").unwrap()
            ),
        )
        .output()
        .unwrap();
    assert!(out.status.success(), "{script}\n{}", common::text(&out.stderr));
    let end = load(dir.path().join("geekdb.toml").to_str().unwrap());
    let ids: Vec<u32> = end.nodes.keys().map(|n| n.0).collect();
    assert_eq!(ids, vec![2, 11], "node 3 retired, node 1 replaced by node 11");
    assert!(
        end.sets[&slonik_gen::model::SetId(1)].tables.len() == 3,
        "audit_log added"
    );
}

/// Writes an executable shell script.
fn executable(path: &std::path::Path, text: &str) {
    std::fs::write(path, text).unwrap();
    std::fs::set_permissions(path, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
}

/// The rendered 2.1-to-2.2 upgrade run by bash against a cluster whose log tables never
/// drain (a stand-in psql answers the drain check with 3 rows, every other query as a
/// healthy 2.1 cluster would): the drain check fails, the EXIT trap unlocks the sets with
/// slonik, and no slon is stopped.
#[test]
fn a_2_1_to_2_2_upgrade_whose_log_tables_do_not_drain_unlocks_the_sets_and_stops_nothing() {
    let text = read(THREE).replace("wait_timeout = 300", "wait_timeout = 1");
    let v21 = load_config_str_for(&text, THREE, Some(SlonyVersion::V2_1)).unwrap();
    let plan = run(
        &v21,
        Request::UpgradeSlony {
            to: SlonyVersion::V2_2,
        },
    );
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("calls.log");
    let log_q = slonik_gen::escape::shell::word(&log.display().to_string());
    executable(
        &dir.path().join("psql"),
        &format!(
            "#!/bin/sh\nfor a; do sql=$a; done\ncase $sql in\n  *slonyVersionMajor*) echo 2.1 ;;\n  *txid_snapshot_xmax*) echo 'psql: drain check' >>{log_q}; echo 3 ;;\n  *) echo 0 ;;\nesac\n"
        ),
    );
    executable(
        &dir.path().join("slonik"),
        &format!("#!/bin/sh\n{{ echo '--- slonik'; cat; }} >>{log_q}\n"),
    );
    executable(
        &dir.path().join("ssh"),
        &format!("#!/bin/sh\necho \"ssh $*\" >>{log_q}\n"),
    );
    let script = dir.path().join("upgrade.sh");
    std::fs::write(&script, plan.render(Format::Shell).unwrap()).unwrap();
    let out = Command::new("bash")
        .arg(&script)
        .env("SLONIK", dir.path().join("slonik"))
        .env("PSQL", dir.path().join("psql"))
        .env(
            "PATH",
            format!(
                "{}:{}",
                dir.path().display(),
                std::env::var("PATH").unwrap_or_default()
            ),
        )
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let calls = std::fs::read_to_string(&log).unwrap_or_default();
    assert_eq!(out.status.code(), Some(1), "{stdout}\n{stderr}\n{calls}");
    assert!(stderr.contains("CHECK FAILED"), "{stderr}");
    assert!(stderr.contains("The step failed: unlock the sets"), "{stderr}");
    let lock = calls.find("lock set").expect("the sets were locked");
    let drain = calls.find("psql: drain check").expect("the drain was checked");
    let unlock = calls.rfind("unlock set").expect("the sets were unlocked");
    assert!(lock < drain && drain < unlock, "{calls}");
    assert!(!calls.contains("ssh "), "a slon was stopped:\n{calls}");
    assert!(!calls.contains("update functions"), "{calls}");
    assert!(!stdout.contains("Stop the slon"), "{stdout}");
}

/// From 1.2 the upgrade is the admin guide's reinstall: every check before the outage,
/// the catch-up before anything stops, the uninstall with the 1.2 slonik, the cluster
/// built again and every subscription made again with `omit copy` by the new slonik,
/// each provider before its receivers; the next state is the cluster as it was.
#[test]
fn the_1_2_upgrade_reinstalls_and_subscribes_again_without_copying() {
    let v12 = load_config_str_for(&read(THREE), THREE, Some(SlonyVersion::V1_2)).unwrap();
    for to in [SlonyVersion::V2_0, SlonyVersion::V2_1, SlonyVersion::V2_2] {
        let plan = run(&v12, Request::UpgradeSlony { to });
        let slonik = |needle: &str| {
            step_index(&plan, |a, _| match a {
                Action::Slonik(s) => s.render().unwrap().contains(needle),
                _ => false,
            })
            .unwrap_or_else(|| panic!("no step runs {needle}"))
        };
        let title = |needle: &str| {
            step_index(&plan, |_, t| t.contains(needle)).unwrap_or_else(|| panic!("no step {needle}"))
        };
        let outage = title("Stop every application write");
        let caught_up = slonik("wait for event");
        let first_stop = title("Stop the slon");
        let uninstall = slonik("uninstall node");
        let gone = title("has no Slony-I schema left");
        let install = title(&format!("Install Slony-I {to}"));
        let init = slonik("init cluster");
        let first_start = title("Start the slon");
        let first_subscribe = slonik("subscribe set");
        let end = title("end the outage");
        assert!(
            title("runs PostgreSQL 8.3") < outage
                && title("uses a key Slony-I 1.2 added") < outage
                && outage < caught_up
                && caught_up < first_stop
                && first_stop < uninstall
                && uninstall < gone
                && gone < install
                && install < init
                && init < first_start
                && first_start < first_subscribe
                && first_subscribe < end,
            "{:#?}",
            plan.steps.iter().map(|s| &s.title).collect::<Vec<_>>()
        );
        let version_of = |i: usize| match &plan.steps[i].action {
            Action::Slonik(s) => s.version,
            _ => unreachable!(),
        };
        assert_eq!(version_of(caught_up), SlonyVersion::V1_2);
        assert_eq!(version_of(uninstall), SlonyVersion::V1_2);
        assert_eq!(version_of(init), to);
        // Every subscription again, with omit copy, each provider before its receivers.
        let mut subscribed = Vec::new();
        for step in &plan.steps[first_subscribe..] {
            if let Action::Slonik(script) = &step.action {
                let text = script.render().unwrap();
                if text.contains("subscribe set") {
                    assert!(text.contains("omit copy = yes"), "{text}");
                    subscribed.push(step.title.clone());
                }
            }
        }
        assert_eq!(subscribed.len(), v12.subscriptions.len(), "{subscribed:#?}");
        for sub in v12.subscriptions.values() {
            let me = subscribed
                .iter()
                .position(|t| t.contains(&format!("node {} to set {} ", sub.receiver, sub.set)))
                .unwrap();
            if let Some(provider) = subscribed
                .iter()
                .position(|t| t.contains(&format!("node {} to set {} ", sub.provider, sub.set)))
            {
                assert!(provider < me, "{subscribed:#?}");
            }
        }
        let mut expected = v12.clone();
        expected.version = to;
        assert_eq!(plan.next, expected);
    }
}
