//! Runbooks on a real PostgreSQL 15 + Slony-I 2.2 cluster: the generated shell scripts are
//! run with bash against the harness's nodes, with writes running, and the result is
//! checked row by row and against the plan's next state.
//!
//! * `failover_then_failback`: the scenario's case 2 end to end on three nodes.
//! * `cascade_failover_drop_dead_then_failback`: the pgbench tutorial's four-node cascade,
//!   failed over with `--drop-dead` and failed back from the config that kept node 1.
//! * `switchover_under_write_load`: zero lost rows across a controlled switchover.
//! * `add_tables_to_a_live_set`: new tables replicated through a temporary set.
//!
//! The config each test builds points every node at the harness's 127.0.0.1 ports and
//! carries the harness's `[daemon]` and `[slon]` tables (`TestCluster::slon_daemon_toml`):
//! every slon runs as a process on the config file `slonik-gen slon-conf --all --dir`
//! wrote, with its pid and log files in the cluster's directory, so the scripts start and
//! stop the slons themselves with the model's commands (`SlonRun::start_shell` and
//! `stop_shell`), and the harness stops any that are left when the test ends. Each
//! test ends by checking that every slon read its file without a complaint. Each plan's
//! wall time is printed.
mod support;

use std::collections::BTreeSet;
use std::fs;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use slonik_gen::model::{NodeId, SetId};
use slonik_gen::runbook::{Action, Format, Plan, Prepare, Request};
use slonik_gen::slon::run::SlonRun;
use slonik_gen::{load_config_str, ops, Cluster};
use support::catalog;
use support::cluster::{tools_or_skip, TestCluster, Tools};
use support::runbook::{self, bash};

const CLUSTER: &str = "replication";

/// The tables of the scenario's set, and the schema every node gets.
const SCHEMA: &str = "
    CREATE SCHEMA geekdb;
    CREATE SEQUENCE geekdb.files_id_seq;
    CREATE TABLE geekdb.files (id bigint PRIMARY KEY, name text NOT NULL, written_on int NOT NULL);
    CREATE TABLE geekdb.additional_roll (id bigint PRIMARY KEY, file_id bigint NOT NULL, roll text NOT NULL);
";

/// The test's config: the scenario's cluster on the harness's nodes, `origin` feeding
/// every other node directly, each slon run as the harness's `[daemon]` and `[slon]` say:
/// the runbooks start and stop them with the model's own commands.
fn config_toml(c: &TestCluster, nodes: u32) -> String {
    let text = scenario_toml(c, nodes, |_| String::new());
    let cluster = load(&text);
    for node in cluster.nodes.values() {
        let run = SlonRun::of(&cluster, node.id).expect("the node is in the config");
        assert_eq!(
            slonik_gen::runbook::slon_start_command(&cluster, node).ok(),
            Some(run.start_shell()),
            "runbooks start slons with the model's command"
        );
    }
    text
}

fn scenario_toml(c: &TestCluster, nodes: u32, node_extra: impl Fn(u32) -> String) -> String {
    let mut toml = format!(
        "# The scenario's cluster on the test harness ({nodes} nodes).\ncluster = \"{CLUSTER}\"\nslony_version = \"2.2\"\ndefault_origin = 1   # altperl's $MASTERNODE\nwait_timeout = 300\n\n{}",
        c.slon_daemon_toml()
    );
    for n in 1..=nodes {
        toml.push_str(&format!(
            "\n[[node]]\nid = {n}\nname = \"node{n}\"\nhost = \"127.0.0.1\"\nport = {}\ndbname = \"{}\"\nuser = \"postgres\"\n{}",
            c.port(n),
            c.dbname(),
            node_extra(n)
        ));
    }
    toml.push_str(
        "\n[[set]]\nid = 1\nname = \"set1\"\norigin = 1\ncomment = \"geekdb application tables\"\ndefault_schema = \"geekdb\"   # the tables live in geekdb, not public\ntables = [\"files\", \"additional_roll\"]\nsequences = [\"files_id_seq\"]\n",
    );
    for n in 2..=nodes {
        toml.push_str(&format!(
            "\n[[subscription]]   # node {n} reads from the origin\nset = \"set1\"\nreceiver = {n}\nprovider = 1\nforward = true\n"
        ));
    }
    toml
}

/// Writes the test's config to `geekdb.toml` in the cluster directory and every node's
/// slon config file with the binary (`slon-conf --all --dir`, into the model's
/// `conf_dir`), as an operator would; returns the file's path and the cluster.
fn write_config(c: &TestCluster, config_text: &str) -> (PathBuf, Cluster) {
    let config_path = c.dir().join("geekdb.toml");
    fs::write(&config_path, config_text).unwrap();
    let cluster = load(config_text);
    runbook::write_slon_confs(&config_path, &cluster);
    (config_path, cluster)
}

/// Starts the slon of every node with the model's own command, as a runbook's slon step
/// does (as the current user), and waits until each has listed the options it read
/// without a complaint.
fn start_slons(c: &TestCluster, cluster: &Cluster) {
    for &node in cluster.nodes.keys() {
        runbook::start_slon(c, cluster, node);
    }
}

/// Every slon the runbooks started, restarts included, read its file without a complaint.
fn assert_slons_read_their_config(c: &TestCluster, nodes: u32) {
    let logs = c.assert_slon_logs_read_their_config();
    assert_eq!(logs, nodes as usize, "one slon log per node");
}

/// Runs a plan's shell script; panics with its output (and the cluster's logs) on failure.
fn run_plan(c: &TestCluster, tools: &Tools, plan: &Plan, name: &str) -> Duration {
    let script = plan.render(Format::Shell).expect("the plan renders");
    runbook::run_ok(c, tools, &script, name, Some(plan))
}

/// Builds the cluster with the library's own operations, starts the slons with the
/// model's commands and subscribes every node.
fn set_up(c: &TestCluster, tools: &Tools, cluster: &Cluster) {
    c.sql_all(SCHEMA);
    c.slonik_ok(&ops::init_cluster(cluster).unwrap().script.render().unwrap());
    c.slonik_ok(
        &ops::create_set(cluster, slonik_gen::model::SetId(1))
            .unwrap()
            .script
            .render()
            .unwrap(),
    );
    start_slons(c, cluster);
    let mut state = cluster.clone();
    for receiver in cluster
        .subscriptions
        .keys()
        .map(|(_, r)| *r)
        .collect::<BTreeSet<_>>()
    {
        let change = ops::subscribe_set(&state, slonik_gen::model::SetId(1), receiver).unwrap();
        c.slonik_ok(&change.script.render().unwrap());
        state = change.next;
    }
    let _ = tools;
}

/// Writes rows in small transactions (both tables at once) to the first node of
/// `targets` that accepts them, as an application behind a pooler would. Only the origin
/// accepts: Slony's triggers refuse writes on subscribers and on a locked set.
struct Writer {
    stop: Arc<AtomicBool>,
    gate: Arc<Mutex<()>>,
    targets: Arc<Mutex<Vec<(u32, u16)>>>,
    committed: Arc<Mutex<Vec<(i64, u32)>>>,
    failed: Arc<AtomicU64>,
    handle: Option<JoinHandle<()>>,
}

impl Writer {
    fn start(psql: PathBuf, dbname: String, targets: Vec<(u32, u16)>) -> Writer {
        let stop = Arc::new(AtomicBool::new(false));
        let gate = Arc::new(Mutex::new(()));
        let targets = Arc::new(Mutex::new(targets));
        let committed = Arc::new(Mutex::new(Vec::new()));
        let failed = Arc::new(AtomicU64::new(0));
        let handle = {
            let (stop, gate, targets, committed, failed) = (
                stop.clone(),
                gate.clone(),
                targets.clone(),
                committed.clone(),
                failed.clone(),
            );
            thread::spawn(move || {
                let mut id: i64 = 0;
                while !stop.load(Ordering::SeqCst) {
                    {
                        let _writing = gate.lock().unwrap_or_else(|p| p.into_inner());
                        id += 1;
                        let order = targets.lock().unwrap_or_else(|p| p.into_inner()).clone();
                        let mut done = false;
                        for (node, port) in order {
                            let sql = format!(
                                "INSERT INTO geekdb.files VALUES ({id}, 'file {id}', {node}); INSERT INTO geekdb.additional_roll VALUES ({id}, {id}, md5('{id}'))"
                            );
                            let ok = Command::new(&psql)
                                .args(["-X", "-q", "-v", "ON_ERROR_STOP=1", "-c", &sql, "-d"])
                                .arg(format!(
                                    "host=127.0.0.1 port={port} dbname={dbname} user=postgres connect_timeout=3"
                                ))
                                .stdout(Stdio::null())
                                .stderr(Stdio::null())
                                .status()
                                .is_ok_and(|s| s.success());
                            if ok {
                                committed
                                    .lock()
                                    .unwrap_or_else(|p| p.into_inner())
                                    .push((id, node));
                                done = true;
                                break;
                            }
                        }
                        if !done {
                            failed.fetch_add(1, Ordering::SeqCst);
                        }
                    }
                    thread::sleep(Duration::from_millis(40));
                }
            })
        };
        Writer {
            stop,
            gate,
            targets,
            committed,
            failed,
            handle: Some(handle),
        }
    }

    fn set_targets(&self, targets: Vec<(u32, u16)>) {
        *self.targets.lock().unwrap() = targets;
    }

    fn committed_on(&self, node: u32) -> usize {
        self.committed
            .lock()
            .unwrap()
            .iter()
            .filter(|(_, n)| *n == node)
            .count()
    }

    fn committed_ids(&self) -> Vec<i64> {
        self.committed.lock().unwrap().iter().map(|(id, _)| *id).collect()
    }

    fn wait_for_rows_on(&self, node: u32, rows: usize, timeout: Duration) {
        let start = Instant::now();
        let before = self.committed_on(node);
        while self.committed_on(node) < before + rows {
            assert!(
                start.elapsed() < timeout,
                "the writer did not get {rows} rows into node {node} within {timeout:?}"
            );
            thread::sleep(Duration::from_millis(100));
        }
    }

    fn finish(mut self) -> (Vec<i64>, u64) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(handle) = self.handle.take() {
            handle.join().expect("the writer thread");
        }
        (self.committed_ids(), self.failed.load(Ordering::SeqCst))
    }
}

impl Drop for Writer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(handle) = self.handle.take() {
            let _ = handle.join();
        }
    }
}

fn count(c: &TestCluster, node: u32, table: &str) -> String {
    c.psql(node, &format!("SELECT count(*) FROM {table}"))
        .unwrap_or_else(|e| e)
}

/// Every node holds exactly the committed rows, with equal count and checksum per table.
fn assert_every_row_everywhere(c: &TestCluster, nodes: &[u32], origin: u32, committed: &[i64]) {
    let expected = committed.len().to_string();
    for table in ["geekdb.files", "geekdb.additional_roll"] {
        for &n in nodes {
            c.wait_until(
                &format!("{table} on node {n} has the {expected} committed rows"),
                Duration::from_secs(120),
                || count(c, n, table) == expected,
            );
        }
        let reference = c.table_fingerprint(origin, table, "id");
        assert_eq!(reference.0 as usize, committed.len(), "{table} on the origin");
        for &n in nodes {
            assert_eq!(
                c.table_fingerprint(n, table, "id"),
                reference,
                "{table} on node {n} differs from node {origin}"
            );
        }
    }
    // The count matches, and every committed id is there: no row lost, none invented.
    let ids = committed
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(",");
    for &n in nodes {
        let present = c.sql(
            n,
            &format!("SELECT count(*) FROM geekdb.files WHERE id = ANY('{{{ids}}}'::bigint[])"),
        );
        assert_eq!(present, expected, "node {n} lacks committed rows");
    }
}

/// The catalog of every node against the plan's next state (`support::catalog`).
fn assert_catalog_matches(c: &TestCluster, nodes: &[u32], next: &Cluster) {
    catalog::assert_matches(c, nodes, next, |n| n);
}

fn load(text: &str) -> Cluster {
    load_config_str(text, "runbook-e2e.toml").unwrap_or_else(|e| panic!("{e}\n{text}"))
}

#[test]
fn e2e_failover_then_failback() {
    let Some(tools) = tools_or_skip("e2e_failover_then_failback") else {
        return;
    };
    let total = Instant::now();
    let mut c = TestCluster::start(&tools, 3, "geekdb");
    let config_text = config_toml(&c, 3);
    let (config_path, cluster) = write_config(&c, &config_text);
    set_up(&c, &tools, &cluster);

    let writer = Writer::start(tools.pg("psql"), c.dbname().to_string(), vec![(1, c.port(1))]);
    writer.wait_for_rows_on(1, 30, Duration::from_secs(60));

    // Asynchronous replication loses what the origin committed in its last moments, by
    // design; the runbooks must lose nothing else. So the crash comes once the
    // subscribers have every committed row, with the writer held at that point.
    {
        let _held = writer.gate.lock().unwrap();
        let written = writer.committed_ids().len().to_string();
        for n in [2, 3] {
            c.wait_until(
                &format!("node {n} has every row"),
                Duration::from_secs(60),
                || count(&c, n, "geekdb.files") == written,
            );
        }
        c.stop_node_immediate(1);
        // The pooler notices: from now on the application writes to node 2, which refuses
        // until the failover has made it the origin.
        writer.set_targets(vec![(2, c.port(2))]);
    }

    let failover = Request::Failover {
        dead: vec!["1".into()],
        backup: "2".into(),
        drop_dead: false,
    }
    .run(&cluster)
    .unwrap();
    run_plan(&c, &tools, &failover, "failover");
    assert_eq!(failover.next.sets[&SetId(1)].origin, NodeId(2));
    assert_catalog_matches(&c, &[2, 3], &failover.next);
    writer.wait_for_rows_on(2, 30, Duration::from_secs(120));

    // The state after the failover goes into the user's file, comments kept.
    let after_failover = slonik_gen::config_writer::edit(&config_text, &config_path, &failover.next).unwrap();
    assert!(
        after_failover.contains("# altperl's $MASTERNODE"),
        "{after_failover}"
    );
    assert!(after_failover.contains("failed = true"), "{after_failover}");
    let after_failover_cluster = load(&after_failover);
    assert_eq!(after_failover_cluster, failover.next);

    c.start_node(1);
    let failback = Request::Failback {
        node: "1".into(),
        sets: Vec::new(),
        prepare: Prepare::DropSchema,
    }
    .run(&after_failover_cluster)
    .unwrap();
    run_plan(&c, &tools, &failback, "failback");
    writer.set_targets(vec![(1, c.port(1))]);
    writer.wait_for_rows_on(1, 30, Duration::from_secs(120));
    let (committed, failed) = writer.finish();
    eprintln!(
        "writer: {} rows committed, {failed} attempts refused while no node took writes",
        committed.len()
    );

    assert_eq!(failback.next.sets[&SetId(1)].origin, NodeId(1));
    assert_eq!(failback.next.default_origin, NodeId(1));
    assert_catalog_matches(&c, &[1, 2, 3], &failback.next);
    assert_every_row_everywhere(&c, &[1, 2, 3], 1, &committed);
    // Rows were written on node 1, then node 2 during the outage, then node 1 again.
    let per_node = c.sql(
        1,
        "SELECT string_agg(DISTINCT written_on::text, ',') FROM geekdb.files",
    );
    assert_eq!(per_node, "1,2");

    // The config after both plans describes the cluster as it started (node 1 the origin
    // again) and still carries the user's comments.
    let after_failback =
        slonik_gen::config_writer::edit(&after_failover, &config_path, &failback.next).unwrap();
    assert!(
        after_failback.contains("# the tables live in geekdb, not public"),
        "{after_failback}"
    );
    assert_eq!(load(&after_failback), failback.next);
    assert_eq!(failback.next.sets, cluster.sets);
    assert_eq!(failback.next.subscriptions, cluster.subscriptions);
    eprintln!(
        "failover_then_failback total {:.1}s",
        total.elapsed().as_secs_f64()
    );
    assert_slons_read_their_config(&c, 3);
}

/// The pgbench tutorial's cascade on four nodes (node 3 through node 2, node 4 straight
/// from node 1, every node's `provider` written on its `[[node]]`): `failover --drop-dead`
/// of node 1 to node 2 points node 4 at node 2 and keeps node 1 in the config as
/// `dropped = true`; the failback from that config takes node 1 back from its kept
/// settings, points node 4 at node 1 again, loses no committed row, and gives back the
/// config byte for byte.
#[test]
fn e2e_cascade_failover_drop_dead_then_failback() {
    let Some(tools) = tools_or_skip("e2e_cascade_failover_drop_dead_then_failback") else {
        return;
    };
    let total = Instant::now();
    let mut c = TestCluster::start(&tools, 4, "geekdb");
    let provider = |n: u32| match n {
        2 | 4 => "provider = 1\n".to_string(),
        3 => "provider = 2\n".to_string(),
        _ => String::new(),
    };
    // Node 2's subscription goes while node 2 is the origin and comes back with the
    // failback, so a comment on it cannot come back: it has none here.
    let config_text = scenario_toml(&c, 4, provider)
        .replace(
            "[[subscription]]   # node 3 reads from the origin\nset = \"set1\"\nreceiver = 3\nprovider = 1\n",
            "[[subscription]]   # node 3 reads through node 2\nset = \"set1\"\nreceiver = 3\nprovider = 2\n",
        )
        .replace(
            "[[subscription]]   # node 2 reads from the origin\n",
            "[[subscription]]\n",
        );
    let (config_path, cluster) = write_config(&c, &config_text);
    assert_eq!(cluster.subscriptions[&(SetId(1), NodeId(3))].provider, NodeId(2));
    set_up(&c, &tools, &cluster);

    let writer = Writer::start(tools.pg("psql"), c.dbname().to_string(), vec![(1, c.port(1))]);
    writer.wait_for_rows_on(1, 30, Duration::from_secs(60));
    {
        let _held = writer.gate.lock().unwrap();
        let written = writer.committed_ids().len().to_string();
        for n in [2, 3, 4] {
            c.wait_until(
                &format!("node {n} has every row"),
                Duration::from_secs(60),
                || count(&c, n, "geekdb.files") == written,
            );
        }
        c.stop_node_immediate(1);
        writer.set_targets(vec![(2, c.port(2))]);
    }

    let failover = Request::Failover {
        dead: vec!["1".into()],
        backup: "2".into(),
        drop_dead: true,
    }
    .run(&cluster)
    .unwrap();
    run_plan(&c, &tools, &failover, "failover --drop-dead");
    assert_eq!(
        failover.next.subscriptions[&(SetId(1), NodeId(4))].provider,
        NodeId(2)
    );
    assert_catalog_matches(&c, &[2, 3, 4], &failover.next);
    writer.wait_for_rows_on(2, 30, Duration::from_secs(120));

    let after_failover = slonik_gen::config_writer::edit(&config_text, &config_path, &failover.next).unwrap();
    assert!(after_failover.contains("dropped = true"), "{after_failover}");
    let after_failover_cluster = load(&after_failover);
    assert_eq!(after_failover_cluster, failover.next);

    c.start_node(1);
    let failback = Request::Failback {
        node: "1".into(),
        sets: Vec::new(),
        prepare: Prepare::DropSchema,
    }
    .run(&after_failover_cluster)
    .unwrap();
    run_plan(&c, &tools, &failback, "failback of a dropped node");
    writer.set_targets(vec![(1, c.port(1))]);
    writer.wait_for_rows_on(1, 30, Duration::from_secs(120));
    let (committed, _) = writer.finish();

    assert_eq!(failback.next, cluster);
    assert_catalog_matches(&c, &[1, 2, 3, 4], &failback.next);
    assert_every_row_everywhere(&c, &[1, 2, 3, 4], 1, &committed);
    let after_failback =
        slonik_gen::config_writer::edit(&after_failover, &config_path, &failback.next).unwrap();
    assert_eq!(after_failback, config_text, "the config comes back byte for byte");
    eprintln!(
        "cascade_failover_drop_dead_then_failback total {:.1}s",
        total.elapsed().as_secs_f64()
    );
    assert_slons_read_their_config(&c, 4);
}

/// A schema whose functions shadow the built-ins the runbook checks use.
const EVIL: &str = "
    CREATE SCHEMA evil;
    CREATE AGGREGATE evil.count(*) (sfunc = pg_catalog.int8inc, stype = int8, initcond = '40');
    CREATE FUNCTION evil.now() RETURNS timestamptz LANGUAGE sql AS $$SELECT 'infinity'::timestamptz$$;
    CREATE FUNCTION evil.array_to_string(anyarray, text) RETURNS text LANGUAGE sql AS $$SELECT 'EVIL'::text$$;
";

/// Regression (search_path hijack): the plan's checks on the origin, asked in a session
/// whose search_path is `evil, pg_catalog` (what an admin conninfo with
/// `options='-c search_path=evil,pg_catalog'` gives), answer what they expect; and the
/// catalog summary reads the same as in a clean session. Unqualified, `count(*)` answered
/// 41 and `now()` infinity.
fn checks_answer_with_a_hostile_search_path(c: &TestCluster, plan: &Plan) {
    c.sql(1, EVIL);
    let hostile = |sql: &str| c.sql(1, &format!("SET search_path = evil, pg_catalog;\n{sql};"));
    let mut asked = 0;
    for step in &plan.steps {
        if let Action::Check {
            node,
            sql,
            expect,
            wait_seconds: 0,
        } = &step.action
        {
            if *node == NodeId(1) {
                assert_eq!(&hostile(sql), expect, "{}:\n{sql}", step.title);
                asked += 1;
            }
        }
    }
    assert!(asked >= 3, "only {asked} checks asked");
    let Some(Action::Check { sql: summary, .. }) = plan.steps.last().map(|s| &s.action) else {
        panic!("the plan ends with a catalog check")
    };
    let clean = c.sql(1, &format!("{summary};"));
    assert!(clean.starts_with("nodes 1 2 3; sets 1:1;"), "{clean}");
    assert_eq!(hostile(summary), clean);
    c.sql(1, "DROP SCHEMA evil CASCADE");
}

#[test]
fn e2e_switchover_under_write_load() {
    let Some(tools) = tools_or_skip("e2e_switchover_under_write_load") else {
        return;
    };
    let c = TestCluster::start(&tools, 3, "geekdb");
    let config_text = config_toml(&c, 3);
    let (_, cluster) = write_config(&c, &config_text);
    set_up(&c, &tools, &cluster);

    // The application tries node 1 and then node 2: whichever is the origin takes the row.
    let writer = Writer::start(
        tools.pg("psql"),
        c.dbname().to_string(),
        vec![(1, c.port(1)), (2, c.port(2))],
    );
    writer.wait_for_rows_on(1, 30, Duration::from_secs(60));
    let plan = Request::Switchover {
        sets: vec!["set1".into()],
        from: None,
        to: "2".into(),
    }
    .run(&cluster)
    .unwrap();
    checks_answer_with_a_hostile_search_path(&c, &plan);
    run_plan(&c, &tools, &plan, "switchover");
    writer.wait_for_rows_on(2, 30, Duration::from_secs(60));
    let (committed, failed) = writer.finish();
    eprintln!(
        "writer: {} rows committed, {failed} attempts refused during the lock",
        committed.len()
    );

    assert_eq!(plan.next.sets[&SetId(1)].origin, NodeId(2));
    assert_catalog_matches(&c, &[1, 2, 3], &plan.next);
    assert_every_row_everywhere(&c, &[1, 2, 3], 2, &committed);
    assert_slons_read_their_config(&c, 3);
}

#[test]
fn e2e_add_tables_to_a_live_set() {
    let Some(tools) = tools_or_skip("e2e_add_tables_to_a_live_set") else {
        return;
    };
    let c = TestCluster::start(&tools, 3, "geekdb");
    let config_text = config_toml(&c, 3);
    let (config_path, cluster) = write_config(&c, &config_text);
    set_up(&c, &tools, &cluster);

    let writer = Writer::start(tools.pg("psql"), c.dbname().to_string(), vec![(1, c.port(1))]);
    writer.wait_for_rows_on(1, 20, Duration::from_secs(60));
    // The new tables exist everywhere (same DDL), with rows on the origin only.
    c.sql_all(
        "CREATE TABLE geekdb.audit_log (id bigint PRIMARY KEY, what text NOT NULL);
         CREATE TABLE geekdb.\"Tags\" (tag text PRIMARY KEY);",
    );
    c.sql(
        1,
        "INSERT INTO geekdb.audit_log SELECT g, 'before ' || g FROM generate_series(1, 200) g",
    );
    c.sql(1, "INSERT INTO geekdb.\"Tags\" VALUES ('a'), ('b')");

    let plan = Request::AddTables {
        set: "set1".into(),
        tables: vec!["audit_log".into(), "geekdb.Tags".into()],
        sequences: Vec::new(),
    }
    .run(&cluster)
    .unwrap();
    run_plan(&c, &tools, &plan, "add-tables");
    c.sql(
        1,
        "INSERT INTO geekdb.audit_log SELECT g, 'after ' || g FROM generate_series(201, 300) g",
    );
    let (committed, _) = writer.finish();

    assert_catalog_matches(&c, &[1, 2, 3], &plan.next);
    let reference = c.table_fingerprint(1, "geekdb.audit_log", "id");
    assert_eq!(reference.0, 300);
    for n in [2, 3] {
        c.wait_until(
            &format!("audit_log reaches node {n}"),
            Duration::from_secs(60),
            || c.table_fingerprint(n, "geekdb.audit_log", "id") == reference,
        );
        assert_eq!(
            c.table_fingerprint(n, "geekdb.\"Tags\"", "tag"),
            c.table_fingerprint(1, "geekdb.\"Tags\"", "tag")
        );
    }
    let tables = c.sql(2, "SELECT string_agg(tab_id || ':' || tab_nspname || '.' || tab_relname, ' ' ORDER BY tab_id) FROM _replication.sl_table WHERE tab_set = 1");
    assert_eq!(
        tables,
        "1:geekdb.files 2:geekdb.additional_roll 3:geekdb.audit_log 4:geekdb.Tags"
    );
    assert_every_row_everywhere(&c, &[1, 2, 3], 1, &committed);

    let updated = slonik_gen::config_writer::edit(&config_text, &config_path, &plan.next).unwrap();
    assert!(
        updated.contains(r#"{ name = "audit_log", schema = "geekdb", id = 3 }"#),
        "{updated}"
    );
    assert_eq!(load(&updated), plan.next);
    assert_slons_read_their_config(&c, 3);
}

/// Drops node `node`'s database (connected to its `postgres` database), even while
/// other nodes' slons are connected to it.
fn drop_database(c: &TestCluster, tools: &Tools, node: u32) {
    let out = Command::new(tools.pg("psql"))
        .args(["-X", "-q", "-v", "ON_ERROR_STOP=1", "-d"])
        .arg(format!(
            "host=127.0.0.1 port={} dbname=postgres user=postgres",
            c.port(node)
        ))
        .arg("-c")
        // FORCE: the other nodes' slons are connected to it, as they would be when it is lost.
        .arg(format!("DROP DATABASE \"{}\" WITH (FORCE)", c.dbname()))
        .output()
        .expect("run psql");
    assert!(
        out.status.success(),
        "drop database on node {node}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn e2e_rebuild_subscriber_from_a_schema_dump() {
    let Some(tools) = tools_or_skip("e2e_rebuild_subscriber_from_a_schema_dump") else {
        return;
    };
    let c = TestCluster::start(&tools, 3, "geekdb");
    let config_text = config_toml(&c, 3);
    let (_, cluster) = write_config(&c, &config_text);
    set_up(&c, &tools, &cluster);
    let writer = Writer::start(tools.pg("psql"), c.dbname().to_string(), vec![(1, c.port(1))]);
    writer.wait_for_rows_on(1, 20, Duration::from_secs(60));

    // The scenario's step 3, done right: a new database with the schema copied from the
    // origin, without Slony's schema and triggers, while the origin keeps taking writes.
    let plan = Request::RebuildNode {
        node: "3".into(),
        sets: Vec::new(),
        prepare: Prepare::Recreate,
    }
    .run(&cluster)
    .unwrap();
    // Regression (item 11): node 3's database is gone, as after a lost disk. The plan's
    // first check used to connect to it and stop; recreate must rebuild it anyway.
    let stop = SlonRun::of(&cluster, NodeId(3)).unwrap().stop_shell();
    let (stopped, output, _) = bash(&stop, c.dir(), "stop-slon3", &tools);
    assert!(stopped, "{output}");
    drop_database(&c, &tools, 3);
    run_plan(&c, &tools, &plan, "rebuild-node");
    writer.wait_for_rows_on(1, 20, Duration::from_secs(60));
    let (committed, _) = writer.finish();
    assert_eq!(plan.next, cluster);
    assert_catalog_matches(&c, &[1, 2, 3], &plan.next);
    assert_every_row_everywhere(&c, &[1, 2, 3], 1, &committed);
    assert_slons_read_their_config(&c, 3);
}

#[test]
fn e2e_switchover_to_a_subscriber_that_does_not_forward() {
    let Some(tools) = tools_or_skip("e2e_switchover_to_a_subscriber_that_does_not_forward") else {
        return;
    };
    let c = TestCluster::start(&tools, 3, "geekdb");
    let config_text = config_toml(&c, 3).replace(
        "receiver = 2\nprovider = 1\nforward = true",
        "receiver = 2\nprovider = 1\nforward = false",
    );
    let (_, cluster) = write_config(&c, &config_text);
    assert!(!cluster.subscriptions[&(SetId(1), NodeId(2))].forward);
    set_up(&c, &tools, &cluster);
    let writer = Writer::start(
        tools.pg("psql"),
        c.dbname().to_string(),
        vec![(1, c.port(1)), (2, c.port(2))],
    );
    writer.wait_for_rows_on(1, 20, Duration::from_secs(60));
    let plan = Request::Switchover {
        sets: Vec::new(),
        from: Some("1".into()),
        to: "2".into(),
    }
    .run(&cluster)
    .unwrap();
    // The plan's last steps compare every node's catalog, forwarding flags included, with
    // the next state: the model must know what Slony-I makes of the old origin.
    run_plan(&c, &tools, &plan, "switchover-no-forward");
    writer.wait_for_rows_on(2, 20, Duration::from_secs(60));
    let (committed, _) = writer.finish();
    let forwards = c.sql(2, "SELECT string_agg(sub_receiver || ':' || sub_forward, ' ' ORDER BY sub_receiver) FROM _replication.sl_subscribe");
    eprintln!("forwarding after the switchover: {forwards}");
    assert_catalog_matches(&c, &[1, 2, 3], &plan.next);
    assert_every_row_everywhere(&c, &[1, 2, 3], 2, &committed);
    assert_slons_read_their_config(&c, 3);
}
