//! Explicit paths and the clone-node runbook on a real PostgreSQL 15 + Slony-I 2.2 cluster.
//!
//! `e2e_minimal_paths_then_clone_under_write_load`, in one cluster:
//! 1. the pgbench tutorial's shape with its minimal paths (1<->2 and 2<->3 only, node 3
//!    cascaded through node 2) is built with the binary's commands, each script run by
//!    slonik as an operator's `slonik-gen ... | slonik` would; every node's `sl_path` then
//!    holds exactly the configured paths. `store-path` adds 1<->3 and `drop-path` takes it
//!    away again, each written back with `--write-config`, and `sl_path` on every node
//!    follows each step. Each drop restarts the client's slon: without it, a slon that had
//!    fetched events through the dropped path retried them forever ("No pa_conninfo for
//!    data provider", seen here in one run of three).
//! 2. `runbook clone-node --from 3 --id 4` (`--format sh`) is run with bash while a writer
//!    inserts on the origin: node 4, on its own PostgreSQL server with an empty database,
//!    becomes a clone of node 3 (clone prepare, pg_dump/pg_restore, clone finish, paths,
//!    a restart of node 3's slon, the clone's slon started by the runbook). Without that
//!    restart node 3 never took an event of node 4's: its slon learns of the clone from its
//!    own clone prepare and leaves it disabled. The clone then receives every row the origin
//!    committed, also those after the runbook ended, and `sl_node`, `sl_subscribe` and
//!    `sl_path` on every node are the plan's next state, which is also the config the
//!    runbook's `--write-config` wrote.
//!
//! The config carries the harness's `[daemon]` and `[slon]` tables
//! (`TestCluster::slon_daemon_toml`), as in `tests/e2e_lifecycle.rs`: the slons run on the
//! files `slonik-gen slon-conf --all --dir` wrote, and the runbook writes and starts the
//! clone's own. The test prints each step's wall time and its total.
mod support;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use slonik_gen::model::{NodeId, Paths};
use slonik_gen::runbook::{Format, NewNodeArgs, Request};
use slonik_gen::{load_config_str, Cluster};
use support::cluster::{tools_or_skip, TestCluster};
use support::load::Writer;
use support::runbook;

const CLUSTER: &str = "replication";

/// The replicated tables (as in `tests/e2e_lifecycle.rs`).
const SCHEMA: &str = "
    CREATE SCHEMA geekdb;
    CREATE SEQUENCE geekdb.files_id_seq;
    CREATE TABLE geekdb.files (id bigint PRIMARY KEY, name text NOT NULL, written_on int NOT NULL);
    CREATE TABLE geekdb.additional_roll (id bigint PRIMARY KEY, file_id bigint NOT NULL, roll text NOT NULL);
";

/// Nodes 1-3 on harness instances 1-3: set 1 on node 1, node 2 from it, node 3 through
/// node 2, and only the paths along that chain, both ways (the pgbench tutorial's).
fn config_toml(c: &TestCluster) -> String {
    let mut toml = format!(
        "# The pgbench tutorial's minimal paths on the test harness.\ncluster = \"{CLUSTER}\"\nslony_version = \"2.2\"\ndefault_origin = 1\nwait_timeout = 120\n\n{}",
        c.slon_daemon_toml()
    );
    for n in 1..=3u32 {
        let provider = if n == 3 { "provider = 2   # cascaded\n" } else { "" };
        toml.push_str(&format!(
            "\n[[node]]\nid = {n}\nname = \"node{n}\"\nhost = \"127.0.0.1\"\nport = {}\ndbname = \"{}\"\nuser = \"postgres\"\n{provider}",
            c.port(n),
            c.dbname(),
        ));
    }
    toml.push_str(
        "\n[[set]]\nid = 1\nname = \"set1\"\ndefault_schema = \"geekdb\"\ntables = [\"files\", \"additional_roll\"]\nsequences = [\"files_id_seq\"]\n\n[[subscription]]\nset = 1\nreceiver = 2\nforward = true\n\n[[subscription]]\nset = 1\nreceiver = 3\nforward = true\n",
    );
    for (server, client) in [(1, 2), (2, 1), (2, 3), (3, 2)] {
        toml.push_str(&format!("\n[[path]]\nserver = {server}\nclient = {client}\n"));
    }
    toml
}

fn load(text: &str) -> Cluster {
    load_config_str(text, "e2e-paths-clone.toml").unwrap_or_else(|e| panic!("{e}\n{text}"))
}

/// `slonik-gen --config CONFIG ARGS`: its stdout, which must be a success.
fn slonik_gen(config: &Path, args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_slonik-gen"))
        .arg("--config")
        .arg(config)
        .args(args)
        .output()
        .expect("run slonik-gen");
    assert!(
        out.status.success(),
        "slonik-gen {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8 output")
}

/// `slonik-gen --config CONFIG ARGS | slonik`, the harness's slonik; returns the script.
fn pipe(c: &TestCluster, config: &Path, args: &[&str]) -> String {
    let script = slonik_gen(config, args);
    let run = c.slonik_ok(&script);
    eprintln!("{args:?}: slonik {:.1}s", run.elapsed.as_secs_f64());
    script
}

/// Like [`pipe`] with `--write-config NEXT`: the script, the written file and its cluster.
fn pipe_writing(c: &TestCluster, config: &Path, args: &[&str], next: &str) -> (String, PathBuf, Cluster) {
    let path = c.dir().join(next);
    let mut all = vec!["--write-config", path.to_str().expect("utf-8 path")];
    all.extend_from_slice(args);
    let script = pipe(c, config, &all);
    let text = fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    (script, path, load(&text))
}

/// One line per row of `sql` on `node` (`a|b`), or the error.
fn rows(c: &TestCluster, node: u32, sql: &str) -> String {
    c.psql(node, sql).unwrap_or_else(|e| format!("error: {e}"))
}

fn sl_path(c: &TestCluster, node: u32) -> String {
    rows(
        c,
        node,
        &format!("SELECT pa_server, pa_client FROM _{CLUSTER}.sl_path ORDER BY 1, 2"),
    )
}

fn expected_paths(cluster: &Cluster) -> String {
    let mut paths = cluster.stored_paths();
    paths.sort();
    paths
        .iter()
        .map(|(s, c)| format!("{s}|{c}"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Waits until `sl_path` on every node of `nodes` holds exactly `cluster`'s paths.
fn assert_paths(c: &TestCluster, nodes: &[u32], cluster: &Cluster, what: &str) {
    let expected = expected_paths(cluster);
    for &n in nodes {
        c.wait_until(
            &format!(
                "{what}: sl_path on node {n} is {expected:?} (last: {:?})",
                sl_path(c, n)
            ),
            Duration::from_secs(60),
            || sl_path(c, n) == expected,
        );
    }
}

/// Waits until `sl_node`, `sl_subscribe` and `sl_path` on every node of `nodes` are
/// `next`'s nodes, subscriptions (active, with their providers) and paths.
fn assert_catalog(c: &TestCluster, nodes: &[u32], next: &Cluster) {
    let node_list = next
        .nodes
        .values()
        .map(|n| format!("{}|{}", n.id, if n.failed { "f" } else { "t" }))
        .collect::<Vec<_>>()
        .join("\n");
    let subscriptions = next
        .subscriptions
        .values()
        .map(|s| {
            format!(
                "{}|{}|{}|{}|t",
                s.set,
                s.provider,
                s.receiver,
                if s.forward { "t" } else { "f" }
            )
        })
        .collect::<Vec<_>>()
        .join("\n");
    let paths = expected_paths(next);
    let queries = [
        (
            "sl_node",
            format!("SELECT no_id, no_active FROM _{CLUSTER}.sl_node ORDER BY 1"),
            node_list,
        ),
        (
            "sl_subscribe",
            format!("SELECT sub_set, sub_provider, sub_receiver, sub_forward, sub_active FROM _{CLUSTER}.sl_subscribe ORDER BY 1, 3"),
            subscriptions,
        ),
        (
            "sl_path",
            format!("SELECT pa_server, pa_client FROM _{CLUSTER}.sl_path ORDER BY 1, 2"),
            paths,
        ),
    ];
    for &n in nodes {
        for (table, sql, expected) in &queries {
            c.wait_until(
                &format!(
                    "{table} on node {n} is the plan's next state {expected:?} (last: {:?})",
                    rows(c, n, sql)
                ),
                Duration::from_secs(60),
                || rows(c, n, sql) == *expected,
            );
        }
    }
}

/// Waits until `node` has confirmed a SYNC that `origin` generated after now: it then
/// holds every row committed on the origin before the call.
fn wait_caught_up(c: &TestCluster, origin: u32, node: u32) {
    let seqno = c.sql(
        origin,
        &format!("SELECT _{CLUSTER}.createEvent('_{CLUSTER}', 'SYNC', NULL)"),
    );
    c.wait_until(
        &format!("node {node} confirmed SYNC {seqno} of node {origin}"),
        Duration::from_secs(120),
        || {
            c.psql(
                origin,
                &format!("SELECT coalesce(max(con_seqno), 0) >= {seqno} FROM _{CLUSTER}.sl_confirm WHERE con_origin = {origin} AND con_received = {node}"),
            )
            .ok()
            .as_deref()
                == Some("t")
        },
    );
}

#[test]
fn e2e_minimal_paths_then_clone_under_write_load() {
    let Some(tools) = tools_or_skip("e2e_minimal_paths_then_clone_under_write_load") else {
        return;
    };
    let total = Instant::now();
    // Instance 4 is the clone's server: its database is empty.
    let c = TestCluster::start(&tools, 4, "geekdb");
    let text = config_toml(&c);
    let config = c.dir().join("geekdb.toml");
    fs::write(&config, &text).unwrap();
    let cluster = load(&text);
    assert!(matches!(cluster.paths, Paths::Explicit(_)));
    assert!(!cluster.has_path(NodeId(1), NodeId(3)) && !cluster.has_path(NodeId(3), NodeId(1)));
    runbook::write_slon_confs(&config, &cluster);

    // 1. The cluster with its minimal paths, built as an operator would.
    for n in 1..=3 {
        c.sql(n, SCHEMA);
    }
    pipe(&c, &config, &["init-cluster"]);
    pipe(&c, &config, &["create-set", "set1"]);
    for n in 1..=3 {
        runbook::start_slon(&c, &cluster, NodeId(n));
    }
    pipe(&c, &config, &["subscribe-set", "set1", "2"]);
    pipe(&c, &config, &["subscribe-set", "set1", "3"]);
    assert_eq!(
        expected_paths(&cluster),
        "1|2\n2|1\n2|3\n3|2",
        "the configured paths"
    );
    assert_paths(&c, &[1, 2, 3], &cluster, "after init-cluster");
    let built = total.elapsed();

    let paths_started = Instant::now();
    let mut current = (config.clone(), cluster.clone());
    let steps: [(&str, u32, u32, &str); 4] = [
        ("store-path", 1, 3, "with-1-3.toml"),
        ("store-path", 3, 1, "with-1-3-both-ways.toml"),
        ("drop-path", 1, 3, "with-3-1.toml"),
        ("drop-path", 3, 1, "minimal-again.toml"),
    ];
    for (command, server, client, next) in steps {
        let (server_arg, client_arg) = (server.to_string(), client.to_string());
        let (script, path, after) = pipe_writing(&c, &current.0, &[command, &server_arg, &client_arg], next);
        // A drop restarts the client's slon: events it fetched through the server would
        // otherwise stay queued with a provider it can no longer reach.
        assert_eq!(
            script.contains(&format!("restart node {client};")),
            command == "drop-path",
            "{script}"
        );
        assert_eq!(
            after.has_path(NodeId(server), NodeId(client)),
            command == "store-path",
            "{command} {server} {client}: the written config"
        );
        assert_paths(
            &c,
            &[1, 2, 3],
            &after,
            &format!("after {command} {server} {client}"),
        );
        if command == "store-path" && client == 3 {
            // The path as the client's slon uses it: node 3's slon connects to node 1.
            assert_eq!(
                rows(
                    &c,
                    3,
                    &format!(
                        "SELECT pa_conninfo FROM _{CLUSTER}.sl_path WHERE pa_server = 1 AND pa_client = 3"
                    ),
                ),
                c.conninfo(1),
                "the stored path's conninfo"
            );
        }
        current = (path, after);
    }
    let (config_back, back) = current;
    assert_eq!(
        expected_paths(&back),
        expected_paths(&cluster),
        "the minimal paths again"
    );
    let paths_took = paths_started.elapsed();

    // 2. Node 4 as a clone of node 3, under writes on the origin.
    assert_eq!(
        c.sql(4, "SELECT count(*) FROM pg_class WHERE relnamespace NOT IN (SELECT oid FROM pg_namespace WHERE nspname IN ('pg_catalog', 'information_schema', 'pg_toast'))"),
        "0",
        "the clone's database is empty"
    );
    let writer = Writer::start(tools.pg("psql"), c.dbname().to_string(), vec![(1, c.port(1))]);
    writer.wait_for_rows_on(1, 10, Duration::from_secs(60));
    let conninfo4 = c.conninfo(4);
    let plan = Request::CloneNode {
        from: "3".into(),
        node: NewNodeArgs {
            id: 4,
            conninfo: conninfo4.clone(),
            forward: true,
            ..NewNodeArgs::default()
        },
    }
    .run(&back)
    .unwrap_or_else(|e| panic!("{e}"));
    let after = c.dir().join("after-clone.toml");
    let script = slonik_gen(
        &config_back,
        &[
            "runbook",
            "--format",
            "sh",
            "clone-node",
            "--from",
            "3",
            "--id",
            "4",
            "--conninfo",
            &conninfo4,
            "--write-config",
            after.to_str().unwrap(),
        ],
    );
    assert_eq!(
        script,
        plan.render(Format::Shell).unwrap(),
        "the CLI prints the library's plan"
    );
    let clone_took = runbook::run_ok(&c, &tools, &script, "clone-node-4", None);
    writer.wait_for_rows_on(1, 20, Duration::from_secs(60));
    let (committed, _) = writer.finish();

    let written = load(&fs::read_to_string(&after).unwrap());
    assert_eq!(written, plan.next, "the written config is the plan's next state");
    let sub = &plan.next.subscriptions[&(slonik_gen::model::SetId(1), NodeId(4))];
    assert_eq!(
        sub.provider,
        NodeId(2),
        "the clone receives from node 3's provider"
    );
    for n in 2..=4 {
        wait_caught_up(&c, 1, n);
    }
    // Every committed row, those after the runbook too, on the clone and everywhere.
    for table in ["geekdb.files", "geekdb.additional_roll"] {
        let reference = c.table_fingerprint(1, table, "id");
        assert_eq!(reference.0 as usize, committed.len(), "{table} on the origin");
        for n in 2..=4 {
            assert_eq!(
                c.table_fingerprint(n, table, "id"),
                reference,
                "{table} on node {n}"
            );
        }
    }
    assert_catalog(&c, &[1, 2, 3, 4], &plan.next);
    // Every node takes the clone's events, node 3 too (its slon restarted): a SYNC of
    // node 4 is confirmed by all.
    for n in 1..=3 {
        wait_caught_up(&c, 4, n);
    }
    assert_eq!(c.assert_slon_logs_read_their_config(), 4, "one slon log per node");
    eprintln!(
        "BENCH e2e_paths_clone: build with minimal paths {:.1}s, store/drop 1<->3 {:.1}s, clone-node {:.1}s ({} rows written); test total {:.1}s",
        built.as_secs_f64(),
        paths_took.as_secs_f64(),
        clone_took.as_secs_f64(),
        committed.len(),
        total.elapsed().as_secs_f64()
    );
}
