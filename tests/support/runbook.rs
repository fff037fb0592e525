//! Running a generated runbook's shell script against the harness's nodes: with the
//! harness's `slonik` and `psql` (SLONIK, PSQL, PATH), output kept in the cluster's
//! directory, killed after a timeout; and a node's slon started the way a runbook's slon
//! step starts it.
#![allow(dead_code)]

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use slonik_gen::model::NodeId;
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
