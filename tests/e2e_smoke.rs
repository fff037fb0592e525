//! End-to-end smoke test on real PostgreSQL + Slony-I: a three-node cascade
//! (1 -> 2 -> 3) built with hand-written slonik scripts.
mod support;

use std::net::TcpStream;
use std::process::Command;
use std::time::{Duration, Instant};

use support::cluster::{processes_using_dir, tools_or_skip, TestCluster};

const CLUSTER: &str = "replication";

#[test]
fn e2e_smoke() {
    let Some(tools) = tools_or_skip("e2e_smoke") else {
        return;
    };
    let started = Instant::now();
    let mut c = TestCluster::start(&tools, 3, "geekdb");
    eprintln!("cluster up in {:.2}s", started.elapsed().as_secs_f64());
    let header = c.slonik_header(CLUSTER, &[1, 2, 3]);

    // Nodes and paths (every ordered pair).
    let mut script = header.clone();
    script.push_str("init cluster (id = 1, comment = 'node 1');\n");
    for n in [2, 3] {
        script.push_str(&format!(
            "store node (id = {n}, comment = 'node {n}', event node = 1);\n"
        ));
    }
    for server in 1..=3 {
        for client in 1..=3 {
            if server != client {
                script.push_str(&format!(
                    "store path (server = {server}, client = {client}, conninfo = '{}');\n",
                    c.conninfo(server)
                ));
            }
        }
    }
    c.slonik_ok(&script);

    // Same schema everywhere; the set with its table, rolled back on failure.
    c.sql_all(
        "CREATE SCHEMA geekdb;
         CREATE TABLE geekdb.files (id integer PRIMARY KEY, name text NOT NULL);",
    );
    c.slonik_ok(&format!(
        "{header}
create set (id = 1, origin = 1, comment = 'geekdb files');
try {{
    set add table (set id = 1, origin = 1, id = 1,
                   full qualified name = '\"geekdb\".\"files\"', comment = 'files');
}} on error {{
    echo 'could not add the tables; dropping set 1';
    drop set (id = 1, origin = 1);
    exit 1;
}}
"
    ));

    for n in 1..=3 {
        c.start_slon(CLUSTER, n);
    }
    // Rows written before the subscription are copied, rows after it replicated.
    c.sql(
        1,
        "INSERT INTO geekdb.files SELECT g, 'before ' || g FROM generate_series(1, 50) g",
    );
    let t = Instant::now();
    c.slonik_ok(&format!(
        "{header}
subscribe set (id = 1, provider = 1, receiver = 2, forward = yes);
sync (id = 1);
wait for event (origin = 1, confirmed = 2, wait on = 1, timeout = 120);
subscribe set (id = 1, provider = 2, receiver = 3, forward = yes);
sync (id = 1);
wait for event (origin = 1, confirmed = all, wait on = 1, timeout = 120);
"
    ));
    eprintln!("subscriptions done in {:.2}s", t.elapsed().as_secs_f64());
    assert_eq!(
        c.sql(1, "SELECT sub_set, sub_provider, sub_receiver, sub_forward, sub_active FROM _replication.sl_subscribe ORDER BY sub_receiver"),
        "1|1|2|t|t\n1|2|3|t|t"
    );

    c.sql(
        1,
        "INSERT INTO geekdb.files SELECT g, 'after ' || g FROM generate_series(51, 100) g",
    );
    let t = Instant::now();
    c.wait_until("the 100 rows reach node 3", Duration::from_secs(60), || {
        c.psql(3, "SELECT count(*) FROM geekdb.files").as_deref() == Ok("100")
    });
    eprintln!("rows reached node 3 in {:.2}s", t.elapsed().as_secs_f64());
    let origin = c.table_fingerprint(1, "geekdb.files", "id");
    assert_eq!(origin.0, 100);
    c.wait_until("node 2 matches node 1", Duration::from_secs(30), || {
        c.table_fingerprint(2, "geekdb.files", "id") == origin
    });
    assert_eq!(c.table_fingerprint(3, "geekdb.files", "id"), origin);
    // Subscribers are read-only for replicated tables.
    let err = c
        .psql(3, "INSERT INTO geekdb.files VALUES (1000, 'x')")
        .expect_err("writes on a subscriber must fail");
    assert!(err.contains("Slony-I"), "unexpected error: {err}");

    // Drop must stop every process of this cluster.
    let dir = c.dir().to_path_buf();
    let ports: Vec<u16> = (1..=3).map(|n| c.port(n)).collect();
    let pids = c.pids();
    assert_eq!(pids.len(), 6, "3 postmasters and 3 slons");
    drop(c);
    assert_eq!(processes_using_dir(&dir), Vec::<u32>::new());
    let pgrep = Command::new("pgrep")
        .args(["-u", "postgres", "-a"])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).to_string())
        .unwrap_or_default();
    for pid in pids {
        assert!(
            !pgrep
                .lines()
                .any(|l| l.split_whitespace().next() == Some(&pid.to_string())),
            "pid {pid} still running:\n{pgrep}"
        );
    }
    assert!(!pgrep.contains(dir.to_string_lossy().as_ref()), "{pgrep}");
    for port in ports {
        assert!(
            TcpStream::connect(("127.0.0.1", port)).is_err(),
            "port {port} still accepts connections"
        );
    }
    eprintln!("e2e_smoke total {:.2}s", started.elapsed().as_secs_f64());
}
