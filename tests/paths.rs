//! Explicit paths (`[[path]]`): a cluster with the pgbench tutorial's minimal paths stores
//! exactly those, validation refuses a subscription without its path and paths that do not
//! carry every node's events, `store-path`/`drop-path` change them with their refusals,
//! `--write-config` writes them, `drop-node` forgets a dropped node's paths, and runbooks
//! store the paths they need first. Every script passes slonik's offline check.

mod common;

use slonik_gen::model::{NodeId, Paths};
use slonik_gen::ops::{self, Operation};
use slonik_gen::runbook::{NewNodeArgs, Request, SchemaSource};
use slonik_gen::{load_config_str, Cluster};

/// The tutorial's shape: node 1 the origin, 2 and 4 from it, 3 through 2; paths only along
/// the tree, both ways.
const MINIMAL: &str = r#"
cluster = "pgbench"
[[node]]
id = 1
host = "db1"
[[node]]
id = 2
host = "db2"
[[node]]
id = 3
host = "db3"
provider = 2
[[node]]
id = 4
host = "db4"
[[set]]
id = 1
name = "set1"
tables = ["accounts"]
[[subscription]]
set = 1
receiver = 2
[[subscription]]
set = 1
receiver = 3
[[subscription]]
set = 1
receiver = 4
[[path]]
server = 1
client = 2
[[path]]
server = 2
client = 1
[[path]]
server = 2
client = 3
connretry = 30
[[path]]
server = 3
client = 2
[[path]]
server = 1
client = 4
[[path]]
server = 4
client = 1
"#;

fn minimal() -> Cluster {
    load_config_str(MINIMAL, "minimal.toml").unwrap_or_else(|e| panic!("{e}"))
}

fn text(change: &ops::Change) -> String {
    change.script.render().unwrap()
}

fn store_path_lines(script: &str) -> Vec<&str> {
    script
        .lines()
        .filter(|l| l.trim_start().starts_with("store path"))
        .collect()
}

#[test]
fn init_cluster_stores_exactly_the_listed_paths() {
    let cluster = minimal();
    assert!(matches!(cluster.paths, Paths::Explicit(_)));
    let script = text(&ops::init_cluster(&cluster).unwrap());
    let paths = store_path_lines(&script);
    assert_eq!(paths.len(), 6, "{script}");
    assert!(
        script.contains("store path (server = 2, client = 3, conninfo = 'host=db2"),
        "{script}"
    );
    assert!(script.contains("connretry = 30"), "{script}");
    assert!(!script.contains("server = 3, client = 1"), "{script}");
    assert!(script.contains("6 paths"), "{script}");
    // store-node gives node 3 its two paths only.
    let script = text(&ops::store_node(&cluster, NodeId(3), None).unwrap());
    assert_eq!(store_path_lines(&script).len(), 2, "{script}");
}

#[test]
fn a_config_without_paths_is_the_full_mesh_as_before() {
    let cluster = load_config_str(
        &std::fs::read_to_string("examples/geekdb.toml").unwrap(),
        "geekdb.toml",
    )
    .unwrap();
    assert_eq!(cluster.paths, Paths::Mesh);
    assert!(cluster.has_path(NodeId(1), NodeId(2)) && cluster.has_path(NodeId(2), NodeId(1)));
    assert!(!cluster.to_toml().contains("[[path]]"));
}

fn problems(toml: &str) -> String {
    load_config_str(toml, "bad.toml").unwrap_err().to_string()
}

#[test]
fn validation_names_what_is_missing() {
    let without = MINIMAL.replace("[[path]]\nserver = 2\nclient = 3\nconnretry = 30\n", "");
    let message = problems(&without);
    assert!(
        message.contains("node 3 receives set 1 from node 2, but no [[path]] has server = 2, client = 3"),
        "{message}"
    );
    let one_way = MINIMAL.replace("[[path]]\nserver = 4\nclient = 1\n", "");
    let message = problems(&one_way);
    assert!(
        message.contains("no chain of [[path]] entries leads from node 4 to node 1"),
        "{message}"
    );
    let message = problems(&format!("{MINIMAL}[[path]]\nserver = 1\nclient = 2\n"));
    assert!(message.contains("is listed twice"), "{message}");
    let message = problems(&format!("{MINIMAL}[[path]]\nserver = 1\nclient = 1\n"));
    assert!(message.contains("a path joins two different nodes"), "{message}");
    let message = problems(&format!("{MINIMAL}[[path]]\nserver = 9\nclient = 1\n"));
    assert!(message.contains("node 9"), "{message}");
}

#[test]
fn drop_path_and_store_path() {
    let cluster = minimal();
    let refused = |op: Operation| op.run(&cluster).map(|_| ()).unwrap_err().to_string();
    assert!(refused(Operation::DropPath {
        server: NodeId(2),
        client: NodeId(3)
    })
    .contains("node 3 receives set 1 from node 2 over this path"),);
    assert!(refused(Operation::DropPath {
        server: NodeId(3),
        client: NodeId(2)
    })
    .contains("no chain of paths carries node 3's events to node 1"));
    assert!(refused(Operation::DropPath {
        server: NodeId(3),
        client: NodeId(1)
    })
    .contains("has no path"));
    let stored = Operation::StorePath {
        server: NodeId(3),
        client: NodeId(1),
    }
    .run(&cluster)
    .unwrap();
    assert!(text(&stored).contains("store path (server = 3, client = 1"));
    assert!(stored.next.has_path(NodeId(3), NodeId(1)));
    // With the new path, 3 -> 2 can go: node 3's events still reach everyone via node 1.
    let dropped = Operation::DropPath {
        server: NodeId(3),
        client: NodeId(2),
    }
    .run(&stored.next)
    .unwrap();
    assert!(text(&dropped).contains("drop path (server = 3, client = 2"));
    assert!(!dropped.next.has_path(NodeId(3), NodeId(2)));

    // In the mesh, drop-path turns the model into explicit paths, all but the one dropped.
    let mesh = load_config_str(
        &std::fs::read_to_string("tests/inputs/cascade.toml").unwrap(),
        "cascade.toml",
    )
    .unwrap();
    let dropped = Operation::DropPath {
        server: NodeId(4),
        client: NodeId(1),
    }
    .run(&mesh)
    .unwrap();
    assert_eq!(dropped.next.stored_paths().len(), 11);
    let reloaded = load_config_str(&dropped.next.to_toml(), "again.toml").unwrap();
    assert_eq!(reloaded, dropped.next, "the explicit paths round-trip");
}

#[test]
fn write_config_writes_and_removes_path_entries() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("c.toml");
    std::fs::write(&config, MINIMAL).unwrap();
    let out = dir.path().join("out.toml");
    let run = |args: &[&str]| {
        let mut all = vec![
            "--config",
            config.to_str().unwrap(),
            "--write-config",
            out.to_str().unwrap(),
        ];
        all.extend_from_slice(args);
        let result = common::slonik_gen(&all);
        assert!(
            result.status.success(),
            "{args:?}: {}",
            common::text(&result.stderr)
        );
        std::fs::read_to_string(&out).unwrap()
    };
    let written = run(&["store-path", "3", "1"]);
    assert!(written.starts_with(MINIMAL), "the file's own text stays");
    assert!(
        written.ends_with("[[path]]\nserver = 3\nclient = 1\n"),
        "{written}"
    );
    std::fs::write(&config, &written).unwrap();
    let written = run(&["drop-path", "3", "2"]);
    assert!(!written.contains("server = 3\nclient = 2"), "{written}");
    assert!(
        written.contains("server = 2\nclient = 3\nconnretry = 30"),
        "{written}"
    );
    // Dropping node 4 forgets its paths too.
    std::fs::write(&config, MINIMAL).unwrap();
    let written = run(&["unsubscribe-set", "set1", "4"]);
    std::fs::write(&config, &written).unwrap();
    let written = run(&["drop-node", "4", "1"]);
    assert!(
        !written.contains("server = 4") && !written.contains("client = 4"),
        "{written}"
    );
    load_config_str(&written, "out.toml").unwrap();
}

/// `resubscribe` to a provider the node has no path with stores both paths first, in the
/// same script, and the next state lists them; with the paths there it stores none.
#[test]
fn resubscribe_stores_the_missing_paths_first() {
    let cluster = minimal();
    let change = ops::resubscribe(&cluster, NodeId(3), NodeId(1), &[]).unwrap();
    let script = text(&change);
    let stored = store_path_lines(&script);
    assert_eq!(stored.len(), 2, "{script}");
    assert!(stored[0].contains("server = 1, client = 3"), "{script}");
    assert!(stored[1].contains("server = 3, client = 1"), "{script}");
    let first_store = script.find("store path").unwrap();
    assert!(first_store < script.find("resubscribe node").unwrap(), "{script}");
    assert!(change.next.has_path(NodeId(1), NodeId(3)));
    assert!(change.next.has_path(NodeId(3), NodeId(1)));
    assert_eq!(
        change.next.subscriptions[&(slonik_gen::model::SetId(1), NodeId(3))].provider,
        NodeId(1)
    );

    // Back to node 2, whose paths are there: nothing stored.
    let back = ops::resubscribe(&change.next, NodeId(3), NodeId(2), &[]).unwrap();
    assert!(store_path_lines(&text(&back)).is_empty(), "{}", text(&back));
    assert_eq!(back.next.stored_paths(), change.next.stored_paths());
}

#[test]
fn runbooks_store_the_paths_they_need_first() {
    let cluster = minimal();
    // add-node gives the new node paths to and from every node, as store-node does in the mesh.
    let plan = Request::AddNode {
        node: NewNodeArgs {
            id: 5,
            conninfo: "host=db5".into(),
            forward: true,
            ..NewNodeArgs::default()
        },
        provider: Some("2".into()),
        sets: Vec::new(),
        schema: SchemaSource::Copy,
    }
    .run(&cluster)
    .unwrap();
    assert_eq!(
        plan.next
            .stored_paths()
            .iter()
            .filter(|(s, c)| *s == NodeId(5) || *c == NodeId(5))
            .count(),
        8
    );
    // Retiring node 2 re-points node 3 to node 1, which it has no path to: stored first.
    let plan = Request::RetireNode {
        node: "2".into(),
        to: None,
    }
    .run(&cluster)
    .unwrap();
    let store = plan
        .steps
        .iter()
        .position(|s| s.title.starts_with("Store the missing paths"))
        .expect("the missing paths are stored");
    let repoint = plan
        .steps
        .iter()
        .position(|s| s.title.starts_with("Re-point"))
        .unwrap();
    assert!(store < repoint);
    assert!(plan.next.has_path(NodeId(1), NodeId(3)));
    assert!(!plan
        .next
        .stored_paths()
        .iter()
        .any(|(s, c)| *s == NodeId(2) || *c == NodeId(2)));
    let reloaded = load_config_str(&plan.next.to_toml(), "next.toml").unwrap();
    assert_eq!(reloaded, plan.next);
}

#[test]
fn every_path_script_passes_the_offline_check() {
    let Some(slonik) = common::slonik_or_skip("every_path_script_passes_the_offline_check") else {
        return;
    };
    let cluster = minimal();
    let mut scripts = vec![
        (
            "init-cluster".to_string(),
            text(&ops::init_cluster(&cluster).unwrap()),
        ),
        (
            "store-node 3".to_string(),
            text(&ops::store_node(&cluster, NodeId(3), None).unwrap()),
        ),
        (
            "store-path".to_string(),
            text(&ops::store_path(&cluster, NodeId(3), NodeId(1)).unwrap()),
        ),
    ];
    let stored = ops::store_path(&cluster, NodeId(3), NodeId(1)).unwrap().next;
    scripts.push((
        "drop-path".to_string(),
        text(&ops::drop_path(&stored, NodeId(3), NodeId(2)).unwrap()),
    ));
    common::offline::assert_accepted(&slonik, &scripts);
}

#[test]
fn switchover_and_failover_store_the_paths_they_need_first() {
    let cluster = minimal();
    let position = |plan: &slonik_gen::runbook::Plan, prefix: &str| {
        plan.steps.iter().position(|s| s.title.starts_with(prefix))
    };
    // Node 4 received from node 1; after the move it is re-pointed to node 2, which it has
    // no path to.
    let plan = Request::Switchover {
        sets: vec!["set1".into()],
        from: None,
        to: "2".into(),
    }
    .run(&cluster)
    .unwrap();
    let store = position(&plan, "Store the missing paths").expect("paths stored");
    assert!(store < position(&plan, "Re-point").unwrap());
    assert!(plan.next.has_path(NodeId(2), NodeId(4)) && plan.next.has_path(NodeId(4), NodeId(2)));
    // Failover of node 1 to node 2: Slony-I points node 4 at node 2.
    let plan = Request::Failover {
        dead: vec!["1".into()],
        backup: "2".into(),
        drop_dead: false,
    }
    .run(&cluster)
    .unwrap();
    let store = position(&plan, "Store the missing paths").expect("paths stored");
    assert!(store < position(&plan, "Fail over").unwrap());
    let slonik_gen::runbook::Action::Slonik(script) = &plan.steps[store].action else {
        panic!("a slonik step")
    };
    assert!(
        !script.admin.iter().any(|(id, _)| *id == NodeId(1)),
        "the dead node stays out of the header"
    );
    assert!(plan.next.has_path(NodeId(2), NodeId(4)));
    load_config_str(&plan.next.to_toml(), "next.toml").unwrap();
}
