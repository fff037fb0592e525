//! The lifecycle runbooks on a real PostgreSQL 15 + Slony-I 2.2 cluster, each under write
//! load, with zero lost rows: the `--format sh` scripts `slonik-gen runbook` prints are run
//! with bash against the harness's nodes while a writer inserts on the origin.
//!
//! * `e2e_add_node_under_write_load`: node 3 (empty database, cascaded from node 2) and
//!   node 4 (`--schema present`, from the origin) join a running cluster.
//! * `e2e_retire_node_under_write_load`: the origin leaves (`--to 2`) while node 3 receives
//!   through it, so the re-pointing runs on the real thing.
//! * `e2e_upgrade_postgres_under_write_load`: node 11 on another server takes the place of
//!   the origin, node 1.
//! * `e2e_upgrade_slony_patch_release`: `upgrade-slony --to 2.2` on the 2.2 cluster (stop
//!   the slons, update functions, start them), and the 2.1-to-2.2 plan's check SQL asked
//!   of the real 2.2 catalog.
//!
//! Every config is built as in `tests/runbook_e2e.rs`: the harness's `[daemon]` and
//! `[slon]` tables (`TestCluster::slon_daemon_toml`), each slon's file written with
//! `slonik-gen slon-conf --all --dir`, the slons started with the model's command; the
//! runbooks start and stop slons themselves. Each test prints each plan's wall time and,
//! where the origin moves, the write-unavailable window (the timed writer of
//! `tests/support/load.rs`): from the first write the old origin refused to the first the
//! new origin accepted.
mod support;

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use slonik_gen::model::{NodeId, SetId};
use slonik_gen::runbook::{Action, Format, NewNodeArgs, Plan, Request, SchemaSource};
use slonik_gen::slon::run::SlonRun;
use slonik_gen::{load_config_str, ops, Cluster, SlonyVersion};
use support::catalog;
use support::cluster::{tools_or_skip, TestCluster, Tools};
use support::load::{report_writes, Writer};
use support::runbook::{self, start_slon};
use support::slon_log;

const CLUSTER: &str = "replication";
const TABLES: [&str; 2] = ["geekdb.files", "geekdb.additional_roll"];

/// The tables of the scenario's set (as in `tests/runbook_e2e.rs`).
const SCHEMA: &str = "
    CREATE SCHEMA geekdb;
    CREATE SEQUENCE geekdb.files_id_seq;
    CREATE TABLE geekdb.files (id bigint PRIMARY KEY, name text NOT NULL, written_on int NOT NULL);
    CREATE TABLE geekdb.additional_roll (id bigint PRIMARY KEY, file_id bigint NOT NULL, roll text NOT NULL);
";

/// A real cluster and which harness instance (its PostgreSQL server) holds each Slony node:
/// node `n` is instance `n`, except where the test says otherwise (node 11 on a new server).
struct Lab {
    c: TestCluster,
    tools: Tools,
    instances: BTreeMap<u32, u32>,
}

impl Lab {
    fn start(tools: &Tools, instances: u32, nodes: &[(u32, u32)]) -> Lab {
        Lab {
            c: TestCluster::start(tools, instances, "geekdb"),
            tools: tools.clone(),
            instances: nodes.iter().copied().collect(),
        }
    }

    /// The harness instance of Slony node `node`.
    fn at(&self, node: u32) -> u32 {
        *self
            .instances
            .get(&node)
            .unwrap_or_else(|| panic!("node {node} has no instance"))
    }

    fn port(&self, node: u32) -> u16 {
        self.c.port(self.at(node))
    }

    fn conninfo(&self, node: u32) -> String {
        self.c.conninfo(self.at(node))
    }

    fn sql(&self, node: u32, sql: &str) -> String {
        self.c.sql(self.at(node), sql)
    }

    fn psql(&self, node: u32, sql: &str) -> Result<String, String> {
        self.c.psql(self.at(node), sql)
    }

    /// The config of `nodes` with set 1 on node 1 and `subscriptions` (receiver, provider),
    /// every subscriber forwarding; every slon run as the harness's `[daemon]` says.
    fn config_toml(&self, nodes: &[u32], subscriptions: &[(u32, u32)]) -> String {
        let mut toml = format!(
            "# The scenario's cluster on the test harness.\ncluster = \"{CLUSTER}\"\nslony_version = \"2.2\"\ndefault_origin = 1   # altperl's $MASTERNODE\nwait_timeout = 300\n\n{}",
            self.c.slon_daemon_toml()
        );
        for &n in nodes {
            toml.push_str(&format!(
                "\n[[node]]\nid = {n}\nname = \"node{n}\"\nhost = \"127.0.0.1\"\nport = {}\ndbname = \"{}\"\nuser = \"postgres\"\n",
                self.port(n),
                self.c.dbname(),
            ));
        }
        toml.push_str(
            "\n[[set]]\nid = 1\nname = \"set1\"\norigin = 1\ncomment = \"geekdb application tables\"\ndefault_schema = \"geekdb\"   # the tables live in geekdb, not public\ntables = [\"files\", \"additional_roll\"]\nsequences = [\"files_id_seq\"]\n",
        );
        for &(receiver, provider) in subscriptions {
            toml.push_str(&format!(
                "\n[[subscription]]   # node {receiver} reads from node {provider}\nset = \"set1\"\nreceiver = {receiver}\nprovider = {provider}\nforward = true\n"
            ));
        }
        toml
    }

    /// Writes the config to `geekdb.toml` and every node's slon file with
    /// `slon-conf --all --dir`, as an operator would; returns the path and the cluster.
    fn write_config(&self, text: &str) -> (PathBuf, Cluster) {
        let path = self.c.dir().join("geekdb.toml");
        fs::write(&path, text).unwrap();
        let cluster = load(text);
        runbook::write_slon_confs(&path, &cluster);
        (path, cluster)
    }

    /// The schema on `schema_nodes`, the cluster and set 1 with the library's operations,
    /// the slons started with the model's command, every subscription made (origin's
    /// receivers first).
    fn set_up(&self, cluster: &Cluster, schema_nodes: &[u32]) {
        for &n in schema_nodes {
            self.sql(n, SCHEMA);
        }
        self.c
            .slonik_ok(&ops::init_cluster(cluster).unwrap().script.render().unwrap());
        self.c.slonik_ok(
            &ops::create_set(cluster, SetId(1))
                .unwrap()
                .script
                .render()
                .unwrap(),
        );
        for &node in cluster.nodes.keys() {
            start_slon(&self.c, cluster, node);
        }
        let mut state = cluster.clone();
        let mut receivers: Vec<(bool, NodeId)> = cluster
            .subscriptions
            .values()
            .map(|s| (s.provider != NodeId(1), s.receiver))
            .collect();
        receivers.sort();
        for (_, receiver) in receivers {
            let change = ops::subscribe_set(&state, SetId(1), receiver).unwrap();
            self.c.slonik_ok(&change.script.render().unwrap());
            state = change.next;
        }
    }

    /// `slonik-gen --config CONFIG runbook --format sh ARGS --write-config AFTER`: the
    /// script and the config written after it (loaded); the script must be the library's
    /// rendering of `plan`.
    fn cli_runbook(&self, config: &Path, args: &[&str], name: &str, plan: &Plan) -> (String, PathBuf) {
        let after = self.c.dir().join(format!("{name}.toml"));
        let out = Command::new(env!("CARGO_BIN_EXE_slonik-gen"))
            .arg("--config")
            .arg(config)
            .args(["runbook", "--format", "sh"])
            .args(args)
            .arg("--write-config")
            .arg(&after)
            .output()
            .expect("run slonik-gen runbook");
        assert!(
            out.status.success(),
            "slonik-gen runbook {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let script = String::from_utf8(out.stdout).unwrap();
        assert_eq!(
            script,
            plan.render(Format::Shell).unwrap(),
            "the CLI prints the library's plan"
        );
        (script, after)
    }

    /// Runs a runbook script with bash (slonik, psql, pg_dump and pg_restore of the
    /// harness's PostgreSQL first on PATH); panics with its output and the logs on failure.
    fn run_script(&self, script: &str, plan: &Plan, name: &str) -> Duration {
        runbook::run_ok(&self.c, &self.tools, script, name, Some(plan))
    }

    fn count(&self, node: u32, table: &str) -> String {
        self.psql(node, &format!("SELECT count(*) FROM {table}"))
            .unwrap_or_else(|e| e)
    }

    /// Every node of `nodes` holds exactly the committed rows: same count, every committed
    /// id, and the same fingerprint as `reference` for each table.
    fn assert_every_row_everywhere(&self, nodes: &[u32], reference: u32, committed: &[i64]) {
        let expected = committed.len().to_string();
        for table in TABLES {
            for &n in nodes {
                self.c.wait_until(
                    &format!("{table} on node {n} has the {expected} committed rows"),
                    Duration::from_secs(120),
                    || self.count(n, table) == expected,
                );
            }
            let fingerprint = self.c.table_fingerprint(self.at(reference), table, "id");
            assert_eq!(
                fingerprint.0 as usize,
                committed.len(),
                "{table} on node {reference}"
            );
            for &n in nodes {
                assert_eq!(
                    self.c.table_fingerprint(self.at(n), table, "id"),
                    fingerprint,
                    "{table} on node {n} differs from node {reference}"
                );
            }
        }
        let ids = committed
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(",");
        for &n in nodes {
            let present = self.sql(
                n,
                &format!("SELECT count(*) FROM geekdb.files WHERE id = ANY('{{{ids}}}'::bigint[])"),
            );
            assert_eq!(present, expected, "node {n} lacks committed rows");
        }
    }

    /// The catalog of every node of `nodes` against the plan's next state (sets, active
    /// subscriptions with their providers, nodes), read independently of the plan's own
    /// last check.
    fn assert_catalog_matches(&self, nodes: &[u32], next: &Cluster) {
        catalog::assert_matches(&self.c, nodes, next, |n| self.at(n));
    }

    /// Waits until `node` has confirmed a SYNC that node `origin` generated after now:
    /// it then holds every row committed on the origin before the call.
    fn wait_caught_up(&self, origin: u32, node: u32) {
        let seqno = self.sql(
            origin,
            &format!("SELECT _replication.createEvent('_{CLUSTER}', 'SYNC', NULL)"),
        );
        self.c.wait_until(
            &format!("node {node} confirmed SYNC {seqno} of node {origin}"),
            Duration::from_secs(120),
            || {
                self.psql(
                    origin,
                    &format!("SELECT coalesce(max(con_seqno), 0) >= {seqno} FROM _replication.sl_confirm WHERE con_origin = {origin} AND con_received = {node}"),
                )
                .ok()
                .as_deref()
                    == Some("t")
            },
        );
    }

    /// The pid of the slon of `node` in `cluster`, alive, running on its config file.
    fn running_slon(&self, cluster: &Cluster, node: u32) -> u32 {
        let run = SlonRun::of(cluster, NodeId(node)).expect("the node is in the config");
        let pid_file = run.pid_file.clone().expect("a process slon has a pid file");
        let pid: u32 = fs::read_to_string(&pid_file)
            .unwrap_or_else(|e| panic!("node {node}: no pid file {pid_file}: {e}"))
            .trim()
            .parse()
            .unwrap_or_else(|e| panic!("node {node}: pid file {pid_file}: {e}"));
        let cmdline = fs::read(format!("/proc/{pid}/cmdline"))
            .unwrap_or_else(|e| panic!("node {node}: slon pid {pid} is not running: {e}"));
        let args: Vec<String> = cmdline
            .split(|b| *b == 0)
            .map(|a| String::from_utf8_lossy(a).into_owned())
            .collect();
        let f = args.iter().position(|a| a == "-f");
        assert_eq!(
            f.and_then(|i| args.get(i + 1)),
            Some(&run.conf_file),
            "node {node}: slon {pid} does not run on its config file: {args:?}"
        );
        let log = fs::read_to_string(run.log_file.as_deref().unwrap()).unwrap_or_default();
        slon_log::assert_read_its_config(&log, &format!("node {node}'s slon"));
        pid
    }

    /// The slon of `node` in `cluster` no longer runs.
    fn assert_slon_stopped(&self, cluster: &Cluster, node: u32) {
        let run = SlonRun::of(cluster, NodeId(node)).expect("the node is in the config");
        let conf = run.conf_file;
        let running: Vec<u32> = fs::read_dir("/proc")
            .unwrap()
            .filter_map(|e| e.ok())
            .filter_map(|e| e.file_name().to_str().and_then(|s| s.parse::<u32>().ok()))
            .filter(|pid| {
                let Ok(cmdline) = fs::read(format!("/proc/{pid}/cmdline")) else {
                    return false;
                };
                let zombie = fs::read_to_string(format!("/proc/{pid}/stat"))
                    .map(|s| {
                        s.rsplit_once(')')
                            .is_some_and(|(_, rest)| rest.trim_start().starts_with('Z'))
                    })
                    .unwrap_or(false);
                !zombie && cmdline.split(|b| *b == 0).any(|a| a == conf.as_bytes())
            })
            .collect();
        assert!(
            running.is_empty(),
            "node {node}'s slon still runs: pids {running:?}"
        );
    }
}

fn load(text: &str) -> Cluster {
    load_config_str(text, "e2e-lifecycle.toml").unwrap_or_else(|e| panic!("{e}\n{text}"))
}

fn load_file(path: &Path) -> (String, Cluster) {
    let text = fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let cluster = load(&text);
    (text, cluster)
}

fn new_node(id: u32, conninfo: String) -> NewNodeArgs {
    NewNodeArgs {
        id,
        conninfo,
        forward: true,
        ..NewNodeArgs::default()
    }
}

#[test]
fn e2e_add_node_under_write_load() {
    let Some(tools) = tools_or_skip("e2e_add_node_under_write_load") else {
        return;
    };
    let total = Instant::now();
    let lab = Lab::start(&tools, 4, &[(1, 1), (2, 2), (3, 3), (4, 4)]);
    let config_text = lab.config_toml(&[1, 2], &[(2, 1)]);
    let (config_path, cluster) = lab.write_config(&config_text);
    // Node 3's database is empty, as a new server's is; node 4 has the tables already.
    lab.set_up(&cluster, &[1, 2, 4]);
    assert_eq!(
        lab.sql(3, "SELECT count(*) FROM pg_namespace WHERE nspname = 'geekdb'"),
        "0"
    );

    let writer = Writer::start(tools.pg("psql"), "geekdb".into(), vec![(1, lab.port(1))]);
    writer.wait_for_rows_on(1, 20, Duration::from_secs(60));

    // Node 3, cascaded from node 2, its schema copied with pg_dump -s.
    let conninfo3 = lab.conninfo(3);
    let plan = Request::AddNode {
        node: new_node(3, conninfo3.clone()),
        provider: Some("2".into()),
        sets: Vec::new(),
        schema: SchemaSource::Copy,
    }
    .run(&cluster)
    .unwrap();
    let (script, after3) = lab.cli_runbook(
        &config_path,
        &[
            "add-node",
            "--id",
            "3",
            "--conninfo",
            &conninfo3,
            "--provider",
            "2",
        ],
        "add-node-3",
        &plan,
    );
    let add3 = lab.run_script(&script, &plan, "add-node-3");
    writer.wait_for_rows_on(1, 20, Duration::from_secs(60));

    let (after3_text, with3) = load_file(&after3);
    assert_eq!(with3, plan.next, "the written config is the plan's next state");
    assert!(
        after3_text.contains("# the tables live in geekdb, not public"),
        "{after3_text}"
    );
    let node3 = &with3.nodes[&NodeId(3)];
    assert_eq!(node3.provider, Some(NodeId(2)), "{after3_text}");
    assert_eq!(with3.subscriptions[&(SetId(1), NodeId(3))].provider, NodeId(2));
    assert_eq!(with3.subscriptions[&(SetId(1), NodeId(3))].receiver, NodeId(3));
    // The slon the runbook started reads the file the runbook wrote, which is what
    // `slon-conf 3` prints from the new config.
    lab.running_slon(&with3, 3);
    let conf3 = SlonRun::of(&with3, NodeId(3)).unwrap().conf_file;
    let expected = Command::new(env!("CARGO_BIN_EXE_slonik-gen"))
        .arg("--config")
        .arg(&after3)
        .args(["slon-conf", "3"])
        .output()
        .unwrap();
    assert!(
        expected.status.success(),
        "{}",
        String::from_utf8_lossy(&expected.stderr)
    );
    assert_eq!(fs::read(&conf3).unwrap(), expected.stdout, "{conf3}");
    lab.assert_catalog_matches(&[1, 2, 3], &plan.next);

    // Node 4 with --schema present, from the origin, added on top of the written config.
    let conninfo4 = lab.conninfo(4);
    let plan4 = Request::AddNode {
        node: new_node(4, conninfo4.clone()),
        provider: None,
        sets: Vec::new(),
        schema: SchemaSource::Present,
    }
    .run(&with3)
    .unwrap();
    let (script4, after4) = lab.cli_runbook(
        &after3,
        &[
            "add-node",
            "--id",
            "4",
            "--conninfo",
            &conninfo4,
            "--schema",
            "present",
        ],
        "add-node-4",
        &plan4,
    );
    let add4 = lab.run_script(&script4, &plan4, "add-node-4");
    writer.wait_for_rows_on(1, 20, Duration::from_secs(60));
    let (committed, attempts) = writer.finish();
    report_writes("add-node", &attempts, committed.len(), None);
    assert!(
        attempts.iter().all(|a| a.ok),
        "the origin refused writes during add-node"
    );

    let (_, with4) = load_file(&after4);
    assert_eq!(with4, plan4.next);
    assert_eq!(with4.nodes[&NodeId(4)].provider, None);
    assert_eq!(with4.subscriptions[&(SetId(1), NodeId(4))].provider, NodeId(1));
    lab.running_slon(&with4, 4);
    for n in [2, 3, 4] {
        lab.wait_caught_up(1, n);
    }
    lab.assert_catalog_matches(&[1, 2, 3, 4], &plan4.next);
    lab.assert_every_row_everywhere(&[1, 2, 3, 4], 1, &committed);
    assert_eq!(lab.c.assert_slon_logs_read_their_config(), 4);
    eprintln!(
        "BENCH add-node: node 3 (schema copy, cascaded) {:.1}s, node 4 (schema present) {:.1}s; test total {:.1}s",
        add3.as_secs_f64(),
        add4.as_secs_f64(),
        total.elapsed().as_secs_f64()
    );
}

#[test]
fn e2e_retire_node_under_write_load() {
    let Some(tools) = tools_or_skip("e2e_retire_node_under_write_load") else {
        return;
    };
    let total = Instant::now();
    let lab = Lab::start(&tools, 4, &[(1, 1), (2, 2), (3, 3), (4, 4)]);
    // Node 4 receives through node 3, a subscriber that retires first (node 4 moves to
    // node 3's provider, node 1); then node 1, the origin, retires `--to 2` while node 4
    // receives through it (after the move node 1 is a subscriber that still feeds node 4,
    // which the runbook re-points to node 2).
    let config_text = lab.config_toml(&[1, 2, 3, 4], &[(2, 1), (3, 1), (4, 3)]);
    let (config_path, cluster) = lab.write_config(&config_text);
    lab.set_up(&cluster, &[1, 2, 3, 4]);

    let writer = Writer::start(
        tools.pg("psql"),
        "geekdb".into(),
        vec![(1, lab.port(1)), (2, lab.port(2))],
    );
    writer.wait_for_rows_on(1, 20, Duration::from_secs(60));

    // A subscriber that feeds another node.
    let plan3 = Request::RetireNode {
        node: "3".into(),
        to: None,
    }
    .run(&cluster)
    .unwrap();
    let (script3, after3) = lab.cli_runbook(
        &config_path,
        &["retire-node", "--node", "3"],
        "retire-node-3",
        &plan3,
    );
    let retire3 = lab.run_script(&script3, &plan3, "retire-node-3");
    writer.wait_for_rows_on(1, 20, Duration::from_secs(60));
    let (after3_text, without3) = load_file(&after3);
    assert_eq!(without3, plan3.next);
    assert!(!without3.nodes.contains_key(&NodeId(3)), "{after3_text}");
    assert_eq!(
        without3.subscriptions[&(SetId(1), NodeId(4))].provider,
        NodeId(1),
        "{after3_text}"
    );
    lab.assert_catalog_matches(&[1, 2, 4], &plan3.next);
    lab.assert_slon_stopped(&cluster, 3);
    assert_eq!(
        lab.sql(
            3,
            "SELECT count(*) FROM pg_namespace WHERE nspname = '_replication'"
        ),
        "0",
        "Slony-I is still installed on node 3"
    );

    // The origin, with node 4 receiving through it once the set has moved.
    let plan = Request::RetireNode {
        node: "1".into(),
        to: Some("2".into()),
    }
    .run(&without3)
    .unwrap();
    let (script, after) = lab.cli_runbook(
        &after3,
        &["retire-node", "--node", "1", "--to", "2"],
        "retire-node-1",
        &plan,
    );
    let elapsed = lab.run_script(&script, &plan, "retire-node-1");
    writer.wait_for_rows_on(2, 20, Duration::from_secs(60));
    let (committed, attempts) = writer.finish();
    let window = report_writes("retire-node", &attempts, committed.len(), Some((1, 2)));

    let (after_text, retired) = load_file(&after);
    assert_eq!(retired, plan.next);
    assert!(!retired.nodes.contains_key(&NodeId(1)), "{after_text}");
    assert!(!after_text.contains("name = \"node1\""), "{after_text}");
    assert!(!after_text.contains("name = \"node3\""), "{after_text}");
    assert!(
        after_text.contains("# the tables live in geekdb, not public"),
        "{after_text}"
    );
    assert_eq!(retired.sets[&SetId(1)].origin, NodeId(2));
    assert_eq!(
        retired
            .subscriptions
            .values()
            .map(|s| (s.receiver, s.provider))
            .collect::<Vec<_>>(),
        vec![(NodeId(4), NodeId(2))],
        "{after_text}"
    );
    lab.assert_catalog_matches(&[2, 4], &plan.next);
    for n in [2, 4] {
        assert_eq!(
            lab.sql(
                n,
                "SELECT count(*) FROM _replication.sl_node WHERE no_id IN (1, 3)"
            ),
            "0",
            "node {n} still knows node 1 or 3"
        );
    }
    assert_eq!(
        lab.sql(
            1,
            "SELECT count(*) FROM pg_namespace WHERE nspname = '_replication'"
        ),
        "0",
        "Slony-I is still installed on node 1"
    );
    lab.assert_slon_stopped(&cluster, 1);
    lab.running_slon(&retired, 2);
    lab.running_slon(&retired, 4);
    lab.wait_caught_up(2, 4);
    lab.assert_every_row_everywhere(&[2, 4], 2, &committed);
    // Node 1 left with every row it had taken: none lost there either.
    let on1 = lab.sql(1, "SELECT count(*) FROM geekdb.files WHERE written_on = 1");
    assert_eq!(
        on1,
        attempts
            .iter()
            .filter(|a| a.ok && a.node == 1)
            .count()
            .to_string()
    );
    assert_eq!(lab.c.assert_slon_logs_read_their_config(), 4);
    eprintln!(
        "BENCH retire-node: node 3 (subscriber feeding node 4) {:.1}s; node 1 (origin, --to 2, node 4 re-pointed) {:.1}s, write-unavailable window {}; test total {:.1}s",
        retire3.as_secs_f64(),
        elapsed.as_secs_f64(),
        window.map_or("not seen".into(), |w| format!("{:.2}s", w.as_secs_f64())),
        total.elapsed().as_secs_f64()
    );
    assert!(window.is_some(), "the writer never moved from node 1 to node 2");
}

#[test]
fn e2e_upgrade_postgres_under_write_load() {
    let Some(tools) = tools_or_skip("e2e_upgrade_postgres_under_write_load") else {
        return;
    };
    let total = Instant::now();
    // Two servers: instance 1 (the old one) with node 1, the origin, and instance 3 (the
    // new one) for node 11; node 2 on instance 2 receives from node 1.
    let lab = Lab::start(&tools, 4, &[(1, 1), (2, 2), (11, 3), (12, 4)]);
    let config_text = lab.config_toml(&[1, 2], &[(2, 1)]);
    let (config_path, cluster) = lab.write_config(&config_text);
    lab.set_up(&cluster, &[1, 2]);

    let writer = Writer::start(
        tools.pg("psql"),
        "geekdb".into(),
        vec![(1, lab.port(1)), (11, lab.port(11))],
    );
    writer.wait_for_rows_on(1, 20, Duration::from_secs(60));
    let conninfo = lab.conninfo(11);
    let plan = Request::UpgradePostgres {
        old: "1".into(),
        node: new_node(11, conninfo.clone()),
        schema: SchemaSource::Copy,
    }
    .run(&cluster)
    .unwrap();
    let (script, after) = lab.cli_runbook(
        &config_path,
        &[
            "upgrade-postgres",
            "--node",
            "1",
            "--id",
            "11",
            "--conninfo",
            &conninfo,
        ],
        "upgrade-postgres",
        &plan,
    );
    let elapsed = lab.run_script(&script, &plan, "upgrade-postgres");
    writer.wait_for_rows_on(11, 20, Duration::from_secs(60));
    let (committed, attempts) = writer.finish();
    let window = report_writes("upgrade-postgres", &attempts, committed.len(), Some((1, 11)));

    let (after_text, upgraded) = load_file(&after);
    assert_eq!(upgraded, plan.next);
    assert!(!upgraded.nodes.contains_key(&NodeId(1)), "{after_text}");
    assert_eq!(upgraded.sets[&SetId(1)].origin, NodeId(11), "{after_text}");
    assert_eq!(
        upgraded.subscriptions[&(SetId(1), NodeId(2))].provider,
        NodeId(11)
    );
    assert_eq!(
        upgraded.subscriptions.keys().collect::<Vec<_>>(),
        vec![&(SetId(1), NodeId(2))],
        "{after_text}"
    );
    lab.assert_catalog_matches(&[2, 11], &plan.next);
    assert_eq!(
        lab.sql(
            1,
            "SELECT count(*) FROM pg_namespace WHERE nspname = '_replication'"
        ),
        "0",
        "Slony-I is still installed on the old server"
    );
    lab.assert_slon_stopped(&cluster, 1);
    lab.running_slon(&upgraded, 11);
    lab.running_slon(&upgraded, 2);
    lab.wait_caught_up(11, 2);
    lab.assert_every_row_everywhere(&[2, 11], 11, &committed);
    assert!(window.is_some(), "the writer never moved from node 1 to node 11");

    // Then the subscriber, node 2, moves to a new server as node 12: no switchover, node
    // 12 receives from node 2's provider, and the origin takes every write meanwhile.
    let writer = Writer::start_at(
        tools.pg("psql"),
        "geekdb".into(),
        vec![(11, lab.port(11))],
        1_000_000,
    );
    writer.wait_for_rows_on(11, 20, Duration::from_secs(60));
    let conninfo12 = lab.conninfo(12);
    let plan12 = Request::UpgradePostgres {
        old: "2".into(),
        node: new_node(12, conninfo12.clone()),
        schema: SchemaSource::Copy,
    }
    .run(&upgraded)
    .unwrap();
    let (script12, after12) = lab.cli_runbook(
        &after,
        &[
            "upgrade-postgres",
            "--node",
            "2",
            "--id",
            "12",
            "--conninfo",
            &conninfo12,
        ],
        "upgrade-postgres-subscriber",
        &plan12,
    );
    let elapsed12 = lab.run_script(&script12, &plan12, "upgrade-postgres-subscriber");
    writer.wait_for_rows_on(11, 20, Duration::from_secs(60));
    let (committed12, attempts12) = writer.finish();
    report_writes(
        "upgrade-postgres (subscriber)",
        &attempts12,
        committed12.len(),
        None,
    );
    assert!(
        attempts12.iter().all(|a| a.ok),
        "the origin refused writes while a subscriber moved"
    );
    let committed: Vec<i64> = committed.into_iter().chain(committed12).collect();
    let (after12_text, upgraded12) = load_file(&after12);
    assert_eq!(upgraded12, plan12.next);
    assert_eq!(
        upgraded12.nodes.keys().collect::<Vec<_>>(),
        vec![&NodeId(11), &NodeId(12)],
        "{after12_text}"
    );
    assert_eq!(
        upgraded12.subscriptions[&(SetId(1), NodeId(12))].provider,
        NodeId(11)
    );
    lab.assert_catalog_matches(&[11, 12], &plan12.next);
    assert_eq!(
        lab.sql(
            2,
            "SELECT count(*) FROM pg_namespace WHERE nspname = '_replication'"
        ),
        "0",
        "Slony-I is still installed on node 2's old server"
    );
    lab.assert_slon_stopped(&upgraded, 2);
    lab.running_slon(&upgraded12, 12);
    lab.wait_caught_up(11, 12);
    lab.assert_every_row_everywhere(&[11, 12], 11, &committed);
    assert_eq!(lab.c.assert_slon_logs_read_their_config(), 4);
    eprintln!(
        "BENCH upgrade-postgres: origin 1 -> 11 (one subscriber) {:.1}s, write-unavailable window {}; subscriber 2 -> 12 {:.1}s, no write refused; test total {:.1}s",
        elapsed.as_secs_f64(),
        window.map_or("not seen".into(), |w| format!("{:.2}s", w.as_secs_f64())),
        elapsed12.as_secs_f64(),
        total.elapsed().as_secs_f64()
    );
}

#[test]
fn e2e_upgrade_slony_patch_release() {
    let Some(tools) = tools_or_skip("e2e_upgrade_slony_patch_release") else {
        return;
    };
    let total = Instant::now();
    let lab = Lab::start(&tools, 3, &[(1, 1), (2, 2), (3, 3)]);
    // Node 3 cascades from node 2, so node 2 keeps the origin's changes in its own
    // sl_log_N too (what 2.2's update functions checks on every node).
    let config_text = lab.config_toml(&[1, 2, 3], &[(2, 1), (3, 2)]);
    let (config_path, cluster) = lab.write_config(&config_text);
    lab.set_up(&cluster, &[1, 2, 3]);
    let writer = Writer::start(tools.pg("psql"), "geekdb".into(), vec![(1, lab.port(1))]);
    writer.wait_for_rows_on(1, 20, Duration::from_secs(60));

    let slons_before: Vec<u32> = [1, 2, 3].iter().map(|&n| lab.running_slon(&cluster, n)).collect();
    let plan = Request::UpgradeSlony {
        to: SlonyVersion::V2_2,
    }
    .run(&cluster)
    .unwrap();
    let (script, after) = lab.cli_runbook(
        &config_path,
        &["upgrade-slony", "--to", "2.2"],
        "upgrade-slony",
        &plan,
    );
    let elapsed = lab.run_script(&script, &plan, "upgrade-slony");
    let (_, upgraded) = load_file(&after);
    assert_eq!(upgraded, plan.next);
    assert_eq!(upgraded.version, SlonyVersion::V2_2);
    let slons_after: Vec<u32> = [1, 2, 3]
        .iter()
        .map(|&n| lab.running_slon(&upgraded, n))
        .collect();
    for (before, after) in slons_before.iter().zip(&slons_after) {
        assert_ne!(before, after, "the runbook restarted every slon");
    }
    // Replication goes on after the upgrade: rows written now reach every node.
    writer.wait_for_rows_on(1, 20, Duration::from_secs(60));
    let (committed, attempts) = writer.finish();
    report_writes("upgrade-slony", &attempts, committed.len(), None);
    assert!(
        attempts.iter().all(|a| a.ok),
        "a patch-level upgrade takes no lock: the origin must take every write"
    );
    for n in [2, 3] {
        lab.wait_caught_up(1, n);
    }
    lab.assert_catalog_matches(&[1, 2, 3], &plan.next);
    lab.assert_every_row_everywhere(&[1, 2, 3], 1, &committed);
    for n in [1, 2, 3] {
        assert_eq!(
            lab.sql(
                n,
                "SELECT _replication.slonyVersionMajor() || '.' || _replication.slonyVersionMinor()"
            ),
            "2.2"
        );
    }

    // The 2.1-to-2.2 plan (what --slony-version 2.1 gives), first check by check: every
    // check's SQL runs on the real 2.2 catalog and answers a sane value (the version checks
    // expect 2.1 and get 2.2 here; the confirm and lock checks answer counts).
    let mut on_21 = upgraded.clone();
    on_21.version = SlonyVersion::V2_1;
    let plan21 = Request::UpgradeSlony {
        to: SlonyVersion::V2_2,
    }
    .run(&on_21)
    .unwrap();
    let mut asked = 0;
    let mut unconfirmed = 0;
    for step in &plan21.steps {
        let Action::Check {
            node, sql, expect, ..
        } = &step.action
        else {
            continue;
        };
        let got = lab
            .psql(node.0, sql)
            .unwrap_or_else(|e| panic!("{}: the SQL fails on the real catalog: {e}\n{sql}", step.title));
        eprintln!(
            "2.1->2.2 check on node {node} ({}): expects {expect}, got {got}",
            step.title
        );
        asked += 1;
        if sql.contains("slonyVersionMajor") {
            assert_eq!(got, "2.2", "{}", step.title);
        } else if step.title.contains("catalog") {
            assert_eq!(&got, expect, "{}", step.title);
        } else {
            let n: u64 = got
                .parse()
                .unwrap_or_else(|_| panic!("{}: not a count: {got:?}", step.title));
            if !sql.contains("txid_snapshot_xmax") {
                assert!(n <= 3, "{}: {n} of 3 nodes", step.title);
            }
            assert_eq!(expect, "0", "{}", step.title);
            if sql.contains("txid_snapshot_xmax") {
                unconfirmed += 1;
                // Nothing is written now: once the subscribers confirm the last SYNC, the
                // query answers 0 exactly when 2.2's own test does.
                lab.c.wait_until(
                    &format!("node {node}'s log tables hold nothing unconfirmed"),
                    Duration::from_secs(60),
                    || lab.psql(node.0, sql).ok().as_deref() == Some("0"),
                );
                assert_eq!(
                    lab.sql(node.0, "SELECT _replication.check_unconfirmed_log()"),
                    "f"
                );
                if node.0 == 1 {
                    drain_query_agrees_with_check_unconfirmed_log(&lab, &upgraded, sql);
                }
            }
        }
    }
    assert!(unconfirmed >= 1, "the 2.1->2.2 plan has no confirm check");
    assert!(asked >= 7, "only {asked} checks");

    // Then the whole 2.1-to-2.2 sequence on the real cluster, under write load: lock, the
    // confirm check, stop the slons, update functions, start them, unlock. Only the checks
    // that node N "runs 2.1" are left out (it runs 2.2), and before update functions a
    // check asks every node what 2.2's update functions itself checks before it rebuilds
    // sl_log_N (`check_unconfirmed_log()`, false once nothing unreplicated is left): the
    // runbook's confirm check must be enough for it on every node, not only the origin.
    let mut plan21_run = plan21.clone();
    plan21_run
        .steps
        .retain(|s| !s.title.ends_with("runs Slony-I 2.1"));
    let update = plan21_run
        .steps
        .iter()
        .position(|s| s.title.starts_with("Update the Slony-I functions"))
        .expect("the plan updates the functions");
    for n in [3, 2, 1] {
        plan21_run.steps.insert(
            update,
            slonik_gen::runbook::Step {
                title: format!("Check that node {n} has no unreplicated log rows (the test's check)"),
                why: "What 2.2's update functions refuses".into(),
                action: Action::Check {
                    node: NodeId(n),
                    sql: "select _replication.check_unconfirmed_log()".into(),
                    expect: "f".into(),
                    wait_seconds: 0,
                },
                only_if: None,
                on_failure: None,
            },
        );
    }
    let writer = Writer::start_at(
        tools.pg("psql"),
        "geekdb".into(),
        vec![(1, lab.port(1))],
        1_000_000,
    );
    writer.wait_for_rows_on(1, 20, Duration::from_secs(60));
    let script21 = plan21_run.render(Format::Shell).unwrap();
    let elapsed21 = lab.run_script(&script21, &plan21_run, "upgrade-slony-2.1-to-2.2");
    writer.wait_for_rows_on(1, 20, Duration::from_secs(60));
    let (committed21, attempts) = writer.finish();
    let committed: Vec<i64> = committed.into_iter().chain(committed21).collect();
    let lock_window = report_writes(
        "upgrade-slony 2.1->2.2 sequence",
        &attempts,
        committed.len(),
        Some((1, 1)),
    );
    assert!(lock_window.is_some(), "the locked set refused no write");
    for n in [2, 3] {
        lab.wait_caught_up(1, n);
    }
    lab.assert_catalog_matches(&[1, 2, 3], &plan21.next);
    lab.assert_every_row_everywhere(&[1, 2, 3], 1, &committed);
    assert_eq!(lab.c.assert_slon_logs_read_their_config(), 3);

    // Last, the 1.2-to-2.2 reinstall (what --slony-version 1.2 gives) on the same cluster,
    // all but its "runs 1.2" checks: with the writes stopped (its outage step), every node
    // is uninstalled, the cluster built again and subscribed again with omit copy; rows
    // written afterwards reach every node and none written before is lost.
    let mut on_12 = plan21.next.clone();
    on_12.version = SlonyVersion::V1_2;
    let plan12 = Request::UpgradeSlony {
        to: SlonyVersion::V2_2,
    }
    .run(&on_12)
    .unwrap();
    let mut plan12_run = plan12.clone();
    plan12_run
        .steps
        .retain(|s| !s.title.ends_with("runs Slony-I 1.2"));
    let script12 = plan12_run.render(Format::Shell).unwrap();
    let elapsed12 = lab.run_script(&script12, &plan12_run, "upgrade-slony-1.2-by-reinstall");
    let mut expected = on_12.clone();
    expected.version = SlonyVersion::V2_2;
    assert_eq!(plan12.next, expected);
    let writer = Writer::start_at(
        tools.pg("psql"),
        "geekdb".into(),
        vec![(1, lab.port(1))],
        2_000_000,
    );
    writer.wait_for_rows_on(1, 20, Duration::from_secs(60));
    let (committed12, attempts) = writer.finish();
    assert!(
        attempts.iter().all(|a| a.ok),
        "the reinstalled origin refused a write"
    );
    let committed: Vec<i64> = committed.into_iter().chain(committed12).collect();
    for n in [2, 3] {
        lab.wait_caught_up(1, n);
    }
    lab.assert_catalog_matches(&[1, 2, 3], &plan12.next);
    lab.assert_every_row_everywhere(&[1, 2, 3], 1, &committed);
    eprintln!(
        "BENCH upgrade-slony --to 2.2 (patch release, 3 nodes): {:.1}s; the 2.1->2.2 sequence {:.1}s, writes refused for {}; the 1.2 reinstall sequence {:.1}s (writes stopped throughout); test total {:.1}s",
        elapsed.as_secs_f64(),
        elapsed21.as_secs_f64(),
        lock_window.map_or("-".into(), |w| format!("{:.2}s", w.as_secs_f64())),
        elapsed12.as_secs_f64(),
        total.elapsed().as_secs_f64()
    );
}

/// With node 3's slon paused (SIGSTOP to its watchdog and worker), a row written and a SYNC made on node 1 are not
/// confirmed by node 3: the upgrade's drain query counts them on node 1 where 2.2's
/// `check_unconfirmed_log()` answers true; once the slon goes on, both clear together.
fn drain_query_agrees_with_check_unconfirmed_log(lab: &Lab, cluster: &Cluster, sql: &str) {
    struct Resumed(Vec<String>);
    impl Drop for Resumed {
        fn drop(&mut self) {
            let _ = Command::new("kill").arg("-CONT").args(&self.0).status();
        }
    }
    // slon's pid file names its watchdog; the worker that confirms events is its child.
    let pid = lab.running_slon(cluster, 3).to_string();
    let children = Command::new("pgrep").args(["-P", &pid]).output().unwrap();
    let mut pids: Vec<String> = String::from_utf8_lossy(&children.stdout)
        .split_whitespace()
        .map(str::to_string)
        .collect();
    assert!(!pids.is_empty(), "slon {pid} has no worker process");
    pids.push(pid);
    let resumed = Resumed(pids.clone());
    assert!(Command::new("kill")
        .arg("-STOP")
        .args(&pids)
        .status()
        .unwrap()
        .success());
    lab.sql(
        1,
        "INSERT INTO geekdb.files VALUES (-1, 'drain probe', 1); DELETE FROM geekdb.files WHERE id = -1",
    );
    lab.sql(
        1,
        &format!("SELECT _replication.createEvent('_{CLUSTER}', 'SYNC', NULL)"),
    );
    lab.c.wait_until(
        "node 2 confirmed the SYNC",
        Duration::from_secs(60),
        || {
            lab.sql(
                1,
                "SELECT count(*) FROM _replication.sl_event e WHERE ev_origin = 1 AND ev_seqno > (SELECT max(con_seqno) FROM _replication.sl_confirm WHERE con_origin = 1 AND con_received = 2)",
            ) == "0"
        },
    );
    let held: u64 = lab.sql(1, sql).parse().expect("a count");
    eprintln!("drain query with node 3's slon paused: {held} unconfirmed log rows on node 1");
    assert!(held >= 2, "the insert and the delete are not counted: {held}");
    assert_eq!(lab.sql(1, "SELECT _replication.check_unconfirmed_log()"), "t");
    drop(resumed);
    lab.c.wait_until(
        "node 3 confirmed everything again",
        Duration::from_secs(60),
        || lab.psql(1, sql).ok().as_deref() == Some("0"),
    );
    assert_eq!(lab.sql(1, "SELECT _replication.check_unconfirmed_log()"), "f");
}
