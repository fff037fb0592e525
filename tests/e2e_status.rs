//! `slonik-gen status` on a real two-node Slony-I 2.2 cluster (tests/support/cluster.rs):
//! the subscription shows active with small lag (exit 0 under `--max-lag`); with node 2's
//! slon stopped the lag rises past the threshold (exit 3, node 2 named); with it started
//! again the lag falls (exit 0); a node on a closed port and one that never answers are
//! reported and exit 1 within the connect timeout.

mod support;

use std::process::{Command, Output};
use std::time::{Duration, Instant};

use support::cluster::{tools_or_skip, TestCluster};
use support::replicate::replicate;

const CLUSTER: &str = "replication";
/// Stored in node 2's admin connection; must never appear in any output.
const PASSWORD: &str = "status_pw_secret";

/// One `[[node]]` table on 127.0.0.1.
fn node_toml(id: u32, name: &str, port: u16, password: Option<&str>) -> String {
    let password = password
        .map(|p| format!("password = \"{p}\"\n"))
        .unwrap_or_default();
    format!(
        "\n[[node]]\nid = {id}\nname = \"{name}\"\nhost = \"127.0.0.1\"\nport = {port}\ndbname = \"geekdb\"\nuser = \"postgres\"\n{password}"
    )
}

/// The config of the harness's two nodes (node 2 with a password), set 1 subscribed by
/// node 2, plus nodes 3 (with a password, to be redacted in its error) and 4 on
/// `extra_ports`.
fn config_toml(c: &TestCluster, extra_ports: Option<(u16, u16)>) -> String {
    let mut text = format!("cluster = \"{CLUSTER}\"\nwait_timeout = 120\n");
    text.push_str(&node_toml(1, "MasNod", c.port(1), None));
    text.push_str(&node_toml(2, "SlaNod", c.port(2), Some(PASSWORD)));
    if let Some((closed, silent)) = extra_ports {
        text.push_str(&node_toml(3, "Gone", closed, Some(PASSWORD)));
        text.push_str(&node_toml(4, "Silent", silent, None));
    }
    text.push_str(
        "\n[[set]]\nid = 1\nname = \"set1\"\ndefault_schema = \"geekdb\"\ntables = [\"files\"]\n\n[[subscription]]\nset = \"set1\"\nreceiver = 2\n",
    );
    text
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn status(config: &str, args: &[&str]) -> Output {
    let out = Command::new(env!("CARGO_BIN_EXE_slonik-gen"))
        .args(["--config", config, "status"])
        .args(args)
        .output()
        .expect("runs");
    for stream in [&out.stdout, &out.stderr] {
        assert!(!text(stream).contains(PASSWORD), "{}", text(stream));
    }
    out
}

/// Polls `status --max-lag` every half second until it exits with `code`.
fn wait_for_exit(c: &TestCluster, config: &str, max_lag: &str, code: i32, what: &str) -> Output {
    wait_for(c, config, max_lag, code, what, |_| true)
}

/// [`wait_for_exit`], until `stderr_says` also holds for the verdict line: with node 2's
/// slon stopped, either row of sl_status may cross the threshold first.
fn wait_for(
    c: &TestCluster,
    config: &str,
    max_lag: &str,
    code: i32,
    what: &str,
    stderr_says: impl Fn(&str) -> bool,
) -> Output {
    let mut last = None;
    c.wait_until(what, Duration::from_secs(40), || {
        let out = status(config, &["--max-lag", max_lag]);
        let done = out.status.code() == Some(code) && stderr_says(&text(&out.stderr));
        last = Some(out);
        if !done {
            std::thread::sleep(Duration::from_millis(300));
        }
        done
    });
    last.expect("ran at least once")
}

#[test]
fn e2e_status_reports_lag_rising_and_falling_and_unreachable_nodes() {
    let Some(tools) = tools_or_skip("e2e_status_reports_lag_rising_and_falling_and_unreachable_nodes") else {
        return;
    };
    let started = Instant::now();
    let mut c = TestCluster::start(&tools, 2, "geekdb");
    c.sql_all("create schema geekdb; create table geekdb.files (id serial primary key, name text);");
    let config_text = config_toml(&c, None);
    let built = replicate(&mut c, &config_text);
    let config = built.config();
    eprintln!("cluster subscribed in {:.1}s", started.elapsed().as_secs_f64());

    // 1. Healthy: both nodes read, slons connected, the subscription active, lag small.
    let t = Instant::now();
    let out = wait_for_exit(&c, config, "60", 0, "status is ok with --max-lag 60");
    let report = text(&out.stdout);
    assert!(
        report.contains("cluster replication: 2 nodes, 2 reachable"),
        "{report}"
    );
    assert!(
        report.contains("node 1 (MasNod): reachable, Slony-I 2.2."),
        "{report}"
    );
    assert!(report.contains("node 2 (SlaNod): reachable"), "{report}");
    assert!(report.contains("slon connected"), "{report}");
    assert!(report.contains("set 1: origin node 1, not locked"), "{report}");
    assert!(
        report.contains("set 1: node 1 -> node 2, forward, active"),
        "{report}"
    );
    assert!(report.contains("node 1 -> node 2: "), "{report}");
    assert!(text(&out.stderr).contains("STATUS OK"), "{}", text(&out.stderr));
    let json = status(config, &["--format", "json"]);
    assert_eq!(json.status.code(), Some(0), "{}", text(&json.stderr));
    let value: serde_json::Value = serde_json::from_slice(&json.stdout).expect("valid JSON");
    assert_eq!(value["subscriptions"][0]["active"], true, "{value}");
    assert_eq!(value["nodes"][1]["reachable"], true, "{value}");
    assert!(
        value["lag"]
            .as_array()
            .is_some_and(|rows| rows.iter().any(|r| r["origin"] == 1
                && r["receiver"] == 2
                && r["seconds"].as_f64().is_some_and(|s| s < 60.0))),
        "{value}"
    );
    eprintln!("{report}");
    eprintln!("healthy status in {:.1}s", t.elapsed().as_secs_f64());

    // 2. Node 2's slon stops; writes on the origin make events node 2 never confirms.
    let t = Instant::now();
    c.stop_slon(2);
    c.sql(
        1,
        "insert into geekdb.files (name) select 'row ' || g from generate_series(1, 100) g",
    );
    let names_node_2_behind = |stderr: &str| {
        stderr
            .trim_end()
            .split(", ")
            .any(|part| part.contains("node 2 is ") && part.contains("behind node 1"))
    };
    let out = wait_for(
        &c,
        config,
        "3",
        3,
        "status reports node 2 over 3 s behind",
        names_node_2_behind,
    );
    let stderr = text(&out.stderr);
    // Node 2's own sl_status (2 -> 1) may be over too: without its slon, node 2 never
    // learns node 1's confirmations. Node 2 behind node 1 must be named either way.
    assert!(stderr.contains("STATUS LAG: "), "{stderr}");
    assert!(
        stderr
            .trim_end()
            .split(", ")
            .any(|part| part.contains("node 2 is ") && part.contains("behind node 1")),
        "{stderr}"
    );
    let report = text(&out.stdout);
    assert!(report.contains("node 2: no slon is connected"), "{report}");
    eprintln!("{report}{stderr}");
    eprintln!("lag over 3 s reported in {:.1}s", t.elapsed().as_secs_f64());

    // 3. It starts again and catches up.
    let t = Instant::now();
    c.start_slon(CLUSTER, 2);
    let out = wait_for_exit(&c, config, "3", 0, "status is ok again with --max-lag 3");
    assert!(text(&out.stderr).contains("STATUS OK"), "{}", text(&out.stderr));
    eprintln!("lag back under 3 s in {:.1}s", t.elapsed().as_secs_f64());

    // 4. A node on a closed port and one whose server accepts the connection and never
    // answers: both reported, the rest still shown, exit 1, no hang.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let closed_port = closed.local_addr().unwrap().port();
    drop(closed);
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let silent_port = silent.local_addr().unwrap().port();
    let four = built.dir.path().join("four.toml");
    std::fs::write(&four, config_toml(&c, Some((closed_port, silent_port)))).unwrap();
    let t = Instant::now();
    let out = status(
        four.to_str().unwrap(),
        &["--max-lag", "60", "--connect-timeout", "2"],
    );
    let elapsed = t.elapsed();
    drop(silent);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    assert!(elapsed < Duration::from_secs(6), "took {elapsed:?}");
    let report = text(&out.stdout);
    assert!(report.contains("4 nodes, 2 reachable"), "{report}");
    assert!(
        report.contains(&format!("node 3 (Gone): UNREACHABLE at host=127.0.0.1 port={closed_port} dbname=geekdb user=postgres password=***: cannot connect")),
        "{report}"
    );
    assert!(report.contains("node 4 (Silent): UNREACHABLE at "), "{report}");
    assert!(report.contains("no answer within 2 s"), "{report}");
    assert!(
        report.contains("node 1 -> node 2: "),
        "the reachable part is still shown:\n{report}"
    );
    assert!(
        text(&out.stderr).contains("STATUS ERROR: cannot read node 3, node 4"),
        "{}",
        text(&out.stderr)
    );
    eprintln!("{report}");
    eprintln!("unreachable node reported in {:.2}s", elapsed.as_secs_f64());
    eprintln!("e2e_status total {:.1}s", started.elapsed().as_secs_f64());
}
