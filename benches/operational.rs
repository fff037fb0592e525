//! Operational timings on a real cluster (BENCHMARKS.md, "Operational timings on a real
//! cluster"): `SLONIK_GEN_E2E=1 cargo bench --bench operational`. Without
//! `SLONIK_GEN_E2E=1` it prints one line and does nothing, so `cargo bench` stays offline.
//!
//! On the real-cluster harness (`tests/support`: three PostgreSQL 15 + Slony-I 2.2 nodes on
//! 127.0.0.1, the harness's slon settings) it builds set 1 on node 1, subscribed by nodes 2
//! and 3, starts the timed writer of `tests/support/load.rs` (one insert transaction after
//! another, trying node 1 then node 2, each attempt timestamped) and measures, under that
//! load, each figure printed as a `BENCH ...` line:
//!
//! 1. the slonik-gen switchover runbook 1 -> 2, its shell rendering run with bash, and
//!    altperl's `slonik_move_set set1 2 1` piped into slonik on the same cluster, same load
//!    (twice each, alternating): wall time of the runbook or the slonik run, the
//!    write-unavailable window (first write refused on the old origin to first accepted on
//!    the new) and the longest time between two commits (where a write that waited shows);
//! 2. failover: node 1's postmaster stopped immediately, then the failover runbook to node
//!    2: time from the crash to the first write node 2 accepted, and the runbook's wall time;
//! 3. failback of node 1 once it runs again (its Slony schema dropped, then resubscribed
//!    and the set moved back): wall time and write-unavailable window.
//!
//! `SLONIK_GEN_OPERATIONAL_SLON="sync_interval = 2000, sync_interval_timeout = 10000"` runs
//! the slons with those `[slon]` settings instead of the harness's (200 ms and 1000 ms).
//!
//! With each runbook come its steps of a second or more, with their times, and the pauses
//! the slons logged meanwhile (the watchdog's worker restarts, the remote listener's
//! sleeps), which is where most of the time goes. Before each phase every node has
//! confirmed a SYNC of the origin, so no phase inherits the last one's restarts; after an
//! altperl move the time until they have is printed too (its slonik returns before that).
//!
//! Every figure is one run on one machine, printed, never asserted. Every process is
//! stopped by the harness's `Drop`, also on panic. Each phase starts when the writer has
//! put rows on the current origin, and the plans' own checks (every runbook ends by
//! comparing every node's catalog with the plan's next state) make a run that did not
//! do what it says fail instead of timing it; at the end every node holds the same rows.

#[path = "../tests/support/mod.rs"]
mod support;

use std::fs;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::thread;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use slonik_gen::model::{NodeId, SetId};
use slonik_gen::runbook::{Format, Plan, Prepare, Request};
use slonik_gen::{load_config_str, ops, Cluster};
use support::cluster::{tools_or_skip, TestCluster, Tools, SLON_SYNC_INTERVAL, SLON_SYNC_INTERVAL_TIMEOUT};
use support::load::{longest_gap, unavailable, Attempt, Writer};
use support::runbook;

const CLUSTER: &str = "replication";
const SCRIPT_TIMEOUT: Duration = Duration::from_secs(600);
/// Switchover pairs (slonik-gen 1 -> 2, then altperl 2 -> 1).
const ROUNDS: u32 = 2;
/// Rows the writer puts on the current origin before a phase starts and after it ends.
const ROWS: usize = 20;
const ALTPERL_MOVE_SET: &str = "/usr/bin/slonik_move_set";

const SCHEMA: &str = "
    CREATE SCHEMA geekdb;
    CREATE SEQUENCE geekdb.files_id_seq;
    CREATE TABLE geekdb.files (id bigint PRIMARY KEY, name text NOT NULL, written_on int NOT NULL);
    CREATE TABLE geekdb.additional_roll (id bigint PRIMARY KEY, file_id bigint NOT NULL, roll text NOT NULL);
";

fn main() {
    if std::env::var("SLONIK_GEN_E2E").as_deref() != Ok("1") {
        println!("operational: skipped (real-cluster timings; run with SLONIK_GEN_E2E=1)");
        return;
    }
    let Some(tools) = tools_or_skip("operational") else {
        return;
    };
    assert!(
        Path::new(ALTPERL_MOVE_SET).is_file(),
        "SLONIK_GEN_E2E=1 but {ALTPERL_MOVE_SET} is missing: apt-get install slony1-2-bin"
    );
    machine(&tools, "before");
    let total = Instant::now();
    let mut c = TestCluster::start(&tools, 3, "geekdb");
    // The start: nodes 2 and 3 from node 1. The switchover to node 2 re-points node 3 to
    // node 2; altperl's move back leaves it there (and makes node 2 a subscriber of node
    // 1), so the next rounds start from the cascade 1 -> 2 -> 3.
    let cluster = write_config(&c, &config_toml(&c, &[(2, 1), (3, 1)]));
    let cascade = load(&config_toml(&c, &[(2, 1), (3, 2)]));
    let altperl_conf = write_slon_tools_conf(&c);
    set_up(&c, &cluster);

    let writer = Writer::start(
        tools.pg("psql"),
        c.dbname().to_string(),
        vec![(1, c.port(1)), (2, c.port(2))],
    );
    writer.wait_for_rows_on(1, ROWS, Duration::from_secs(60));

    let mut state = cluster.clone();
    for round in 1..=ROUNDS {
        let shape = if round == 1 {
            "node 3 from node 1, re-pointed to node 2"
        } else {
            "node 3 from node 2 already"
        };
        // slonik-gen 1 -> 2.
        let switchover = Request::Switchover {
            sets: vec!["set1".into()],
            from: None,
            to: "2".into(),
        }
        .run(&state)
        .expect("the switchover plan");
        writer.set_targets(vec![(1, c.port(1)), (2, c.port(2))]);
        settle(&c, 1, &[2, 3]);
        let mark = Instant::now();
        let wall = run_plan(&c, &tools, &switchover, &format!("switchover-{round}"));
        settle(&c, 2, &[1, 3]);
        let settled = mark.elapsed();
        writer.wait_for_rows_on(2, ROWS, Duration::from_secs(120));
        report(
            &format!("switchover slonik-gen runbook 1->2 (round {round}, {shape})"),
            wall,
            &since(&writer, mark),
            1,
            2,
        );
        println!(
            "BENCH   every node confirmed a SYNC of node 2 {:.1}s after the runbook started",
            settled.as_secs_f64()
        );
        assert_catalog(&c, &switchover.next);

        // altperl 2 -> 1, on the same cluster under the same load.
        writer.set_targets(vec![(2, c.port(2)), (1, c.port(1))]);
        let mark = Instant::now();
        let wall = altperl_move_set(&c, &tools, &altperl_conf, 2, 1, round);
        settle(&c, 1, &[2, 3]);
        let settled = mark.elapsed();
        writer.wait_for_rows_on(1, ROWS, Duration::from_secs(120));
        report(
            &format!("switchover altperl slonik_move_set 2->1 | slonik (round {round})"),
            wall,
            &since(&writer, mark),
            2,
            1,
        );
        println!(
            "BENCH   every node confirmed a SYNC of node 1 {:.1}s after slonik started",
            settled.as_secs_f64()
        );
        assert_catalog(&c, &cascade);
        state = cascade.clone();
    }

    // Failover: node 1 crashes (immediate shutdown); the application tries node 1, then
    // node 2, which refuses until the failover has made it the origin.
    let failover = Request::Failover {
        dead: vec!["1".into()],
        backup: "2".into(),
        drop_dead: false,
    }
    .run(&state)
    .expect("the failover plan");
    writer.set_targets(vec![(1, c.port(1)), (2, c.port(2))]);
    writer.wait_for_rows_on(1, ROWS, Duration::from_secs(60));
    settle(&c, 1, &[2, 3]);
    let crash = Instant::now();
    c.stop_node_immediate(1);
    let started = Instant::now();
    let wall = run_plan(&c, &tools, &failover, "failover");
    let script_start = started - crash;
    writer.wait_for_rows_on(2, ROWS, Duration::from_secs(120));
    let attempts = since(&writer, crash);
    let first_on_2 = attempts
        .iter()
        .find(|a| a.node == 2 && a.ok)
        .map(|a| a.at - crash);
    println!(
        "BENCH failover 1->2: crash to first write accepted on node 2 {}, runbook wall time {:.1}s (started {:.2}s after the crash), {} attempts refused",
        secs(first_on_2),
        wall.as_secs_f64(),
        script_start.as_secs_f64(),
        attempts.iter().filter(|a| !a.ok).count()
    );
    assert_catalog_on(&c, &[2, 3], &failover.next);

    // Failback: node 1 runs again (with its stale catalog, out of the application's list),
    // its Slony schema is dropped, it is subscribed again and the set moves back.
    c.start_node(1);
    let failback = Request::Failback {
        node: "1".into(),
        sets: Vec::new(),
        prepare: Prepare::DropSchema,
    }
    .run(&failover.next)
    .expect("the failback plan");
    settle(&c, 2, &[3]);
    writer.set_targets(vec![(2, c.port(2)), (1, c.port(1))]);
    let mark = Instant::now();
    let wall = run_plan(&c, &tools, &failback, "failback");
    writer.wait_for_rows_on(1, ROWS, Duration::from_secs(120));
    report(
        "failback of node 1 (drop schema, resubscribe, move back)",
        wall,
        &since(&writer, mark),
        2,
        1,
    );
    assert_catalog(&c, &failback.next);

    let (committed, attempts) = writer.finish();
    let refused = attempts.iter().filter(|a| !a.ok).count();
    settle(&c, 1, &[2, 3]);
    let n = c.table_fingerprint(1, "geekdb.files", "id").0;
    for other in [2, 3] {
        assert_eq!(
            c.table_fingerprint(other, "geekdb.files", "id"),
            c.table_fingerprint(1, "geekdb.files", "id"),
            "node {other} differs from node 1"
        );
    }
    // Asynchronous replication: what node 1 committed just before the crash and had not
    // sent yet is gone with it.
    println!(
        "BENCH writer: {} rows committed in {} attempts ({refused} refused), {n} rows on every node at the end ({} lost in the crash), {:.1} attempts/s; bench total {:.1}s",
        committed.len(),
        attempts.len(),
        committed.len() as i64 - n,
        attempts.len() as f64 / total.elapsed().as_secs_f64(),
        total.elapsed().as_secs_f64()
    );
    let logs = c.assert_slon_logs_read_their_config();
    let settings = std::env::var("SLONIK_GEN_OPERATIONAL_SLON").unwrap_or_else(|_| {
        format!("sync_interval = {SLON_SYNC_INTERVAL}, sync_interval_timeout = {SLON_SYNC_INTERVAL_TIMEOUT}")
    });
    println!("BENCH slon settings: {settings}, the others slon's defaults ({logs} slon logs checked)");
    machine(&tools, "after");
}

/// `YYYY-MM-DD HH:MM:SS` of `t` in UTC, as slon stamps its log lines.
fn utc(t: SystemTime) -> String {
    let secs = t.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let (days, rem) = (secs / 86_400, secs % 86_400);
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02}:{:02}",
        rem / 3600,
        rem / 60 % 60,
        rem % 60
    )
}

/// The pauses slon logged between `from` and `to` (whole seconds, both included): the
/// watchdog's worker restarts ("restart of worker in N seconds") and the remote
/// listener's waits ("sleep N seconds"), per node, e.g. `node 3 worker restart 20s`.
fn slon_pauses(c: &TestCluster, from: SystemTime, to: SystemTime) -> String {
    let (from, to) = (utc(from), utc(to));
    let mut logs: Vec<PathBuf> = fs::read_dir(c.dir().join("slon/log"))
        .map(|d| d.filter_map(|e| e.ok()).map(|e| e.path()).collect())
        .unwrap_or_default();
    logs.sort();
    let mut found = Vec::new();
    for log in logs {
        let node = log
            .file_stem()
            .and_then(|s| s.to_str())
            .and_then(|s| s.rsplit("node").next())
            .unwrap_or("?")
            .to_string();
        let text = fs::read_to_string(&log).unwrap_or_default();
        for line in text.lines() {
            let Some(stamp) = line.get(..19) else { continue };
            if stamp < from.as_str() || stamp > to.as_str() {
                continue;
            }
            let seconds = |rest: &str| rest.split_whitespace().next().unwrap_or("?").to_string();
            if let Some((_, rest)) = line.split_once("restart of worker in ") {
                found.push(format!(
                    "node {node} worker restart {}s ({})",
                    seconds(rest),
                    &stamp[11..]
                ));
            } else if let Some((head, rest)) = line.split_once(" sleep ") {
                if rest.ends_with("seconds") {
                    // `... UTC WARN   remoteListenThread_1: no conninfo -`: the thread's words.
                    let what = head.rsplit("UTC ").next().unwrap_or(head).trim();
                    let what = what.split_once(' ').map_or(what, |(_, w)| w).trim();
                    let what = what.trim_end_matches('-').trim();
                    found.push(format!(
                        "node {node} {what} {}s ({})",
                        seconds(rest),
                        &stamp[11..]
                    ));
                }
            }
        }
    }
    if found.is_empty() {
        "none".to_string()
    } else {
        found.join(", ")
    }
}

/// The attempts the writer made since `mark`.
fn since(writer: &Writer, mark: Instant) -> Vec<Attempt> {
    writer
        .attempts()
        .into_iter()
        .filter(|a| a.started >= mark)
        .collect()
}

/// One `BENCH` line for a move of the origin from `old` to `new`.
fn report(what: &str, wall: Duration, attempts: &[Attempt], old: u32, new: u32) {
    println!(
        "BENCH {what}: wall time {:.1}s, write-unavailable window {}, longest time between two commits {}, {} attempts refused",
        wall.as_secs_f64(),
        secs(unavailable(attempts, old, new)),
        secs(longest_gap(attempts)),
        attempts.iter().filter(|a| !a.ok).count()
    );
}

fn secs(d: Option<Duration>) -> String {
    d.map_or_else(|| "not seen".to_string(), |d| format!("{:.2}s", d.as_secs_f64()))
}

/// The machine the figures come from: cores, load, kernel, the tools' versions.
fn machine(tools: &Tools, when: &str) {
    let load = fs::read_to_string("/proc/loadavg").unwrap_or_default();
    let load: Vec<&str> = load.split_whitespace().take(3).collect();
    let cores = thread::available_parallelism().map_or(0, |n| n.get());
    let version = |program: &Path, arg: &str| {
        Command::new(program)
            .arg(arg)
            .output()
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
            .unwrap_or_default()
    };
    println!(
        "BENCH machine ({when}): {cores} cores, load average {}, {}; {}; slonik {}",
        load.join(" "),
        version(Path::new("uname"), "-sr"),
        version(&tools.pg("postgres"), "--version"),
        version(&tools.slonik, "-v"),
    );
}

/// The scenario's cluster on the harness's nodes: set 1 (`geekdb.files`,
/// `geekdb.additional_roll`, `geekdb.files_id_seq`) on node 1, `subscriptions` (receiver,
/// provider), forwarding; the slons as the harness's `[daemon]` says, with its `[slon]`
/// table or, when `SLONIK_GEN_OPERATIONAL_SLON` is set, that one (its `key = value`
/// settings separated by commas, e.g. `sync_interval = 2000, sync_interval_timeout = 10000`).
fn config_toml(c: &TestCluster, subscriptions: &[(u32, u32)]) -> String {
    let mut daemon = c.slon_daemon_toml();
    if let Ok(settings) = std::env::var("SLONIK_GEN_OPERATIONAL_SLON") {
        let at = daemon
            .find("[slon]\n")
            .expect("the harness writes a [slon] table");
        daemon.truncate(at);
        daemon.push_str("[slon]\n");
        for setting in settings.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            daemon.push_str(setting);
            daemon.push('\n');
        }
    }
    let mut toml = format!(
        "cluster = \"{CLUSTER}\"\nslony_version = \"2.2\"\ndefault_origin = 1\nwait_timeout = 300\n\n{daemon}"
    );
    for n in 1..=3 {
        toml.push_str(&format!(
            "\n[[node]]\nid = {n}\nname = \"node{n}\"\nhost = \"127.0.0.1\"\nport = {}\ndbname = \"{}\"\nuser = \"postgres\"\n",
            c.port(n),
            c.dbname()
        ));
    }
    toml.push_str(
        "\n[[set]]\nid = 1\nname = \"set1\"\norigin = 1\ndefault_schema = \"geekdb\"\ntables = [\"files\", \"additional_roll\"]\nsequences = [\"files_id_seq\"]\n",
    );
    for &(receiver, provider) in subscriptions {
        toml.push_str(&format!(
            "\n[[subscription]]\nset = \"set1\"\nreceiver = {receiver}\nprovider = {provider}\nforward = true\n"
        ));
    }
    toml
}

/// The same cluster as altperl's `slon_tools.conf`, for `slonik_move_set`.
fn write_slon_tools_conf(c: &TestCluster) -> PathBuf {
    let mut conf = format!("$CLUSTER_NAME = '{CLUSTER}';\n$MASTERNODE = 1;\n");
    for n in 1..=3 {
        conf.push_str(&format!(
            "add_node(node => {n}, host => '127.0.0.1', dbname => '{}', port => {}, user => 'postgres');\n",
            c.dbname(),
            c.port(n)
        ));
    }
    conf.push_str(
        "$SLONY_SETS = {\n    \"set1\" => {\n        \"set_id\" => 1,\n        \"table_id\" => 1,\n        \"sequence_id\" => 1,\n        \"pkeyedtables\" => [\"geekdb.files\", \"geekdb.additional_roll\"],\n        \"sequences\" => [\"geekdb.files_id_seq\"],\n    },\n};\n1;\n",
    );
    let path = c.dir().join("slon_tools.conf");
    fs::write(&path, conf).expect("write slon_tools.conf");
    path
}

/// Writes the config to `geekdb.toml` and every node's slon file with
/// `slonik-gen slon-conf --all --dir`, as an operator would; returns the cluster.
fn write_config(c: &TestCluster, text: &str) -> Cluster {
    let path = c.dir().join("geekdb.toml");
    fs::write(&path, text).expect("write the config");
    let cluster = load(text);
    runbook::write_slon_confs(&path, &cluster);
    cluster
}

fn load(text: &str) -> Cluster {
    load_config_str(text, "operational.toml").unwrap_or_else(|e| panic!("{e}\n{text}"))
}

/// The schema everywhere, the cluster and set 1 with the library's operations, the slons
/// started with the model's command (as a runbook's slon step does), every subscription.
fn set_up(c: &TestCluster, cluster: &Cluster) {
    c.sql_all(SCHEMA);
    c.slonik_ok(&ops::init_cluster(cluster).unwrap().script.render().unwrap());
    c.slonik_ok(
        &ops::create_set(cluster, SetId(1))
            .unwrap()
            .script
            .render()
            .unwrap(),
    );
    for &node in cluster.nodes.keys() {
        runbook::start_slon(c, cluster, node);
    }
    let mut state = cluster.clone();
    for receiver in [NodeId(2), NodeId(3)] {
        let change = ops::subscribe_set(&state, SetId(1), receiver).unwrap();
        c.slonik_ok(&change.script.render().unwrap());
        state = change.next;
    }
}

/// What a script printed, and when: each line with the time since the start.
struct Output {
    lines: Vec<(Duration, String)>,
    elapsed: Duration,
}

impl Output {
    fn text(&self) -> String {
        self.lines.iter().map(|(_, l)| format!("{l}\n")).collect()
    }

    /// Each runbook step (`==> Step N/M: TITLE`) with how long it ran.
    fn steps(&self) -> Vec<(String, Duration)> {
        let starts: Vec<(Duration, &str)> = self
            .lines
            .iter()
            .filter_map(|(at, l)| l.strip_prefix("==> Step ").map(|t| (*at, t)))
            .collect();
        starts
            .iter()
            .enumerate()
            .map(|(i, (at, title))| {
                let end = starts.get(i + 1).map_or(self.elapsed, |(next, _)| *next);
                (title.to_string(), end - *at)
            })
            .collect()
    }
}

/// Runs `script` with bash in the cluster directory (the harness's slonik and psql first on
/// PATH), stderr with stdout, each line timestamped as it comes (and kept in `NAME.out`).
/// Panics with the output and the logs unless it succeeds within [`SCRIPT_TIMEOUT`].
fn bash(c: &TestCluster, tools: &Tools, script: &str, name: &str) -> Output {
    let dir = c.dir();
    let path = dir.join(format!("{name}.sh"));
    fs::write(&path, script).expect("write the script");
    let started = Instant::now();
    let mut child = runbook::command(tools, dir)
        .arg("-c")
        .arg(r#"exec 2>&1; exec bash "$0""#)
        .arg(&path)
        .stdout(Stdio::piped())
        .spawn()
        .expect("run bash");
    let stdout = child.stdout.take().expect("piped stdout");
    let reader = thread::spawn(move || {
        BufReader::new(stdout)
            .lines()
            .map_while(Result::ok)
            .map(|line| (started.elapsed(), line))
            .collect::<Vec<_>>()
    });
    let status = runbook::wait(child, started, SCRIPT_TIMEOUT);
    let elapsed = started.elapsed();
    // A slon the script started holds no copy of the pipe (the model's start command
    // redirects its output to the log file), so the reader ends with bash.
    let lines = reader.join().expect("the output reader");
    let output = Output { lines, elapsed };
    let _ = fs::write(dir.join(format!("{name}.out")), output.text());
    if !status.is_some_and(|s| s.success()) {
        panic!(
            "{name} failed after {:.1}s:\n{}\n{}",
            elapsed.as_secs_f64(),
            output.text(),
            c.log_tails(40)
        );
    }
    output
}

/// Runs a plan's shell rendering, as `tests/runbook_e2e.rs` does; returns its wall time.
/// Prints every step of a second or more with its time.
fn run_plan(c: &TestCluster, tools: &Tools, plan: &Plan, name: &str) -> Duration {
    let script = plan.render(Format::Shell).expect("the plan renders");
    let from = SystemTime::now();
    let output = bash(c, tools, &script, name);
    let pauses = slon_pauses(c, from, SystemTime::now());
    let text = output.text();
    assert!(text.contains("Runbook finished: every step succeeded."), "{text}");
    let steps = output.steps();
    let slow: Vec<String> = steps
        .iter()
        .filter(|(_, d)| *d >= Duration::from_secs(1))
        .map(|(title, d)| format!("{title} {:.1}s", d.as_secs_f64()))
        .collect();
    println!(
        "BENCH   {name}: started {} UTC, {} steps; those of 1 s or more: {}; slon pauses meanwhile: {pauses}",
        utc(from),
        steps.len(),
        if slow.is_empty() {
            "none".to_string()
        } else {
            slow.join("; ")
        }
    );
    output.elapsed
}

/// `slonik_move_set --config CONF set1 FROM TO | slonik`, as an altperl user runs it;
/// returns the pipeline's wall time.
fn altperl_move_set(c: &TestCluster, tools: &Tools, conf: &Path, from: u32, to: u32, round: u32) -> Duration {
    let q = |p: &Path| format!("'{}'", p.display().to_string().replace('\'', r"'\''"));
    let script = format!(
        "set -euo pipefail\nunset SLONYNODES SLONYSET\n{ALTPERL_MOVE_SET} --config {} set1 {from} {to} | {}\n",
        q(conf),
        q(&tools.slonik)
    );
    let name = format!("altperl-move-set-{round}");
    let from = SystemTime::now();
    let elapsed = bash(c, tools, &script, &name).elapsed;
    // What the slons go through after slonik has returned shows in the next phase.
    println!(
        "BENCH   {name}: started {} UTC; slon pauses meanwhile: {}",
        utc(from),
        slon_pauses(c, from, SystemTime::now())
    );
    elapsed
}

/// Waits until every node of `nodes` has confirmed a SYNC that `origin` makes now: they
/// have processed every event before it (a move included), so the next phase does not
/// inherit this one's worker restarts. Returns how long that took.
fn settle(c: &TestCluster, origin: u32, nodes: &[u32]) -> Duration {
    let started = Instant::now();
    let seqno = c.sql(
        origin,
        &format!("SELECT \"_{CLUSTER}\".createEvent('_{CLUSTER}', 'SYNC', NULL)"),
    );
    for &n in nodes.iter().filter(|&&n| n != origin) {
        c.wait_until(
            &format!("node {n} confirmed SYNC {seqno} of node {origin}"),
            Duration::from_secs(180),
            || {
                c.psql(
                    origin,
                    &format!("SELECT coalesce(max(con_seqno), 0) >= {seqno} FROM \"_{CLUSTER}\".sl_confirm WHERE con_origin = {origin} AND con_received = {n}"),
                )
                .ok()
                .as_deref()
                    == Some("t")
            },
        );
    }
    started.elapsed()
}

/// Every node's catalog shows `next`'s set origins and subscriptions.
fn assert_catalog(c: &TestCluster, next: &Cluster) {
    assert_catalog_on(c, &[1, 2, 3], next);
}

fn assert_catalog_on(c: &TestCluster, nodes: &[u32], next: &Cluster) {
    let sets = next
        .sets
        .values()
        .map(|s| format!("{}|{}", s.id, s.origin))
        .collect::<Vec<_>>()
        .join("\n");
    let subscriptions = next
        .subscriptions
        .values()
        .map(|s| format!("{}|{}|{}|t", s.set, s.provider, s.receiver))
        .collect::<Vec<_>>()
        .join("\n");
    for &n in nodes {
        c.wait_until(
            &format!("the catalog on node {n} shows origin and subscriptions {sets} / {subscriptions}"),
            Duration::from_secs(60),
            || {
                c.psql(n, "SELECT set_id, set_origin FROM _replication.sl_set ORDER BY 1").ok().as_deref()
                    == Some(sets.as_str())
                    && c.psql(n, "SELECT sub_set, sub_provider, sub_receiver, sub_active FROM _replication.sl_subscribe ORDER BY 1, 3")
                        .ok()
                        .as_deref()
                        == Some(subscriptions.as_str())
            },
        );
    }
}
