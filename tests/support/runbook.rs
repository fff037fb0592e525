//! Running a generated runbook's shell script against the harness's nodes: with the
//! harness's `slonik` and `psql` (SLONIK, PSQL, PATH), output kept in the cluster's
//! directory, killed after a timeout; and a node's slon started the way a runbook's slon
//! step starts it.
#![allow(dead_code)]

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use slonik_gen::model::NodeId;
use slonik_gen::runbook::Plan;
use slonik_gen::slon::run::SlonRun;
use slonik_gen::Cluster;

use super::cluster::{TestCluster, Tools};
use super::slon_log;

/// How long one runbook may run before it is killed.
pub const SCRIPT_TIMEOUT: Duration = Duration::from_secs(900);

/// Writes `script` to `dir/NAME.sh` and runs it with bash; returns whether it succeeded,
/// its output (stdout and stderr, in `dir/NAME.out`) and its wall time.
pub fn bash(script: &str, dir: &Path, name: &str, tools: &Tools) -> (bool, String, Duration) {
    let path = dir.join(format!("{name}.sh"));
    fs::write(&path, script).expect("write the runbook");
    let out_path = dir.join(format!("{name}.out"));
    let out = fs::File::create(&out_path).expect("create the output file");
    let err = out.try_clone().expect("dup");
    let started = Instant::now();
    let child = command(tools, dir)
        .arg(&path)
        .stdout(out)
        .stderr(err)
        .spawn()
        .expect("run bash");
    let status = wait(child, started, SCRIPT_TIMEOUT);
    let elapsed = started.elapsed();
    let output = fs::read_to_string(&out_path).unwrap_or_default();
    (status.is_some_and(|s| s.success()), output, elapsed)
}

/// `bash` in `dir` with the harness's tools: `SLONIK` and `PSQL` set, the harness's
/// PostgreSQL first on `PATH` (pg_dump, pg_restore), stdin closed. The caller adds the
/// script's arguments and where its output goes.
pub fn command(tools: &Tools, dir: &Path) -> Command {
    let mut command = Command::new("bash");
    command
        .current_dir(dir)
        .env("SLONIK", &tools.slonik)
        .env("PSQL", tools.pg("psql"))
        .env(
            "PATH",
            format!(
                "{}:{}",
                tools.pg_bin.display(),
                std::env::var("PATH").unwrap_or_default()
            ),
        )
        .stdin(Stdio::null());
    command
}

/// Waits for `child`, started at `started`; kills it once `timeout` has passed (`None`).
pub fn wait(mut child: Child, started: Instant, timeout: Duration) -> Option<ExitStatus> {
    loop {
        if let Some(status) = child.try_wait().expect("wait for bash") {
            return Some(status);
        }
        if started.elapsed() > timeout {
            let _ = child.kill();
            let _ = child.wait();
            return None;
        }
        thread::sleep(Duration::from_millis(20));
    }
}

/// Starts the slon of `node` with the model's own command, as a runbook's slon step does
/// (as the current user), and waits until it has listed the options it read without a
/// complaint.
pub fn start_slon(c: &TestCluster, cluster: &Cluster, node: NodeId) {
    let run = SlonRun::of(cluster, node).expect("the node's slon settings");
    let command = run.start_shell();
    let status = Command::new("bash")
        .arg("-c")
        .arg(&command)
        .current_dir(c.dir())
        .status()
        .expect("run bash");
    assert!(status.success(), "{command}");
    let log = PathBuf::from(run.log_file.expect("the harness's slons log to a file"));
    let read = || fs::read_to_string(&log).unwrap_or_default();
    c.wait_until(
        &format!("the slon of node {node} listed the options it read"),
        Duration::from_secs(30),
        || slon_log::listed_its_options(&read()) || !slon_log::config_complaints(&read()).is_empty(),
    );
    slon_log::assert_read_its_config(&read(), &log.display().to_string());
}

/// [`bash`], then a panic with the script's output and the cluster's logs unless it
/// succeeded and said that every step did; prints its wall time (with the steps of `plan`
/// when given) and returns it.
pub fn run_ok(c: &TestCluster, tools: &Tools, script: &str, name: &str, plan: Option<&Plan>) -> Duration {
    let (ok, output, elapsed) = bash(script, c.dir(), name, tools);
    let steps = plan.map_or_else(String::new, |p| {
        format!(" ({}): {} steps,", p.title, p.steps.len())
    });
    eprintln!("runbook {name}{steps} wall time {:.1}s", elapsed.as_secs_f64());
    if !ok {
        panic!(
            "runbook {name} failed after {:.1}s:\n{output}\n{}",
            elapsed.as_secs_f64(),
            c.log_tails(40)
        );
    }
    assert!(
        output.contains("Runbook finished: every step succeeded."),
        "{output}"
    );
    elapsed
}

/// The one directory that holds every node's slon config file (the harness gives every
/// node the same `conf_dir`).
pub fn conf_dir(cluster: &Cluster) -> PathBuf {
    let dirs: BTreeSet<PathBuf> = cluster
        .nodes
        .keys()
        .filter_map(|&n| {
            Path::new(
                &SlonRun::of(cluster, n)
                    .expect("the node's slon settings")
                    .conf_file,
            )
            .parent()
            .map(Path::to_path_buf)
        })
        .collect();
    assert_eq!(dirs.len(), 1, "one conf_dir for every node: {dirs:?}");
    dirs.into_iter().next().expect("one directory")
}

/// Writes every node's slon config file with the binary, as an operator would
/// (`slonik-gen --config CONFIG slon-conf --all --dir` into [`conf_dir`]); fails unless
/// the command succeeded and each node's file is there.
pub fn write_slon_confs(config: &Path, cluster: &Cluster) {
    let out = Command::new(env!("CARGO_BIN_EXE_slonik-gen"))
        .arg("--config")
        .arg(config)
        .args(["slon-conf", "--all", "--dir"])
        .arg(conf_dir(cluster))
        .output()
        .expect("run slonik-gen slon-conf");
    assert!(
        out.status.success(),
        "slon-conf --all failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    for &n in cluster.nodes.keys() {
        let conf = SlonRun::of(cluster, n)
            .expect("the node's slon settings")
            .conf_file;
        assert!(Path::new(&conf).is_file(), "slon-conf --all did not write {conf}");
    }
}
